"""The PostgreSQL triggers that keep `OpenLeadCount` exact: how many open
leads (neither converted nor lost) each user owns.

The "least busy" assignment rules compare their members' open leads for every
arriving lead, while the rules are locked; counting them in the lead table
costs as much as the members own (tens of thousands of rows at a million
leads), this table one row per member.

Why triggers, and statement-level ones with transition tables (as the
dashboards' rollups, dashboards/rollups.py): they see every write whatever
issued it, the import's COPY and QuerySet.update() included, and sum a
100,000-row statement in one pass. Each statement adds, per owner, +1 for each
open lead among its new rows and -1 for each among its old rows; owners whose
sum is 0 (an UPDATE that changed neither owner nor status) are not touched,
so only writes that move an owner's count wait for each other's commit.
"""

# Every SQL text here is built from this module's constants and the closed
# statuses' values only: no outside input reaches it.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

from crm_models.models import LeadStatus

# Statuses that no longer count towards an owner's load. Changing them needs a
# migration that runs `install_statements()` and `rebuild_statements()` again.
CLOSED_STATUSES = (LeadStatus.CONVERTED, LeadStatus.LOST)

TABLE = "crm_models_openleadcount"
LEAD_TABLE = "crm_models_lead"
OPERATIONS = {
    "INSERT": ("NEW TABLE AS new_rows", ("new_rows",)),
    "UPDATE": ("OLD TABLE AS old_rows NEW TABLE AS new_rows", ("new_rows", "old_rows")),
    "DELETE": ("OLD TABLE AS old_rows", ("old_rows",)),
}


def _open() -> str:
    """The condition of an open lead with an owner, on any relation of lead rows."""
    closed = ", ".join(f"'{status.value}'" for status in CLOSED_STATUSES)
    return f"owner_id IS NOT NULL AND status NOT IN ({closed})"


def _function_name(operation: str) -> str:
    return f"crm_open_leads_{operation.lower()}"


def _add(relations: tuple[str, ...]) -> str:
    parts = [
        f"SELECT owner_id, {1 if relation == 'new_rows' else -1} AS delta FROM {relation} WHERE {_open()}"
        for relation in relations
    ]
    # In key order: two statements that move the same owners wait for each
    # other rather than deadlock.
    return (
        f"INSERT INTO {TABLE} AS t (owner_id, open_leads) "
        f"SELECT owner_id, SUM(delta) FROM ({' UNION ALL '.join(parts)}) AS d "
        "GROUP BY owner_id HAVING SUM(delta) <> 0 ORDER BY owner_id "
        "ON CONFLICT (owner_id) DO UPDATE SET open_leads = t.open_leads + EXCLUDED.open_leads"
    )


def install_statements() -> list[str]:
    statements = []
    for operation, (transition, relations) in OPERATIONS.items():
        name = _function_name(operation)
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_add(relations)}; RETURN NULL; END $$",
            f"CREATE OR REPLACE TRIGGER {name} AFTER {operation} ON {LEAD_TABLE} "
            f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
            # ALWAYS: also under `session_replication_role = replica`, which
            # demo_data's bulk load sets to skip the foreign-key checks.
            f"ALTER TABLE {LEAD_TABLE} ENABLE ALWAYS TRIGGER {name}",
        ]
    return statements


def rebuild_statements() -> list[str]:
    """Count every owner's open leads again from the lead table."""
    return [
        f"TRUNCATE {TABLE}",
        f"INSERT INTO {TABLE} (owner_id, open_leads) SELECT owner_id, COUNT(*) FROM {LEAD_TABLE} "
        f"WHERE {_open()} GROUP BY owner_id",
    ]


def uninstall_statements() -> list[str]:
    statements = []
    for operation in OPERATIONS:
        name = _function_name(operation)
        statements += [f"DROP TRIGGER IF EXISTS {name} ON {LEAD_TABLE}", f"DROP FUNCTION IF EXISTS {name}()"]
    return statements


def execute(connection: Any, statements: list[str]) -> None:
    """Run trigger statements in order (this module's and dashboards/rollups.py's)."""
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
