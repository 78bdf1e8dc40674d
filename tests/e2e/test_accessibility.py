"""axe-core (vendored in tests/e2e/vendor, never fetched) finds no serious or
critical accessibility violation on the login page, the dashboard, every
list, every change form, the import page, the conversion page and the open
user menu (reached by Tab)."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from crm_models.models import Lead, LeadStatus

from .conftest import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING = {"serious", "critical"}
# Violations known and accepted: none.
KNOWN: set[str] = set()
# The sidebar's links come before the user menu's button.
MAX_TABS = 80
MODELS = ["service", "campaign", "lead", "customer", "contract", "interaction", "importrecord"]


def violations(page: Page) -> list[str]:
    # Evaluated through the browser's protocol, not as a <script> tag, which the
    # page's Content-Security-Policy (no inline scripts) rightly blocks.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['nodes']}"
        for v in found
        if v["impact"] in BLOCKING and v["id"] not in KNOWN
    ]


def check(page: Page, url: str, problems: dict[str, list[str]]) -> None:
    response = page.goto(url)
    assert response is not None, url
    assert response.status == 200, url
    found = violations(page)
    if found:
        problems[url] = found


def test_login_page_has_no_serious_violations(page: Page) -> None:
    problems: dict[str, list[str]] = {}
    check(page, "/admin/login/", problems)
    assert problems == {}, "\n".join(f"{url}: {found}" for url, found in problems.items())


def test_administrators_pages_have_no_serious_violations(login: Callable[[str], Page]) -> None:
    page = login("admin")
    problems: dict[str, list[str]] = {}
    check(page, "/admin/", problems)
    for model in MODELS:
        listing = f"/admin/crm_models/{model}/"
        check(page, listing, problems)
        first = page.locator("#result_list tbody tr a[href*='/change/']").first
        if first.count():
            href = first.get_attribute("href")
            assert href is not None
            check(page, href, problems)
    check(page, "/admin/crm_models/lead/add/", problems)
    check(page, "/admin/crm_models/lead/import/", problems)
    check(page, "/admin/auth/user/", problems)
    assert problems == {}, "\n".join(f"{url}: {found}" for url, found in problems.items())


def test_conversion_page_has_no_serious_violations(login: Callable[[str], Page]) -> None:
    lead = Lead.objects.exclude(status__in=[LeadStatus.CONVERTED, LeadStatus.LOST]).first()
    assert lead is not None
    page = login("manager")
    problems: dict[str, list[str]] = {}
    check(page, reverse("admin:crm_models_lead_convert_lead_detail", args=[lead.pk]), problems)
    assert problems == {}, "\n".join(f"{url}: {found}" for url, found in problems.items())


@pytest.mark.parametrize(
    ("language", "choose", "password", "log_out"),
    [("en", "Русский", "Change password", "Log out"), ("ru", "English", "Изменить пароль", "Выйти")],
)
def test_user_menu_is_reached_by_tab_and_has_no_serious_violations(
    language: str, choose: str, password: str, log_out: str, login: Callable[[str], Page]
) -> None:
    page = login("manager")
    # For the whole site: the cookie's path would otherwise be that of the
    # landing page (My day, for a manager).
    root = page.url.split("/admin/")[0] + "/"
    page.context.add_cookies([{"name": "django_language", "value": language, "url": root}])
    page.goto("/admin/crm_models/lead/")
    button = page.locator("#user-menu-button")
    menu = page.locator("#user-menu")

    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "user-menu-button":
            break
    else:
        pytest.fail(f"the user menu's button was not reached in {MAX_TABS} presses of Tab")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    for control in (
        menu.get_by_role("button", name=choose),
        menu.get_by_role("link", name=password),
        menu.get_by_role("button", name=log_out),
    ):
        expect(control).to_be_visible()
    # Tab goes on into the menu, and focus is visible there.
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('user-menu').contains(document.activeElement)")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"

    assert violations(page) == []

    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "user-menu-button"
