"""django-admin-charts: the chart definitions shipped with the project, and the
permission that lets the roles who see campaign metrics read chart data.

Frozen here on purpose (a migration must not change when code changes later).
Lead charts limit rows to the viewer's own leads (`user_field_name`) for anyone
without full chart access; the chart URLs also refuse such users outright
(dashboards/charts.py), so an operator never gets chart data on others' leads.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CHART_ROLES = ["Administrator", "Marketer", "Manager"]
LEAD_SCALES = ["days", "weeks", "months"]
LEAD_CHART_TYPES = ["discreteBarChart", "multiBarChart", "lineChart", "stackedAreaChart"]

CHARTS = [
    {
        "graph_key": "leads_by_channel",
        "graph_title": "New leads by channel",
        "model_app_name": "crm_models",
        "model_name": "Lead",
        "date_field_name": "created_at",
        "user_field_name": "owner",
        "type_operation_field_name": "Count",
        "default_chart_type": "multiBarChart",
        "allowed_chart_types": LEAD_CHART_TYPES,
        "default_time_period": 90,
        "default_time_scale": "weeks",
        "allowed_time_scales": LEAD_SCALES,
        "y_axis_format": ",d",
        "series": ("channel", "campaign__channel", None),
    },
    {
        "graph_key": "leads_by_campaign",
        "graph_title": "New leads by campaign (top 10)",
        "model_app_name": "crm_models",
        "model_name": "Lead",
        "date_field_name": "created_at",
        "user_field_name": "owner",
        "type_operation_field_name": "Count",
        "default_chart_type": "lineChart",
        "allowed_chart_types": LEAD_CHART_TYPES,
        "default_time_period": 90,
        "default_time_scale": "weeks",
        "allowed_time_scales": LEAD_SCALES,
        "y_axis_format": ",d",
        "series": ("campaign", "campaign__name", 10),
    },
    {
        "graph_key": "contract_amounts_by_month",
        "graph_title": "Contract amounts by month",
        "model_app_name": "crm_models",
        "model_name": "Contract",
        "date_field_name": "signed_at",
        "user_field_name": "customer__account_manager",
        "operation_field_name": "amount",
        "type_operation_field_name": "Sum",
        "default_chart_type": "discreteBarChart",
        "allowed_chart_types": ["discreteBarChart", "lineChart"],
        "default_time_period": 365,
        "default_time_scale": "months",
        "allowed_time_scales": ["months", "quarters", "years"],
        "y_axis_format": ".3s",
        "series": None,
    },
]


def add_charts(apps, schema_editor):
    DashboardStats = apps.get_model("admin_tools_stats", "DashboardStats")
    Criteria = apps.get_model("admin_tools_stats", "DashboardStatsCriteria")
    CriteriaToStats = apps.get_model("admin_tools_stats", "CriteriaToStatsM2M")
    for definition in CHARTS:
        definition = dict(definition)
        series = definition.pop("series")
        stats, _created = DashboardStats.objects.update_or_create(
            graph_key=definition.pop("graph_key"), defaults=definition
        )
        if series is None:
            continue
        name, field, count_limit = series
        criteria, _created = Criteria.objects.get_or_create(
            criteria_name=name, defaults={"dynamic_criteria_field_name": field}
        )
        link, _created = CriteriaToStats.objects.get_or_create(
            stats=stats,
            criteria=criteria,
            use_as="multiple_series",
            defaults={"count_limit": count_limit},
        )
        stats.default_multiseries_criteria = link
        stats.save(update_fields=["default_multiseries_criteria"])


def remove_charts(apps, schema_editor):
    apps.get_model("admin_tools_stats", "DashboardStats").objects.filter(
        graph_key__in=[chart["graph_key"] for chart in CHARTS]
    ).delete()


def grant_chart_permission(apps, schema_editor):
    app_config = apps.get_app_config("admin_tools_stats")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(content_type__app_label="admin_tools_stats", codename="view_dashboardstats")
    for group in Group.objects.filter(name__in=CHART_ROLES):
        group.permissions.add(view)


def revoke_chart_permission(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.filter(
        content_type__app_label="admin_tools_stats", codename="view_dashboardstats"
    ).first()
    if view is not None:
        for group in Group.objects.filter(name__in=CHART_ROLES):
            group.permissions.remove(view)


class Migration(migrations.Migration):
    dependencies = [
        ("admin_tools_stats", "0024_alter_cachedvalue_operation_and_more"),
        ("crm_models", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(add_charts, remove_charts),
        migrations.RunPython(grant_chart_permission, revoke_chart_permission),
    ]
