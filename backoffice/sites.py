"""The project's admin site: unfold's, with the fixes its views need.

Installed the way Django documents for a custom default site
(`backoffice.apps.CrmAdminConfig.default_site`, with unfold's BasicAppConfig,
which leaves `admin.site` alone).
"""

from typing import Any

from django.core.paginator import InvalidPage
from django.http import Http404, HttpRequest, HttpResponse
from unfold.sites import UnfoldAdminSite


class CrmAdminSite(UnfoldAdminSite):
    def search(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The command palette's results. unfold hands `page` to the paginator
        unchecked, so a page that is not a number or past the last one was a
        server error; it is a page that does not exist."""
        try:
            return super().search(request, extra_context)
        except InvalidPage as error:
            raise Http404 from error
