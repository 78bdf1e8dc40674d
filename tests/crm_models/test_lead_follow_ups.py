"""The lead list's follow-up state filter, the stale flag (filter and badge,
one rule) and the next-step column; the lead page's next step and the
timeline's planned steps."""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm_models.models import Lead, LeadStatus
from crm_models.selectors.followups import day_bounds, lead_is_stale, stale_q
from crm_models.services.followups import follow_up_plan
from tests.factories import InteractionFactory, LeadFactory

pytestmark = pytest.mark.django_db

LIST = "admin:crm_models_lead_changelist"


def listed(client: Client, **params: str) -> set[int]:
    response = client.get(reverse(LIST), params)
    assert response.status_code == 200
    return {lead.pk for lead in response.context["cl"].result_list}


@pytest.fixture
def leads(operator: User, operator2: User) -> dict[str, Lead]:
    now, _start, end = day_bounds()
    long_ago = now - timedelta(days=30)
    made = {
        "overdue": LeadFactory(owner=operator),
        "today": LeadFactory(owner=operator),
        "planned": LeadFactory(owner=operator),
        "none": LeadFactory(owner=operator),
        "stale": LeadFactory(owner=operator, status=LeadStatus.IN_PROGRESS),
        "touched": LeadFactory(owner=operator, status=LeadStatus.IN_PROGRESS),
        "queue": LeadFactory(owner=None),
        "others": LeadFactory(owner=operator2),
    }
    Lead.objects.filter(pk__in=[lead.pk for lead in made.values()]).update(created_at=long_ago)
    follow_up_plan(lead=made["overdue"], user=operator, due_at=now - timedelta(hours=1))
    follow_up_plan(lead=made["today"], user=operator, due_at=now + (end - now) / 2)
    follow_up_plan(lead=made["planned"], user=operator, due_at=end + timedelta(days=1))
    follow_up_plan(lead=made["others"], user=operator2, due_at=now - timedelta(hours=1))
    InteractionFactory(lead=made["touched"], happened_at=now - timedelta(days=1))
    InteractionFactory(lead=made["stale"], happened_at=now - timedelta(days=20))
    return made


def ids(leads: dict[str, Lead], *names: str) -> set[int]:
    return {leads[name].pk for name in names}


def test_operator_filters_by_follow_up_state(
    leads: dict[str, Lead], operator: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(operator)
    assert listed(client, follow_up="overdue") == ids(leads, "overdue")
    assert listed(client, follow_up="today") == ids(leads, "today")
    assert listed(client, follow_up="planned") == ids(leads, "planned")
    assert listed(client, follow_up="none") == ids(leads, "none", "stale", "touched", "queue")
    assert listed(client, follow_up="bogus") == set()


def test_operator_filters_own_leads_or_the_queue(
    leads: dict[str, Lead], operator: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(operator)
    mine = ids(leads, "overdue", "today", "planned", "none", "stale", "touched")
    assert listed(client) == mine | ids(leads, "queue")
    assert listed(client, owned="mine") == mine
    assert listed(client, owned="queue") == ids(leads, "queue")
    assert listed(client, owned="bogus") == set()
    response = client.get(reverse(LIST))
    assert [spec.title for spec in response.context["cl"].filter_specs].count("owner") == 1


def test_marketer_sees_the_queue_of_every_lead(
    leads: dict[str, Lead], marketer: User, client_for: Callable[[User], Client]
) -> None:
    assert listed(client_for(marketer), owned="queue") == ids(leads, "queue")


def test_administrator_filters_by_follow_up_state(
    leads: dict[str, Lead], administrator: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(administrator)
    assert listed(client, follow_up="overdue") == ids(leads, "overdue", "others")
    assert listed(client, follow_up="planned") == ids(leads, "planned")


def test_stale_filter_and_badge_agree(
    leads: dict[str, Lead], operator: User, client_for: Callable[[User], Client], settings: object
) -> None:
    # New leads are stale after 2 days, in-progress after 7: "none" (new, 30
    # days old, untouched) and "queue" are stale too; "touched" had a call
    # yesterday, the others have a next step.
    client = client_for(operator)
    expected = ids(leads, "stale", "none", "queue")
    assert listed(client, stale="yes") == expected
    assert set(Lead.objects.filter(stale_q()).values_list("pk", flat=True)) == expected | set()
    html = client.get(reverse(LIST)).content.decode()
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, re.S)
    badged = {
        int(m.group(1))
        for row in rows
        if "Stale" in row and (m := re.search(r"/admin/crm_models/lead/(\d+)/change/", row))
    }
    assert badged == expected


def test_stale_days_are_a_setting_per_status(leads: dict[str, Lead], settings: object) -> None:
    settings.CRM_STALE_DAYS = {"in_progress": 25}  # type: ignore[attr-defined]
    assert set(Lead.objects.filter(stale_q()).values_list("pk", flat=True)) == set()
    settings.CRM_STALE_DAYS = {"in_progress": 10}  # type: ignore[attr-defined]
    assert set(Lead.objects.filter(stale_q()).values_list("pk", flat=True)) == ids(leads, "stale")


def test_the_badges_rule_is_the_filters() -> None:
    now = timezone.now()
    old, fresh = now - timedelta(days=9), now - timedelta(days=1)
    assert lead_is_stale(
        status="in_progress", created_at=old, next_follow_up_at=None, last_interaction_at=None, now=now
    )
    assert not lead_is_stale(
        status="in_progress", created_at=old, next_follow_up_at=None, last_interaction_at=fresh, now=now
    )
    assert not lead_is_stale(
        status="in_progress", created_at=old, next_follow_up_at=now, last_interaction_at=None, now=now
    )
    assert not lead_is_stale(
        status="converted", created_at=old, next_follow_up_at=None, last_interaction_at=None, now=now
    )
    assert not lead_is_stale(
        status="new", created_at=fresh, next_follow_up_at=None, last_interaction_at=None, now=now
    )


def test_marketer_sees_no_stale_filter_rows_beyond_scope(
    leads: dict[str, Lead], marketer: User, client_for: Callable[[User], Client]
) -> None:
    # Marketers see every lead (DESIGN.md) and may filter them.
    assert listed(client_for(marketer), follow_up="overdue") == ids(leads, "overdue", "others")


def test_next_step_column_sorts(
    leads: dict[str, Lead], administrator: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(administrator)
    response = client.get(reverse(LIST))
    column = response.context["cl"].list_display.index("next_step")
    response = client.get(reverse(LIST), {"o": str(column)})
    rows = [lead.pk for lead in response.context["cl"].result_list]
    overdue_first = sorted(
        [leads["overdue"], leads["others"]], key=lambda lead: (lead.follow_ups.get().due_at, -lead.pk)
    )
    assert rows[:4] == [*(lead.pk for lead in overdue_first), leads["today"].pk, leads["planned"].pk]
    assert set(rows[4:]) == ids(leads, "none", "stale", "touched", "queue")


def test_lead_page_shows_next_step_and_planned_in_timeline(
    leads: dict[str, Lead], operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = leads["planned"]
    html = client_for(operator).get(reverse("admin:crm_models_lead_change", args=[lead.pk])).content.decode()
    panel = re.search(r'<div id="next-step">.*?</div>', html, re.S)
    assert panel is not None
    assert "Call" in panel.group(0)
    assert f'href="{reverse("admin:crm_models_followup_add")}?lead={lead.pk}"' in html
    step = lead.follow_ups.get()
    assert f'data-follow-up="{step.pk}"' in html  # the timeline's planned steps


def test_unassigned_lead_page_shows_no_plan_link_to_an_operator(
    leads: dict[str, Lead], operator: User, client_for: Callable[[User], Client]
) -> None:
    html = (
        client_for(operator)
        .get(reverse("admin:crm_models_lead_change", args=[leads["queue"].pk]))
        .content.decode()
    )
    assert 'id="next-step"' not in html
