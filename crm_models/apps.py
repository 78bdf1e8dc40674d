from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """SQLite's lower() folds ASCII only: the search's folding (ё as е, any
    alphabet's case) comes from Python there (selectors/search.py, SearchText)."""
    if connection.vendor == "sqlite":
        from crm_models.selectors.search import fold

        def crm_fold(text: str | None) -> str | None:
            return None if text is None else fold(text)

        connection.connection.create_function("crm_fold", 1, crm_fold, deterministic=True)


class CrmModelsConfig(AppConfig):
    name = "crm_models"
    verbose_name = _("CRM")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        connection_created.connect(register_sqlite_functions)
        from backoffice.logging import connect_job_log

        connect_job_log()
