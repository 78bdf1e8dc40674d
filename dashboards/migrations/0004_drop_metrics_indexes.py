"""Drop the covering indexes of 0002 (PostgreSQL only).

Since 0003 the campaign figures on PostgreSQL come from the rollup tables, so
these three indexes no longer serve a page; each one still cost every write to
the lead and contract tables (an import of 100,000 leads updated two of them
per row, a conversion all three). The base-table path they served is now only
taken on SQLite and when a time zone other than the rollups' is active, where
it reads the period's rows through the tables' own date indexes.
"""

import importlib

from django.db import migrations

# The statements 0002 ran, to recreate the indexes when this is reversed.
INDEXES = importlib.import_module("dashboards.migrations.0002_metrics_indexes").INDEXES


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in INDEXES.values():
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0003_rollups")]

    operations = [migrations.RunPython(drop_indexes, create_indexes)]
