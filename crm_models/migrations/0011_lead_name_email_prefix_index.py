"""The name search index also carries the e-mail's first three characters
(issue 8).

A search of a first and a last name ("Elena Morozova", selectors/search.py)
also matches leads whose e-mail starts with the first word and whose last name
starts with the second. Many e-mails start with the first name (all of the
demo's), so both halves of that pair are common: at a million leads PostgreSQL
intersected 62,000 e-mail index entries with 36,000 last-name ones (10 ms).
The search now matches such an e-mail through its first characters
(search._fields_q), which this index serves together with the last name in one
probe (0.1-0.3 ms). It replaces 0010's (last name, first name) index, whose
searches its first two columns serve as before; the keys repeat (a name and
three letters), so B-tree deduplication keeps it as small (7 MB at a million
leads), and a lead write updates as many indexes as before (a 100,000-row
INSERT took no longer with it).

PostgreSQL only, built CONCURRENTLY like 0004's and 0010's.
"""

from importlib import import_module

from django.db import migrations

INDEX = "lead_name_email_prefix_idx"
DEFINITION = (
    "crm_models_lead ((UPPER(last_name::text)) text_pattern_ops, (UPPER(first_name::text)) text_pattern_ops,"
    " (LEFT(email::text, 3)) text_pattern_ops)"
)
PREVIOUS_INDEX = "lead_name_prefix_idx"
PREVIOUS_DEFINITION = (
    "crm_models_lead ((UPPER(last_name::text)) text_pattern_ops, (UPPER(first_name::text)) text_pattern_ops)"
)


# Create the new index, drop the old one, ANALYZE (PostgreSQL only).
replace = import_module("crm_models.migrations.0010_lead_name_prefix_index").replace


def forwards(apps, schema_editor):
    replace(schema_editor, drop=PREVIOUS_INDEX, create=INDEX, definition=DEFINITION)


def backwards(apps, schema_editor):
    replace(schema_editor, drop=INDEX, create=PREVIOUS_INDEX, definition=PREVIOUS_DEFINITION)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm_models", "0010_lead_name_prefix_index"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
