"""Customers and contracts keep their own copy of the words they are searched
by (crm_models/search_text.py), and the database keeps it true whatever
writes the rows: a new row, a renamed lead, a renamed or moved contract, a
bulk update. Searched through the lists as a manager."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from crm_models.models import Contract, Customer, Lead
from tests.factories import ContractFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def texts(contract: Contract) -> tuple[str, str]:
    contract = Contract.objects.select_related("customer").get(pk=contract.pk)
    return contract.customer.search_text, contract.search_text


def listed(client: Client, model: str, term: str) -> set[int]:
    response = client.get(reverse(f"admin:crm_models_{model}_changelist"), {"q": term})
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_new_rows_hold_their_words(manager: User) -> None:
    contract = ContractFactory(
        name="Website setup",
        customer__account_manager=manager,
        customer__lead__first_name="Анна",
        customer__lead__last_name="Кузнецова",
        customer__lead__company="Acme",
        customer__lead__email="anna@acme.example",
    )
    assert texts(contract) == (
        "Анна Кузнецова Acme anna@acme.example",
        "Website setup Анна Кузнецова Acme anna@acme.example",
    )


def test_a_renamed_lead_is_found_by_its_new_name_only(
    manager: User, client_for: Callable[[User], Client]
) -> None:
    contract = ContractFactory(
        name="Support", customer__account_manager=manager, customer__lead__last_name="Old"
    )
    lead = contract.customer.lead
    lead.last_name = "Новикова"
    lead.save()
    client = client_for(manager)
    assert listed(client, "customer", "новикова") == {contract.customer_id}
    assert listed(client, "contract", "новикова") == {contract.pk}
    assert listed(client, "customer", "Old") == set()
    assert listed(client, "contract", "Old") == set()


def test_a_bulk_update_of_leads_passes_on_the_words(manager: User) -> None:
    contracts = [ContractFactory(name=f"C{n}", customer__account_manager=manager) for n in range(3)]
    Lead.objects.filter(customer__contracts__in=contracts).update(company="Globex")
    for contract in contracts:
        lead = Lead.objects.get(customer__contracts=contract)
        words = f"{lead.first_name} {lead.last_name} Globex {lead.email}"
        assert texts(contract) == (words, f"{contract.name} {words}")


def test_the_words_cannot_be_written_stale(manager: User) -> None:
    contract = ContractFactory(customer__account_manager=manager)
    expected = texts(contract)
    Customer.objects.filter(pk=contract.customer_id).update(search_text="stale")
    Contract.objects.filter(pk=contract.pk).update(search_text="stale")
    assert texts(contract) == expected


def test_a_renamed_or_moved_contract_is_found_by_its_new_words(
    manager: User, client_for: Callable[[User], Client]
) -> None:
    contract = ContractFactory(
        name="Alpha", customer__account_manager=manager, customer__lead__last_name="First"
    )
    other = CustomerFactory(account_manager=manager, lead__last_name="Second")
    contract.name = "Beta"
    contract.save()
    client = client_for(manager)
    assert listed(client, "contract", "beta first") == {contract.pk}
    assert listed(client, "contract", "alpha") == set()
    Contract.objects.filter(pk=contract.pk).update(customer=other)
    assert listed(client, "contract", "beta second") == {contract.pk}
    assert listed(client, "contract", "first") == set()


def test_a_customer_moved_to_another_lead_takes_its_words(manager: User) -> None:
    contract = ContractFactory(
        name="Gamma", customer__account_manager=manager, customer__lead__last_name="Before"
    )
    lead = CustomerFactory(lead__last_name="After").lead
    Customer.objects.filter(lead=lead).delete()
    Customer.objects.filter(pk=contract.customer_id).update(lead=lead)
    customer_text, contract_text = texts(contract)
    assert customer_text.split()[1] == "After"
    assert contract_text.split()[:3] == ["Gamma", lead.first_name, "After"]


def test_words_of_a_contract_span_its_name_and_its_customer(
    manager: User, client_for: Callable[[User], Client]
) -> None:
    """ "Kuznetsova website" finds Kuznetsova's website contract, though
    neither the name nor the customer holds both words."""
    wanted = ContractFactory(
        name="Website", customer__account_manager=manager, customer__lead__last_name="Kuznetsova"
    )
    ContractFactory(name="Website", customer__account_manager=manager, customer__lead__last_name="Petrova")
    ContractFactory(name="Support", customer=wanted.customer)
    assert listed(client_for(manager), "contract", "kuznetsova web") == {wanted.pk}


def test_history_does_not_keep_the_words(manager: User) -> None:
    contract = ContractFactory(customer__account_manager=manager)
    for model in (Contract, Customer):
        fields = {field.name for field in model.history.model._meta.get_fields()}  # type: ignore[attr-defined]
        assert "search_text" not in fields
    assert contract.history.count() == 1
