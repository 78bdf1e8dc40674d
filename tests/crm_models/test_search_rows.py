"""Searches find exactly the rows a plain reading of the rule gives, within
each role's scope, in the lead, customer, contract and interaction lists and
the command palette (issue 19): a phone by its whole number typed any way or
by its last four or more digits; an e-mail whole or by its beginning; other
terms as words, each starting a word of the first name, last name, company or
e-mail, in any order, either alphabet and case, ё as е. As each role, never as
a superuser.
"""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from crm_models.models import Contract, Customer, Interaction, Lead
from crm_models.normalization import normalize_email, phone_search_term
from crm_models.roles import Role
from crm_models.selectors import search
from tests.factories import ContractFactory, CustomerFactory, InteractionFactory, LeadFactory

pytestmark = pytest.mark.django_db

TERMS = [
    "elena moroz",
    "MOROZ el",
    "elena",
    "E.Morozova1@",
    "e.morozova1@example.com",
    "example.com",
    "@example",
    "mor mor",
    "anna petrova elektra",
    "elektra moroz.anna ANNA",
    "van dijk",
    "DIJK",
    "иван смирн",
    "СМИРНОВ ivan.s",
    "Ёлкина",
    "елкин",
    "élodie MOR",
    "e_e% morozova",
    "0001",
    "55-00-01",
    "8 916 555-01-01",
    "+7 (916) 5550002",
    # Characters a text search query reads as its own syntax, typed as text.
    "o'bri d'",
    "o'brien\\x",
    "a&b (hold",
    "!x:* |",
    "zorro elena",
]

PEOPLE = [
    # first name, last name, company, e-mail
    ("Elena", "Morozova", "", "e.morozova@example.com"),
    ("Elena", "Smirnova", "", "elena.smirnova@example.com"),
    ("Morozova", "Elena", "", ""),
    ("Elenka", "Moroz", "Moroz LLC", "em@example.org"),
    ("Anna", "Petrova", "Elektra", "moroz.anna@example.com"),
    ("Anna", "Morozova", "", "elena1@example.com"),
    ("Ivan", "Morozov", "", "ivan@example.com"),
    ("Olga", "Elenina", "Mor", ""),
    ("Jan", "van Dijk", "", "jan@dijk.example"),
    ("Иван", "Смирнов", "", "ivan.smirnov@example.com"),
    ("Смирнов", "Иванов", "", ""),
    ("Алёна", "Ёлкина", "", ""),
    ("Елена", "Елкина", "", ""),
    ("Élodie", "Moreau", "", "elodie@example.com"),
    ("Élodie", "Petrova", "Morel", ""),
    ("Vera", "Morozova", "", "e_e%vera@example.com"),
    ("D'Arcy", "O'Brien\\x", "A&B (Holding) | !x:*", ""),
]


def matches(lead: Lead, term: str) -> bool:
    """The search rule, read plainly in Python."""
    term = term.strip()
    digits = "".join(char for char in term if char.isdigit())
    if len(digits) >= 4 and all(char.isdigit() or char in " +-()./" for char in term):
        return lead.phone.endswith(digits) or lead.phone == phone_search_term(term)
    name, at, _ = term.partition("@")
    if at and name and " " not in term:
        return lead.email.startswith(normalize_email(term))
    words = search.fold(" ".join([lead.first_name, lead.last_name, lead.company, lead.email])).split()
    return all(any(word.startswith(typed) for word in words) for typed in search.fold(term).split())


def starts_words(text: str, term: str) -> bool:
    typed = search.fold(term).split()
    words = search.fold(text).split()
    return bool(typed) and all(any(word.startswith(one) for word in words) for one in typed)


def contract_matches(contract: Contract, term: str) -> bool:
    """Words: each typed word starts a word of the contract's name or of its
    customer's lead; a phone or an e-mail: the lead's, or words of the name."""
    lead = contract.customer.lead
    term = term.strip()
    digits = "".join(char for char in term if char.isdigit())
    name, at, _ = term.partition("@")
    if (len(digits) >= 4 and all(char.isdigit() or char in " +-()./" for char in term)) or (
        at and name and " " not in term
    ):
        return matches(lead, term) or starts_words(contract.name, term)
    return starts_words(
        " ".join([contract.name, lead.first_name, lead.last_name, lead.company, lead.email]), term
    )


def build(users: dict[str, User]) -> None:
    """Every person once per owner; some of them customers of each manager, with
    a contract and an interaction each; contracts named after people too."""
    owners = ["operator", "operator2", "operator_manager"]
    managers = [None, "manager", "manager2", "operator_manager"]
    for number, (first, last, company, email) in enumerate(PEOPLE):
        for index, owner in enumerate(owners):
            lead = LeadFactory(
                owner=users[owner],
                first_name=first,
                last_name=last,
                company=company,
                email=email.replace("@", f"{index}@") if email else "",
                phone=f"+7916555{number:02d}{index:02d}",
            )
            InteractionFactory(lead=lead)
            account_manager = managers[(number + index) % len(managers)]
            if account_manager is not None:
                customer = CustomerFactory(lead=lead, account_manager=users[account_manager])
                ContractFactory(customer=customer, name=f"{last} {number}-{index}")


def visible(user: User, lead: Lead) -> bool:
    groups = set(user.groups.values_list("name", flat=True))
    customer = getattr(lead, "customer", None)
    return (
        Role.ADMINISTRATOR in groups
        or (Role.OPERATOR in groups and lead.owner_id == user.pk)
        or (Role.MANAGER in groups and customer is not None and customer.account_manager_id == user.pk)
    )


def found(client: Client, model: str, term: str) -> set[int]:
    """The rows a search lists (one page holds them all here), counted exactly."""
    response = client.get(reverse(f"admin:crm_models_{model}_changelist"), {"q": term})
    assert response.status_code == 200
    cl = response.context["cl"]
    rows = {row.pk for row in cl.result_list}
    assert (cl.result_count, cl.paginator.estimated) == (len(rows), False)
    return rows


@pytest.mark.parametrize("role", ["operator", "manager", "operator_manager", "administrator"])
def test_searches_find_exactly_the_matching_rows_in_scope(
    scoped_users: dict[str, User], client_for: Callable[[User], Client], role: str
) -> None:
    build(scoped_users)
    user = scoped_users[role]
    client = client_for(user)
    leads = list(Lead.objects.select_related("customer"))
    groups = set(user.groups.values_list("name", flat=True))
    for term in TERMS:
        matching = [lead for lead in leads if matches(lead, term)]
        if groups & {Role.ADMINISTRATOR, Role.MANAGER}:
            expected_leads = {lead.pk for lead in matching}  # managers see every lead
        else:
            expected_leads = {lead.pk for lead in matching if lead.owner_id == user.pk}
        assert found(client, "lead", term) == expected_leads, term
        in_scope = {lead.pk for lead in matching if visible(user, lead)}
        expected_interactions = set(
            Interaction.objects.filter(lead__in=in_scope).values_list("pk", flat=True)
        )
        assert found(client, "interaction", term) == expected_interactions, term
        if groups & {Role.ADMINISTRATOR, Role.MANAGER}:
            customers = Customer.objects.visible_to(user).select_related("lead")
            expected_customers = {customer.pk for customer in customers if matches(customer.lead, term)}
            assert found(client, "customer", term) == expected_customers, term
            contracts = Contract.objects.visible_to(user).select_related("customer__lead")
            expected_contracts = {contract.pk for contract in contracts if contract_matches(contract, term)}
            assert found(client, "contract", term) == expected_contracts, term
    # The data has matches for every term but the last.
    assert [any(matches(lead, term) for lead in leads) for term in TERMS] == [True] * (len(TERMS) - 1) + [
        False
    ]


SEARCH_FORMS = [
    # (typed, the leads it finds by their first name)
    ("van Dijk", {"Jan"}),
    ("dijk jan", {"Jan"}),
    ("DIJK", {"Jan"}),
    ("смирнова анна", {"Анна"}),
    ("Смирн", {"Анна", "Иван"}),
    ("ёлкина", {"Алёна", "Елена"}),
    ("Елкина", {"Алёна", "Елена"}),
    ("алена", {"Алёна"}),
    ("0418", {"Jan"}),
    ("000-04-18", {"Jan"}),
    ("5551234", {"Анна"}),
    ("555 12 34", {"Анна"}),
    ("8 (916) 000-04-18", {"Jan"}),
    ("+79160000418", {"Jan"}),
    ("jan@dijk.example", {"Jan"}),
    ("JAN@DIJK", {"Jan"}),
    ("dijk.example", {"Jan"}),
    ("@dijk.example", {"Jan"}),
    ("ivan.smirnov", {"Иван"}),
    ("example.org", {"Иван"}),
    ("acme", {"Иван"}),
    ("holding", {"Иван"}),
    ("ijk", set()),  # inside a word: not a word's beginning
    ("---", set()),
]


@pytest.mark.parametrize(("typed", "names"), SEARCH_FORMS)
def test_each_form_people_type_finds_the_lead(
    operator: User, client_for: Callable[[User], Client], typed: str, names: set[str]
) -> None:
    LeadFactory(
        owner=operator, first_name="Jan", last_name="van Dijk", email="jan@dijk.example", phone="+79160000418"
    )
    LeadFactory(owner=operator, first_name="Анна", last_name="Смирнова", email="", phone="+74955551234")
    LeadFactory(
        owner=operator,
        first_name="Иван",
        last_name="Смирнов",
        company="ACME-Holding",
        email="ivan.smirnov@example.org",
    )
    LeadFactory(owner=operator, first_name="Алёна", last_name="Ёлкина")
    LeadFactory(owner=operator, first_name="Елена", last_name="Елкина")
    response = client_for(operator).get(reverse("admin:crm_models_lead_changelist"), {"q": typed})
    assert {lead.first_name for lead in response.context["cl"].result_list} == names


def test_the_command_palette_finds_what_the_lists_find(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(owner=operator, first_name="Jan", last_name="van Dijk", phone="+79160000418")
    client = client_for(operator)
    for typed in ("dijk van", "000-04-18", "ДЖ", "jan"):
        response = client.get(reverse("admin:search"), {"s": typed, "extended": "1"})
        assert response.status_code == 200
        found = str(lead) in response.content.decode()
        assert found is (typed != "ДЖ"), typed


@pytest.mark.parametrize("typed", ["x" * 2100, "ж" * 1100, "Jan " + "y" * 3000])
def test_a_word_longer_than_any_field_finds_nothing(
    operator: User, client_for: Callable[[User], Client], typed: str
) -> None:
    LeadFactory(owner=operator, first_name="Jan", last_name="x" * 100)
    response = client_for(operator).get(reverse("admin:crm_models_lead_changelist"), {"q": typed})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
