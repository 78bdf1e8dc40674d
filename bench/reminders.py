"""The reminder sweep at scale: 100,000 due follow-ups, two workers at once.

Makes a database of its own (crm_bench_reminders_<pid>, next to the one in
DATABASE_URL, dropped at the end), migrates it, adds --assignees operators
with a lead each and --follow-ups open follow-ups whose reminders are due, and
queues two sweep jobs (crm_models.tasks.send_due_reminders). Then two worker
processes start at the same moment and run them concurrently: each claims
batches with SELECT ... FOR UPDATE SKIP LOCKED, makes the notifications and
queues the e-mail outbox, which both workers then send (Django's file-based
e-mail backend).

Checks afterwards: one notification per follow-up (0 duplicates, 0 missing),
every follow-up marked reminded, one e-mail per notification (0 duplicates,
0 missing, counted by the X-CRM-Notification header), and the time from the
workers' start until every follow-up has its notification under --target
seconds (60); the e-mails' time is printed beside it. Prints each
worker's share and the machine's load; exits non-zero when a check fails.

    .venv/bin/python bench/reminders.py [--follow-ups 100000] [--queue database|redis]

--queue redis runs the jobs on two `rqworker` processes through Redis
(REDIS_URL, default redis://127.0.0.1:6379/8; the queue there is emptied).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def with_database_name(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def admin_execute(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(with_database_name(url, "postgres"), autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def fill(follow_ups: int, assignees: int) -> None:
    from datetime import timedelta

    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from crm_models.models import Campaign, Lead, Service
    from crm_models.workflow_models import FollowUp

    operators = Group.objects.get(name="Operator")
    service = Service.objects.create(name="Bench service", price=1000)
    campaign = Campaign.objects.create(
        name="Bench campaign",
        service=service,
        channel="search",
        budget=1000,
        start_date=timezone.localdate(),
        end_date=timezone.localdate(),
    )
    users = []
    leads = []
    for index in range(assignees):
        user = User.objects.create_user(
            f"bench_op{index}", f"bench_op{index}@staff.example", "x", is_staff=True
        )
        user.groups.add(operators)
        users.append(user)
        leads.append(
            Lead.objects.create(
                first_name=f"Lead{index}",
                last_name="Bench",
                email=f"lead{index}@client.example",
                phone=f"+7926{index:07d}",
                campaign=campaign,
                owner=user,
            )
        )
    now = timezone.now()
    due = now + timedelta(minutes=5)
    batch = []
    for index in range(follow_ups):
        slot = index % assignees
        batch.append(
            FollowUp(
                lead=leads[slot],
                assignee=users[slot],
                due_at=due + timedelta(seconds=index),
                remind_at=now - timedelta(seconds=1),
                created_at=now,
                updated_at=now,
            )
        )
        if len(batch) == 10_000:
            FollowUp.objects.bulk_create(batch)
            batch = []
    FollowUp.objects.bulk_create(batch)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--follow-ups", type=int, default=100_000)
    parser.add_argument("--assignees", type=int, default=50)
    parser.add_argument("--queue", choices=["database", "redis"], default="database")
    parser.add_argument("--target", type=float, default=60.0, help="seconds the sweep must stay under")
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if urlparse(base).scheme not in {"postgres", "postgresql"}:
        base = "postgres://postgres@127.0.0.1:5432/postgres"
    name = f"crm_bench_reminders_{os.getpid()}"
    url = with_database_name(base, name)
    mail_dir = Path(tempfile.mkdtemp(prefix="crm-bench-mail-"))
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8")
    environment = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CACHE_URL", "TASKS_BACKEND"}},
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.local",
        "DEBUG": "False",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "LOG_LEVEL": "WARNING",
    }
    if args.queue == "redis":
        environment.update({"REDIS_URL": redis_url, "TASKS_BACKEND": "redis", "CACHE_URL": "locmemcache://"})
    os.environ.update(environment)

    admin_execute(url, f'CREATE DATABASE "{name}"')
    failures: list[str] = []
    try:
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=environment,
            check=True,
        )
        import django

        django.setup()
        from django.db import connection

        from crm_models.tasks import send_due_reminders
        from crm_models.workflow_models import FollowUp, Notification

        fill(args.follow_ups, args.assignees)
        print(
            f"database {name}: migrated, {args.follow_ups:,} due follow-ups for {args.assignees} operators "
            f"in {time.monotonic() - started:.0f} s"
        )
        if args.queue == "redis":
            import django_rq

            django_rq.get_queue("default").empty()
            command = ["manage.py", "rqworker", "default", "--burst", "--job-class", "django_tasks_rq.Job"]
        else:
            command = [
                "manage.py",
                "db_worker",
                "--batch",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0",
            ]
        jobs = [send_due_reminders.enqueue() for _ in range(2)]
        connection.close()

        load_before = os.getloadavg()
        started = time.monotonic()
        workers = [
            subprocess.Popen(
                [sys.executable, *command],
                cwd=ROOT,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        notified_in = emailed_in = None
        while any(worker.poll() is None for worker in workers) and time.monotonic() - started < 900:
            time.sleep(0.25)
            if notified_in is None and not FollowUp.objects.filter(reminded_at__isnull=True).exists():
                notified_in = time.monotonic() - started
            if (
                notified_in is not None
                and emailed_in is None
                and not Notification.objects.filter(emailed_at__isnull=True).exists()
            ):
                emailed_in = time.monotonic() - started
        connection.close()
        for worker in workers:
            _, errors = worker.communicate(timeout=600)
            if worker.returncode != 0:
                failures.append(f"a worker exited with {worker.returncode}: {errors[-2000:]}")
        elapsed = time.monotonic() - started
        notified_in = notified_in or elapsed
        emailed_in = emailed_in or elapsed
        load_after = os.getloadavg()

        shares = []
        for job in jobs:
            result = send_due_reminders.get_result(job.id)
            shares.append(
                result.return_value["notifications"] if result.status == "SUCCESSFUL" else result.status
            )
        notifications = Notification.objects.count()
        distinct = Notification.objects.values("follow_up").distinct().count()
        unreminded = FollowUp.objects.filter(reminded_at__isnull=True).count()
        unsent = Notification.objects.filter(emailed_at__isnull=True).count()
        headers = Counter(
            int(match)
            for path in mail_dir.glob("*.log")
            for match in re.findall(r"^X-CRM-Notification: (\d+)$", path.read_text(), re.M)
        )
        emails = sum(headers.values())
        duplicate_emails = sum(count - 1 for count in headers.values() if count > 1)

        print(f"queue: {args.queue}; two workers, started together")
        print(
            f"  notifications made in {notified_in:.1f} s (target < {args.target:.0f} s; "
            f"{args.follow_ups / notified_in:,.0f}/s), e-mails written by {emailed_in:.1f} s, "
            f"workers done at {elapsed:.1f} s"
        )
        print(f"  notifications made by each sweep job (one per worker): {shares}")
        print(
            f"  notifications: {notifications:,} for {distinct:,} follow-ups "
            f"({notifications - distinct} duplicates, {args.follow_ups - distinct} missing); "
            f"{unreminded} follow-ups not marked reminded"
        )
        print(
            f"  e-mails: {emails:,} written ({duplicate_emails} duplicates, "
            f"{notifications - len(headers)} missing); {unsent} notifications not marked e-mailed"
        )
        print(
            f"  machine: {os.cpu_count()} CPUs, load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
        )
        if notified_in >= args.target:
            failures.append(f"the sweep took {notified_in:.1f} s, not under {args.target:.0f} s")
        if notifications != args.follow_ups or distinct != args.follow_ups or unreminded:
            failures.append("notifications are not one per follow-up")
        if emails != notifications or duplicate_emails or unsent:
            failures.append("e-mails are not one per notification")
    finally:
        from django.db import connections

        connections.close_all()
        admin_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for path in mail_dir.glob("*"):
            path.unlink()
        mail_dir.rmdir()
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("reminders: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
