"""A marketer sets up a service and a campaign, imports its leads from a CSV and an
Excel file through the preview, and exports the campaign's leads from the filtered list."""

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from crm_models.models import Campaign, Channel, ImportRecord, Lead, Service

from .conftest import BROWSER_DB, pick_autocomplete

pytestmark = [pytest.mark.browser, BROWSER_DB]

SERVICE = "Telegram Ads Setup"
CAMPAIGN = "Telegram — Winter launch"
# As exported from a Russian Excel: Windows-1251, semicolons, Russian headers, phones typed by hand.
CSV_ROWS = [
    ["Имя", "Фамилия", "Эл. почта", "Телефон", "Кампания"],
    ["Пётр", "Зимин", "Petr.Zimin@Example.ru", "8 (917) 300-00-01", CAMPAIGN],
    ["Дарья", "Снегова", "daria.snegova@example.ru", "+7 917 300 00 02", CAMPAIGN],
    ["Ivan", "Frost", "ivan.frost@example.com", "89173000003", CAMPAIGN],
]
XLSX_ROWS = [
    ["First name", "Last name", "E-mail", "Phone", "Campaign"],
    ["Olga", "Ledova", "olga.ledova@example.com", "7-917-300-00-04", CAMPAIGN],
    ["Kim", "Ice", "kim.ice@example.com", "+79173000005", CAMPAIGN],
    # Ivan Frost of the CSV, typed another way: a duplicate, skipped.
    ["Ivan", "Frost", "IVAN.FROST@example.com", "8 917 300 00 03", CAMPAIGN],
]
IMPORTED_EMAILS = {
    "petr.zimin@example.ru",
    "daria.snegova@example.ru",
    "ivan.frost@example.com",
    "olga.ledova@example.com",
    "kim.ice@example.com",
}


def write_csv(path: Path) -> Path:
    with path.open("w", encoding="cp1251", newline="") as file:
        csv.writer(file, delimiter=";").writerows(CSV_ROWS)
    return path


def write_xlsx(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    for row in XLSX_ROWS:
        workbook.active.append(row)
    workbook.save(path)
    return path


def import_leads(page: Page, path: Path, *, new: int, skipped: int) -> None:
    page.goto("/admin/crm_models/lead/")
    page.locator("a[href$='/lead/import/']").click()
    page.wait_for_url("**/admin/crm_models/lead/import/")
    page.set_input_files("input[name=import_file]", str(path))
    page.get_by_role("button", name="Check the file").click()

    preview = page.locator("#import-preview")
    expect(preview).to_contain_text(f"Preview of {path.name}")
    expect(preview.locator("[data-count=new]")).to_have_text(str(new))
    expect(preview.locator("[data-count=skipped]")).to_have_text(str(skipped))
    expect(preview.locator("[data-count=errors]")).to_have_text("0")


def test_marketer_sets_up_a_campaign_imports_its_leads_and_exports_them(
    login: Callable[[str], Page], screenshot: Callable[..., object], tmp_path: Path
) -> None:
    today = timezone.localdate()
    page = login("marketer")

    page.goto("/admin/crm_models/service/add/")
    page.fill("#id_name", SERVICE)
    page.fill("#id_description", "Channel set-up and the first month of ads")
    page.fill("#id_price", "55000")
    page.locator("button[name=_save]").click()
    expect(page.locator("body")).to_contain_text(f"The service “{SERVICE}” was added successfully.")

    page.goto("/admin/crm_models/campaign/add/")
    page.fill("#id_name", CAMPAIGN)
    pick_autocomplete(page, "service", "Telegram")
    page.select_option("#id_channel", Channel.SOCIAL.value)
    page.fill("#id_budget", "90000")
    page.fill("#id_start_date", (today - timedelta(days=10)).isoformat())
    page.fill("#id_end_date", (today + timedelta(days=50)).isoformat())
    page.locator("button[name=_save]").click()
    expect(page.locator("body")).to_contain_text(f"The campaign “{CAMPAIGN}” was added successfully.")
    campaign = Campaign.objects.get(name=CAMPAIGN)
    assert (campaign.service.name, campaign.channel) == (SERVICE, Channel.SOCIAL)
    assert Service.objects.get(name=SERVICE).price == 55000

    import_leads(page, write_csv(tmp_path / "leads-excel.csv"), new=3, skipped=0)
    page.get_by_role("button", name="Confirm import").click()
    page.wait_for_url("**/admin/crm_models/lead/")
    expect(page.locator("body")).to_contain_text("Imported leads-excel.csv: 3 new, 0 updated, 0 skipped.")

    import_leads(page, write_xlsx(tmp_path / "leads.xlsx"), new=2, skipped=1)
    expect(page.locator("#import-duplicates")).to_contain_text("4")
    screenshot("import-preview", full_page=True)
    page.get_by_role("button", name="Confirm import").click()
    page.wait_for_url("**/admin/crm_models/lead/")
    expect(page.locator("body")).to_contain_text("Imported leads.xlsx: 2 new, 0 updated, 1 skipped.")

    leads = Lead.objects.filter(campaign=campaign)
    assert set(leads.values_list("email", flat=True)) == IMPORTED_EMAILS
    # The marketer imports "by the rules" (the default): the demo's rules hand
    # the leads to its operators, never to the marketer.
    owners = {lead.owner.username if lead.owner else None for lead in leads}
    assert owners
    assert owners <= {"operator", "operator2"}
    assert leads.get(email="petr.zimin@example.ru").phone == "+79173000001"
    assert ImportRecord.objects.count() == 2

    page.locator("#filter-toggle").click()
    pick_autocomplete(page, "campaign__id__exact", "Telegram")
    page.get_by_role("button", name="Apply Filters").click()
    page.wait_for_url(re.compile(rf"campaign__id__exact={campaign.pk}"))
    expect(page.locator("#result_list tbody tr")).to_have_count(len(IMPORTED_EMAILS))

    page.locator("a[href*='/lead/export/']").click()
    page.wait_for_url(re.compile(rf"/lead/export/\?.*campaign__id__exact={campaign.pk}"))
    page.select_option("#id_format", label="csv")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Submit").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    exported = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert {row["E-mail"] for row in exported} == IMPORTED_EMAILS
