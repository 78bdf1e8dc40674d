"""A manager converts leads into customers through the action's form, uploading a
signed contract, then opens the new customer and downloads the document."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from crm_models.models import Contract, Customer, Lead, LeadStatus

from .conftest import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]

# The smallest file the upload check accepts as a PDF: it is judged by content, not by name.
SIGNED_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_manager_converts_leads_with_a_signed_contract_and_downloads_it(
    login: Callable[[str], Page], screenshot: Callable[..., object], tmp_path: Path
) -> None:
    first, second = Lead.objects.filter(status=LeadStatus.QUALIFIED).order_by("pk")[:2]
    document = tmp_path / "contract-signed.pdf"
    document.write_bytes(SIGNED_PDF)
    page = login("manager")

    page.goto("/admin/crm_models/lead/?status__exact=qualified")
    for lead in (first, second):
        page.locator(f"input.action-select[value='{lead.pk}']").check()
    page.select_option("select[name=action]", "convert_leads")
    page.get_by_role("button", name="Run").click()

    form = page.locator("#convert_form")
    expect(form).to_contain_text("Each of the 2 leads below becomes a customer")
    rows = form.locator("#convert_rows tbody tr")
    expect(rows).to_have_count(2)
    row = rows.filter(has=page.locator(f"input[name$=-lead_id][value='{first.pk}']"))
    expect(row).to_contain_text(first.full_name)
    row.locator("input[name$=-amount]").fill("125000")
    row.locator("input[type=file]").set_input_files(str(document))
    expect(row.locator("input[type=text][disabled]")).to_have_value("contract-signed.pdf")
    screenshot("conversion-form")
    form.get_by_role("button", name="Convert and sign the contracts").click()

    page.wait_for_url(re.compile(r"/admin/crm_models/lead/"))
    expect(page.locator("body")).to_contain_text(
        f"2 leads converted to customers: {first.full_name}, {second.full_name}."
    )
    customer = Customer.objects.get(lead=first)
    contract = Contract.objects.get(customer=customer)
    assert (customer.account_manager.username, contract.amount, bool(contract.document)) == (
        "manager",
        125000,
        True,
    )
    assert not Contract.objects.get(customer__lead=second).document

    page.locator("#nav-sidebar-inner").get_by_role("link", name="Customers").click()
    page.locator("#searchbar").fill(first.email)
    page.keyboard.press("Enter")
    page.locator("#result_list").get_by_role("link", name=first.full_name).click()
    page.wait_for_url(re.compile(rf"/admin/crm_models/customer/{customer.pk}/change/"))
    page.locator("a[href='#contracts']").click()
    # The inline's "Change" link shows when the pointer is over the contract's title.
    change_link = page.locator(f"a[href*='/admin/crm_models/contract/{contract.pk}/change/']")
    change_link.locator("xpath=ancestor::p[1]").hover()
    change_link.click()
    page.wait_for_url(re.compile(rf"/admin/crm_models/contract/{contract.pk}/change/"))

    expect(page.locator("input[aria-label='Choose file to upload'][disabled]")).to_have_value(
        "Document on file (PDF)"
    )
    with page.expect_download() as download_info:
        page.get_by_title("Download").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    assert Path(download.path()).read_bytes() == SIGNED_PDF
