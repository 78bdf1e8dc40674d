"""The search-text triggers (crm_models/search_text.py) fire under
`session_replication_role = replica` too, as the rollup triggers do: demo_data's
bulk load runs in that mode, and its customers and contracts need their words."""

from django.db import migrations


def always(apps, schema_editor):
    from crm_models import search_text
    from crm_models.open_leads import execute

    if schema_editor.connection.vendor == "postgresql":
        execute(schema_editor.connection, search_text.POSTGRESQL_ALWAYS)


def origin(apps, schema_editor):
    from crm_models import search_text
    from crm_models.open_leads import execute

    if schema_editor.connection.vendor == "postgresql":
        execute(
            schema_editor.connection,
            [statement.replace("ENABLE ALWAYS", "ENABLE") for statement in search_text.POSTGRESQL_ALWAYS],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("crm_models", "0022_customer_contract_word_indexes"),
    ]

    operations = [migrations.RunPython(always, origin)]
