"""The interaction list of each role shows exactly the interactions of its scope,
in order, page after page, filtered and sorted both ways (issue 8: the scope is
written as `lead_id IN (subquery)`, a hashed filter on a page and a semi-join in
the count, and pages are found by primary key first).

Run as each role (an operator, a manager, a user with both roles, an
administrator), never as a superuser.
"""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.admin import site
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm_models.models import Interaction, InteractionKind, Lead
from crm_models.roles import Role
from tests.factories import CustomerFactory, InteractionFactory, LeadFactory

pytestmark = pytest.mark.django_db

URL = "admin:crm_models_interaction_changelist"
KINDS = list(InteractionKind)


def build(users: dict[str, User]) -> None:
    """Leads of every owner, some of them customers of every manager (a lead of
    one operator can be another manager's customer), each lead with
    interactions of every kind at distinct times, and two interactions at the
    same time (the id breaks the tie)."""
    now = timezone.now()
    owners = [users["operator"], users["operator2"], users["operator_manager"]]
    managers = [None, users["manager"], users["manager2"], users["operator_manager"]]
    minute = 0
    for owner in owners:
        for account_manager in managers:
            lead = LeadFactory(owner=owner)
            if account_manager is not None:
                CustomerFactory(lead=lead, account_manager=account_manager)
            for kind in KINDS:
                minute += 7
                InteractionFactory(
                    lead=lead, kind=kind, happened_at=now - timedelta(minutes=minute % 50, hours=minute)
                )
            InteractionFactory(lead=lead, kind=KINDS[0], happened_at=now - timedelta(days=400))


def expected(user: User, kind: str | None = None, oldest_first: bool = False) -> list[int]:
    """The rule of the role matrix, computed in Python from every row."""
    groups = set(user.groups.values_list("name", flat=True))
    rows = []
    for interaction in Interaction.objects.select_related("lead__customer"):
        lead = interaction.lead
        customer = getattr(lead, "customer", None)
        visible = (
            Role.ADMINISTRATOR in groups
            or (Role.OPERATOR in groups and lead.owner_id == user.pk)
            or (Role.MANAGER in groups and customer is not None and customer.account_manager_id == user.pk)
        )
        if visible and (kind is None or interaction.kind == kind):
            rows.append(interaction)
    rows.sort(key=lambda row: (row.happened_at, row.pk), reverse=not oldest_first)
    return [row.pk for row in rows]


def date_column(client: Client) -> str:
    """The `o` index of the date column as this user's list shows it."""
    response = client.get(reverse(URL))
    return str(list(response.context["cl"].list_display).index("happened"))


def shown(client: Client, params: dict[str, str]) -> tuple[list[int], int]:
    """Every row of every page, in order, and the count the list reports."""
    rows: list[int] = []
    page = 1
    while True:
        response = client.get(reverse(URL), {**params, "p": str(page)})
        assert response.status_code == 200
        cl = response.context["cl"]
        rows += [row.pk for row in cl.result_list]
        if page >= cl.paginator.num_pages:
            return rows, cl.result_count
        page += 1


@pytest.mark.parametrize("role", ["operator", "manager", "operator_manager", "administrator"])
def test_each_role_sees_exactly_its_interactions_page_after_page(
    scoped_users: dict[str, User],
    client_for: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
    role: str,
) -> None:
    build(scoped_users)
    monkeypatch.setattr(site._registry[Interaction], "list_per_page", 4)
    user = scoped_users[role]
    client = client_for(user)
    column = date_column(client)
    cases: list[tuple[dict[str, str], list[int]]] = [
        ({}, expected(user)),
        ({"o": column}, expected(user, oldest_first=True)),
        ({"o": f"-{column}"}, expected(user)),
        ({"kind__exact": KINDS[0]}, expected(user, kind=KINDS[0])),
        ({"kind__exact": KINDS[2], "o": column}, expected(user, kind=KINDS[2], oldest_first=True)),
    ]
    for params, rows in cases:
        assert rows, params
        assert shown(client, params) == (rows, len(rows)), params


@pytest.mark.parametrize("role", ["operator", "manager", "operator_manager"])
def test_scope_reaches_no_interaction_of_anyone_else(
    scoped_users: dict[str, User], client_for: Callable[[User], Client], role: str
) -> None:
    build(scoped_users)
    user = scoped_users[role]
    visible = set(Interaction.objects.visible_to(user).values_list("pk", flat=True))
    assert visible == set(expected(user))
    assert Interaction.objects.visible_to(user).count() == len(visible)
    # Leads open for logging interactions are exactly the leads of those interactions.
    assert set(Lead.objects.open_for_interactions(user).values_list("pk", flat=True)) == set(
        Interaction.objects.filter(pk__in=visible).values_list("lead_id", flat=True)
    )
    # A change page of an interaction outside the scope answers 404.
    outside = Interaction.objects.exclude(pk__in=visible).first()
    assert outside is not None
    client = client_for(user)
    assert client.get(reverse("admin:crm_models_interaction_change", args=[outside.pk])).status_code == 404


def test_user_without_an_interaction_role_sees_none(marketer: User) -> None:
    InteractionFactory(lead=LeadFactory(owner=marketer))
    assert not Interaction.objects.visible_to(marketer).exists()
    assert not Lead.objects.open_for_interactions(marketer).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the filter form is PostgreSQL's")
def test_page_reads_the_scope_as_a_filter_and_the_count_as_a_join(operator_manager: User) -> None:
    """A sliced, ordered query (a page) gets `(lead_id IN (...)) IS TRUE`, which
    PostgreSQL keeps as a hashed filter on the date index; anything else (the
    count, its estimate, a lookup by id) the plain IN, which it can estimate."""
    scoped = Interaction.objects.visible_to(operator_manager)
    page = str(scoped.order_by("-happened_at", "-id")[:50].query)
    assert "IS TRUE" in page
    assert " UNION " in page  # both roles: one set of lead ids
    assert "IS TRUE" not in str(scoped.order_by().values("pk").query)
    assert "IS TRUE" not in str(scoped.order_by()[:10001].query)
    assert "IS TRUE" not in str(scoped.filter(pk=1).query)
