"""Owners, assignment and follow-ups (issue 20): why a lead was lost, the rules
that hand arriving leads to operators, the planned next steps on a lead, and
the reminders those steps send.

Field names follow DESIGN.md ("Owners, assignment and follow-ups").
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Campaign, Channel, InteractionKind, Lead, TimeStampedModel, history_records
from .querysets import AssignmentRuleQuerySet, FollowUpQuerySet, LostReasonQuerySet, NotificationQuerySet


class LostReason(models.Model):
    """Why a lead was lost. Administrators keep the list; the reasons the
    system starts with are translated (their names are in the catalogue)."""

    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    objects = LostReasonQuerySet.as_manager()

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("name"),
                name="lostreason_name_ci_unique",
                violation_error_message=_("A lost reason with this name already exists."),
            )
        ]

    def __str__(self) -> str:
        return gettext(self.name)


class AssignmentStrategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_BUSY = "least_busy", _("Least busy (fewest open leads)")


class AssignmentRule(TimeStampedModel):
    """Hands arriving leads that match it (campaign and/or channel; empty means
    any) to its members. Rules are tried in `position` order; the first active
    rule that matches a lead and has a member free to take it wins."""

    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="assignment_rules",
        help_text=_("Empty: leads of any campaign."),
    )
    channel = models.CharField(
        _("channel"),
        max_length=20,
        choices=Channel.choices,
        blank=True,
        help_text=_("Empty: leads of any channel."),
    )
    strategy = models.CharField(
        _("strategy"),
        max_length=20,
        choices=AssignmentStrategy.choices,
        default=AssignmentStrategy.ROUND_ROBIN,
    )
    members: "models.ManyToManyField[User, AssignmentRuleMember]" = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        through="AssignmentRuleMember",
        related_name="assignment_rules",
    )
    daily_capacity = models.PositiveIntegerField(
        _("daily capacity"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("The most leads a member receives by this rule in a day. Empty: no limit."),
    )
    # Round-robin rotation: how many turns the rule has handed out. Kept in the
    # database (and changed under a row lock) so the rotation survives
    # restarts and two imports at once do not give one member two turns.
    turns = models.PositiveBigIntegerField(_("turns handed out"), default=0, editable=False)

    history = history_records("campaign")
    objects = AssignmentRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class AssignmentRuleMember(models.Model):
    """A member of a rule, with how many leads the rule gave them on
    `counted_on` (the daily capacity's tally; a new day starts from zero)."""

    rule = models.ForeignKey(AssignmentRule, verbose_name=_("rule"), on_delete=models.CASCADE)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
    )
    counted_on = models.DateField(_("counted on"), null=True, blank=True, editable=False)
    assigned_count = models.PositiveIntegerField(_("assigned that day"), default=0, editable=False)

    class Meta:
        verbose_name = _("rule member")
        verbose_name_plural = _("rule members")
        ordering = ["rule", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "user"],
                name="assignmentrulemember_unique",
                violation_error_message=_("This user is already a member of the rule."),
            )
        ]

    def __str__(self) -> str:
        return str(self.user)


class OpenLeadCount(models.Model):
    """How many open leads (neither converted nor lost) each user owns, for
    the "least busy" assignment rules. On PostgreSQL triggers keep it exact
    on every write to the lead table (crm_models/open_leads.py, installed by
    migration 0020); elsewhere (SQLite) it stays empty and the rules count the
    lead table."""

    # Not a foreign key: a row may outlive its user, as their leads do.
    owner_id = models.IntegerField(primary_key=True)
    open_leads = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.owner_id}: {self.open_leads}"


class FollowUp(TimeStampedModel):
    """A planned next step on a lead: a call, e-mail or meeting due at a time,
    for an assignee. Completing it (`done_at`) records an Interaction."""

    lead = models.ForeignKey(
        Lead, verbose_name=_("lead"), on_delete=models.CASCADE, related_name="follow_ups", db_index=False
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=InteractionKind.choices, default=InteractionKind.CALL
    )
    due_at = models.DateTimeField(_("due"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
        db_index=False,
    )
    note = models.TextField(_("note"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # When the reminder is due (due_at minus the assignee's offset) and when it
    # was sent; the sweep claims open follow-ups with remind_at passed and
    # reminded_at empty.
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True, editable=False)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True, editable=False)
    interaction = models.OneToOneField(
        "crm_models.Interaction",
        verbose_name=_("recorded as"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="follow_up",
    )

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_at", "id"]
        indexes = [
            # "My day": an assignee's open steps by due time.
            models.Index(
                fields=["assignee", "due_at", "id"],
                name="followup_open_assignee_idx",
                condition=models.Q(done_at__isnull=True),
            ),
            # A lead's steps (its page, its next step).
            models.Index(fields=["lead", "due_at", "id"], name="followup_lead_due_idx"),
            # The reminder sweep: open steps whose reminder is due and unsent.
            models.Index(
                fields=["remind_at", "id"],
                name="followup_reminder_due_idx",
                condition=models.Q(done_at__isnull=True, reminded_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.lead}"

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at < timezone.now()

    def schedule_reminder(self) -> None:
        """Set when the reminder is due (the due time minus the assignee's
        offset) and mark it unsent; call it whenever due_at or the assignee
        changes. Saving is the caller's."""
        self.remind_at = self.due_at - timedelta(minutes=reminder_offset_minutes(self.assignee_id))
        self.reminded_at = None


DEFAULT_REMINDER_OFFSET_MINUTES = 15


def reminder_offset_minutes(user_id: int | None) -> int:
    """How long before a step is due its assignee wants the reminder."""
    if user_id is None:
        return DEFAULT_REMINDER_OFFSET_MINUTES
    offset = (
        UserPreferences.objects.filter(user_id=user_id)
        .values_list("reminder_offset_minutes", flat=True)
        .first()
    )
    return DEFAULT_REMINDER_OFFSET_MINUTES if offset is None else offset


class Notification(models.Model):
    """An in-admin message to a user (the bell): a follow-up's reminder."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    follow_up = models.ForeignKey(
        FollowUp,
        verbose_name=_("follow-up"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        db_index=False,
    )
    # The due time the reminder was for: a rescheduled step reminds again,
    # and the same one never twice (constraint below).
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=300)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True, editable=False)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_idx"),
            models.Index(
                fields=["user"], name="notification_unread_idx", condition=models.Q(read_at__isnull=True)
            ),
            # The e-mail outbox: reminders whose e-mail is not sent yet.
            models.Index(
                fields=["id"], name="notification_outbox_idx", condition=models.Q(emailed_at__isnull=True)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["follow_up", "due_at"],
                name="notification_once_per_due_time",
                condition=models.Q(follow_up__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.message


class UserPreferences(models.Model):
    """What each user chooses for themselves: how long before a follow-up is
    due its reminder arrives."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="preferences"
    )
    reminder_offset_minutes = models.PositiveIntegerField(
        _("remind me (minutes before)"),
        default=DEFAULT_REMINDER_OFFSET_MINUTES,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text=_("How long before a follow-up is due its reminder arrives."),
    )

    class Meta:
        verbose_name = _("preferences")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return str(self.user)
