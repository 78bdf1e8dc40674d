"""The lead charts of django-admin-charts, counted from the rollup tables.

For a chart that counts leads by creation day, admin-charts groups the lead
table itself on every request, and ranks every campaign's leads to find a
chart's top N series: at a million leads that is a second or more per request.
The same counts are in the rollup tables (dashboards/models.py): leads per
campaign and local day (DAY), per campaign and month (MONTH) and per day over
all campaigns (TOTAL), kept exact by the database's triggers. `lead_chart_series`
answers such a chart from them, in the very shape the package's
`DashboardStats.get_multi_time_series` returns (same buckets, series names,
order and values), so its JSON and CSV views draw and write it unchanged
(tests/dashboards/test_chart_series.py compares the two for every chart).

A chart qualifies when it counts leads (`crm_models.Lead`, `created_at`,
Count of ids) with no queryset modifiers and no chart filters, split by
nothing or by a plain campaign field of SPLIT_FIELDS, at a day, week, month,
quarter or year interval, for a user who sees every lead, in the time zone the
rollups were built in (`reads_rollups`). Anything else returns None and the
package computes the chart from its model as before.

Nothing is cached: each request reads the committed rollups, so a chart is
never staler than the tables, and no user's answer is kept for another.
The top-N ranking is the package's (leads of all time, most first); where the
package left campaigns with equal counts in the database's order, the order
here is by the series' value, so the same request always draws the same chart.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from admin_tools_stats.models import CriteriaToStatsM2M, Interval, get_charts_timezone, rrule_list
from datetime_truncate import truncate
from django.db.models import Case, DateField, F, IntegerField, Sum, Value, When
from django.db.models.functions import Trunc
from django.utils import timezone

from crm_models.models import Campaign, Lead
from crm_models.selectors.metrics import reads_rollups
from dashboards.apps import DashboardsConfig
from dashboards.models import Grain, LeadRollup

if TYPE_CHECKING:
    from admin_tools_stats.models import DashboardStats

# Lead fields a chart may split its series by, and the campaign field each is.
SPLIT_FIELDS = {"campaign__name": "name", "campaign__channel": "channel"}
# Intervals whose buckets are whole local days (the rollups hold no hours).
DAY_INTERVALS = (Interval.days, Interval.weeks)
MONTH_INTERVALS = (Interval.months, Interval.quarters, Interval.years)
# The package's series names for empty values and for the campaigns outside a top N.
NONE_KEY, OTHER_KEY = "None", "other"

Series = dict[datetime.datetime, dict[Any, Any]]


def lead_chart_series(
    chart: DashboardStats,
    configuration: Mapping[str, Any],
    time_since: datetime.datetime,
    time_until: datetime.datetime,
    interval: Interval,
    operation_choice: str | None,
    operation_field_choice: str | None,
    user: Any,
) -> Series | None:
    """The chart's series as the package computes them, from the rollups; None
    when the chart or the request does not qualify (see the module docstring)."""
    if not _counts_leads(chart, operation_choice, operation_field_choice, interval, user):
        return None
    criteria = list(chart.criteriatostatsm2m_set.select_related("criteria"))
    if any(m2m.criteria.criteria_fix_mapping for m2m in criteria):
        return None
    if any(key.startswith("select_box_dynamic_") and value for key, value in configuration.items()):
        return None
    split = _chosen_split(criteria, configuration.get("select_box_multiple_series"))
    if split is not None and not _plain_campaign_split(split):
        return None
    first_day, last_day = time_since.date(), time_until.date()
    if split is None:
        totals = (
            LeadRollup.objects.filter(grain=Grain.TOTAL, day__gte=first_day, day__lte=last_day)
            .annotate(bucket=_bucket(interval))
            .values_list("bucket")
            .annotate(leads=Sum("leads"))
        )
        series: Series = {_bucket_time(bucket_day): {"": leads} for bucket_day, leads in totals}
        _fill_missing_buckets(series, [""], time_since, time_until, interval)
        return series
    return _split_series(split, interval, time_since, time_until, first_day, last_day)


def _counts_leads(
    chart: DashboardStats,
    operation_choice: str | None,
    operation_field_choice: str | None,
    interval: Interval,
    user: Any,
) -> bool:
    operations = chart.get_operations_list()
    zone = get_charts_timezone()
    return (
        chart.get_model() is Lead
        and chart.date_field_name == "created_at"
        and not chart.queryset_modifiers
        and (operation_choice or chart.type_operation_field_name or "Count") == "Count"
        and (operation_field_choice or (operations[0] if operations else "id")) == "id"
        and not (len(operations) > 1 and operation_choice == "")
        and interval in DAY_INTERVALS + MONTH_INTERVALS
        and not chart.is_limited_to_user(user)
        and getattr(zone, "key", None) == DashboardsConfig.rollup_time_zone
        and reads_rollups(user)
    )


def _chosen_split(criteria: list[CriteriaToStatsM2M], choice: Any) -> CriteriaToStatsM2M | None:
    """The series split the request chose (the package's get_multi_series_criteria,
    from the criteria already read)."""
    try:
        chosen = int(str(choice or ""))
    except ValueError:
        return None
    return next((m2m for m2m in criteria if m2m.use_as == "multiple_series" and m2m.pk == chosen), None)


def _plain_campaign_split(split: CriteriaToStatsM2M) -> bool:
    return (
        split.criteria.dynamic_criteria_field_name in SPLIT_FIELDS
        and not split.prefix
        and not split.criteria.criteria_dynamic_mapping
        and (bool(split.count_limit) or not split.choices_based_on_time_range)
    )


def _bucket(interval: Interval) -> F | Trunc:
    """The first day of a rollup row's bucket. The rows read are those of whole
    buckets: the package widened the period to them."""
    if interval == Interval.days:
        return F("day")
    return Trunc("day", interval.val(), output_field=DateField())


def _bucket_time(day: datetime.date) -> datetime.datetime:
    """The package's key for a bucket: its first local midnight, aware."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()), get_charts_timezone())


def _split_series(
    split: CriteriaToStatsM2M,
    interval: Interval,
    time_since: datetime.datetime,
    time_until: datetime.datetime,
    first_day: datetime.date,
    last_day: datetime.date,
) -> Series:
    field = SPLIT_FIELDS[split.criteria.dynamic_criteria_field_name]
    value_of = dict(Campaign.objects.order_by().values_list("pk", field))
    position_of, names = _series_positions(split, field, value_of)
    # Each row's series, summed in the database: campaign ids by series (a top
    # N's "other" holds most campaigns, and a year by day has a row per
    # campaign and day: too many to bring back one by one).
    campaigns_of: dict[int, list[int]] = {}
    for campaign_id, value in value_of.items():
        if value in position_of:
            campaigns_of.setdefault(position_of[value], []).append(campaign_id)
    grain = Grain.DAY if interval in DAY_INTERVALS else Grain.MONTH
    rows = (
        LeadRollup.objects.filter(grain=grain, day__gte=first_day, day__lte=last_day)
        .annotate(
            bucket=_bucket(interval),
            series=Case(
                *(
                    When(campaign_id__in=ids, then=Value(position))
                    for position, ids in sorted(campaigns_of.items())
                ),
                default=Value(-1),
                output_field=IntegerField(),
            ),
        )
        .values_list("bucket", "series")
        .annotate(leads=Sum("leads"))
    )
    sums: dict[datetime.datetime, list[int]] = {}
    for bucket_day, position, leads in rows:
        values = sums.setdefault(_bucket_time(bucket_day), [0] * len(names))
        if position >= 0:
            values[position] += leads
    series: Series = {time: dict(zip(names, values, strict=True)) for time, values in sums.items()}
    _fill_missing_buckets(series, names, time_since, time_until, interval)
    return series


def _series_positions(
    split: CriteriaToStatsM2M, field: str, value_of: Mapping[int, Any]
) -> tuple[dict[Any, int], list[Any]]:
    """The series in the package's order, and the position of each campaign
    field value's series among them, built as the package builds its choices:
    the values (for a top N the N with most leads of all time, best first;
    otherwise every campaign's value in the field's order), the key "None" for
    no value (a lead's campaign is never empty), and for a top N the key
    "other" moved first, for every value with leads outside the N. A value
    whose text is one of these keys loses its own series to it, as in the
    package. A series is named by the value's display name in the request's
    language, as a string (the package keeps it lazy and uses it as text)."""
    display = dict(getattr(Campaign._meta.get_field(field), "choices", None) or [])
    if split.count_limit:
        per_campaign = (
            LeadRollup.objects.filter(grain=Grain.MONTH)
            .values("campaign_id")
            .annotate(leads=Sum("leads"))
            .values_list("campaign_id", "leads")
        )
        totals: dict[Any, int] = {}
        for campaign_id, leads in per_campaign:
            if campaign_id in value_of:
                totals[value_of[campaign_id]] = totals.get(value_of[campaign_id], 0) + leads
        ranked = sorted(
            (value for value, leads in totals.items() if leads),
            key=lambda value: (-totals[value], str(value)),
        )
        shown = ranked[: split.count_limit]
    else:
        shown = list(Campaign.objects.values_list(field, flat=True).distinct().order_by(field))
    choices: OrderedDict[Any, tuple[Any, Any]] = OrderedDict(
        (value, (value, str(display[value]) if value in display else value)) for value in shown
    )
    choices[NONE_KEY] = (None, None)
    if split.count_limit:
        choices[OTHER_KEY] = (ranked[split.count_limit :], OTHER_KEY)
        choices.move_to_end(OTHER_KEY, last=False)
    names: list[Any] = []
    position_of: dict[Any, int] = {}
    position_of_name: dict[Any, int] = {}
    for key, (values, name) in choices.items():
        if key == "":
            continue
        if name not in position_of_name:
            position_of_name[name] = len(names)
            names.append(name)
        for value in values if isinstance(values, list) else [values]:
            position_of[value] = position_of_name[name]
    return position_of, names


def _fill_missing_buckets(
    series: Series,
    names: list[Any],
    time_since: datetime.datetime,
    time_until: datetime.datetime,
    interval: Interval,
) -> None:
    """Every bucket of the period, with 0 for each series it lacks (as the package fills them)."""
    zone = get_charts_timezone()
    for point in rrule_list(interval, truncate(time_since, interval.val()), time_until):
        bucket = series.setdefault(point.astimezone(zone), {})
        for name in names:
            bucket.setdefault(name, 0)
