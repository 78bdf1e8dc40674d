"""Switching the language to Russian gives a Russian admin."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_user_menu(page: Page, full_name: str) -> None:
    page.locator("#nav-sidebar-inner").get_by_text(full_name).click()


def test_switching_to_russian_shows_a_russian_admin(login: Callable[[str], Page]) -> None:
    page = login("manager")
    page.goto("/admin/crm_models/lead/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    open_user_menu(page, "Mikhail Menedzherov")
    expect(page.locator("#logout-form")).to_contain_text("Log out")

    with page.expect_request(lambda r: r.url.endswith("/i18n/setlang/") and r.method == "POST"):
        page.get_by_role("button", name="Русский").click()
    page.wait_for_url("**/admin/crm_models/lead/")

    expect(page.locator("html")).to_have_attribute("lang", "ru")
    open_user_menu(page, "Mikhail Menedzherov")
    expect(page.locator("#logout-form")).to_contain_text("Выйти")
    # The choice is kept: the next page is Russian too.
    page.goto("/admin/crm_models/customer/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
