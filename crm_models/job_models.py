"""The schedule of the periodic background jobs (crm_models/tasks.py).

One row per periodic job: when its next run is due and the generation of the
queued run that may take it. Kept in the database (changed under a row lock)
so that a job is queued once however many workers start, and a run left over
from an older generation (a worker restarted, a schedule re-seeded) ends
without queueing another: the chain never multiplies.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult


class PeriodicJob(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    next_run_at = models.DateTimeField(_("next run"))
    generation = models.PositiveBigIntegerField(_("generation"), default=0)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)

    class Meta:
        verbose_name = _("periodic job")
        verbose_name_plural = _("periodic jobs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TaskResult(DBTaskResult):
    """The queue's record of a job (django-tasks-db's table), as the admin
    shows it: named and labelled in the user's language, viewable only
    (the one permission made for it is `view`)."""

    class Meta:
        proxy = True
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.task_path.rsplit('.', 1)[-1]} · {self.get_status_display()}"
