"""The lead's timeline: a read-only feed with author and time, and a
one-line composer that logs a call, e-mail, meeting or note."""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm_models.models import Interaction, InteractionKind, Lead
from crm_models.services.interactions import interaction_log
from tests.factories import CustomerFactory, InteractionFactory, LeadFactory

pytestmark = pytest.mark.django_db


def change_url(lead: Lead) -> str:
    return reverse("admin:crm_models_lead_change", args=[lead.pk])


def lead_payload(lead: Lead, **extra: object) -> dict[str, object]:
    return {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "campaign": lead.campaign_id,
        "status": lead.status,
        "notes": lead.notes,
        **extra,
    }


def test_timeline_is_a_read_only_feed_with_author_and_time(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    operator.first_name, operator.last_name = "Olga", "Operatorova"
    operator.save()
    lead = LeadFactory(owner=operator)
    older = InteractionFactory(
        lead=lead,
        kind=InteractionKind.CALL,
        summary="First call",
        happened_at=timezone.now() - timedelta(days=2),
    )
    newer = InteractionFactory(
        lead=lead, kind=InteractionKind.NOTE, summary="Sent the price list", author=None
    )
    html = client_for(operator).get(change_url(lead)).content.decode()
    entries = re.findall(r'<li class="mb-4 ml-4" data-interaction="(\d+)">(.*?)</li>', html, flags=re.S)
    assert [int(pk) for pk, _body in entries] == [newer.pk, older.pk]
    first_text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", entries[1][1])).strip()
    assert first_text.endswith("· Call · Olga Operatorova First call")
    assert "· Note · system" in entries[0][1]
    # No editable rows of past interactions.
    assert "interactions-TOTAL_FORMS" not in html
    assert 'name="interactions-0-summary"' not in html
    assert 'name="timeline_summary"' in html


def test_composer_logs_an_email(operator: User, client_for: Callable[[User], Client]) -> None:
    lead = LeadFactory(owner=operator)
    response = client_for(operator).post(
        change_url(lead),
        lead_payload(
            lead, timeline_kind="email", timeline_summary="  Sent the offer  ", _log_interaction="1"
        ),
        follow=True,
    )
    assert response.redirect_chain == [(change_url(lead), 302)]
    interaction = Interaction.objects.get(lead=lead)
    assert (interaction.kind, interaction.summary, interaction.author) == (
        "email",
        "Sent the offer",
        operator,
    )
    assert [str(m) for m in response.context["messages"]] == ["Added to the timeline: e-mail."]
    assert interaction.history.get().history_user == operator


def test_composer_refuses_an_empty_entry_and_writes_nothing(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(owner=operator)
    response = client_for(operator).post(
        change_url(lead),
        lead_payload(lead, timeline_kind="call", timeline_summary="  ", _log_interaction="1"),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"timeline_summary": ["Write what happened."]}
    assert not Interaction.objects.exists()


def test_saving_the_lead_keeps_a_typed_entry(operator: User, client_for: Callable[[User], Client]) -> None:
    lead = LeadFactory(owner=operator)
    response = client_for(operator).post(
        change_url(lead),
        lead_payload(lead, company="Ромашка", timeline_kind="meeting", timeline_summary="Met at the office"),
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.company == "Ромашка"
    assert list(Interaction.objects.values_list("kind", "summary")) == [("meeting", "Met at the office")]


def test_no_composer_for_a_role_that_cannot_log(marketer: User, client_for: Callable[[User], Client]) -> None:
    lead = LeadFactory()
    html = client_for(marketer).get(change_url(lead)).content.decode()
    assert 'name="timeline_summary"' not in html
    assert "data-interaction=" not in html


def test_manager_logs_on_own_customers_lead_only(manager: User, client_for: Callable[[User], Client]) -> None:
    mine = CustomerFactory(account_manager=manager).lead
    other = LeadFactory()
    client = client_for(manager)
    assert 'name="timeline_summary"' in client.get(change_url(mine)).content.decode()
    assert 'name="timeline_summary"' not in client.get(change_url(other)).content.decode()
    client.post(change_url(other), lead_payload(other, timeline_kind="call", timeline_summary="x"))
    assert not Interaction.objects.filter(lead=other).exists()


def test_service_checks_scope_kind_and_summary(operator: User, operator2: User) -> None:
    lead = LeadFactory(owner=operator)
    with pytest.raises(PermissionDenied):
        interaction_log(lead=lead, author=operator2, kind="call", summary="x")
    with pytest.raises(ValidationError) as error:
        interaction_log(lead=lead, author=operator, kind="fax", summary="x")
    assert error.value.messages == ["Choose a call, an e-mail, a meeting or a note."]
    with pytest.raises(ValidationError) as error:
        interaction_log(lead=lead, author=operator, kind="call", summary="x" * 4001)
    assert error.value.messages == ["At most 4000 characters."]
    assert not Interaction.objects.exists()


def test_no_composer_on_a_history_version(operator: User, client_for: Callable[[User], Client]) -> None:
    lead = LeadFactory(owner=operator)
    version = lead.history.earliest().history_id
    html = (
        client_for(operator)
        .get(reverse("admin:crm_models_lead_simple_history", args=[lead.pk, version]))
        .content.decode()
    )
    assert 'name="timeline_summary"' not in html
