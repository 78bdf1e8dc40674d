"""Every admin page of the CRM opens for the role that may open it, and answers
403 for the others, as DESIGN.md's matrix implies (cf. django/tests/admin_views)."""

from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from crm_models.roles import Role
from tests.factories import (
    CampaignFactory,
    ContractFactory,
    CustomerFactory,
    InteractionFactory,
    LeadFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db

# page -> roles that get 200 (the others get 403). "change" pages are opened on a
# row inside the role's scope; scope itself is tested in test_scope.py.
ALLOWED = {
    "service": {"changelist": "AOMG", "add": "AM", "change": "AOMG", "history": "AOMG"},
    "campaign": {"changelist": "AOMG", "add": "AM", "change": "AOMG", "history": "AOMG"},
    "lead": {"changelist": "AOMG", "add": "AOM", "change": "AOMG", "history": "AOMG"},
    "customer": {"changelist": "AG", "add": "A", "change": "AG", "history": "AG"},
    "contract": {"changelist": "AG", "add": "AG", "change": "AG", "history": "AG"},
    "interaction": {"changelist": "AOG", "add": "AOG", "change": "AOG", "history": "AOG"},
    "user": {"changelist": "A", "add": "A", "change": "A", "history": "A"},
    "group": {"changelist": "A", "add": "", "change": "A", "history": "A"},
}
LETTER = {Role.ADMINISTRATOR: "A", Role.OPERATOR: "O", Role.MARKETER: "M", Role.MANAGER: "G"}


@dataclass
class World:
    objects: dict[str, Model]


@pytest.fixture
def world(role_user: User) -> World:
    """One row of each model, inside the scope of `role_user`."""
    lead = LeadFactory(owner=role_user)
    customer = CustomerFactory(account_manager=role_user, lead__owner=role_user)
    return World(
        objects={
            "service": ServiceFactory(),
            "campaign": CampaignFactory(),
            "lead": lead,
            "customer": customer,
            "contract": ContractFactory(customer=customer),
            "interaction": InteractionFactory(lead=customer.lead),
            "user": role_user,
            "group": Group.objects.get(name=Role.OPERATOR),
        }
    )


def url_for(obj: Model, page: str) -> str:
    opts = obj._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_{page}"
    return reverse(name) if page in ("changelist", "add") else reverse(name, args=[obj.pk])


@pytest.mark.parametrize("page", ["changelist", "add", "change", "history"])
@pytest.mark.parametrize("model", list(ALLOWED))
def test_page_status_per_role(
    model: str, page: str, role_user: User, world: World, client_for: object
) -> None:
    role = Role(role_user.groups.get().name)
    client: Client = client_for(role_user)  # type: ignore[operator]
    obj = world.objects[model]
    if model == "user" and page in ("change", "history"):
        obj = User.objects.create_user("someone_else", is_staff=True)

    response = client.get(url_for(obj, page))

    expected = 200 if LETTER[role] in ALLOWED[model][page] else 403
    assert response.status_code == expected, f"{role} {model} {page}"


def test_every_registered_admin_page_opens_for_a_superuser(superuser: User, client_for: object) -> None:
    client: Client = client_for(superuser)  # type: ignore[operator]
    for model in admin.site._registry:
        opts = model._meta
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert response.status_code == 200, opts.label


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(reverse("admin:crm_models_lead_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
