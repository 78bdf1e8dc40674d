"""The project's admin site: unfold's, with the campaign report under the admin
prefix (through `admin_view`: login, staff, CSRF, no caching) and an admin URL
name, `admin:dashboards_campaign_metrics`."""

from django.contrib.admin.apps import AdminConfig
from django.urls import URLPattern, URLResolver, path
from unfold.sites import UnfoldAdminSite


class CrmAdminSite(UnfoldAdminSite):
    def get_urls(self) -> list[URLResolver | URLPattern]:
        from dashboards.views import campaign_metrics_report

        return [
            path(
                "dashboards/campaign-metrics/",
                self.admin_view(campaign_metrics_report),
                name="dashboards_campaign_metrics",
            ),
            *super().get_urls(),
        ]


class CrmAdminConfig(AdminConfig):
    """django.contrib.admin with CrmAdminSite as `admin.site` (Django's
    documented way to replace the default site)."""

    default_site = "backoffice.admin_site.CrmAdminSite"
