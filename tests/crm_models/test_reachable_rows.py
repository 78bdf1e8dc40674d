"""Every row of a list is reachable by following the pages it offers, whatever
its count says: exact, capped at COUNT_LIMIT ("more than"), or PostgreSQL's
estimate of the table ("about"), stale below or above the truth (issue 19).
As each role, never as a superuser."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from crm_models.admin import changelist
from crm_models.admin.contract import ContractAdmin
from crm_models.admin.interaction import InteractionAdmin
from crm_models.admin.lead import LeadAdmin
from crm_models.models import Contract, Interaction, Lead
from tests.factories import ContractFactory, CustomerFactory, InteractionFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

PER_PAGE = 3


def footer(response: object) -> str:
    return " ".join(response.content.decode().split())  # type: ignore[attr-defined]


def walk(client: Client, url: str, params: dict[str, str] | None = None) -> tuple[list[int], list[object]]:
    """The rows of every page, following the next page while one is offered;
    and each page's response."""
    rows: list[int] = []
    responses = []
    page = 1
    while True:
        response = client.get(url, {**(params or {}), "p": str(page)})
        assert response.status_code == 200, (page, response.status_code)
        cl = response.context["cl"]
        rows += [row.pk for row in cl.result_list]
        responses.append(response)
        offered = cl.paginator.num_pages if cl.multi_page else 1
        if page >= offered:
            return rows, responses
        # The page links offered never pass the next page.
        assert offered <= page + 1 or not cl.paginator.estimated
        page += 1


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changelist, "COUNT_LIMIT", 5)
    monkeypatch.setattr(LeadAdmin, "list_per_page", PER_PAGE)
    monkeypatch.setattr(ContractAdmin, "list_per_page", PER_PAGE)
    monkeypatch.setattr(InteractionAdmin, "list_per_page", PER_PAGE)


def newest_first(queryset: object) -> list[int]:
    return list(queryset.order_by("-created_at", "-id").values_list("pk", flat=True))  # type: ignore[attr-defined]


@pytest.mark.parametrize("params", [{}, {"status__exact": "new"}, {"q": "Ivan"}, {"o": "1"}])
def test_every_row_is_reachable_past_the_count_limit(
    small_pages: None, operator: User, client_for: Callable[[User], Client], params: dict[str, str]
) -> None:
    LeadFactory.create_batch(13, owner=operator, first_name="Ivan")
    client = client_for(operator)
    url = reverse("admin:crm_models_lead_changelist")
    rows, responses = walk(client, url, params)
    expected = Lead.objects.filter(owner=operator)
    assert sorted(rows) == sorted(expected.values_list("pk", flat=True))
    assert len(rows) == len(set(rows)) == 13
    if "o" not in params:
        assert rows == newest_first(expected)
    assert len(responses) == 5  # 3 + 3 + 3 + 3 + 1
    first, last = responses[0], responses[-1]
    assert first.context["cl"].paginator.estimated is True
    assert "more than 5 rows" in footer(first)
    # The page where the rows end is the last one offered, and its count is exact.
    assert last.context["cl"].paginator.num_pages == 5
    assert "13 rows" in footer(last)
    assert "more than" not in footer(last)
    # Past the last row: Django's "no such page" (a redirect), never a page of nothing.
    assert client.get(url, {**params, "p": "6"}).status_code == 302


def test_a_full_last_page_offers_no_empty_page(
    small_pages: None, operator: User, client_for: Callable[[User], Client]
) -> None:
    LeadFactory.create_batch(12, owner=operator)
    rows, responses = walk(client_for(operator), reverse("admin:crm_models_lead_changelist"))
    assert len(rows) == 12
    assert len(responses) == 4
    assert responses[-1].context["cl"].paginator.num_pages == 4


def test_a_scoped_list_is_reachable_past_the_limit(
    small_pages: None, manager: User, client_for: Callable[[User], Client]
) -> None:
    contracts = [ContractFactory(customer=CustomerFactory(account_manager=manager)) for _ in range(7)]
    ContractFactory()  # another manager's
    rows, _ = walk(client_for(manager), reverse("admin:crm_models_contract_changelist"))
    assert sorted(rows) == sorted(contract.pk for contract in contracts)
    assert Contract.objects.count() == 8


def test_the_russian_footer_says_more_than(
    small_pages: None, operator: User, client_for: Callable[[User], Client]
) -> None:
    LeadFactory.create_batch(7, owner=operator)
    response = client_for(operator).get(
        reverse("admin:crm_models_lead_changelist"), HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert "более 5 записей" in footer(response)


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's estimate of a table's rows"
)


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_models_lead")


@postgresql_only
def test_rows_inserted_after_the_statistics_are_reachable(
    small_pages: None, administrator: User, client_for: Callable[[User], Client]
) -> None:
    """Stale statistics below the truth: the estimate says about 6, 20 exist."""
    LeadFactory.create_batch(6)
    analyze()
    LeadFactory.create_batch(14)  # after the last ANALYZE
    client = client_for(administrator)
    url = reverse("admin:crm_models_lead_changelist")
    first = client.get(url)
    assert first.context["cl"].paginator.about is True
    assert "about 6 rows" in footer(first)
    rows, responses = walk(client, url)
    assert rows == newest_first(Lead.objects.all())
    assert len(rows) == 20
    assert "20 rows" in footer(responses[-1])


@postgresql_only
def test_an_estimate_above_the_truth_offers_only_pages_with_rows(
    small_pages: None, administrator: User, client_for: Callable[[User], Client]
) -> None:
    """Stale statistics above the truth: the estimate says about 40, 8 are left."""
    LeadFactory.create_batch(40)
    analyze()
    Lead.objects.filter(pk__in=newest_first(Lead.objects.all())[8:]).delete()
    client = client_for(administrator)
    url = reverse("admin:crm_models_lead_changelist")
    first = client.get(url)
    assert "about 40 rows" in footer(first)
    assert first.context["cl"].paginator.num_pages == 2  # this page and the next, not 14
    rows, responses = walk(client, url)
    assert rows == newest_first(Lead.objects.all())
    assert len(responses) == 3
    assert "8 rows" in footer(responses[-1])
    assert client.get(url, {"p": "14"}).status_code == 302


def keys_in_one_query(response: object) -> list[int]:
    """The list's rows in its order, read by the plain single query."""
    return list(response.context["cl"].queryset.values_list("pk", flat=True))  # type: ignore[attr-defined]


@pytest.mark.parametrize("order", ["6", "-6"])
def test_a_list_sorted_by_owner_reaches_every_row_in_order(
    small_pages: None, operator: User, client_for: Callable[[User], Client], order: str
) -> None:
    """Sorted by a name some rows lack (the queue has no owner), the list is
    read in two parts (changelist.page_keys): their pages together are the
    order of the one query, the queue after the named rows ascending on
    PostgreSQL and before them descending."""
    other = UserFactory(username="aaron")
    mine = LeadFactory.create_batch(5, owner=operator)
    queue = LeadFactory.create_batch(4, owner=None)
    LeadFactory.create_batch(3, owner=other)  # not the operator's: outside the scope
    client = client_for(operator)
    url = reverse("admin:crm_models_lead_changelist")
    rows, responses = walk(client, url, {"o": order})
    assert responses[0].context["cl"].paginator.estimated is True
    assert rows == keys_in_one_query(responses[0])
    assert sorted(rows) == sorted(lead.pk for lead in [*mine, *queue])
    if connection.vendor == "postgresql":
        owners = [Lead.objects.get(pk=pk).owner_id for pk in rows]
        expected = [operator.pk] * 5 + [None] * 4
        assert owners == (expected if order == "6" else expected[::-1])


@pytest.mark.parametrize("order", ["5", "-5"])
def test_interactions_sorted_by_author_reach_every_row_in_order(
    small_pages: None, administrator: User, client_for: Callable[[User], Client], order: str
) -> None:
    authors = [UserFactory(username=name) for name in ("zoe", "bob", "mia")]
    for index in range(10):
        InteractionFactory(author=authors[index % 3] if index % 4 else None)
    client = client_for(administrator)
    rows, responses = walk(client, reverse("admin:crm_models_interaction_changelist"), {"o": order})
    assert responses[0].context["cl"].paginator.estimated is True
    assert len(rows) == 10
    assert rows == keys_in_one_query(responses[0])
    names = [Interaction.objects.get(pk=pk).author for pk in rows]
    named = [author.username for author in names if author is not None]
    assert named == sorted(named, reverse=order.startswith("-"))


def test_the_named_part_joins_only_rows_with_a_name(operator: User) -> None:
    """The first part's join is an inner one: PostgreSQL reads it name by name
    from the index instead of joining and sorting the whole table."""
    LeadFactory(owner=operator)
    queryset = Lead.objects.order_by("owner__username", "-created_at", "-id")
    parts = changelist.named_parts(queryset)
    assert parts is not None
    named, unnamed = parts if connection.vendor == "postgresql" else parts[::-1]
    assert "INNER JOIN" in str(named.query)
    assert "JOIN" not in str(unnamed.query)
    assert changelist.named_parts(Lead.objects.order_by("campaign__name", "-id")) is None  # never missing
    assert changelist.named_parts(Lead.objects.order_by("-created_at", "-id")) is None
