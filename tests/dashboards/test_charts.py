"""django-admin-charts behind the admin (issue 3, item 7): data for the roles
that see campaign metrics, nothing for anyone else, no parameter outside the
chart's own list."""

import csv
import datetime
import io
import json

import pytest
from admin_tools_stats.models import CriteriaToStatsM2M, DashboardStats, Interval, rrule_list
from datetime_truncate import truncate
from django.contrib.auth.models import User
from django.test import Client

from dashboards.cache import KEY_VERSION
from dashboards.charts import chart_points
from tests.crm_models.test_metrics import DataSet, at
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

BASE = "/admin/charts/"
MARCH = "time_since=2025-03-01&time_until=2025-03-31"
ENDPOINTS = [
    "chart_data/leads_by_channel/?" + MARCH,
    "chart_csv/leads_by_channel/?" + MARCH,
]


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_shipped_charts_limit_rows_to_the_viewer_without_full_access() -> None:
    charts = {c.graph_key: c for c in DashboardStats.objects.all()}

    assert set(charts) == {"leads_by_channel", "leads_by_campaign", "contract_amounts_by_month"}
    assert charts["leads_by_channel"].user_field_name == "owner"
    assert charts["leads_by_campaign"].user_field_name == "owner"
    assert charts["contract_amounts_by_month"].user_field_name == "customer__account_manager"
    assert not any(chart.show_to_users for chart in charts.values())


@pytest.mark.parametrize("role_fixture", ["marketer", "manager", "administrator"])
def test_lead_chart_csv_counts_every_lead_by_channel(
    dataset: DataSet, role_fixture: str, request: pytest.FixtureRequest, client_for
) -> None:
    client = client_for(request.getfixturevalue(role_fixture))
    series = CriteriaToStatsM2M.objects.get(stats__graph_key="leads_by_channel").pk

    response = client.get(
        f"{BASE}chart_csv/leads_by_channel/?{MARCH}&select_box_interval=months&select_box_multiple_series={series}"
    )

    assert response.status_code == 200
    rows = csv_rows(response)
    header, data = rows[2], rows[3:]
    assert header[0] == "Date"
    assert len(data) == 1
    by_channel = dict(zip(header[1:], (int(v) for v in data[0][1:]), strict=True))
    # all six March leads, whoever owns them
    assert by_channel["Search"] == 4
    assert by_channel["Social media"] == 2
    assert sum(by_channel.values()) == 6


def test_contract_amount_chart_sums_march_contracts(dataset: DataSet, manager: User, client_for) -> None:
    response = client_for(manager).get(f"{BASE}chart_csv/contract_amounts_by_month/?{MARCH}")

    assert response.status_code == 200
    rows = csv_rows(response)
    assert rows[3][0].startswith("2025-03-01")
    assert float(rows[3][1]) == 6500.0


def test_chart_data_answers_with_json(dataset: DataSet, marketer: User, client_for) -> None:
    series = CriteriaToStatsM2M.objects.get(stats__graph_key="leads_by_channel").pk

    response = client_for(marketer).get(
        f"{BASE}chart_data/leads_by_channel/?{MARCH}&select_box_interval=months"
        f"&select_box_multiple_series={series}&select_box_chart_type=multiBarChart"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert answer["type"] == "bar"
    assert answer["labels"] == ["March 2025"]
    by_channel = {dataset["label"]: dataset["data"] for dataset in answer["datasets"]}
    assert by_channel["Search"] == [4]
    assert by_channel["Social media"] == [2]
    assert sum(values[0] for values in by_channel.values()) == 6


@pytest.mark.parametrize("removed", ["admin_charts.js", "analytics/", "analytics/chart/leads_by_channel/"])
def test_the_package_nvd3_pages_are_not_served(marketer: User, client_for, removed: str) -> None:
    assert client_for(marketer).get(BASE + removed).status_code == 404


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_is_sent_to_login(client: Client, endpoint: str) -> None:
    response = client.get(BASE + endpoint)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/charts/")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_operator_gets_no_chart_data(dataset: DataSet, operator: User, client_for, endpoint: str) -> None:
    response = client_for(operator).get(BASE + endpoint)

    assert response.status_code == 403
    assert b"Search" not in response.content


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("select_box_operation_field=owner__email", "Value not allowed for select_box_operation_field."),
        ("select_box_operation=Max", "Value not allowed for select_box_operation."),
        ("select_box_interval=hours", "Value not allowed for select_box_interval."),
        ("select_box_multiple_series=999", "Value not allowed for select_box_multiple_series."),
        ("select_box_dynamic_999=x", "Unknown chart parameter: select_box_dynamic_999."),
        ("owner__username=operator", "Unknown chart parameter: owner__username."),
        ("debug=1", "Unknown chart parameter: debug."),
        ("time_since=2025-03", "Enter dates as YYYY-MM-DD."),
        ("time_since=2025-02-30", "Enter dates as YYYY-MM-DD."),
        # Python's dates end at years 1 and 9999: the charts' packages failed there.
        ("time_since=0001-01-01", "Enter dates from 1900-01-01 to 2999-12-31."),
        ("time_since=9999-12-31", "Enter dates from 1900-01-01 to 2999-12-31."),
    ],
)
@pytest.mark.parametrize("view", ["chart_data", "chart_csv"])
def test_unknown_fields_answer_400(marketer: User, client_for, query: str, message: str, view: str) -> None:
    response = client_for(marketer).get(f"{BASE}{view}/leads_by_channel/?time_until=2025-03-31&{query}")

    assert response.status_code == 400
    assert response.content.decode() == message


def test_unknown_chart_is_404(marketer: User, client_for) -> None:
    assert client_for(marketer).get(f"{BASE}chart_data/no_such_chart/?{MARCH}").status_code == 404


def test_chart_form_query_with_its_csrf_field_is_accepted(
    dataset: DataSet, manager: User, client_for
) -> None:
    # The package's chart form serialises every field, the CSRF token included,
    # into the data request the dashboard sends (found by the browser tests).
    query = f"csrfmiddlewaretoken=abc&select_box_chart_type=multiBarChart&select_box_interval=weeks&{MARCH}"

    response = client_for(manager).get(
        f"{BASE}chart_data/leads_by_channel/?{query}&graph_key=leads_by_channel"
    )

    assert response.status_code == 200
    assert "chartShowServerError" not in response.content.decode()


# --- issue 18: names stay text, requests stay bounded ---------------------------

HOSTILE_NAMES = [
    "Spring&quot;}];window.__xss=1;//",
    "</script><script>window.__xss=1</script>",
    '"><img src=x onerror=window.__xss=1>',
    "&lt;img src=x onerror=window.__xss=1&gt;",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("role_fixture", ["marketer", "manager", "administrator"])
def test_a_campaign_name_reaches_the_chart_as_the_same_text(
    name: str, role_fixture: str, request: pytest.FixtureRequest, client_for
) -> None:
    # Reproduction: python-nvd3's `|striptags` turned `&quot;` back into a quote
    # inside the chart script, so the name closed the JSON string and ran.
    campaign = CampaignFactory(name=name)
    LeadFactory(campaign=campaign, created_at=at("2025-03-10"))
    series = CriteriaToStatsM2M.objects.get(stats__graph_key="leads_by_campaign").pk

    response = client_for(request.getfixturevalue(role_fixture)).get(
        f"{BASE}chart_data/leads_by_campaign/?{MARCH}&select_box_interval=weeks"
        f"&select_box_multiple_series={series}"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    datasets = json.loads(response.content)["datasets"]
    assert [d["label"] for d in datasets] == [name]
    assert sum(datasets[0]["data"]) == 1


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_campaign_name_is_one_csv_cell(name: str, marketer: User, client_for) -> None:
    campaign = CampaignFactory(name=name)
    LeadFactory(campaign=campaign, created_at=at("2025-03-10"))
    series = CriteriaToStatsM2M.objects.get(stats__graph_key="leads_by_campaign").pk

    response = client_for(marketer).get(
        f"{BASE}chart_csv/leads_by_campaign/?{MARCH}&select_box_interval=months"
        f"&select_box_multiple_series={series}"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    header, row = csv_rows(response)[2:]
    assert header == ["Date", name, "other"]
    assert row[0].startswith("2025-03-01")
    assert row[1:] == ["1", "0"]


def test_the_dashboard_page_carries_no_inline_script(dataset: DataSet, marketer: User, client_for) -> None:
    CampaignFactory(name=HOSTILE_NAMES[1])

    body = client_for(marketer).get("/admin/?date_from=2025-03-01&date_to=2025-03-31").content.decode()

    assert "window.__xss" not in body.replace("&lt;/script&gt;&lt;script&gt;window.__xss", "")
    assert "<script>" not in body
    assert 'data-url="/admin/charts/chart_data/leads_by_campaign/"' in body


@pytest.mark.parametrize("role_fixture", ["marketer", "manager", "administrator"])
def test_the_dashboard_loads_neither_d3_nor_nvd3(
    dataset: DataSet, role_fixture: str, request: pytest.FixtureRequest, client_for
) -> None:
    # The charts are drawn with unfold's Chart.js: no page loads the package's
    # nvd3 scripts, from this site or from a CDN.
    body = (
        client_for(request.getfixturevalue(role_fixture))
        .get("/admin/?" + MARCH.replace("time_since", "date_from").replace("time_until", "date_to"))
        .content.decode()
    )

    assert 'data-url="/admin/charts/chart_data/leads_by_campaign/"' in body
    assert "d3.min" not in body
    assert "unpkg.com" not in body


def test_the_dashboard_cache_version_moved_past_the_nvd3_payloads() -> None:
    assert KEY_VERSION >= 2


ALL_CHARTS = ["leads_by_channel", "leads_by_campaign", "contract_amounts_by_month"]


@pytest.mark.parametrize("view", ["chart_data", "chart_csv"])
@pytest.mark.parametrize("graph_key", ALL_CHARTS)
def test_a_thousand_years_is_refused_for_every_chart(
    view: str, graph_key: str, marketer: User, client_for
) -> None:
    # Reproduction: 1900-2999 by days ran two minutes and answered 98 MB.
    interval = DashboardStats.objects.get(graph_key=graph_key).allowed_time_scales[0]

    response = client_for(marketer).get(
        f"{BASE}{view}/{graph_key}/?time_since=1900-01-01&time_until=2999-12-31"
        f"&select_box_interval={interval}"
    )

    assert response.status_code == 400
    assert response.content.decode() == "The period cannot be longer than 3660 days."


@pytest.mark.parametrize("view", ["chart_data", "chart_csv"])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "time_since=2020-01-01&time_until=2025-12-31&select_box_interval=days",
            "This period has 2192 points at the chosen interval; a chart shows at most 400. "
            "Choose a longer interval or a shorter period.",
        ),
        # without an interval the chart's default (weeks) counts
        (
            "time_since=2015-01-01&time_until=2024-12-31",
            "This period has 523 points at the chosen interval; a chart shows at most 400. "
            "Choose a longer interval or a shorter period.",
        ),
        ("time_until=2025-03-31", "Give the chart's period as time_since and time_until."),
        ("time_since=2025-03-01", "Give the chart's period as time_since and time_until."),
        (
            "time_since=2025-04-01&time_until=2025-03-01",
            "The start of the period cannot be after its end.",
        ),
    ],
)
def test_unbounded_requests_answer_400(
    view: str, query: str, message: str, marketer: User, client_for
) -> None:
    response = client_for(marketer).get(f"{BASE}{view}/leads_by_channel/?{query}")

    assert response.status_code == 400
    assert response.content.decode() == message


@pytest.mark.parametrize(
    ("interval", "since", "until", "points"),
    [
        ("days", "2024-01-01", "2024-12-31", 366),
        ("weeks", "2025-03-01", "2025-03-31", 6),
        ("months", "2024-11-15", "2025-03-01", 5),
        ("quarters", "2024-11-15", "2025-03-01", 2),
        ("years", "2016-01-01", "2025-12-31", 10),
        ("hours", "2025-03-01", "2025-03-02", 48),
    ],
)
def test_chart_points_count_the_package_buckets(interval: str, since: str, until: str, points: int) -> None:
    since_day, until_day = datetime.date.fromisoformat(since), datetime.date.fromisoformat(until)
    time_since = datetime.datetime.combine(since_day, datetime.time())
    time_until = datetime.datetime.combine(until_day, datetime.time(23, 59))
    buckets = rrule_list(Interval(interval), truncate(time_since, interval[:-1]), time_until)

    assert chart_points(interval, since_day, until_day) == points
    # at least as many as the package draws, so the bound is never too lax
    assert chart_points(interval, since_day, until_day) >= len(buckets)


def test_a_bounded_request_of_the_longest_period_is_answered(marketer: User, client_for) -> None:
    response = client_for(marketer).get(
        f"{BASE}chart_data/leads_by_channel/?time_since=2016-01-01&time_until=2025-12-31"
        "&select_box_interval=months"
    )

    assert response.status_code == 200
    assert len(response.json()["labels"]) == 120


# --- issue 18, item 6b: chart definitions are for administrators ------------------

DEFINITION_PAGES = [
    "/admin/admin_tools_stats/dashboardstats/",
    "/admin/admin_tools_stats/dashboardstats/{pk}/change/",
    "/admin/admin_tools_stats/dashboardstatscriteria/",
    "/admin/admin_tools_stats/cachedvalue/",
]


@pytest.mark.parametrize("page", DEFINITION_PAGES)
@pytest.mark.parametrize("role_fixture", ["marketer", "manager", "operator"])
def test_chart_definitions_are_closed_to_other_roles(
    page: str, role_fixture: str, request: pytest.FixtureRequest, client_for
) -> None:
    # Reproduction: a view-only user got KeyError 'default_multiseries_criteria' (500).
    chart = DashboardStats.objects.get(graph_key="leads_by_channel")

    response = client_for(request.getfixturevalue(role_fixture)).get(page.format(pk=chart.pk))

    assert response.status_code == 403


@pytest.mark.parametrize("page", DEFINITION_PAGES)
def test_administrators_see_and_edit_chart_definitions(page: str, administrator: User, client_for) -> None:
    chart = DashboardStats.objects.get(graph_key="leads_by_channel")

    response = client_for(administrator).get(page.format(pk=chart.pk))

    assert response.status_code == 200
    if "change" in page:
        assert 'name="default_multiseries_criteria"' in response.content.decode()


def test_an_administrator_saves_a_chart_definition(administrator: User, client_for) -> None:
    chart = DashboardStats.objects.get(graph_key="contract_amounts_by_month")
    client = client_for(administrator)
    form = client.get(f"/admin/admin_tools_stats/dashboardstats/{chart.pk}/change/").context["adminform"].form
    data = {
        name: value
        for name, value in {**form.initial, "graph_title": "Contract amounts"}.items()
        if value is not None
    }
    data.update(
        {
            "allowed_chart_types": chart.allowed_chart_types,
            "allowed_time_scales": chart.allowed_time_scales,
            "criteriatostatsm2m_set-TOTAL_FORMS": "0",
            "criteriatostatsm2m_set-INITIAL_FORMS": "0",
        }
    )
    data.pop("allowed_type_operation_field_name", None)

    response = client.post(f"/admin/admin_tools_stats/dashboardstats/{chart.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    chart.refresh_from_db()
    assert chart.graph_title == "Contract amounts"


def test_the_chart_menu_is_not_shown_to_chart_readers(dataset: DataSet, marketer: User, client_for) -> None:
    body = client_for(marketer).get("/admin/").content.decode()

    assert "/admin/admin_tools_stats/" not in body
