"""Turns an uploaded file into a header row and data rows of text.

Accepts what people's spreadsheets save: CSV in UTF-8 (with or without BOM),
UTF-16 (Excel's "Unicode text") or Windows-1251, delimited by `,`, `;` or tab,
and XLSX (first sheet). The format, encoding and delimiter are detected, never
asked. Limits are checked before the whole file is parsed, and every failure is
an `ImportFileError` carrying one message for the user.
"""

import csv
import datetime
import io
import logging
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

EMPTY_FILE_MESSAGE = _("The file is empty.")
NOT_A_TABLE_MESSAGE = _(
    "This is not a CSV or Excel (.xlsx) file. Save the spreadsheet as CSV or XLSX and try again."
)
OLD_EXCEL_MESSAGE = _(
    "Old Excel files (.xls) are not supported. Save the file as .xlsx or CSV and try again."
)
BAD_XLSX_MESSAGE = _("The Excel file is damaged or is not an .xlsx workbook.")
ENCODING_MESSAGE = _("The file's text encoding was not recognised. Save it as CSV UTF-8 and try again.")
BAD_CSV_MESSAGE = _("The CSV file could not be read: %(error)s.")
TOO_BIG_MESSAGE = _("The file is %(size)s; the limit is %(limit)s.")
TOO_BIG_UNPACKED_MESSAGE = _("The Excel file unpacks to more than %(limit)s; the limit protects the server.")
TOO_MANY_ROWS_MESSAGE = _("The file has more than %(limit)s data rows. Split it into smaller files.")
TOO_MANY_COLUMNS_MESSAGE = _("The file has %(count)s columns; at most %(limit)s are accepted.")
NO_DATA_MESSAGE = _("The file has a header row but no data rows.")

logger = logging.getLogger(__name__)

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0"
DELIMITERS = (";", ",", "\t")


class ImportFileError(Exception):
    """The file as a whole cannot be imported; `message` says why, for the user."""

    def __init__(self, message: StrOrPromise) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class ImportLimits:
    max_bytes: int
    max_rows: int
    max_columns: int
    max_unpacked_bytes: int

    @classmethod
    def from_settings(cls) -> "ImportLimits":
        return cls(
            max_bytes=settings.IMPORT_MAX_FILE_BYTES,
            max_rows=settings.IMPORT_MAX_ROWS,
            max_columns=settings.IMPORT_MAX_COLUMNS,
            max_unpacked_bytes=settings.IMPORT_XLSX_MAX_UNPACKED_BYTES,
        )


@dataclass
class Table:
    file_format: str  # "csv" or "xlsx"
    header: list[str]
    # (spreadsheet row number, cells); the header is row 1, blank rows are left out.
    rows: list[tuple[int, list[str]]]
    encoding: str = ""
    delimiter: str = ""


def _megabytes(size: int) -> str:
    return str(filesizeformat(size)).replace("\xa0", " ")


def check_size(size: int, limits: ImportLimits) -> None:
    if size == 0:
        raise ImportFileError(EMPTY_FILE_MESSAGE)
    if size > limits.max_bytes:
        raise ImportFileError(
            TOO_BIG_MESSAGE % {"size": _megabytes(size), "limit": _megabytes(limits.max_bytes)}
        )


def read_table(data: bytes, *, limits: ImportLimits) -> Table:
    """Parse `data` into a `Table`. Raises ImportFileError."""
    check_size(len(data), limits)
    if data.startswith(ZIP_SIGNATURE):
        table = _read_xlsx(data, limits)
    elif data.startswith(OLE_SIGNATURE):
        raise ImportFileError(OLD_EXCEL_MESSAGE)
    else:
        table = _read_csv(_decode(data), limits)
    if not any(cell for cell in table.header):
        raise ImportFileError(EMPTY_FILE_MESSAGE)
    if len(table.header) > limits.max_columns:
        raise ImportFileError(
            TOO_MANY_COLUMNS_MESSAGE % {"count": len(table.header), "limit": limits.max_columns}
        )
    if not table.rows:
        raise ImportFileError(NO_DATA_MESSAGE)
    return table


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(UTF8_BOM):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith(UTF16_BOMS):
        encodings = ("utf-16",)
    else:
        # Binary files (images, archives, executables) contain NUL bytes; text never does.
        if b"\x00" in data[:8192]:
            raise ImportFileError(NOT_A_TABLE_MESSAGE)
        # Valid UTF-8 is almost never accidental, so it is tried first; Russian
        # Excel saves "CSV (delimited)" in Windows-1251.
        encodings = ("utf-8", "cp1251")
    for encoding in encodings:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ImportFileError(ENCODING_MESSAGE)


def _detect_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {delimiter: first_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(decoded: tuple[str, str], limits: ImportLimits) -> Table:
    text, encoding = decoded
    if not text.strip():
        raise ImportFileError(EMPTY_FILE_MESSAGE)
    if "\x00" in text[:8192]:
        raise ImportFileError(NOT_A_TABLE_MESSAGE)
    delimiter = _detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        for number, cells in enumerate(reader, start=1):
            if header is None:
                header = cells
                if len(header) > limits.max_columns:
                    break
                continue
            if len(cells) > limits.max_columns:
                raise ImportFileError(
                    TOO_MANY_COLUMNS_MESSAGE % {"count": len(cells), "limit": limits.max_columns}
                )
            if not any(cells):
                continue
            rows.append((number, cells))
            if len(rows) > limits.max_rows:
                raise ImportFileError(TOO_MANY_ROWS_MESSAGE % {"limit": limits.max_rows})
    except csv.Error as error:
        raise ImportFileError(BAD_CSV_MESSAGE % {"error": error}) from error
    return Table("csv", header or [], rows, encoding=encoding, delimiter=delimiter)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        # Phones typed into Excel become numbers: 79161234567.0 must read "79161234567".
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


# A part of an .xlsx unpacking to more than XLSX_RATIO_CHECK_BYTES may be at most
# XLSX_MAX_RATIO times its packed size (see _read_xlsx).
XLSX_RATIO_CHECK_BYTES = 1_000_000
XLSX_MAX_RATIO = 100


def _first_sheet_path(archive: zipfile.ZipFile) -> str | None:
    """The zip part of a workbook's first sheet (xl/workbook.xml names the
    sheets in order, its relationships their parts); None when unclear."""
    from defusedxml import ElementTree

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    relationship = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    try:
        sheet = ElementTree.fromstring(archive.read("xl/workbook.xml")).find(f"{main}sheets/{main}sheet")
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, ValueError):
        return None
    if sheet is None:
        return None
    for rel in rels:
        if rel.get("Id") == sheet.get(relationship):
            target = rel.get("Target") or ""
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def _xlsx_row_count(archive: zipfile.ZipFile) -> int:
    """The <row> elements of the first sheet, counted in its raw XML (0 when its
    part is unclear): a byte scan, a fraction of parsing it."""
    path = _first_sheet_path(archive)
    if path is None:
        return 0
    count, tail = 0, b""
    try:
        with archive.open(path) as part:
            while chunk := part.read(1 << 20):
                text = tail + chunk
                count += text.count(b"<row ") + text.count(b"<row>")
                # A tag cut by the chunk's end is counted with the next chunk
                # (a whole "<row " needs 5 bytes: none is counted twice).
                tail = text[-4:]
    except KeyError:
        return 0
    return count


def _read_xlsx(data: bytes, limits: ImportLimits) -> Table:
    """A damaged workbook can fail anywhere below: in zipfile (a bad CRC, an
    unknown compression method, an encrypted part), zlib (a corrupt deflate
    stream), the XML parser (a truncated or malformed part) or openpyxl itself.
    Whatever the reader cannot read is one message for the user, never a server
    error; the cause goes to the log."""
    try:
        return _read_xlsx_parts(data, limits)
    except ImportFileError:
        raise
    except Exception as error:
        logger.info("Unreadable .xlsx upload: %s: %s", type(error).__name__, error)
        raise ImportFileError(BAD_XLSX_MESSAGE) from error


def _read_xlsx_parts(data: bytes, limits: ImportLimits) -> Table:
    import openpyxl

    archive = zipfile.ZipFile(io.BytesIO(data))
    # A zip bomb is refused by its declared sizes, before anything is unpacked.
    unpacked = sum(member.file_size for member in archive.infolist())
    if unpacked > limits.max_unpacked_bytes:
        raise ImportFileError(TOO_BIG_UNPACKED_MESSAGE % {"limit": _megabytes(limits.max_unpacked_bytes)})
    # Spreadsheets compress about 5-20 to 1. A part packed far tighter is padding
    # (a comment of millions of spaces): small enough to pass the size limit, but
    # the XML parser's time grows with the square of such a token (a 100 KB file
    # held a worker for minutes).
    if any(
        member.file_size > XLSX_RATIO_CHECK_BYTES and member.file_size > XLSX_MAX_RATIO * member.compress_size
        for member in archive.infolist()
    ):
        raise ImportFileError(BAD_XLSX_MESSAGE)
    # The first sheet's rows, counted in its raw XML before openpyxl reads it: a
    # sheet that declares no dimensions (openpyxl's write-only mode does not) is
    # parsed whole just to open the workbook, and then again for its rows:
    # refusing 200,001 rows took 16 s.
    if _xlsx_row_count(archive) > limits.max_rows + 1:
        raise ImportFileError(TOO_MANY_ROWS_MESSAGE % {"limit": limits.max_rows})
    # openpyxl parses with defusedxml (installed), which refuses XML entity bombs.
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if not workbook.worksheets:
            raise ImportFileError(EMPTY_FILE_MESSAGE)
        sheet = workbook.worksheets[0]
        # The sheet's declared dimensions are checked before its rows are read.
        if (sheet.max_row or 0) > limits.max_rows + 1:
            raise ImportFileError(TOO_MANY_ROWS_MESSAGE % {"limit": limits.max_rows})
        if (sheet.max_column or 0) > limits.max_columns:
            raise ImportFileError(
                TOO_MANY_COLUMNS_MESSAGE % {"count": sheet.max_column, "limit": limits.max_columns}
            )
        header: list[str] | None = None
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(value) for value in values]
            if len(cells) > limits.max_columns:
                raise ImportFileError(
                    TOO_MANY_COLUMNS_MESSAGE % {"count": len(cells), "limit": limits.max_columns}
                )
            if header is None:
                header = cells
                continue
            if not any(cells):
                continue
            rows.append((number, cells))
            if len(rows) > limits.max_rows:
                raise ImportFileError(TOO_MANY_ROWS_MESSAGE % {"limit": limits.max_rows})
    finally:
        workbook.close()
    while header and not header[-1]:
        header.pop()
    return Table("xlsx", header or [], rows)
