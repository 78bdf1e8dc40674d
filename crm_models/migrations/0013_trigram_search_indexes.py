"""Trigram indexes for the search boxes (selectors/search.py).

Search matches words anywhere in a name ("van Dijk", "Смирнова Анна"):
`LIKE '% word%'`, which only a trigram index (PostgreSQL's pg_trgm extension,
trusted: a database owner may create it) serves; and a phone by the end of its
number, the beginning of the number read backwards (a B-tree). The lead's and the contract's words are indexed
as the expression search.SearchText writes, folded the same way. The prefix
indexes of migrations 0004 and 0011, which the search no longer uses, go.

PostgreSQL only: on SQLite the search works without indexes. Built
CONCURRENTLY so that a live table keeps taking writes.
"""

from django.db import migrations

FOLDED = "translate(lower({}), 'ё@._-', 'е    ')"
SEARCH_INDEXES = {
    "lead_search_words_idx": (
        "crm_models_lead USING gin ((' ' || "
        + FOLDED.format("first_name || ' ' || last_name || ' ' || company || ' ' || email")
        + ") gin_trgm_ops)"
    ),
    # A phone's last digits are the first of the number read backwards.
    "lead_phone_end_idx": "crm_models_lead ((reverse(phone)) text_pattern_ops)",
    "contract_search_words_idx": (
        "crm_models_contract USING gin ((' ' || " + FOLDED.format("name") + ") gin_trgm_ops)"
    ),
}
PREFIX_INDEXES = {
    "lead_first_name_prefix_idx": "crm_models_lead ((UPPER(first_name::text)) text_pattern_ops)",
    "lead_company_prefix_idx": "crm_models_lead ((UPPER(company::text)) text_pattern_ops)",
    "contract_name_prefix_idx": "crm_models_contract ((UPPER(name::text)) text_pattern_ops)",
    "lead_name_email_prefix_idx": (
        "crm_models_lead ((UPPER(last_name::text)) text_pattern_ops, (UPPER(first_name::text)) text_pattern_ops,"
        " (LEFT(email::text, 3)) text_pattern_ops)"
    ),
}


def create(schema_editor, indexes):
    for name, definition in indexes.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def drop(schema_editor, indexes):
    for name in indexes:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    create(schema_editor, SEARCH_INDEXES)
    drop(schema_editor, PREFIX_INDEXES)
    # Statistics of the indexed expressions: the planner's estimate of a search.
    schema_editor.execute("ANALYZE crm_models_lead")
    schema_editor.execute("ANALYZE crm_models_contract")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    create(schema_editor, PREFIX_INDEXES)
    drop(schema_editor, SEARCH_INDEXES)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm_models", "0012_sort_indexes"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
