"""django-admin-charts' URLs, closed (issue 3, item 7).

Out of the box its data and CSV endpoints answer anonymous users (for charts
marked `show_to_users`), pass query-string keys straight into the chart query
and raise on `?debug` for chart staff. Here every one of its views goes through
`admin_site.admin_view` (anonymous -> login page), then answers only users who
both see campaign metrics (DESIGN.md's dashboard row) and hold
`admin_tools_stats.view_dashboardstats`, and accepts only the parameters the
chart itself offers: anything else is a 400 before the package sees it.
"""

import datetime
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from admin_tools_stats import urls as admin_charts_urls
from admin_tools_stats.models import DashboardStats
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from crm_models.selectors.metrics import user_sees_campaign_metrics
from dashboards.periods import (
    DATE_FORMAT_MESSAGE,
    DATE_RANGE_MESSAGE,
    DATE_RANGE_PARAMS,
    EARLIEST_DATE,
    LATEST_DATE,
)

CHARTS_PERMISSION = "admin_tools_stats.view_dashboardstats"
# Parameters the package's own chart form sends with every request.
FORM_PARAMETERS = frozenset(
    {
        "graph_key",
        "time_since",
        "time_until",
        "select_box_interval",
        "select_box_chart_type",
        "select_box_operation",
        "select_box_operation_field",
        "select_box_multiple_series",
        "reload",
        "reload_all",
        "analytics_chart",
        "_",
        # The chart form serialises its CSRF field into the query string; the
        # package drops it before building the query.
        "csrfmiddlewaretoken",
    }
)
PAGE_PARAMETERS = frozenset({"show", "analytics_chart", "_"})
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def user_may_see_charts(user: Any) -> bool:
    return user_sees_campaign_metrics(user) and user.has_perm(CHARTS_PERMISSION)


def chart_parameter_error(query: QueryDict, chart: DashboardStats) -> str:
    """Why the query string is refused for this chart ("" if it is fine)."""
    criteria = list(chart.criteriatostatsm2m_set.values_list("id", "use_as"))
    allowed_keys = FORM_PARAMETERS | {f"select_box_dynamic_{pk}" for pk, _use in criteria}
    for key in query:
        if key not in allowed_keys:
            return _("Unknown chart parameter: %(name)s.") % {"name": key}
        if len(query.getlist(key)) > 1:
            return _("Chart parameter given twice: %(name)s.") % {"name": key}
    allowed_values: dict[str, set[str]] = {
        "select_box_operation_field": {"", *chart.get_operations_list()},
        "select_box_operation": {"", *chart.get_allowed_operations()},
        "select_box_interval": set(chart.allowed_time_scales or []),
        "select_box_chart_type": set(chart.allowed_chart_types or []),
        "select_box_multiple_series": {"", *(str(pk) for pk, use in criteria if use == "multiple_series")},
        "reload": {"true", "false"},
        "reload_all": {"true", "false"},
    }
    for key, values in allowed_values.items():
        if key in query and query[key] not in values:
            return _("Value not allowed for %(name)s.") % {"name": key}
    for key in ("time_since", "time_until"):
        if key not in query:
            continue
        text = query.get(key, "")
        try:
            day = datetime.date.fromisoformat(text) if DATE_PATTERN.match(text) else None
        except ValueError:
            day = None
        if day is None:
            return str(DATE_FORMAT_MESSAGE)
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            return DATE_RANGE_MESSAGE % DATE_RANGE_PARAMS
    return ""


def guard(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_may_see_charts(request.user):
            raise PermissionDenied
        graph_key = kwargs.get("graph_key")
        if graph_key is None:
            error = next(
                (
                    _("Unknown chart parameter: %(name)s.") % {"name": k}
                    for k in request.GET
                    if k not in PAGE_PARAMETERS
                ),
                "",
            )
        else:
            chart = DashboardStats.objects.filter(graph_key=graph_key).first()
            if chart is None:
                raise Http404
            error = chart_parameter_error(request.GET, chart)
        if error:
            return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
        return view(request, *args, **kwargs)

    return admin.site.admin_view(guarded)


def admin_charts_urlpatterns() -> list[URLPattern]:
    """The package's URL patterns (same names, so its templates still reverse
    them), each view wrapped by `guard`."""
    patterns = []
    for pattern in admin_charts_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        assert pattern.name
        patterns.append(path(str(pattern.pattern), guard(pattern.callback), name=pattern.name))
    return patterns
