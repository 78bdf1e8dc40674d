"""The project's admin site: unfold's, with the fixes its views need.

Installed the way Django documents for a custom default site
(`backoffice.apps.CrmAdminConfig.default_site`, with unfold's BasicAppConfig,
which leaves `admin.site` alone).
"""

from typing import Any

from django.core.paginator import InvalidPage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, path, reverse
from unfold.sites import UnfoldAdminSite


class CrmAdminSite(UnfoldAdminSite):
    def get_urls(self) -> list[URLResolver | URLPattern]:
        """The campaign report under the admin prefix, through `admin_view`
        (login, staff, CSRF, no caching), named `admin:dashboards_campaign_metrics`."""
        from crm_models import notification_views as notifications
        from crm_models.admin.my_day import my_day_urls
        from dashboards.views import campaign_metrics_report

        return [
            *my_day_urls(self),
            path(
                "dashboards/campaign-metrics/",
                self.admin_view(campaign_metrics_report),
                name="dashboards_campaign_metrics",
            ),
            # The bell (crm_models/notification_views.py): each user's own.
            path("notifications/", self.admin_view(notifications.notifications_page), name="notifications"),
            path(
                "notifications/unread/",
                self.admin_view(notifications.notifications_unread),
                name="notifications_unread",
            ),
            path(
                "notifications/read-all/",
                self.admin_view(notifications.notifications_read_all),
                name="notifications_read_all",
            ),
            path(
                "notifications/<str:notification_id>/read/",
                self.admin_view(notifications.notification_read),
                name="notification_read",
            ),
            path("preferences/", self.admin_view(notifications.preferences_page), name="preferences"),
            *super().get_urls(),
        ]

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Operators and managers who sign in without a page to go to start on
        "My day" (crm_models.admin.my_day) instead of the dashboard."""
        from crm_models.admin.my_day import lands_on_my_day

        response = super().login(request, extra_context)
        if (
            request.method == "POST"
            and isinstance(response, HttpResponseRedirect)
            and response.url == reverse("admin:index", current_app=self.name)
            and lands_on_my_day(request.user)
        ):
            return HttpResponseRedirect(reverse("admin:crm_models_my_day", current_app=self.name))
        return response

    def search(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The command palette's results. unfold hands `page` to the paginator
        unchecked, so a page that is not a number or past the last one was a
        server error; it is a page that does not exist."""
        try:
            return super().search(request, extra_context)
        except InvalidPage as error:
            raise Http404 from error
