"""List filters rendered once per language and selection
(crm_models/admin/filters.py) write what unfold renders for the same request,
whatever was rendered before them, and never keep what reads the database."""

import re
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils.timezone import make_aware as aware

from crm_models.admin import filters
from crm_models.models import Interaction, Lead
from tests.factories import CampaignFactory, CustomerFactory, InteractionFactory, LeadFactory

pytestmark = pytest.mark.django_db

# Each CRM list with filters, and selections of each of its filters (valid,
# invalid, partial), besides none at all.
SELECTIONS = {
    "crm_models_lead": [
        {"status__exact": "new"},
        {"status__exact": "bogus"},
        {"campaign__channel__exact": "email", "created_at_from": "2026-01-01"},
        {"created_at_from": "2026-01-01", "created_at_to": "not a date"},
    ],
    "crm_models_interaction": [
        {"kind__exact": "call"},
        {"happened_at_from_0": "2026-01-01", "happened_at_from_1": "10:00"},
    ],
    "crm_models_customer": [{"created_at_to": "2026-12-31"}],
    "crm_models_contract": [{"signed_at_from": "2026-01-01"}],
    "crm_models_campaign": [{"channel__exact": "search"}],
    "crm_models_importrecord": [{"kind__exact": "lead"}],
}
CASES = [(name, selection) for name, selections in SELECTIONS.items() for selection in [{}, *selections]]


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    filters._RENDERED.clear()
    yield
    filters._RENDERED.clear()


def filter_panel(client: Client, name: str, selection: dict, language: str) -> str:
    response = client.get(reverse(f"admin:{name}_changelist"), selection, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    match = re.search(r'<form id="filter-form".*?</form>', response.content.decode(), re.S)
    assert match is not None, "no filter panel"
    return match.group(0)


def test_every_filter_panel_reads_as_rendered_afresh(
    administrator: User, client_for: Callable[[User], Client]
) -> None:
    InteractionFactory(lead=LeadFactory(campaign=CampaignFactory()))
    client = client_for(administrator)
    kept = [
        (name, selection, language, filter_panel(client, name, selection, language))
        for language in ("en", "ru")
        for name, selection in CASES
    ]
    assert filters._RENDERED  # the panels above were kept...
    for name, selection, language, panel in kept:
        # ...and each one, rendered again from an empty store, is the same.
        filters._RENDERED.clear()
        assert filter_panel(client, name, selection, language) == panel, (name, selection, language)
    english, russian = (
        panel
        for name, selection, language, panel in kept
        if name == "crm_models_lead" and selection == {"status__exact": "new"}
    )
    assert english != russian
    assert re.search(r'<option value="new"\s+selected>', english)


def test_a_picked_campaign_shows_its_current_name(
    administrator: User, client_for: Callable[[User], Client]
) -> None:
    campaign = CampaignFactory(name="Spring fair")
    LeadFactory(campaign=campaign)
    client = client_for(administrator)
    picked = {"campaign__id__exact": str(campaign.pk)}
    assert "Spring fair" in filter_panel(client, "crm_models_lead", picked, "en")
    campaign.name = "Autumn fair"
    campaign.save()
    panel = filter_panel(client, "crm_models_lead", picked, "en")
    assert "Autumn fair" in panel
    assert "Spring fair" not in panel


def test_the_account_manager_filter_lists_that_managers_customers(
    administrator: User, manager: User, manager2: User, client_for: Callable[[User], Client]
) -> None:
    """Searched as you type (no option per member of staff), and still the
    filter it was: the customers of the manager picked, none of another's."""
    own = {CustomerFactory(account_manager=manager).pk for _ in range(2)}
    CustomerFactory(account_manager=manager2)
    client = client_for(administrator)
    url = reverse("admin:crm_models_customer_changelist")
    response = client.get(url, {"account_manager__id__exact": str(manager.pk)})
    assert response.status_code == 200
    assert {customer.pk for customer in response.context["cl"].result_list} == own
    panel = filter_panel(client, "crm_models_customer", {"account_manager__id__exact": str(manager.pk)}, "en")
    assert 'data-ajax--url="/admin/autocomplete/"' in panel
    assert manager2.username not in panel


def test_typed_values_cannot_grow_the_store_without_bound(
    administrator: User, client_for: Callable[[User], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filters, "RENDERED_LIMIT", 3)
    client = client_for(administrator)
    for index in range(10):
        filter_panel(client, "crm_models_lead", {"status__exact": f"bogus{index}"}, "en")
        assert len(filters._RENDERED) <= 3


def test_a_date_range_over_a_date_and_time_column_holds_whole_days(
    administrator: User, client_for: Callable[[User], Client]
) -> None:
    """Leads created late on the last day are in the range, those of the next
    day's first minutes are not (in the current time zone); a day that cannot
    be read leaves the other end of the range in force."""
    late = LeadFactory()
    early_next_day = LeadFactory()
    Lead.objects.filter(pk=late.pk).update(created_at=aware(datetime(2026, 3, 31, 23, 30)))
    Lead.objects.filter(pk=early_next_day.pk).update(created_at=aware(datetime(2026, 4, 1, 0, 30)))
    client = client_for(administrator)

    def listed(selection: dict) -> set[int]:
        response = client.get(reverse("admin:crm_models_lead_changelist"), selection)
        assert response.status_code == 200
        return {lead.pk for lead in response.context["cl"].result_list}

    assert listed({"created_at_to": "2026-03-31"}) == {late.pk}
    assert listed({"created_at_from": "2026-04-01"}) == {early_next_day.pk}
    assert listed({"created_at_from": "2026-03-31", "created_at_to": "2026-04-01"}) == {
        late.pk,
        early_next_day.pk,
    }
    assert listed({"created_at_from": "2026-03-31", "created_at_to": "31/31/2026"}) == {
        late.pk,
        early_next_day.pk,
    }
    assert listed({"created_at_from": "2026-04-02"}) == set()


def test_a_moment_range_reads_the_typed_time_in_the_current_zone(
    administrator: User, client_for: Callable[[User], Client]
) -> None:
    interaction = InteractionFactory()
    Interaction.objects.filter(pk=interaction.pk).update(happened_at=aware(datetime(2026, 3, 31, 10, 0)))
    client = client_for(administrator)
    url = reverse("admin:crm_models_interaction_changelist")

    def listed(day: str, clock: str) -> list[int]:
        selection = {"happened_at_from_0": day, "happened_at_from_1": clock}
        return [row.pk for row in client.get(url, selection).context["cl"].result_list]

    assert listed("2026-03-31", "10:00") == [interaction.pk]
    assert listed("2026-03-31", "10:01") == []


def test_the_channel_filter_lists_exactly_the_channels_leads(
    operator: User, administrator: User, client_for: Callable[[User], Client]
) -> None:
    """The channel filter bounds the lead list by the dates of the channel's
    oldest and newest leads (admin/lead.py, LeadChannelFilter): the same rows
    in the same order as the plain condition, for each role, sorted either way,
    and none for a channel without leads or a value typed into the URL."""
    email, other_email, social = (
        CampaignFactory(channel="email"),
        CampaignFactory(channel="email"),
        CampaignFactory(channel="social"),
    )
    days = [aware(datetime(2026, 3, day, 12)) for day in range(1, 11)]
    for day, campaign in zip(
        days,
        [social, email, social, other_email, email, social, email, social, other_email, social],
        strict=True,
    ):
        LeadFactory(campaign=campaign, owner=operator, created_at=day)
    LeadFactory(campaign=email, created_at=days[4])  # another owner's, the same moment
    url = reverse("admin:crm_models_lead_changelist")
    for user in (administrator, operator):
        client = client_for(user)
        for channel in ("email", "social", "display", "no-such-channel"):
            for order in ({}, {"o": "7"}, {"o": "-7"}):
                response = client.get(url, {"campaign__channel__exact": channel, **order})
                assert response.status_code == 200
                cl = response.context["cl"]
                expected = Lead.objects.visible_to(user).filter(campaign__channel=channel)
                expected = expected.order_by(*cl.queryset.query.order_by)
                assert [lead.pk for lead in cl.result_list] == [lead.pk for lead in expected], (
                    user,
                    channel,
                    order,
                )
                assert cl.result_count == expected.count()
    counts = {
        channel: client_for(administrator)
        .get(url, {"campaign__channel__exact": channel})
        .context["cl"]
        .result_count
        for channel in ("email", "social", "display")
    }
    assert counts == {"email": 6, "social": 5, "display": 0}
    # Typed into the URL: two channels (either), a lead without one (none).
    client = client_for(administrator)
    both = client.get(f"{url}?campaign__channel__exact=email&campaign__channel__exact=social").context["cl"]
    assert sorted(lead.pk for lead in both.result_list) == sorted(Lead.objects.values_list("pk", flat=True))
    for missing in ("True", "1", "yes"):
        none = client.get(url, {"campaign__channel__isnull": missing, "campaign__channel__exact": "email"})
        assert (none.status_code, none.context["cl"].result_count) == (200, 0)
    unfiltered = client.get(url, {"campaign__channel__isnull": "False"}).context["cl"]
    assert unfiltered.result_count == Lead.objects.count()
