"""Amounts and phones in the change forms' inputs as the language writes them,
and taken back: the form as the page shows it is posted again unchanged, and
the stored value is the same."""

from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.urls import reverse

from crm_models.models import Contract
from tests.crm_models.test_conversion_admin import form_data, start_action
from tests.factories import AdSpendFactory, CampaignFactory, ContractFactory, LeadFactory, ServiceFactory

pytestmark = pytest.mark.django_db

RU_AMOUNT = "3\xa0000\xa0000,00"
EN_AMOUNT = "3,000,000.00"


class FormFields(HTMLParser):
    """The values a browser would post for the page's change form: every
    named input (checked boxes only), select and textarea, files left out."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self.attrs_by_name: dict[str, dict[str, str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._in_form = False

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {key: value or "" for key, value in attrs_list}
        if tag == "form" and attrs.get("id", "").endswith("_form"):
            self._in_form = True
        if not self._in_form or "name" not in attrs:
            if tag == "option" and self._select is not None and "selected" in attrs:
                self.values.setdefault(self._select, []).append(attrs.get("value", ""))
            return
        name = attrs["name"]
        self.attrs_by_name.setdefault(name, attrs)
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in {"file", "submit", "button"} or (
                kind in {"checkbox", "radio"} and "checked" not in attrs
            ):
                return
            self.values.setdefault(name, []).append(attrs.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select":
            self._select = name
            self.values.setdefault(name, [])
        elif tag == "textarea":
            self._textarea = name
            self.values.setdefault(name, [""])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.values[self._textarea][-1] += data.removeprefix("\n")


def change_form(client: Client, url: str) -> FormFields:
    response = client.get(url)
    assert response.status_code == 200
    parser = FormFields()
    parser.feed(response.content.decode())
    return parser


def post_back(client: Client, url: str, form: FormFields, **changed: str) -> object:
    data: dict[str, object] = dict(form.values)
    data.update(changed)
    data["_save"] = "Save"
    return client.post(url, data)


MONEY_FORMS = [
    ("service", "price", "marketer", lambda amount: ServiceFactory(price=amount)),
    ("campaign", "budget", "marketer", lambda amount: CampaignFactory(budget=amount)),
    ("adspend", "amount", "marketer", lambda amount: AdSpendFactory(amount=amount)),
    ("contract", "amount", "administrator", lambda amount: ContractFactory(amount=amount)),
]


@pytest.mark.parametrize(("model", "field", "role", "make"), MONEY_FORMS, ids=[m[0] for m in MONEY_FORMS])
@pytest.mark.parametrize(("language", "shown"), [("ru", RU_AMOUNT), ("en", EN_AMOUNT)])
def test_money_input_shows_language_and_round_trips(
    model: str,
    field: str,
    role: str,
    make: Callable[[Decimal], models.Model],
    language: str,
    shown: str,
    request: pytest.FixtureRequest,
    client_for: Callable[[User], Client],
) -> None:
    obj = make(Decimal("3000000.00"))
    client = client_for(request.getfixturevalue(role))
    client.cookies["django_language"] = language
    url = reverse(f"admin:crm_models_{model}_change", args=[obj.pk])

    form = change_form(client, url)
    assert form.values[field] == [shown]
    assert form.attrs_by_name[field]["type"] == "text"
    assert form.attrs_by_name[field]["inputmode"] == "decimal"

    response = post_back(client, url, form)
    assert response.status_code == 302, response.content.decode()[:3000]  # type: ignore[attr-defined]
    obj.refresh_from_db()
    assert getattr(obj, field) == Decimal("3000000.00")
    # Posted back as shown: the admin saw no field changed.
    assert LogEntry.objects.get(object_id=str(obj.pk)).change_message == "[]"


@pytest.mark.parametrize(
    ("language", "typed", "stored"),
    [
        ("ru", "3\xa0000\xa0000,00", "3000000.00"),
        ("ru", "3 000 000,00", "3000000.00"),
        ("ru", "3\u202f000\u202f000,5", "3000000.50"),
        ("ru", "3000000.00", "3000000.00"),
        ("ru", "1234,56", "1234.56"),
        ("en", "3,000,000.00", "3000000.00"),
        ("en", "3000000.00", "3000000.00"),
        ("en", "3 000 000.25", "3000000.25"),
    ],
)
def test_money_input_takes_what_people_type(
    language: str, typed: str, stored: str, marketer: User, client_for: Callable[[User], Client]
) -> None:
    service = ServiceFactory(price=Decimal("1.00"))
    client = client_for(marketer)
    client.cookies["django_language"] = language
    url = reverse("admin:crm_models_service_change", args=[service.pk])

    response = post_back(client, url, change_form(client, url), price=typed)

    assert response.status_code == 302
    service.refresh_from_db()
    assert service.price == Decimal(stored)


@pytest.mark.parametrize(
    ("language", "typed", "message"),
    [
        ("ru", "3.000.000,00", "Введите число."),
        ("ru", "три рубля", "Введите число."),
        ("en", "3000000,00", "Enter a number."),
        ("en", "3,00,000.00", "Enter a number."),
        ("en", "-5", "The amount cannot be negative."),
    ],
)
def test_money_input_refuses_a_bad_amount_clearly(
    language: str, typed: str, message: str, marketer: User, client_for: Callable[[User], Client]
) -> None:
    service = ServiceFactory(price=Decimal("1.00"))
    client = client_for(marketer)
    client.cookies["django_language"] = language
    url = reverse("admin:crm_models_service_change", args=[service.pk])

    response = post_back(client, url, change_form(client, url), price=typed)

    assert response.status_code == 200
    html = response.content.decode()  # type: ignore[attr-defined]
    assert message in html
    service.refresh_from_db()
    assert service.price == Decimal("1.00")
    # The refused text is shown back as typed, to be corrected.
    parser = FormFields()
    parser.feed(html)
    assert parser.values["price"] == [typed]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_phone_input_shows_international_form_and_round_trips(
    language: str, operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(phone="+79160000418", owner=operator)
    client = client_for(operator)
    client.cookies["django_language"] = language
    url = reverse("admin:crm_models_lead_change", args=[lead.pk])

    form = change_form(client, url)
    assert form.values["phone"] == ["+7 916 000-04-18"]
    assert form.attrs_by_name["phone"]["type"] == "tel"
    assert "maxlength" not in form.attrs_by_name["phone"]

    response = post_back(client, url, form)
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.phone == "+79160000418"
    # The shown form is no change of the phone.
    assert LogEntry.objects.get(object_id=str(lead.pk)).change_message == "[]"


@pytest.mark.parametrize(
    "typed", ["8 (916) 000-04-18", "+7 916 000 04 18", "79160000418", "+7\xa0916\xa0000-04-18", "9160000418"]
)
def test_phone_input_takes_any_format(
    typed: str, operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(phone="+79161111111", owner=operator)
    client = client_for(operator)
    client.cookies["django_language"] = "ru"
    url = reverse("admin:crm_models_lead_change", args=[lead.pk])

    response = post_back(client, url, change_form(client, url), phone=typed)

    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.phone == "+79160000418"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Enter a valid phone number, e.g. +7 916 123-45-67."),
        ("ru", "Введите корректный номер телефона, например +7 916 123-45-67."),
    ],
)
def test_phone_input_refuses_a_bad_number_clearly(
    language: str, message: str, operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(phone="+79161111111", owner=operator)
    client = client_for(operator)
    client.cookies["django_language"] = language
    url = reverse("admin:crm_models_lead_change", args=[lead.pk])

    response = post_back(client, url, change_form(client, url), phone="12345")

    assert response.status_code == 200
    html = response.content.decode()  # type: ignore[attr-defined]
    assert message in html
    lead.refresh_from_db()
    assert lead.phone == "+79161111111"
    parser = FormFields()
    parser.feed(html)
    assert parser.values["phone"] == ["12345"]


@pytest.mark.parametrize(("language", "shown"), [("ru", "1\xa0500\xa0000,00"), ("en", "1,500,000.00")])
def test_conversion_amount_shown_in_the_language_and_taken_back(
    language: str, shown: str, manager: User, client_for: Callable[[User], Client]
) -> None:
    service = ServiceFactory(name="Audit", price=Decimal("1500000.00"))
    lead = LeadFactory(first_name="Ivan", last_name="Petrov", campaign=CampaignFactory(service=service))
    client = client_for(manager)
    client.cookies["django_language"] = language

    page = start_action(client, [lead])
    html = page.content.decode()
    assert f'name="contracts-0-amount" value="{shown}"' in html
    assert f'data-price="1500000.00" data-price-text="{shown}" selected>Audit</option>' in html

    data = form_data(page, **{"contracts-0-amount": shown})
    response = client.post(reverse("admin:crm_models_lead_changelist"), data)

    assert response.status_code == 302
    assert Contract.objects.get(customer__lead=lead).amount == Decimal("1500000.00")


def test_conversion_amount_refused_clearly_and_shown_as_typed(
    manager: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(campaign=CampaignFactory(service=ServiceFactory(price=Decimal("10.00"))))
    client = client_for(manager)
    client.cookies["django_language"] = "ru"

    page = start_action(client, [lead])
    response = client.post(
        reverse("admin:crm_models_lead_changelist"), form_data(page, **{"contracts-0-amount": "1.000,00"})
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Введите число." in html
    assert 'name="contracts-0-amount" value="1.000,00"' in html
    assert not Contract.objects.exists()
