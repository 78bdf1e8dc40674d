"""The admin index as the dashboard: what each role sees, and its query count."""

import json

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from tests.crm_models.test_metrics import DataSet, at
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

MARCH = "?date_from=2025-03-01&date_to=2025-03-31"
MONEY_ROLES = ["marketer", "manager", "administrator"]


@pytest.mark.parametrize("role_fixture", MONEY_ROLES)
def test_metric_roles_see_kpis_charts_and_roi_tables(
    dataset: DataSet, role_fixture: str, request: pytest.FixtureRequest, client_for
) -> None:
    client: Client = client_for(request.getfixturevalue(role_fixture))

    response = client.get("/admin/" + MARCH)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="kpi-cards"' in body
    # KPI values of the hand-built data set (see tests/crm_models/test_metrics.py)
    for value in ["6", "3", "50.00\u00a0%", "6,500\u00a0₽", "861\u00a0₽", "654.94\u00a0%"]:
        assert value in body
    # change against 29 Jan - 28 Feb: leads 2 -> 6, revenue 700 -> 6500
    assert "+200.0\u00a0%" in body
    assert "+828.6\u00a0%" in body
    assert 'data-type="bar"' in body
    assert 'data-type="line"' in body
    assert f"?campaign__id__exact={dataset.alpha.pk}" in body
    assert f"?campaign__id__exact={dataset.gamma.pk}" in body
    assert 'id="admin-charts"' in body
    assert 'data-chart-key="leads_by_channel"' in body
    # the admin-charts follow the period selector
    assert '<input type="hidden" name="time_since" value="2025-03-01">' in body
    assert '<input type="hidden" name="time_until" value="2025-03-31">' in body
    assert 'id="my-leads"' not in body


def test_operator_sees_only_own_lead_counts_and_no_money(
    dataset: DataSet, operator: User, client_for
) -> None:
    response = client_for(operator).get("/admin/" + MARCH)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="my-leads"' in body
    assert [(s.status, s.count) for s in response.context["status_counts"]] == [
        ("new", 1),
        ("in_progress", 0),
        ("qualified", 0),
        ("converted", 1),
        ("lost", 1),
    ]
    assert 'id="kpi-cards"' not in body
    assert 'id="admin-charts"' not in body
    assert "₽" not in body
    assert "campaign_dashboard" not in response.context
    assert "admin-charts" not in body


def test_index_query_count_is_fixed(
    dataset: DataSet, marketer: User, client_for, django_assert_num_queries
) -> None:
    client = client_for(marketer)
    # session, user, 2 x permissions, roles, 3 x campaign metrics, 2 x time series,
    # chart list, chart series choices
    with django_assert_num_queries(12):
        response = client.get("/admin/" + MARCH)
    assert response.status_code == 200


def test_operator_index_query_count(
    dataset: DataSet, operator: User, client_for, django_assert_num_queries
) -> None:
    client = client_for(operator)
    # and three counts of the follow-up cards (overdue, due today, stale)
    with django_assert_num_queries(9):
        response = client.get("/admin/" + MARCH)
    assert response.status_code == 200


def test_presets_and_custom_dates_drive_the_period(marketer: User, client_for) -> None:
    client = client_for(marketer)

    custom = client.get("/admin/" + MARCH).context["period"]
    year = client.get("/admin/?period=year").context["period"]

    assert (custom.date_from.isoformat(), custom.date_to.isoformat(), custom.preset) == (
        "2025-03-01",
        "2025-03-31",
        "custom",
    )
    assert (year.date_from.month, year.date_from.day, year.preset) == (1, 1, "year")


def test_invalid_dates_show_an_error_and_the_default_period(marketer: User, client_for) -> None:
    response = client_for(marketer).get("/admin/?date_from=2025-13-01")

    assert response.status_code == 200
    assert response.context["period_error"] == "Enter dates as YYYY-MM-DD."
    assert response.context["period"].preset == "month"
    assert "Enter dates as YYYY-MM-DD." in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "date_from=0001-01-01&date_to=0001-01-02",
        "date_from=9999-12-30&date_to=9999-12-31",
        "date_to=9999-12-31",
    ],
)
@pytest.mark.parametrize("role", ["marketer", "operator"])
def test_dates_at_the_calendar_ends_show_an_error_and_the_default_period(
    role: str, marketer: User, operator: User, client_for, query: str
) -> None:
    """Python's dates end at years 1 and 9999; the figures also read the period
    before and the day after, so such a period was a server error."""
    response = client_for({"marketer": marketer, "operator": operator}[role]).get(f"/admin/?{query}")

    assert response.status_code == 200
    assert response.context["period_error"] == "Enter dates from 1900-01-01 to 2999-12-31."
    assert response.context["period"].preset == "month"


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


@pytest.mark.usefixtures("base_tables")
def test_second_load_reads_the_figures_from_the_cache(
    dataset: DataSet, marketer: User, manager: User, client_for, django_assert_num_queries
) -> None:
    client_for(marketer).get("/admin/" + MARCH)
    # a manager sees the same (all) campaign metrics: the entry is shared
    # (one query more than before the charts offered their series choices),
    # plus the manager's three follow-up cards (overdue, due today, contracts ending)
    client = client_for(manager)
    with django_assert_num_queries(10):
        response = client.get("/admin/" + MARCH)
    assert response.status_code == 200
    assert "6,500\u00a0₽" in response.content.decode()


def test_cache_can_be_switched_off(
    dataset: DataSet, marketer: User, client_for, settings, django_assert_num_queries
) -> None:
    settings.DASHBOARD_CACHE_SECONDS = 0
    client = client_for(marketer)
    client.get("/admin/" + MARCH)
    with django_assert_num_queries(12):
        client.get("/admin/" + MARCH)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollups live on PostgreSQL")
def test_with_rollups_every_load_shows_the_figures_as_of_now(
    dataset: DataSet, marketer: User, client_for, django_assert_num_queries
) -> None:
    """The rollups are exact at every commit and cheaper to read than a cache
    entry is to store: nothing is cached, and a new lead counts at once."""
    client = client_for(marketer)
    first = client.get("/admin/" + MARCH)
    LeadFactory(campaign=dataset.beta, created_at=at("2025-03-21"))

    with django_assert_num_queries(12):
        second = client.get("/admin/" + MARCH)

    assert [card["value"] for card in first.context["campaign_dashboard"]["kpis"]][:1] == ["6"]
    assert [card["value"] for card in second.context["campaign_dashboard"]["kpis"]][:1] == ["7"]


def test_dashboard_says_which_spend_is_estimated_and_breaks_down_by_source_and_channel(
    dataset: DataSet, marketer: User, client_for
) -> None:
    response = client_for(marketer).get("/admin/" + MARCH)

    body = response.content.decode()
    # No spend rows in the data set: alpha's 517.24 and gamma's 343.75 are both estimated.
    assert "Ad spend: 0\u00a0₽ imported from the ad platforms, 861\u00a0₽ estimated from budgets." in body
    assert "2 campaigns have no imported spend" in body
    dashboard = response.context["campaign_dashboard"]
    assert dashboard["source_table"]["rows"] == [
        ["(none)", "6", "3", "6,500\u00a0₽", "861\u00a0₽", "144\u00a0₽", "287\u00a0₽", "654.94\u00a0%"]
    ]
    assert [row[0] for row in dashboard["channel_table"]["rows"]] == ["E-mail", "Search", "Social media"]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_charts_write_numbers_in_the_users_language(
    dataset: DataSet, language: str, marketer: User, client_for
) -> None:
    client: Client = client_for(marketer)
    client.cookies["django_language"] = language

    response = client.get("/admin/" + MARCH)

    assert response.status_code == 200
    charts = [
        chart
        for chart in (response.context["campaign_dashboard"] or {}).values()
        if isinstance(chart, dict) and "options" in chart
    ]
    assert len(charts) == 3
    for chart in charts:
        assert json.loads(chart["options"])["locale"] == language
