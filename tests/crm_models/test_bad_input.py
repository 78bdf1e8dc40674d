"""Malformed request input gets a clear 4xx answer and changes nothing, never a
server error: NUL bytes in query parameters, ids that cannot be primary keys in
an action's selection or in a history URL. As each role concerned."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from crm_models.models import Lead
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "params",
    [{"status__exact": "new\x00"}, {"q": "\x00"}, {"o\x00": "1"}],
    ids=["filter value", "search", "parameter name"],
)
def test_nul_byte_in_a_query_parameter_is_a_bad_request(
    params: dict[str, str], operator: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(operator)
    url = reverse("admin:crm_models_lead_changelist")
    assert client.get(url, params).status_code == 400
    assert client.get(url, {"status__exact": "new"}).status_code == 200


def test_nul_byte_in_an_export_filter_is_a_bad_request(
    marketer: User, client_for: Callable[[User], Client]
) -> None:
    response = client_for(marketer).get(reverse("admin:crm_models_lead_export"), {"status__exact": "\x00"})
    assert response.status_code == 400


@pytest.mark.parametrize("selected", [["abc"], ["\x00"], ["1", "x"]])
def test_action_on_ids_that_cannot_be_keys_changes_nothing(
    selected: list[str], administrator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory()
    url = reverse("admin:crm_models_lead_changelist")
    response = client_for(administrator).post(
        url,
        {"action": "delete_selected", "_selected_action": [*selected, str(lead.pk)], "index": "0"},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain == [(url, 302)]
    assert "The selected rows are not valid; nothing was done." in [
        str(m) for m in response.context["messages"]
    ]
    assert Lead.objects.filter(pk=lead.pk).exists()


@pytest.mark.parametrize("role", ["administrator", "operator"])
def test_history_of_an_id_that_cannot_be_a_key_is_not_found(
    role: str, administrator: User, operator: User, client_for: Callable[[User], Client]
) -> None:
    user = {"administrator": administrator, "operator": operator}[role]
    lead = LeadFactory(owner=operator)
    client = client_for(user)
    assert client.get(reverse("admin:crm_models_lead_history", args=["abc"])).status_code == 404
    version_url = reverse("admin:crm_models_lead_simple_history", args=[lead.pk, "abc"])
    assert client.get(version_url).status_code == 404
    assert client.get(reverse("admin:crm_models_lead_history", args=[lead.pk])).status_code == 200


def test_autocomplete_choice_that_cannot_be_a_key_is_a_form_error(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    """Redrawing the refused form, Django's autocomplete widget looked "abc" up
    in the database (a server error)."""
    response = client_for(operator).post(
        reverse("admin:crm_models_lead_add"),
        {"first_name": "Anna", "email": "anna@example.com", "campaign": "abc", "status": "new"},
    )
    assert response.status_code == 200
    assert "campaign" in response.context["adminform"].form.errors
    assert not Lead.objects.filter(email="anna@example.com").exists()


def test_import_cells_that_broke_the_cleaning_are_row_errors(
    marketer: User, client_for: Callable[[User], Client]
) -> None:
    from tests.crm_models.import_helpers import csv_bytes, error_cells, upload
    from tests.factories import CampaignFactory, ServiceFactory

    CampaignFactory(name="Весна")
    client = client_for(marketer)
    leads = csv_bytes([["ID", "first_name", "email", "campaign"], ["²", "A", "a@example.ru", "Весна"]])
    assert error_cells(upload(client, "lead", "leads.csv", leads)) == [
        (2, "ID", "²", "Enter a whole number.")
    ]
    services = csv_bytes([["name", "price"], ["S", "1e30"], ["T", "1E+999999999"]])
    assert error_cells(upload(client, "service", "services.csv", services)) == [
        (2, "price", "1e30", "The number is too large."),
        (3, "price", "1E+999999999", "The number is too large."),
    ]
    ServiceFactory(name="SMM")
    campaigns = csv_bytes(
        [
            ["name", "service", "channel", "budget", "start_date", "end_date"],
            ["C", "SMM", "search", "1e28", "2026-01-01", "2026-01-02"],
        ]
    )
    assert error_cells(upload(client, "campaign", "campaigns.csv", campaigns)) == [
        (2, "budget", "1e28", "The number is too large.")
    ]


@pytest.mark.parametrize(
    ("model", "params"),
    [("lead", {"campaign__id__exact": "abc"}), ("customer", {"status__exact": "x"})],
)
def test_export_with_filters_the_list_refuses_changes_nothing(
    model: str, params: dict[str, str], administrator: User, client_for: Callable[[User], Client]
) -> None:
    url = reverse(f"admin:crm_models_{model}_export")
    response = client_for(administrator).get(url, params, follow=True)
    assert response.redirect_chain == [(reverse(f"admin:crm_models_{model}_changelist"), 302)]
    assert "The export's filters are not valid; nothing was exported." in [
        str(message) for message in response.context["messages"]
    ]


def test_forged_inline_row_count_is_refused_before_the_rows_are_built(
    administrator: User, client_for: Callable[[User], Client]
) -> None:
    """A posted contracts-TOTAL_FORMS of 100,000 built Django's 2,000 forms
    (6 s); at most 50 new rows besides the customer's own are built now."""
    from tests.factories import CustomerFactory

    customer = CustomerFactory()
    data = {
        "account_manager": str(customer.account_manager_id),
        "contracts-TOTAL_FORMS": "100000",
        "contracts-INITIAL_FORMS": "0",
    }
    response = client_for(administrator).post(
        reverse("admin:crm_models_customer_change", args=[customer.pk]), data
    )

    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.formset.total_form_count() == 50
    assert inline.formset.non_form_errors() == ["Please submit at most 50 forms."]


def test_lead_page_builds_no_interaction_rows_from_a_forged_count(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    """The lead's timeline has no editable rows: a forged row count is ignored."""
    from tests.factories import CampaignFactory

    campaign = CampaignFactory()
    data = {
        "first_name": "Anna",
        "email": "anna@example.com",
        "campaign": str(campaign.pk),
        "status": "new",
        "interactions-TOTAL_FORMS": "100000",
        "interactions-INITIAL_FORMS": "0",
    }
    response = client_for(operator).post(reverse("admin:crm_models_lead_add"), data)

    assert response.status_code == 302
    lead = Lead.objects.get(email="anna@example.com")
    assert not lead.interactions.exists()


def test_nul_byte_in_the_path_is_a_bad_request(operator: User, client_for: Callable[[User], Client]) -> None:
    """The content-type shortcut looked a text key (sessions) up with it."""
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sessions.models import Session

    content_type = ContentType.objects.get_for_model(Session)
    assert client_for(operator).get(f"/admin/r/{content_type.pk}/%00/").status_code == 400


def test_export_filtered_by_an_id_past_bigint_is_empty(
    marketer: User, client_for: Callable[[User], Client]
) -> None:
    from crm_models.resources import LeadResource

    LeadFactory()
    url = reverse("admin:crm_models_lead_export") + "?campaign__id__exact=" + "9" * 30
    data = {
        "format": "0",
        "resource": "0",
        **{f"leadresource_{name}": "on" for name in LeadResource._meta.fields},
    }
    response = client_for(marketer).post(url, data)
    assert response.status_code == 200
    assert response.content.decode("utf-8-sig").strip().count("\n") == 0  # the header only


def test_login_with_a_username_longer_than_the_throttle_column_is_a_form_error(client: Client) -> None:
    """django-axes records failed logins by username in a 255-character column:
    a longer one was a database error and the attempt went uncounted."""
    from axes.models import AccessAttempt

    username = "u" * 300
    response = client.post(reverse("admin:login"), {"username": username, "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [username[:255]]


def test_forged_contract_inline_row_count_is_refused(
    manager: User, client_for: Callable[[User], Client]
) -> None:
    from tests.factories import CustomerFactory

    customer = CustomerFactory(account_manager=manager)
    response = client_for(manager).post(
        reverse("admin:crm_models_customer_change", args=[customer.pk]),
        {"contracts-TOTAL_FORMS": "100000", "contracts-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 200
    inline = next(
        formset
        for formset in response.context["inline_admin_formsets"]
        if formset.formset.prefix == "contracts"
    )
    assert inline.formset.total_form_count() == 50
    assert inline.formset.non_form_errors() == ["Please submit at most 50 forms."]
