"""Short-lived shared cache of the campaign figures, for when they come from the
base tables.

On PostgreSQL the figures come from the rollup tables (dashboards/models.py):
a few milliseconds, exact to the last committed write, so they are read afresh
on every page and never cached (with the database cache, storing an entry costs
more queries than computing it).

Where the selector has to scan the base tables instead (SQLite, or a time zone
the rollups were not built in), each figure is a scan of the lead table, so the
dashboard and the report reuse one computation per period for
DASHBOARD_CACHE_SECONDS (default 300) through Django's cache (the database or
Redis: shared by every app server). Only roles that see all campaign metrics
get here, and for every one of them `Lead.objects.visible_to` is all leads, so
one entry per period serves them all; an operator never reaches this code.
"""

from datetime import date
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from crm_models.selectors.metrics import (
    CAMPAIGN_METRICS_FORBIDDEN,
    CampaignMetrics,
    TimePoint,
    campaign_metrics,
    lead_timeseries,
    reads_rollups,
    user_sees_campaign_metrics,
)

# Raised whenever what an entry holds, or how it is drawn, changes: entries of
# an older version are never read again (2: the charts stopped going through
# python-nvd3, which turned names into script).
KEY_VERSION = 2


def cache_seconds() -> int:
    return int(getattr(settings, "DASHBOARD_CACHE_SECONDS", 300))


def _key(kind: str, date_from: date, date_to: date) -> str:
    return f"dashboards:{KEY_VERSION}:{kind}:all:{date_from.isoformat()}:{date_to.isoformat()}"


def _check(user: Any) -> None:
    if not user_sees_campaign_metrics(user):
        raise PermissionDenied(CAMPAIGN_METRICS_FORBIDDEN)


def cached_campaign_metrics(*, user: Any, date_from: date, date_to: date) -> CampaignMetrics:
    _check(user)
    return cached_dashboard_figures(user=user, date_from=date_from, date_to=date_to, timeseries=False)[0]


def cached_dashboard_figures(
    *, user: Any, date_from: date, date_to: date, timeseries: bool = True
) -> tuple[CampaignMetrics, list[TimePoint]]:
    """The campaign metrics and (if asked) the lead time series of the period,
    read with one cache round trip, computed and stored on a miss."""
    _check(user)
    seconds = 0 if reads_rollups(user) else cache_seconds()
    metrics_key, series_key = _key("metrics", date_from, date_to), _key("timeseries", date_from, date_to)
    found = cache.get_many([metrics_key, series_key] if timeseries else [metrics_key]) if seconds > 0 else {}
    missing: dict[str, Any] = {}
    metrics = found.get(metrics_key)
    if metrics is None:
        metrics = missing[metrics_key] = campaign_metrics(user=user, date_from=date_from, date_to=date_to)
    points: list[TimePoint] = []
    if timeseries:
        cached_points = found.get(series_key)
        if cached_points is None:
            cached_points = missing[series_key] = lead_timeseries(
                user=user, date_from=date_from, date_to=date_to
            )
        points = cached_points
    if missing and seconds > 0:
        cache.set_many(missing, seconds)
    return metrics, points
