"""Follow-up reminders (crm_models/services/reminders.py): each due reminder
becomes one notification and one e-mail, with two workers at once and after
a worker killed mid-batch."""

import os
import signal
import smtplib
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from crm_models.roles import Role
from crm_models.services.reminders import (
    reminder_emails_send,
    reminders_send_due,
    reminders_sweep,
    user_preferences_update,
)
from crm_models.workflow_models import FollowUp, Notification, UserPreferences
from tests.factories import LeadFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
POSTGRES_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks (FOR UPDATE SKIP LOCKED) need PostgreSQL"
)


def make_follow_ups(
    count: int, *, assignee: User, due_in: timedelta = timedelta(minutes=5)
) -> list[FollowUp]:
    """`count` open follow-ups due `due_in` from now, their reminders scheduled
    with the assignee's offset (15 minutes by default: already due)."""
    lead = LeadFactory(owner=assignee)
    due = timezone.now() + due_in
    follow_ups = [
        FollowUp(lead=lead, due_at=due + timedelta(seconds=i), assignee=assignee) for i in range(count)
    ]
    for follow_up in follow_ups:
        follow_up.schedule_reminder()
    return FollowUp.objects.bulk_create(follow_ups)


@pytest.mark.django_db
def test_a_due_reminder_becomes_one_notification_and_is_marked_sent(operator: User) -> None:
    (due,) = make_follow_ups(1, assignee=operator)
    (later,) = make_follow_ups(1, assignee=operator, due_in=timedelta(hours=2))
    (done,) = make_follow_ups(1, assignee=operator)
    FollowUp.objects.filter(pk=done.pk).update(done_at=timezone.now())

    assert reminders_send_due() == 1
    assert reminders_send_due() == 0

    notification = Notification.objects.get()
    assert (notification.user, notification.follow_up, notification.due_at) == (operator, due, due.due_at)
    assert notification.message.startswith("Call with ")
    assert notification.read_at is None
    assert notification.emailed_at is None
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.reminded_at is not None
    assert later.reminded_at is None
    assert done.reminded_at is None


@pytest.mark.django_db
def test_a_rescheduled_follow_up_reminds_again_once(operator: User) -> None:
    (follow_up,) = make_follow_ups(1, assignee=operator)
    reminders_send_due()
    follow_up.refresh_from_db()
    follow_up.due_at += timedelta(minutes=1)
    follow_up.schedule_reminder()
    follow_up.save()

    assert reminders_send_due() == 1
    assert reminders_send_due() == 0
    assert sorted(Notification.objects.values_list("due_at", flat=True)) == [
        follow_up.due_at - timedelta(minutes=1),
        follow_up.due_at,
    ]


@pytest.mark.django_db
def test_the_same_due_time_is_never_notified_twice(operator: User) -> None:
    """Marked unsent again without a new due time (say, by a repair script),
    the follow-up is claimed again but the constraint keeps one notification."""
    (follow_up,) = make_follow_ups(1, assignee=operator)
    reminders_send_due()
    FollowUp.objects.filter(pk=follow_up.pk).update(reminded_at=None)

    assert reminders_send_due() == 0
    assert Notification.objects.count() == 1
    assert FollowUp.objects.get(pk=follow_up.pk).reminded_at is not None


@pytest.mark.django_db
@override_settings(EMAIL_BACKEND=LOCMEM, SITE_URL="https://crm.example.com")
def test_each_notification_is_emailed_once(operator: User) -> None:
    (follow_up,) = make_follow_ups(1, assignee=operator)
    no_address = UserFactory(username="t_no_address", email="", role=Role.OPERATOR)
    make_follow_ups(1, assignee=no_address)

    result = reminders_sweep()
    assert result.notifications == 2
    assert result.emails == 1
    assert reminders_sweep().emails == 0

    (message,) = mail.outbox
    assert message.to == [operator.email]
    assert message.subject == f"Reminder: {Notification.objects.get(user=operator).message}"
    assert f"https://crm.example.com/admin/crm_models/lead/{follow_up.lead_id}/change/" in message.body
    assert "https://crm.example.com/admin/notifications/" in message.body
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_changing_the_offset_moves_unsent_reminders_only(operator: User, operator2: User) -> None:
    (sent,) = make_follow_ups(1, assignee=operator)
    reminders_send_due()
    (unsent,) = make_follow_ups(1, assignee=operator, due_in=timedelta(hours=3))
    (others,) = make_follow_ups(1, assignee=operator2, due_in=timedelta(hours=3))

    assert user_preferences_update(user=operator, reminder_offset_minutes=120) == 1

    assert UserPreferences.objects.get(user=operator).reminder_offset_minutes == 120
    moved = FollowUp.objects.get(pk=unsent.pk)
    assert moved.remind_at == moved.due_at - timedelta(minutes=120)
    assert FollowUp.objects.get(pk=others.pk).remind_at == others.due_at - timedelta(minutes=15)
    assert FollowUp.objects.get(pk=sent.pk).remind_at == sent.due_at - timedelta(minutes=15)


@pytest.mark.django_db
def test_an_offset_that_makes_reminders_due_sends_them_at_once(
    operator: User, django_capture_on_commit_callbacks: Callable
) -> None:
    make_follow_ups(1, assignee=operator, due_in=timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        user_preferences_update(user=operator, reminder_offset_minutes=20)
    assert callbacks == []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        user_preferences_update(user=operator, reminder_offset_minutes=45)
    assert len(callbacks) == 1
    (queued,) = DBTaskResult.objects.filter(task_path="crm_models.tasks.send_due_reminders")
    assert queued.status == "READY"


# --- two workers, a killed worker -----------------------------------------------


def run_concurrently(workers: int, work: "callable") -> list:  # type: ignore[valid-type]
    barrier = threading.Barrier(workers, timeout=60)
    results: list = [None] * workers
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except BaseException as error:  # reported by the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("database_restored_after_flush")
@override_settings(EMAIL_BACKEND=LOCMEM)
def test_two_workers_at_once_send_each_reminder_and_email_once() -> None:
    assignees = [UserFactory(username=f"t_race_op{i}", role=Role.OPERATOR) for i in range(3)]
    for assignee in assignees:
        make_follow_ups(200, assignee=assignee)

    created = run_concurrently(2, lambda: reminders_send_due(batch_size=25))
    sent = run_concurrently(2, lambda: reminder_emails_send(batch_size=10))

    assert sum(created) == 600
    assert all(count > 0 for count in created), "both workers took a share"
    assert Notification.objects.count() == 600
    assert Notification.objects.values("follow_up").distinct().count() == 600
    assert FollowUp.objects.filter(reminded_at__isnull=True).count() == 0
    assert sum(sent) == 600
    assert len(mail.outbox) == 600
    emailed = sorted(int(m.extra_headers["X-CRM-Notification"]) for m in mail.outbox)
    assert emailed == sorted(Notification.objects.values_list("pk", flat=True)), "each once"


CLAIM_AND_HANG = """
import sys, time, django
django.setup()
from django.db import transaction
from django.utils import timezone
from crm_models.services import reminders
with transaction.atomic():
    claimed = reminders._claim_due(now=timezone.now(), limit=int(sys.argv[1]))
    reminders._notify(claimed, now=timezone.now())
    print(len(claimed), flush=True)
    time.sleep(600)  # killed here, before the commit
"""


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("database_restored_after_flush")
def test_a_worker_killed_before_commit_loses_no_reminder(operator: User) -> None:
    make_follow_ups(30, assignee=operator)
    settings_dict = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
        "DATABASE_URL": (
            f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@{settings_dict['HOST']}:"
            f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
        ),
    }
    worker = subprocess.Popen(  # noqa: S603 - a fixed script of this test
        [sys.executable, "-c", CLAIM_AND_HANG, "20"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "20"
        # The killed worker still holds 20 rows: another worker skips them
        # instead of waiting, and sends the other 10.
        assert reminders_send_due(batch_size=7) == 10
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    assert reminders_send_due() == 20
    assert Notification.objects.count() == 30
    assert Notification.objects.values("follow_up").distinct().count() == 30
    assert FollowUp.objects.filter(reminded_at__isnull=True).count() == 0


class RefusingBackend(locmem.EmailBackend):
    """The mail server refuses one address, or is down altogether."""

    down = False

    def send_messages(self, messages: list) -> int:
        if RefusingBackend.down:
            raise ConnectionRefusedError("the mail server is down")
        if any(m.to == ["refused@staff.example"] for m in messages):
            raise smtplib.SMTPRecipientsRefused({"refused@staff.example": (550, b"no such user")})
        return super().send_messages(messages)


@pytest.mark.django_db
@override_settings(EMAIL_BACKEND="tests.crm_models.test_reminders.RefusingBackend")
def test_a_refused_address_does_not_hold_up_the_others_and_a_down_server_keeps_them(operator: User) -> None:
    refused = UserFactory(username="t_refused", email="refused@staff.example", role=Role.OPERATOR)
    make_follow_ups(1, assignee=refused)
    make_follow_ups(1, assignee=operator)
    reminders_send_due()

    RefusingBackend.down = True
    try:
        with pytest.raises(ConnectionRefusedError):
            reminder_emails_send()
    finally:
        RefusingBackend.down = False
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 2

    assert reminder_emails_send() == 1
    assert [m.to for m in mail.outbox] == [[operator.email]]
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0
