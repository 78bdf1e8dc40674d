"""The chart views read admin-charts' definitions through a proxy that counts
leads from the rollup tables (dashboards/chart_series.py): no table, no permission."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("admin_tools_stats", "0024_alter_cachedvalue_operation_and_more"),
        ("dashboards", "0005_chart_definitions_for_administrators"),
    ]

    operations = [
        migrations.CreateModel(
            name="LeadChartDefinition",
            fields=[],
            options={
                "proxy": True,
                "default_permissions": (),
                "indexes": [],
                "constraints": [],
            },
            bases=("admin_tools_stats.dashboardstats",),
        ),
    ]
