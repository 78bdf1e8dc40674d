"""Changelists and searches cost a fixed number of queries, whatever the number
of rows (issue 8), as each role that opens them; searches find exactly the rows
typed any way; the count and the ordering are the index-friendly ones."""

from collections.abc import Callable

import pytest
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_models.models import Customer, Lead, LeadStatus
from tests.factories import ContractFactory, CustomerFactory, InteractionFactory, LeadFactory

pytestmark = pytest.mark.django_db

# Session, user, user permissions, group permissions, the user's groups.
REQUEST_QUERIES = 5
# The page's reads run in a transaction of their own that asks for no
# parallel workers (changelist.without_parallel_workers): inside the test's
# transaction a savepoint, its SET LOCAL and its release (in a request, the SET
# LOCAL between BEGIN and COMMIT).
NO_PARALLEL_WORKERS = 3
# The (capped) count and the page itself, in that transaction.
LIST_QUERIES = NO_PARALLEL_WORKERS + 2
# The options of a related-model dropdown filter (service).
FILTER_CHOICES = 1
# The chosen option of an autocomplete filter (owner, account manager), shown
# by name: unfold's filter reads it twice (its form field, then its widget);
# the chip above the list shows the row the form field read.
SELECTED_CHOICE = 2
# An id that names no one: the form finds nothing, and the chip looks once
# more (then shows the id as it is).
UNKNOWN_CHOICE = 3
# The dates of the oldest and newest leads of a channel the lead list is
# filtered by (admin/lead.py, LeadChannelFilter).
CHANNEL_DATES = 1


def build(users: dict[str, User], copies: int) -> None:
    """`copies` leads of each operator, customers (with a contract and an
    interaction) of each manager."""
    for _ in range(copies):
        for operator in (users["operator"], users["operator2"]):
            InteractionFactory(lead=LeadFactory(owner=operator, first_name="Ivan", last_name="Petrov"))
        for manager in (users["manager"], users["manager2"]):
            customer = CustomerFactory(account_manager=manager)
            ContractFactory(customer=customer)
            InteractionFactory(lead=customer.lead)


@pytest.fixture
def users(
    operator: User, operator2: User, manager: User, manager2: User, marketer: User, administrator: User
) -> dict[str, User]:
    return {
        "operator": operator,
        "operator2": operator2,
        "manager": manager,
        "manager2": manager2,
        "marketer": marketer,
        "administrator": administrator,
    }


CASES = [
    ("operator", "lead", {}, REQUEST_QUERIES + LIST_QUERIES),
    ("operator", "lead", {"status__exact": LeadStatus.NEW}, REQUEST_QUERIES + LIST_QUERIES),
    ("operator", "lead", {"q": "Ivan"}, REQUEST_QUERIES + LIST_QUERIES),
    # A phone and an e-mail prefix that no lead has (the factories' are +7926...
    # and lead<n>@client.example).
    ("operator", "lead", {"q": "8 (999) 000-00-01"}, REQUEST_QUERIES + LIST_QUERIES),
    ("operator", "lead", {"q": "NOBODY@"}, REQUEST_QUERIES + LIST_QUERIES),
    ("manager", "lead", {}, REQUEST_QUERIES + LIST_QUERIES),
    ("marketer", "lead", {"q": "Ivan Pet"}, REQUEST_QUERIES + LIST_QUERIES),
    ("administrator", "lead", {}, REQUEST_QUERIES + LIST_QUERIES),
    ("administrator", "lead", {"owner__id__exact": "0"}, REQUEST_QUERIES + UNKNOWN_CHOICE + LIST_QUERIES),
    (
        "administrator",
        "lead",
        {"campaign__channel__exact": "search"},
        REQUEST_QUERIES + CHANNEL_DATES + LIST_QUERIES,
    ),
    # A channel without leads: known empty from its dates, nothing counted.
    (
        "operator",
        "lead",
        {"campaign__channel__exact": "display"},
        REQUEST_QUERIES + CHANNEL_DATES + NO_PARALLEL_WORKERS,
    ),
    ("manager", "customer", {}, REQUEST_QUERIES + LIST_QUERIES),
    ("manager", "customer", {"q": "lead"}, REQUEST_QUERIES + LIST_QUERIES),
    # Two words no customer's lead has.
    ("manager", "customer", {"q": "Zzqx Qqzx"}, REQUEST_QUERIES + LIST_QUERIES),
    # The account manager filter is searched as you type: no options to read.
    ("administrator", "customer", {}, REQUEST_QUERIES + LIST_QUERIES),
    (
        "administrator",
        "customer",
        {"account_manager__id__exact": "0"},
        REQUEST_QUERIES + UNKNOWN_CHOICE + LIST_QUERIES,
    ),
    ("manager", "contract", {}, REQUEST_QUERIES + FILTER_CHOICES + LIST_QUERIES),
    ("manager", "contract", {"q": "Contract"}, REQUEST_QUERIES + FILTER_CHOICES + LIST_QUERIES),
    ("administrator", "contract", {}, REQUEST_QUERIES + FILTER_CHOICES + LIST_QUERIES),
    ("operator", "interaction", {}, REQUEST_QUERIES + LIST_QUERIES),
    ("operator", "interaction", {"q": "Ivan"}, REQUEST_QUERIES + LIST_QUERIES),
    ("manager", "interaction", {}, REQUEST_QUERIES + LIST_QUERIES),
    ("operator", "interaction", {"kind__exact": "call"}, REQUEST_QUERIES + LIST_QUERIES),
    ("manager", "interaction", {"kind__exact": "call", "o": "0"}, REQUEST_QUERIES + LIST_QUERIES),
    ("administrator", "interaction", {"kind__exact": "call"}, REQUEST_QUERIES + LIST_QUERIES),
]


@pytest.mark.parametrize(("role", "model", "params", "queries"), CASES)
def test_changelist_query_count_does_not_grow_with_rows(
    users: dict[str, User],
    client_for: Callable[[User], Client],
    django_assert_num_queries: Callable,
    role: str,
    model: str,
    params: dict[str, str],
    queries: int,
) -> None:
    client = client_for(users[role])
    url = reverse(f"admin:crm_models_{model}_changelist")
    client.get(url)  # the first request may warm caches (content types, sessions)
    shown = []
    for copies in (1, 4):
        build(users, copies)
        with django_assert_num_queries(queries):
            response = client.get(url, params)
        assert response.status_code == 200
        shown.append(len(response.context["cl"].result_list))
    assert shown[1] >= shown[0]


def test_owner_chip_adds_no_query_to_the_filter(
    users: dict[str, User], client_for: Callable[[User], Client], django_assert_num_queries: Callable
) -> None:
    build(users, 1)
    client = client_for(users["administrator"])
    url = reverse("admin:crm_models_lead_changelist")
    client.get(url)
    owner = users["operator"]

    with django_assert_num_queries(REQUEST_QUERIES + SELECTED_CHOICE + LIST_QUERIES):
        response = client.get(url, {"owner__id__exact": str(owner.pk)})

    assert response.status_code == 200
    assert "data-filter-chip" in response.content.decode()
    assert str(owner) in response.content.decode()


def test_lead_search_finds_a_phone_typed_any_way(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(owner=operator, phone="+79161234567")
    LeadFactory(owner=operator, phone="+79161234568")
    url = reverse("admin:crm_models_lead_changelist")
    for typed in ("8 916 123-45-67", "+7 (916) 123 45 67", "79161234567"):
        response = client_for(operator).get(url, {"q": typed})
        assert list(response.context["cl"].result_list) == [lead]


def test_lead_search_by_email_prefix_and_name_prefix(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    ivan = LeadFactory(owner=operator, first_name="Иван", last_name="Смирнов", email="ivan@corp.example")
    LeadFactory(owner=operator, first_name="Мария", last_name="Иванова", email="maria@corp.example")
    LeadFactory(owner=operator, first_name="Ivanka", last_name="Lee", email="lee@corp.example")
    client = client_for(operator)
    url = reverse("admin:crm_models_lead_changelist")

    def found(term: str) -> set[str]:
        return {lead.email for lead in client.get(url, {"q": term}).context["cl"].result_list}

    assert found("IVAN@corp") == {"ivan@corp.example"}
    # Same case for Cyrillic: SQLite's LIKE folds the case of ASCII letters only.
    assert found("Иван") == {"ivan@corp.example", "maria@corp.example"}
    assert found("Иван Смир") == {ivan.email}
    assert found("ivan") == {"ivan@corp.example", "lee@corp.example"}
    assert found("van") == set()  # words are found by their beginning


def test_lead_search_stays_in_scope(
    operator: User, operator2: User, client_for: Callable[[User], Client]
) -> None:
    LeadFactory(owner=operator2, phone="+79161234567")
    response = client_for(operator).get(reverse("admin:crm_models_lead_changelist"), {"q": "+79161234567"})
    assert list(response.context["cl"].result_list) == []


def test_customer_interaction_and_contract_search_through_the_lead(
    manager: User, client_for: Callable[[User], Client]
) -> None:
    customer = CustomerFactory(
        account_manager=manager, lead__last_name="Kuznetsov", lead__phone="+79035550001"
    )
    other = CustomerFactory(account_manager=manager, lead__last_name="Sokolov")
    contract = ContractFactory(customer=customer, name="K-2026-001")
    named = ContractFactory(customer=other, name="Kuz-framework")
    interaction = InteractionFactory(lead=customer.lead)
    InteractionFactory(lead=other.lead)
    client = client_for(manager)

    def found(model: str, term: str) -> list:
        url = reverse(f"admin:crm_models_{model}_changelist")
        return sorted(obj.pk for obj in client.get(url, {"q": term}).context["cl"].result_list)

    assert found("customer", "8 903 555-00-01") == [customer.pk]
    assert found("customer", "kuzn") == [customer.pk]
    assert found("interaction", "kuzn") == [interaction.pk]
    assert found("contract", "kuz") == sorted([contract.pk, named.pk])
    assert found("contract", "k-2026") == [contract.pk]
    assert found("contract", "8 903 555-00-01") == [contract.pk]
    assert found("interaction", "nobody") == []
    assert Customer.objects.count() == 2


def test_interaction_search_stays_in_scope(
    operator: User, operator2: User, client_for: Callable[[User], Client]
) -> None:
    mine = InteractionFactory(lead=LeadFactory(owner=operator, last_name="Kuznetsov"))
    InteractionFactory(lead=LeadFactory(owner=operator2, last_name="Kuznetsov"))
    response = client_for(operator).get(reverse("admin:crm_models_interaction_changelist"), {"q": "Kuzn"})
    assert list(response.context["cl"].result_list) == [mine]


def history_rows(lead: Lead, count: int) -> None:
    for index in range(count):
        lead.notes = f"note {index}"
        lead.save()


def test_history_page_query_count_does_not_grow_with_history(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(owner=operator)
    client = client_for(operator)
    url = reverse("admin:crm_models_lead_history", args=[lead.pk])
    client.get(url)
    counts = []
    for extra in (3, 30):
        history_rows(lead, extra)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_history_page_lists_fifty_changes_a_page(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(owner=operator)
    history_rows(lead, 59)  # with its creation, 60 history rows
    url = reverse("admin:crm_models_lead_history", args=[lead.pk])
    first = client_for(operator).get(url)
    second = client_for(operator).get(url, {"p": "2"})
    assert (first.status_code, second.status_code) == (200, 200)
    assert len(first.context["page_obj"].object_list) == 50
    assert len(second.context["page_obj"].object_list) == 10
    assert first.context["pagination_required"] is True


def sorted_list(client: Client, column: str, descending: bool = False, model: str = "lead") -> ChangeList:
    """The changelist of `model` sorted by `column` as this client's user sees it."""
    url = reverse(f"admin:crm_models_{model}_changelist")
    index = list(client.get(url).context["cl"].list_display).index(column)
    return client.get(url, {"o": f"{'-' if descending else ''}{index}"}).context["cl"]


def ordering_for(client: Client, column: str, descending: bool = False, model: str = "lead") -> list:
    return list(sorted_list(client, column, descending, model).queryset.query.order_by)


def test_sorting_breaks_ties_by_the_indexed_default_ordering(
    marketer: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(marketer)
    assert ordering_for(client, "created") == ["created_at", "id"]
    assert ordering_for(client, "created", descending=True) == ["-created_at", "-id"]
    assert ordering_for(client, "status_label") == ["status", "-created_at", "-id"]
    # The other way round, the same list from its end: the same index, read backwards.
    assert ordering_for(client, "status_label", descending=True) == ["-status", "created_at", "id"]


def test_owner_filter_searches_users_as_you_type(
    administrator: User, operator: User, manager: User, client_for: Callable[[User], Client]
) -> None:
    url = reverse("admin:autocomplete")
    params = {"app_label": "crm_models", "model_name": "lead", "field_name": "owner", "term": "t_oper"}
    response = client_for(administrator).get(url, params)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(operator.pk)]
    # Only administrators see the owner filter; nobody else may list users.
    assert client_for(manager).get(url, params).status_code == 403
    assert client_for(operator).get(url, params).status_code == 403


def test_a_customer_column_of_the_lead_breaks_ties_through_the_lead(
    manager: User, client_for: Callable[[User], Client]
) -> None:
    """A customer's name and e-mail are its lead's: ties are broken by the lead's
    date and id, which the lead's (column, date, id) index returns in order,
    and the other way round the list is read from its end."""
    client = client_for(manager)
    same_name = [CustomerFactory(account_manager=manager, lead__last_name="Petrov") for _ in range(3)]
    others = [
        CustomerFactory(account_manager=manager, lead__last_name=name) for name in ("Abramov", "Sidorov")
    ]
    ascending = sorted_list(client, "name", model="customer")
    descending = sorted_list(client, "name", descending=True, model="customer")
    assert list(ascending.queryset.query.order_by) == [
        "lead__last_name",
        "-lead__created_at",
        "-lead_id",
        "-created_at",
        "-id",
    ]
    assert list(descending.queryset.query.order_by) == [
        "-lead__last_name",
        "lead__created_at",
        "lead_id",
        "created_at",
        "id",
    ]
    petrovs = sorted(
        same_name, key=lambda customer: (customer.lead.created_at, customer.lead_id), reverse=True
    )
    assert list(ascending.result_list) == [others[0], *petrovs, others[1]]
    assert list(descending.result_list) == list(reversed(ascending.result_list))


def test_a_column_showing_another_row_sorts_by_its_name_both_ways(
    administrator: User, client_for: Callable[[User], Client]
) -> None:
    """Sorting by the campaign, service, customer, lead or author column sorts
    by the name it shows, ties by the list's own (date, id), the other way
    round the whole list reversed (issue 19: by id, "Zed" came before "Alpha")."""
    from tests.factories import CampaignFactory, ServiceFactory, UserFactory

    client = client_for(administrator)
    zed, alpha = CampaignFactory(name="Zed"), CampaignFactory(name="Alpha")
    zoe, abe = UserFactory(username="zoe"), UserFactory(username="abe")
    leads = [
        LeadFactory(campaign=zed, owner=zoe, last_name="Young"),
        LeadFactory(campaign=alpha, owner=abe, last_name="Adams"),
        LeadFactory(campaign=zed, owner=abe, last_name="Brown"),
        LeadFactory(campaign=alpha, owner=zoe, last_name="Adams"),
    ]
    services = [ServiceFactory(name="Zeta audit"), ServiceFactory(name="Alpha audit")]
    contracts = [
        ContractFactory(service=services[index % 2], customer=CustomerFactory(lead=lead))
        for index, lead in enumerate(leads)
    ]
    interactions = [InteractionFactory(lead=lead, author=lead.owner) for lead in leads]

    def own(row: object) -> tuple:
        for date in ("signed_at", "happened_at", "created_at"):
            if hasattr(row, date):
                return (getattr(row, date), row.pk)  # type: ignore[attr-defined]
        raise AssertionError(row)

    def through_lead(lead: Lead) -> tuple:
        return (lead.created_at, lead.pk)

    cases = [
        ("lead", "campaign", leads, lambda lead: lead.campaign.name, own),
        ("lead", "owner", leads, lambda lead: lead.owner.username, own),
        ("contract", "service", contracts, lambda row: row.service.name, own),
        ("contract", "customer", contracts, lambda row: row.customer.lead.last_name, lambda row: through_lead(row.customer.lead)),
        ("interaction", "lead", interactions, lambda row: row.lead.last_name, lambda row: through_lead(row.lead)),
        ("interaction", "author", interactions, lambda row: row.author.username, own),
        ("customer", "account_manager", [row.customer for row in contracts], lambda row: row.account_manager.username, own),
    ]  # fmt: skip
    for model, column, rows, name, tie in cases:
        # Python's sort is stable: newest first (by `tie`) within one name.
        expected = [row.pk for row in sorted(sorted(rows, key=tie, reverse=True), key=name)]
        ascending = sorted_list(client, column, model=model)
        assert [row.pk for row in ascending.result_list] == expected, (model, column)
        descending = sorted_list(client, column, descending=True, model=model)
        assert [row.pk for row in descending.result_list] == expected[::-1], (model, column)
    assert [lead.campaign.name for lead in sorted_list(client, "campaign").result_list] == [
        "Alpha",
        "Alpha",
        "Zed",
        "Zed",
    ]


def test_a_long_searched_list_reads_its_page_rows_by_key_alone(
    operator: User, client_for: Callable[[User], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the counted rows the page's keys are read under the list's
    conditions, then its rows by those keys alone, with the related rows the
    list shows: the search is not run a second time for a page of rows."""
    from django.contrib.admin import site

    from crm_models.admin import changelist

    leads = [
        LeadFactory(owner=operator, first_name="Ivan", last_name=f"Petrov{number}") for number in range(7)
    ]
    LeadFactory(owner=operator, first_name="Olga", last_name="Petrova")
    monkeypatch.setattr(changelist, "COUNT_LIMIT", 4)
    monkeypatch.setattr(site._registry[Lead], "list_per_page", 3)
    client = client_for(operator)
    url = reverse("admin:crm_models_lead_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"q": "ivan petr", "p": "2"})
    cl = response.context["cl"]
    newest_first = sorted(leads, key=lambda lead: (lead.created_at, lead.pk), reverse=True)
    assert [lead.pk for lead in cl.result_list] == [lead.pk for lead in newest_first[3:6]]
    assert cl.paginator.estimated
    assert cl.multi_page
    reads = [query["sql"] for query in queries.captured_queries if "SAVEPOINT" not in query["sql"]]
    keys, rows = reads[-2:]
    assert "petr" in keys.lower()
    # The related rows in the same query; no search condition.
    assert "crm_models_campaign" in rows
    assert "auth_user" in rows
    assert "petr" not in rows.lower()
    assert "crm_word_prefixes" not in rows
    assert "LIKE" not in rows


def test_the_title_never_states_a_stopped_count_as_the_number_of_rows(
    operator: User, client_for: Callable[[User], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the counted rows the footer says "more than N rows"; the title
    line beside the list's name does not say "N results" then. Under the
    limit a search still says how many rows it found."""
    from crm_models.admin import changelist

    for number in range(6):
        LeadFactory(owner=operator, first_name="Ivan", last_name=f"Petrov{number}")
    LeadFactory(owner=operator, first_name="Olga", last_name="Sokolova")
    monkeypatch.setattr(changelist, "COUNT_LIMIT", 4)
    client = client_for(operator)
    url = reverse("admin:crm_models_lead_changelist")
    for params in ({}, {"q": "ivan"}):
        page = client.get(url, params).content.decode()
        assert "more than 4 rows" in page
        assert " results (" not in page
    page = client.get(url, {"q": "olga"}).content.decode()
    assert "1 result (" in page


def test_the_count_reads_only_the_keys(operator: User, client_for: Callable[[User], Client]) -> None:
    """The lead list shows each lead's latest interaction; its count does not
    compute it for every counted row."""
    InteractionFactory(lead=LeadFactory(owner=operator, first_name="Ivan"))
    client = client_for(operator)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:crm_models_lead_changelist"), {"q": "ivan"})
    assert response.context["cl"].result_count == 1
    (count,) = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"]]
    assert "crm_models_interaction" not in count


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's parallel workers")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_page_is_read_without_parallel_workers_and_the_setting_ends_with_it(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    LeadFactory(owner=operator, first_name="Ivan")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')")
        (before,) = cursor.fetchone()
    assert before != "0"  # the server's own setting, which other pages keep

    with CaptureQueriesContext(connection) as queries:
        response = client_for(operator).get(reverse("admin:crm_models_lead_changelist"), {"q": "Ivan"})

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 1
    statements = [query["sql"] for query in queries.captured_queries]
    setting = statements.index("SET LOCAL max_parallel_workers_per_gather = 0")
    assert statements[setting + 1].startswith("SELECT COUNT(*)"), statements[setting + 1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')")
        assert cursor.fetchone() == (before,)
