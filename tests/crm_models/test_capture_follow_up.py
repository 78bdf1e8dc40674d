"""A lead that arrives through a web form gets its first step: a call due
within 15 minutes for its owner (none while it waits in the queue); a person
who writes again gets no second one."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crm_models.models import InteractionKind, Lead
from crm_models.workflow_models import FollowUp
from tests.crm_models.test_capture import PERSON, post_json
from tests.factories import LeadFormFactory

pytestmark = pytest.mark.django_db


def test_a_captured_lead_gets_a_call_within_15_minutes_for_its_owner(client: Client) -> None:
    form = LeadFormFactory()
    before = timezone.now()

    response = post_json(client, form, PERSON)

    after = timezone.now()
    assert response.status_code == 201
    lead = Lead.objects.get()
    step = FollowUp.objects.get()
    assert (step.lead, step.kind, step.assignee, step.done_at, step.created_by) == (
        lead,
        InteractionKind.CALL,
        form.owner,
        None,
        None,
    )
    assert before + timedelta(minutes=15) <= step.due_at <= after + timedelta(minutes=15)
    assert step.remind_at == step.due_at - timedelta(minutes=15)
    assert lead.next_follow_up_at == step.due_at


def test_a_captured_lead_in_the_queue_gets_no_step(client: Client) -> None:
    form = LeadFormFactory(owner=None)

    response = post_json(client, form, PERSON)

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert lead.owner is None
    assert not FollowUp.objects.exists()
    assert lead.next_follow_up_at is None


def test_a_person_who_writes_again_gets_no_second_step(client: Client) -> None:
    form = LeadFormFactory()

    assert post_json(client, form, PERSON).status_code == 201
    assert post_json(client, form, PERSON).status_code == 200

    assert FollowUp.objects.count() == 1
