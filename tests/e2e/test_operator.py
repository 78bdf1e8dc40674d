"""An operator records a lead, logs a call on it, and cannot reach a colleague's lead."""

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from crm_models.models import Interaction, InteractionKind, Lead

from .conftest import BROWSER_DB, BrowserProblems, pick_autocomplete, status_of

pytestmark = [pytest.mark.browser, BROWSER_DB]


def test_operator_creates_a_lead_and_logs_an_interaction(
    login: Callable[[str], Page], screenshot: Callable[..., object]
) -> None:
    page = login("operator")
    page.locator("#nav-sidebar-inner").get_by_role("link", name="Leads").click()
    page.wait_for_url("**/admin/crm_models/lead/")
    screenshot("lead-list")

    page.goto("/admin/crm_models/lead/add/")
    page.fill("input[name=first_name]", "Vera")
    page.fill("input[name=last_name]", "Zvonkova")
    page.fill("input[name=email]", "  Vera.Zvonkova@Example.COM ")
    page.fill("input[name=phone]", "8 (916) 555-12-34")
    campaign = pick_autocomplete(page, "campaign", "Весна")
    page.locator("button[name=_save]").click()

    page.wait_for_url("**/admin/crm_models/lead/")
    expect(page.locator("main, #main, body").first).to_contain_text(
        "The lead “Vera Zvonkova” was added successfully."
    )
    lead = Lead.objects.get(email="vera.zvonkova@example.com")
    assert (lead.phone, lead.owner.username, lead.campaign.name) == ("+79165551234", "operator", campaign)

    page.fill("#searchbar", "8 916 555 12 34")
    page.keyboard.press("Enter")
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("+7 916 555-12-34")

    row.get_by_role("link", name="Vera Zvonkova").click()
    page.wait_for_url(re.compile(rf"/admin/crm_models/lead/{lead.pk}/change/"))
    page.get_by_role("tab", name="Interaction timeline").click()
    page.get_by_label("Kind").select_option(InteractionKind.CALL.value)
    page.get_by_label("What happened").fill("Called back: wants a quote for SEO")
    page.get_by_role("button", name="Add to the timeline").click()

    page.wait_for_url(re.compile(rf"/admin/crm_models/lead/{lead.pk}/change/"))
    expect(page.locator("main, #main, body").first).to_contain_text("Added to the timeline: call.")
    interaction = Interaction.objects.get(lead=lead)
    assert (interaction.kind, interaction.author.username, interaction.summary) == (
        InteractionKind.CALL,
        "operator",
        "Called back: wants a quote for SEO",
    )
    page.get_by_role("tab", name="Interaction timeline").click()
    entry = page.locator(f"[data-interaction='{interaction.pk}']")
    expect(entry).to_contain_text("Called back: wants a quote for SEO")
    expect(entry).to_contain_text("Olga Operatorova")
    screenshot("lead-timeline")


def test_operator_cannot_open_another_operators_lead(
    login: Callable[[str], Page], browser_problems: BrowserProblems
) -> None:
    theirs = Lead.objects.filter(owner=User.objects.get(username="operator2")).first()
    mine = Lead.objects.filter(owner=User.objects.get(username="operator")).first()
    assert theirs is not None
    assert mine is not None
    page = login("operator")

    assert status_of(page, f"/admin/crm_models/lead/{mine.pk}/change/") == 200

    browser_problems.expect_console_error(r"status of 404")
    for url in (
        f"/admin/crm_models/lead/{theirs.pk}/change/",
        f"/admin/crm_models/lead/{theirs.pk}/history/",
    ):
        assert status_of(page, url) == 404, url
        expect(page.locator("body")).not_to_contain_text(theirs.email)

    page.goto("/admin/crm_models/lead/")
    expect(page.locator("#result_list")).not_to_contain_text(theirs.email)
    expect(page.locator("#result_list")).to_contain_text(re.compile(re.escape(mine.email)))
