"""Word indexes on the customers' and contracts' own search text (migration
0021), as migration 0018's on the leads. PostgreSQL only, built CONCURRENTLY."""

from django.db import migrations

FOLDED = "translate(lower({}), 'ё@._-', 'е    ')"
WORDS = "crm_word_prefixes(" + FOLDED + ")"
INDEXES = {
    "customer_words_idx": f"crm_models_customer USING gin (({WORDS.format('search_text')}))",
    "contract_text_words_idx": f"crm_models_contract USING gin (({WORDS.format('search_text')}))",
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
    create(schema_editor, INDEXES)
    schema_editor.execute("ANALYZE crm_models_customer")
    schema_editor.execute("ANALYZE crm_models_contract")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    drop(schema_editor, INDEXES)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm_models", "0021_search_text"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
