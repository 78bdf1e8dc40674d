"""Recompute the rollup tables from the base tables, and each user's open
leads (crm_models/open_leads.py) from the lead table (PostgreSQL).

The triggers keep the rollups exact on every INSERT, UPDATE, DELETE and COPY,
but not through what bypasses triggers: TRUNCATE of a base table, or data
loaded with triggers disabled (`ALTER TABLE ... DISABLE TRIGGER`, as
`pg_restore --disable-triggers` does). Run this after such a load. It locks
the rollup tables for its duration (seconds at a million leads).
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from crm_models import open_leads
from dashboards import rollups
from dashboards.models import LeadRollup


class Command(BaseCommand):
    help = "Recompute the dashboard rollup tables and the open-lead counts from the base tables."

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The rollup tables are kept on PostgreSQL only.")
        with transaction.atomic():
            rollups.execute(connection, rollups.install_statements(settings.TIME_ZONE))
            rollups.execute(connection, rollups.rebuild_statements())
            open_leads.execute(connection, open_leads.install_statements() + open_leads.rebuild_statements())
        self.stdout.write(
            f"Rebuilt the rollups: {LeadRollup.objects.count()} lead rows, and the open leads of each owner."
        )
