"""An operator's day: they sign in and land on "My day", call the lead of an
overdue step (its phone as a tel: link), mark the step done, plan the next
step from the lead's page and find it in "My day".

Taking a lead from the unassigned queue, where such a day starts, belongs to
the queue's take action and is tested with it."""

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from crm_models.models import Interaction
from crm_models.workflow_models import FollowUp

from .conftest import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]


def test_operators_day(login: Callable[[str], Page], screenshot: Callable[..., object]) -> None:
    operator = User.objects.get(username="operator")
    page = login("operator")
    assert page.url.endswith("/admin/my-day/")
    expect(page.locator("#content h1")).to_have_text("My day")
    screenshot("my-day")

    # The earliest overdue step: the demo data plans two for each operator.
    overdue = page.locator("#my-day-overdue tbody tr")
    expect(overdue).to_have_count(2)
    row = overdue.first
    step = FollowUp.objects.get(pk=int(row.get_attribute("data-follow-up") or 0))
    assert (step.assignee_id, step.done_at) == (operator.pk, None)
    lead = step.lead
    expect(row.locator(f"a[href='tel:{lead.phone}']")).to_have_count(1)
    if lead.email:
        expect(row.locator(f"a[href='mailto:{lead.email}']")).to_have_count(1)

    # The call is made; one click marks the step done.
    row.get_by_role("button", name="Done", exact=True).click()
    page.wait_for_url("**/admin/my-day/")
    expect(page.locator("body")).to_contain_text(f"Done: {step.get_kind_display().lower()}, {lead}.")
    expect(page.locator("#my-day-overdue tbody tr")).to_have_count(1)
    step.refresh_from_db()
    assert step.done_at is not None
    interaction = Interaction.objects.get(pk=step.interaction_id)
    assert (interaction.lead_id, interaction.author_id) == (lead.pk, operator.pk)

    # The next step, planned from the lead's page (due tomorrow at ten by default).
    page.goto(f"/admin/crm_models/lead/{lead.pk}/change/")
    expect(page.locator("#next-step")).to_be_visible()
    page.locator("#plan-follow-up").click()
    page.wait_for_url(re.compile(r"/admin/crm_models/followup/add/\?lead="))
    page.get_by_label("Note").fill("Send the quote we talked about")
    page.locator("button[name=_save]").click()
    page.wait_for_url("**/admin/crm_models/followup/")
    planned = FollowUp.objects.get(lead=lead, done_at__isnull=True, note="Send the quote we talked about")
    assert (planned.assignee_id, planned.created_by_id) == (operator.pk, operator.pk)

    page.locator("#nav-sidebar-inner").get_by_role("link", name="My day").click()
    page.wait_for_url("**/admin/my-day/")
    upcoming = page.locator(f"#my-day-upcoming tr[data-follow-up='{planned.pk}']")
    expect(upcoming).to_contain_text("Send the quote we talked about")
    expect(upcoming).to_contain_text(lead.full_name)
