"""Import and export in the admin, on django-import-export's URLs, buttons,
permission hooks, export form and temporary storage.

Export is the package's own view (it goes through the changelist, so filters,
search and the role scope apply) with explicit resources and safe formats.

Import keeps the package's `import/` and `process_import/` URLs and its
changelist button but renders its own unfold-styled pages: the package's
preview lists every row of the file and imports row by row (about 600 rows/s
with history here), while this one validates the whole file at once, shows the
counts, the duplicates and every error with its row and column, and writes with
bulk operations (see `crm_models.services.imports`).
"""

import hashlib
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin, ImportMixin
from unfold.widgets import UnfoldAdminFileFieldWidget, UnfoldAdminRadioSelectWidget

from crm_models.importing.columns import (
    SPECS,
    CleanFile,
    ImportSpec,
    RowIssue,
    channel_help,
    clean_table,
    expected_headers,
)
from crm_models.importing.pending import pending_load, pending_remove, pending_save
from crm_models.importing.reader import ImportFileError, ImportLimits, check_size, read_table
from crm_models.models import ImportRecord
from crm_models.resources import EXPORT_FORMATS, SafeCSV, SafeXLSX, excel_csv_writer, neutralize
from crm_models.selectors.import_plans import ImportPlan, import_may_update, import_plan_build
from crm_models.services.imports import ImportedFile, ImportRejectedError, import_confirm

from .export_form import LabelledExportForm

PREVIEW_EXPIRED_MESSAGE = _("This preview has expired or belongs to another user. Upload the file again.")
IMPORT_DONE_MESSAGE = _("Imported %(file)s: %(new)s new, %(updated)s updated, %(skipped)s skipped.")
PREVIEW_LIMIT = 200
UPDATE_NOT_OFFERED_MESSAGE = _(
    "You may not change existing %(records)s, so rows that match one can only be skipped."
)

TEMPLATE_EXAMPLES: dict[str, list[str]] = {
    ImportRecord.Kind.LEAD: [
        "Anna",
        "Smirnova",
        "anna@example.ru",
        "8 916 123-45-67",
        "",
        "Spring search",
        "",
        "",
    ],
    ImportRecord.Kind.SERVICE: ["Context advertising", "Search ads set-up and management", "45000.00", "yes"],
    ImportRecord.Kind.CAMPAIGN: [
        "Spring search",
        "Context advertising",
        "search",
        "120000",
        "2026-03-01",
        "2026-05-31",
    ],
}


class ImportUploadForm(forms.Form):
    import_file = forms.FileField(
        label=_("File"),
        widget=UnfoldAdminFileFieldWidget,
        help_text=_("CSV (UTF-8 or Windows-1251, comma or semicolon) or Excel .xlsx (first sheet)."),
    )
    duplicates = forms.ChoiceField(
        label=_("Rows that match an existing record"),
        choices=ImportRecord.DuplicateMode.choices,
        initial=ImportRecord.DuplicateMode.SKIP,
        widget=UnfoldAdminRadioSelectWidget,
    )

    def __init__(self, *args: Any, may_update: bool, records: Any, **kwargs: Any) -> None:
        """`may_update`: whether the user may change existing `records` (the
        model's verbose plural); without it matching rows can only be skipped."""
        super().__init__(*args, **kwargs)
        self.may_update = may_update
        self.records = records
        if not may_update:
            self.fields["duplicates"].widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("duplicates") == ImportRecord.DuplicateMode.UPDATE and not self.may_update:
            raise forms.ValidationError(UPDATE_NOT_OFFERED_MESSAGE % {"records": self.records})
        return cleaned


class ImportConfirmForm(forms.Form):
    token = forms.RegexField(regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput)


def _issue_dicts(issues: list[RowIssue]) -> list[dict[str, Any]]:
    return [{"row": i.row, "column": i.column, "value": i.value, "message": i.message} for i in issues]


EXPORT_BAD_FILTERS_MESSAGE = _("The export's filters are not valid; nothing was exported.")


class CrmExportMixin(ExportMixin):
    """Export for users with the model's export permission, of what they see."""

    export_form_class = LabelledExportForm
    formats = EXPORT_FORMATS

    def get_export_formats(self) -> list:
        return list(EXPORT_FORMATS)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return super().has_export_permission(request) and self.has_view_permission(request)  # type: ignore[attr-defined]

    def export_action(self, request: HttpRequest) -> HttpResponse:
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            # Filters the list itself would refuse (a forged "?campaign__id__exact=abc"):
            # the package let the error through as a server error.
            self.message_user(request, EXPORT_BAD_FILTERS_MESSAGE, messages.ERROR)  # type: ignore[attr-defined]
            opts = self.model._meta  # type: ignore[attr-defined]
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))

    def get_export_data(self, file_format: Any, request: HttpRequest, queryset: Any, **kwargs: Any) -> Any:
        """CSV is written straight from the query's rows (`export_csv`): the
        same file as the package's path through a tablib Dataset, made faster."""
        if not isinstance(file_format, SafeCSV):
            return super().get_export_data(file_format, request, queryset, **kwargs)
        if not self.has_export_permission(request):
            raise PermissionDenied
        # As the package's get_data_for_export chooses the resource and columns.
        export_form = kwargs.get("export_form")
        resource_class = self.choose_export_resource_class(export_form, request)
        resource = resource_class(
            **self.get_export_resource_kwargs(request, force_native_type=False, **kwargs)
        )
        export_fields = self.get_export_resource_fields_from_form(export_form)
        if not hasattr(resource, "export_csv"):
            return super().get_export_data(file_format, request, queryset, **kwargs)
        data = resource.export_csv(queryset=queryset, export_fields=export_fields)
        encoding = kwargs.get("encoding")
        return data.encode(encoding) if encoding else data


class CrmImportMixin(ImportMixin):
    import_template_name = "admin/crm_models/import.html"

    @property
    def import_spec(self) -> ImportSpec:
        return SPECS[self.model._meta.model_name]  # type: ignore[attr-defined]

    def get_urls(self) -> list:
        info = self.get_model_info()
        wrap = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path(
                "import/template.<str:extension>",
                wrap(self.import_template_view),
                name="{}_{}_import_template".format(*info),
            ),
            path(
                "import/errors/<str:token>/",
                wrap(self.import_errors_view),
                name="{}_{}_import_errors".format(*info),
            ),
            *super().get_urls(),
        ]

    def _check_import_permission(self, request: HttpRequest) -> None:
        if not self.has_import_permission(request):
            raise PermissionDenied

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        spec = self.import_spec
        limits = ImportLimits.from_settings()
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": _("Import %(name)s") % {"name": self.model._meta.verbose_name_plural},  # type: ignore[attr-defined]
            "opts": self.model._meta,  # type: ignore[attr-defined]
            "columns": expected_headers(spec),
            "one_of": spec.one_of,
            "channels": channel_help() if spec.kind == ImportRecord.Kind.CAMPAIGN else "",
            "limits": {
                "megabytes": limits.max_bytes // (1024 * 1024),
                "rows": limits.max_rows,
                "columns": limits.max_columns,
            },
            "preview_limit": PREVIEW_LIMIT,
        }
        context.update(extra)
        return context

    def _render(self, request: HttpRequest, **extra: Any) -> TemplateResponse:
        request.current_app = self.admin_site.name  # type: ignore[attr-defined]
        return TemplateResponse(request, [self.import_template_name], self._context(request, **extra))

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        self._check_import_permission(request)
        form = ImportUploadForm(
            request.POST or None,
            request.FILES or None,
            may_update=import_may_update(user=request.user, kind=self.import_spec.kind),
            records=self.import_spec.verbose_name_plural,
        )
        if request.method != "POST" or not form.is_valid():
            return self._render(request, form=form)
        upload = form.cleaned_data["import_file"]
        mode = form.cleaned_data["duplicates"]
        try:
            check_size(upload.size, ImportLimits.from_settings())
            data = upload.read()
            table = read_table(data, limits=ImportLimits.from_settings())
            clean = clean_table(self.import_spec, table)
        except ImportFileError as error:
            form.add_error("import_file", str(error.message))
            return self._render(request, form=form)
        plan = import_plan_build(clean=clean, user=request.user, duplicate_mode=mode)
        file_info = {
            "name": upload.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "format": table.file_format,
        }
        del data, table
        return self._render_preview(request, form, clean, plan, file_info)

    def _render_preview(
        self,
        request: HttpRequest,
        form: forms.Form | None,
        clean: CleanFile,
        plan: ImportPlan,
        file_info: dict,
    ) -> TemplateResponse:
        payload = {
            "user_id": request.user.pk,
            "kind": self.import_spec.kind,
            "mode": plan.duplicate_mode,
            "file": file_info,
            "headers": clean.headers,
            "errors": _issue_dicts(plan.errors),
            # The cleaned rows are only kept when there is something to confirm.
            "rows": [] if plan.errors else clean.rows,
        }
        token = pending_save(payload)
        return self._render(
            request,
            form=form,
            plan=plan,
            counts=plan.counts,
            file_info=file_info,
            token=token,
            errors=plan.errors[:PREVIEW_LIMIT],
            duplicates=plan.duplicates[:PREVIEW_LIMIT],
            duplicate_mode_label=ImportRecord.DuplicateMode(plan.duplicate_mode).label,
            confirm_form=None if plan.errors else ImportConfirmForm(initial={"token": token}),
        )

    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        self._check_import_permission(request)
        if request.method != "POST":
            return HttpResponse(status=405)
        form = ImportConfirmForm(request.POST)
        payload = None
        if form.is_valid():
            payload = pending_load(
                form.cleaned_data["token"], user_id=request.user.pk, kind=self.import_spec.kind
            )
        if payload is None or payload["errors"]:
            messages.error(request, str(PREVIEW_EXPIRED_MESSAGE))
            return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*self.get_model_info())))
        clean = CleanFile(spec=self.import_spec, rows=payload["rows"], errors=[], headers=payload["headers"])
        file_info = payload["file"]
        imported_file = ImportedFile(
            name=file_info["name"],
            sha256=file_info["sha256"],
            size=file_info["size"],
            file_format=file_info["format"],
        )
        try:
            record, _plan = import_confirm(
                clean=clean, user=request.user, duplicate_mode=payload["mode"], imported_file=imported_file
            )
        except ImportRejectedError as rejected:
            messages.error(request, str(rejected.message))
            if rejected.plan is None:
                return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*self.get_model_info())))
            return self._render_preview(request, None, clean, rejected.plan, file_info)
        pending_remove(form.cleaned_data["token"])
        messages.success(
            request,
            IMPORT_DONE_MESSAGE
            % {
                "file": record.file_name,
                "new": record.created_count,
                "updated": record.updated_count,
                "skipped": record.skipped_count,
            },
        )
        return HttpResponseRedirect(reverse("admin:{}_{}_changelist".format(*self.get_model_info())))

    def import_errors_view(self, request: HttpRequest, token: str) -> HttpResponse:
        """The preview's row errors as CSV, for fixing the file in a spreadsheet."""
        self._check_import_permission(request)
        payload = pending_load(token, user_id=request.user.pk, kind=self.import_spec.kind)
        if payload is None:
            raise Http404
        buffer, writer = excel_csv_writer()
        writer.writerow([gettext("Row"), gettext("Column"), gettext("Value"), gettext("Error")])
        for issue in payload["errors"]:
            writer.writerow(
                [issue["row"], neutralize(issue["column"]), neutralize(issue["value"]), issue["message"]]
            )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.import_spec.kind}-import-errors.csv"'
        return response

    def import_template_view(self, request: HttpRequest, extension: str) -> HttpResponse:
        """An empty file with the expected header and one example row."""
        self._check_import_permission(request)
        spec = self.import_spec
        import tablib

        dataset = tablib.Dataset(headers=[column.header for column in spec.columns])
        dataset.title = str(spec.verbose_name_plural)
        dataset.append(TEMPLATE_EXAMPLES[spec.kind])
        formats: dict[str, type[SafeCSV] | type[SafeXLSX]] = {"csv": SafeCSV, "xlsx": SafeXLSX}
        if extension not in formats:
            raise Http404
        file_format = formats[extension]()
        response = HttpResponse(file_format.export_data(dataset), content_type=file_format.get_content_type())
        response["Content-Disposition"] = f'attachment; filename="{spec.kind}-import-template.{extension}"'
        return response


class CrmImportExportMixin(CrmImportMixin, CrmExportMixin):
    import_export_change_list_template = "admin/import_export/change_list_import_export.html"
