"""Campaign analytics: the one implementation of DESIGN.md's "Campaign metrics".

Everything here reads; the dashboard, the campaign report and its CSV/XLSX files
all call these selectors and only format what they return.

Speed: each selector runs a fixed number of grouped aggregates in the database
(never one query per campaign or a loop over leads in Python). On PostgreSQL
they read the rollup tables of the dashboards app (figures summed per campaign
and month, per campaign and day, and per day), which triggers keep exact on
every write, so a year costs a few thousand rows whatever the size of the lead
table. Elsewhere (SQLite), or for a time zone the rollups were not built in,
they aggregate the base tables over plain datetime ranges
(`created_at >= start AND created_at < end`), which can use an index, unlike
`__date` lookups that wrap the column in a function.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_models.models import AdSpend, Campaign, Channel, Lead, LeadStatus
from crm_models.roles import Role, has_role, sees_everything
from dashboards.apps import DashboardsConfig
from dashboards.models import ConversionRollup, Grain, LeadRollup, RevenueRollup

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


def _sum_figures(items: Iterable[Figures]) -> Figures:
    # Field by field rather than with `+`: a thousand campaigns are summed on
    # every dashboard view, and each `+` builds a frozen dataclass.
    items = list(items)
    return Figures(
        leads=sum(item.leads for item in items),
        customers=sum(item.customers for item in items),
        revenue=sum((item.revenue for item in items), ZERO),
        spend=sum((item.spend for item in items), ZERO),
    )


@dataclass(frozen=True)
class CampaignRow(Figures):
    campaign_id: int
    campaign: str
    channel: str
    channel_label: str
    service_id: int
    service: str
    # True: spend is the sum of the campaign's AdSpend rows; False: estimated
    # from its budget (it has no spend rows at all).
    spend_actual: bool = False


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
    # The same figures per first-touch utm_source of the leads ("" = none).
    # Spend there is the AdSpend rows' own source; budget estimates have none.
    by_source: list[GroupRow] = dataclasses.field(default_factory=list)

    @property
    def actual_spend(self) -> Decimal:
        return sum((row.spend for row in self.rows if row.spend_actual), ZERO)

    @property
    def estimated_spend(self) -> Decimal:
        return sum((row.spend for row in self.rows if not row.spend_actual), ZERO)


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


def prorated_budget(budget: Decimal, start: date, end: date, date_from: date, date_to: date) -> Decimal:
    """The budget spread evenly over the campaign's days (start and end
    inclusive), for the days of date_from..date_to it ran: a 30-day campaign
    with budget 3,000 counts 700 for 7 of its days."""
    days_inside = (min(end, date_to) - max(start, date_from)).days + 1
    if days_inside <= 0 or not budget:
        return ZERO
    days = (end - start).days + 1
    return (Decimal(budget) * days_inside / days).quantize(CENT, rounding=ROUND_HALF_UP)


# Per campaign id: {"now": figure in the period, "before": in the previous one}.
Counts = dict[int, dict[str, Any]]


def campaign_metrics(*, user: UserLike, date_from: date, date_to: date) -> CampaignMetrics:
    """Metrics per campaign the user may see, with totals, per channel and per
    service and per utm_source, for the days date_from..date_to (inclusive),
    plus the totals of the previous period of the same length. Three queries,
    whatever the data size: the campaigns, their figures (one UNION ALL of the
    leads, customers, revenue and spend aggregates), the figures by utm_source.

    Raises PermissionDenied for users whose role does not see campaign metrics,
    ValueError when date_from is after date_to.
    """
    if not user_sees_campaign_metrics(user):
        raise PermissionDenied(CAMPAIGN_METRICS_FORBIDDEN)
    prev_from, _prev_to = previous_period(date_from, date_to)
    period_bounds(date_from, date_to)  # refuses a reversed period

    campaigns = list(
        Campaign.objects.visible_to(user)
        .order_by("name", "id")
        # Whether spend is actual or estimated depends on any spend row at all,
        # in or out of the period: an index probe per campaign.
        .annotate(has_spend=Exists(AdSpend.objects.filter(campaign=OuterRef("pk"))))
        .values(
            "id",
            "name",
            "channel",
            "budget",
            "start_date",
            "end_date",
            "service_id",
            "service__name",
            "has_spend",
        )
    )
    if reads_rollups(user):
        parts = _rollup_figures(prev_from, date_from, date_to)
    else:
        parts = _base_table_figures(user, prev_from, date_from, date_to)
    # Spend first: a UNION's values are read as the first part's columns, and
    # only the money columns keep every part's cents (counts come back as whole numbers).
    parts.insert(0, _spend_figures(user, prev_from, date_from, date_to))
    figures: dict[str, Counts] = {"leads": {}, "customers": {}, "revenue": {}, "spend": {}}
    spend_by_source: dict[str, Decimal] = {}
    for row in parts[0].union(*parts[1:], all=True):
        kind = row["kind"]
        if kind == "spend":
            # One row per campaign and source: summed per campaign here.
            found = figures["spend"].setdefault(row["campaign_id"], {"now": ZERO, "before": ZERO})
            found["now"] += row["now"] or 0
            found["before"] += row["before"] or 0
            spend_by_source[row["src"]] = spend_by_source.get(row["src"], ZERO) + (row["now"] or 0)
        else:
            figures[kind][row["campaign_id"]] = row
    metrics = _assemble(
        campaigns,
        figures["leads"],
        figures["customers"],
        figures["revenue"],
        date_from,
        date_to,
        figures["spend"],
    )
    by_source = _source_groups(user, date_from, date_to, spend_by_source, metrics)
    return dataclasses.replace(metrics, by_source=by_source)


NO_SOURCE_LABEL = _("(none)")


def _source_groups(
    user: UserLike,
    date_from: date,
    date_to: date,
    spend_by_source: dict[str, Decimal],
    metrics: CampaignMetrics,
) -> list[GroupRow]:
    """Leads, customers and revenue per first-touch utm_source (one UNION ALL
    over the rollups or the base tables), with the period's spend rows per
    their source and the budget estimates under no source."""

    def part(kind: str, queryset: QuerySet, value: Any) -> QuerySet:
        return (
            queryset.annotate(kind=Value(kind, output_field=CharField()))
            .values("kind", "utm_source")
            .annotate(n=value)
        )

    # Revenue first: the UNION's values are read as its first part's columns (see campaign_metrics).
    if reads_rollups(user):
        period = _periods_rows(date_from, date_to, by_source=True)
        rows = part("revenue", RevenueRollup.objects.filter(period), Sum("revenue")).union(
            part("leads", LeadRollup.objects.filter(period), Sum("leads")),
            part("customers", ConversionRollup.objects.filter(period), Sum("customers")),
            all=True,
        )
    else:
        start, end = period_bounds(date_from, date_to)
        leads = Lead.objects.visible_to(user).order_by()
        rows = part(
            "revenue",
            leads.filter(
                customer__contracts__signed_at__gte=date_from, customer__contracts__signed_at__lte=date_to
            ),
            Sum("customer__contracts__amount"),
        ).union(
            part("leads", leads.filter(created_at__gte=start, created_at__lt=end), Count("id")),
            part(
                "customers",
                leads.filter(converted_at__gte=start, converted_at__lt=end, customer__isnull=False),
                Count("id"),
            ),
            all=True,
        )
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["n"]:  # a rollup row that went back to zero is no group, as in the base tables
            groups.setdefault(row["utm_source"], {})[row["kind"]] = row["n"]
    estimated = metrics.estimated_spend
    if estimated:
        spend_by_source[""] = spend_by_source.get("", ZERO) + estimated
    for source in spend_by_source:
        groups.setdefault(source, {})
    result = [
        GroupRow(
            leads=int(values.get("leads", 0)),
            customers=int(values.get("customers", 0)),
            revenue=_money(values.get("revenue")),
            spend=_money(spend_by_source.get(source)),
            key=source,
            label=source or str(NO_SOURCE_LABEL),
        )
        for source, values in groups.items()
    ]
    return sorted(result, key=lambda group: (group.key == "", group.label.casefold()))


def reads_rollups(user: UserLike) -> bool:
    """Whether the figures come from the rollup tables: on PostgreSQL (where the
    triggers keep them), for the time zone they were built in, and for a user
    who may see every lead (the rollups sum all leads; a narrower scope needs the
    base tables). Every role that sees campaign metrics sees all leads today."""
    return (
        connection.vendor == "postgresql"
        and timezone.get_current_timezone_name() == DashboardsConfig.rollup_time_zone
        and not Lead.objects.visible_to(user).query.has_filters()
    )


def _periods_rows(date_from: date, date_to: date, *, by_source: bool = False) -> Q:
    """Rollup rows that add up to exactly the days date_from..date_to: a whole
    month as its MONTH row, the days of a month the period cuts as DAY rows
    (SOURCE_MONTH and SOURCE_DAY rows with `by_source`)."""
    day_grain, month_grain = (Grain.SOURCE_DAY, Grain.SOURCE_MONTH) if by_source else (Grain.DAY, Grain.MONTH)
    ranges: list[tuple[Grain, date, date]] = []
    month = date_from.replace(day=1)
    while month <= date_to:
        following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        first, last = max(month, date_from), min(following - timedelta(days=1), date_to)
        if (first, last) == (month, following - timedelta(days=1)):
            grain, first, last = month_grain, month, month
        else:
            grain = day_grain
        if ranges and ranges[-1][0] == grain:  # consecutive: one range
            first = ranges.pop()[1]
        ranges.append((grain, first, last))
        month = following
    rows = Q()
    for range_grain, first_day, last_day in ranges:
        rows |= Q(grain=range_grain, day__gte=first_day, day__lte=last_day)
    return rows


def _labelled(queryset: QuerySet, kind: str, source: Any = "") -> QuerySet:
    """A figure's per-campaign aggregate with the columns every part of the
    UNION ALL shares: kind, campaign_id, src, now, before."""
    return queryset.annotate(
        kind=Value(kind, output_field=CharField()),
        src=source if not isinstance(source, str) else Value(source, output_field=CharField()),
    ).values("kind", "campaign_id", "src")


def _rollup_figures(prev_from: date, date_from: date, date_to: date) -> list[QuerySet]:
    """The three figures per campaign, "now" (date_from..date_to) and "before"
    (prev_from..date_from - 1), from the rollups."""
    rows = _periods_rows(prev_from, date_from - timedelta(days=1)) | _periods_rows(date_from, date_to)
    now, before = Q(day__gte=date_from), Q(day__lt=date_from)
    return [
        _labelled(model.objects.filter(rows), column).annotate(
            now=Sum(column, filter=now, default=0), before=Sum(column, filter=before, default=0)
        )
        for model, column in (
            (LeadRollup, "leads"),
            (ConversionRollup, "customers"),
            (RevenueRollup, "revenue"),
        )
    ]


def _spend_figures(user: UserLike, prev_from: date, date_from: date, date_to: date) -> QuerySet:
    """The spend rows per campaign and source, "now" and "before"."""
    return _labelled(
        AdSpend.objects.visible_to(user).filter(date__gte=prev_from, date__lte=date_to).order_by(),
        "spend",
        F("source"),
    ).annotate(
        now=Sum("amount", filter=Q(date__gte=date_from), default=0),
        before=Sum("amount", filter=Q(date__lt=date_from), default=0),
    )


def _base_table_figures(user: UserLike, prev_from: date, date_from: date, date_to: date) -> list[QuerySet]:
    """The same three figures aggregated from the lead, customer and contract tables."""
    start, end = period_bounds(date_from, date_to)
    prev_start, _prev_end = period_bounds(prev_from, date_from - timedelta(days=1))
    # Scope comes from the leads the user may see: customers and revenue are
    # reached through their lead, so the same rule decides all three figures.
    leads = Lead.objects.visible_to(user).order_by()
    lead_counts = _labelled(leads.filter(created_at__gte=prev_start, created_at__lt=end), "leads").annotate(
        now=Count("campaign_id", filter=Q(created_at__gte=start)),
        before=Count("campaign_id", filter=Q(created_at__lt=start)),
    )
    customer_counts = _labelled(
        leads.filter(converted_at__gte=prev_start, converted_at__lt=end, customer__isnull=False), "customers"
    ).annotate(
        now=Count("campaign_id", filter=Q(converted_at__gte=start)),
        before=Count("campaign_id", filter=Q(converted_at__lt=start)),
    )
    # One row per contract through the one-to-one lead -> customer join, so
    # each contract's amount is summed exactly once.
    revenue_sums = _labelled(
        leads.filter(
            customer__contracts__signed_at__gte=prev_from, customer__contracts__signed_at__lte=date_to
        ),
        "revenue",
    ).annotate(
        now=Sum("customer__contracts__amount", filter=Q(customer__contracts__signed_at__gte=date_from)),
        before=Sum("customer__contracts__amount", filter=Q(customer__contracts__signed_at__lt=date_from)),
    )
    return [lead_counts, customer_counts, revenue_sums]


def _assemble(
    campaigns: list[dict[str, Any]],
    lead_counts: Counts,
    customer_counts: Counts,
    revenue_sums: Counts,
    date_from: date,
    date_to: date,
    spend_sums: Counts,
) -> CampaignMetrics:
    prev_from, prev_to = previous_period(date_from, date_to)
    # Translated once, not once per campaign.
    channel_labels = {value: str(label) for value, label in Channel.choices}
    rows: list[CampaignRow] = []
    previous: list[Figures] = []
    for campaign in campaigns:
        pk = campaign["id"]
        lead_row = lead_counts.get(pk, {})
        customer_row = customer_counts.get(pk, {})
        revenue_row = revenue_sums.get(pk, {})
        budget, start, end = campaign["budget"], campaign["start_date"], campaign["end_date"]
        actual = bool(campaign["has_spend"])
        if actual:
            spend_row = spend_sums.get(pk, {})
            spend, spend_before = _money(spend_row.get("now")), _money(spend_row.get("before"))
        else:
            spend = prorated_budget(budget, start, end, date_from, date_to)
            spend_before = prorated_budget(budget, start, end, prev_from, prev_to)
        rows.append(
            CampaignRow(
                leads=int(lead_row.get("now", 0)),
                customers=int(customer_row.get("now", 0)),
                revenue=_money(revenue_row.get("now")),
                spend=spend,
                campaign_id=pk,
                campaign=campaign["name"],
                channel=campaign["channel"],
                channel_label=channel_labels.get(campaign["channel"], campaign["channel"]),
                service_id=campaign["service_id"],
                service=campaign["service__name"],
                spend_actual=actual,
            )
        )
        previous.append(
            Figures(
                leads=int(lead_row.get("before", 0)),
                customers=int(customer_row.get("before", 0)),
                revenue=_money(revenue_row.get("before")),
                spend=spend_before,
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
    groups: dict[tuple[str, str], list[CampaignRow]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return sorted(
        (
            GroupRow(**dataclasses.asdict(_sum_figures(members)), key=k, label=label)
            for (k, label), members in groups.items()
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
    if reads_rollups(user):
        return _rollup_timeseries(days, date_from, date_to)
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


def _rollup_timeseries(days: list[date], date_from: date, date_to: date) -> list[TimePoint]:
    """The same series from the rollups' per-day totals (at most a few hundred
    rows a year), summed into the buckets here: two queries."""

    def per_bucket(model: type[LeadRollup | ConversionRollup], column: str) -> list[int]:
        sums = [0] * len(days)
        rows = model.objects.filter(grain=Grain.TOTAL, day__gte=date_from, day__lte=date_to)
        for day, value in rows.values_list("day", column):
            sums[bisect_right(days, day) - 1] += value
        return sums

    new_leads = per_bucket(LeadRollup, "leads")
    conversions = per_bucket(ConversionRollup, "customers")
    return [
        TimePoint(day=day, leads=leads, customers=customers)
        for day, leads, customers in zip(days, new_leads, conversions, strict=True)
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
