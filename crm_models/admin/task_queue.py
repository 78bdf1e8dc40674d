"""The background jobs' queue (django-tasks-db's task results), for
administrators only and read-only: what is waiting, what runs, what failed
with its error, and how often a job was attempted.

The package registers a plain admin of its own on the default site; it is
replaced here by one of the proxy model `TaskResult` (job_models.py), in the
CRM's look and language, with the project's permissions: the view
permission (granted to the Administrator group by crm_models.0018) and the
Administrator role; never add, change or delete.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult
from unfold.admin import ModelAdmin
from unfold.decorators import display

from crm_models.job_models import TaskResult
from crm_models.roles import sees_everything

from .display import relative_time
from .filters import ChoicesDropdownFilter
from .library_hooks import MissingRowIs404Mixin

STATUS_COLOURS = {"READY": "info", "RUNNING": "primary", "SUCCESSFUL": "success", "FAILED": "danger"}

if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)


@admin.register(TaskResult)
class TaskResultAdmin(MissingRowIs404Mixin, ModelAdmin):
    list_display = ["job", "status_label", "queued", "started", "finished", "attempts", "error_class"]
    list_filter = [("status", ChoicesDropdownFilter)]
    search_fields = ["task_path"]
    ordering = ["-enqueued_at"]
    show_full_result_count = False
    fields = [
        "job",
        "status_text",
        "queued",
        "run_after_display",
        "started",
        "finished",
        "attempts",
        "error_class",
        "error",
    ]
    readonly_fields = fields

    @display(description=_("job"), ordering="task_path")
    def job(self, obj: DBTaskResult) -> SafeString:
        return format_html("<code>{}</code>", obj.task_path.rsplit(".", 1)[-1])

    @display(description=_("status"), ordering="status", label=STATUS_COLOURS)
    def status_label(self, obj: DBTaskResult) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @display(description=_("status"))
    def status_text(self, obj: DBTaskResult) -> str:
        return obj.get_status_display()

    @display(description=_("queued"), ordering="enqueued_at")
    def queued(self, obj: DBTaskResult) -> str:
        return relative_time(obj.enqueued_at)

    @display(description=_("not before"))
    def run_after_display(self, obj: DBTaskResult) -> str:
        return relative_time(obj.run_after) if obj.run_after.year < 9999 else "—"

    @display(description=_("started"), ordering="started_at")
    def started(self, obj: DBTaskResult) -> str:
        return relative_time(obj.started_at) if obj.started_at else "—"

    @display(description=_("finished"), ordering="finished_at")
    def finished(self, obj: DBTaskResult) -> str:
        return relative_time(obj.finished_at) if obj.finished_at else "—"

    @display(description=_("attempts"))
    def attempts(self, obj: DBTaskResult) -> int:
        return len(obj.worker_ids or [])

    @display(description=_("error"))
    def error_class(self, obj: DBTaskResult) -> SafeString | str:
        if not obj.exception_class_path:
            return "—"
        return format_html("<code>{}</code>", obj.exception_class_path.rsplit(".", 1)[-1])

    @display(description=_("error details"))
    def error(self, obj: DBTaskResult) -> SafeString | str:
        if not obj.traceback:
            return "—"
        return format_html(
            '<pre class="overflow-x-auto text-xs whitespace-pre-wrap"><code>{}</code></pre>', obj.traceback
        )

    def _is_administrator(self, request: HttpRequest) -> bool:
        return sees_everything(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_administrator(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: DBTaskResult | None = None) -> bool:
        return self._is_administrator(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DBTaskResult | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DBTaskResult | None = None) -> bool:
        return False
