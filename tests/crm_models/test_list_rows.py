"""The CRM's row rendering (crm_models/admin/list_rows.py, through the CRM's
changelist template) writes the HTML of unfold's own `items_for_result` and
row template (up to the white space between tags), on every changelist of the
admin."""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm_models.admin import list_rows
from crm_models.admin.lead import LeadAdmin
from crm_models.models import Customer, ImportRecord, Interaction, Lead, LeadStatus
from tests.factories import (
    CampaignFactory,
    ContractFactory,
    CustomerFactory,
    InteractionFactory,
    LeadFactory,
)

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "crm_models_lead",
    "crm_models_customer",
    "crm_models_contract",
    "crm_models_interaction",
    "crm_models_service",
    "crm_models_campaign",
    "crm_models_importrecord",
    "auth_user",
    "auth_group",
]


def result_table(html: str) -> str:
    """The page's result table, its white space between tags and attributes
    dropped and other runs of it made one space (a browser reads it the same)."""
    match = re.search(r'<table id="result_list".*?</table>', html, re.S)
    assert match is not None, "no result table on the page"
    return re.sub(r"\s*([<>])\s*", r"\1", re.sub(r"\s+", " ", match.group(0)))


def record_results(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Any]:
    """What each call of list_rows.<name> returns, in order (it still runs)."""
    results: list[Any] = []
    function = getattr(list_rows, name)

    def spy(*args: Any) -> Any:
        result = function(*args)
        results.append(result)
        return result

    monkeypatch.setattr(list_rows, name, spy)
    return results


@pytest.fixture
def data(marketer: User) -> None:
    campaign = CampaignFactory(name='<b>"Spring" & co</b>')
    LeadFactory(
        campaign=campaign, first_name="<script>", last_name="O'Brien", phone="", status=LeadStatus.LOST
    )
    LeadFactory(campaign=campaign, company="=cmd", email="")
    customer = CustomerFactory(lead=LeadFactory(campaign=campaign, status=LeadStatus.CONVERTED))
    ContractFactory(customer=customer, name="<i>Contract</i>")
    InteractionFactory(lead=customer.lead, summary="Called & agreed")
    ImportRecord.objects.create(
        user=marketer,
        kind=ImportRecord.Kind.LEAD,
        file_name="<leads>.csv",
        file_sha256="0" * 64,
        file_size=10,
        file_format="csv",
        duplicate_mode=ImportRecord.DuplicateMode.SKIP,
        rows_total=1,
        created_count=1,
        updated_count=0,
        skipped_count=0,
    )
    # Relative times ("now", "a second ago") must read the same in both renders.
    long_ago = timezone.now() - timedelta(days=400)
    Lead.objects.update(created_at=long_ago)
    Customer.objects.update(created_at=long_ago)
    Interaction.objects.update(happened_at=long_ago)
    ImportRecord.objects.update(created_at=long_ago)


@pytest.mark.parametrize("name", CHANGELISTS)
@pytest.mark.parametrize("query", ["", "?o=-2", "?o=1"])
def test_rows_are_unfolds_html(
    name: str,
    query: str,
    data: None,
    administrator: User,
    client_for: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = client_for(administrator)
    url = reverse(f"admin:{name}_changelist") + query
    planned = client.get(url)
    assert planned.status_code == 200
    planned_table = result_table(planned.content.decode())
    assert "<tbody" in planned_table

    # Without a plan the rows are unfold's own, and its row template writes them.
    monkeypatch.setattr(list_rows, "build_plan", lambda cl, headers: None)
    stock = client.get(url)
    assert planned_table == result_table(stock.content.decode())


def test_crm_lists_join_their_rows_in_python(
    data: None, administrator: User, client_for: Callable[[User], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    joined = record_results(monkeypatch, "joined_rows")
    response = client_for(administrator).get(reverse("admin:crm_models_lead_changelist"))
    assert response.status_code == 200
    assert len(joined) == 1
    assert joined[0].count("<tbody") == Lead.objects.count() == 3
    assert joined[0] in response.content.decode()


def test_row_actions_are_left_to_unfolds_row_template(
    data: None, administrator: User, client_for: Callable[[User], Client]
) -> None:
    response = client_for(administrator).get(reverse("admin:crm_models_lead_changelist"))
    cl, request = response.context["cl"], response.wsgi_request
    assert list_rows.result_list({"request": request}, cl)["rows"] is not None
    assert list_rows.result_list({"request": request, "actions_row": ["an action"]}, cl)["rows"] is None


def test_the_plan_is_used_on_crm_lists(
    data: None, administrator: User, client_for: Callable[[User], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = record_results(monkeypatch, "build_plan")
    response = client_for(administrator).get(reverse("admin:crm_models_lead_changelist"))
    assert response.status_code == 200
    assert len(plans) == 1
    assert isinstance(plans[0], list_rows.RowPlan)
    assert [column.name for column in plans[0].columns] == ["action_checkbox", *LeadAdmin.list_display]


def test_popups_fall_back_to_unfold(
    data: None, administrator: User, client_for: Callable[[User], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = record_results(monkeypatch, "build_plan")
    url = reverse("admin:crm_models_campaign_changelist") + "?_popup=1&_to_field=id"
    response = client_for(administrator).get(url)
    assert response.status_code == 200
    assert plans == [None]
    assert "data-popup-opener" in response.content.decode()
