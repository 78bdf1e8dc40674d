"""The words a customer and a contract are found by, kept in their own rows.

A customer is searched by its lead's names, company and e-mail; a contract by
its name and its customer's. Searched through the lead table, a common surname
meant reading every lead that bears it (tens of thousands at a million leads)
to find the few customers among them. So each customer row holds its lead's
words (`Customer.search_text`) and each contract row its name and its
customer's words (`Contract.search_text`), and the word indexes of migration
0022 are built on those columns, as on the lead's own.

Database triggers keep the copies, whatever writes the rows (the admin, an
import, a bulk update), as PostgreSQL's documentation keeps a text search
column: a new or changed customer or contract reads its words on the way in,
and a lead whose searched fields change passes them on to its customer and
that customer's contracts. Django writes the columns too (the model's value,
possibly stale), and the triggers then write over it.
"""

# Every SQL text here is built from this module's constants: no outside input
# reaches it.
# ruff: noqa: S608

from __future__ import annotations

from crm_models.selectors.search import LEAD_WORD_FIELDS

LEAD = "crm_models_lead"
CUSTOMER = "crm_models_customer"
CONTRACT = "crm_models_contract"


def lead_text(row: str) -> str:
    """The SQL of a lead row's searched fields as one text (SearchText's order)."""
    return " || ' ' || ".join(f"{row}.{field}" for field in LEAD_WORD_FIELDS)


def _customer_text(lead_id: str) -> str:
    return f"COALESCE((SELECT {lead_text('l')} FROM {LEAD} l WHERE l.id = {lead_id}), '')"


def _contract_text(name: str, customer_id: str) -> str:
    return (
        f"{name} || ' ' || COALESCE((SELECT c.search_text FROM {CUSTOMER} c WHERE c.id = {customer_id}), '')"
    )


def _lead_changed(differs: str) -> str:
    """Any searched field of the lead changed; `differs` is the database's
    null-safe "not equal" (SQLite's IS NOT: IS DISTINCT FROM only from 3.39)."""
    return " OR ".join(f"OLD.{field} {differs} NEW.{field}" for field in LEAD_WORD_FIELDS)


_LEAD_COLUMNS = ", ".join(LEAD_WORD_FIELDS)

POSTGRESQL_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION crm_customer_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_text := {_customer_text("NEW.lead_id")};
        RETURN NEW;
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION crm_contract_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_text := {_contract_text("NEW.name", "NEW.customer_id")};
        RETURN NEW;
    END $$
    """,
    # Rewriting the column runs the BEFORE trigger of the row rewritten.
    f"""
    CREATE OR REPLACE FUNCTION crm_customer_passes_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE {CONTRACT} SET search_text = '' WHERE customer_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION crm_lead_passes_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE {CUSTOMER} SET search_text = '' WHERE lead_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE TRIGGER crm_customer_search_text BEFORE INSERT OR UPDATE ON {CUSTOMER}
    FOR EACH ROW EXECUTE FUNCTION crm_customer_search_text()
    """,
    f"""
    CREATE TRIGGER crm_contract_search_text BEFORE INSERT OR UPDATE ON {CONTRACT}
    FOR EACH ROW EXECUTE FUNCTION crm_contract_search_text()
    """,
    f"""
    CREATE TRIGGER crm_customer_passes_search_text AFTER UPDATE ON {CUSTOMER}
    FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text)
    EXECUTE FUNCTION crm_customer_passes_search_text()
    """,
    f"""
    CREATE TRIGGER crm_lead_passes_search_text AFTER UPDATE OF {_LEAD_COLUMNS} ON {LEAD}
    FOR EACH ROW WHEN ({_lead_changed("IS DISTINCT FROM")})
    EXECUTE FUNCTION crm_lead_passes_search_text()
    """,
]

# ALWAYS: also under `session_replication_role = replica`, which demo_data's
# bulk load sets to skip the foreign-key checks (its rows need their words too).
POSTGRESQL_ALWAYS = [
    f"ALTER TABLE {CUSTOMER} ENABLE ALWAYS TRIGGER crm_customer_search_text",
    f"ALTER TABLE {CONTRACT} ENABLE ALWAYS TRIGGER crm_contract_search_text",
    f"ALTER TABLE {CUSTOMER} ENABLE ALWAYS TRIGGER crm_customer_passes_search_text",
    f"ALTER TABLE {LEAD} ENABLE ALWAYS TRIGGER crm_lead_passes_search_text",
]

POSTGRESQL_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS crm_lead_passes_search_text ON {LEAD}",
    f"DROP TRIGGER IF EXISTS crm_customer_passes_search_text ON {CUSTOMER}",
    f"DROP TRIGGER IF EXISTS crm_contract_search_text ON {CONTRACT}",
    f"DROP TRIGGER IF EXISTS crm_customer_search_text ON {CUSTOMER}",
    "DROP FUNCTION IF EXISTS crm_lead_passes_search_text()",
    "DROP FUNCTION IF EXISTS crm_customer_passes_search_text()",
    "DROP FUNCTION IF EXISTS crm_contract_search_text()",
    "DROP FUNCTION IF EXISTS crm_customer_search_text()",
]

# SQLite triggers cannot change the row being written, so they rewrite it just
# after; a trigger does not fire itself again (recursive_triggers is off).
_SQLITE_CUSTOMER_BODY = f"""
    UPDATE {CUSTOMER} SET search_text = {_customer_text("NEW.lead_id")} WHERE id = NEW.id;
    UPDATE {CONTRACT} SET search_text = {_contract_text("name", "customer_id")} WHERE customer_id = NEW.id;
"""
_SQLITE_CONTRACT_BODY = f"""
    UPDATE {CONTRACT} SET search_text = {_contract_text("NEW.name", "NEW.customer_id")} WHERE id = NEW.id;
"""
SQLITE_INSTALL = [
    f"CREATE TRIGGER crm_customer_search_text_insert AFTER INSERT ON {CUSTOMER} BEGIN {_SQLITE_CUSTOMER_BODY} END",
    f"""CREATE TRIGGER crm_customer_search_text_update AFTER UPDATE OF lead_id, search_text ON {CUSTOMER}
    BEGIN {_SQLITE_CUSTOMER_BODY} END""",
    f"CREATE TRIGGER crm_contract_search_text_insert AFTER INSERT ON {CONTRACT} BEGIN {_SQLITE_CONTRACT_BODY} END",
    f"""CREATE TRIGGER crm_contract_search_text_update AFTER UPDATE OF name, customer_id, search_text
    ON {CONTRACT} BEGIN {_SQLITE_CONTRACT_BODY} END""",
    f"""CREATE TRIGGER crm_lead_passes_search_text AFTER UPDATE OF {_LEAD_COLUMNS} ON {LEAD}
    WHEN {_lead_changed("IS NOT")}
    BEGIN UPDATE {CUSTOMER} SET search_text = '' WHERE lead_id = NEW.id; END""",
]
SQLITE_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "crm_lead_passes_search_text",
        "crm_contract_search_text_update",
        "crm_contract_search_text_insert",
        "crm_customer_search_text_update",
        "crm_customer_search_text_insert",
    )
]

# The words of the rows already there, written in one pass per table before
# the triggers exist.
FILL = [
    f"UPDATE {CUSTOMER} SET search_text = {_customer_text(f'{CUSTOMER}.lead_id')}",
    f"UPDATE {CONTRACT} SET search_text = {_contract_text(f'{CONTRACT}.name', f'{CONTRACT}.customer_id')}",
]


def install_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [*FILL, *POSTGRESQL_INSTALL, *POSTGRESQL_ALWAYS]
    if vendor == "sqlite":
        return [*FILL, *SQLITE_INSTALL]
    return []


def uninstall_statements(vendor: str) -> list[str]:
    return {"postgresql": POSTGRESQL_UNINSTALL, "sqlite": SQLITE_UNINSTALL}.get(vendor, [])
