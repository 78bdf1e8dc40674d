"""Word indexes for the search boxes (selectors/search.py).

A search asks that each typed word start a word of the lead's names, company
and e-mail (or of the contract's name). The trigram indexes of migration 0013
answered that through the word's trigrams, which a common name shares with
most of the table: two common words made PostgreSQL read and recheck every
lead holding their trigrams. These GIN indexes hold, for each row, the
beginnings of its words (crm_word_prefixes: "иван" holds "и", "ив", "ива",
"иван"), so that a typed word is one key of the index, and two common words
are the rows found under both keys. They replace the trigram indexes.

PostgreSQL only: on SQLite the search works without indexes. Built
CONCURRENTLY so that a live table keeps taking writes.
"""

from django.db import migrations

LEAD_FIELDS = "first_name || ' ' || last_name || ' ' || company || ' ' || email"
FOLDED = "translate(lower({}), 'ё@._-', 'е    ')"
# search.words_sql, as it was written when these indexes were made.
WORDS = "crm_word_prefixes(" + FOLDED + ")"
# The beginnings of the words of a text (split at its spaces) as a tsvector,
# each a lexeme as it is (no parser, no stemming). Its cost tells the planner
# that reading it for every row of a walk costs more than an index probe.
PREFIXES_FUNCTION = """
CREATE OR REPLACE FUNCTION crm_word_prefixes(text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
DECLARE
    word text;
    prefixes text[] := '{}';
    count integer := 0;
BEGIN
    FOREACH word IN ARRAY string_to_array($1, ' ') LOOP
        FOR n IN 1..length(word) LOOP
            count := count + 1;
            prefixes[count] := left(word, n);
        END LOOP;
    END LOOP;
    RETURN array_to_tsvector(prefixes);
END
$$
"""
WORD_INDEXES = {
    "lead_words_idx": f"crm_models_lead USING gin (({WORDS.format(LEAD_FIELDS)}))",
    "contract_words_idx": f"crm_models_contract USING gin (({WORDS.format('name')}))",
}
TRIGRAM_INDEXES = {
    "lead_search_words_idx": (
        "crm_models_lead USING gin ((' ' || " + FOLDED.format(LEAD_FIELDS) + ") gin_trgm_ops)"
    ),
    "contract_search_words_idx": (
        "crm_models_contract USING gin ((' ' || " + FOLDED.format("name") + ") gin_trgm_ops)"
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
    schema_editor.execute(PREFIXES_FUNCTION)
    create(schema_editor, WORD_INDEXES)
    drop(schema_editor, TRIGRAM_INDEXES)
    # Statistics of the indexed words: the planner's estimate of a search.
    schema_editor.execute("ANALYZE crm_models_lead")
    schema_editor.execute("ANALYZE crm_models_contract")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    create(schema_editor, TRIGRAM_INDEXES)
    drop(schema_editor, WORD_INDEXES)
    schema_editor.execute("DROP FUNCTION IF EXISTS crm_word_prefixes(text)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm_models", "0017_followups_next_step_index"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
