"""The lead charts counted from the rollup tables (dashboards/chart_series.py)
give exactly the package's answer: the same series from
`DashboardStats.get_multi_time_series`, the same JSON and CSV bytes, for every
shipped lead chart, interval and split, as each role that reads charts, and
without reading the lead table."""

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from admin_tools_stats.models import CriteriaToStatsM2M, DashboardStats, Interval, get_charts_timezone
from datetime_truncate import truncate
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crm_models.models import Campaign, Channel
from dashboards import chart_series
from dashboards.models import LeadChartDefinition
from tests.crm_models.test_metrics import at
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

LEAD_CHARTS = ["leads_by_channel", "leads_by_campaign"]
ROLES = ["administrator", "marketer", "manager"]
# (interval, since, until): periods that cut weeks and months, across a year's end.
PERIODS = [
    ("days", "2024-12-20", "2025-02-03"),
    ("weeks", "2024-12-04", "2025-03-12"),
    ("months", "2024-11-15", "2025-03-02"),
]
CHANNELS = [Channel.SEARCH, Channel.SOCIAL, Channel.EMAIL, Channel.DISPLAY]


@pytest.fixture
def leads(operator: User) -> list[Campaign]:
    """Thirteen campaigns with 1..13 leads each (no two equal: the top ten is
    one answer), spread over December 2024 to March 2025 at local midnights,
    Sunday nights and Monday mornings, plus leads outside every period and a
    campaign without leads."""
    campaigns = [
        CampaignFactory(name=f"Campaign {number:02d}", channel=CHANNELS[number % len(CHANNELS)])
        for number in range(13)
    ]
    CampaignFactory(name="No leads", channel=Channel.REFERRAL)
    moments = [
        at("2024-12-22", 23, 59),  # Sunday night, local
        at("2024-12-23", 0, 0),  # Monday's first minute
        at("2024-12-31", 23, 30),
        at("2025-01-01", 0, 1),
        at("2025-01-15"),
        at("2025-02-02", 23, 59),
        at("2025-02-03", 0, 0),
        at("2025-02-28", 23, 59),
        at("2025-03-01", 0, 0),
        at("2025-03-12", 22),
        at("2024-11-14"),  # before every period
        at("2025-04-02"),  # after every period
        at("2024-12-01", 0, 0),
    ]
    for number, campaign in enumerate(campaigns):
        for index in range(number + 1):
            LeadFactory(
                campaign=campaign, owner=operator, created_at=moments[(index + number) % len(moments)]
            )
    return campaigns


@pytest.fixture
def package_only(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    """Switches the rollup path off: every chart computed by the package alone."""

    def switch() -> None:
        monkeypatch.setattr(chart_series, "lead_chart_series", lambda *args, **kwargs: None)

    return switch


def chart_queries(graph_key: str) -> list[str]:
    splits = CriteriaToStatsM2M.objects.filter(stats__graph_key=graph_key, use_as="multiple_series")
    return [""] + [str(split.pk) for split in splits]


def url(view: str, graph_key: str, interval: str, since: str, until: str, split: str) -> str:
    return (
        f"/admin/charts/{view}/{graph_key}/?time_since={since}&time_until={until}"
        f"&select_box_interval={interval}&select_box_multiple_series={split}"
    )


def package_arguments(interval: str, since: str, until: str, split: str) -> list[Any]:
    """The arguments the package's chart view passes to get_multi_time_series."""
    zone = get_charts_timezone()
    time_since = truncate(datetime.datetime.fromisoformat(since), interval[:-1]).astimezone(zone)
    end = truncate(datetime.datetime.fromisoformat(until), interval[:-1])
    following = {"days": datetime.timedelta(days=1), "weeks": datetime.timedelta(weeks=1)}.get(interval)
    if following is None:
        end = (end.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    else:
        end += following
    time_until = (end - datetime.timedelta(microseconds=1)).astimezone(zone)
    configuration = {"select_box_multiple_series": split}
    return [configuration, time_since, time_until, Interval(interval), "Count", None]


def ordered(series: dict) -> list:
    """The series with the order of its names, which decides the datasets' order."""
    return sorted((time, list(values.items())) for time, values in series.items())


@pytest.mark.parametrize("role_fixture", ROLES)
@pytest.mark.parametrize(("interval", "since", "until"), PERIODS)
@pytest.mark.parametrize("graph_key", LEAD_CHARTS)
def test_the_rollups_give_the_package_series(
    leads: list[Campaign],
    graph_key: str,
    interval: str,
    since: str,
    until: str,
    role_fixture: str,
    request: pytest.FixtureRequest,
) -> None:
    user = request.getfixturevalue(role_fixture)
    chart = DashboardStats.objects.get(graph_key=graph_key)
    for split in chart_queries(graph_key):
        arguments = package_arguments(interval, since, until, split)
        cache.clear()
        expected = DashboardStats.get_multi_time_series(chart, *arguments, user)

        answer = chart_series.lead_chart_series(chart, *arguments, user)

        assert answer is not None
        assert answer == expected
        assert ordered(answer) == ordered(expected)
        assert sum(sum(values.values()) for values in answer.values()) > 0


@pytest.mark.parametrize("role_fixture", ROLES)
@pytest.mark.parametrize("view", ["chart_data", "chart_csv"])
@pytest.mark.parametrize(("interval", "since", "until"), PERIODS)
@pytest.mark.parametrize("graph_key", LEAD_CHARTS)
def test_json_and_csv_are_the_same_bytes(
    leads: list[Campaign],
    graph_key: str,
    interval: str,
    since: str,
    until: str,
    view: str,
    role_fixture: str,
    request: pytest.FixtureRequest,
    client_for: Callable[[User], Client],
    package_only: Callable[[], None],
) -> None:
    client = client_for(request.getfixturevalue(role_fixture))
    urls = [url(view, graph_key, interval, since, until, split) for split in chart_queries(graph_key)]
    with CaptureQueriesContext(connection) as queries:
        answers = [client.get(address) for address in urls]
    package_only()
    cache.clear()
    expected = [client.get(address) for address in urls]

    assert [answer.status_code for answer in answers] == [200] * len(urls)
    assert [answer.content for answer in answers] == [answer.content for answer in expected]
    assert not [query["sql"] for query in queries.captured_queries if "crm_models_lead" in query["sql"]]


def test_the_top_ten_and_other(
    leads: list[Campaign], marketer: User, client_for: Callable[[User], Client]
) -> None:
    split = CriteriaToStatsM2M.objects.get(stats__graph_key="leads_by_campaign").pk

    answer = client_for(marketer).get(
        url("chart_data", "leads_by_campaign", "months", "2024-11-01", "2025-04-30", split)
    )

    datasets = {dataset["label"]: sum(dataset["data"]) for dataset in answer.json()["datasets"]}
    # the three campaigns outside the ten with most leads of all time (1 + 2 + 3
    # leads) first, as the package orders them, then the ten, best first
    assert list(datasets) == ["Other"] + [f"Campaign {number:02d}" for number in range(12, 2, -1)]
    assert datasets == {**{f"Campaign {number:02d}": number + 1 for number in range(12, 2, -1)}, "Other": 6}


def test_new_leads_show_at_once(
    leads: list[Campaign], marketer: User, operator: User, client_for: Callable[[User], Client]
) -> None:
    # The package keeps a chart's top ten for a week in the cache; the rollups
    # are read on every request.
    client = client_for(marketer)
    split = CriteriaToStatsM2M.objects.get(stats__graph_key="leads_by_campaign").pk
    address = url("chart_data", "leads_by_campaign", "months", "2025-01-01", "2025-01-31", split)
    before = client.get(address).json()["datasets"]
    # Campaign 00 had one lead, in December: now the most of all campaigns
    LeadFactory.create_batch(20, campaign=leads[0], owner=operator, created_at=at("2025-01-20"))

    after = client.get(address).json()["datasets"]

    assert "Campaign 00" not in [dataset["label"] for dataset in before]
    assert after[1] == {"label": "Campaign 00", "data": [20]}


def test_a_chart_filter_is_left_to_the_package(
    leads: list[Campaign],
    marketer: User,
    client_for: Callable[[User], Client],
    package_only: Callable[[], None],
) -> None:
    client = client_for(marketer)
    split = CriteriaToStatsM2M.objects.get(stats__graph_key="leads_by_channel").pk
    address = url("chart_csv", "leads_by_channel", "months", "2024-11-01", "2025-04-30", "") + (
        f"&select_box_dynamic_{split}=search"
    )
    answer = client.get(address)
    package_only()

    assert answer.status_code == 200
    assert answer.content == client.get(address).content
    assert (
        chart_series.lead_chart_series(
            LeadChartDefinition.objects.get(graph_key="leads_by_channel"),
            {f"select_box_dynamic_{split}": "search"},
            *package_arguments("months", "2024-11-01", "2025-04-30", "")[1:],
            marketer,
        )
        is None
    )


@pytest.fixture
def warm_session(marketer: User, client_for: Callable[[User], Client]) -> Client:
    client = client_for(marketer)
    client.get("/admin/")
    return client


# Session, user, groups and permissions (5); the chart and its criteria for the
# parameter check (2); the chart and its criteria for the series (2); then the
# series: the campaigns' split values and the top ten's ranking or the field's
# values, and the buckets (3), or the buckets alone (1). Never a lead row.
@pytest.mark.parametrize(
    ("graph_key", "split", "queries"),
    [("leads_by_campaign", True, 12), ("leads_by_campaign", False, 10), ("leads_by_channel", True, 12)],
)
def test_a_chart_request_takes_a_fixed_number_of_queries(
    leads: list[Campaign],
    graph_key: str,
    split: bool,
    queries: int,
    warm_session: Client,
    django_assert_num_queries: Any,
) -> None:
    series = chart_queries(graph_key)[-1] if split else ""
    CampaignFactory.create_batch(5)

    with django_assert_num_queries(queries):
        response = warm_session.get(url("chart_data", graph_key, "weeks", "2024-12-01", "2025-03-31", series))

    assert response.status_code == 200


@pytest.mark.parametrize("view", ["chart_data", "chart_csv"])
def test_channel_names_in_russian_are_the_same_bytes(
    leads: list[Campaign],
    view: str,
    manager: User,
    client_for: Callable[[User], Client],
    package_only: Callable[[], None],
) -> None:
    client = client_for(manager)
    client.cookies["django_language"] = "ru"
    split = chart_queries("leads_by_channel")[-1]
    address = url(view, "leads_by_channel", "weeks", "2024-12-04", "2025-03-12", split)
    answer = client.get(address)
    package_only()
    cache.clear()

    text = answer.content.decode()
    assert "Поисковая реклама" in (
        json.dumps(answer.json(), ensure_ascii=False) if view == "chart_data" else text
    )
    assert answer.content == client.get(address).content


def test_a_narrower_scope_is_left_to_the_package(leads: list[Campaign], operator: User) -> None:
    # The chart URLs refuse operators (test_charts.py); were one to get here, the
    # rollups (every lead) would not answer for their own leads.
    chart = LeadChartDefinition.objects.get(graph_key="leads_by_campaign")
    arguments = package_arguments(
        "months", "2024-11-01", "2025-04-30", chart_queries("leads_by_campaign")[-1]
    )

    assert chart_series.lead_chart_series(chart, *arguments, operator) is None


def test_the_contract_amount_chart_stays_with_the_package(marketer: User) -> None:
    # It sums contract amounts (a few hundred thousand rows, well under a second).
    chart = LeadChartDefinition.objects.get(graph_key="contract_amounts_by_month")
    arguments = package_arguments("months", "2024-11-01", "2025-04-30", "")

    assert chart_series.lead_chart_series(chart, *arguments[:4], "Sum", None, marketer) is None


@pytest.mark.parametrize("name", ["other", "None"])
def test_a_campaign_named_like_a_package_series(
    leads: list[Campaign], name: str, operator: User, marketer: User
) -> None:
    # The package's choices are keyed by the value: a campaign called "other"
    # or "None" in the top ten loses its series to the package's own.
    LeadFactory.create_batch(
        20, campaign=CampaignFactory(name=name), owner=operator, created_at=at("2025-01-20")
    )
    chart = DashboardStats.objects.get(graph_key="leads_by_campaign")
    arguments = package_arguments(
        "months", "2024-11-01", "2025-04-30", chart_queries("leads_by_campaign")[-1]
    )
    expected = DashboardStats.get_multi_time_series(chart, *arguments, marketer)

    answer = chart_series.lead_chart_series(chart, *arguments, marketer)

    assert ordered(answer) == ordered(expected)
