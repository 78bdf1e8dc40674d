"""The last-name search index also carries the first name (issue 8).

A search of a first and a last name ("Иван Смирн") is an AND of two prefixes
(selectors/search.py, _words_q). With one index per column PostgreSQL
intersects the two index matches, each as large as the name is common (31,000
leads named Иван and 36,000 Смирнов/Смирнова at a million leads: 9 ms); with
both columns in one index it reads the 2,258 entries of the pair (0.5 ms). The
index replaces 0004's last-name index, whose searches (a last-name prefix alone)
it serves with its first column, so a lead write still updates the same number
of indexes.

PostgreSQL only, built CONCURRENTLY like 0004's.
"""

from django.db import migrations

NAME_INDEX = "lead_name_prefix_idx"
NAME_INDEX_DEFINITION = (
    "crm_models_lead ((UPPER(last_name::text)) text_pattern_ops, (UPPER(first_name::text)) text_pattern_ops)"
)
LAST_NAME_INDEX = "lead_last_name_prefix_idx"
LAST_NAME_INDEX_DEFINITION = "crm_models_lead ((UPPER(last_name::text)) text_pattern_ops)"


def replace(schema_editor, drop: str, create: str, definition: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {create} ON {definition}")
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {drop}")
    # The planner's statistics on the indexed expressions (see 0004).
    schema_editor.execute("ANALYZE crm_models_lead")


def forwards(apps, schema_editor):
    replace(schema_editor, drop=LAST_NAME_INDEX, create=NAME_INDEX, definition=NAME_INDEX_DEFINITION)


def backwards(apps, schema_editor):
    replace(schema_editor, drop=NAME_INDEX, create=LAST_NAME_INDEX, definition=LAST_NAME_INDEX_DEFINITION)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm_models", "0009_history_user_without_db_constraint"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
