"""Money in the lists as the language writes it, with the currency."""

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.factories import CampaignFactory, ContractFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "expected"), [("ru", "3\xa0000\xa0000,00\xa0₽"), ("en", "3,000,000.00\xa0₽")]
)
def test_money_columns(
    language: str, expected: str, administrator: User, client_for: Callable[[User], Client]
) -> None:
    ServiceFactory(price=Decimal("3000000"))
    CampaignFactory(budget=Decimal("3000000"))
    ContractFactory(amount=Decimal("3000000"))
    client = client_for(administrator)
    client.cookies["django_language"] = language
    for model in ("service", "campaign", "contract"):
        html = client.get(reverse(f"admin:crm_models_{model}_changelist")).content.decode()
        assert expected in html.replace("&nbsp;", "\xa0"), model
        assert not re.search(r">\s*3000000[.,]00\s*<", html), model


@pytest.mark.parametrize(
    ("language", "expected"), [("ru", "3\xa0000\xa0000,00\xa0₽"), ("en", "3,000,000.00\xa0₽")]
)
def test_customer_page_contract_amounts(
    language: str, expected: str, manager: User, client_for: Callable[[User], Client]
) -> None:
    contract = ContractFactory(amount=Decimal("3000000"), customer__account_manager=manager)
    client = client_for(manager)
    client.cookies["django_language"] = language

    response = client.get(reverse("admin:crm_models_customer_change", args=[contract.customer_id]))

    assert response.status_code == 200
    html = response.content.decode().replace("&nbsp;", "\xa0")
    assert expected in html
    assert not re.search(r">\s*3000000[.,]00\s*<", html)
