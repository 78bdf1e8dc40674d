"""Delete import previews that were never confirmed (the worker runs this hourly: crm_models/tasks.py)."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from crm_models.importing.pending import pending_remove_expired


class Command(BaseCommand):
    help = "Delete import previews older than --hours (default 24) that were never confirmed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", type=int, default=24)

    def handle(self, *args: Any, **options: Any) -> None:
        removed = pending_remove_expired(older_than=datetime.timedelta(hours=options["hours"]))
        self.stdout.write(f"Removed {removed} expired import preview(s).")
