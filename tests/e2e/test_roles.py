"""Every demo login sees its own menu, not the others', and opens each page it may open."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import BROWSER_DB, BrowserProblems, status_of

pytestmark = [pytest.mark.browser, BROWSER_DB]

LEADS = "/admin/crm_models/lead/"
CUSTOMERS = "/admin/crm_models/customer/"
CONTRACTS = "/admin/crm_models/contract/"
INTERACTIONS = "/admin/crm_models/interaction/"
SERVICES = "/admin/crm_models/service/"
CAMPAIGNS = "/admin/crm_models/campaign/"
USERS = "/admin/auth/user/"
GROUPS = "/admin/auth/group/"
METRICS = "/admin/dashboards/campaign-metrics/"
IMPORTS = "/admin/crm_models/importrecord/"
MY_DAY = "/admin/my-day/"
FOLLOW_UPS = "/admin/crm_models/followup/"
EVERY_MENU_LINK = {
    MY_DAY,
    FOLLOW_UPS,
    LEADS,
    CUSTOMERS,
    CONTRACTS,
    INTERACTIONS,
    SERVICES,
    CAMPAIGNS,
    METRICS,
    IMPORTS,
    USERS,
    GROUPS,
}

# One demo login per role -> (changelists in its menu, add pages it may open).
ROLE_PAGES: dict[str, tuple[set[str], set[str]]] = {
    "admin": (EVERY_MENU_LINK, {LEADS, USERS}),
    "operator": (
        {MY_DAY, LEADS, FOLLOW_UPS, INTERACTIONS, SERVICES, CAMPAIGNS},
        {LEADS, FOLLOW_UPS, INTERACTIONS},
    ),
    "marketer": ({LEADS, SERVICES, CAMPAIGNS, METRICS, IMPORTS}, {LEADS, SERVICES, CAMPAIGNS}),
    "manager": (
        {MY_DAY, LEADS, FOLLOW_UPS, CUSTOMERS, CONTRACTS, INTERACTIONS, SERVICES, CAMPAIGNS, METRICS},
        {CONTRACTS, FOLLOW_UPS},
    ),
}

# What the dashboard shows each role (DESIGN.md): campaign figures, or an operator's own leads.
DASHBOARD_SECTION = {
    "admin": "#kpi-cards",
    "operator": "#my-leads",
    "marketer": "#kpi-cards",
    "manager": "#kpi-cards",
}


def sidebar_links(page: Page) -> set[str]:
    hrefs = page.locator("#nav-sidebar-inner a[href^='/admin/']").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    return set(hrefs)


@pytest.mark.parametrize("username", list(ROLE_PAGES))
def test_role_sees_its_menu_and_opens_its_pages(
    username: str, login: Callable[[str], Page], browser_problems: BrowserProblems
) -> None:
    menu, add_pages = ROLE_PAGES[username]
    page = login(username)
    # Operators and managers land on "My day"; the dashboard is one link away.
    if username in ("operator", "manager"):
        expect(page.locator("#my-day-overdue")).to_have_count(1)
        page.goto("/admin/")
    for section in set(DASHBOARD_SECTION.values()):
        expect(page.locator(section)).to_have_count(1 if section == DASHBOARD_SECTION[username] else 0)

    links = sidebar_links(page)
    assert menu <= links, f"missing from {username}'s menu: {menu - links}"
    assert not (EVERY_MENU_LINK - menu) & links, f"{username} sees others' menu items"

    for url in sorted(links | {f"{path}add/" for path in add_pages}):
        assert status_of(page, url) == 200, f"{username}: {url}"
        assert page.locator("#nav-sidebar-inner").is_visible()

    browser_problems.expect_console_error(r"status of 403")
    # Django's plain 403 page names no icon, so the browser asks for /favicon.ico.
    browser_problems.expect_console_error(r"status of 404 .*/favicon\.ico\)$")
    for url in sorted(EVERY_MENU_LINK - menu):
        assert status_of(page, url) == 403, f"{username}: {url}"
