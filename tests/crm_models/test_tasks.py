"""Background jobs (crm_models/tasks.py): the periodic chains are kept once
however often workers start, a stale run ends without queueing, and
`manage.py worker` runs what is due, logging one line per job."""

import json
import logging
import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from backoffice.logging import JsonFormatter
from crm_models.job_models import PeriodicJob
from crm_models.tasks import PERIODIC, periodic_run, schedule_ensure
from crm_models.workflow_models import Notification
from tests.crm_models.test_reminders import make_follow_ups
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def queued_runs() -> list[tuple[str, int]]:
    return sorted(
        (row.args_kwargs["kwargs"]["name"], row.args_kwargs["kwargs"]["generation"])
        for row in DBTaskResult.objects.filter(status="READY", task_path="crm_models.tasks.periodic_run")
    )


def test_every_periodic_job_is_seeded_once() -> None:
    assert sorted(schedule_ensure()) == sorted(PERIODIC)
    assert schedule_ensure() == []
    assert queued_runs() == sorted((name, 1) for name in PERIODIC)
    assert set(PERIODIC) == {"reminders", "capacity_reset", "import_cleanup"}


def test_a_run_queues_the_next_and_a_stale_run_ends() -> None:
    schedule_ensure()
    DBTaskResult.objects.all().delete()  # as if the worker had taken them

    assert periodic_run.call(name="reminders", generation=1) == {"notifications": 0}
    row = PeriodicJob.objects.get(name="reminders")
    assert row.generation == 2
    assert timezone.now() < row.next_run_at <= timezone.now() + timedelta(seconds=60)
    assert queued_runs() == [("reminders", 2)]

    # The same run again (a worker restarted and the queue handed it out
    # twice): superseded, nothing more queued.
    assert periodic_run.call(name="reminders", generation=1) == {"skipped": "superseded"}
    assert periodic_run.call(name="no-such-job", generation=1) == {"skipped": "unknown job"}
    assert queued_runs() == [("reminders", 2)]


def test_a_lost_chain_is_seeded_again_and_its_old_run_ends() -> None:
    schedule_ensure()
    PeriodicJob.objects.filter(name="reminders").update(next_run_at=timezone.now() - timedelta(minutes=11))

    assert schedule_ensure() == ["reminders"]
    assert periodic_run.call(name="reminders", generation=1) == {"skipped": "superseded"}
    assert ("reminders", 2) in queued_runs()


def test_a_daily_job_runs_next_at_midnight() -> None:
    schedule_ensure()
    row = PeriodicJob.objects.get(name="capacity_reset")
    periodic_run.call(name="capacity_reset", generation=row.generation)
    row.refresh_from_db()
    local = timezone.localtime(row.next_run_at)
    assert (local.hour, local.minute, local.date()) == (0, 0, timezone.localdate() + timedelta(days=1))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent seeding needs PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("database_restored_after_flush")
def test_workers_starting_together_seed_each_chain_once() -> None:
    barrier = threading.Barrier(4, timeout=30)
    errors: list[BaseException] = []

    def start_worker() -> None:
        try:
            barrier.wait()
            schedule_ensure()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start_worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert queued_runs() == sorted((name, 1) for name in PERIODIC)


# The worker closes connections it finds inside a transaction (as between
# jobs), so these run outside the test's transaction.
WORKER_DB = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@WORKER_DB
@pytest.mark.usefixtures("database_restored_after_flush")
def test_the_worker_runs_due_jobs_and_logs_one_json_line_each(caplog: pytest.LogCaptureFixture) -> None:
    operator = UserFactory(username="t_worker_operator", role="Operator")
    make_follow_ups(3, assignee=operator)
    UserFactory(username="t_secret_holder", password="never-in-a-log")
    with caplog.at_level(logging.INFO, logger="backoffice.jobs"):
        call_command("worker", "--burst", verbosity=0)

    assert Notification.objects.filter(user=operator, emailed_at__isnull=False).count() == 3
    assert sorted(m.to[0] for m in mail.outbox) == [operator.email] * 3
    # The three periodic jobs' first runs, and the e-mail outbox the reminder
    # sweep queued.
    finished = DBTaskResult.objects.filter(status="SUCCESSFUL")
    assert sorted(r.task_path.rsplit(".", 1)[-1] for r in finished) == [
        "periodic_run",
        "periodic_run",
        "periodic_run",
        "send_reminder_emails",
    ]
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "backoffice.jobs"]
    assert sorted(line["task"] for line in lines) == ["periodic_run"] * 3 + ["send_reminder_emails"]
    for line in lines:
        assert line["event"] == "job"
        assert line["status"] == "successful"
        assert isinstance(line["duration_ms"], float)
        assert DBTaskResult.objects.filter(pk=line["task_id"]).exists()
    assert "never-in-a-log" not in caplog.text


@WORKER_DB
@pytest.mark.usefixtures("database_restored_after_flush")
def test_a_failed_job_is_logged_with_its_error_class_only(caplog: pytest.LogCaptureFixture) -> None:
    failing = periodic_run.enqueue(name="reminders")  # type: ignore[call-arg]
    with caplog.at_level(logging.INFO, logger="backoffice.jobs"):
        call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)

    result = DBTaskResult.objects.get(pk=failing.id)
    assert result.status == "FAILED"
    assert "periodic_run() missing 1 required positional argument: 'generation'" in result.traceback
    (record,) = [r for r in caplog.records if r.name == "backoffice.jobs"]
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING"
    assert (line["task_id"], line["status"], line["outcome"]) == (
        str(failing.id),
        "failed",
        "builtins.TypeError",
    )
    assert "traceback" not in json.dumps(line).lower()
    assert "generation" not in json.dumps(line)


def test_the_daily_capacity_reset_clears_only_earlier_days(operator: User, operator2: User) -> None:
    from crm_models.tasks import reset_daily_capacity
    from crm_models.workflow_models import AssignmentRule, AssignmentRuleMember

    rule = AssignmentRule.objects.create(name="Spring web", daily_capacity=10)
    today = timezone.localdate()
    yesterday = AssignmentRuleMember.objects.create(
        rule=rule, user=operator, counted_on=today - timedelta(days=1), assigned_count=7
    )
    current = AssignmentRuleMember.objects.create(
        rule=rule, user=operator2, counted_on=today, assigned_count=3
    )

    assert reset_daily_capacity() == {"reset": 1}
    yesterday.refresh_from_db()
    current.refresh_from_db()
    assert (yesterday.counted_on, yesterday.assigned_count) == (None, 0)
    assert (current.counted_on, current.assigned_count) == (today, 3)
