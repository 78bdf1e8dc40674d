"""The reminders on the Redis queue (django-tasks-rq): sweep jobs enqueued
through the Tasks API run on two `rqworker` processes at once, one worker
process dies holding claimed rows, and still each reminder becomes one
notification and one e-mail.

Needs Redis (127.0.0.1:6379, REMINDERS_REDIS_URL to change it) and
PostgreSQL; skipped without them, failed instead where REDIS_REQUIRED=1 (CI).
"""

import email
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from crm_models.roles import Role
from crm_models.workflow_models import FollowUp, Notification
from tests.crm_models.test_reminders import CLAIM_AND_HANG, make_follow_ups
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REMINDERS_REDIS_URL", "redis://127.0.0.1:6379/7")
QUEUE = "default"  # in its own Redis database (REMINDERS_REDIS_URL)


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("database_restored_after_flush"),
]


@pytest.fixture
def redis_queue() -> object:
    if not redis_answers():
        if os.environ.get("REDIS_REQUIRED"):
            pytest.fail(f"Redis does not answer at {REDIS_URL} (REDIS_REQUIRED is set)")
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    from redis import Redis
    from rq import Queue

    queue = Queue(QUEUE, connection=Redis.from_url(REDIS_URL))
    queue.empty()
    yield queue
    queue.empty()
    for registry in (queue.finished_job_registry, queue.failed_job_registry, queue.scheduled_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)


def worker_environment(tmp_path: Path) -> dict[str, str]:
    settings_dict = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
        "DATABASE_URL": (
            f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@{settings_dict['HOST']}:"
            f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
        ),
        "REDIS_URL": REDIS_URL,
        "TASKS_BACKEND": "redis",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }


def run_manage(environment: dict[str, str], code: str) -> str:
    result = subprocess.run(  # noqa: S603 - a fixed script of this test
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def emailed_notifications(tmp_path: Path) -> list[int]:
    ids = []
    for path in (tmp_path / "mail").glob("*.log"):
        for part in path.read_text().split("-" * 79):
            if "X-CRM-Notification" in part:
                ids.append(int(email.message_from_string(part.strip())["X-CRM-Notification"]))
    return sorted(ids)


def test_two_rq_workers_and_a_killed_one_send_each_reminder_once(redis_queue: object, tmp_path: Path) -> None:
    for index in range(3):
        make_follow_ups(150, assignee=UserFactory(username=f"t_rq_op{index}", role=Role.OPERATOR))
    environment = worker_environment(tmp_path)

    # A worker that claims 40 rows and dies before committing.
    claimer = subprocess.Popen(  # noqa: S603 - a fixed script of this test
        [sys.executable, "-c", CLAIM_AND_HANG, "40"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert claimer.stdout is not None
        assert claimer.stdout.readline().strip() == "40"
        # Sweep jobs enqueued through the Tasks API land on the Redis queue.
        out = run_manage(
            environment,
            "from crm_models.tasks import send_due_reminders\n"
            "from django_tasks import task_backends\n"
            "print(type(task_backends['default']).__name__)\n"
            "for _ in range(4): send_due_reminders.enqueue()\n",
        )
        assert out.split() == ["RQBackend"]
        assert redis_queue.count == 4  # type: ignore[attr-defined]
        workers = [
            subprocess.Popen(  # noqa: S603 - a fixed script of this test
                [
                    sys.executable,
                    "manage.py",
                    "rqworker",
                    QUEUE,
                    "--burst",
                    "--job-class",
                    "django_tasks_rq.Job",
                ],
                cwd=ROOT,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        for worker in workers:
            assert worker.wait(timeout=180) == 0
        assert Notification.objects.count() == 410, "the 40 held rows wait for the next sweep"
        os.kill(claimer.pid, signal.SIGKILL)
        claimer.wait(timeout=30)
    finally:
        if claimer.poll() is None:
            claimer.kill()
            claimer.wait()

    run_manage(environment, "from crm_models.tasks import send_due_reminders\nsend_due_reminders.enqueue()\n")
    worker = subprocess.run(  # noqa: S603 - a fixed script of this test
        [sys.executable, "manage.py", "rqworker", QUEUE, "--burst", "--job-class", "django_tasks_rq.Job"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert worker.returncode == 0
    deadline = time.monotonic() + 5
    while Notification.objects.filter(emailed_at__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.2)

    assert Notification.objects.count() == 450
    assert Notification.objects.values("follow_up").distinct().count() == 450
    assert FollowUp.objects.filter(reminded_at__isnull=True).count() == 0
    assert emailed_notifications(tmp_path) == sorted(Notification.objects.values_list("pk", flat=True))
