"""Campaign analytics: the one implementation of DESIGN.md's "Campaign metrics".

Everything here reads; the dashboard, the campaign report and its CSV/XLSX files
all call these selectors and only format what they return.

Speed: each selector runs a fixed number of grouped aggregates in the database
(never one query per campaign or a loop over leads in Python), and periods are
plain datetime ranges (`created_at >= start AND created_at < end`), which can
use an index, unlike `__date` lookups that wrap the column in a function.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, DateTimeField, F, Func, IntegerField, Q, Sum, Value
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_models.models import Campaign, Channel, Lead, LeadStatus
from crm_models.roles import Role, has_role, sees_everything

if TYPE_CHECKING:
    from crm_models.roles import UserLike

CAMPAIGN_METRICS_FORBIDDEN = _("You may not see campaign metrics.")
PERIOD_REVERSED_MESSAGE = _("The start of the period cannot be after its end.")

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def user_sees_campaign_metrics(user: UserLike) -> bool:
    """DESIGN.md, role matrix, "Dashboard" row: Administrators, Marketers and
    Managers see all campaign metrics (money included); Operators do not."""
    return sees_everything(user) or has_role(user, Role.MARKETER, Role.MANAGER)


def _money(total: Decimal | None) -> Decimal:
    """A database SUM of amounts, in cents whatever the backend (SQLite drops
    the scale: 4500 where PostgreSQL gives 4500.00)."""
    return (total or ZERO).quantize(CENT)


def _ratio(numerator: Decimal, divisor: Decimal | int, *, scale: Decimal = Decimal(1)) -> Decimal | None:
    """numerator / divisor, rounded to cents; None (undefined) when the divisor is 0."""
    if not divisor:
        return None
    return (Decimal(numerator) * scale / Decimal(divisor)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Figures:
    """The four counted figures of a campaign or a group of campaigns; the
    ratios follow from them. Percentages are numbers of percent (25.00 = 25 %)."""

    leads: int
    customers: int
    revenue: Decimal
    spend: Decimal

    @property
    def conversion_rate(self) -> Decimal | None:
        return _ratio(Decimal(self.customers), self.leads, scale=HUNDRED)

    @property
    def roi(self) -> Decimal | None:
        return _ratio(self.revenue - self.spend, self.spend, scale=HUNDRED)

    @property
    def cpl(self) -> Decimal | None:
        return _ratio(self.spend, self.leads)

    @property
    def cac(self) -> Decimal | None:
        return _ratio(self.spend, self.customers)

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            leads=self.leads + other.leads,
            customers=self.customers + other.customers,
            revenue=self.revenue + other.revenue,
            spend=self.spend + other.spend,
        )


NO_FIGURES = Figures(leads=0, customers=0, revenue=ZERO, spend=ZERO)


def _sum_figures(items: Iterable[Figures]) -> Figures:
    total = NO_FIGURES
    for item in items:
        total = total + item
    return total


@dataclass(frozen=True)
class CampaignRow(Figures):
    campaign_id: int
    campaign: str
    channel: str
    channel_label: str
    service_id: int
    service: str


@dataclass(frozen=True)
class GroupRow(Figures):
    """Figures summed over the campaigns of one channel or one service."""

    key: str
    label: str


@dataclass(frozen=True)
class CampaignMetrics:
    date_from: date
    date_to: date
    rows: list[CampaignRow]
    totals: Figures
    by_channel: list[GroupRow]
    by_service: list[GroupRow]
    # Totals of the period of the same length just before this one, for "change" figures.
    previous_from: date
    previous_to: date
    previous_totals: Figures


def period_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[start, end) in the current time zone: whole days date_from..date_to."""
    if date_from > date_to:
        raise ValueError(PERIOD_REVERSED_MESSAGE)
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(date_from, time.min), zone)
    end = timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min), zone)
    return start, end


def previous_period(date_from: date, date_to: date) -> tuple[date, date]:
    """The period of the same number of days that ends the day before date_from."""
    length = date_to - date_from + timedelta(days=1)
    return date_from - length, date_from - timedelta(days=1)


def _overlaps(start: date, end: date, date_from: date, date_to: date) -> bool:
    return start <= date_to and end >= date_from


def campaign_metrics(*, user: UserLike, date_from: date, date_to: date) -> CampaignMetrics:
    """Metrics per campaign the user may see, with totals, per channel and per
    service, for the days date_from..date_to (inclusive), plus the totals of the
    previous period of the same length. Four queries, whatever the data size.

    Raises PermissionDenied for users whose role does not see campaign metrics,
    ValueError when date_from is after date_to.
    """
    if not user_sees_campaign_metrics(user):
        raise PermissionDenied(CAMPAIGN_METRICS_FORBIDDEN)
    prev_from, prev_to = previous_period(date_from, date_to)
    start, end = period_bounds(date_from, date_to)
    prev_start, _prev_end = period_bounds(prev_from, prev_to)

    campaigns = list(
        Campaign.objects.visible_to(user)
        .order_by("name", "id")
        .values("id", "name", "channel", "budget", "start_date", "end_date", "service_id", "service__name")
    )
    # Scope comes from the leads the user may see: customers and revenue are
    # reached through their lead, so the same rule decides all three figures.
    leads = Lead.objects.visible_to(user).order_by()
    lead_counts = {
        row["campaign_id"]: row
        for row in leads.filter(created_at__gte=prev_start, created_at__lt=end)
        .values("campaign_id")
        .annotate(
            now=Count("campaign_id", filter=Q(created_at__gte=start)),
            before=Count("campaign_id", filter=Q(created_at__lt=start)),
        )
    }
    customer_counts = {
        row["campaign_id"]: row
        for row in leads.filter(converted_at__gte=prev_start, converted_at__lt=end, customer__isnull=False)
        .values("campaign_id")
        .annotate(
            now=Count("campaign_id", filter=Q(converted_at__gte=start)),
            before=Count("campaign_id", filter=Q(converted_at__lt=start)),
        )
    }
    # One row per contract through the one-to-one lead -> customer join, so
    # each contract's amount is summed exactly once.
    revenue_sums = {
        row["campaign_id"]: row
        for row in leads.filter(
            customer__contracts__signed_at__gte=prev_from, customer__contracts__signed_at__lte=date_to
        )
        .values("campaign_id")
        .annotate(
            now=Sum("customer__contracts__amount", filter=Q(customer__contracts__signed_at__gte=date_from)),
            before=Sum("customer__contracts__amount", filter=Q(customer__contracts__signed_at__lt=date_from)),
        )
    }

    channel_labels = dict(Channel.choices)
    rows: list[CampaignRow] = []
    previous: list[Figures] = []
    for campaign in campaigns:
        pk = campaign["id"]
        lead_row = lead_counts.get(pk, {})
        customer_row = customer_counts.get(pk, {})
        revenue_row = revenue_sums.get(pk, {})
        budget = campaign["budget"]
        rows.append(
            CampaignRow(
                leads=lead_row.get("now", 0),
                customers=customer_row.get("now", 0),
                revenue=_money(revenue_row.get("now")),
                spend=budget
                if _overlaps(campaign["start_date"], campaign["end_date"], date_from, date_to)
                else ZERO,
                campaign_id=pk,
                campaign=campaign["name"],
                channel=campaign["channel"],
                channel_label=str(channel_labels.get(campaign["channel"], campaign["channel"])),
                service_id=campaign["service_id"],
                service=campaign["service__name"],
            )
        )
        previous.append(
            Figures(
                leads=lead_row.get("before", 0),
                customers=customer_row.get("before", 0),
                revenue=_money(revenue_row.get("before")),
                spend=budget
                if _overlaps(campaign["start_date"], campaign["end_date"], prev_from, prev_to)
                else ZERO,
            )
        )

    return CampaignMetrics(
        date_from=date_from,
        date_to=date_to,
        rows=rows,
        totals=_sum_figures(rows),
        by_channel=_group(rows, key=lambda row: (row.channel, row.channel_label)),
        by_service=_group(rows, key=lambda row: (str(row.service_id), row.service)),
        previous_from=prev_from,
        previous_to=prev_to,
        previous_totals=_sum_figures(previous),
    )


def _group(rows: list[CampaignRow], *, key: Callable[[CampaignRow], tuple[str, str]]) -> list[GroupRow]:
    groups: dict[tuple[str, str], Figures] = {}
    for row in rows:
        group_key = key(row)
        groups[group_key] = groups.get(group_key, NO_FIGURES) + row
    return sorted(
        (
            GroupRow(**dataclasses.asdict(figures), key=k, label=label)
            for (k, label), figures in groups.items()
        ),
        key=lambda group: group.label,
    )


@dataclass(frozen=True)
class TimePoint:
    day: date
    leads: int
    customers: int


def bucket_kind(date_from: date, date_to: date) -> str:
    """Days for up to two months, weeks up to a year and a bit, months beyond."""
    days = (date_to - date_from).days + 1
    if days <= 62:
        return "day"
    if days <= 371:
        return "week"
    return "month"


def lead_timeseries(*, user: UserLike, date_from: date, date_to: date) -> list[TimePoint]:
    """New leads and conversions per day, week or month (see `bucket_kind`) of
    the period, every bucket present (zeros included). Two queries."""
    if not user_sees_campaign_metrics(user):
        raise PermissionDenied(CAMPAIGN_METRICS_FORBIDDEN)
    start, end = period_bounds(date_from, date_to)
    kind = bucket_kind(date_from, date_to)
    zone = timezone.get_current_timezone()
    days = _buckets(date_from, date_to, kind)
    leads = Lead.objects.visible_to(user).order_by()

    def per_bucket(field: str, **filters: object) -> dict[date, int]:
        rows = leads.filter(**{f"{field}__gte": start, f"{field}__lt": end}, **filters)
        if use_width_bucket():
            # Which bucket a row falls in, by binary search over the buckets' start
            # instants: about twice as fast as truncating every row in the time zone.
            starts = [timezone.make_aware(datetime.combine(day, time.min), zone) for day in days]
            bucket = Func(
                F(field),
                Value(starts, output_field=ArrayField(DateTimeField())),
                function="width_bucket",
                output_field=IntegerField(),
            )
            counted = rows.annotate(bucket=bucket).values("bucket").annotate(n=Count("campaign_id"))
            return {days[row["bucket"] - 1]: row["n"] for row in counted}
        counted = (
            rows.annotate(bucket=Trunc(field, kind, tzinfo=zone))
            .values("bucket")
            .annotate(n=Count("campaign_id"))
        )
        return {timezone.localtime(row["bucket"], zone).date(): row["n"] for row in counted}

    new_leads = per_bucket("created_at")
    conversions = per_bucket("converted_at", customer__isnull=False)
    return [
        TimePoint(day=day, leads=new_leads.get(day, 0), customers=conversions.get(day, 0)) for day in days
    ]


def use_width_bucket() -> bool:
    """PostgreSQL has width_bucket() over an array of timestamps; SQLite does not."""
    return connection.vendor == "postgresql"


def _buckets(date_from: date, date_to: date, kind: str) -> list[date]:
    if kind == "day":
        first = date_from
    elif kind == "week":
        first = date_from - timedelta(days=date_from.weekday())
    else:
        first = date_from.replace(day=1)
    days: list[date] = []
    current = first
    while current <= date_to:
        days.append(current)
        if kind == "day":
            current += timedelta(days=1)
        elif kind == "week":
            current += timedelta(weeks=1)
        else:
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return days


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


def lead_status_counts(*, user: UserLike, date_from: date, date_to: date) -> list[StatusCount]:
    """How many of the leads the user may see were created in the period, per
    status (every status listed, zeros included). For an operator these are
    their own leads: the dashboard of a role that sees no campaign money."""
    start, end = period_bounds(date_from, date_to)
    counts = dict(
        Lead.objects.visible_to(user)
        .filter(created_at__gte=start, created_at__lt=end)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return [
        StatusCount(status=value, label=str(label), count=counts.get(value, 0))
        for value, label in LeadStatus.choices
    ]
