"""Writes of follow-ups, the planned next steps on a lead.

Every write keeps `Lead.next_follow_up_at` (the due time of the lead's
earliest open step) with one UPDATE, and sets the step's reminder time
(`FollowUp.schedule_reminder`) whenever its due time or assignee changes.
Rows are found through `FollowUp.objects.visible_to(user)`: a step the user
may not see raises `FollowUp.DoesNotExist`, which the views answer with 404.
"""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_models.models import Interaction, InteractionKind, Lead
from crm_models.roles import UserLike, sees_everything
from crm_models.services.interactions import interaction_summary_clean
from crm_models.workflow_models import FollowUp

PLAN_NOT_ALLOWED_MESSAGE = _("You may not plan steps on this lead.")
CHANGE_NOT_ALLOWED_MESSAGE = _("You may not change this step.")
ALREADY_DONE_MESSAGE = _("This step is already done.")
UNKNOWN_KIND_MESSAGE = _("Choose a call, an e-mail or a meeting.")
ASSIGNEE_NOT_ALLOWED_MESSAGE = _("Only administrators plan steps for someone other than the lead's owner.")
INACTIVE_ASSIGNEE_MESSAGE = _("The assignee's account is not active.")
NO_ASSIGNEE_MESSAGE = _("The lead has no owner: choose who does this step.")
UNKNOWN_RESCHEDULE_MESSAGE = _("Choose later today, tomorrow or next week.")
NEXT_IN_DAYS_MESSAGE = _("Plan the next step 1 to %(limit)d days ahead.")
MAX_NEXT_IN_DAYS = 366
NOTE_MAX_CHARS = 2000
NOTE_TOO_LONG_MESSAGE = _("At most %(limit)d characters.")

# The kinds a planned step may have (a note is written, not planned).
PLANNED_KINDS = (InteractionKind.CALL, InteractionKind.EMAIL, InteractionKind.MEETING)
# "Later today" moves a step this far from now.
LATER_TODAY = timedelta(hours=2)

DONE_SUMMARIES: dict[str, Any] = {
    InteractionKind.CALL: _("Call done"),
    InteractionKind.EMAIL: _("E-mail sent"),
    InteractionKind.MEETING: _("Meeting held"),
    InteractionKind.NOTE: _("Done"),
}


class Reschedule:
    """The one-click reschedule choices."""

    LATER_TODAY = "later_today"
    TOMORROW = "tomorrow"
    NEXT_WEEK = "next_week"
    CHOICES = (
        (LATER_TODAY, _("Later today")),
        (TOMORROW, _("Tomorrow")),
        (NEXT_WEEK, _("Next week")),
    )
    VALUES = tuple(value for value, _label in CHOICES)


def next_follow_up_refresh(*, lead_id: int) -> None:
    """Set the lead's `next_follow_up_at` to its earliest open step's due time
    (empty when none), in one UPDATE."""
    earliest = (
        FollowUp.objects.filter(lead=OuterRef("pk"), done_at__isnull=True)
        .order_by("due_at", "id")
        .values("due_at")[:1]
    )
    Lead.objects.filter(pk=lead_id).update(next_follow_up_at=Subquery(earliest))


def follow_up_default_assignee_id(lead: Lead) -> int | None:
    """Who does a lead's steps unless someone else is chosen: the customer's
    account manager once the lead is converted, else the lead's owner."""
    customer = getattr(lead, "customer", None) if lead.pk else None
    if customer is not None:
        return customer.account_manager_id
    return lead.owner_id


def follow_up_leads_for(user: UserLike) -> QuerySet[Lead]:
    """Leads on which the user may plan steps: those whose timeline they work
    on (an operator's own leads, a manager's customers' leads; all for an
    administrator)."""
    if not user.has_perm("crm_models.add_followup"):
        return Lead.objects.none()
    return Lead.objects.open_for_interactions(user)


def _clean_note(note: str) -> str:
    note = note.strip()
    if len(note) > NOTE_MAX_CHARS:
        raise ValidationError(NOTE_TOO_LONG_MESSAGE, code="max_length", params={"limit": NOTE_MAX_CHARS})
    return note


def _check_assignee(*, lead: Lead, user: UserLike, assignee_id: int | None) -> int:
    default_id = follow_up_default_assignee_id(lead)
    if assignee_id is None:
        assignee_id = default_id or (user.pk if sees_everything(user) else None)
    if assignee_id is None:
        raise ValidationError(NO_ASSIGNEE_MESSAGE, code="assignee")
    if not sees_everything(user) and assignee_id not in (default_id, user.pk):
        raise ValidationError(ASSIGNEE_NOT_ALLOWED_MESSAGE, code="assignee")
    if not get_user_model().objects.filter(pk=assignee_id, is_active=True).exists():
        raise ValidationError(INACTIVE_ASSIGNEE_MESSAGE, code="assignee")
    return assignee_id


@transaction.atomic
def follow_up_plan(
    *,
    lead: Lead,
    user: UserLike,
    due_at: datetime,
    kind: str = InteractionKind.CALL,
    note: str = "",
    assignee_id: int | None = None,
) -> FollowUp:
    """Plan a step on `lead`, created by `user`, for `assignee_id` (default:
    the customer's account manager after conversion, else the lead's owner).

    Raises PermissionDenied when the user may not plan on the lead, and
    ValidationError for a kind that is not a call, e-mail or meeting, a note
    too long, or an assignee a non-administrator may not choose (anyone but
    the default assignee and themselves) or who is inactive. Nothing is
    written then.
    """
    if not follow_up_leads_for(user).filter(pk=lead.pk).exists():
        raise PermissionDenied(PLAN_NOT_ALLOWED_MESSAGE)
    if kind not in PLANNED_KINDS:
        raise ValidationError(UNKNOWN_KIND_MESSAGE, code="invalid_choice")
    return _add(
        FollowUp(
            lead=lead,
            kind=kind,
            due_at=due_at,
            note=_clean_note(note),
            assignee_id=_check_assignee(lead=lead, user=user, assignee_id=assignee_id),
            created_by=user if user.is_authenticated else None,
        )
    )


def _add(follow_up: FollowUp) -> FollowUp:
    """Save a new step with its reminder time, and its lead's next step."""
    follow_up.schedule_reminder()
    follow_up.save()
    next_follow_up_refresh(lead_id=follow_up.lead_id)
    return follow_up


FIRST_CALL_WITHIN = timedelta(minutes=15)


def follow_up_first_call(*, lead: Lead) -> FollowUp | None:
    """The first step on a lead that arrived by itself (a web form): a call
    due within FIRST_CALL_WITHIN, for the lead's owner; none for a lead
    waiting in the queue (whoever takes it plans their own). Planned by the
    system, so no user's permissions apply. For a lead not saved yet (its id
    reserved), the step is its only one: the lead takes it as its next step
    when it is saved."""
    if lead.owner_id is None:
        return None
    follow_up = FollowUp(
        lead=lead,
        kind=InteractionKind.CALL,
        due_at=timezone.now() + FIRST_CALL_WITHIN,
        assignee_id=lead.owner_id,
    )
    if not lead._state.adding:
        return _add(follow_up)
    follow_up.schedule_reminder()
    follow_up.save()
    lead.next_follow_up_at = follow_up.due_at
    return follow_up


def _editable(*, user: UserLike, follow_up_id: object) -> FollowUp:
    """The open step, locked, when the user may see and change it."""
    follow_up = FollowUp.objects.visible_to(user).select_for_update(of=("self",)).get(pk=follow_up_id)
    if not user.has_perm("crm_models.change_followup"):
        raise PermissionDenied(CHANGE_NOT_ALLOWED_MESSAGE)
    if follow_up.done_at is not None:
        raise ValidationError(ALREADY_DONE_MESSAGE, code="done")
    return follow_up


@transaction.atomic
def follow_up_complete(
    *,
    follow_up_id: object,
    user: UserLike,
    outcome: str = "",
    next_in_days: int | None = None,
) -> tuple[FollowUp, FollowUp | None]:
    """Mark the step done and record it on the lead's timeline as an
    Interaction of its kind (written by `user`, summary: `outcome`, or what
    was done and the step's note), linked from the step; with `next_in_days`,
    plan the next step of the same kind that many days on, at the same time
    of day. Returns the step and the next one (or None).

    Raises FollowUp.DoesNotExist when the user may not see the step,
    PermissionDenied without the change permission, ValidationError when the
    step is already done or the outcome is too long. Nothing is written then.
    """
    if next_in_days is not None and not 0 < next_in_days <= MAX_NEXT_IN_DAYS:
        raise ValidationError(NEXT_IN_DAYS_MESSAGE, code="invalid", params={"limit": MAX_NEXT_IN_DAYS})
    follow_up = _editable(user=user, follow_up_id=follow_up_id)
    now = timezone.now()
    summary = outcome.strip()
    if not summary:
        done = str(DONE_SUMMARIES.get(follow_up.kind, DONE_SUMMARIES[InteractionKind.NOTE]))
        summary = f"{done}: {follow_up.note}" if follow_up.note else done
    # Written here rather than through interaction_log: the step's assignee
    # records it even when the lead is outside their interaction scope (an
    # administrator gave them the step).
    interaction = Interaction(
        lead_id=follow_up.lead_id,
        kind=follow_up.kind,
        summary=interaction_summary_clean(summary),
        author=user,
        happened_at=now,
    )
    interaction.save()
    follow_up.done_at = now
    follow_up.interaction = interaction
    follow_up.save(update_fields=["done_at", "interaction", "updated_at"])
    following = None
    if next_in_days is not None:
        following = FollowUp(
            lead_id=follow_up.lead_id,
            kind=follow_up.kind,
            due_at=_same_time_on(timezone.localdate(now) + timedelta(days=next_in_days), follow_up.due_at),
            assignee_id=follow_up.assignee_id,
            created_by=user,
        )
        following.schedule_reminder()
        following.save()
    next_follow_up_refresh(lead_id=follow_up.lead_id)
    return follow_up, following


def _same_time_on(day: date, moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    return timezone.make_aware(datetime.combine(day, time(local.hour, local.minute)))


def reschedule_time(choice: str, *, due_at: datetime, now: datetime | None = None) -> datetime:
    """The new due time for a one-click reschedule: later today (two hours
    from now, but not past 23:59 of today), tomorrow or in a week (at the
    step's own time of day)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if choice == Reschedule.LATER_TODAY:
        last_minute = timezone.make_aware(datetime.combine(today, time(23, 59)))
        return max(now, min(now + LATER_TODAY, last_minute))
    if choice == Reschedule.TOMORROW:
        return _same_time_on(today + timedelta(days=1), due_at)
    if choice == Reschedule.NEXT_WEEK:
        return _same_time_on(today + timedelta(days=7), due_at)
    raise ValidationError(UNKNOWN_RESCHEDULE_MESSAGE, code="invalid_choice")


@transaction.atomic
def follow_up_reschedule(*, follow_up_id: object, user: UserLike, choice: str) -> FollowUp:
    """Move an open step to later today, tomorrow or next week.

    Raises FollowUp.DoesNotExist when the user may not see the step,
    PermissionDenied without the change permission, ValidationError for an
    unknown choice or a step already done. Nothing is written then.
    """
    if choice not in Reschedule.VALUES:
        raise ValidationError(UNKNOWN_RESCHEDULE_MESSAGE, code="invalid_choice")
    follow_up = _editable(user=user, follow_up_id=follow_up_id)
    follow_up.due_at = reschedule_time(choice, due_at=follow_up.due_at)
    follow_up.schedule_reminder()
    follow_up.save(update_fields=["due_at", "remind_at", "reminded_at", "updated_at"])
    next_follow_up_refresh(lead_id=follow_up.lead_id)
    return follow_up


@transaction.atomic
def follow_up_save(*, follow_up: FollowUp, user: UserLike, due_or_assignee_changed: bool) -> FollowUp:
    """Save a step edited in its admin form (the form has checked its
    fields), keeping the reminder and the lead's next step."""
    if follow_up.pk is None:
        follow_up.created_by = user if user.is_authenticated else None
    if follow_up.pk is None or due_or_assignee_changed:
        follow_up.schedule_reminder()
    previous_lead_id = (
        FollowUp.objects.filter(pk=follow_up.pk).values_list("lead_id", flat=True).first()
        if follow_up.pk
        else None
    )
    follow_up.save()
    next_follow_up_refresh(lead_id=follow_up.lead_id)
    if previous_lead_id and previous_lead_id != follow_up.lead_id:
        next_follow_up_refresh(lead_id=previous_lead_id)
    return follow_up


@transaction.atomic
def follow_up_delete(*, follow_up: FollowUp) -> None:
    """Delete a step and keep its lead's next step."""
    lead_id = follow_up.lead_id
    follow_up.delete()
    next_follow_up_refresh(lead_id=lead_id)
