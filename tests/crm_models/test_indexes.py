"""The indexes the changelist and search benchmarks rely on exist after
migrating (PostgreSQL), and the queries the admin sends can use them."""

import importlib
import re
from typing import Any

import pytest
from django.contrib.admin import site
from django.contrib.auth.models import User
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from crm_models.admin.changelist import named_parts
from crm_models.models import Contract, Customer, Interaction, Lead, LeadStatus
from crm_models.selectors import import_plans
from crm_models.selectors.search import contract_search_q, customer_search_q, lead_search_q
from tests.factories import ContractFactory, CustomerFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL indexes"),
]

EXPECTED_INDEXES = {
    # Sorted, filtered and scoped changelists (models.py Meta).
    "lead_created_idx": "(created_at DESC, id DESC)",
    "lead_owner_created_idx": "(owner_id, created_at DESC, id DESC)",
    "lead_status_created_idx": "(status, created_at DESC, id DESC)",
    "lead_campaign_created_idx": "(campaign_id, created_at DESC, id DESC)",
    "customer_created_idx": "(created_at DESC, id DESC)",
    "customer_manager_created_idx": "(account_manager_id, created_at DESC, id DESC)",
    # A manager's interaction scope: the leads of their customers (migration 0008).
    "customer_manager_lead_idx": "(account_manager_id, lead_id)",
    "contract_signed_idx": "(signed_at DESC, id DESC)",
    "contract_customer_signed_idx": "(customer_id, signed_at DESC, id DESC)",
    "contract_service_signed_idx": "(service_id, signed_at DESC, id DESC)",
    # A scoped user's page tests lead and kind on the index alone; the count of
    # a scoped user's interactions (also by kind) reads the lead index alone (0008).
    "interaction_happened_idx": "(happened_at DESC, id DESC) INCLUDE (lead_id, kind)",
    "interaction_lead_happened_idx": "(lead_id, happened_at DESC, id DESC) INCLUDE (kind)",
    # Lists sorted by a column, ties by date and id (migration 0012).
    "lead_last_name_created_idx": "(last_name, created_at DESC, id DESC)",
    "lead_email_created_idx": "(email, created_at DESC, id DESC)",
    "lead_phone_created_idx": "(phone, created_at DESC, id DESC)",
    # The follow-up filters and the next-step column (migration 0016).
    "lead_next_step_idx": "(next_follow_up_at, created_at DESC, id DESC)",
    "lead_owner_next_step_idx": "(owner_id, next_follow_up_at)",
    "interaction_kind_happened_idx": "(kind, happened_at DESC, id DESC) INCLUDE (lead_id)",
    "interaction_author_time_idx": "(author_id, happened_at DESC, id DESC) INCLUDE (lead_id)",
    "contract_name_signed_idx": "(name, signed_at DESC, id DESC)",
    "contract_amount_signed_idx": "(amount, signed_at DESC, id DESC)",
    "contract_start_signed_idx": "(start_date, signed_at DESC, id DESC)",
    "contract_end_signed_idx": "(end_date, signed_at DESC, id DESC)",
    # Search: a whole phone and an e-mail's beginning on the unique indexes,
    # a phone's end on the reversed number (migration 0013), words on the word
    # indexes (0017, which replace 0013's trigram indexes).
    "lead_phone_unique": "(phone)",
    "lead_email_unique": "(email varchar_pattern_ops) WHERE (NOT ((email)::text = ''::text))",
    "lead_words_idx": (
        "USING gin (crm_word_prefixes(translate(lower((((((((first_name)::text || ' '::text) || (last_name)::text)"
        " || ' '::text) || (company)::text) || ' '::text) || (email)::text)), 'ё@._-'::text, 'е    '::text)))"
    ),
    "lead_phone_end_idx": "(reverse((phone)::text) text_pattern_ops)",
    "contract_words_idx": "USING gin (crm_word_prefixes(translate(lower((name)::text), 'ё@._-'::text, 'е    '::text)))",
    # The customers' and contracts' own copies of their words (0021, 0022).
    "customer_words_idx": "USING gin (crm_word_prefixes(translate(lower(search_text), 'ё@._-'::text, 'е    '::text)))",
    "contract_text_words_idx": (
        "USING gin (crm_word_prefixes(translate(lower(search_text), 'ё@._-'::text, 'е    '::text)))"
    ),
}


def test_benchmark_indexes_exist() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [list(EXPECTED_INDEXES)]
        )
        found = dict(cursor.fetchall())
    assert set(found) == set(EXPECTED_INDEXES)
    for name, columns in EXPECTED_INDEXES.items():
        assert columns in found[name], (name, found[name])


SORT_INDEXES = importlib.import_module("crm_models.migrations.0012_sort_indexes").SORT_INDEXES


@pytest.fixture
def without_sort_indexes() -> None:
    """Drops migration 0012's indexes (for the sorted lists) inside the test's
    transaction. On these empty tables the planner may read one of them whole,
    filtering, as readily as probe a search index, which at scale it never
    does; without them the plan shows that a search index can serve the
    search."""
    with connection.cursor() as cursor:
        for name in SORT_INDEXES:
            cursor.execute(f"DROP INDEX {name}")


def plan(queryset: object, *, sorting: bool = True) -> str:
    sql, params = queryset.query.sql_with_params()  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        # The tables are empty here, where a scan is cheapest: forbid it, so the
        # plan shows whether an index *can* serve the query Django generates.
        cursor.execute("SET LOCAL enable_seqscan = off")
        if not sorting:
            # Likewise a sort of the few rows the planner expects here (its
            # statistics of a table outlive the tests' rolled-back rows): the
            # plan then sorts only where no index returns the order.
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("term", "indexes"),
    [
        ("+7 916 123-45-67", {"lead_phone_end_idx"}),
        ("8 916 123-45-67", {"lead_phone_unique", "lead_phone_end_idx"}),
        ("000-04-18", {"lead_phone_end_idx"}),
        ("Ivan@Example", {"lead_email_unique"}),
        ("Ivan", {"lead_words_idx"}),
        ("van Dijk", {"lead_words_idx"}),
        ("Ёлкина", {"lead_words_idx"}),
        ("example.com", {"lead_words_idx"}),
    ],
)
@pytest.mark.usefixtures("without_sort_indexes")
def test_lead_search_uses_the_search_indexes(term: str, indexes: set[str]) -> None:
    """The expression search.HasWords writes is the one migration 0017
    indexes: a change to either breaks this."""
    condition = lead_search_q(term=term)
    assert condition is not None
    explained = plan(Lead.objects.filter(condition).order_by())
    for index in indexes:
        assert f"Index Scan on {index}" in explained or f"Index Scan using {index}" in explained, explained
    assert "Seq Scan" not in explained


@pytest.mark.usefixtures("without_sort_indexes")
def test_contract_search_uses_the_contract_words_index() -> None:
    """Words are found on the contract's own row: no lead is read."""
    CustomerFactory(lead__last_name="Kuznetsov")
    condition = contract_search_q(term="Kuz")
    assert condition is not None
    explained = plan(Contract.objects.filter(condition).order_by())
    assert "Index Scan on contract_text_words_idx" in explained, explained
    assert "crm_models_lead" not in explained, explained
    assert "Seq Scan" not in explained, explained


@pytest.mark.usefixtures("without_sort_indexes")
def test_contract_search_of_a_phone_uses_the_name_and_phone_indexes() -> None:
    # Statistics of a few hundred customers and contracts, so that the plan
    # does not hang on the row estimates earlier tests left in empty tables:
    # with few customers it could as well read each one's lead by key as
    # probe the phones.
    sample = ContractFactory()
    customer = sample.customer
    leads = Lead.objects.bulk_create(
        Lead(
            first_name="Lead",
            email=f"bulk{n}@client.example",
            phone=f"+7927{n:07d}",
            campaign=customer.lead.campaign,
            status=LeadStatus.CONVERTED,
        )
        for n in range(400)
    )
    customers = Customer.objects.bulk_create(
        Customer(lead=lead, account_manager=customer.account_manager) for lead in leads
    )
    Contract.objects.bulk_create(
        Contract(
            name=f"Bulk {number}",
            customer=other,
            service=sample.service,
            start_date=sample.start_date,
            end_date=sample.end_date,
            amount=sample.amount,
            signed_at=sample.signed_at,
        )
        for number, other in enumerate(customers)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_models_lead, crm_models_customer, crm_models_contract")
    condition = contract_search_q(term="000-04-18")
    assert condition is not None
    explained = plan(Contract.objects.filter(condition).order_by())
    assert "contract_words_idx" in explained, explained
    assert "lead_phone_end_idx" in explained, explained
    assert "Seq Scan" not in explained, explained


@pytest.mark.usefixtures("without_sort_indexes")
def test_customer_search_uses_the_customer_words_index() -> None:
    CustomerFactory(lead__last_name="Kuznetsov")
    condition = customer_search_q(term="Kuz")
    assert condition is not None
    explained = plan(Customer.objects.filter(condition).order_by())
    assert "Index Scan on customer_words_idx" in explained, explained
    assert "crm_models_lead" not in explained, explained
    assert "Seq Scan" not in explained, explained


def test_one_index_on_lead_email_for_search() -> None:
    """The unique index serves the e-mail's beginning too (0006); the other
    indexes holding the e-mail are 0012's, for the list sorted by e-mail (in
    the collation's order, which the unique index's pattern order is not), and
    0017's words."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'crm_models_lead' AND indexdef LIKE %s"
            " ORDER BY indexname",
            ["%email%"],
        )
        assert [row[0] for row in cursor.fetchall()] == [
            "lead_email_created_idx",
            "lead_email_unique",
            "lead_words_idx",
        ]


@pytest.mark.parametrize("model", [Lead, Customer, Contract, Interaction])
def test_every_sortable_column_is_read_in_order_from_an_index(model: type, administrator: User) -> None:
    """Each column of the four lists, sorted either way, as the administrator
    sees them (the most columns): the page's keys come from an index in the
    list's order, and nothing sorts the whole table (at a million leads such a
    sort took 45-430 ms)."""
    admin = site._registry[model]
    sorted_columns = 0
    for column, index in columns_of(admin, administrator):
        for sign in ("", "-"):
            request = RequestFactory().get("/", {"o": f"{sign}{index}"})
            request.user = administrator
            cl = admin.get_changelist_instance(request)
            if column == "action_checkbox" or cl.get_ordering_field(column) is None:
                continue  # not sortable
            sorted_columns += 1
            # A column showing a row that may be missing (an interaction's
            # author, a lead's owner) is read in two parts (page_keys).
            parts = named_parts(cl.queryset)
            assert (parts is not None) is (column in NULLABLE_RELATIONS), column
            for queryset in parts or [cl.queryset]:
                explained = plan(queryset.values("pk")[:50], sorting=False)
                # A column showing another row may sort the rows of one such
                # row (an Incremental Sort after its name), never the whole table.
                assert not re.search(r"(?<!Incremental )Sort  \(", explained), (column, sign, explained)
    assert sorted_columns == 2 * {Lead: 8, Customer: 4, Contract: 7, Interaction: 4}[model]


NULLABLE_RELATIONS = {"author", "owner"}


def columns_of(admin: Any, user: User) -> list[tuple[str, int]]:
    """(column, its index in the `o` parameter) for each column of the list."""
    request = RequestFactory().get("/")
    request.user = user
    columns = list(admin.get_list_display(request))
    if admin.get_actions(request):
        columns.insert(0, "action_checkbox")
    return [(column, index) for index, column in enumerate(columns)]


@pytest.mark.usefixtures("without_sort_indexes")
def test_import_duplicate_lookups_use_the_unique_indexes() -> None:
    """The import's lookup of existing e-mails and phones (more than 100 values,
    where PostgreSQL cannot prove the partial indexes apply by itself)."""
    values = [f"lead{number}@example.com" for number in range(500)]
    for column, index in (("email", "lead_email_unique"), ("phone", "lead_phone_unique")):
        with CaptureQueriesContext(connection) as queries:
            import_plans._leads_by(column, values)
        (query,) = queries.captured_queries
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {query['sql']}")
            explained = "\n".join(row[0] for row in cursor.fetchall())
        assert index in explained, explained


def test_no_single_column_indexes_under_the_composites() -> None:
    """interaction.lead and customer.account_manager are served by the composite
    indexes that start with them (0008), and so are interaction.author and
    contract.customer (0012); a second index would only cost writes."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexdef FROM pg_indexes WHERE tablename LIKE 'crm_models_%'")
        definitions = cursor.fetchall()
    assert not [
        sql for table, sql in definitions if sql.endswith("USING btree (lead_id)") and "interaction" in table
    ]
    assert not [sql for table, sql in definitions if sql.endswith("USING btree (account_manager_id)")]
    assert not [
        sql
        for table, sql in definitions
        if sql.endswith("USING btree (author_id)") and "interaction" in table
    ]
    assert not [
        sql for table, sql in definitions if sql.endswith("USING btree (customer_id)") and "contract" in table
    ]


def test_connections_ask_for_ssd_planner_costs_and_no_jit() -> None:
    """settings.DATABASE_PLANNER_OPTIONS: with the server's default (4) the
    planner scans every interaction rather than probe them by a search's
    leads; JIT would compile every costly search before running it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('random_page_cost'), current_setting('jit')")
        assert cursor.fetchone() == ("1.1", "off")
