"""Spend in the campaign metrics (DESIGN.md, "Campaign metrics"): the sum of a
campaign's AdSpend rows in the period when it has any, else its budget spread
over its days; and the figures per utm_source."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm_models.selectors.metrics import campaign_metrics, prorated_budget
from tests.factories import AdSpendFactory, CampaignFactory, ContractFactory, CustomerFactory, LeadFactory

pytestmark = pytest.mark.django_db

MSK = ZoneInfo("Europe/Moscow")
# 1-30 June: 30 days; the week of 10-16 June lies inside it.
JUNE = {"start_date": date(2026, 6, 1), "end_date": date(2026, 6, 30)}
WEEK = {"date_from": date(2026, 6, 10), "date_to": date(2026, 6, 16)}


@pytest.fixture(autouse=True)
def _moscow(settings) -> None:
    settings.TIME_ZONE = "Europe/Moscow"


def row_of(metrics, name):
    return next(row for row in metrics.rows if row.campaign == name)


def test_without_spend_rows_the_budget_is_spread_over_the_days_inside_the_period(marketer) -> None:
    CampaignFactory(name="June", budget=Decimal("3000.00"), **JUNE)

    metrics = campaign_metrics(user=marketer, **WEEK)

    june = row_of(metrics, "June")
    assert (june.spend, june.spend_actual) == (Decimal("700.00"), False)
    # The week before (3-9 June) is inside too; the campaign's last days only partly.
    assert metrics.previous_totals.spend == Decimal("700.00")
    assert campaign_metrics(
        user=marketer, date_from=date(2026, 6, 28), date_to=date(2026, 7, 10)
    ).totals.spend == (Decimal("300.00"))


def test_with_spend_rows_their_sum_in_the_period_counts(marketer) -> None:
    june = CampaignFactory(name="June", budget=Decimal("3000.00"), **JUNE)
    AdSpendFactory(campaign=june, date=date(2026, 6, 10), amount=Decimal("120.50"), source="yandex")
    AdSpendFactory(campaign=june, date=date(2026, 6, 16), amount=Decimal("99.50"), source="google")
    AdSpendFactory(campaign=june, date=date(2026, 6, 16), amount=Decimal("80.00"), source="yandex")
    AdSpendFactory(campaign=june, date=date(2026, 6, 9), amount=Decimal("5000.00"), source="yandex")
    AdSpendFactory(campaign=june, date=date(2026, 6, 17), amount=Decimal("5000.00"), source="yandex")

    metrics = campaign_metrics(user=marketer, **WEEK)

    row = row_of(metrics, "June")
    assert (row.spend, row.spend_actual) == (Decimal("300.00"), True)
    assert metrics.previous_totals.spend == Decimal("5000.00")
    assert (metrics.actual_spend, metrics.estimated_spend) == (Decimal("300.00"), Decimal("0.00"))


def test_a_campaign_with_spend_rows_only_outside_the_period_spent_nothing_in_it(marketer) -> None:
    june = CampaignFactory(name="June", budget=Decimal("3000.00"), **JUNE)
    AdSpendFactory(campaign=june, date=date(2026, 6, 1), amount=Decimal("10.00"))

    row = row_of(campaign_metrics(user=marketer, **WEEK), "June")

    assert (row.spend, row.spend_actual) == (Decimal("0.00"), True)


def test_prorated_budget_edges() -> None:
    budget = Decimal("3000.00")
    assert (
        prorated_budget(budget, date(2026, 6, 1), date(2026, 6, 30), date(2026, 5, 1), date(2026, 5, 31)) == 0
    )
    assert (
        prorated_budget(budget, date(2026, 6, 1), date(2026, 6, 30), date(2026, 1, 1), date(2026, 12, 31))
        == budget
    )
    assert (
        prorated_budget(budget, date(2026, 6, 1), date(2026, 6, 1), date(2026, 6, 1), date(2026, 6, 1))
        == budget
    )
    # 1000 over 3 days, 1 day inside: rounded to cents.
    assert prorated_budget(
        Decimal("1000"), date(2026, 6, 1), date(2026, 6, 3), date(2026, 6, 3), date(2026, 6, 9)
    ) == (Decimal("333.33"))


def test_figures_by_utm_source(marketer) -> None:
    tagged = CampaignFactory(name="Tagged", budget=Decimal("3000.00"), **JUNE)
    estimated = CampaignFactory(name="Estimated", budget=Decimal("3000.00"), **JUNE)
    AdSpendFactory(campaign=tagged, date=date(2026, 6, 12), amount=Decimal("400.00"), source="yandex")
    AdSpendFactory(campaign=tagged, date=date(2026, 6, 12), amount=Decimal("100.00"), source="vk")
    at = datetime(2026, 6, 12, 12, tzinfo=MSK)
    converted = LeadFactory(campaign=tagged, utm_source="yandex", created_at=at, converted_at=at)
    customer = CustomerFactory(lead=converted)
    ContractFactory(customer=customer, amount=Decimal("2000.00"), signed_at=date(2026, 6, 13))
    LeadFactory(campaign=tagged, utm_source="yandex", created_at=at)
    LeadFactory(campaign=estimated, utm_source="", created_at=at)

    metrics = campaign_metrics(user=marketer, **WEEK)

    by_source = {
        group.label: (
            group.leads,
            group.customers,
            group.revenue,
            group.spend,
            group.roi,
            group.cpl,
            group.cac,
        )
        for group in metrics.by_source
    }
    assert by_source == {
        "vk": (0, 0, Decimal("0.00"), Decimal("100.00"), Decimal("-100.00"), None, None),
        "yandex": (
            2,
            1,
            Decimal("2000.00"),
            Decimal("400.00"),
            Decimal("400.00"),
            Decimal("200.00"),
            Decimal("400.00"),
        ),
        # no utm_source: the untagged lead, and the other campaign's budget estimate (700)
        "(none)": (1, 0, Decimal("0.00"), Decimal("700.00"), Decimal("-100.00"), Decimal("700.00"), None),
    }
    assert [group.key for group in metrics.by_source] == ["vk", "yandex", ""]
