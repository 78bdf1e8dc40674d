"""The words customers and contracts are searched by, in their own rows
(crm_models/search_text.py): the columns, the words of the rows already there,
and the triggers that keep them."""

from django.db import migrations, models


def install(apps, schema_editor):
    from crm_models import search_text
    from crm_models.open_leads import execute

    execute(schema_editor.connection, search_text.install_statements(schema_editor.connection.vendor))


def uninstall(apps, schema_editor):
    from crm_models import search_text
    from crm_models.open_leads import execute

    execute(schema_editor.connection, search_text.uninstall_statements(schema_editor.connection.vendor))


class Migration(migrations.Migration):
    dependencies = [
        ("crm_models", "0020_open_lead_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="contract",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.AddField(
            model_name="customer",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(install, uninstall),
    ]
