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

import base64
import hashlib
import zipfile
from dataclasses import asdict
from pathlib import PurePath
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.translation import gettext, ngettext_lazy
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
from crm_models.importing.error_file import ErrorFile, error_file_build
from crm_models.importing.pending import pending_load, pending_remove, pending_save
from crm_models.importing.reader import ImportFileError, ImportLimits, check_size, read_table
from crm_models.models import ImportRecord
from crm_models.resources import EXPORT_FORMATS, SafeCSV, SafeXLSX
from crm_models.selectors.import_plans import (
    ImportPlan,
    import_may_update,
    import_plan_build,
    import_sample_build,
    row_messages,
)
from crm_models.services.assignment import ImportOwnership, import_ownership_summary
from crm_models.services.imports import HAS_ERRORS_MESSAGE, ImportedFile, ImportRejectedError, import_confirm

from .assignment import ownership_fields_add, ownership_from_form
from .export_form import LabelledExportForm

PREVIEW_EXPIRED_MESSAGE = _("This preview has expired or belongs to another user. Upload the file again.")
IMPORT_DONE_MESSAGE = _("Imported %(file)s: %(new)s new, %(updated)s updated, %(skipped)s skipped.")
ROWS_LEFT_OUT_MESSAGE = ngettext_lazy(
    "%(count)s row with errors was not imported.", "%(count)s rows with errors were not imported.", "count"
)
DOWNLOAD_ERROR_FILE_LABEL = _("Download the rows with errors")
PREVIEW_LIMIT = 200
# The first rows of the file shown as the import understood them.
SAMPLE_ROWS = 10
# The reader's Python codec names as HTTP charsets.
CSV_CHARSETS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "utf-16": "utf-16", "cp1251": "windows-1251"}
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
        "",
    ],
    ImportRecord.Kind.SERVICE: ["Context advertising", "Search ads set-up and management", "45000.00", "yes"],
    ImportRecord.Kind.SPEND: ["2026-03-01", "Spring search", "4500.00", "yandex"],
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
    ALL_ROWS = "all"
    VALID_ROWS = "valid"

    token = forms.RegexField(regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput)
    # Which rows the confirmation writes: all of them (refused when any has an
    # error) or only those without errors. The page's two buttons send it.
    rows = forms.ChoiceField(
        choices=[(ALL_ROWS, ALL_ROWS), (VALID_ROWS, VALID_ROWS)], required=False, widget=forms.HiddenInput
    )

    def clean_rows(self) -> str:
        return self.cleaned_data.get("rows") or self.ALL_ROWS


def _issue_dicts(issues: list[RowIssue]) -> list[dict[str, Any]]:
    return [{"row": i.row, "column": i.column, "value": i.value, "message": i.message} for i in issues]


EXPORT_BAD_FILTERS_MESSAGE = _("The export's filters are not valid; nothing was exported.")


class CrmExportMixin(ExportMixin):
    """Export for users with the model's export permission, of what they see."""

    export_form_class = LabelledExportForm
    export_template_name = "admin/crm_models/export.html"
    formats = EXPORT_FORMATS

    def get_export_formats(self) -> list:
        return list(EXPORT_FORMATS)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return super().has_export_permission(request) and self.has_view_permission(request)  # type: ignore[attr-defined]

    def init_request_context_data(self, request: HttpRequest, form: Any) -> dict[str, Any]:
        context = super().init_request_context_data(request, form)
        if not form.initial.get("export_items"):
            # The list's filters, search and role scope apply, as to the file.
            context["export_count"] = self.get_export_queryset(request).count()
        return context

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
        if self.import_spec.kind == ImportRecord.Kind.LEAD:
            ownership_fields_add(form, request.user)
        if request.method != "POST" or not form.is_valid():
            return self._render(request, form=form)
        ownership = ownership_from_form(form, request.user)
        if form.errors:
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
            "encoding": table.encoding,
        }
        sample = import_sample_build(table=table, clean=clean, plan=plan, limit=SAMPLE_ROWS)
        error_file = None
        if plan.errors:
            try:
                error_file = error_file_build(
                    data, table, row_messages(plan.errors), error_header=gettext("Error")
                )
            except (zipfile.BadZipFile, KeyError, ValueError, TypeError, UnicodeError):
                # The file was read once already; should a second read still
                # fail, the preview lists the errors without the file.
                error_file = None
        del data, table
        return self._render_preview(
            request, form, clean, plan, file_info, sample=sample, error_file=error_file, ownership=ownership
        )

    def _render_preview(
        self,
        request: HttpRequest,
        form: forms.Form | None,
        clean: CleanFile,
        plan: ImportPlan,
        file_info: dict,
        *,
        sample: dict[str, Any] | None = None,
        error_file: ErrorFile | None = None,
        ownership: ImportOwnership | None = None,
    ) -> TemplateResponse:
        payload = {
            "user_id": request.user.pk,
            "kind": self.import_spec.kind,
            "mode": plan.duplicate_mode,
            "file": file_info,
            "headers": clean.headers,
            "errors": _issue_dicts(plan.errors),
            # The rows without errors, for a confirmation of all of them or of
            # the valid ones only.
            "rows": clean.rows,
            "error_file": None
            if error_file is None
            else {
                "content": base64.b64encode(error_file.content).decode("ascii"),
                "content_type": error_file.content_type,
                "extension": error_file.extension,
            },
            "ownership": None if ownership is None else asdict(ownership),
        }
        token = pending_save(payload)
        counts = plan.counts
        importable = counts["new"] + counts["updated"]
        return self._render(
            request,
            form=form,
            plan=plan,
            counts=counts,
            file_info=file_info,
            token=token,
            sample=sample,
            has_error_file=error_file is not None,
            errors=plan.errors[:PREVIEW_LIMIT],
            duplicates=plan.duplicates[:PREVIEW_LIMIT],
            duplicate_mode_label=ImportRecord.DuplicateMode(plan.duplicate_mode).label,
            confirm_form=None if plan.errors else ImportConfirmForm(initial={"token": token}),
            # Beside all-or-nothing: the valid rows now, the others later from the error file.
            partial_form=ImportConfirmForm(initial={"token": token})
            if plan.errors and (importable or counts["skipped"])
            else None,
            importable=importable,
            ownership_lines=[]
            if ownership is None or not plan.creates
            else import_ownership_summary(
                ownership=ownership,
                user=request.user,
                campaign_ids=[plan.references[row[6].casefold()] for row in plan.creates],
            ),
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
        upload_url = reverse("admin:{}_{}_import".format(*self.get_model_info()))
        if payload is None or payload.get("done"):
            messages.error(request, str(PREVIEW_EXPIRED_MESSAGE))
            return HttpResponseRedirect(upload_url)
        skip_invalid = form.cleaned_data["rows"] == ImportConfirmForm.VALID_ROWS
        if payload["errors"] and not skip_invalid:
            messages.error(request, str(HAS_ERRORS_MESSAGE))
            return HttpResponseRedirect(upload_url)
        # The cells' errors come with the file; the checks against the
        # database run again on the stored rows, as the data is now.
        stored = {row[0] for row in payload["rows"]}
        issues = [RowIssue(**issue) for issue in payload["errors"] if issue["row"] not in stored]
        clean = CleanFile(
            spec=self.import_spec, rows=payload["rows"], errors=issues, headers=payload["headers"]
        )
        file_info = payload["file"]
        imported_file = ImportedFile(
            name=file_info["name"],
            sha256=file_info["sha256"],
            size=file_info["size"],
            file_format=file_info["format"],
        )
        ownership = ImportOwnership(**payload["ownership"]) if payload.get("ownership") else None
        try:
            record, plan = import_confirm(
                clean=clean,
                user=request.user,
                duplicate_mode=payload["mode"],
                imported_file=imported_file,
                skip_invalid=skip_invalid,
                ownership=ownership,
            )
        except ImportRejectedError as rejected:
            messages.error(request, str(rejected.message))
            if rejected.plan is None:
                return HttpResponseRedirect(upload_url)
            # The rows stored in the payload are the ones without errors.
            clean.errors = []
            return self._render_preview(request, None, clean, rejected.plan, file_info, ownership=ownership)
        pending_remove(form.cleaned_data["token"])
        done = IMPORT_DONE_MESSAGE % {
            "file": record.file_name,
            "new": record.created_count,
            "updated": record.updated_count,
            "skipped": record.skipped_count,
        }
        left_out = plan.counts["errors"]
        if not left_out:
            messages.success(request, done)
        elif payload.get("error_file"):
            # The preview is spent (it cannot be confirmed twice); its error
            # file stays downloadable under a token of its own.
            error_token = pending_save({**payload, "rows": [], "done": True})
            url = reverse("admin:{}_{}_import_errors".format(*self.get_model_info()), args=[error_token])
            messages.success(
                request,
                format_html(
                    '{} {} <a class="underline" href="{}">{}</a>',
                    done,
                    ROWS_LEFT_OUT_MESSAGE % {"count": left_out},
                    url,
                    DOWNLOAD_ERROR_FILE_LABEL,
                ),
            )
        else:
            messages.success(request, f"{done} {ROWS_LEFT_OUT_MESSAGE % {'count': left_out}}")
        return HttpResponseRedirect(reverse("admin:{}_{}_changelist".format(*self.get_model_info())))

    def import_errors_view(self, request: HttpRequest, token: str) -> HttpResponse:
        """The rows with errors as they were uploaded, with an error column, in
        the uploaded format: fixed, the file is uploaded again as it is."""
        self._check_import_permission(request)
        payload = pending_load(token, user_id=request.user.pk, kind=self.import_spec.kind)
        if payload is None or not payload.get("error_file"):
            raise Http404
        error_file = payload["error_file"]
        stem = PurePath(payload["file"]["name"]).stem or self.import_spec.kind
        name = f"{stem}-{gettext('errors')}.{error_file['extension']}"
        content_type = error_file["content_type"]
        if content_type == "text/csv":
            charset = CSV_CHARSETS.get(payload["file"].get("encoding", ""), "utf-8")
            content_type = f"text/csv; charset={charset}"
        response = HttpResponse(base64.b64decode(error_file["content"]), content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
        response["X-Content-Type-Options"] = "nosniff"
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
