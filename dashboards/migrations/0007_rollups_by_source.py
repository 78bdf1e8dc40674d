"""The rollups also sum each figure per first-touch utm_source (by day and by
month, over all campaigns), for the dashboard's breakdown by source; the
triggers are installed again from dashboards/rollups.py and every figure is
summed anew.

Earlier migrations no longer install the triggers: they are built from the
current code, which reads columns that exist only from here on.
"""

from django.conf import settings
from django.db import migrations, models


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from dashboards import rollups

    rollups.execute(
        schema_editor.connection,
        rollups.install_statements(settings.TIME_ZONE) + rollups.rebuild_statements(),
    )


def uninstall(apps, schema_editor):
    # The code of the earlier triggers is gone: without triggers, `migrate`
    # forward again installs and rebuilds them.
    if schema_editor.connection.vendor != "postgresql":
        return
    from dashboards import rollups

    rollups.execute(schema_editor.connection, rollups.uninstall_statements())


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0006_lead_chart_definition"),
        ("crm_models", "0019_reminders_queue"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="conversionrollup",
            name="dash_conversionrollup_key",
        ),
        migrations.RemoveConstraint(
            model_name="leadrollup",
            name="dash_leadrollup_key",
        ),
        migrations.RemoveConstraint(
            model_name="revenuerollup",
            name="dash_revenuerollup_key",
        ),
        migrations.AddField(
            model_name="conversionrollup",
            name="utm_source",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.AddField(
            model_name="leadrollup",
            name="utm_source",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.AddField(
            model_name="revenuerollup",
            name="utm_source",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.AlterField(
            model_name="conversionrollup",
            name="grain",
            field=models.CharField(
                choices=[
                    ("day", "campaign and day"),
                    ("month", "campaign and month"),
                    ("total", "day, all campaigns"),
                    ("source_day", "source and day"),
                    ("source_month", "source and month"),
                ],
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="leadrollup",
            name="grain",
            field=models.CharField(
                choices=[
                    ("day", "campaign and day"),
                    ("month", "campaign and month"),
                    ("total", "day, all campaigns"),
                    ("source_day", "source and day"),
                    ("source_month", "source and month"),
                ],
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="revenuerollup",
            name="grain",
            field=models.CharField(
                choices=[
                    ("day", "campaign and day"),
                    ("month", "campaign and month"),
                    ("total", "day, all campaigns"),
                    ("source_day", "source and day"),
                    ("source_month", "source and month"),
                ],
                max_length=12,
            ),
        ),
        migrations.AddConstraint(
            model_name="conversionrollup",
            constraint=models.UniqueConstraint(
                fields=("grain", "day", "campaign_id", "utm_source"), name="dash_conversionrollup_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="leadrollup",
            constraint=models.UniqueConstraint(
                fields=("grain", "day", "campaign_id", "utm_source"), name="dash_leadrollup_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="revenuerollup",
            constraint=models.UniqueConstraint(
                fields=("grain", "day", "campaign_id", "utm_source"), name="dash_revenuerollup_key"
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]
