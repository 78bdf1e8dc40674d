"""django-admin-charts' URLs, closed (issue 3, item 7).

Out of the box its data and CSV endpoints answer anonymous users (for charts
marked `show_to_users`), pass query-string keys straight into the chart query
and raise on `?debug` for chart staff. Here every one of its views goes through
`admin_site.admin_view` (anonymous -> login page), then answers only users who
both see campaign metrics (DESIGN.md's dashboard row) and hold
`admin_tools_stats.view_dashboardstats`, and accepts only the parameters the
chart itself offers: anything else is a 400 before the package sees it.

Every request is bounded like the dashboard's period: both dates given, at
most MAX_PERIOD_DAYS apart, and at most MAX_CHART_POINTS buckets at the chosen
interval, so no parameter combination makes a chart or its CSV scan years by
the hour.

The package's own drawing (python-nvd3) answers chart data as JavaScript built
with `|striptags`, which turns entities in campaign or user names back into
markup, and its page runs that answer as an inline script. Only its CSV view is
kept; `chart_data` answers the same parameters with plain JSON
(`ChartSeriesView`), which dashboards/static/dashboards/admin_charts.js draws
with unfold's Chart.js, so a name is only ever text.

Both views read the definition as a LeadChartDefinition (dashboards/models.py):
lead counts come from the rollup tables (dashboards/chart_series.py), so a
bounded request is answered without grouping the lead table.
"""

import datetime
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from admin_tools_stats import views as admin_charts_views
from admin_tools_stats.models import DashboardStats, Interval
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    QueryDict,
)
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm_models.selectors.metrics import user_sees_campaign_metrics
from dashboards.models import LeadChartDefinition
from dashboards.periods import (
    DATE_FORMAT_MESSAGE,
    DATE_RANGE_MESSAGE,
    DATE_RANGE_PARAMS,
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_PERIOD_DAYS,
    PERIOD_REVERSED_MESSAGE,
    PERIOD_TOO_LONG_MESSAGE,
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
        "_",
        # The chart form serialises its CSRF field into the query string; the
        # package drops it before building the query.
        "csrfmiddlewaretoken",
    }
)
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A year by days still fits; more buckets than this are unreadable as a chart
# and, by the hour over years, were minutes of work and a 100 MB answer.
MAX_CHART_POINTS = 400
DATES_REQUIRED_MESSAGE = gettext_lazy("Give the chart's period as time_since and time_until.")
TOO_MANY_POINTS_MESSAGE = gettext_lazy(
    "This period has %(points)s points at the chosen interval; a chart shows at most %(limit)s. "
    "Choose a longer interval or a shorter period."
)
# Chart.js drawing of each admin-charts chart type: (Chart.js type, stacked, filled).
CHART_JS_TYPES: dict[str, tuple[str, bool, bool]] = {
    "discreteBarChart": ("bar", True, False),
    "multiBarChart": ("bar", False, False),
    "multiBarHorizontalChart": ("bar", False, False),
    "pieChart": ("bar", False, False),
    "linePlusBarChart": ("line", False, False),
    "lineChart": ("line", False, False),
    "cumulativeLineChart": ("line", False, False),
    "lineWithFocusChart": ("line", False, False),
    "scatterChart": ("line", False, False),
    "stackedAreaChart": ("line", True, True),
}


def user_may_see_charts(user: Any) -> bool:
    return user_sees_campaign_metrics(user) and user.has_perm(CHARTS_PERMISSION)


def chart_points(interval: str, since: datetime.date, until: datetime.date) -> int:
    """How many buckets the package draws from since to until (both included)."""
    days = (until - since).days + 1
    months = (until.year - since.year) * 12 + until.month - since.month + 1
    return {
        "hours": days * 24,
        "days": days,
        "weeks": (until - since).days // 7 + 2,
        "months": months,
        "quarters": (until.year - since.year) * 4 + (until.month - 1) // 3 - (since.month - 1) // 3 + 1,
        "years": until.year - since.year + 1,
    }.get(interval, days * 24)


def fitting_interval(chart: DashboardStats, since: datetime.date, until: datetime.date) -> str:
    """The chart's default interval, or the next coarser one it allows when the
    default has too many points for the period."""
    order = [interval.value for interval in Interval]
    allowed = [scale for scale in order if scale in (chart.allowed_time_scales or [])]
    default = chart.default_time_scale
    candidates = [default] + [scale for scale in allowed if order.index(scale) > order.index(default)]
    for scale in candidates:
        if chart_points(scale, since, until) <= MAX_CHART_POINTS:
            return scale
    return candidates[-1]


def _bound_error(query: QueryDict, chart: DashboardStats) -> str:
    if "time_since" not in query or "time_until" not in query:
        return str(DATES_REQUIRED_MESSAGE)
    since = datetime.date.fromisoformat(query.get("time_since", ""))
    until = datetime.date.fromisoformat(query.get("time_until", ""))
    if since > until:
        return str(PERIOD_REVERSED_MESSAGE)
    if (until - since).days + 1 > MAX_PERIOD_DAYS:
        return PERIOD_TOO_LONG_MESSAGE % {"days": MAX_PERIOD_DAYS}
    points = chart_points(query.get("select_box_interval") or chart.default_time_scale, since, until)
    if points > MAX_CHART_POINTS:
        return TOO_MANY_POINTS_MESSAGE % {"points": points, "limit": MAX_CHART_POINTS}
    return ""


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
    return _bound_error(query, chart)


def guard(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not user_may_see_charts(request.user):
            raise PermissionDenied
        chart = DashboardStats.objects.filter(graph_key=kwargs.get("graph_key")).first()
        if chart is None:
            raise Http404
        error = chart_parameter_error(request.GET, chart)
        if error:
            return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
        return view(request, *args, **kwargs)

    return admin.site.admin_view(guarded)


def _bucket_label(day: datetime.date, interval: str) -> str:
    if interval == "hours":
        return date_format(day, "SHORT_DATETIME_FORMAT")
    if interval == "years":
        return str(day.year)
    if interval == "quarters":
        return _("Q%(quarter)s %(year)s") % {"quarter": (day.month - 1) // 3 + 1, "year": day.year}
    if interval == "months":
        return date_format(day, "YEAR_MONTH_FORMAT")
    return date_format(day, "SHORT_DATE_FORMAT")


def _number(value: Any) -> float | int:
    if not value:
        return 0
    return value if isinstance(value, int) else float(value)


class LeadChartDataMixin(admin_charts_views.ChartDataMixin):
    """The package's chart computation, on the definition read as a
    LeadChartDefinition: lead counts from the rollup tables when they can be."""

    def get_chart_series_data(
        self, request: HttpRequest, dashboard_stats: DashboardStats, interval: Interval | None = None
    ) -> dict[str, Any]:
        if not isinstance(dashboard_stats, LeadChartDefinition):
            dashboard_stats = LeadChartDefinition.objects.get(pk=dashboard_stats.pk)
        return super().get_chart_series_data(request, dashboard_stats, interval)


class ChartCSVView(LeadChartDataMixin, admin_charts_views.ChartDataCSVView):
    """The package's CSV of a chart, from the same series as the JSON."""


class ChartSeriesView(LeadChartDataMixin, View):
    """One admin-charts chart as JSON: its buckets' labels and one dataset per
    series, computed by the package from the chart's definition. Names stay
    plain strings inside JSON; the browser draws them on a canvas."""

    def get(self, request: HttpRequest, graph_key: str) -> HttpResponse:
        chart = LeadChartDefinition.objects.get(graph_key=graph_key)
        try:
            data = self.get_chart_series_data(request, chart)
        except admin_charts_views.InvalidChartParameter as error:
            return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
        interval = data["selected_interval"].value
        series = data["series"]
        days = sorted(series, key=lambda d: (d.year, d.month, d.day, getattr(d, "hour", 0)))
        names: list[Any] = []
        for day in days:
            names.extend(name for name in series[day] if name not in names)
        chart_type, stacked, filled = CHART_JS_TYPES.get(data["chart_type"], ("bar", False, False))
        datasets = []
        for name in names:
            values = [_number(series[day].get(name)) for day in days]
            # The package adds an empty-value series and, for charts limited to
            # the top N, an "other" series: shown only when they hold anything.
            if name in (None, "None", "other") and not any(values):
                continue
            datasets.append({"label": self._series_label(chart, name), "data": values})
        return JsonResponse(
            {
                "type": chart_type,
                "stacked": stacked,
                "fill": filled,
                "horizontal": data["chart_type"] == "multiBarHorizontalChart",
                "labels": [_bucket_label(day, interval) for day in days],
                "datasets": datasets,
            }
        )

    @staticmethod
    def _series_label(chart: DashboardStats, name: Any) -> str:
        if name == "":
            return _(chart.graph_title)
        if name in (None, "None"):
            return _("Not set")
        if name == "other":
            return _("Other")
        return str(name)


def admin_charts_urlpatterns() -> list[URLPattern]:
    """The package's CSV view, and its chart data as JSON (same URL names, so
    `{% url 'chart-data' %}` still resolves), each behind `guard`. Its nvd3 pages
    (`admin_charts.js`, `analytics/`) are not served."""
    return [
        path("chart_data/<str:graph_key>/", guard(ChartSeriesView.as_view()), name="chart-data"),
        path(
            "chart_csv/<str:graph_key>/",
            guard(ChartCSVView.as_view()),
            name="chart-csv",
        ),
    ]
