"""No dead ends: references to rows the user cannot open are text; a
converted lead leads to its customer and contract and offers no conversion."""

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.factories import ContractFactory, InteractionFactory, LeadFactory

pytestmark = pytest.mark.django_db

USER_LINK = re.compile(r'href="/admin/auth/user/\d+/')


def test_operator_sees_the_owner_as_text(operator: User, client_for: Callable[[User], Client]) -> None:
    operator.first_name, operator.last_name = "Olga", "Operatorova"
    operator.save()
    lead = LeadFactory(owner=operator)
    html = client_for(operator).get(reverse("admin:crm_models_lead_change", args=[lead.pk])).content.decode()
    assert not USER_LINK.search(html)
    assert '<div class="readonly break-words max-w-2xl *:rounded-default">Olga Operatorova</div>' in html


def test_operator_sees_an_interactions_author_as_text(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    interaction = InteractionFactory(lead=LeadFactory(owner=operator), author=operator)
    html = (
        client_for(operator)
        .get(reverse("admin:crm_models_interaction_change", args=[interaction.pk]))
        .content.decode()
    )
    assert not USER_LINK.search(html)


def test_administrator_still_gets_the_link(administrator: User, client_for: Callable[[User], Client]) -> None:
    interaction = InteractionFactory()
    html = (
        client_for(administrator)
        .get(reverse("admin:crm_models_interaction_change", args=[interaction.pk]))
        .content.decode()
    )
    assert USER_LINK.search(html)


def test_converted_lead_links_to_customer_and_contract_without_convert(
    manager: User, client_for: Callable[[User], Client]
) -> None:
    contract = ContractFactory(customer__account_manager=manager, name="Д-7")
    lead = contract.customer.lead
    html = client_for(manager).get(reverse("admin:crm_models_lead_change", args=[lead.pk])).content.decode()
    assert f'href="{reverse("admin:crm_models_customer_change", args=[contract.customer.pk])}"' in html
    assert (
        f'<a class="text-link" href="{reverse("admin:crm_models_contract_change", args=[contract.pk])}">Д-7</a>'
        in html
    )
    assert reverse("admin:crm_models_lead_convert_lead_detail", args=[lead.pk]) not in html


def test_converted_lead_of_another_manager_names_them_as_text(
    manager: User, manager2: User, client_for: Callable[[User], Client]
) -> None:
    contract = ContractFactory(customer__account_manager=manager2, name="Д-8")
    lead = contract.customer.lead
    html = client_for(manager).get(reverse("admin:crm_models_lead_change", args=[lead.pk])).content.decode()
    assert f'href="{reverse("admin:crm_models_customer_change", args=[contract.customer.pk])}"' not in html
    assert "Д-8" in html
    assert reverse("admin:crm_models_lead_convert_lead_detail", args=[lead.pk]) not in html


def test_open_lead_still_offers_convert(manager: User, client_for: Callable[[User], Client]) -> None:
    lead = LeadFactory()
    html = client_for(manager).get(reverse("admin:crm_models_lead_change", args=[lead.pk])).content.decode()
    assert reverse("admin:crm_models_lead_convert_lead_detail", args=[lead.pk]) in html
