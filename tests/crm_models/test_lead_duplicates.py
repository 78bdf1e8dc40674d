"""A duplicate contact in the lead form stands on its field and says where the
original is: a link for a user who may open it, otherwise whom to ask."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from crm_models.models import Lead
from tests.crm_models.test_lead_form import lead_payload
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db


def field_errors(response, field: str) -> list[str]:
    return list(response.context["adminform"].form.errors.get(field, []))


@pytest.mark.parametrize(
    ("field", "typed", "sentence"),
    [
        ("email", " Ivan@Example.com", "A lead with this e-mail already exists."),
        ("phone", "8 916 123-45-67", "A lead with this phone number already exists."),
    ],
)
def test_operator_sees_a_link_to_their_own_original(
    field: str, typed: str, sentence: str, operator: User, client_for: Callable[[User], Client]
) -> None:
    original = LeadFactory(
        first_name="Ivan", last_name="Petrov", email="ivan@example.com", phone="+79161234567", owner=operator
    )

    response = client_for(operator).post(
        reverse("admin:crm_models_lead_add"), lead_payload(CampaignFactory(), **{field: typed})
    )

    assert response.status_code == 200
    url = reverse("admin:crm_models_lead_change", args=[original.pk])
    assert field_errors(response, field) == [
        f'{sentence} <a class="underline" href="{url}">Open “Ivan Petrov”</a>'
    ]
    assert f'href="{url}"' in response.content.decode()
    assert response.context["adminform"].form.non_field_errors() == []
    assert Lead.objects.count() == 1


def test_operator_is_told_to_ask_an_administrator_about_a_colleagues_lead(
    operator: User, operator2: User, client_for: Callable[[User], Client]
) -> None:
    original = LeadFactory(
        first_name="Zinaida", last_name="Secretova", email="ivan@example.com", owner=operator2
    )

    response = client_for(operator).post(
        reverse("admin:crm_models_lead_add"), lead_payload(CampaignFactory(), email="ivan@example.com")
    )

    assert response.status_code == 200
    assert field_errors(response, "email") == [
        "A lead with this e-mail already exists. It belongs to a colleague's lead that you cannot open; "
        "ask an administrator to give it to you."
    ]
    html = response.content.decode()
    assert reverse("admin:crm_models_lead_change", args=[original.pk]) not in html
    for leak in ("Zinaida", "Secretova", operator2.username, operator2.last_name):
        assert leak not in html
    assert Lead.objects.count() == 1


def test_changing_a_lead_to_anothers_phone_links_for_a_manager(
    manager: User, operator: User, client_for: Callable[[User], Client]
) -> None:
    original = LeadFactory(first_name="Olga", last_name="", phone="+79161234567", owner=operator)
    lead = LeadFactory(first_name="Petr", email="petr@example.com", phone="", owner=operator)

    response = client_for(manager).post(
        reverse("admin:crm_models_lead_change", args=[lead.pk]),
        lead_payload(
            lead.campaign,
            first_name="Petr",
            email="petr@example.com",
            phone="+7 916 123 45 67",
            owner=operator.pk,
        ),
    )

    assert response.status_code == 200
    url = reverse("admin:crm_models_lead_change", args=[original.pk])
    assert field_errors(response, "phone") == [
        f'A lead with this phone number already exists. <a class="underline" href="{url}">Open “Olga”</a>'
    ]
    lead.refresh_from_db()
    assert lead.phone == ""


def test_saving_a_lead_with_its_own_contacts_is_no_duplicate(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(first_name="Ivan", email="ivan@example.com", phone="+79161234567", owner=operator)

    response = client_for(operator).post(
        reverse("admin:crm_models_lead_change", args=[lead.pk]),
        lead_payload(lead.campaign, email="IVAN@example.com", phone="+79161234567"),
    )

    assert response.status_code == 302
