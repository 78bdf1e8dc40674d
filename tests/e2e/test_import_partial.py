"""A marketer uploads a file with five bad rows among forty, reads the preview
(the first rows as understood), imports the valid rows and downloads the bad
ones as the file they came in."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from crm_models.models import Campaign, ImportRecord, Lead, Service
from tests.crm_models.import_helpers import SAMPLE_CAMPAIGNS, SAMPLES

from .conftest import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]


def test_marketer_imports_the_valid_rows_and_downloads_the_bad_ones(
    login: Callable[[str], Page], screenshot: Callable[..., object], tmp_path: Path
) -> None:
    service = Service.objects.order_by("pk").first()
    for name in SAMPLE_CAMPAIGNS:
        Campaign.objects.create(
            name=name,
            service=service,
            channel="search",
            budget=0,
            start_date="2026-01-01",
            end_date="2026-12-31",
        )
    leads_before = Lead.objects.count()
    page = login("marketer")

    page.goto("/admin/crm_models/lead/import/")
    page.set_input_files("input[name=import_file]", str(SAMPLES / "leads-excel-ru-cp1251.csv"))
    page.get_by_role("button", name="Check the file").click()

    preview = page.locator("#import-preview")
    expect(preview.locator("[data-count=errors]")).to_have_text("5")
    sample = page.locator("#import-sample")
    expect(sample.locator("thead th").nth(7)).to_contain_text("Дата заявки")
    expect(sample.locator("thead th").nth(7)).to_contain_text("→ Created")
    expect(sample.locator("thead th").nth(8)).to_contain_text("not imported")
    expect(sample.locator("tbody tr[data-outcome=error]")).to_have_count(1)
    expect(sample.locator("tbody tr").first).to_contain_text("+7 916 200-00-00")
    screenshot("import-preview-with-errors", full_page=True)

    with page.expect_download() as before:
        page.locator("#import-error-file").click()
    assert before.value.suggested_filename == "leads-excel-ru-cp1251-errors.csv"

    page.get_by_role("button", name="Import the 35 valid rows, skip the rows with errors").click()
    page.wait_for_url("**/admin/crm_models/lead/")
    expect(page.locator("body")).to_contain_text(
        "Imported leads-excel-ru-cp1251.csv: 35 new, 0 updated, 0 skipped. 5 rows with errors were not imported."
    )
    with page.expect_download() as after:
        page.get_by_role("link", name="Download the rows with errors").click()
    lines = Path(after.value.path()).read_bytes().decode("cp1251").split("\r\n")
    assert lines[0] == "Имя;Фамилия;Эл. почта;Телефон;Кампания;Дата заявки;UTM Source;Error"
    assert len([line for line in lines[1:] if line]) == 5
    assert Lead.objects.count() == leads_before + 35
    assert ImportRecord.objects.get().created_count == 35
    assert re.search(r"Имя: This value is required\.$", lines[5])
