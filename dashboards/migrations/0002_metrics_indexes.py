"""Covering indexes for the campaign figures (PostgreSQL only).

The metric queries group leads, conversions and contracts of a date range by
campaign. These indexes hold every column those queries read, so PostgreSQL
answers them from the index alone (index-only scans) over just the period's
range, instead of reading the whole table. SQLite (the local demo) skips them.
"""

from django.db import migrations

INDEXES = {
    "dash_lead_created_campaign": (
        "CREATE INDEX IF NOT EXISTS dash_lead_created_campaign "
        "ON crm_models_lead (created_at) INCLUDE (campaign_id)"
    ),
    "dash_lead_converted_campaign": (
        "CREATE INDEX IF NOT EXISTS dash_lead_converted_campaign "
        "ON crm_models_lead (converted_at) INCLUDE (campaign_id, id) WHERE converted_at IS NOT NULL"
    ),
    "dash_contract_signed_amount": (
        "CREATE INDEX IF NOT EXISTS dash_contract_signed_amount "
        "ON crm_models_contract (signed_at) INCLUDE (customer_id, amount)"
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in INDEXES.values():
        schema_editor.execute(statement)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0001_admin_charts"),
        ("crm_models", "0002_roles"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
