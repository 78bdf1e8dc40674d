"""Reads of follow-ups: "My day", the lead list's follow-up state and the
stale flag, and the counts the dashboard shows."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_models.models import Contract, Interaction, Lead
from crm_models.roles import UserLike
from crm_models.workflow_models import FollowUp

# Rows listed per section of "My day"; the section's count says how many more.
MY_DAY_ROWS = 50
# Upcoming: steps due after today up to this many days ahead.
UPCOMING_DAYS = 7
# Counts stop here (an index range walk, never the whole table).
COUNT_LIMIT = 1000
CONTRACT_END_DAYS = 30


class FollowUpState(models.TextChoices):
    """A lead's follow-up state, from `Lead.next_follow_up_at`."""

    OVERDUE = "overdue", _("Overdue")
    TODAY = "today", _("Due today")
    PLANNED = "planned", _("Planned later")
    NONE = "none", _("No next step")


def day_bounds(now: datetime | None = None) -> tuple[datetime, datetime, datetime]:
    """Now, and the start and end of today in the current time zone."""
    now = now or timezone.now()
    start = timezone.make_aware(datetime.combine(timezone.localdate(now), datetime.min.time()))
    return now, start, start + timedelta(days=1)


def follow_up_state_q(state: str, now: datetime | None = None) -> Q:
    """The leads in a follow-up state: overdue (next step due before now), due
    today (from now to the end of today), planned later, or without a next
    step. ValueError for an unknown state."""
    now, _start, end = day_bounds(now)
    if state == FollowUpState.OVERDUE:
        return Q(next_follow_up_at__lt=now)
    if state == FollowUpState.TODAY:
        return Q(next_follow_up_at__gte=now, next_follow_up_at__lt=end)
    if state == FollowUpState.PLANNED:
        return Q(next_follow_up_at__gte=end)
    if state == FollowUpState.NONE:
        return Q(next_follow_up_at__isnull=True)
    raise ValueError(state)


def stale_days() -> dict[str, int]:
    return dict(getattr(settings, "CRM_STALE_DAYS", {}))


def stale_q(now: datetime | None = None) -> Q:
    """Stale leads: of a status in settings.CRM_STALE_DAYS, with no next step,
    created and last touched (an interaction) more than that status's days
    ago. No status configured: none.

    One NOT EXISTS whose cutoff follows the lead's status, so PostgreSQL runs
    it as an anti-join probing each lead's latest interactions; one subquery
    per status inside an OR was run as a list of every recent interaction."""
    now = now or timezone.now()
    cutoffs = {status: now - timedelta(days=days) for status, days in stale_days().items()}
    if not cutoffs:
        return Q(pk__in=[])
    created = Q(pk__in=[])
    for status, cutoff in cutoffs.items():
        created |= Q(status=status, created_at__lt=cutoff)
    cutoff_of_status = Case(
        *(When(Exact(OuterRef("status"), status), then=Value(cutoff)) for status, cutoff in cutoffs.items()),
        output_field=models.DateTimeField(),
    )
    touched = Interaction.objects.filter(lead=OuterRef("pk"), happened_at__gte=cutoff_of_status)
    return Q(next_follow_up_at__isnull=True) & created & ~Q(Exists(touched))


def lead_is_stale(
    *,
    status: str,
    created_at: datetime,
    next_follow_up_at: datetime | None,
    last_interaction_at: datetime | None,
    now: datetime | None = None,
) -> bool:
    """The same rule as `stale_q`, for one lead already read (the list's badge)."""
    days = stale_days().get(status)
    if days is None or next_follow_up_at is not None:
        return False
    cutoff = (now or timezone.now()) - timedelta(days=days)
    last = max(created_at, last_interaction_at) if last_interaction_at else created_at
    return last < cutoff


def last_interaction_subquery() -> models.Subquery:
    return models.Subquery(
        Interaction.objects.filter(lead=OuterRef("pk"))
        .order_by("-happened_at", "-id")
        .values("happened_at")[:1]
    )


@dataclass(frozen=True)
class MyDaySection:
    key: str
    title: str
    rows: list[FollowUp]
    count: int
    more: bool


def _capped_count(queryset: QuerySet) -> int:
    return queryset.order_by()[: COUNT_LIMIT + 1].count()


def my_follow_ups(user: UserLike) -> QuerySet[FollowUp]:
    """The user's own open steps (assignee = user), within their scope."""
    return FollowUp.objects.visible_to(user).open().filter(assignee=user)


def my_day(*, user: UserLike, now: datetime | None = None) -> list[MyDaySection]:
    """The user's open steps as assignee: overdue, due today and upcoming
    (the next UPCOMING_DAYS days), each sorted by due time, at most
    MY_DAY_ROWS rows per section, with the lead's name and contacts."""
    now, _start, end = day_bounds(now)
    mine = (
        my_follow_ups(user)
        .select_related("lead")
        .only(
            "id",
            "kind",
            "due_at",
            "note",
            "lead_id",
            "assignee_id",
            "lead__first_name",
            "lead__last_name",
            "lead__email",
            "lead__phone",
            "lead__company",
        )
        .order_by("due_at", "id")
    )
    parts = [
        ("overdue", _("Overdue"), Q(due_at__lt=now)),
        ("today", _("Due today"), Q(due_at__gte=now, due_at__lt=end)),
        ("upcoming", _("Upcoming"), Q(due_at__gte=end, due_at__lt=end + timedelta(days=UPCOMING_DAYS))),
    ]
    sections = []
    for key, title, condition in parts:
        rows = list(mine.filter(condition)[: MY_DAY_ROWS + 1])
        more = len(rows) > MY_DAY_ROWS
        count = _capped_count(my_follow_ups(user).filter(condition)) if more else len(rows)
        sections.append(
            MyDaySection(key=key, title=str(title), rows=rows[:MY_DAY_ROWS], count=count, more=more)
        )
    return sections


@dataclass(frozen=True)
class WorkdayCounts:
    """The dashboard's follow-up figures for one user (None: not shown)."""

    overdue: int
    today: int
    stale: int | None
    contracts_ending: int | None


def workday_counts(*, user: UserLike, now: datetime | None = None) -> WorkdayCounts:
    """Overdue and due-today steps in the user's scope (an operator's on their
    leads and their own as assignee; a manager's on their customers' leads);
    for operators the stale leads of their list, for managers their customers'
    contracts ending in the next CONTRACT_END_DAYS days. Counts stop at
    COUNT_LIMIT + 1."""
    from crm_models.roles import Role, has_role

    now, _start, end = day_bounds(now)
    steps = FollowUp.objects.visible_to(user).open()
    stale = None
    if has_role(user, Role.OPERATOR):
        # The leads of the operator's list: their own and the unassigned queue.
        stale = _capped_count(Lead.objects.visible_to(user).filter(stale_q(now)))
    contracts = None
    if has_role(user, Role.MANAGER):
        today = timezone.localdate(now)
        contracts = _capped_count(
            Contract.objects.visible_to(user).filter(
                end_date__gte=today, end_date__lte=today + timedelta(days=CONTRACT_END_DAYS)
            )
        )
    return WorkdayCounts(
        overdue=_capped_count(steps.filter(due_at__lt=now)),
        today=_capped_count(steps.filter(due_at__gte=now, due_at__lt=end)),
        stale=stale,
        contracts_ending=contracts,
    )
