"""Short-lived shared cache of the campaign figures.

At a million leads each figure is a scan of the lead table (seconds, not
milliseconds), so the dashboard and the report reuse one computation per period
for DASHBOARD_CACHE_SECONDS (default 300) through Django's cache (the database
or Redis: shared by every app server). Only roles that see all campaign metrics
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
    user_sees_campaign_metrics,
)

KEY_VERSION = 1


def cache_seconds() -> int:
    return int(getattr(settings, "DASHBOARD_CACHE_SECONDS", 300))


def _cached(kind: str, date_from: date, date_to: date, compute: Any) -> Any:
    seconds = cache_seconds()
    if seconds <= 0:
        return compute()
    key = f"dashboards:{KEY_VERSION}:{kind}:all:{date_from.isoformat()}:{date_to.isoformat()}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value


def cached_campaign_metrics(*, user: Any, date_from: date, date_to: date) -> CampaignMetrics:
    if not user_sees_campaign_metrics(user):
        raise PermissionDenied(CAMPAIGN_METRICS_FORBIDDEN)
    return _cached(
        "metrics",
        date_from,
        date_to,
        lambda: campaign_metrics(user=user, date_from=date_from, date_to=date_to),
    )


def cached_lead_timeseries(*, user: Any, date_from: date, date_to: date) -> list[TimePoint]:
    if not user_sees_campaign_metrics(user):
        raise PermissionDenied(CAMPAIGN_METRICS_FORBIDDEN)
    return _cached(
        "timeseries",
        date_from,
        date_to,
        lambda: lead_timeseries(user=user, date_from=date_from, date_to=date_to),
    )
