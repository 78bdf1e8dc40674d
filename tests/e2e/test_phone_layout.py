"""On a 390-pixel-wide phone (390x844): a lead row is compact, the breadcrumbs
show text and the dashboard's chart legends do not overlap (nor the plots)."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from crm_models.models import Lead

from .conftest import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]

PHONE = {"width": 390, "height": 844}
# A lead's row as a card: name, contacts, campaign and status in a few short
# lines. Unfold's own card gave each of its 8 cells a labelled 45-pixel line
# (353 pixels, two rows per screen).
MAX_ROW_HEIGHT = 180

ROWS = """() => [...document.querySelectorAll('#result_list tbody tr')].map(row => {
    const box = row.getBoundingClientRect();
    return {height: box.height, left: box.left, right: box.right, scrollWidth: row.scrollWidth, width: row.clientWidth};
})"""
CRUMBS = """() => [...document.querySelectorAll('#header-inner h1 > .tracking-tight')].map(link => {
    const box = link.getBoundingClientRect();
    return {text: link.textContent.trim(), width: box.width, scrollWidth: link.scrollWidth, clientWidth: link.clientWidth,
            left: box.left, right: box.right};
})"""
LEGENDS = """() => Object.values(Chart.instances).map(chart => {
    const legend = chart.legend;
    const shown = legend && legend.options.display;
    return {
        canvas: chart.canvas.closest('[data-chart-key]') ? chart.canvas.closest('[data-chart-key]').dataset.chartKey : chart.canvas.className,
        width: chart.width,
        boxes: shown ? legend.legendHitBoxes.map(b => [b.left, b.top, b.left + b.width, b.top + b.height]) : [],
        area: [chart.chartArea.left, chart.chartArea.top, chart.chartArea.right, chart.chartArea.bottom],
    };
})"""


def intersect(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_lead_rows_are_compact_and_fit_the_screen(login: Callable[[str], Page]) -> None:
    operator = User.objects.get(username="operator")
    page = login("operator")
    page.set_viewport_size(PHONE)
    page.goto("/admin/crm_models/lead/")

    rows = page.evaluate(ROWS)
    assert rows
    for row in rows:
        assert row["height"] <= MAX_ROW_HEIGHT, row
        assert row["left"] >= 0, row
        assert row["right"] <= PHONE["width"], row
        assert row["scrollWidth"] <= row["width"] + 1, row  # nothing runs out of the card
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    first = page.locator("#result_list tbody tr").first
    # The operator's list: their own leads and the unassigned queue.
    lead = Lead.objects.visible_to(operator).order_by("-created_at", "-id").first()
    assert lead is not None
    expect(first.get_by_role("link", name=lead.full_name)).to_be_visible()


@pytest.mark.parametrize(
    ("path", "crumbs"),
    [
        ("/admin/crm_models/lead/", ["CRM", "Leads"]),
        ("/admin/crm_models/interaction/", ["CRM", "Interactions"]),
    ],
)
def test_breadcrumbs_show_their_text(path: str, crumbs: list[str], login: Callable[[str], Page]) -> None:
    page = login("operator")
    page.set_viewport_size(PHONE)
    page.goto(path)

    found = page.evaluate(CRUMBS)
    assert [crumb["text"] for crumb in found][: len(crumbs)] == crumbs
    for crumb in found:
        # The whole word on screen: not cut to nothing or to an ellipsis.
        assert crumb["scrollWidth"] <= crumb["clientWidth"] + 1, crumb
        assert crumb["width"] > 0, crumb
        assert crumb["left"] >= 0, crumb
        assert crumb["right"] <= PHONE["width"], crumb
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_lead_page_breadcrumbs_show_the_lead(login: Callable[[str], Page]) -> None:
    lead = Lead.objects.filter(owner__username="operator").first()
    assert lead is not None
    page = login("operator")
    page.set_viewport_size(PHONE)
    page.goto(f"/admin/crm_models/lead/{lead.pk}/change/")

    found = page.evaluate(CRUMBS)
    assert [crumb["text"] for crumb in found] == ["CRM", "Leads", str(lead)]
    for crumb in found:
        assert crumb["scrollWidth"] <= crumb["clientWidth"] + 1, crumb
        assert crumb["right"] <= PHONE["width"], crumb
    # The header grows to hold them: nothing sits above the page's top.
    assert page.evaluate("document.querySelector('#header-inner h1').getBoundingClientRect().top") >= 0


def test_dashboard_legends_do_not_overlap(login: Callable[[str], Page]) -> None:
    page = login("marketer")
    page.set_viewport_size(PHONE)
    page.reload()
    for canvas in page.locator("#admin-charts canvas.admin-chart-canvas").all():
        canvas.scroll_into_view_if_needed()
        expect(canvas).to_have_attribute("data-loaded", "true")

    charts = page.evaluate(LEGENDS)
    assert len(charts) >= 3
    for chart in charts:
        boxes = chart["boxes"]
        for index, box in enumerate(boxes):
            assert box[0] >= 0, chart
            assert box[2] <= chart["width"], chart
            assert not intersect(box, chart["area"]), chart
            for other in boxes[index + 1 :]:
                assert not intersect(box, other), chart
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
