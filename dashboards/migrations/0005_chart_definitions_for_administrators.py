"""Administrators edit the chart definitions of django-admin-charts; nobody else
sees them (dashboards/chart_definitions.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

DEFINITION_PERMISSIONS = [
    f"{action}_{model}"
    for model in ("dashboardstats", "dashboardstatscriteria", "criteriatostatsm2m")
    for action in ("add", "change", "delete", "view")
] + ["view_cachedvalue", "delete_cachedvalue"]


def _permissions(apps):
    app_config = apps.get_app_config("admin_tools_stats")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(
        content_type__app_label="admin_tools_stats", codename__in=DEFINITION_PERMISSIONS
    )


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Administrator"):
        group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    # view_dashboardstats stays: dashboards.0001 granted it for reading charts.
    keep = {"view_dashboardstats"}
    for group in Group.objects.filter(name="Administrator"):
        group.permissions.remove(*[p for p in _permissions(apps) if p.codename not in keep])


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0004_drop_metrics_indexes"),
        ("admin_tools_stats", "0024_alter_cachedvalue_operation_and_more"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
