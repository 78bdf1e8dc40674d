"""A visitor comes from an ad to the demo landing page, browses on, sends the form,
and the lead is in the admin with its source: the snippet kept the ad's utm_*."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from crm_models.models import Lead, LeadSource
from crm_models.views import DEMO_UTM_CAMPAIGN

from .conftest import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]


def test_a_visitor_from_an_ad_becomes_a_lead_with_its_source(
    page: Page, login: Callable[[str], Page], settings
) -> None:
    settings.CAPTURE_DEMO_PAGE = True
    page.goto(f"/demo/landing/?utm_source=yandex&utm_medium=cpc&utm_campaign={DEMO_UTM_CAMPAIGN}")
    # Another page of the site, without the ad's parameters: the cookie keeps them.
    page.goto("/demo/landing/")
    email = page.input_value("#email")

    page.get_by_role("button", name="Send").click()

    expect(page.locator("h1")).to_have_text("Thank you!")
    lead = Lead.objects.get(email=email)
    assert (lead.source, lead.utm_source, lead.utm_medium, lead.utm_campaign) == (
        LeadSource.CAPTURE,
        "yandex",
        "cpc",
        DEMO_UTM_CAMPAIGN,
    )
    assert lead.campaign.utm_campaign == DEMO_UTM_CAMPAIGN

    admin = login("admin")
    admin.goto(f"/admin/crm_models/lead/{lead.pk}/change/")
    expect(admin.locator("body")).to_contain_text("Web form")
    expect(admin.locator("body")).to_contain_text("yandex")
    expect(admin.locator("body")).to_contain_text("New request through the web form “Demo landing page”.")
