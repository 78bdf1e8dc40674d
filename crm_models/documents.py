"""Contract documents: which uploads are accepted, judged by their content.

A file's name and the browser's Content-Type are chosen by the uploader, so the
type is read from the file's first bytes. The ZIP-based office formats all start
with the same bytes; telling a .docx from a renamed archive needs a look at the
ZIP's table of contents, which a first-bytes magic-number check cannot do, so
that part uses the standard library's zipfile (it reads the central directory
only and never decompresses the members, so a ZIP bomb costs nothing here).
"""

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

EMPTY_DOCUMENT_MESSAGE = _("The document is empty.")
DOCUMENT_TOO_LARGE_MESSAGE = _("The document is %(size)s; the largest accepted is %(limit)s.")
UNSUPPORTED_DOCUMENT_MESSAGE = _(
    "This file is not a PDF, PNG or JPEG image, or office document (DOCX, XLSX, ODT, ODS, DOC, XLS)."
)
EXTENSION_MISMATCH_MESSAGE = _(
    "The file's content is %(kind)s but its name ends in “%(extension)s”; rename it to %(expected)s."
)

_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_SIGNATURE = b"PK\x03\x04"
_OPENDOCUMENT_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
}


@dataclass(frozen=True)
class DocumentKind:
    label: str
    extensions: tuple[str, ...]


KINDS = {
    "pdf": DocumentKind("PDF", (".pdf",)),
    "png": DocumentKind("PNG", (".png",)),
    "jpeg": DocumentKind("JPEG", (".jpg", ".jpeg")),
    "docx": DocumentKind("DOCX", (".docx",)),
    "xlsx": DocumentKind("XLSX", (".xlsx",)),
    "odt": DocumentKind("ODT", (".odt",)),
    "ods": DocumentKind("ODS", (".ods",)),
    # Legacy Word and Excel share one container format (OLE2); the name decides.
    "ole2": DocumentKind("DOC/XLS", (".doc", ".xls")),
}


def _zip_kind(file: IO[bytes]) -> str | None:
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return "docx"
                if "xl/workbook.xml" in names:
                    return "xlsx"
                return None
            info = archive.getinfo("mimetype") if "mimetype" in names else None
            if info is None or info.file_size > 100:
                return None
            with archive.open(info) as member:
                return _OPENDOCUMENT_MIMETYPES.get(member.read(100).strip())
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
        return None


_SIGNATURES: list[tuple[bytes, Callable[[IO[bytes]], str | None]]] = [
    (b"%PDF-", lambda _file: "pdf"),
    (b"\x89PNG\r\n\x1a\n", lambda _file: "png"),
    (b"\xff\xd8\xff", lambda _file: "jpeg"),
    (_OLE2_SIGNATURE, lambda _file: "ole2"),
    (_ZIP_SIGNATURE, _zip_kind),
]


def document_kind(file: Any) -> str | None:
    """The key in KINDS of an accepted document's real type, or None."""
    file.seek(0)
    head = file.read(8)
    kind = None
    for signature, detect in _SIGNATURES:
        if head.startswith(signature):
            file.seek(0)
            kind = detect(file)
            break
    file.seek(0)
    return kind


def validate_contract_document(file: Any) -> None:
    """Refuse a contract document that is empty, too large, not of an accepted
    type by its content, or named with an extension other than its type's.

    Raises ValidationError with one of this module's messages.
    """
    limit = settings.CONTRACT_DOCUMENT_MAX_BYTES
    if not file.size:
        raise ValidationError(EMPTY_DOCUMENT_MESSAGE, code="empty")
    if file.size > limit:
        raise ValidationError(
            DOCUMENT_TOO_LARGE_MESSAGE,
            code="too_large",
            params={"size": filesizeformat(file.size), "limit": filesizeformat(limit)},
        )
    kind = document_kind(file)
    if kind is None:
        raise ValidationError(UNSUPPORTED_DOCUMENT_MESSAGE, code="unsupported")
    extension = PurePath(file.name or "").suffix.lower()
    expected = KINDS[kind]
    if extension not in expected.extensions:
        raise ValidationError(
            EXTENSION_MISMATCH_MESSAGE,
            code="extension_mismatch",
            params={
                "kind": expected.label,
                "extension": extension or "—",
                "expected": " / ".join(expected.extensions),
            },
        )
