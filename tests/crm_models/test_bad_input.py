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
