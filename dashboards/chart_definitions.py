"""Who sees django-admin-charts' chart definitions: administrators only.

A definition names any model, date field and aggregate, and its criteria name
filters on any field: it is configuration, not a report. The roles that read
charts (`view_dashboardstats`, granted by dashboards.0001) see the drawn charts
on the dashboard; the definition pages answer only those who may change them
(administrators, dashboards.0005). The package's own admin also crashed for a
view-only user (`KeyError 'default_multiseries_criteria'`: its form expects an
editable field). Its classes are re-registered through the admin site's public
register/unregister, with unfold's look.
"""

from typing import Any

from admin_tools_stats import admin as charts_admin
from admin_tools_stats.models import CachedValue, DashboardStats, DashboardStatsCriteria
from django.contrib import admin
from django.http import HttpRequest
from multiselectfield import MultiSelectField
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

EDIT_DEFINITIONS = "admin_tools_stats.change_dashboardstats"


class EditorsOnlyMixin:
    """Viewing a definition needs the permission to change it."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)  # type: ignore[attr-defined]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EDIT_DEFINITIONS)


class ChartDefinitionAdmin(EditorsOnlyMixin, charts_admin.DashboardStatsAdmin, ModelAdmin):
    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # unfold draws fields with choices as a single select, which cannot
        # submit these lists (chart types, time scales, operations): checkboxes.
        if isinstance(db_field, MultiSelectField):
            return db_field.formfield(widget=UnfoldAdminCheckboxSelectMultipleWidget, **kwargs)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    # The package's "analytics" column links to its nvd3 page, which is not served
    # (dashboards/charts.py): the charts are drawn on the dashboard.
    list_display = tuple(
        name for name in charts_admin.DashboardStatsAdmin.list_display if name != "analytics_link"
    )


class ChartCriteriaAdmin(EditorsOnlyMixin, charts_admin.DashboardStatsCriteriaAdmin, ModelAdmin):
    pass


class CachedChartValueAdmin(charts_admin.CachedValueAdmin, ModelAdmin):
    """Values the package computed for charts with `cache_values`: read and
    cleared by those who edit the definitions, never edited by hand."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(EDIT_DEFINITIONS)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EDIT_DEFINITIONS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(EDIT_DEFINITIONS)


for model, model_admin in (
    (DashboardStats, ChartDefinitionAdmin),
    (DashboardStatsCriteria, ChartCriteriaAdmin),
    (CachedValue, CachedChartValueAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
