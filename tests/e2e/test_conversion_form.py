"""The conversion page refills a row's contract name and amount when its
service changes, unless the manager has changed them (conversion.js)."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from crm_models.admin.conversion_forms import contract_name_default
from crm_models.models import Lead, LeadStatus, Service

from .conftest import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]


def amount_text(price: Decimal) -> str:
    """As the English page shows an amount ("1,500.00")."""
    return f"{price:,.2f}"


def test_manager_changes_the_service_and_the_row_follows_unless_edited(login: Callable[[str], Page]) -> None:
    lead = Lead.objects.filter(status=LeadStatus.QUALIFIED).select_related("campaign__service").first()
    assert lead is not None
    first, second = Service.objects.filter(is_active=True).exclude(pk=lead.campaign.service_id)[:2]
    page = login("manager")

    page.goto(f"/admin/crm_models/lead/{lead.pk}/convert/")
    row = page.locator("#convert_rows tbody tr")
    service = row.locator("select[name$=-service]")
    name = row.locator("input[name$=-name]")
    amount = row.locator("input[name$=-amount]")
    expect(name).to_have_value(contract_name_default(lead.campaign.service, lead))

    service.select_option(str(first.pk))
    expect(name).to_have_value(contract_name_default(first, lead))
    expect(amount).to_have_value(amount_text(first.price))

    name.fill("Contract 42/A")
    service.select_option(str(second.pk))
    expect(name).to_have_value("Contract 42/A")
    expect(amount).to_have_value(amount_text(second.price))

    amount.fill("777")
    service.select_option(str(first.pk))
    expect(name).to_have_value("Contract 42/A")
    expect(amount).to_have_value("777")
