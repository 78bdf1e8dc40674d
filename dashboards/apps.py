from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("Dashboards")
    # settings.TIME_ZONE as this process started: the zone `migrate` builds the
    # rollups in. The selector uses them only while the current zone is this one
    # (a test that overrides TIME_ZONE later gets the base tables instead).
    rollup_time_zone = ""

    def ready(self) -> None:
        DashboardsConfig.rollup_time_zone = settings.TIME_ZONE
        post_migrate.connect(_sync_rollup_time_zone, sender=self)


def _sync_rollup_time_zone(using: str = "default", **kwargs: Any) -> None:
    """After `migrate`: rebuild the rollups if TIME_ZONE or the trigger code
    changed since they were built."""
    from . import rollups

    connection = connections[using]
    if connection.vendor == "postgresql":
        rollups.sync(connection, settings.TIME_ZONE)
