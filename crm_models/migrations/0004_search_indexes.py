"""Indexes for the admin's search boxes (crm_models/selectors/search.py).

Search matches names and contract numbers by case-insensitive prefix, which
Django renders on PostgreSQL as `UPPER(column::text) LIKE UPPER('term%')`, and
e-mails by prefix (`email::text LIKE 'term%'`). A B-tree answers such a LIKE only
with a pattern operator class on exactly that expression; the unique index on
e-mail is partial (non-empty e-mails) and cannot serve it either.

PostgreSQL only: on SQLite the search still works, without these indexes. Built
CONCURRENTLY so that adding them to a large live table does not block writes.
"""

from django.db import migrations, models

SEARCH_INDEXES = {
    "lead_email_prefix_idx": "crm_models_lead (email varchar_pattern_ops)",
    "lead_first_name_prefix_idx": "crm_models_lead ((UPPER(first_name::text)) text_pattern_ops)",
    "lead_last_name_prefix_idx": "crm_models_lead ((UPPER(last_name::text)) text_pattern_ops)",
    "lead_company_prefix_idx": "crm_models_lead ((UPPER(company::text)) text_pattern_ops)",
    "contract_name_prefix_idx": "crm_models_contract ((UPPER(name::text)) text_pattern_ops)",
}


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in SEARCH_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")
    # The planner knows how selective a prefix is only from statistics on the
    # indexed expressions, which ANALYZE gathers; without them it guesses and
    # may scan the whole table for a rare name.
    for table in sorted({definition.split()[0] for definition in SEARCH_INDEXES.values()}):
        schema_editor.execute(f"ANALYZE {table}")


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in SEARCH_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm_models", "0003_importrecord"),
    ]

    operations = [
        # The contract list filtered by service, newest first (any database).
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["service", "-signed_at", "-id"], name="contract_service_signed_idx"),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
    ]
