"""Reverting to a historical version is an edit of the live record: the same
form, read-only fields and domain rules as its change form; only the values the
form starts with come from the version."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from crm_models.models import Customer, Lead, LeadStatus
from crm_models.services.conversion import lead_convert
from tests.crm_models.test_conversion import contract_data
from tests.factories import LeadFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def revert_url(lead: Lead, version_id: int) -> str:
    return reverse("admin:crm_models_lead_simple_history", args=[lead.pk, version_id])


def lead_post(lead: Lead, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "campaign": lead.campaign_id,
        "status": lead.status,
        "owner": lead.owner_id,
        "notes": lead.notes,
    }
    data.update(changes)
    return data


@pytest.fixture
def converted(operator: User, manager: User) -> tuple[Lead, int]:
    """An operator's lead, first "qualified" as Olga, converted by a manager:
    the lead and the id of its first (qualified, unconverted) version."""
    lead = LeadFactory(owner=operator, first_name="Olga", status=LeadStatus.QUALIFIED)
    first_version = lead.history.get().history_id
    outcome = lead_convert(lead_id=lead.pk, acting_user=manager, contract=contract_data(ServiceFactory()))
    assert outcome.result == "converted"
    Lead.objects.filter(pk=lead.pk).update(first_name="Olga-Maria")
    lead.refresh_from_db()
    return lead, first_version


@pytest.mark.parametrize("role", ["operator", "manager", "administrator"])
def test_revert_of_a_converted_lead_keeps_it_converted(
    role: str,
    converted: tuple[Lead, int],
    request: pytest.FixtureRequest,
    client_for: Callable[[User], Client],
) -> None:
    """The reproduction: the revert form of a converted lead POSTed with
    status=qualified made it "qualified" without a conversion date while its
    customer stayed."""
    lead, first_version = converted
    converted_at = lead.converted_at
    customer = Customer.objects.get(lead=lead)

    response = client_for(request.getfixturevalue(role)).post(
        revert_url(lead, first_version), lead_post(lead, first_name="Olga", status=LeadStatus.QUALIFIED)
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.first_name, lead.status, lead.converted_at) == ("Olga", LeadStatus.CONVERTED, converted_at)
    assert Customer.objects.get(lead=lead) == customer
    latest = lead.history.latest()
    assert (latest.status, latest.converted_at) == (LeadStatus.CONVERTED, converted_at)


def test_marketer_cannot_revert(
    converted: tuple[Lead, int], marketer: User, client_for: Callable[[User], Client]
) -> None:
    lead, first_version = converted

    response = client_for(marketer).post(
        revert_url(lead, first_version), lead_post(lead, first_name="Olga", status=LeadStatus.QUALIFIED)
    )

    assert response.status_code == 403
    lead.refresh_from_db()
    assert (lead.first_name, lead.status) == ("Olga-Maria", LeadStatus.CONVERTED)


@pytest.mark.parametrize("role", ["operator", "manager", "administrator"])
def test_revert_page_computes_read_only_fields_on_the_live_lead(
    role: str,
    converted: tuple[Lead, int],
    request: pytest.FixtureRequest,
    client_for: Callable[[User], Client],
) -> None:
    lead, first_version = converted

    response = client_for(request.getfixturevalue(role)).get(revert_url(lead, first_version))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "status" not in form.fields  # read-only, as on the converted lead's change form
    assert form.instance.pk == lead.pk
    assert form.instance.converted_at == lead.converted_at
    assert form["first_name"].value() == "Olga"  # the version's value, to revert to
    assert 'name="status"' not in response.content.decode()


def test_operator_revert_keeps_the_owner(
    operator: User, operator2: User, administrator: User, client_for: Callable[[User], Client]
) -> None:
    """The owner is read-only for operators: reverting to a version owned by
    someone else neither hands the lead over nor takes it out of their scope."""
    lead = LeadFactory(owner=operator2, first_name="Olga")
    first_version = lead.history.get().history_id
    lead.owner = operator
    lead.first_name = "Olga-Maria"
    lead.save()

    response = client_for(operator).post(
        revert_url(lead, first_version), lead_post(lead, first_name="Olga", owner=operator2.pk)
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.first_name, lead.owner) == ("Olga", operator)


def test_revert_is_validated_like_the_change_form(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    other = LeadFactory(email="taken@example.ru")
    lead = LeadFactory(owner=operator, first_name="Olga", email="olga@example.ru")
    first_version = lead.history.get().history_id

    response = client_for(operator).post(
        revert_url(lead, first_version), lead_post(lead, email="TAKEN@example.ru")
    )

    assert response.status_code == 200
    # The same message as the change form's: on the field, without opening a colleague's lead.
    assert response.context["adminform"].form.errors == {
        "email": [
            "A lead with this e-mail already exists. It belongs to a colleague's lead that you "
            "cannot open; ask an administrator to give it to you."
        ]
    }
    lead.refresh_from_db()
    assert lead.email == "olga@example.ru"
    assert other.email == "taken@example.ru"


def test_version_of_another_lead_is_not_found(operator: User, client_for: Callable[[User], Client]) -> None:
    lead = LeadFactory(owner=operator)
    other = LeadFactory(owner=operator)

    response = client_for(operator).get(revert_url(lead, other.history.get().history_id))

    assert response.status_code == 404


@pytest.mark.parametrize("role", ["marketer", "manager"])
def test_view_only_user_reads_the_version_without_a_form(
    role: str, operator: User, request: pytest.FixtureRequest, client_for: Callable[[User], Client]
) -> None:
    """Marketers only view leads; managers only view services."""
    if role == "marketer":
        obj: Any = LeadFactory(owner=operator, first_name="Olga")
        obj.first_name = "Olga-Maria"
        field = "first_name"
    else:
        obj = ServiceFactory(name="SEO audit")
        obj.name = "SEO audit, full"
        field = "name"
    version = obj.history.get().history_id
    obj.save()
    url = reverse(f"admin:crm_models_{obj._meta.model_name}_simple_history", args=[obj.pk, version])

    response = client_for(request.getfixturevalue(role)).get(url)

    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    assert response.context["revert_disabled"] is True
    assert f'name="{field}"' not in body
    assert shown(response)[field] == ("Olga" if role == "marketer" else "SEO audit")


def shown(response: Any) -> dict[str, str]:
    """The read-only values a version page displays, by field name."""
    values = {}
    for fieldset in response.context["adminform"]:
        for line in fieldset:
            for admin_field in line:
                if admin_field.is_readonly:
                    values[admin_field.field["name"]] = str(admin_field.contents())
    return values
