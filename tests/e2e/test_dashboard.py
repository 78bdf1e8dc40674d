"""The dashboard shows its key figures and draws its charts for the chosen period."""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from crm_models.models import Lead

from .conftest import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]

KPI_TITLES = ["Leads", "New customers", "Conversion rate", "Revenue", "Ad spend", "ROI"]
# Pixels a drawn chart colours at the least (axes, labels and bars); a blank canvas has none.
MIN_PAINTED_PIXELS = 2_000
PAINTED_PIXELS = """canvas => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return painted;
}"""
CHART_POINTS = """canvas => {
    const chart = window.Chart && window.Chart.getChart(canvas);
    return chart ? chart.data.datasets.reduce((sum, set) => sum + set.data.length, 0) : -1;
}"""


def test_dashboard_draws_figures_and_charts_for_the_chosen_period(
    login: Callable[[str], Page], screenshot: Callable[..., object]
) -> None:
    today = timezone.localdate()
    date_from = today - timedelta(days=365)
    leads_in_period = Lead.objects.filter(created_at__date__gte=date_from).count()
    page = login("marketer")

    page.fill("#id_date_from", date_from.isoformat())
    page.fill("#id_date_to", today.isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(rf"date_from={date_from.isoformat()}&date_to={today.isoformat()}"))

    cards = page.locator("#kpi-cards > *")
    expect(cards).to_have_count(len(KPI_TITLES))
    for card, title in zip(cards.all(), KPI_TITLES, strict=True):
        expect(card).to_contain_text(title)
    expect(cards.first).to_contain_text(str(leads_in_period))

    canvases = page.locator("canvas.chart")
    expect(canvases).to_have_count(3)
    for canvas in canvases.all():
        canvas.scroll_into_view_if_needed()
        assert canvas.evaluate(CHART_POINTS) > 0
        assert canvas.evaluate(PAINTED_PIXELS) > MIN_PAINTED_PIXELS

    # django-admin-charts' definitions, drawn with Chart.js from their JSON data.
    admin_charts = page.locator("#admin-charts canvas.admin-chart-canvas")
    expect(admin_charts).to_have_count(3)
    for canvas in admin_charts.all():
        canvas.scroll_into_view_if_needed()
        expect(canvas).to_have_attribute("data-loaded", "true")
        assert canvas.evaluate(CHART_POINTS) > 0
        assert canvas.evaluate(PAINTED_PIXELS) > MIN_PAINTED_PIXELS
    # the toolbar redraws a chart: by campaign instead of by channel, by month
    toolbar = page.locator("form.admin-chart[data-chart-key=leads_by_channel]")
    with page.expect_response(re.compile(r"chart_data/leads_by_channel/.*select_box_interval=months")):
        toolbar.locator("select[name=select_box_interval]").select_option("months")
    expect(toolbar.locator(".admin-chart-csv")).to_have_attribute(
        "href", re.compile(r"^/admin/charts/chart_csv/leads_by_channel/\?.*select_box_interval=months")
    )

    page.evaluate("window.scrollTo(0, 0)")
    screenshot("dashboard")
