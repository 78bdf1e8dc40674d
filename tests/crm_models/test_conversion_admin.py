"""The lead conversion action through the real admin (issue 4): from the
changelist and from a lead's page, as each role, never as a superuser."""

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm_models.admin.conversion import OUT_OF_SCOPE_MESSAGE
from crm_models.admin.conversion_forms import SELECTION_CHANGED_MESSAGE
from crm_models.models import Contract, Customer, Interaction, Lead, LeadStatus, Service
from crm_models.services import conversion
from tests.crm_models import sample_documents as docs
from tests.crm_models.test_conversion import QUERIES_PER_LEAD
from tests.factories import CampaignFactory, CustomerFactory, LeadFactory, ServiceFactory

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
CHANGELIST = "admin:crm_models_lead_changelist"


def changelist_url() -> str:
    return reverse(CHANGELIST)


def detail_url(lead: Lead) -> str:
    return reverse("admin:crm_models_lead_convert_lead_detail", args=[lead.pk])


def change_url(lead: Lead) -> str:
    return reverse("admin:crm_models_lead_change", args=[lead.pk])


def start_action(client: Client, leads: list[Lead]) -> Any:
    """What the changelist's action bar posts."""
    return client.post(
        changelist_url(),
        {"action": "convert_leads", ACTION_CHECKBOX_NAME: [lead.pk for lead in leads], "index": "0"},
    )


def form_data(page: Any, **overrides: Any) -> dict[str, Any]:
    """The confirmation form as the browser would submit it with the defaults
    shown on `page`; `overrides` replace single fields (row fields by their
    prefixed name, e.g. contracts-0-amount)."""
    context = page.context
    data: dict[str, Any] = {"convert": "1"}
    if not context["is_detail"]:
        data["action"] = "convert_leads"
        data[ACTION_CHECKBOX_NAME] = [lead.pk for lead in context["leads"]]
    terms = context["terms_form"]
    for name in terms.fields:
        data[name] = terms[name].value().isoformat()
    formset = context["formset"]
    for key, value in formset.management_form.initial.items():
        data[f"{formset.prefix}-{key}"] = value
    for form in formset.forms:
        for name in ("lead_id", "service", "name", "amount"):
            data[form.add_prefix(name)] = form[name].value()
    data.update(overrides)
    return data


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def stored_documents() -> set[Path]:
    root = Path(settings.MEDIA_ROOT) / "contracts"
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@pytest.fixture
def audit() -> Service:
    return ServiceFactory(name="Audit", price=Decimal("1500.00"))


@pytest.fixture
def ivan(audit: Service) -> Lead:
    return LeadFactory(first_name="Ivan", last_name="Petrov", campaign=CampaignFactory(service=audit))


@pytest.fixture
def maria() -> Lead:
    service = ServiceFactory(name="Hosting", price=Decimal("200.50"))
    return LeadFactory(first_name="Maria", last_name="Ivanova", campaign=CampaignFactory(service=service))


def operator_allowed_to_convert(operator: User) -> User:
    """An operator (scope: own leads only) given the convert permission, to
    show that the action reads leads through the scope."""
    operator.user_permissions.add(Permission.objects.get(codename="convert_lead"))
    return User.objects.get(pk=operator.pk)


# --- the intermediate page ------------------------------------------------------


def test_action_opens_the_intermediate_page_with_defaults(
    client_for: ClientFor, manager: User, ivan: Lead, maria: Lead, audit: Service
) -> None:
    response = start_action(client_for(manager), [ivan, maria])

    assert response.status_code == 200
    assert "admin/crm_models/lead/convert.html" in [t.name for t in response.templates]
    today = timezone.localdate()
    assert response.context["terms_form"].initial == {
        "start_date": today,
        "end_date": today.replace(year=today.year + 1)
        if (today.month, today.day) != (2, 29)
        else today + timedelta(365),
        "signed_at": today,
    }
    rows = [form.initial for form in response.context["formset"].forms]
    assert rows == [
        {
            "lead_id": ivan.pk,
            "service": audit.pk,
            "name": "Audit — Ivan Petrov",
            "amount": Decimal("1500.00"),
        },
        {
            "lead_id": maria.pk,
            "service": maria.campaign.service_id,
            "name": "Hosting — Maria Ivanova",
            "amount": Decimal("200.50"),
        },
    ]
    body = response.content.decode()
    assert 'value="Audit — Ivan Petrov"' in body
    assert (
        f'<option value="{audit.pk}" data-price="1500.00" data-price-text="1,500.00" selected>Audit</option>'
        in body
    )
    assert 'enctype="multipart/form-data"' in body
    # unfold's script writes a chosen file's name into the first text input
    # three levels up: each file input needs its own placeholder there.
    assert body.count('<div class="crm-file"><label class="flex relative"><input type="text" disabled') == 2
    assert f'href="{changelist_url()}"' in body  # Cancel
    assert not Customer.objects.exists()


def test_cancel_changes_nothing(client_for: ClientFor, manager: User, ivan: Lead) -> None:
    client = client_for(manager)
    page = start_action(client, [ivan])
    assert f'href="{changelist_url()}"' in page.content.decode()
    assert client.get(changelist_url()).status_code == 200
    ivan.refresh_from_db()
    assert ivan.status == LeadStatus.NEW
    assert not Customer.objects.exists()
    assert not Contract.objects.exists()
    assert not Interaction.objects.exists()


# --- the happy path -----------------------------------------------------------


def test_manager_converts_leads_from_the_changelist(
    client_for: ClientFor,
    manager: User,
    manager2: User,
    operator: User,
    ivan: Lead,
    maria: Lead,
    audit: Service,
) -> None:
    client = client_for(manager)
    page = start_action(client, [ivan, maria])
    data = form_data(
        page,
        **{
            "contracts-0-amount": "1400.00",
            "contracts-0-document": docs.upload("Signed contract.pdf", docs.PDF, "application/pdf"),
        },
    )

    response = client.post(changelist_url(), data, follow=True)

    assert response.redirect_chain == [(changelist_url(), 302)]
    assert messages_of(response) == ["2 leads converted to customers: Ivan Petrov, Maria Ivanova."]
    customers = {customer.lead_id: customer for customer in Customer.objects.all()}
    assert set(customers) == {ivan.pk, maria.pk}
    assert {customer.account_manager_id for customer in customers.values()} == {manager.pk}
    ivan_contract = Contract.objects.get(customer__lead=ivan)
    assert (ivan_contract.name, ivan_contract.service_id, ivan_contract.amount) == (
        "Audit — Ivan Petrov",
        audit.pk,
        Decimal("1400.00"),
    )
    assert ivan_contract.start_date == timezone.localdate()
    maria_contract = Contract.objects.get(customer__lead=maria)
    assert maria_contract.amount == Decimal("200.50")
    assert not maria_contract.document
    for lead in (ivan, maria):
        lead.refresh_from_db()
        assert lead.status == LeadStatus.CONVERTED
        assert lead.converted_at is not None
        assert Interaction.objects.get(lead=lead).author_id == manager.pk
        assert lead.history.latest("history_date").history_user == manager  # type: ignore[attr-defined]
    for model, pk in [(Customer, customers[ivan.pk].pk), (Contract, ivan_contract.pk)]:
        assert model.history.get(id=pk).history_user == manager  # type: ignore[attr-defined]

    download = reverse("admin:crm_models_contract_document", args=[ivan_contract.pk])
    assert b"".join(client.get(download).streaming_content) == docs.PDF
    assert client_for(manager2).get(download).status_code == 404
    assert client_for(operator).get(download).status_code == 403
    anonymous = Client().get(download)
    assert (anonymous.status_code, anonymous["Location"]) == (
        302,
        f"{reverse('admin:login')}?next={download}",
    )
    assert client.get(f"{settings.MEDIA_URL}{ivan_contract.document.name}").status_code == 404


def test_manager_converts_from_the_lead_page(
    client_for: ClientFor, manager: User, ivan: Lead, audit: Service
) -> None:
    client = client_for(manager)
    assert f'href="{detail_url(ivan)}"' in client.get(change_url(ivan)).content.decode()

    page = client.get(detail_url(ivan))
    assert page.status_code == 200
    assert f'href="{change_url(ivan)}"' in page.content.decode()  # Cancel goes back to the lead
    assert [form.initial["name"] for form in page.context["formset"].forms] == ["Audit — Ivan Petrov"]

    response = client.post(detail_url(ivan), form_data(page), follow=True)

    assert response.redirect_chain == [(change_url(ivan), 302)]
    assert messages_of(response) == ["1 lead converted to a customer: Ivan Petrov."]
    ivan.refresh_from_db()
    assert ivan.status == LeadStatus.CONVERTED
    assert Customer.objects.get().account_manager == manager


def test_administrator_may_convert(client_for: ClientFor, administrator: User, ivan: Lead) -> None:
    client = client_for(administrator)
    response = client.post(changelist_url(), form_data(start_action(client, [ivan])), follow=True)
    assert messages_of(response) == ["1 lead converted to a customer: Ivan Petrov."]
    assert Customer.objects.get().account_manager == administrator


# --- outcomes other than success ------------------------------------------------


def test_already_converted_and_lost_leads_are_reported(
    client_for: ClientFor, manager: User, manager2: User, ivan: Lead
) -> None:
    anna = CustomerFactory(account_manager=manager2, lead__first_name="Anna", lead__last_name="Smirnova").lead
    oleg = LeadFactory(first_name="Oleg", last_name="Sidorov", status=LeadStatus.LOST)
    client = client_for(manager)

    page = start_action(client, [ivan, anna, oleg])
    assert [form.initial["lead_id"] for form in page.context["formset"].forms] == [ivan.pk]
    assert [(o.lead_name, o.result) for o in page.context["skipped"]] == [
        ("Anna Smirnova", "already_converted"),
        ("Oleg Sidorov", "lost"),
    ]
    body = page.content.decode()
    assert "already a customer" in body
    assert "lost; reopen the lead before converting it" in body

    response = client.post(changelist_url(), form_data(page), follow=True)

    assert messages_of(response) == [
        "1 lead converted to a customer: Ivan Petrov.",
        "1 already a customer: Anna Smirnova.",
        "1 lost lead refused: Oleg Sidorov. Reopen it before converting.",
    ]
    assert Customer.objects.count() == 2
    oleg.refresh_from_db()
    assert oleg.status == LeadStatus.LOST


def test_selection_without_convertible_leads_reports_at_once(client_for: ClientFor, manager: User) -> None:
    anna = CustomerFactory(lead__first_name="Anna", lead__last_name="Smirnova").lead
    oleg = LeadFactory(first_name="Oleg", last_name="Sidorov", status=LeadStatus.LOST)
    client = client_for(manager)
    response = client.post(
        changelist_url(),
        {"action": "convert_leads", ACTION_CHECKBOX_NAME: [anna.pk, oleg.pk], "index": "0"},
        follow=True,
    )
    assert response.redirect_chain == [(changelist_url(), 302)]
    assert messages_of(response) == [
        "1 already a customer: Anna Smirnova.",
        "1 lost lead refused: Oleg Sidorov. Reopen it before converting.",
    ]
    assert Customer.objects.count() == 1


def test_converted_lead_page_action_reports_and_goes_back(client_for: ClientFor, manager: User) -> None:
    anna = CustomerFactory(lead__first_name="Anna", lead__last_name="Smirnova").lead
    response = client_for(manager).get(detail_url(anna), follow=True)
    assert response.redirect_chain == [(change_url(anna), 302)]
    assert messages_of(response) == ["1 already a customer: Anna Smirnova."]


def test_lead_converted_meanwhile_is_reported_as_already_a_customer(
    client_for: ClientFor, manager: User, manager2: User, ivan: Lead
) -> None:
    client = client_for(manager)
    page = start_action(client, [ivan])
    # Another manager converts the lead while this form is open.
    client_for(manager2).post(changelist_url(), form_data(start_action(client_for(manager2), [ivan])))

    response = client.post(changelist_url(), form_data(page), follow=True)

    assert messages_of(response) == ["1 already a customer: Ivan Petrov."]
    assert Customer.objects.get().account_manager == manager2
    assert Contract.objects.count() == 1


# --- validation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"end_date": "2020-01-01"}, "end_date", "The end date cannot be before the start date."),
        ({"contracts-0-amount": "-5"}, "amount", "The amount cannot be negative."),
        ({"contracts-0-name": ""}, "name", "This field is required."),
        (
            {"contracts-0-document": docs.upload("contract.pdf", docs.HTML, "application/pdf")},
            "document",
            "This file is not a PDF, PNG or JPEG image, or office document (DOCX, XLSX, ODT, ODS, DOC, XLS).",
        ),
        (
            {"contracts-0-service": "987654321"},
            "service",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
    ],
)
def test_validation_errors_redisplay_the_form_and_write_nothing(
    client_for: ClientFor, manager: User, ivan: Lead, overrides: dict, field: str, error: str | None
) -> None:
    client = client_for(manager)
    files_before = stored_documents()
    response = client.post(changelist_url(), form_data(start_action(client, [ivan]), **overrides))

    assert response.status_code == 200
    assert "admin/crm_models/lead/convert.html" in [t.name for t in response.templates]
    form = response.context["terms_form"] if field == "end_date" else response.context["formset"].forms[0]
    assert list(form.errors) == [field]
    if error is not None:
        assert form.errors[field] == [error]
    assert "Please correct the errors below; nothing was converted." in response.content.decode()
    assert not Customer.objects.exists()
    assert not Contract.objects.exists()
    assert not Interaction.objects.exists()
    assert stored_documents() == files_before
    ivan.refresh_from_db()
    assert ivan.status == LeadStatus.NEW


def test_row_for_a_lead_outside_the_selection_is_refused(
    client_for: ClientFor, manager: User, ivan: Lead, maria: Lead
) -> None:
    client = client_for(manager)
    response = client.post(
        changelist_url(), form_data(start_action(client, [ivan]), **{"contracts-0-lead_id": maria.pk})
    )
    assert response.status_code == 200
    assert response.context["formset"].non_form_errors() == [str(SELECTION_CHANGED_MESSAGE)]
    assert not Customer.objects.exists()


# --- permissions and scope ----------------------------------------------------


@pytest.mark.parametrize("role", ["operator", "marketer"])
def test_roles_without_the_permission_cannot_convert(
    client_for: ClientFor, request: pytest.FixtureRequest, role: str, manager: User, ivan: Lead
) -> None:
    user = request.getfixturevalue(role)
    if role == "operator":
        ivan.owner = user
        ivan.save()
    client = client_for(user)
    changelist = client.get(changelist_url())
    assert changelist.status_code == 200
    assert "convert_leads" not in changelist.content.decode()
    assert f'href="{detail_url(ivan)}"' not in client.get(change_url(ivan)).content.decode()

    page = start_action(client_for(manager), [ivan])
    # Conversion is not offered to them, so Django runs nothing: a marketer has
    # no list action at all and gets the list (200); an operator has others
    # (taking leads from the queue) and is sent back to it, "no action selected".
    response = client.post(changelist_url(), form_data(page))
    assert response.status_code == (302 if role == "operator" else 200)
    assert "admin/crm_models/lead/convert.html" not in [t.name for t in response.templates]
    assert client.get(detail_url(ivan)).status_code == 403
    assert client.post(detail_url(ivan), form_data(page)).status_code == 403
    assert not Customer.objects.exists()
    ivan.refresh_from_db()
    assert ivan.status == LeadStatus.NEW


def test_lead_outside_the_scope_cannot_be_submitted(
    client_for: ClientFor, operator: User, operator2: User
) -> None:
    own = LeadFactory(owner=operator2, first_name="Own")
    foreign = LeadFactory(owner=operator, first_name="Foreign")
    client = client_for(operator_allowed_to_convert(operator2))

    response = client.post(
        changelist_url(),
        {"action": "convert_leads", ACTION_CHECKBOX_NAME: [own.pk, foreign.pk], "index": "0"},
        follow=True,
    )
    assert messages_of(response) == [str(OUT_OF_SCOPE_MESSAGE)]

    page = start_action(client, [own])
    response = client.post(
        changelist_url(), form_data(page, **{ACTION_CHECKBOX_NAME: [own.pk, foreign.pk]}), follow=True
    )
    assert messages_of(response) == [str(OUT_OF_SCOPE_MESSAGE)]

    assert client.get(detail_url(foreign)).status_code == 404
    assert client.post(detail_url(foreign), form_data(page)).status_code == 404
    assert (
        client.get(reverse("admin:crm_models_lead_convert_lead_detail", args=[987654321])).status_code == 404
    )
    assert not Customer.objects.exists()


# --- failure and cost ---------------------------------------------------------


def test_failure_mid_way_leaves_nothing_and_says_so(
    client_for: ClientFor, manager: User, ivan: Lead, maria: Lead, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(manager)
    page = start_action(client, [ivan, maria])
    files_before = stored_documents()
    original_save = conversion._save_as

    def failing_for_ivan(user: User, *, when: datetime, rows: list[conversion.RowWrite]) -> None:
        if any(isinstance(instance, Interaction) and instance.lead_id == ivan.pk for instance, _ in rows):
            raise RuntimeError("interaction table locked")
        original_save(user, when=when, rows=rows)

    monkeypatch.setattr(conversion, "_save_as", failing_for_ivan)
    data = form_data(page, **{"contracts-0-document": docs.upload("signed.pdf", docs.PDF, "application/pdf")})
    response = client.post(changelist_url(), data, follow=True)

    assert messages_of(response) == [
        "1 lead converted to a customer: Maria Ivanova.",
        "1 lead could not be converted because of an error; nothing was saved for it: Ivan Petrov.",
    ]
    assert not Customer.objects.filter(lead=ivan).exists()
    assert not Contract.objects.filter(customer__lead=ivan).exists()
    assert stored_documents() == files_before
    ivan.refresh_from_db()
    assert (ivan.status, ivan.converted_at) == (LeadStatus.NEW, None)


def test_confirm_costs_a_constant_number_of_queries_per_lead(client_for: ClientFor, manager: User) -> None:
    client = client_for(manager)
    campaign = CampaignFactory()
    first = LeadFactory.create_batch(1, campaign=campaign)
    more = LeadFactory.create_batch(4, campaign=campaign)

    def confirm_queries(leads: list[Lead]) -> int:
        data = form_data(start_action(client, leads))
        with CaptureQueriesContext(connection) as queries:
            assert client.post(changelist_url(), data).status_code == 302
        return len(queries)

    one, four = confirm_queries(first), confirm_queries(more)
    assert four - one == 3 * QUERIES_PER_LEAD
    assert Customer.objects.count() == 5


def test_too_many_leads_at_once_are_refused(
    client_for: ClientFor, manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("crm_models.admin.conversion.MAX_LEADS_AT_ONCE", 2)
    leads = LeadFactory.create_batch(3)
    response = client_for(manager).post(
        changelist_url(),
        {"action": "convert_leads", ACTION_CHECKBOX_NAME: [lead.pk for lead in leads], "index": "0"},
        follow=True,
    )
    assert messages_of(response) == ["Select at most 2 leads to convert at a time; nothing was converted."]
    assert not Customer.objects.exists()


def test_forged_row_count_is_refused_before_the_rows_are_built(
    client_for: ClientFor, manager: User, ivan: Lead
) -> None:
    """One row per selected lead: a posted TOTAL_FORMS of 100,000 built 11,000
    forms (5-6 s) before; now the save is refused at once and nothing changes."""
    client = client_for(manager)
    data = form_data(start_action(client, [ivan]), **{"contracts-TOTAL_FORMS": "100000"})
    response = client.post(changelist_url(), data)

    assert response.status_code == 200
    formset = response.context["formset"]
    assert formset.non_form_errors() == ["Please submit at most 1 form."]
    assert formset.total_form_count() == 1
    assert not Customer.objects.exists()
    ivan.refresh_from_db()
    assert ivan.status != LeadStatus.CONVERTED
