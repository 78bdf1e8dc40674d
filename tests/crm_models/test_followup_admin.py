"""The follow-up admin per role: scoped list, add and change through the
service (default assignee, reminder, lead's next step), hidden rows 404."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm_models.models import Lead
from crm_models.services.followups import follow_up_complete, follow_up_plan
from crm_models.workflow_models import FollowUp
from tests.factories import CustomerFactory, LeadFactory

pytestmark = pytest.mark.django_db

LIST = "admin:crm_models_followup_changelist"
ADD = "admin:crm_models_followup_add"


def form_data(lead: Lead, **extra: object) -> dict[str, object]:
    due = timezone.localtime(timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    return {
        "lead": lead.pk,
        "kind": "call",
        "due_at_0": due.strftime("%Y-%m-%d"),
        "due_at_1": due.strftime("%H:%M"),
        "assignee": "",
        "note": "Call about the quote",
        **extra,
    }


@pytest.fixture
def steps(operator: User, operator2: User, manager: User, manager2: User) -> dict[str, FollowUp]:
    soon = timezone.now() + timedelta(hours=3)
    return {
        "operator": follow_up_plan(lead=LeadFactory(owner=operator), user=operator, due_at=soon),
        "operator2": follow_up_plan(lead=LeadFactory(owner=operator2), user=operator2, due_at=soon),
        "manager": follow_up_plan(
            lead=CustomerFactory(account_manager=manager).lead, user=manager, due_at=soon
        ),
        "manager2": follow_up_plan(
            lead=CustomerFactory(account_manager=manager2).lead, user=manager2, due_at=soon
        ),
    }


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("operator", {"operator"}),
        ("operator2", {"operator2"}),
        ("manager", {"manager"}),
        ("administrator", {"operator", "operator2", "manager", "manager2"}),
    ],
)
def test_list_is_scoped(
    steps: dict[str, FollowUp],
    who: str,
    sees: set[str],
    request: pytest.FixtureRequest,
    client_for: Callable[[User], Client],
) -> None:
    response = client_for(request.getfixturevalue(who)).get(reverse(LIST))
    assert response.status_code == 200
    assert {row.pk for row in response.context["cl"].result_list} == {steps[name].pk for name in sees}


def test_marketer_has_no_follow_ups(marketer: User, client_for: Callable[[User], Client]) -> None:
    assert client_for(marketer).get(reverse(LIST)).status_code == 403


def test_hidden_rows_answer_404(
    steps: dict[str, FollowUp], operator: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(operator)
    hidden = steps["operator2"]
    for view in ("change", "history"):
        assert (
            client.get(reverse(f"admin:crm_models_followup_{view}", args=[hidden.pk])).status_code == 404
        ), view
    # Operators may not delete steps at all (0015's permissions): refused before any lookup.
    assert client.get(reverse("admin:crm_models_followup_delete", args=[hidden.pk])).status_code == 403


def test_operator_adds_a_step_with_the_default_assignee(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(owner=operator)
    client = client_for(operator)
    page = client.get(reverse(ADD), {"lead": lead.pk})
    assert page.status_code == 200
    response = client.post(reverse(ADD), form_data(lead))
    assert response.status_code == 302
    step = FollowUp.objects.get()
    assert (step.lead_id, step.assignee_id, step.created_by_id) == (lead.pk, operator.pk, operator.pk)
    assert step.remind_at == step.due_at - timedelta(minutes=15)
    assert Lead.objects.get(pk=lead.pk).next_follow_up_at == step.due_at


def test_operator_may_not_add_on_anothers_lead_or_for_another(
    operator: User, operator2: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(operator)
    response = client.post(reverse(ADD), form_data(LeadFactory(owner=operator2)))
    assert response.status_code == 200
    assert "Select a valid choice." in response.context["adminform"].form.errors["lead"][0]
    response = client.post(reverse(ADD), form_data(LeadFactory(owner=operator), assignee=operator2.pk))
    assert response.context["adminform"].form.errors["assignee"] == [
        "Only administrators plan steps for someone other than the lead's owner."
    ]
    assert FollowUp.objects.count() == 0


def test_administrator_moves_a_step_to_another_assignee(
    steps: dict[str, FollowUp], administrator: User, operator2: User, client_for: Callable[[User], Client]
) -> None:
    step = steps["operator"]
    FollowUp.objects.filter(pk=step.pk).update(reminded_at=timezone.now())
    response = client_for(administrator).post(
        reverse("admin:crm_models_followup_change", args=[step.pk]),
        form_data(step.lead, assignee=operator2.pk, note=step.note),
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.assignee_id == operator2.pk
    assert step.reminded_at is None
    assert Lead.objects.get(pk=step.lead_id).next_follow_up_at == step.due_at


def test_a_done_step_is_read_only(
    steps: dict[str, FollowUp], operator: User, client_for: Callable[[User], Client]
) -> None:
    step = steps["operator"]
    follow_up_complete(follow_up_id=step.pk, user=operator)
    client = client_for(operator)
    response = client.post(reverse("admin:crm_models_followup_change", args=[step.pk]), form_data(step.lead))
    assert response.status_code == 403


def test_delete_keeps_the_leads_next_step(
    steps: dict[str, FollowUp], administrator: User, client_for: Callable[[User], Client]
) -> None:
    step = steps["operator"]
    response = client_for(administrator).post(
        reverse("admin:crm_models_followup_delete", args=[step.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert Lead.objects.get(pk=step.lead_id).next_follow_up_at is None


@pytest.mark.parametrize("state", ["open", "overdue", "done"])
def test_list_filters(
    steps: dict[str, FollowUp],
    administrator: User,
    operator: User,
    client_for: Callable[[User], Client],
    state: str,
) -> None:
    follow_up_complete(follow_up_id=steps["operator"].pk, user=operator)
    late = follow_up_plan(
        lead=LeadFactory(owner=operator), user=operator, due_at=timezone.now() - timedelta(hours=1)
    )
    expected = {
        "open": {steps[name].pk for name in ("operator2", "manager", "manager2")} | {late.pk},
        "overdue": {late.pk},
        "done": {steps["operator"].pk},
    }[state]
    response = client_for(administrator).get(reverse(LIST), {"state": state})
    assert {row.pk for row in response.context["cl"].result_list} == expected
