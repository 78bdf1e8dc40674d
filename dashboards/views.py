"""The admin index and the campaign report. Display only: every number comes
from `crm_models.selectors.metrics` (and the follow-up cards from
`crm_models.selectors.followups`); this module picks what a role may see and
formats it."""

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _

from crm_models.roles import Role, has_role
from crm_models.selectors.followups import CONTRACT_END_DAYS, workday_counts
from crm_models.selectors.metrics import (
    CampaignMetrics,
    CampaignRow,
    Figures,
    GroupRow,
    TimePoint,
    lead_status_counts,
    user_sees_campaign_metrics,
)

from . import exports, formatting
from .cache import cached_campaign_metrics, cached_dashboard_figures
from .periods import Period, Preset, period_from_query

UNKNOWN_FORMAT_MESSAGE = gettext_lazy("Unknown format: choose csv or xlsx.")
CHARTS_PERMISSION = "admin_tools_stats.view_dashboardstats"
# The titles of the charts dashboards.0001 ships, marked so that makemessages collects them.
SHIPPED_CHART_TITLES = (
    gettext_noop("New leads by channel"),
    gettext_noop("New leads by campaign (top 10)"),
    gettext_noop("Contract amounts by month"),
)
# The names of the series criteria dashboards.0001 ships ("Split by" choices).
SHIPPED_SERIES_NAMES = (gettext_noop("channel"), gettext_noop("campaign"))
# Bars beyond this many make the ROI chart unreadable: show the best and worst halves.
ROI_CHART_BARS = 30
BEST_WORST_ROWS = 5


# Given options replace unfold's defaults entirely; keep its fixed-height layout
# (the canvas height decides), and let grouped bars stand side by side.
CHART_OPTIONS: dict[str, Any] = {
    "animation": False,
    "responsive": True,
    "maintainAspectRatio": False,
    "plugins": {"legend": {"position": "bottom", "align": "start"}},
    "scales": {"x": {"grid": {"display": False}}, "y": {"beginAtZero": True}},
}


def _chart_json(data: dict[str, Any]) -> dict[str, str]:
    # Chart.js writes the axes' numbers with Intl in this locale ("10 000 000"
    # in Russian), not in the browser's.
    options = {**CHART_OPTIONS, "locale": get_language() or settings.LANGUAGE_CODE}
    return {"data": json.dumps(data), "options": json.dumps(options)}


def _kpis(metrics: CampaignMetrics) -> list[dict[str, str]]:
    now, before = metrics.totals, metrics.previous_totals
    cards = [
        (_("Leads"), formatting.count(now.leads), formatting.change(now.leads, before.leads)),
        (
            _("New customers"),
            formatting.count(now.customers),
            formatting.change(now.customers, before.customers),
        ),
        (
            _("Conversion rate"),
            formatting.percent(now.conversion_rate),
            formatting.points_change(now.conversion_rate, before.conversion_rate),
        ),
        (
            _("Revenue"),
            formatting.money(now.revenue, decimals=0),
            formatting.change(now.revenue, before.revenue),
        ),
        (_("Ad spend"), formatting.money(now.spend, decimals=0), formatting.change(now.spend, before.spend)),
        (_("ROI"), formatting.percent(now.roi), formatting.points_change(now.roi, before.roi)),
    ]
    return [
        {"title": title, "value": value, "change": change, "trend": trend}
        for title, value, (change, trend) in cards
    ]


def _with_roi(rows: list[CampaignRow]) -> list[CampaignRow]:
    ranked = [row for row in rows if row.roi is not None]
    return sorted(ranked, key=lambda row: (-(row.roi or Decimal(0)), row.campaign))


def _roi_chart(ranked: list[CampaignRow]) -> dict[str, str]:
    shown = ranked
    if len(ranked) > ROI_CHART_BARS:
        half = ROI_CHART_BARS // 2
        shown = ranked[:half] + ranked[-half:]
    return _chart_json(
        {
            "labels": [row.campaign for row in shown],
            "datasets": [
                {
                    "label": _("ROI, %"),
                    "data": [float(row.roi or 0) for row in shown],
                    "backgroundColor": "var(--color-primary-600)",
                }
            ],
        }
    )


def _channel_chart(metrics: CampaignMetrics) -> dict[str, str]:
    return _chart_json(
        {
            "labels": [group.label for group in metrics.by_channel],
            "datasets": [
                {
                    "label": _("Revenue"),
                    "data": [float(group.revenue) for group in metrics.by_channel],
                    "backgroundColor": "var(--color-primary-600)",
                },
                {
                    "label": _("Ad spend"),
                    "data": [float(group.spend) for group in metrics.by_channel],
                    "backgroundColor": "var(--color-primary-300)",
                },
            ],
        }
    )


def _timeline_chart(points: list[TimePoint]) -> dict[str, str]:
    return _chart_json(
        {
            "labels": [date_format(point.day, "SHORT_DATE_FORMAT") for point in points],
            "datasets": [
                {
                    "label": _("New leads"),
                    "data": [point.leads for point in points],
                    "borderColor": "var(--color-primary-600)",
                    "backgroundColor": "var(--color-primary-600)",
                },
                {
                    "label": _("Conversions"),
                    "data": [point.customers for point in points],
                    "borderColor": "var(--color-primary-300)",
                    "backgroundColor": "var(--color-primary-300)",
                },
            ],
        }
    )


def _leads_link(row: CampaignRow, changelist: str | None = None) -> str:
    url = (
        (changelist or reverse("admin:crm_models_lead_changelist"))
        + "?"
        + urlencode({"campaign__id__exact": row.campaign_id})
    )
    return format_html(
        '<a class="text-primary-600 dark:text-primary-500" href="{}">{}</a>', url, row.campaign
    )


def _roi_table(rows: list[CampaignRow]) -> dict[str, Any]:
    return {
        "headers": [_("Campaign"), _("Revenue"), _("Ad spend"), _("ROI")],
        "rows": [
            [
                _leads_link(row),
                formatting.money(row.revenue, decimals=0),
                formatting.money(row.spend, decimals=0),
                formatting.percent(row.roi),
            ]
            for row in rows
        ],
    }


ESTIMATED_SPEND_TITLE = gettext_lazy("Estimated from the campaign's budget: it has no imported spend.")


def _breakdown_table(groups: list[GroupRow], title: str) -> dict[str, Any]:
    """Leads, customers, revenue, spend and the ratios per channel or source."""
    return {
        "headers": [
            title,
            _("Leads"),
            _("Customers"),
            _("Revenue"),
            _("Ad spend"),
            _("CPL"),
            _("CAC"),
            _("ROI"),
        ],
        "rows": [
            [
                group.label,
                formatting.count(group.leads),
                formatting.count(group.customers),
                formatting.money(group.revenue, decimals=0),
                formatting.money(group.spend, decimals=0),
                formatting.money(group.cpl, decimals=0),
                formatting.money(group.cac, decimals=0),
                formatting.percent(group.roi),
            ]
            for group in groups
        ],
    }


def _spend_basis(metrics: CampaignMetrics) -> dict[str, Any]:
    """How much of the period's spend is imported and how much estimated from budgets."""
    estimated = [row.campaign for row in metrics.rows if not row.spend_actual and row.spend]
    return {
        "actual": formatting.money(metrics.actual_spend, decimals=0),
        "estimated": formatting.money(metrics.estimated_spend, decimals=0),
        "estimated_count": len(estimated),
        "estimated_campaigns": ", ".join(estimated[:10]) + ("…" if len(estimated) > 10 else ""),
    }


def _campaign_dashboard(request: HttpRequest, period: Period) -> dict[str, Any]:
    metrics, points = cached_dashboard_figures(
        user=request.user, date_from=period.date_from, date_to=period.date_to
    )
    ranked = _with_roi(metrics.rows)
    best = ranked[:BEST_WORST_ROWS]
    worst = [row for row in reversed(ranked) if row not in best][:BEST_WORST_ROWS]
    return {
        "kpis": _kpis(metrics),
        "previous_from": metrics.previous_from,
        "previous_to": metrics.previous_to,
        "roi_chart": _roi_chart(ranked),
        "roi_chart_truncated": len(ranked) > ROI_CHART_BARS,
        "channel_chart": _channel_chart(metrics),
        "timeline_chart": _timeline_chart(points),
        "best_table": _roi_table(best),
        "worst_table": _roi_table(worst),
        "has_campaigns": bool(metrics.rows),
        "spend_basis": _spend_basis(metrics),
        "source_table": _breakdown_table(metrics.by_source, _("utm_source")),
        "channel_table": _breakdown_table(metrics.by_channel, _("Channel")),
    }


INTERVAL_LABELS = {
    "hours": gettext_lazy("Hours"),
    "days": gettext_lazy("Days"),
    "weeks": gettext_lazy("Weeks"),
    "months": gettext_lazy("Months"),
    "quarters": gettext_lazy("Quarters"),
    "years": gettext_lazy("Years"),
}
CHART_TYPE_LABELS = {
    "discreteBarChart": gettext_lazy("Stacked bars"),
    "multiBarChart": gettext_lazy("Grouped bars"),
    "multiBarHorizontalChart": gettext_lazy("Horizontal bars"),
    "pieChart": gettext_lazy("Bars"),
    "linePlusBarChart": gettext_lazy("Lines"),
    "lineChart": gettext_lazy("Lines"),
    "cumulativeLineChart": gettext_lazy("Lines"),
    "lineWithFocusChart": gettext_lazy("Lines"),
    "scatterChart": gettext_lazy("Lines"),
    "stackedAreaChart": gettext_lazy("Stacked areas"),
}


def _admin_charts(request: HttpRequest, period: Period) -> list[dict[str, Any]]:
    """The visible admin-charts definitions with the choices their toolbar offers
    (interval, drawing, series); dashboards/static/dashboards/admin_charts.js
    loads their data from `chart-data` as JSON."""
    if not request.user.has_perm(CHARTS_PERMISSION):
        return []
    from admin_tools_stats.models import CriteriaToStatsM2M, DashboardStats
    from django.db.models import Prefetch

    from .charts import MAX_CHART_POINTS, chart_points, fitting_interval

    charts = (
        DashboardStats.objects.filter(is_visible=True)
        .order_by("graph_title")
        .prefetch_related(
            Prefetch("criteriatostatsm2m_set", queryset=CriteriaToStatsM2M.objects.select_related("criteria"))
        )
    )
    since, until = period.date_from, period.date_to
    result = []
    for chart in charts:
        interval = fitting_interval(chart, since, until)
        splits = [m2m for m2m in chart.criteriatostatsm2m_set.all() if m2m.use_as == "multiple_series"]
        result.append(
            {
                "graph_key": chart.graph_key,
                # Titles are stored data in English; the shipped ones are in the
                # catalogue (SHIPPED_CHART_TITLES).
                "graph_title": _(chart.graph_title),
                "data_url": reverse("chart-data", args=[chart.graph_key]),
                "csv_url": reverse("chart-csv", args=[chart.graph_key]),
                "intervals": [
                    {
                        "value": scale,
                        "label": INTERVAL_LABELS.get(scale, scale),
                        "selected": scale == interval,
                        "disabled": chart_points(scale, since, until) > MAX_CHART_POINTS,
                    }
                    for scale in INTERVAL_LABELS
                    if scale in (chart.allowed_time_scales or [])
                ],
                "chart_types": [
                    {
                        "value": kind,
                        "label": CHART_TYPE_LABELS.get(kind, kind),
                        "selected": kind == chart.default_chart_type,
                    }
                    for kind in chart.allowed_chart_types or []
                ],
                "splits": [
                    {
                        "value": m2m.pk,
                        "label": capfirst(_(m2m.criteria.criteria_name)),
                        "selected": m2m.pk == chart.default_multiseries_criteria_id,
                    }
                    for m2m in sorted(splits, key=lambda m2m: m2m.order or 0)
                ],
            }
        )
    return result


def _workday(request: HttpRequest) -> dict[str, Any]:
    """The follow-up cards of an operator or a manager, with their lists' links."""
    counts = workday_counts(user=request.user)
    today = timezone.localdate()
    ending = {
        "end_date_from": today.isoformat(),
        "end_date_to": (today + timedelta(days=CONTRACT_END_DAYS)).isoformat(),
    }
    return {
        "workday": counts,
        "my_day_url": reverse("admin:crm_models_my_day"),
        "stale_url": reverse("admin:crm_models_lead_changelist") + "?stale=yes",
        "contracts_ending_url": reverse("admin:crm_models_contract_changelist") + "?" + urlencode(ending),
    }


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """Adds what the user's role may see to the admin index (UNFOLD["DASHBOARD_CALLBACK"])."""
    period, form, error = period_from_query(request.GET)
    context.update(
        {
            "period": period,
            "period_form": form,
            "period_error": error,
            "period_presets": Preset.choices,
            "report_url": reverse("admin:dashboards_campaign_metrics"),
            "title": _("Dashboard"),
        }
    )
    if request.user.has_perm("crm_models.view_followup") and has_role(
        request.user, Role.OPERATOR, Role.MANAGER
    ):
        context.update(_workday(request))
    if user_sees_campaign_metrics(request.user):
        context["campaign_dashboard"] = _campaign_dashboard(request, period)
        context["admin_charts"] = _admin_charts(request, period)
    elif request.user.has_perm("crm_models.view_lead"):
        context["status_counts"] = lead_status_counts(
            user=request.user, date_from=period.date_from, date_to=period.date_to
        )
        context["lead_changelist_url"] = reverse("admin:crm_models_lead_changelist")
    return context


# --- the campaign report --------------------------------------------------------

SORTABLE: dict[str, Any] = {
    "campaign": lambda row: row.campaign.lower(),
    "channel": lambda row: str(row.channel_label).lower(),
    "leads": lambda row: row.leads,
    "customers": lambda row: row.customers,
    "conversion_rate": lambda row: row.conversion_rate,
    "revenue": lambda row: row.revenue,
    "spend": lambda row: row.spend,
    "roi": lambda row: row.roi,
    "cpl": lambda row: row.cpl,
    "cac": lambda row: row.cac,
}
COLUMN_TITLES = {
    "campaign": gettext_lazy("Campaign"),
    "channel": gettext_lazy("Channel"),
    "leads": gettext_lazy("Leads"),
    "customers": gettext_lazy("Customers"),
    "conversion_rate": gettext_lazy("Conversion"),
    "revenue": gettext_lazy("Revenue"),
    "spend": gettext_lazy("Ad spend"),
    "roi": gettext_lazy("ROI"),
    "cpl": gettext_lazy("CPL"),
    "cac": gettext_lazy("CAC"),
}


def sort_rows(rows: list[CampaignRow], order: str) -> list[CampaignRow]:
    """Rows sorted by a report column ("-" prefix: descending); undefined
    values always last. Unknown columns keep the campaign-name order."""
    column = order.removeprefix("-")
    key = SORTABLE.get(column)
    if key is None:
        return rows
    defined = [row for row in rows if key(row) is not None]
    undefined = [row for row in rows if key(row) is None]
    return sorted(defined, key=key, reverse=order.startswith("-")) + undefined


def _spend_cell(row: Figures) -> str:
    spend = formatting.money(row.spend)
    if isinstance(row, CampaignRow) and not row.spend_actual and row.spend:
        return format_html('<span title="{}">≈ {}</span>', ESTIMATED_SPEND_TITLE, spend)
    return spend


def _report_cells(row: Figures) -> list[str]:
    return [
        formatting.count(row.leads),
        formatting.count(row.customers),
        formatting.percent(row.conversion_rate),
        formatting.money(row.revenue),
        _spend_cell(row),
        formatting.percent(row.roi),
        formatting.money(row.cpl),
        formatting.money(row.cac),
    ]


def campaign_metrics_report(request: HttpRequest) -> HttpResponse:
    """/admin/dashboards/campaign-metrics/: the metrics per campaign as a sortable
    page, or as a file with ?format=csv|xlsx (DESIGN.md's columns)."""
    if not user_sees_campaign_metrics(request.user):
        raise PermissionDenied
    file_format = request.GET.get("format", "")
    if file_format not in ("", "html", "csv", "xlsx"):
        return HttpResponseBadRequest(UNKNOWN_FORMAT_MESSAGE, content_type="text/plain; charset=utf-8")
    period, form, error = period_from_query(request.GET)
    if error and file_format in ("csv", "xlsx"):
        return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")

    # The files come in the page's order.
    order = request.GET.get("o", "campaign")
    metrics = None
    if not error:
        metrics = cached_campaign_metrics(
            user=request.user, date_from=period.date_from, date_to=period.date_to
        )
        if file_format == "csv":
            return exports.csv_response(metrics, sort_rows(metrics.rows, order))
        if file_format == "xlsx":
            return exports.xlsx_response(metrics, sort_rows(metrics.rows, order))

    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("Campaign performance"),
        "period": period,
        "period_form": form,
        "period_error": error,
        "period_presets": Preset.choices,
    }
    if metrics is None:
        return TemplateResponse(request, "dashboards/campaign_metrics.html", context, status=400)

    changelist = reverse("admin:crm_models_lead_changelist")
    current = order.removeprefix("-")
    base = period.query()
    context.update(
        {
            "headers": [
                {
                    "title": title,
                    "url": f"?{base}&o={'' if order != column else '-'}{column}",
                    "sorted": "desc" if order == f"-{column}" else ("asc" if current == column else ""),
                }
                for column, title in COLUMN_TITLES.items()
            ],
            "rows": [
                {
                    "link": _leads_link(row, changelist),
                    "channel": row.channel_label,
                    "cells": _report_cells(row),
                }
                for row in sort_rows(metrics.rows, order)
            ],
            "totals": _report_cells(metrics.totals),
            "spend_basis": _spend_basis(metrics),
            "source_table": _breakdown_table(metrics.by_source, _("utm_source")),
            "channel_table": _breakdown_table(metrics.by_channel, _("Channel")),
            "csv_url": f"?{base}&o={quote(order)}&format=csv",
            "xlsx_url": f"?{base}&o={quote(order)}&format=xlsx",
        }
    )
    return TemplateResponse(request, "dashboards/campaign_metrics.html", context)
