"""Who owns a lead: the assignment rules that hand arriving leads to
operators, an administrator's reassignment, and an operator taking a lead from
the unassigned queue.

The rules engine (`assignment_choose`) picks owners for a batch of arrivals
under a row lock on the active rules, so two imports (or an import and a
captured lead) at once share one rotation: neither gives a member a turn the
other already gave. The rotation (`AssignmentRule.turns`) and the members'
daily tallies live in the database and survive restarts.

Leads already written get their owners with one UPDATE per owner and one
history row each, written from the updated rows (`_history_from_rows`).
"""

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.db.models import Count, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm_models.models import (
    AssignmentRule,
    AssignmentRuleMember,
    AssignmentStrategy,
    Campaign,
    Lead,
    OpenLeadCount,
)
from crm_models.open_leads import CLOSED_STATUSES
from crm_models.roles import Role, UserLike, has_role, sees_everything

TAKEN_REASON = _("Taken from the queue")
ASSIGNED_REASON = _("Assigned to %(user)s")
BY_RULE_REASON = _("Assigned by rule “%(rule)s”")
NOT_AN_OPERATOR_MESSAGE = _("%(user)s is not an active operator: choose one of the active operators.")


@dataclass(frozen=True)
class Arrival:
    """A lead to place: its campaign and that campaign's channel."""

    campaign_id: int
    channel: str


@dataclass
class AssignmentResult:
    """The owner chosen for each arrival (None: no rule placed it), in the
    arrivals' order, and how many each rule gave to each member."""

    owner_ids: list[int | None]
    by_rule: dict[int, Counter] = field(default_factory=dict)
    rule_names: dict[int, str] = field(default_factory=dict)

    @property
    def placed(self) -> int:
        return sum(1 for owner in self.owner_ids if owner is not None)

    @property
    def unplaced(self) -> int:
        return len(self.owner_ids) - self.placed


class LeadTakenError(Exception):
    """Another user owns the lead already (`owner_name`; empty if the lead is
    gone or out of reach)."""

    def __init__(self, lead_id: int, owner_name: str) -> None:
        super().__init__(f"Lead {lead_id} is already taken by {owner_name}.")
        self.lead_id = lead_id
        self.owner_name = owner_name


def active_operators() -> QuerySet:
    """Users who may own leads: active staff with the Operator role."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name=Role.OPERATOR.value)
        .distinct()
        .order_by("username")
    )


def user_display_name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


class _Member:
    __slots__ = ("given", "row", "used_today", "user_id")

    def __init__(self, row: AssignmentRuleMember, today: date) -> None:
        self.row = row
        self.user_id = row.user_id
        self.used_today = row.assigned_count if row.counted_on == today else 0
        self.given = 0


class _RulePlan:
    """One rule's state while a batch is placed: its members in rotation order
    (inactive users already left out) and, for least busy, their open leads."""

    def __init__(self, rule: AssignmentRule, members: list[_Member], load: dict[int, int]) -> None:
        self.rule = rule
        self.members = members
        self.capacity = rule.daily_capacity
        self.turns = rule.turns
        self.start_turns = rule.turns
        # least busy: (open leads, position, index) so that ties go in rotation order.
        self.heap = [(load.get(m.user_id, 0), i, i) for i, m in enumerate(members)]
        heapq.heapify(self.heap)

    def matches(self, arrival: Arrival) -> bool:
        rule = self.rule
        return (rule.campaign_id is None or rule.campaign_id == arrival.campaign_id) and (
            not rule.channel or rule.channel == arrival.channel
        )

    def _free(self, member: _Member) -> bool:
        return self.capacity is None or member.used_today + member.given < self.capacity

    def pick(self) -> _Member | None:
        if self.rule.strategy == AssignmentStrategy.LEAST_BUSY:
            return self._pick_least_busy()
        count = len(self.members)
        for step in range(count):
            member = self.members[(self.turns + step) % count]
            if self._free(member):
                # The next turn goes to the member after this one.
                self.turns += step + 1
                member.given += 1
                return member
        return None

    def _pick_least_busy(self) -> _Member | None:
        while self.heap:
            load, order, index = heapq.heappop(self.heap)
            member = self.members[index]
            if self._free(member):
                member.given += 1
                heapq.heappush(self.heap, (load + 1, order, index))
                return member
            # At capacity: left out of the heap for the rest of the batch.
        return None


def _rule_plans(*, lock: bool, today: date) -> list[_RulePlan]:
    rules_qs = AssignmentRule.objects.filter(is_active=True).order_by("position", "id")
    if lock:
        # Locked in one order (position, id) by everyone: no deadlock between two batches.
        rules_qs = rules_qs.select_for_update(of=("self",))
    rules = list(rules_qs)
    if not rules:
        return []
    rows = (
        AssignmentRuleMember.objects.filter(rule__in=rules, user__is_active=True)
        .order_by("rule_id", "id")
        .only("id", "rule_id", "user_id", "counted_on", "assigned_count")
    )
    members: dict[int, list[_Member]] = defaultdict(list)
    for row in rows:
        members[row.rule_id].append(_Member(row, today))
    busy_users = {
        m.user_id
        for rule in rules
        if rule.strategy == AssignmentStrategy.LEAST_BUSY
        for m in members.get(rule.pk, [])
    }
    load: dict[int, int] = {}
    if busy_users and connection.vendor == "postgresql":
        # Kept by triggers (crm_models/open_leads.py): one row per member.
        load = dict(
            OpenLeadCount.objects.filter(owner_id__in=busy_users).values_list("owner_id", "open_leads")
        )
    elif busy_users:
        load = dict(
            Lead.objects.filter(owner_id__in=busy_users)
            .exclude(status__in=CLOSED_STATUSES)
            .order_by()
            .values_list("owner_id")
            .annotate(open=Count("*"))
        )
    return [_RulePlan(rule, members.get(rule.pk, []), load) for rule in rules if members.get(rule.pk)]


def _place(plans: list[_RulePlan], arrivals: Sequence[Arrival]) -> AssignmentResult:
    result = AssignmentResult(owner_ids=[])
    owner_ids = result.owner_ids
    # Which rules match an arrival depends only on its campaign and channel.
    matching: dict[Arrival, list[_RulePlan]] = {}
    for arrival in arrivals:
        candidates = matching.get(arrival)
        if candidates is None:
            candidates = matching[arrival] = [plan for plan in plans if plan.matches(arrival)]
        owner = None
        for plan in candidates:
            member = plan.pick()
            if member is not None:
                owner = member.user_id
                result.by_rule.setdefault(plan.rule.pk, Counter())[owner] += 1
                result.rule_names[plan.rule.pk] = plan.rule.name
                break
        owner_ids.append(owner)
    return result


def assignment_preview(*, arrivals: Sequence[Arrival]) -> AssignmentResult:
    """What the rules would do with these arrivals now, changing nothing (an
    import's preview). The confirmation may differ if other leads arrive
    meanwhile."""
    return _place(_rule_plans(lock=False, today=timezone.localdate()), arrivals)


# Without a savepoint of its own (two round trips on every captured lead): it
# runs in its caller's transaction, which an error here rolls back whole.
@transaction.atomic(savepoint=False)
def assignment_choose(*, arrivals: Sequence[Arrival]) -> AssignmentResult:
    """Choose an owner for each arrival by the rules and record the rules'
    rotation and the members' daily tallies.

    The first active rule (by position) that matches an arrival's campaign and
    channel and has a member free to take it places it: round robin takes the
    members in turn, least busy the one with the fewest open leads. Inactive
    users and members at the rule's daily capacity are skipped; arrivals no
    rule can place get None. The active rules stay locked until the caller's
    transaction ends, so run it in the transaction that writes the owners."""
    today = timezone.localdate()
    plans = _rule_plans(lock=True, today=today)
    result = _place(plans, arrivals)
    changed_rules = [plan.rule for plan in plans if plan.turns != plan.start_turns]
    for rule in changed_rules:
        rule.turns = next(plan.turns for plan in plans if plan.rule is rule)
    if changed_rules:
        AssignmentRule.objects.bulk_update(changed_rules, ["turns"])
    tallies = []
    for plan in plans:
        for member in plan.members:
            if member.given:
                member.row.counted_on = today
                member.row.assigned_count = member.used_today + member.given
                tallies.append(member.row)
    if tallies:
        AssignmentRuleMember.objects.bulk_update(tallies, ["counted_on", "assigned_count"])
    return result


def arrivals_for(leads: Iterable[tuple[int, int]]) -> tuple[list[int], list[Arrival]]:
    """(lead ids, arrivals) for (lead id, campaign id) pairs."""
    pairs = list(leads)
    channels = dict(
        Campaign.objects.filter(pk__in={campaign for _lead, campaign in pairs}).values_list("pk", "channel")
    )
    return [pk for pk, _c in pairs], [Arrival(campaign, channels[campaign]) for _pk, campaign in pairs]


def _history_from_rows(lead_ids: Sequence[int], *, user: UserLike | None, reason: str, now: datetime) -> None:
    """One '~' history row per lead, copied from the lead rows as they are now
    (after the UPDATE), in one statement per chunk: the same rows
    simple-history's `bulk_history_create` writes from loaded objects, without
    loading them (tests/crm_models/test_assignment.py compares the two)."""
    history_model = Lead.history.model  # type: ignore[attr-defined]
    quote = connection.ops.quote_name
    copied = [
        f.column
        for f in history_model._meta.concrete_fields
        if not f.name.startswith("history_") and f.name != "history_id"
    ]
    columns = ", ".join(quote(c) for c in copied)
    sql = (
        f"INSERT INTO {quote(history_model._meta.db_table)} "  # noqa: S608 - names from the model
        f"({columns}, {quote('history_date')}, {quote('history_change_reason')}, "
        f"{quote('history_type')}, {quote('history_user_id')}) "
        f"SELECT {columns}, %s, %s, '~', %s FROM {quote(Lead._meta.db_table)} WHERE id IN ({{ids}})"
    )
    user_id = getattr(user, "pk", None)
    with connection.cursor() as cursor:
        for start in range(0, len(lead_ids), 10_000):
            chunk = list(lead_ids[start : start + 10_000])
            cursor.execute(sql.format(ids=", ".join(["%s"] * len(chunk))), [now, reason, user_id, *chunk])


def _write_owners(
    owners: dict[int, list[int]], *, acting_user: UserLike | None, reasons: dict[int, str], now: datetime
) -> None:
    """One UPDATE per owner, then the history rows."""
    for owner_id, lead_ids in owners.items():
        for start in range(0, len(lead_ids), 10_000):
            Lead.objects.filter(pk__in=lead_ids[start : start + 10_000]).update(
                owner_id=owner_id, updated_at=now
            )
        _history_from_rows(lead_ids, user=acting_user, reason=reasons[owner_id], now=now)


@dataclass
class AssignReport:
    assigned: int
    owners: int
    unplaced: int
    rule_names: list[str]


@transaction.atomic
def leads_assign_by_rules(*, leads: QuerySet, acting_user: UserLike | None) -> AssignReport:
    """Give the leads owners by the rules (the leads' current owners are
    replaced; those no rule places keep theirs). One transaction, one history
    row per reassigned lead."""
    pairs = list(leads.order_by("pk").values_list("pk", "campaign_id"))
    lead_ids, arrivals = arrivals_for(pairs)
    result = assignment_choose(arrivals=arrivals)
    owners: dict[int, list[int]] = defaultdict(list)
    for pk, owner in zip(lead_ids, result.owner_ids, strict=True):
        if owner is not None:
            owners[owner].append(pk)
    now = timezone.now()
    # The rule named in each lead's history: the one that gave its owner.
    reason_by_owner: dict[int, str] = {}
    for rule_id, counter in result.by_rule.items():
        for owner in counter:
            reason_by_owner.setdefault(owner, str(BY_RULE_REASON % {"rule": result.rule_names[rule_id]}))
    _write_owners(owners, acting_user=acting_user, reasons=reason_by_owner, now=now)
    return AssignReport(
        assigned=result.placed,
        owners=len(owners),
        unplaced=result.unplaced,
        rule_names=[result.rule_names[pk] for pk in result.by_rule],
    )


def operator_check(user: Any) -> None:
    """Raise ValueError (with the translated sentence) unless `user` may own leads."""
    if not active_operators().filter(pk=user.pk).exists():
        raise ValueError(str(NOT_AN_OPERATOR_MESSAGE % {"user": user_display_name(user)}))


@transaction.atomic
def leads_assign_to(*, leads: QuerySet, owner: Any, acting_user: UserLike | None) -> int:
    """Give the leads to `owner` (an active operator, else ValueError). Leads
    they own already are left as they are. Returns how many changed."""
    operator_check(owner)
    lead_ids = list(leads.exclude(owner_id=owner.pk).order_by("pk").values_list("pk", flat=True))
    if lead_ids:
        reason = str(ASSIGNED_REASON % {"user": user_display_name(owner)})
        _write_owners(
            {owner.pk: lead_ids}, acting_user=acting_user, reasons={owner.pk: reason}, now=timezone.now()
        )
    return len(lead_ids)


def lead_take(*, lead_id: int, user: UserLike) -> None:
    """Make `user` the owner of an unassigned lead, in one conditional UPDATE
    (`WHERE owner IS NULL`) with its history row in the same transaction: of
    two operators taking one lead at once exactly one gets it; the other gets
    LeadTakenError naming the one who was faster.

    Raises Lead.DoesNotExist when there is no such lead, or when it was not in
    the queue just before its owner got it (its owner is none of the caller's
    business then)."""
    with transaction.atomic():
        now = timezone.now()
        taken = Lead.objects.filter(pk=lead_id, owner__isnull=True).update(owner_id=user.pk, updated_at=now)
        if taken:
            _history_from_rows([lead_id], user=user, reason=str(TAKEN_REASON), now=now)
            return
    lead = Lead.objects.select_related("owner").get(pk=lead_id)
    if lead.owner_id == user.pk or not _was_in_queue(lead_id):
        raise Lead.DoesNotExist
    raise LeadTakenError(lead_id, user_display_name(lead.owner))


def _was_in_queue(lead_id: int) -> bool:
    """Whether the lead had no owner just before its latest change."""
    owners = list(
        Lead.history.filter(id=lead_id)  # type: ignore[attr-defined]
        .order_by("-history_date", "-history_id")
        .values_list("owner_id", flat=True)[:2]
    )
    return len(owners) == 2 and owners[1] is None


@dataclass
class TakeReport:
    taken: list[int] = field(default_factory=list)
    lost_to: dict[int, str] = field(default_factory=dict)


def leads_take(*, lead_ids: Sequence[int], user: UserLike) -> TakeReport:
    """Take each unassigned lead of `lead_ids`: one conditional UPDATE for all
    of them; those someone else took first are reported with that user's name."""
    report = TakeReport()
    with transaction.atomic():
        now = timezone.now()
        wanted = list(lead_ids)
        # Locking waits for a concurrent taker; the lock re-reads the row, so a
        # lead they took no longer counts as free.
        free = list(
            Lead.objects.select_for_update(skip_locked=False)
            .filter(pk__in=wanted, owner__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if free:
            Lead.objects.filter(pk__in=free, owner__isnull=True).update(owner_id=user.pk, updated_at=now)
            _history_from_rows(free, user=user, reason=str(TAKEN_REASON), now=now)
        report.taken = free
    others = [pk for pk in wanted if pk not in set(free)]
    if others:
        for pk, first, last, username in (
            Lead.objects.filter(pk__in=others)
            .exclude(owner=user)
            .values_list("pk", "owner__first_name", "owner__last_name", "owner__username")
        ):
            if _was_in_queue(pk):
                report.lost_to[pk] = f"{first} {last}".strip() or username or ""
    return report


def assignment_summary(result: AssignmentResult) -> list[str]:
    """Sentences for an import's preview: "1,204 leads to 5 operators by rule
    'Spring web'", then how many stay unassigned."""
    lines = []
    for rule_id, counter in result.by_rule.items():
        leads = sum(counter.values())
        lines.append(
            ngettext(
                "%(leads)s lead to %(operators)s by rule “%(rule)s”.",
                "%(leads)s leads to %(operators)s by rule “%(rule)s”.",
                leads,
            )
            % {
                "leads": formats.number_format(leads, force_grouping=True),
                "operators": operators_phrase(len(counter)),
                "rule": result.rule_names[rule_id],
            }
        )
    if result.unplaced:
        lines.append(
            ngettext(
                "%(count)s lead matches no rule with a free member and stays unassigned.",
                "%(count)s leads match no rule with a free member and stay unassigned.",
                result.unplaced,
            )
            % {"count": formats.number_format(result.unplaced, force_grouping=True)}
        )
    return lines


def operators_phrase(count: int) -> str:
    return ngettext("%(count)s operator", "%(count)s operators", count) % {"count": count}


class OwnerChoice(models.TextChoices):
    """Who owns the new rows of an import."""

    MINE = "mine", _("Me")
    OPERATOR = "operator", _("An operator I choose")
    RULES = "rules", _("The assignment rules")
    UNASSIGNED = "unassigned", _("Nobody: the unassigned queue")


FORGED_OWNER_MESSAGE = _("This choice of owner is not open to you.")
MINE_NOT_OPERATOR_MESSAGE = _("Only operators own leads: choose the rules, an operator or the queue.")


@dataclass(frozen=True)
class ImportOwnership:
    choice: str
    owner_id: int | None = None


def owner_choices_for(user: UserLike) -> list[tuple[str, Any]]:
    """The ownership choices `user` may make on an import: "me" for operators,
    "an operator I choose" for administrators and marketers, the rules and the
    queue for everyone."""
    choices = []
    if has_role(user, Role.OPERATOR):
        choices.append((OwnerChoice.MINE.value, OwnerChoice.MINE.label))
    if sees_everything(user) or has_role(user, Role.MARKETER):
        choices.append((OwnerChoice.OPERATOR.value, OwnerChoice.OPERATOR.label))
    choices += [
        (OwnerChoice.RULES.value, OwnerChoice.RULES.label),
        (OwnerChoice.UNASSIGNED.value, OwnerChoice.UNASSIGNED.label),
    ]
    return choices


def import_ownership_check(*, ownership: ImportOwnership, user: UserLike) -> None:
    """Raise ValueError with the translated reason unless `user` may make
    this choice (an operator choosing someone else, a user who is not an
    active operator, an unknown choice)."""
    allowed = {value for value, _label in owner_choices_for(user)}
    if ownership.choice not in allowed:
        if ownership.choice == OwnerChoice.MINE:
            raise ValueError(str(MINE_NOT_OPERATOR_MESSAGE))
        raise ValueError(str(FORGED_OWNER_MESSAGE))
    if ownership.choice == OwnerChoice.OPERATOR:
        owner = (
            None
            if ownership.owner_id is None
            else get_user_model().objects.filter(pk=ownership.owner_id).first()
        )
        if owner is None:
            raise ValueError(str(NOT_AN_OPERATOR_MESSAGE % {"user": f"#{ownership.owner_id}"}))
        operator_check(owner)


def import_owners(
    *, ownership: ImportOwnership, user: UserLike, campaign_ids: Sequence[int]
) -> list[int | None]:
    """The owner of each new lead of an import (in the rows' order), under
    the rules' lock when the rules decide. Call inside the import's
    transaction, after `import_ownership_check`."""
    if ownership.choice == OwnerChoice.MINE:
        return [user.pk] * len(campaign_ids)
    if ownership.choice == OwnerChoice.OPERATOR:
        return [ownership.owner_id] * len(campaign_ids)
    if ownership.choice == OwnerChoice.UNASSIGNED:
        return [None] * len(campaign_ids)
    channels = dict(Campaign.objects.filter(pk__in=set(campaign_ids)).values_list("pk", "channel"))
    return assignment_choose(arrivals=[Arrival(pk, channels[pk]) for pk in campaign_ids]).owner_ids


def import_ownership_summary(
    *, ownership: ImportOwnership, user: UserLike, campaign_ids: Sequence[int]
) -> list[str]:
    """What the import's confirmation will do with the new leads' owners, in
    sentences for the preview."""
    count = len(campaign_ids)
    shown = formats.number_format(count, force_grouping=True)
    if ownership.choice == OwnerChoice.RULES:
        channels = dict(Campaign.objects.filter(pk__in=set(campaign_ids)).values_list("pk", "channel"))
        result = assignment_preview(arrivals=[Arrival(pk, channels[pk]) for pk in campaign_ids])
        return assignment_summary(result)
    if ownership.choice == OwnerChoice.UNASSIGNED:
        return [
            ngettext(
                "%(count)s new lead goes to the unassigned queue.",
                "%(count)s new leads go to the unassigned queue.",
                count,
            )
            % {"count": shown}
        ]
    owner_id = user.pk if ownership.choice == OwnerChoice.MINE else ownership.owner_id
    owner = get_user_model().objects.get(pk=owner_id or 0)
    return [
        ngettext("%(count)s new lead goes to %(user)s.", "%(count)s new leads go to %(user)s.", count)
        % {"count": shown, "user": user_display_name(owner)}
    ]


def assignment_owner_for(*, campaign_id: int) -> int | None:
    """The owner the rules give one arriving lead of this campaign (None: no
    rule places it); run it in the transaction that saves the lead."""
    _ids, arrivals = arrivals_for([(0, campaign_id)])
    return assignment_choose(arrivals=arrivals).owner_ids[0]


def lead_assign_on_arrival(*, lead: Lead) -> bool:
    """Give a lead that is arriving (captured, added) its owner by the rules;
    False (the lead as it was) when no rule places it. A saved lead is saved
    with a history row naming the rule; a lead not saved yet (its id reserved)
    only gets the owner, and the rule is named in the history row its insert
    writes. Run it in the transaction that makes the lead."""
    if Lead.campaign.is_cached(lead):  # type: ignore[attr-defined]
        arrivals = [Arrival(lead.campaign_id, lead.campaign.channel)]
    else:
        _ids, arrivals = arrivals_for([(lead.pk, lead.campaign_id)])
    result = assignment_choose(arrivals=arrivals)
    owner_id = result.owner_ids[0]
    if owner_id is None:
        return False
    (rule_id,) = result.by_rule
    reason = str(BY_RULE_REASON % {"rule": result.rule_names[rule_id]})
    if lead._state.adding:
        lead.owner_id = owner_id
        arrived = getattr(lead, "_change_reason", "")
        lead._change_reason = f"{arrived}. {reason}" if arrived else reason  # type: ignore[attr-defined]
    elif owner_id != lead.owner_id:
        lead.owner_id = owner_id
        lead._change_reason = reason  # type: ignore[attr-defined]
        lead.save(update_fields=["owner", "updated_at"])
    return True
