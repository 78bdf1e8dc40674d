"""Contract documents in the admin: checked on upload, downloaded only through
a view that applies the role scope. Media files have no public URL."""

import mimetypes
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display
from unfold.widgets import UnfoldAdminFileFieldWidget

from crm_models.documents import validate_contract_document
from crm_models.models import Contract
from crm_models.selectors.contracts import contract_with_document_get

DOCUMENT_URL_NAME = "crm_models_contract_document"
DOWNLOAD_LABEL = _("Download")


def contract_document_url(contract_id: int) -> str:
    return reverse(f"admin:{DOCUMENT_URL_NAME}", args=[contract_id])


def contract_document_response(contract: Contract) -> HttpResponseBase:
    """The contract's document as an attachment the browser must not sniff.

    With DOCUMENT_ACCEL_REDIRECT_PREFIX set (production behind nginx), the web
    server sends the file from an `internal` location; otherwise it is streamed
    through the storage API, so S3-like storages work too.
    """
    stored_name = contract.document.name
    filename = f"{slugify(contract.name, allow_unicode=True) or 'contract'}{PurePath(stored_name).suffix}"
    content_type = mimetypes.guess_type(stored_name)[0] or "application/octet-stream"
    prefix = getattr(settings, "DOCUMENT_ACCEL_REDIRECT_PREFIX", "")
    response: HttpResponseBase
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{quote(stored_name)}"
        response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    else:
        try:
            file = contract.document.open("rb")
        except FileNotFoundError as error:
            raise Http404 from error
        response = FileResponse(file, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class ContractDocumentWidget(UnfoldAdminFileFieldWidget):
    """unfold's file input, linking to the download view instead of the media URL."""

    template_name = "crm_models/widgets/contract_document_input.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        instance = getattr(value, "instance", None)
        if context["widget"]["is_initial"] and instance is not None and instance.pk:
            context["widget"]["download_url"] = contract_document_url(instance.pk)
            context["widget"]["download_label"] = _("Document on file (%(type)s)") % {
                "type": PurePath(value.name).suffix.lstrip(".").upper()
            }
        return context


class ContractAdminForm(forms.ModelForm):
    class Meta:
        model = Contract
        fields = "__all__"  # noqa: DJ007 - the ModelAdmin's fieldsets choose the fields
        widgets = {"document": ContractDocumentWidget}

    def clean_document(self) -> Any:
        document = self.cleaned_data.get("document")
        # Only a new upload is checked; the stored file was checked when it came.
        if isinstance(document, UploadedFile):
            validate_contract_document(document)
        return document


class ContractDocumentMixin:
    """Adds the scoped download view and a download link column to ContractAdmin."""

    form = ContractAdminForm

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.document_download_view)  # type: ignore[attr-defined]
        return [
            path("<int:object_id>/document/", view, name=DOCUMENT_URL_NAME),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def document_download_view(self, request: HttpRequest, object_id: int) -> HttpResponseBase:
        if not self.has_view_or_change_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        contract = contract_with_document_get(user=request.user, contract_id=object_id)
        if contract is None:
            raise Http404
        return contract_document_response(contract)

    @display(description=_("document"))
    def document_link(self, obj: Contract) -> str:
        return document_link_html(obj)


def document_link_html(contract: Contract) -> str:
    """A download link through the scoped view ("—" without a document)."""
    if not contract.document:
        return "—"
    return format_html(
        '<a href="{}" class="inline-flex items-center gap-1 text-primary-600 dark:text-primary-500">'
        '<span class="material-symbols-outlined text-base">download</span>{}</a>',
        contract_document_url(contract.pk),
        DOWNLOAD_LABEL,
    )
