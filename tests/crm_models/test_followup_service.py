"""crm_models.services.followups: plan, complete and reschedule per role, the
lead's next step kept with each write, the reminder time set, nothing written
on refusal."""

from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm_models.models import Interaction, InteractionKind, Lead, LeadStatus
from crm_models.services.followups import (
    ALREADY_DONE_MESSAGE,
    ASSIGNEE_NOT_ALLOWED_MESSAGE,
    PLAN_NOT_ALLOWED_MESSAGE,
    UNKNOWN_KIND_MESSAGE,
    UNKNOWN_RESCHEDULE_MESSAGE,
    Reschedule,
    follow_up_complete,
    follow_up_plan,
    follow_up_reschedule,
    next_follow_up_refresh,
    reschedule_time,
)
from crm_models.workflow_models import FollowUp, UserPreferences
from tests.factories import CustomerFactory, LeadFactory

pytestmark = pytest.mark.django_db


def in_hours(hours: float) -> datetime:
    return timezone.now() + timedelta(hours=hours)


def next_step(lead: Lead) -> datetime | None:
    return Lead.objects.values_list("next_follow_up_at", flat=True).get(pk=lead.pk)


def test_operator_plans_on_own_lead_for_themselves_by_default(operator: User) -> None:
    lead = LeadFactory(owner=operator)
    due = in_hours(5)
    follow_up = follow_up_plan(lead=lead, user=operator, due_at=due, note="  Ask about the budget ")
    follow_up.refresh_from_db()
    assert (follow_up.assignee_id, follow_up.created_by_id, follow_up.kind) == (
        operator.pk,
        operator.pk,
        "call",
    )
    assert follow_up.note == "Ask about the budget"
    assert follow_up.remind_at == due - timedelta(minutes=15)
    assert follow_up.reminded_at is None
    assert next_step(lead) == due


def test_reminder_time_follows_the_assignees_offset(operator: User) -> None:
    UserPreferences.objects.create(user=operator, reminder_offset_minutes=60)
    due = in_hours(5)
    follow_up = follow_up_plan(lead=LeadFactory(owner=operator), user=operator, due_at=due)
    assert follow_up.remind_at == due - timedelta(hours=1)


def test_converted_lead_defaults_to_the_account_manager(manager: User) -> None:
    customer = CustomerFactory(account_manager=manager)
    follow_up = follow_up_plan(lead=customer.lead, user=manager, due_at=in_hours(2), kind="meeting")
    assert (follow_up.assignee_id, follow_up.kind) == (manager.pk, "meeting")


def test_administrator_plans_for_anyone_and_defaults_to_the_owner(
    administrator: User, operator2: User
) -> None:
    lead = LeadFactory()
    assert follow_up_plan(lead=lead, user=administrator, due_at=in_hours(1)).assignee_id == lead.owner_id
    assert (
        follow_up_plan(
            lead=lead, user=administrator, due_at=in_hours(2), assignee_id=operator2.pk
        ).assignee_id
        == operator2.pk
    )
    unassigned = LeadFactory(owner=None)
    assert (
        follow_up_plan(lead=unassigned, user=administrator, due_at=in_hours(1)).assignee_id
        == administrator.pk
    )


@pytest.mark.parametrize("who", ["operator2", "marketer", "manager2"])
def test_others_may_not_plan_and_nothing_is_written(
    who: str, request: pytest.FixtureRequest, operator: User
) -> None:
    user = request.getfixturevalue(who)
    lead = LeadFactory(owner=operator)
    with pytest.raises(PermissionDenied) as caught:
        follow_up_plan(lead=lead, user=user, due_at=in_hours(1))
    assert str(caught.value) == str(PLAN_NOT_ALLOWED_MESSAGE)
    assert FollowUp.objects.count() == 0
    assert next_step(lead) is None


def test_operator_may_not_plan_for_someone_else(operator: User, operator2: User) -> None:
    lead = LeadFactory(owner=operator)
    with pytest.raises(ValidationError) as caught:
        follow_up_plan(lead=lead, user=operator, due_at=in_hours(1), assignee_id=operator2.pk)
    assert caught.value.messages == [str(ASSIGNEE_NOT_ALLOWED_MESSAGE)]
    assert FollowUp.objects.count() == 0


def test_a_note_is_not_a_planned_kind(operator: User) -> None:
    with pytest.raises(ValidationError) as caught:
        follow_up_plan(lead=LeadFactory(owner=operator), user=operator, due_at=in_hours(1), kind="note")
    assert caught.value.messages == [str(UNKNOWN_KIND_MESSAGE)]
    assert FollowUp.objects.count() == 0


def test_next_step_is_the_earliest_open_one(operator: User) -> None:
    lead = LeadFactory(owner=operator)
    later = follow_up_plan(lead=lead, user=operator, due_at=in_hours(48))
    sooner = follow_up_plan(lead=lead, user=operator, due_at=in_hours(3))
    assert next_step(lead) == sooner.due_at
    follow_up_complete(follow_up_id=sooner.pk, user=operator)
    assert next_step(lead) == later.due_at
    follow_up_complete(follow_up_id=later.pk, user=operator)
    assert next_step(lead) is None


def test_refresh_is_one_update(operator: User, django_assert_num_queries: object) -> None:
    lead = LeadFactory(owner=operator)
    FollowUp.objects.create(lead=lead, due_at=in_hours(1), assignee=operator)
    with django_assert_num_queries(1):  # type: ignore[operator]
        next_follow_up_refresh(lead_id=lead.pk)
    assert next_step(lead) is not None


def test_complete_records_the_interaction_and_links_it(operator: User) -> None:
    lead = LeadFactory(owner=operator, status=LeadStatus.IN_PROGRESS)
    step = follow_up_plan(lead=lead, user=operator, due_at=in_hours(-1), kind="email", note="Price list")
    done, following = follow_up_complete(follow_up_id=step.pk, user=operator)
    assert following is None
    interaction = Interaction.objects.get(lead=lead)
    assert (interaction.kind, interaction.summary, interaction.author_id) == (
        "email",
        "E-mail sent: Price list",
        operator.pk,
    )
    done.refresh_from_db()
    assert done.interaction_id == interaction.pk
    assert done.done_at == interaction.happened_at
    assert next_step(lead) is None


def test_complete_with_an_outcome_and_the_next_step_in_three_days(operator: User) -> None:
    lead = LeadFactory(owner=operator)
    due = timezone.make_aware(datetime.combine(timezone.localdate(), time(11, 30)))
    step = follow_up_plan(lead=lead, user=operator, due_at=due)
    _done, following = follow_up_complete(
        follow_up_id=step.pk, user=operator, outcome="Wants a quote", next_in_days=3
    )
    assert Interaction.objects.get(lead=lead).summary == "Wants a quote"
    assert following is not None
    assert following.kind == InteractionKind.CALL
    assert following.assignee_id == operator.pk
    expected = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=3), time(11, 30)))
    assert following.due_at == expected
    assert following.remind_at == expected - timedelta(minutes=15)
    assert next_step(lead) == expected
    assert FollowUp.objects.filter(lead=lead, done_at__isnull=True).count() == 1


def test_complete_twice_is_refused_and_writes_nothing(operator: User) -> None:
    step = follow_up_plan(lead=LeadFactory(owner=operator), user=operator, due_at=in_hours(1))
    follow_up_complete(follow_up_id=step.pk, user=operator)
    with pytest.raises(ValidationError) as caught:
        follow_up_complete(follow_up_id=step.pk, user=operator)
    assert caught.value.messages == [str(ALREADY_DONE_MESSAGE)]
    assert Interaction.objects.count() == 1


@pytest.mark.parametrize("who", ["operator2", "marketer", "manager2"])
def test_hidden_steps_do_not_exist_for_others(
    who: str, request: pytest.FixtureRequest, operator: User
) -> None:
    user = request.getfixturevalue(who)
    step = follow_up_plan(lead=LeadFactory(owner=operator), user=operator, due_at=in_hours(1))
    with pytest.raises(FollowUp.DoesNotExist):
        follow_up_complete(follow_up_id=step.pk, user=user)
    with pytest.raises(FollowUp.DoesNotExist):
        follow_up_reschedule(follow_up_id=step.pk, user=user, choice=Reschedule.TOMORROW)
    step.refresh_from_db()
    assert step.done_at is None
    assert Interaction.objects.count() == 0


def test_manager_completes_a_step_on_a_customers_lead(manager: User) -> None:
    customer = CustomerFactory(account_manager=manager)
    step = follow_up_plan(lead=customer.lead, user=manager, due_at=in_hours(1))
    follow_up_complete(follow_up_id=step.pk, user=manager)
    assert Interaction.objects.get().author_id == manager.pk


def test_an_assignee_outside_the_leads_scope_completes_their_own_step(
    administrator: User, operator: User, operator2: User
) -> None:
    step = follow_up_plan(
        lead=LeadFactory(owner=operator), user=administrator, due_at=in_hours(1), assignee_id=operator2.pk
    )
    follow_up_complete(follow_up_id=step.pk, user=operator2)
    assert Interaction.objects.get().author_id == operator2.pk


@pytest.mark.parametrize(("choice", "days"), [(Reschedule.TOMORROW, 1), (Reschedule.NEXT_WEEK, 7)])
def test_reschedule_keeps_the_time_of_day(operator: User, choice: str, days: int) -> None:
    lead = LeadFactory(owner=operator)
    due = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=2), time(9, 15)))
    step = follow_up_plan(lead=lead, user=operator, due_at=due)
    FollowUp.objects.filter(pk=step.pk).update(reminded_at=timezone.now())
    moved = follow_up_reschedule(follow_up_id=step.pk, user=operator, choice=choice)
    expected = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=days), time(9, 15)))
    moved.refresh_from_db()
    assert moved.due_at == expected
    assert moved.remind_at == expected - timedelta(minutes=15)
    assert moved.reminded_at is None  # reminds again for the new time
    assert next_step(lead) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [((10, 0, 0), (12, 0, 0)), ((22, 30, 0), (23, 59, 0)), ((23, 59, 30), (23, 59, 30))],
    ids=["two-hours-from-now", "not-past-the-day", "in-its-last-minute"],
)
def test_later_today_is_two_hours_from_now_within_today(
    now: tuple[int, int, int], expected: tuple[int, int, int]
) -> None:
    day = date(2026, 3, 10)
    moment = timezone.make_aware(datetime.combine(day, time(*now)))
    assert reschedule_time(
        Reschedule.LATER_TODAY, due_at=moment - timedelta(days=3), now=moment
    ) == timezone.make_aware(datetime.combine(day, time(*expected)))


def test_unknown_reschedule_choice_writes_nothing(operator: User) -> None:
    step = follow_up_plan(lead=LeadFactory(owner=operator), user=operator, due_at=in_hours(1))
    with pytest.raises(ValidationError) as caught:
        follow_up_reschedule(follow_up_id=step.pk, user=operator, choice="someday")
    assert caught.value.messages == [str(UNKNOWN_RESCHEDULE_MESSAGE)]
    assert FollowUp.objects.get().due_at == step.due_at
