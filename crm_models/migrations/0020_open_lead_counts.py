"""Each user's open leads, kept by PostgreSQL triggers (crm_models/open_leads.py)
and counted here once from the existing leads; on SQLite the table stays empty."""

from django.db import migrations, models


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from crm_models import open_leads

    open_leads.execute(
        schema_editor.connection, open_leads.install_statements() + open_leads.rebuild_statements()
    )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from crm_models import open_leads

    open_leads.execute(schema_editor.connection, open_leads.uninstall_statements())


class Migration(migrations.Migration):
    dependencies = [
        ("crm_models", "0019_reminders_queue"),
    ]

    operations = [
        migrations.CreateModel(
            name="OpenLeadCount",
            fields=[
                ("owner_id", models.IntegerField(primary_key=True, serialize=False)),
                ("open_leads", models.IntegerField(default=0)),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
