"""PostgreSQL's estimate of a table's rows, without reading them."""

from django.db import connections
from django.db.models import QuerySet


def table_row_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's own row estimate of the whole table (kept by ANALYZE and
    autovacuum; stale between them), or None where there is none."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] >= 0 else None
