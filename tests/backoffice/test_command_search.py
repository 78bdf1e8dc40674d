"""The command palette finds leads by name, e-mail or phone, within the user's scope."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def palette(client: Client, term: str) -> str:
    response = client.get(reverse("admin:search"), {"s": term, "extended": "1"})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("term", ["Zinaida", "zinaida.k@", "8 (916) 777-66-55"])
def test_operator_finds_own_lead(
    term: str, operator: User, operator2: User, client_for: Callable[[User], Client]
) -> None:
    own = LeadFactory(
        owner=operator, first_name="Zinaida", last_name="Kim", email="zinaida.k@x.ru", phone="+79167776655"
    )
    foreign = LeadFactory(owner=operator2, first_name="Zinaida", last_name="Hidden", email="zinaida.h@x.ru")

    body = palette(client_for(operator), term)

    assert reverse("admin:crm_models_lead_change", args=[own.pk]) in body
    assert reverse("admin:crm_models_lead_change", args=[foreign.pk]) not in body
    assert "Hidden" not in body


def test_marketer_sees_no_customers_in_the_palette(
    marketer: User, manager: User, client_for: Callable[[User], Client]
) -> None:
    from tests.factories import CustomerFactory

    customer = CustomerFactory(account_manager=manager, lead__first_name="Yaroslav")
    body = palette(client_for(marketer), "Yaroslav")

    assert reverse("admin:crm_models_lead_change", args=[customer.lead_id]) in body
    assert reverse("admin:crm_models_customer_change", args=[customer.pk]) not in body


@pytest.mark.parametrize("extended", [False, True])
@pytest.mark.parametrize("page", ["abc", "0", "-1", "999999", "1.5", ""])
def test_a_page_that_does_not_exist_is_not_found(
    page: str, extended: bool, operator: User, client_for: Callable[[User], Client]
) -> None:
    """unfold's search view handed `page` to the paginator unchecked (500)."""
    LeadFactory(owner=operator, first_name="Zinaida")
    params = {"s": "zin", "page": page, **({"extended": "1"} if extended else {})}

    response = client_for(operator).get(reverse("admin:search"), params)

    assert response.status_code == 404


@pytest.mark.parametrize("extended", [False, True])
def test_the_first_page_of_results_is_found(
    extended: bool, operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(owner=operator, first_name="Zinaida")
    params = {"s": "zinaida", "page": "1", **({"extended": "1"} if extended else {})}

    response = client_for(operator).get(reverse("admin:search"), params)

    assert response.status_code == 200
    if extended:
        assert reverse("admin:crm_models_lead_change", args=[lead.pk]) in response.content.decode()


def test_the_admin_site_is_the_projects_own() -> None:
    from django.contrib import admin

    from backoffice.sites import CrmAdminSite

    assert isinstance(admin.site, CrmAdminSite)
