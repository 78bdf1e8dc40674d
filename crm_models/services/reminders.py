"""Follow-up reminders: the in-admin notification (the bell) and its e-mail.

Two steps, each safe to run on any number of workers at once:

1. `reminders_send_due` claims open follow-ups whose reminder is due
   (`remind_at <= now`, `reminded_at` empty) with SELECT ... FOR UPDATE SKIP
   LOCKED, batch by batch. In the same transaction it creates each one's
   Notification and sets `reminded_at`. Two workers never claim the same row;
   a worker that dies before committing leaves nothing behind (its locks go
   with its connection) and the rows are claimed by the next sweep. The
   unique constraint on (follow_up, due_at) is the last guard: a reminder for
   one due time exists once, whatever happens.
2. `reminder_emails_send` is the outbox: it claims notifications not yet
   e-mailed (`emailed_at` empty), again under SKIP LOCKED, sends them through
   Django's e-mail backend and sets `emailed_at` before committing. A row
   locked by one worker is skipped by the others, so each e-mail is sent once;
   only a worker killed between the mail server's acceptance and the commit
   of its batch would send that batch again on the next run (at least once,
   never lost), which is why its batches are small.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import dateformat, formats, timezone, translation
from django.utils.translation import gettext

from crm_models.models import InteractionKind
from crm_models.workflow_models import FollowUp, Notification

logger = logging.getLogger("crm_models.reminders")

DEFAULT_BATCH_SIZE = 500
EMAIL_BATCH_SIZE = 50


@dataclass(frozen=True)
class SweepResult:
    notifications: int
    emails: int


class ReminderText:
    """Builds reminder lines in the active language; the labels and the date
    format are looked up once, not once per reminder (a sweep makes
    thousands)."""

    def __init__(self) -> None:
        self.template = gettext("%(kind)s with %(lead)s at %(due)s")
        self.kinds = {value: str(label) for value, label in InteractionKind.choices}
        self.date_format = formats.get_format("SHORT_DATETIME_FORMAT")

    def __call__(self, follow_up: FollowUp) -> str:
        return self.template % {
            "kind": self.kinds.get(follow_up.kind, follow_up.kind),
            "lead": str(follow_up.lead),
            "due": dateformat.format(timezone.localtime(follow_up.due_at), self.date_format),
        }


def reminder_message(follow_up: FollowUp) -> str:
    """One line for the notification and the e-mail's subject, in the
    active language: what to do, with whom, and when."""
    return ReminderText()(follow_up)


def _claim_due(*, now: datetime, limit: int) -> list[FollowUp]:
    """Lock up to `limit` due, open, unsent follow-ups that no other
    transaction holds. Must run inside a transaction."""
    return list(
        FollowUp.objects.filter(done_at__isnull=True, reminded_at__isnull=True, remind_at__lte=now)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("lead")
        .order_by("remind_at", "id")[:limit]
    )


def _notify(follow_ups: list[FollowUp], *, now: datetime) -> int:
    """The claimed follow-ups' notifications and `reminded_at`, in the
    caller's transaction. Returns how many notifications were created."""
    if not follow_ups:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        text = ReminderText()
        notifications = [
            Notification(
                user_id=follow_up.assignee_id,
                follow_up=follow_up,
                due_at=follow_up.due_at,
                message=text(follow_up)[:300],
                created_at=now,
            )
            for follow_up in follow_ups
        ]
    # ON CONFLICT DO NOTHING on (follow_up, due_at): a reminder already made
    # for this due time is not made again. bulk_create returns every object,
    # so the rows created are counted afterwards.
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    ids = [follow_up.pk for follow_up in follow_ups]
    FollowUp.objects.filter(pk__in=ids).update(reminded_at=now)
    return Notification.objects.filter(follow_up_id__in=ids, created_at=now).count()


def reminders_send_due(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Create the notification of every follow-up whose reminder is due and
    mark it reminded, one transaction per batch. Returns the number of
    notifications created. Safe to run concurrently (see the module's doc)."""
    now = now or timezone.now()
    limit: int = batch_size if batch_size else settings.REMINDER_BATCH_SIZE
    created = 0
    while True:
        with transaction.atomic():
            claimed = _claim_due(now=now, limit=limit)
            created += _notify(claimed, now=now)
        if len(claimed) < limit:
            return created


class ReminderEmails:
    """Builds reminder e-mails in the site's language (LANGUAGE_CODE: an
    e-mail has no request to take one from); texts and links are looked up
    once per batch."""

    def __init__(self) -> None:
        site = settings.SITE_URL.rstrip("/")
        self.text = ReminderText()
        self.subject = gettext("Reminder: %(message)s")
        # A lead's link: the admin's URL for lead 0, its id swapped in.
        self.lead_url = site + reverse("admin:crm_models_lead_change", args=[0]).replace("/0/", "/%d/")
        self.footer = gettext("Your notifications: %(url)s") % {"url": site + reverse("admin:notifications")}

    def __call__(self, notification: Notification) -> EmailMessage | None:
        return _email_for(notification, self)


def _email_for(notification: Notification, emails: ReminderEmails) -> EmailMessage | None:
    user = notification.user
    if not user.email or not user.is_active:
        return None
    follow_up = notification.follow_up
    subject = emails.subject % {"message": emails.text(follow_up) if follow_up else notification.message}
    lines = [subject]
    if follow_up is not None:
        lines.append(emails.lead_url % follow_up.lead_id)
        if follow_up.note:
            lines.append("")
            lines.append(follow_up.note)
    lines.append("")
    lines.append(emails.footer)
    # The header names the notification: a mail log or a support question
    # can tell two reminders with the same text apart.
    return EmailMessage(
        subject=subject,
        body="\n".join(lines),
        to=[user.email],
        headers={"X-CRM-Notification": str(notification.pk)},
    )


def reminder_emails_send(*, now: datetime | None = None, batch_size: int = EMAIL_BATCH_SIZE) -> int:
    """Send the e-mail of every notification not e-mailed yet, once each
    (see the module's doc). Notifications of users without an e-mail address
    or inactive are marked done without sending. Returns e-mails sent."""
    sent = 0
    connection: Any = None
    with translation.override(settings.LANGUAGE_CODE):
        emails = ReminderEmails()
    try:
        while True:
            with transaction.atomic():
                claimed = list(
                    Notification.objects.filter(emailed_at__isnull=True)
                    .select_for_update(skip_locked=True, of=("self",))
                    .select_related("user", "follow_up__lead")
                    .order_by("id")[:batch_size]
                )
                with translation.override(settings.LANGUAGE_CODE):
                    messages = [emails(notification) for notification in claimed]
                for message in messages:
                    if message is None:
                        continue
                    if connection is None:
                        connection = get_connection()
                    try:
                        sent += connection.send_messages([message]) or 0
                    except smtplib.SMTPRecipientsRefused:
                        # This address will never take it; the bell still has
                        # it. Any other failure (the server is down) rolls the
                        # batch back for the next run.
                        logger.warning(
                            "reminder e-mail refused by the mail server: notification %s",
                            message.extra_headers["X-CRM-Notification"],
                        )
                Notification.objects.filter(pk__in=[n.pk for n in claimed]).update(
                    emailed_at=now or timezone.now()
                )
            if len(claimed) < batch_size:
                return sent
    finally:
        if connection is not None:
            connection.close()


def reminders_sweep(*, now: datetime | None = None) -> SweepResult:
    """Due reminders, then their e-mails, in one run (tests, commands). The
    worker's periodic job runs the two as separate jobs (crm_models/tasks.py)
    so that a slow or failing mail server never holds up the notifications."""
    notifications = reminders_send_due(now=now)
    emails = reminder_emails_send(now=now)
    return SweepResult(notifications=notifications, emails=emails)


@transaction.atomic
def user_preferences_update(*, user: Any, reminder_offset_minutes: int) -> int:
    """Store the user's reminder offset and move the reminders of their open
    follow-ups not reminded yet to the new offset. Returns how many moved."""
    from datetime import timedelta

    from django.db.models import F

    from crm_models.workflow_models import UserPreferences

    UserPreferences.objects.update_or_create(
        user=user, defaults={"reminder_offset_minutes": reminder_offset_minutes}
    )
    unsent = FollowUp.objects.filter(assignee=user, done_at__isnull=True, reminded_at__isnull=True)
    moved = unsent.update(remind_at=F("due_at") - timedelta(minutes=reminder_offset_minutes))
    if unsent.filter(remind_at__lte=timezone.now()).exists():
        # A longer offset made reminders due now: send them now, not at the
        # next minute's sweep.
        from crm_models.tasks import send_due_reminders

        transaction.on_commit(send_due_reminders.enqueue)
    return moved


def notifications_mark_read(*, user: Any, ids: list[int] | None = None) -> int:
    """Mark the user's own unread notifications read: those of `ids`, or all.
    Returns how many changed; another user's ids change nothing."""
    queryset = Notification.objects.visible_to(user).filter(read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(read_at=timezone.now())
