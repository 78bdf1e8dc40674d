"""The rollup tables of the campaign figures.

On SQLite the tables stay empty and unused: the selector reads the base tables.
On PostgreSQL the triggers that keep them exact (dashboards/rollups.py) are
installed, and the tables filled, by migration 0007: the triggers are built
from the current code rather than frozen here, so that they always match the
selector that reads them, and that code reads columns added after this
migration. `migrate` re-installs them when TIME_ZONE changes (dashboards/apps.py).
"""

from django.db import migrations, models


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from dashboards import rollups

    rollups.execute(schema_editor.connection, rollups.uninstall_statements())


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0002_metrics_indexes"),
        ("crm_models", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConversionRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "grain",
                    models.CharField(
                        choices=[
                            ("day", "campaign and day"),
                            ("month", "campaign and month"),
                            ("total", "day, all campaigns"),
                        ],
                        max_length=5,
                    ),
                ),
                ("day", models.DateField()),
                ("campaign_id", models.IntegerField()),
                ("customers", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("grain", "day", "campaign_id"), name="dash_conversionrollup_key"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="LeadRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "grain",
                    models.CharField(
                        choices=[
                            ("day", "campaign and day"),
                            ("month", "campaign and month"),
                            ("total", "day, all campaigns"),
                        ],
                        max_length=5,
                    ),
                ),
                ("day", models.DateField()),
                ("campaign_id", models.IntegerField()),
                ("leads", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("grain", "day", "campaign_id"), name="dash_leadrollup_key"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="RevenueRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "grain",
                    models.CharField(
                        choices=[
                            ("day", "campaign and day"),
                            ("month", "campaign and month"),
                            ("total", "day, all campaigns"),
                        ],
                        max_length=5,
                    ),
                ),
                ("day", models.DateField()),
                ("campaign_id", models.IntegerField()),
                ("revenue", models.DecimalField(decimal_places=2, default=0, max_digits=16)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("grain", "day", "campaign_id"), name="dash_revenuerollup_key"
                    )
                ],
            },
        ),
        migrations.RunPython(migrations.RunPython.noop, uninstall),
    ]
