"""Names built to break out of JSON, HTML attributes and script blocks stay text
on the dashboard and in every chart, for every role (issue 18)."""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from admin_tools_stats.models import CriteriaToStatsM2M, DashboardStats, DashboardStatsCriteria
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Page, expect

from crm_models.models import Campaign, Lead, Service

from .conftest import BROWSER_DB, BrowserProblems

pytestmark = [pytest.mark.browser, BROWSER_DB]

CAMPAIGN_NAME = "Spring&quot;}];window.__xss=1;//</script><script>window.__xss=1</script>"
SERVICE_NAME = '"><img src=x onerror=window.__xss=1>'
USER_LAST_NAME = "&lt;img src=x onerror=window.__xss=1&gt;"
CHART_ROLES = ["admin", "marketer", "manager"]
# Charts an administrator can add in the chart builder, over the other names a
# user writes: the leads' owners and the contracts' services.
EXTRA_CHARTS = [
    ("leads_by_owner", "Lead", "created_at", "owner", "owner__last_name"),
    ("contracts_by_service", "Contract", "signed_at", "service", "service__name"),
]
READ_CHART_LABELS = """canvas => {
    const chart = window.Chart && window.Chart.getChart(canvas);
    return chart ? chart.data.datasets.map((set) => set.label).concat(chart.data.labels) : null;
}"""


@pytest.fixture
def hostile_names(demo: None) -> None:
    today = timezone.localdate()
    campaign = Campaign.objects.order_by("pk").first()
    assert campaign is not None
    campaign.name = CAMPAIGN_NAME
    campaign.start_date = min(campaign.start_date, today.replace(day=1))
    campaign.save()
    Service.objects.filter(pk=campaign.service_id).update(name=SERVICE_NAME)
    operator = User.objects.get(username="operator")
    operator.last_name = USER_LAST_NAME
    operator.save()
    # The most leads this month, so the campaign leads the "top 10" chart.
    leads = Lead.objects.filter(owner=operator)[:40]
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(
        campaign=campaign, created_at=timezone.now() - timedelta(hours=1)
    )
    for key, model, date_field, criteria_name, field in EXTRA_CHARTS:
        chart = DashboardStats.objects.create(
            graph_key=key,
            graph_title=key,
            model_app_name="crm_models",
            model_name=model,
            date_field_name=date_field,
            type_operation_field_name="Count",
            default_chart_type="multiBarChart",
            allowed_chart_types=["multiBarChart", "lineChart"],
            default_time_period=30,
            default_time_scale="days",
            allowed_time_scales=["days", "weeks"],
            is_visible=True,
        )
        criteria = DashboardStatsCriteria.objects.create(
            criteria_name=criteria_name, dynamic_criteria_field_name=field
        )
        chart.default_multiseries_criteria = CriteriaToStatsM2M.objects.create(
            stats=chart, criteria=criteria, use_as="multiple_series"
        )
        chart.save()
    # The package keeps each chart's series names in the cache for a week; the
    # database is flushed between browser tests, the cache table is not.
    cache.clear()


def xss_ran(page: Page) -> bool:
    return page.evaluate("() => window.__xss !== undefined")


@pytest.mark.usefixtures("hostile_names")
@pytest.mark.parametrize("username", CHART_ROLES)
def test_hostile_names_stay_text_in_every_chart(username: str, login: Callable[[str], Page]) -> None:
    page = login(username)
    page.goto("/admin/?period=month")

    charts = page.locator("#admin-charts canvas.admin-chart-canvas")
    expect(charts).to_have_count(5)
    labels: list[str] = []
    for canvas in charts.all():
        canvas.scroll_into_view_if_needed()
        expect(canvas).to_have_attribute("data-loaded", "true")
        labels += canvas.evaluate(READ_CHART_LABELS)
    # unfold's own charts (ROI by campaign) and the ROI tables name the campaign too
    for canvas in page.locator("canvas.chart").all():
        labels += canvas.evaluate(READ_CHART_LABELS) or []
    assert CAMPAIGN_NAME in labels
    assert SERVICE_NAME in labels
    assert USER_LAST_NAME in labels

    # every drawing and interval of every chart
    for form in page.locator("form.admin-chart").all():
        for select in form.locator("select").all():
            for value in select.locator("option:not([disabled])").evaluate_all(
                "options => options.map((option) => option.value)"
            ):
                select.select_option(value)
        expect(form.locator("xpath=..").locator(".admin-chart-message")).to_be_hidden()
    page.mouse.move(400, 400)
    assert not xss_ran(page)

    # the CSV of the campaign chart carries the name as one cell
    with page.expect_download() as download:
        page.locator("form.admin-chart[data-chart-key=leads_by_campaign] .admin-chart-csv").click()
    assert CAMPAIGN_NAME in download.value.path().read_text(encoding="utf-8")

    for url in [
        "/admin/crm_models/campaign/",
        "/admin/crm_models/lead/",
        "/admin/dashboards/campaign-metrics/",
    ]:
        page.goto(url)
        assert not xss_ran(page), url
    expect(page.get_by_text(CAMPAIGN_NAME, exact=True).first).to_be_visible()


@pytest.mark.usefixtures("hostile_names")
def test_an_operator_sees_the_names_as_text_and_gets_no_chart(
    login: Callable[[str], Page], browser_problems: BrowserProblems
) -> None:
    page = login("operator")

    assert not xss_ran(page)
    expect(page.locator("#admin-charts")).to_have_count(0)
    page.goto("/admin/crm_models/lead/")
    expect(page.get_by_text(CAMPAIGN_NAME, exact=True).first).to_be_visible()
    assert not xss_ran(page)
    browser_problems.expect_console_error(r"status of 403")
    today = timezone.localdate().isoformat()
    response = page.goto(f"/admin/charts/chart_data/leads_by_campaign/?time_since={today}&time_until={today}")
    assert response is not None
    assert response.status == 403


def test_the_policy_blocks_an_injected_inline_script(
    login: Callable[[str], Page], browser_problems: BrowserProblems
) -> None:
    # The browser tests fail on any CSP violation: this one is expected (the
    # conftest's report and the browser's own message).
    browser_problems.expect_console_error(r"^CSP violation: script-src")
    browser_problems.expect_console_error(r"^Executing inline script violates the following Content Security")
    page = login("marketer")
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if _is_csp(message) else None)

    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__xss = 1";
            document.body.appendChild(script);
        }"""
    )

    page.wait_for_timeout(200)  # the violation event is dispatched asynchronously
    assert not xss_ran(page)
    assert any(re.match(r"CSP violation: script-src", text) for text in violations), violations
    policy = page.request.get("/admin/").headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert directives["default-src"] == "'self'"
    # a nonce joins script-src on pages whose templates use {{ request.csp_nonce }}
    assert directives["script-src"].startswith("'self'")
    assert "'unsafe-inline'" not in directives["script-src"]


def _is_csp(message: ConsoleMessage) -> bool:
    return message.type == "error" and message.text.startswith("CSP violation")
