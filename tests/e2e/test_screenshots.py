"""The README's pictures: the import preview, a lead's timeline and the
dashboard, in English and in Russian, on a desktop (1440x900) and on a phone
(390x844). Each page is checked for what the picture must show before it is
taken; with E2E_SCREENSHOTS=1 they are written to docs/screenshots/ as
<page>-<language>-<desktop|phone>.png."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone
from playwright.sync_api import Page, expect

from crm_models.models import Campaign, Lead, LeadStatus, Service
from tests.crm_models.import_helpers import SAMPLE_CAMPAIGNS, SAMPLES

from .conftest import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]

SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
TEXTS = {
    "en": {"check": "Check the file", "timeline": "Interaction timeline", "leads": "Leads"},
    "ru": {"check": "Проверить файл", "timeline": "История взаимодействий", "leads": "Лиды"},
}


def use_language(page: Page, language: str) -> None:
    page.context.add_cookies(
        # For the whole site, not only the landing page's path.
        [
            {
                "name": "django_language",
                "value": language,
                "url": (page.url or "http://127.0.0.1").split("/admin/")[0] + "/",
            }
        ]
    )


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", list(TEXTS))
def test_readme_screenshots(
    language: str, size: str, login: Callable[[str], Page], screenshot: Callable[..., object]
) -> None:
    texts = TEXTS[language]
    service = Service.objects.order_by("pk").first()
    for name in SAMPLE_CAMPAIGNS:
        Campaign.objects.get_or_create(
            name=name,
            defaults={
                "service": service,
                "channel": "search",
                "budget": 0,
                "start_date": "2026-01-01",
                "end_date": "2026-12-31",
            },
        )
    lead = (
        Lead.objects.filter(status=LeadStatus.CONVERTED)
        .annotate(entries=Count("interactions"))
        .order_by("-entries", "pk")
        .first()
    )
    assert lead is not None
    assert lead.entries >= 2  # type: ignore[attr-defined]
    page = login("admin")
    use_language(page, language)
    page.set_viewport_size(SIZES[size])
    suffix = f"{language}-{size}"

    today = timezone.localdate()
    page.goto(f"/admin/?date_from={today - timedelta(days=365)}&date_to={today}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#kpi-cards > *")).to_have_count(6)
    for canvas in page.locator("#admin-charts canvas.admin-chart-canvas").all():
        canvas.scroll_into_view_if_needed()
        expect(canvas).to_have_attribute("data-loaded", "true")
    if size == "phone":
        # Past the key figures, to the charts and their legends.
        page.locator("canvas.chart").nth(1).scroll_into_view_if_needed()
    else:
        page.evaluate("window.scrollTo(0, 0)")
    screenshot(f"dashboard-{suffix}")

    page.goto("/admin/crm_models/lead/import/")
    page.set_input_files("input[name=import_file]", str(SAMPLES / "leads-excel-ru-cp1251.csv"))
    page.get_by_role("button", name=texts["check"]).click()
    expect(page.locator("#import-preview [data-count=errors]")).to_have_text("5")
    page.locator("#import-preview").scroll_into_view_if_needed()
    screenshot(f"import-preview-{suffix}")

    page.goto(f"/admin/crm_models/lead/{lead.pk}/change/")
    tab = page.get_by_role("tab", name=texts["timeline"])
    tab.click()
    entries = page.locator("[data-interaction]")
    expect(entries.first).to_be_visible()
    tab.evaluate("tab => tab.scrollIntoView({block: 'start'})")
    screenshot(f"lead-timeline-{suffix}")
