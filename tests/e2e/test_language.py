"""Switching the language to Russian gives a Russian admin."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]

# The manager's menu, from the project's catalogue (locale/ru).
RUSSIAN_MENU = ["Панель показателей", "Лиды", "Клиенты", "Договоры", "Взаимодействия", "Услуги", "Кампании"]
ENGLISH_MENU = ["Dashboard", "Leads", "Customers", "Contracts", "Interactions", "Services", "Campaigns"]


def menu_texts(page: Page) -> list[str]:
    links = page.locator("#nav-sidebar-inner a[href^='/admin/']:not([href$='/admin/password_change/'])")
    # The last word of each link is its label; the icon's ligature name comes first.
    return [text.split("\n")[-1].strip() for text in links.all_inner_texts() if text.strip()]


def open_user_menu(page: Page, full_name: str) -> None:
    page.locator("#nav-sidebar-inner").get_by_text(full_name).click()


def test_switching_to_russian_shows_a_russian_admin(
    login: Callable[[str], Page], screenshot: Callable[..., object]
) -> None:
    page = login("manager")
    page.goto("/admin/crm_models/lead/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    open_user_menu(page, "Mikhail Menedzherov")
    expect(page.locator("#logout-form")).to_contain_text("Log out")
    assert set(ENGLISH_MENU) <= set(menu_texts(page))

    with page.expect_request(lambda r: r.url.endswith("/i18n/setlang/") and r.method == "POST"):
        page.get_by_role("button", name="Русский").click()
    page.wait_for_url("**/admin/crm_models/lead/")

    expect(page.locator("html")).to_have_attribute("lang", "ru")
    open_user_menu(page, "Mikhail Menedzherov")
    expect(page.locator("#logout-form")).to_contain_text("Выйти")
    texts = menu_texts(page)
    assert set(RUSSIAN_MENU) <= set(texts), texts
    assert not set(ENGLISH_MENU) & set(texts), texts
    expect(page.locator("#result_list thead")).to_contain_text("Кампания")
    page.reload()  # without the open user menu
    screenshot("lead-list-ru")
    # The choice is kept: the next page is Russian too.
    page.goto("/admin/crm_models/customer/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
