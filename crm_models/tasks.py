"""Background jobs on Django's Tasks API (the `django-tasks` backport).

Jobs run on whichever queue TASKS names (backoffice/deployment.py): the
database by default, Redis in production. Start workers with
`manage.py worker` (crm_models/management/commands/worker.py).

Periodic work is scheduled by the queue itself, not by cron: each periodic job
is a chain of `periodic_run` tasks, each queued with `run_after` for the next
due time by the run before it. The schedule lives in PeriodicJob rows
(job_models.py); a run advances its row, under a row lock, only if it carries
the row's current generation, and queues the next run in the same
transaction. A run of an older generation ends without queueing anything, so
however many workers start, each job has one chain. `schedule_ensure` (run by
every worker as it starts, and by each reminder sweep for the other jobs)
seeds a chain that does not exist yet and re-seeds one whose next run is long
overdue (its run was lost with a worker).
"""

import datetime
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from crm_models.job_models import PeriodicJob

logger = logging.getLogger("crm_models.tasks")


@dataclass(frozen=True)
class Periodic:
    """A periodic job: the function (a dotted path, called without
    arguments, returning something JSON can hold) and when it runs next
    after a run due at `due`."""

    function: str
    next_after: Callable[[datetime.datetime], datetime.datetime]


def every(seconds: int) -> Callable[[datetime.datetime], datetime.datetime]:
    def next_after(due: datetime.datetime) -> datetime.datetime:
        return due + datetime.timedelta(seconds=seconds)

    return next_after


def daily_at_midnight(due: datetime.datetime) -> datetime.datetime:
    """The next local midnight (TIME_ZONE) after `due`."""
    local = timezone.localtime(due)
    tomorrow = local.date() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time.min))


# The periodic jobs by name. Another job joins the schedule by adding an entry
# here (a name, its function's dotted path and its interval); the next worker
# start, or the next reminder sweep, seeds its chain.
PERIODIC: dict[str, Periodic] = {
    "reminders": Periodic("crm_models.tasks.sweep_reminders", every(60)),
    "capacity_reset": Periodic("crm_models.tasks.reset_daily_capacity", daily_at_midnight),
    "import_cleanup": Periodic("crm_models.tasks.remove_expired_import_previews", every(60 * 60)),
}

# A chain whose next run is this late is taken as lost and seeded again (a
# run held up behind a long job is merely late; one lost with a killed worker
# never comes).
OVERDUE_AFTER = datetime.timedelta(minutes=10)


def sweep_reminders() -> dict[str, int]:
    result = _notify_and_queue_emails()
    # A chain lost with a worker is found again within a minute, not only at
    # the next worker start.
    schedule_ensure(exclude={"reminders"})
    return result


def _notify_and_queue_emails() -> dict[str, int]:
    """Due reminders become notifications here; their e-mails go out in a job
    of their own, so a slow or unreachable mail server never holds up the
    bell. Queued while any e-mail is unsent: an outbox job that failed (the
    server was down) is followed by another at the next sweep."""
    from crm_models.services.reminders import reminders_send_due
    from crm_models.workflow_models import Notification

    notifications = reminders_send_due()
    if Notification.objects.filter(emailed_at__isnull=True).exists():
        send_reminder_emails.enqueue()
    return {"notifications": notifications}


def reset_daily_capacity() -> dict[str, int]:
    """A new day's tally for every rule member: yesterday's counts go back
    to zero (a member's count also restarts by itself when its day changes;
    this keeps the stored figures true for reports)."""
    from crm_models.workflow_models import AssignmentRuleMember

    today = timezone.localdate()
    reset = AssignmentRuleMember.objects.filter(counted_on__lt=today).update(
        assigned_count=0, counted_on=None
    )
    return {"reset": reset}


def remove_expired_import_previews() -> dict[str, int]:
    """Import previews never confirmed within a day (their files included)."""
    from crm_models.importing.pending import pending_remove_expired

    return {"removed": pending_remove_expired(older_than=datetime.timedelta(hours=24))}


@task()
def send_due_reminders() -> dict[str, int]:
    """The reminder sweep on demand (the periodic chain runs it every minute)."""
    return _notify_and_queue_emails()


@task()
def send_reminder_emails() -> dict[str, int]:
    """The e-mail outbox: every notification not e-mailed yet, once each."""
    from crm_models.services.reminders import reminder_emails_send

    return {"emails": reminder_emails_send()}


@task()
def periodic_run(name: str, generation: int) -> Any:
    """One run of a periodic job (see the module's doc)."""
    job = PERIODIC.get(name)
    if job is None:
        return {"skipped": "unknown job"}
    with transaction.atomic():
        row = PeriodicJob.objects.select_for_update().filter(name=name).first()
        if row is None or row.generation != generation:
            return {"skipped": "superseded"}
        now = timezone.now()
        due = job.next_after(row.next_run_at)
        while due <= now:  # catch up after a pause without a burst of runs
            due = job.next_after(due)
        row.last_started_at = now
        _queue_next(row, due)
    return import_string(job.function)()


def _queue_next(row: PeriodicJob, due: datetime.datetime) -> None:
    """Advance `row` to its next generation due at `due` and queue that run.
    Runs in the caller's transaction with the row locked. The database queue
    writes the run in this transaction (both or neither); other queues are
    sent once it commits."""
    row.generation += 1
    row.next_run_at = due
    row.save(update_fields=["generation", "next_run_at", "last_started_at"])
    runner = periodic_run.using(run_after=due)
    name, generation = row.name, row.generation
    if runner.get_backend().__class__.__name__ == "DatabaseBackend":
        runner.enqueue(name=name, generation=generation)
    else:
        transaction.on_commit(lambda: runner.enqueue(name=name, generation=generation))


def schedule_ensure(*, exclude: Collection[str] = (), now: datetime.datetime | None = None) -> list[str]:
    """Seed the chain of every periodic job that has none, or whose next run
    is overdue by OVERDUE_AFTER. Safe to call from every worker at once: rows
    are changed under their lock. Returns the names seeded."""
    now = now or timezone.now()
    names = [name for name in PERIODIC if name not in exclude]
    # A row per job, once: ON CONFLICT DO NOTHING where another worker made it.
    PeriodicJob.objects.bulk_create(
        [PeriodicJob(name=name, next_run_at=now, generation=0) for name in names], ignore_conflicts=True
    )
    seeded = []
    with transaction.atomic():
        for row in PeriodicJob.objects.select_for_update().filter(name__in=names).order_by("name"):
            if row.generation == 0 or row.next_run_at < now - OVERDUE_AFTER:
                _queue_next(row, max(row.next_run_at, now))
                seeded.append(row.name)
    if seeded:
        logger.info("periodic jobs seeded: %s", ", ".join(seeded))
    return seeded
