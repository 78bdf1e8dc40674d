"""Run a background worker for the configured queue (TASKS, see
backoffice/deployment.py), after making sure the periodic jobs are scheduled.

    manage.py worker            # until stopped (SIGTERM finishes the job at hand)
    manage.py worker --burst    # run what is due, then exit

Any number of workers may run, on any machines: each job runs once, and the
periodic jobs' schedule is kept once (crm_models/tasks.py).
"""

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from crm_models.tasks import schedule_ensure


def queue_kind() -> str:
    backend = str(settings.TASKS["default"]["BACKEND"])
    return "redis" if backend.endswith("RQBackend") else "database"


class Command(BaseCommand):
    help = "Run a background worker (database or Redis queue, as configured), scheduling periodic jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--burst", action="store_true", help="Run the jobs that are due, then exit.")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Database queue: seconds between polls when idle."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seeded = schedule_ensure()
        kind = queue_kind()
        if options["verbosity"]:
            self.stdout.write(
                f"Worker on the {kind} queue; periodic jobs seeded: {', '.join(seeded) or 'none needed'}."
            )
        if kind == "redis":
            rq_options: dict[str, Any] = {"job_class": "django_tasks_rq.Job", "with_scheduler": True}
            if options["burst"]:
                rq_options["burst"] = True
            call_command("rqworker", *settings.TASKS["default"].get("QUEUES", ["default"]), **rq_options)
        else:
            db_options: dict[str, Any] = {"interval": options["interval"], "reload": False}
            if options["burst"]:
                db_options["batch"] = True
            call_command(
                "db_worker",
                queue_name=",".join(settings.TASKS["default"].get("QUEUES", ["default"])),
                **db_options,
            )
