"""PostgreSQL's row estimates: how many rows a table or a query holds,
without reading them. None on other databases."""

import json

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet


def table_row_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's own row estimate of the whole table (kept by ANALYZE and
    autovacuum), or None where there is none."""
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


def planner_row_estimate(queryset: QuerySet) -> int | None:
    """The planner's estimate of the rows a filtered queryset returns."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. pk__in=[]: nothing can match
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
