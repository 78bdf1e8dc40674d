"""The PostgreSQL triggers that keep the rollup tables (dashboards/models.py) exact.

Each figure is defined once below (FIGURES), as a query over the lead, customer
and contract tables that yields (campaign, day, amount) facts. The same text
builds both the full rebuild (run over the whole tables) and the triggers.

Why triggers, and statement-level ones with transition tables: they see every
write whatever issued it, including the import's COPY and QuerySet.update(),
which bypass Django's signals; and they aggregate a 100,000-row COPY in one
pass instead of firing 100,000 times.

Why the difference is exact: a statement changes one table. If T changes, the
figures move by f(rows of T after) - f(rows of T before), where f joins those
rows with the other two tables as they are now (unchanged by the statement).
So a trigger on T evaluates the figure with T replaced by the statement's rows:
its new rows with sign +1 and its old rows with sign -1 (for an UPDATE only the
rows whose relevant columns changed: `new EXCEPT ALL old` and the reverse; the
rest cancel out). Order does not matter: deleting a customer before or after
its contracts subtracts their revenue exactly once, whichever comes first.
The one assumption: no single SQL statement writes two of the three tables
(a `WITH ... INSERT ... INSERT` into customers and contracts at once would be
counted twice, each trigger seeing the other's rows). Nothing does; a history
table alongside, as the conversion service writes, is fine.

Cost for writers: the rows of one campaign and day (and the day's all-campaign
row) are updated in place, so two transactions that add leads for the same day
wait for each other's commit; a long import holds them until it commits. The
upserts run in key order so that this waiting cannot deadlock within one statement.
"""

# Every SQL text here is built from this module's constants only (and a zone
# name checked by ZoneInfo): no outside input reaches it.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from crm_models.open_leads import execute  # the migrations and rebuild_rollups call rollups.execute
from dashboards.models import ALL_CAMPAIGNS, Grain

TABLES = {
    # the columns a figure reads from each base table (an UPDATE that changes
    # none of them changes no figure)
    "lead": ("crm_models_lead", ("id", "campaign_id", "utm_source", "created_at", "converted_at")),
    "customer": ("crm_models_customer", ("id", "lead_id")),
    "contract": ("crm_models_contract", ("customer_id", "signed_at", "amount")),
}
TABLE_ALIASES = {"lead": "l", "customer": "c", "contract": "k"}
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


@dataclass(frozen=True)
class Figure:
    table: str  # the rollup table
    column: str
    # (campaign_id, utm_source, day, amount) facts; {lead}, {customer},
    # {contract} name the relations read and {sign} is +1, or -1 for a row that
    # left a relation.
    facts: str
    totals: bool  # also keep the all-campaign rows (Grain.TOTAL)

    def reads(self, table: str) -> bool:
        return "{" + table + "}" in self.facts


# DESIGN.md, "Campaign metrics": leads by creation day; customers by their
# lead's conversion day; contract amounts by signing day, each contract once
# (customer -> lead is one-to-one), all by the lead's campaign and first-touch
# utm_source.
FIGURES = (
    Figure(
        table="dashboards_leadrollup",
        column="leads",
        facts="SELECT l.campaign_id, l.utm_source, dashboards_local_day(l.created_at), {sign} FROM {lead} l",
        totals=True,
    ),
    Figure(
        table="dashboards_conversionrollup",
        column="customers",
        facts=(
            "SELECT l.campaign_id, l.utm_source, dashboards_local_day(l.converted_at), {sign} "
            "FROM {lead} l JOIN {customer} c ON c.lead_id = l.id WHERE l.converted_at IS NOT NULL"
        ),
        totals=True,
    ),
    Figure(
        table="dashboards_revenuerollup",
        column="revenue",
        facts=(
            "SELECT l.campaign_id, l.utm_source, k.signed_at, {sign} * k.amount "
            "FROM {lead} l JOIN {customer} c ON c.lead_id = l.id JOIN {contract} k ON k.customer_id = c.id"
        ),
        totals=False,
    ),
)


def _add(figure: Figure, facts: str) -> str:
    """Adds the facts to the figure's rows of every grain (creating missing rows).

    The facts are summed per campaign, source and day first, so that a
    100,000-lead import, whose leads share a day, spreads a few thousand sums
    over the grains rather than 100,000 rows."""
    month = "date_trunc('month', d.day::timestamp)::date"
    grains = [
        f"('{Grain.DAY.value}', d.day, d.campaign_id, '')",
        f"('{Grain.MONTH.value}', {month}, d.campaign_id, '')",
        f"('{Grain.SOURCE_DAY.value}', d.day, {ALL_CAMPAIGNS}, d.utm_source)",
        f"('{Grain.SOURCE_MONTH.value}', {month}, {ALL_CAMPAIGNS}, d.utm_source)",
    ]
    if figure.totals:
        grains.append(f"('{Grain.TOTAL.value}', d.day, {ALL_CAMPAIGNS}, '')")
    return (
        f"INSERT INTO {figure.table} AS t (grain, day, campaign_id, utm_source, {figure.column}) "
        f"SELECT g.grain, g.day, g.campaign_id, g.utm_source, SUM(d.amount) "
        "FROM (SELECT f.campaign_id, f.utm_source, f.day, SUM(f.amount) AS amount "
        f"FROM ({facts}) AS f (campaign_id, utm_source, day, amount) GROUP BY f.campaign_id, f.utm_source, f.day) AS d "
        f"CROSS JOIN LATERAL (VALUES {', '.join(grains)}) AS g (grain, day, campaign_id, utm_source) "
        "GROUP BY g.grain, g.day, g.campaign_id, g.utm_source HAVING SUM(d.amount) <> 0 "
        "ORDER BY g.grain, g.day, g.campaign_id, g.utm_source "
        "ON CONFLICT (grain, day, campaign_id, utm_source) "
        f"DO UPDATE SET {figure.column} = t.{figure.column} + EXCLUDED.{figure.column}"
    )


def _base_relations() -> dict[str, str]:
    return {name: table for name, (table, _columns) in TABLES.items()}


def rebuild_statements() -> list[str]:
    """Empty the rollups and sum every figure from the base tables again."""
    statements = ["TRUNCATE " + ", ".join(figure.table for figure in FIGURES)]
    for figure in FIGURES:
        statements.append(_add(figure, figure.facts.format(sign="1", **_base_relations())))
    return statements


def _changed_rows(table: str, operation: str) -> str:
    columns = ", ".join(TABLES[table][1])
    added = f"SELECT {columns}, 1 AS sign FROM new_rows"
    removed = f"SELECT {columns}, -1 AS sign FROM old_rows"
    if operation == "INSERT":
        return added
    if operation == "DELETE":
        return removed
    return (
        f"SELECT *, 1 AS sign FROM (SELECT {columns} FROM new_rows EXCEPT ALL SELECT {columns} FROM old_rows) n "
        f"UNION ALL SELECT *, -1 AS sign FROM (SELECT {columns} FROM old_rows EXCEPT ALL SELECT {columns} FROM new_rows) o"
    )


def _function_name(table: str, operation: str) -> str:
    return f"dashboards_rollup_{table}_{operation.lower()}"


# New leads have customers (and so conversions and revenue) only if a customer
# was inserted before its lead in the same transaction, which the deferred
# foreign keys allow and nothing in the project does. Joining every imported
# lead with the customer table to find none costs a large import a fifth of a
# second, so one index probe on customer.lead_id over the new ids' range rules
# it out first (computed once, for both figures that need it).
NEW_LEADS_HAVE_CUSTOMERS = (
    "SELECT EXISTS (SELECT 1 FROM crm_models_customer WHERE lead_id BETWEEN bounds.low AND bounds.high) "
    "FROM (SELECT min(id) AS low, max(id) AS high FROM new_rows) AS bounds"
)


def _trigger_function(table: str, operation: str) -> str:
    relations = {**_base_relations(), table: "changed"}
    sign = f"{TABLE_ALIASES[table]}.sign"
    guarded = (table, operation) == ("lead", "INSERT")
    statements = [f"new_leads_have_customers := ({NEW_LEADS_HAVE_CUSTOMERS})"] if guarded else []
    for figure in FIGURES:
        if not figure.reads(table):
            continue
        statement = f"WITH changed AS ({_changed_rows(table, operation)}) " + _add(
            figure, figure.facts.format(sign=sign, **relations)
        )
        if guarded and figure.reads("customer"):
            statement = f"IF new_leads_have_customers THEN {statement}; END IF"
        statements.append(statement)
    body = ";\n".join(statements)
    return (
        f"CREATE OR REPLACE FUNCTION {_function_name(table, operation)}() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ DECLARE new_leads_have_customers boolean; "
        f"BEGIN\n{body};\nRETURN NULL; END $$"
    )


def _trigger(table: str, operation: str) -> list[str]:
    transition = {
        "INSERT": "NEW TABLE AS new_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
    }[operation]
    name, base_table = _function_name(table, operation), TABLES[table][0]
    return [
        f"CREATE OR REPLACE TRIGGER {name} AFTER {operation} ON {base_table} "
        f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        # ALWAYS: also under `session_replication_role = replica`, which bulk
        # loads set to skip the foreign-key checks (demo_data does) and which
        # would otherwise skip these triggers too, silently.
        f"ALTER TABLE {base_table} ENABLE ALWAYS TRIGGER {name}",
    ]


def _definition(time_zone: str) -> list[str]:
    zone = ZoneInfo(time_zone).key  # refuses anything that is not a zone name before it reaches SQL
    statements = [
        "CREATE OR REPLACE FUNCTION dashboards_local_day(moment timestamptz) RETURNS date "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (moment AT TIME ZONE '{zone}')::date $$",
    ]
    for table in TABLES:
        for operation in OPERATIONS:
            if any(figure.reads(table) for figure in FIGURES):
                statements += [_trigger_function(table, operation), *_trigger(table, operation)]
    return statements


def signature(time_zone: str) -> str:
    """Names the zone and the exact trigger code: rollups built by other code
    or in another zone must be rebuilt (see `sync`)."""
    digest = hashlib.sha256("\n".join(_definition(time_zone)).encode()).hexdigest()[:16]
    return f"{ZoneInfo(time_zone).key} {digest}"


def install_statements(time_zone: str) -> list[str]:
    """The functions and triggers, local days taken in `time_zone`."""
    return [
        *_definition(time_zone),
        "CREATE OR REPLACE FUNCTION dashboards_rollup_signature() RETURNS text "
        f"LANGUAGE sql IMMUTABLE AS $$ SELECT '{signature(time_zone)}'::text $$",
    ]


def uninstall_statements() -> list[str]:
    statements = []
    for table, (base_table, _columns) in TABLES.items():
        for operation in OPERATIONS:
            name = _function_name(table, operation)
            statements += [
                f"DROP TRIGGER IF EXISTS {name} ON {base_table}",
                f"DROP FUNCTION IF EXISTS {name}()",
            ]
    statements += [
        "DROP FUNCTION IF EXISTS dashboards_local_day(timestamptz)",
        "DROP FUNCTION IF EXISTS dashboards_rollup_signature()",
    ]
    return statements


def installed_signature(connection: Any) -> str | None:
    """The signature of the installed triggers (None: not installed; "": an
    early installation that did not record one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regprocedure('dashboards_local_day(timestamptz)') IS NOT NULL, "
            "to_regprocedure('dashboards_rollup_signature()') IS NOT NULL"
        )
        installed, signed = cursor.fetchone()
        if not installed:
            return None
        if not signed:
            return ""
        cursor.execute("SELECT dashboards_rollup_signature()")
        return str(cursor.fetchone()[0])


def sync(connection: Any, time_zone: str) -> bool:
    """After `migrate`: reinstall the triggers and rebuild the rollups when they
    were built in another zone than settings.TIME_ZONE (the selector only uses
    them when the zones agree) or by other trigger code than this module's.
    Does nothing before migration 0003 installed them. Returns whether it rebuilt."""
    installed = installed_signature(connection)
    if installed is None or installed == signature(time_zone):
        return False
    # the first installations named only their zone, in a function of their own
    execute(connection, ["DROP FUNCTION IF EXISTS dashboards_rollup_time_zone()"])
    execute(connection, install_statements(time_zone) + rebuild_statements())
    return True
