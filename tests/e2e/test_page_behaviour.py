"""unfold's behaviour (Alpine.js, htmx) under the Content-Security-Policy: the
command palette, the theme switch and the dashboard charts in dark mode. The
page fixture fails the test on any CSP violation."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from crm_models.models import Lead

from .conftest import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]


def test_command_palette_finds_a_lead(login: Callable[[str], Page]) -> None:
    lead = Lead.objects.order_by("pk").first()
    assert lead is not None
    page = login("marketer")

    page.keyboard.press("Control+k")
    search = page.locator("#search-input-command")
    expect(search).to_be_visible()
    search.press_sequentially(lead.email, delay=20)

    expect(page.locator("#command-results")).to_contain_text(f"{lead.first_name} {lead.last_name}")


def test_dark_mode_switch_recolours_the_dashboard(login: Callable[[str], Page]) -> None:
    page = login("marketer")
    charts = page.locator("#admin-charts canvas.admin-chart-canvas")
    expect(charts.first).to_have_attribute("data-loaded", "true")

    page.locator("#nav-sidebar-inner").get_by_text("Maria").first.click()
    page.get_by_text("Dark", exact=True).click()

    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    grid = charts.first.evaluate("canvas => window.Chart.getChart(canvas).options.scales.y.grid.color")
    dark = page.evaluate(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--color-base-700').trim()"
    )
    assert grid == dark
