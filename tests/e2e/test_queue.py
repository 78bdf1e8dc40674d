"""An operator takes a lead from the unassigned queue with the lead page's
button (one click, sent as a POST by post_action.js)."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from crm_models.models import Lead

from .conftest import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]


def test_operator_takes_a_lead_from_the_queue(login: Callable[[str], Page]) -> None:
    lead = Lead.objects.filter(owner__isnull=True).order_by("pk").first()
    assert lead is not None  # the demo data keeps a queue
    page = login("operator")

    page.goto(f"/admin/crm_models/lead/{lead.pk}/change/")
    page.locator("a[data-crm-post=take]").click()

    page.wait_for_url(re.compile(rf"/admin/crm_models/lead/{lead.pk}/change/"))
    expect(page.locator("main, #main, body").first).to_contain_text("You took 1 lead.")
    expect(page.locator("a[data-crm-post=take]")).to_have_count(0)
    lead.refresh_from_db()
    assert lead.owner is not None
    assert lead.owner.username == "operator"
