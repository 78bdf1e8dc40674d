"""Adds the campaign report to the admin site's URLs, so it lives under the
admin prefix, goes through `admin_view` (login, staff, CSRF, no caching) and
has an admin URL name: `admin:dashboards_campaign_metrics`."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, path

from . import chart_definitions  # noqa: F401  (registers the chart definition admins)
from .views import campaign_metrics_report

_site_urls = admin.site.get_urls


def _get_urls() -> list[URLResolver | URLPattern]:
    return [
        path(
            "dashboards/campaign-metrics/",
            admin.site.admin_view(campaign_metrics_report),
            name="dashboards_campaign_metrics",
        ),
        *_site_urls(),
    ]


admin.site.get_urls = _get_urls  # type: ignore[method-assign]
