"""campaign_metrics and friends against a hand-built data set whose expected
numbers are written out below (DESIGN.md, "Campaign metrics")."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

from crm_models.models import Campaign, Channel, LeadStatus
from crm_models.roles import user_roles
from crm_models.selectors.metrics import (
    CAMPAIGN_METRICS_FORBIDDEN,
    Figures,
    TimePoint,
    bucket_kind,
    campaign_metrics,
    lead_status_counts,
    lead_timeseries,
    previous_period,
)
from tests.factories import (
    CampaignFactory,
    ContractFactory,
    CustomerFactory,
    LeadFactory,
    ServiceFactory,
)

MSK = ZoneInfo("Europe/Moscow")
MARCH = (date(2025, 3, 1), date(2025, 3, 31))


def at(day: str, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=MSK)


@dataclass
class DataSet:
    alpha: Campaign
    beta: Campaign
    gamma: Campaign
    delta: Campaign


@pytest.fixture
def dataset(operator: User, operator2: User, manager: User, manager2: User, settings) -> DataSet:
    """March 2025 (Moscow time). Expected figures per campaign:

    No campaign has spend rows, so spend is the budget spread over the
    campaign's days, counting those in the period (tests/crm_models/test_spend.py
    covers spend rows).

    alpha  search  S1  budget 1000, runs 15 Feb - 15 Mar (29 days, 15 in March:
           spend 1000 * 15 / 29 = 517.24; 14 in February: 482.76)
           leads 4 (3 of operator, 1 of operator2), customers 2 (one lead created in
           February, converted in March), revenue 4500 (one customer, two contracts
           3000 + 1500; the other customer's contracts fall outside March)
           conversion 50.00, ROI 770.00, CPL 129.31, CAC 258.62
    beta   social  S2  budget 0 -> ROI undefined; leads 2, customers 1, revenue 2000
           (account manager: manager2), conversion 50.00, CPL 0.00, CAC 0.00
    gamma  email   S1  budget 500, runs 10 Mar - 10 Apr (32 days, 22 in March:
           spend 343.75), no leads -> conversion/CPL/CAC undefined, ROI -100.00
    delta  search  S2  budget 2000, ran in 2024 -> spend 0, everything undefined
    Previous period (29 Jan - 28 Feb): leads 2, customers 0, revenue 700, spend 482.76.
    """
    settings.TIME_ZONE = "Europe/Moscow"
    s1 = ServiceFactory(name="S1")
    s2 = ServiceFactory(name="S2")
    alpha = CampaignFactory(
        name="Alpha",
        service=s1,
        channel=Channel.SEARCH,
        budget=Decimal("1000.00"),
        start_date=date(2025, 2, 15),
        end_date=date(2025, 3, 15),
    )
    beta = CampaignFactory(
        name="Beta",
        service=s2,
        channel=Channel.SOCIAL,
        budget=Decimal("0.00"),
        start_date=date(2025, 3, 1),
        end_date=date(2025, 3, 31),
    )
    gamma = CampaignFactory(
        name="Gamma",
        service=s1,
        channel=Channel.EMAIL,
        budget=Decimal("500.00"),
        start_date=date(2025, 3, 10),
        end_date=date(2025, 4, 10),
    )
    delta = CampaignFactory(
        name="Delta",
        service=s2,
        channel=Channel.SEARCH,
        budget=Decimal("2000.00"),
        start_date=date(2024, 1, 1),
        end_date=date(2024, 2, 1),
    )

    # alpha: four March leads, the first converted in March with two March contracts
    a1 = LeadFactory(
        campaign=alpha,
        owner=operator,
        created_at=at("2025-03-01", 0, 10),
        status=LeadStatus.CONVERTED,
        converted_at=at("2025-03-03"),
    )
    x = CustomerFactory(lead=a1, account_manager=manager)
    ContractFactory(customer=x, service=s1, amount=Decimal("3000.00"), signed_at=date(2025, 3, 10))
    ContractFactory(customer=x, service=s1, amount=Decimal("1500.00"), signed_at=date(2025, 3, 20))
    LeadFactory(campaign=alpha, owner=operator, created_at=at("2025-03-02"), status=LeadStatus.LOST)
    LeadFactory(campaign=alpha, owner=operator, created_at=at("2025-03-31", 23, 50))
    LeadFactory(campaign=alpha, owner=operator2, created_at=at("2025-03-12"))
    # created in February (previous period), converted in March: a March customer
    a_prev = LeadFactory(
        campaign=alpha,
        owner=operator2,
        created_at=at("2025-02-20"),
        status=LeadStatus.CONVERTED,
        converted_at=at("2025-03-05"),
    )
    y = CustomerFactory(lead=a_prev, account_manager=manager2)
    ContractFactory(customer=y, service=s1, amount=Decimal("9999.00"), signed_at=date(2025, 4, 1))
    ContractFactory(customer=y, service=s1, amount=Decimal("700.00"), signed_at=date(2025, 2, 25))
    # just outside March on either side (Moscow midnight)
    LeadFactory(campaign=alpha, owner=operator, created_at=at("2025-02-28", 23, 30))
    LeadFactory(campaign=alpha, owner=operator, created_at=at("2025-04-01", 0, 30))

    b1 = LeadFactory(
        campaign=beta,
        owner=operator2,
        created_at=at("2025-03-14"),
        status=LeadStatus.CONVERTED,
        converted_at=at("2025-03-15"),
    )
    z = CustomerFactory(lead=b1, account_manager=manager2)
    ContractFactory(customer=z, service=s2, amount=Decimal("2000.00"), signed_at=date(2025, 3, 16))
    LeadFactory(campaign=beta, owner=operator2, created_at=at("2025-03-20"), status=LeadStatus.QUALIFIED)
    return DataSet(alpha=alpha, beta=beta, gamma=gamma, delta=delta)


def figures(row: Figures) -> tuple:
    return (
        row.leads,
        row.customers,
        row.revenue,
        row.spend,
        row.conversion_rate,
        row.roi,
        row.cpl,
        row.cac,
    )


D = Decimal
EXPECTED_ROWS = {
    "Alpha": (4, 2, D("4500.00"), D("517.24"), D("50.00"), D("770.00"), D("129.31"), D("258.62")),
    "Beta": (2, 1, D("2000.00"), D("0.00"), D("50.00"), None, D("0.00"), D("0.00")),
    "Gamma": (0, 0, D("0"), D("343.75"), None, D("-100.00"), None, None),
    "Delta": (0, 0, D("0"), D("0"), None, None, None, None),
}
# spend 517.24 + 343.75; ROI (6500 - 860.99) / 860.99
EXPECTED_TOTALS = (6, 3, D("6500.00"), D("860.99"), D("50.00"), D("654.94"), D("143.50"), D("287.00"))


@pytest.mark.django_db
@pytest.mark.parametrize("role_fixture", ["marketer", "manager", "administrator", "superuser"])
def test_campaign_metrics_match_the_hand_computed_figures(
    dataset: DataSet, role_fixture: str, request: pytest.FixtureRequest
) -> None:
    # Managers see revenue of other managers' customers too: the matrix gives
    # them all campaign metrics, not only their own rows.
    user = request.getfixturevalue(role_fixture)

    result = campaign_metrics(user=user, date_from=MARCH[0], date_to=MARCH[1])

    assert [row.campaign for row in result.rows] == ["Alpha", "Beta", "Delta", "Gamma"]
    assert {row.campaign: figures(row) for row in result.rows} == EXPECTED_ROWS
    assert figures(result.totals) == EXPECTED_TOTALS


@pytest.mark.django_db
def test_campaign_metrics_groups_by_channel_and_service(dataset: DataSet, marketer: User) -> None:
    result = campaign_metrics(user=marketer, date_from=MARCH[0], date_to=MARCH[1])

    assert {(g.key, g.label): figures(g) for g in result.by_channel} == {
        ("email", "E-mail"): EXPECTED_ROWS["Gamma"],
        ("search", "Search"): EXPECTED_ROWS["Alpha"],
        ("social", "Social media"): EXPECTED_ROWS["Beta"],
    }
    services = {g.label: figures(g) for g in result.by_service}
    assert services == {
        "S1": (4, 2, D("4500.00"), D("860.99"), D("50.00"), D("422.65"), D("215.25"), D("430.50")),
        "S2": (2, 1, D("2000.00"), D("0.00"), D("50.00"), None, D("0.00"), D("0.00")),
    }


@pytest.mark.django_db
def test_campaign_metrics_previous_period_totals(dataset: DataSet, marketer: User) -> None:
    result = campaign_metrics(user=marketer, date_from=MARCH[0], date_to=MARCH[1])

    assert (result.previous_from, result.previous_to) == (date(2025, 1, 29), date(2025, 2, 28))
    assert figures(result.previous_totals) == (
        2,
        0,
        D("700.00"),
        D("482.76"),
        D("0.00"),
        D("45.00"),
        D("241.38"),
        None,
    )


@pytest.mark.django_db
def test_campaign_metrics_runs_three_queries(
    dataset: DataSet, marketer: User, django_assert_num_queries
) -> None:
    user_roles(marketer)  # the role lookup is cached per request user
    CampaignFactory.create_batch(5)

    # campaigns, their figures (one UNION ALL), the figures by utm_source
    with django_assert_num_queries(3):
        result = campaign_metrics(user=marketer, date_from=MARCH[0], date_to=MARCH[1])

    assert len(result.rows) == 9


@pytest.mark.django_db
def test_operator_may_not_read_campaign_metrics(dataset: DataSet, operator: User) -> None:
    with pytest.raises(PermissionDenied) as error:
        campaign_metrics(user=operator, date_from=MARCH[0], date_to=MARCH[1])
    assert str(error.value) == str(CAMPAIGN_METRICS_FORBIDDEN)
    with pytest.raises(PermissionDenied):
        lead_timeseries(user=operator, date_from=MARCH[0], date_to=MARCH[1])


@pytest.mark.django_db
def test_reversed_period_is_an_error(marketer: User) -> None:
    with pytest.raises(ValueError, match=r"^The start of the period cannot be after its end\.$"):
        campaign_metrics(user=marketer, date_from=MARCH[1], date_to=MARCH[0])


@pytest.mark.django_db
def test_operator_status_counts_cover_only_their_own_leads(
    dataset: DataSet, operator: User, operator2: User, django_assert_num_queries
) -> None:
    user_roles(operator)
    with django_assert_num_queries(1):
        mine = lead_status_counts(user=operator, date_from=MARCH[0], date_to=MARCH[1])

    assert [(s.status, s.count) for s in mine] == [
        ("new", 1),
        ("in_progress", 0),
        ("qualified", 0),
        ("converted", 1),
        ("lost", 1),
    ]
    theirs = lead_status_counts(user=operator2, date_from=MARCH[0], date_to=MARCH[1])
    assert [(s.status, s.count) for s in theirs] == [
        ("new", 1),
        ("in_progress", 0),
        ("qualified", 1),
        ("converted", 1),
        ("lost", 0),
    ]


@pytest.mark.django_db
def test_lead_timeseries_counts_per_day(dataset: DataSet, marketer: User, django_assert_num_queries) -> None:
    user_roles(marketer)
    with django_assert_num_queries(2):
        points = lead_timeseries(user=marketer, date_from=date(2025, 3, 1), date_to=date(2025, 4, 30))

    by_day = {p.day: p for p in points}
    assert points[0].day == date(2025, 3, 1)
    assert len(points) == 61
    assert sum(p.leads for p in points) == 7  # six March leads and the one of 1 April
    assert by_day[date(2025, 3, 1)] == TimePoint(day=date(2025, 3, 1), leads=1, customers=0)
    assert by_day[date(2025, 3, 3)] == TimePoint(day=date(2025, 3, 3), leads=0, customers=1)
    assert by_day[date(2025, 3, 31)] == TimePoint(day=date(2025, 3, 31), leads=1, customers=0)
    assert by_day[date(2025, 4, 1)] == TimePoint(day=date(2025, 4, 1), leads=1, customers=0)
    assert sum(p.customers for p in points) == 3


def test_bucket_sizes_and_previous_period() -> None:
    assert bucket_kind(date(2025, 1, 1), date(2025, 3, 3)) == "day"
    assert bucket_kind(date(2025, 1, 1), date(2025, 12, 31)) == "week"
    assert bucket_kind(date(2024, 1, 1), date(2025, 12, 31)) == "month"
    assert previous_period(date(2025, 1, 1), date(2025, 12, 31)) == (date(2024, 1, 2), date(2024, 12, 31))


@pytest.mark.django_db
def test_lead_timeseries_truncates_where_width_bucket_is_missing(
    dataset: DataSet, marketer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite (the local demo) has no width_bucket(): the Trunc path gives the same buckets."""
    period = {"user": marketer, "date_from": date(2025, 2, 20), "date_to": date(2025, 4, 30)}
    fast = lead_timeseries(**period)
    monkeypatch.setattr("crm_models.selectors.metrics.use_width_bucket", lambda: False)

    assert lead_timeseries(**period) == fast
    assert [(p.day, p.leads, p.customers) for p in fast if p.leads or p.customers] == [
        (date(2025, 2, 17), 1, 0),
        (date(2025, 2, 24), 3, 0),
        (date(2025, 3, 3), 0, 2),
        (date(2025, 3, 10), 2, 1),
        (date(2025, 3, 17), 1, 0),
        (date(2025, 3, 31), 2, 0),
    ]
