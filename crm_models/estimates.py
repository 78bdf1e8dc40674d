"""PostgreSQL's row estimates: how many rows a table or a query holds,
without reading them. None on other databases."""

import json
from dataclasses import dataclass

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
    estimate = planner_estimate(queryset)
    return None if estimate is None else estimate.rows


@dataclass(frozen=True)
class PlanEstimate:
    rows: int
    # The rows on the smaller side of the plan's largest join: how many index
    # probes reading the rows one by one (a capped count) would make, one per
    # row of that side. 0 without a join.
    join_probes: int


def planner_estimate(queryset: QuerySet) -> PlanEstimate | None:
    """The planner's estimate of the rows a filtered queryset returns and of
    the joins it goes through (one EXPLAIN, nothing read); None on other
    databases."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. pk__in=[]: nothing can match
        return PlanEstimate(rows=0, join_probes=0)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return PlanEstimate(rows=int(plan[0]["Plan"]["Plan Rows"]), join_probes=join_probes(plan[0]["Plan"]))


_JOINS = {"Nested Loop", "Hash Join", "Merge Join"}


def join_probes(node: dict) -> int:
    """The largest, over the plan's joins, of the rows on a join's smaller side.

    A nested loop's inner side shows its rows per loop (one per probe of a
    unique key), so its smaller side is the outer one, whose rows are the
    loops: a manager's contracts found per customer, 7,007 customers of one
    contract each, make 7,007 probes, not 1."""
    children = node.get("Plans", [])
    probes = max((join_probes(child) for child in children), default=0)
    if node.get("Node Type") == "Nested Loop" and len(children) >= 2:
        probes = max(probes, int(children[0]["Plan Rows"]))
    elif node.get("Node Type") in _JOINS and len(children) >= 2:
        probes = max(probes, int(min(child["Plan Rows"] for child in children[:2])))
    return probes
