"""django-admin-charts behind the admin (issue 3, item 7): data for the roles
that see campaign metrics, nothing for anyone else, no parameter outside the
chart's own list."""

import csv
import io

import pytest
from admin_tools_stats.models import CriteriaToStatsM2M, DashboardStats
from django.contrib.auth.models import User
from django.test import Client

from tests.crm_models.test_metrics import DataSet

pytestmark = pytest.mark.django_db

BASE = "/admin/charts/"
MARCH = "time_since=2025-03-01&time_until=2025-03-31"
ENDPOINTS = [
    "admin_charts.js",
    "chart_data/leads_by_channel/?" + MARCH,
    "chart_csv/leads_by_channel/?" + MARCH,
    "analytics/",
    "analytics/chart/leads_by_channel/",
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


def test_chart_data_answers_with_a_chart_script(dataset: DataSet, marketer: User, client_for) -> None:
    client = client_for(marketer)

    data = client.get(f"{BASE}chart_data/leads_by_channel/?{MARCH}&select_box_interval=days")
    form = client.get(f"{BASE}analytics/chart/leads_by_channel/")
    script = client.get(f"{BASE}admin_charts.js")

    assert data.status_code == 200
    assert "loadChartScript" in data.content.decode()
    assert "chartShowServerError" not in data.content.decode()
    assert form.status_code == 200
    assert 'value="leads_by_channel"' in form.content.decode()
    assert script.status_code == 200
    assert "/admin/charts/chart_data/" in script.content.decode()


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
