"""Role scope on every admin path: a grid of role x path x (in scope, out of
scope, no such row), as each role, never as a superuser (issue 3).

A row outside the scope answers exactly like a row that does not exist (404),
its data never appears in a response, and refused writes change nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from crm_models.models import Contract, Interaction, Lead, LeadStatus
from tests.factories import ContractFactory, CustomerFactory, InteractionFactory, LeadFactory

pytestmark = pytest.mark.django_db

MISSING_PK = 987_654_321


@dataclass
class Case:
    """`role` may see `inside` but not `outside`; `marker(obj)` is text that
    identifies a row in a response body."""

    role: str
    model: str
    inside: Callable[[dict[str, User]], Model]
    outside: Callable[[dict[str, User]], Model]


def _lead(owner_key: str) -> Callable[[dict[str, User]], Model]:
    return lambda users: LeadFactory(owner=users[owner_key])


def _customer(manager_key: str) -> Callable[[dict[str, User]], Model]:
    return lambda users: CustomerFactory(account_manager=users[manager_key])


def _contract(manager_key: str) -> Callable[[dict[str, User]], Model]:
    return lambda users: ContractFactory(customer__account_manager=users[manager_key])


def _interaction_of_operator(owner_key: str) -> Callable[[dict[str, User]], Model]:
    return lambda users: InteractionFactory(lead__owner=users[owner_key])


def _interaction_of_customer(manager_key: str) -> Callable[[dict[str, User]], Model]:
    return lambda users: InteractionFactory(lead=CustomerFactory(account_manager=users[manager_key]).lead)


CASES = [
    Case("operator", "lead", _lead("operator"), _lead("operator2")),
    Case(
        "operator", "interaction", _interaction_of_operator("operator"), _interaction_of_operator("operator2")
    ),
    Case("manager", "customer", _customer("manager"), _customer("manager2")),
    Case("manager", "contract", _contract("manager"), _contract("manager2")),
    Case("manager", "interaction", _interaction_of_customer("manager"), _interaction_of_customer("manager2")),
]
IDS = [f"{case.role}-{case.model}" for case in CASES]


@pytest.fixture
def users(operator: User, operator2: User, manager: User, manager2: User) -> dict[str, User]:
    return {"operator": operator, "operator2": operator2, "manager": manager, "manager2": manager2}


def marker(obj: Model) -> str:
    """A value unique to the row that the admin would print if it leaked."""
    if isinstance(obj, Lead):
        return obj.email
    if isinstance(obj, Interaction):
        return obj.summary
    if isinstance(obj, Contract):
        return obj.name
    return obj.lead.email  # type: ignore[attr-defined]


def admin_url(model: str, page: str, pk: int, *extra: object) -> str:
    return reverse(f"admin:crm_models_{model}_{page}", args=[pk, *extra])


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("page", ["change", "delete", "history"])
def test_object_pages_answer_404_outside_scope(
    case: Case, page: str, users: dict[str, User], client_for: Callable[[User], Client]
) -> None:
    inside, outside = case.inside(users), case.outside(users)
    user = users[case.role]
    client = client_for(user)
    # Without the delete permission every delete page is 403 (in scope or not),
    # which still tells nothing about whether a row exists.
    allowed = page != "delete" or user.has_perm(f"crm_models.delete_{case.model}")
    hidden = 404 if allowed else 403

    assert client.get(admin_url(case.model, page, inside.pk)).status_code == (200 if allowed else 403)
    response = client.get(admin_url(case.model, page, outside.pk))
    assert response.status_code == hidden
    assert marker(outside) not in response.content.decode()
    assert client.get(admin_url(case.model, page, MISSING_PK)).status_code == hidden


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_historical_version_page_answers_404_outside_scope(
    case: Case, users: dict[str, User], client_for: Callable[[User], Client]
) -> None:
    inside, outside = case.inside(users), case.outside(users)
    client = client_for(users[case.role])
    inside_version = inside.history.latest().history_id  # type: ignore[attr-defined]
    outside_version = outside.history.latest().history_id  # type: ignore[attr-defined]

    url = lambda obj, version: admin_url(case.model, "simple_history", obj.pk, version)  # noqa: E731
    assert client.get(url(inside, inside_version)).status_code == 200
    response = client.get(url(outside, outside_version))
    assert response.status_code == 404
    assert marker(outside) not in response.content.decode()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_changelist_lists_only_rows_in_scope(
    case: Case, users: dict[str, User], client_for: Callable[[User], Client]
) -> None:
    inside, outside = case.inside(users), case.outside(users)
    response = client_for(users[case.role]).get(reverse(f"admin:crm_models_{case.model}_changelist"))

    body = response.content.decode()
    assert response.status_code == 200
    assert marker(inside) in body
    assert marker(outside) not in body


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_delete_post_outside_scope_changes_nothing(
    case: Case, users: dict[str, User], client_for: Callable[[User], Client]
) -> None:
    outside = case.outside(users)
    response = client_for(users[case.role]).post(admin_url(case.model, "delete", outside.pk), {"post": "yes"})

    assert response.status_code in (403, 404)
    assert type(outside).objects.filter(pk=outside.pk).exists()


def test_operator_cannot_set_another_operators_lead_on_an_interaction(
    users: dict[str, User], client_for: Callable[[User], Client]
) -> None:
    foreign_lead = LeadFactory(owner=users["operator2"])
    response = client_for(users["operator"]).post(
        reverse("admin:crm_models_interaction_add"),
        {
            "lead": foreign_lead.pk,
            "kind": "call",
            "happened_at_0": "2026-01-10",
            "happened_at_1": "10:00",
            "summary": "x",
        },
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Interaction.objects.exists()


def test_operator_cannot_move_an_interaction_to_another_operators_lead(
    users: dict[str, User], client_for: Callable[[User], Client]
) -> None:
    interaction = InteractionFactory(lead__owner=users["operator"])
    own_lead_id = interaction.lead_id
    foreign_lead = LeadFactory(owner=users["operator2"])
    response = client_for(users["operator"]).post(
        admin_url("interaction", "change", interaction.pk),
        {
            "lead": foreign_lead.pk,
            "kind": "call",
            "happened_at_0": "2026-01-10",
            "happened_at_1": "10:00",
            "summary": "x",
        },
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    interaction.refresh_from_db()
    assert interaction.lead_id == own_lead_id


def test_manager_cannot_attach_a_contract_to_another_managers_customer(
    users: dict[str, User], client_for: Callable[[User], Client]
) -> None:
    from tests.factories import ServiceFactory

    foreign = CustomerFactory(account_manager=users["manager2"])
    response = client_for(users["manager"]).post(
        reverse("admin:crm_models_contract_add"),
        {
            "name": "Sneaky",
            "customer": foreign.pk,
            "service": ServiceFactory().pk,
            "amount": "10",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "signed_at": "2026-01-01",
        },
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Contract.objects.filter(name="Sneaky").exists()


@pytest.mark.parametrize(
    ("role", "model_name", "field_name", "make_inside", "make_outside"),
    [
        ("operator", "interaction", "lead", _lead("operator"), _lead("operator2")),
        ("manager", "contract", "customer", _customer("manager"), _customer("manager2")),
        (
            "manager",
            "interaction",
            "lead",
            lambda users: CustomerFactory(account_manager=users["manager"]).lead,
            lambda users: CustomerFactory(account_manager=users["manager2"]).lead,
        ),
    ],
)
def test_autocomplete_offers_only_rows_in_scope(
    role: str,
    model_name: str,
    field_name: str,
    make_inside: Callable,
    make_outside: Callable,
    users: dict[str, User],
    client_for: Callable[[User], Client],
) -> None:
    inside, outside = make_inside(users), make_outside(users)
    response = client_for(users[role]).get(
        reverse("admin:autocomplete"),
        {"app_label": "crm_models", "model_name": model_name, "field_name": field_name, "term": ""},
    )

    assert response.status_code == 200
    ids = {int(result["id"]) for result in response.json()["results"]}
    assert inside.pk in ids
    assert outside.pk not in ids


def test_lead_form_owner_is_forced_for_operators(
    users: dict[str, User], client_for: Callable[[User], Client]
) -> None:
    from tests.factories import CampaignFactory

    campaign = CampaignFactory()
    response = client_for(users["operator"]).post(
        reverse("admin:crm_models_lead_add"),
        {
            "first_name": "Ivan",
            "email": "ivan@example.com",
            "campaign": campaign.pk,
            "status": "new",
            "owner": users["operator2"].pk,
            "interactions-TOTAL_FORMS": "0",
            "interactions-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    assert Lead.objects.get(email="ivan@example.com").owner == users["operator"]


def test_view_only_user_cannot_revert_through_history(
    marketer: User, operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(owner=operator, first_name="Original")
    first_version = lead.history.earliest().history_id
    lead.first_name = "Changed"
    lead.save()

    response = client_for(marketer).post(
        admin_url("lead", "simple_history", lead.pk, first_version),
        {
            "first_name": "Original",
            "email": lead.email,
            "campaign": lead.campaign_id,
            "status": LeadStatus.NEW,
        },
    )

    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.first_name == "Changed"


def test_operator_reverts_own_lead_through_history(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(owner=operator, first_name="Original")
    first_version = lead.history.earliest().history_id
    lead.first_name = "Changed"
    lead.save()

    response = client_for(operator).post(
        admin_url("lead", "simple_history", lead.pk, first_version),
        {
            "first_name": "Original",
            "email": lead.email,
            "phone": lead.phone,
            "campaign": lead.campaign_id,
            "status": LeadStatus.NEW,
            "interactions-TOTAL_FORMS": "0",
            "interactions-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.first_name == "Original"
