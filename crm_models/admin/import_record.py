from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display

from crm_models.models import ImportRecord

from .display import relative_time
from .filters import ChoicesDropdownFilter, RangeDateFilter


@admin.register(ImportRecord)
class ImportRecordAdmin(ModelAdmin):
    """The audit trail of confirmed imports; written only by the import service."""

    list_display = [
        "file_name",
        "kind",
        "user",
        "imported",
        "created_count",
        "updated_count",
        "skipped_count",
    ]
    list_filter = [("kind", ChoicesDropdownFilter), ("created_at", RangeDateFilter)]
    list_filter_submit = True
    list_select_related = ["user"]
    search_fields = ["file_name", "file_sha256", "user__username"]
    readonly_fields = [
        "user",
        "created_at",
        "kind",
        "file_name",
        "file_sha256",
        "file_size",
        "file_format",
        "duplicate_mode",
        "rows_total",
        "created_count",
        "updated_count",
        "skipped_count",
        "duration_ms",
    ]
    fields = readonly_fields

    @display(description=_("imported"), ordering="created_at")
    def imported(self, obj: ImportRecord) -> str:
        return relative_time(obj.created_at)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ImportRecord | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ImportRecord | None = None) -> bool:
        return False
