"""Reading import files: formats, encodings, delimiters, headers and limits."""

import io
import zipfile

import openpyxl
import pytest

from crm_models.importing.columns import LEAD_SPEC, SERVICE_SPEC, clean_table, map_header
from crm_models.importing.reader import ImportFileError, ImportLimits, read_table
from tests.crm_models.import_helpers import csv_bytes, sample

LIMITS = ImportLimits(max_bytes=1024 * 1024, max_rows=100, max_columns=10, max_unpacked_bytes=5 * 1024 * 1024)
HEADER = ["Имя", "Фамилия", "Эл. почта", "Телефон", "Кампания"]
ROW = ["Анна", "Смирнова", "Anna@Example.ru", "8 (916) 200-00-00", "Весна"]


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "file_format", "encoding", "delimiter"),
    [
        ("leads-excel-ru-cp1251.csv", "csv", "cp1251", ";"),
        ("leads-sheets-en-utf8bom.csv", "csv", "utf-8-sig", ","),
        ("leads-ru.xlsx", "xlsx", "", ""),
        ("services-ru-utf8.csv", "csv", "utf-8", ","),
    ],
)
def test_sample_files_are_detected(name: str, file_format: str, encoding: str, delimiter: str) -> None:
    table = read_table(sample(name), limits=LIMITS)

    assert (table.file_format, table.encoding, table.delimiter) == (file_format, encoding, delimiter)
    assert len(table.rows) == (4 if name.startswith("services") else 40)


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8", ";"), ("utf-8-sig", ";"), ("cp1251", ","), ("utf-16", "\t")],
)
def test_russian_text_reads_back_in_every_encoding_and_delimiter(encoding: str, delimiter: str) -> None:
    table = read_table(csv_bytes([HEADER, ROW], delimiter=delimiter, encoding=encoding), limits=LIMITS)

    assert table.header == HEADER
    assert table.rows == [(2, ROW)]


def test_xlsx_numbers_and_dates_become_text() -> None:
    import datetime

    table = read_table(
        xlsx_bytes([["Телефон", "Начало"], [79162000000, datetime.datetime(2026, 3, 1)]]), limits=LIMITS
    )

    assert table.rows == [(2, ["79162000000", "2026-03-01"])]


def test_headers_ignore_case_spacing_and_punctuation() -> None:
    header = ["  FIRST NAME ", "e_mail", "эл.почта", "КАМПАНИЯ", "UTM Source"]
    # "e_mail" and "эл.почта" both mean e-mail: refused as ambiguous.
    with pytest.raises(ImportFileError) as error:
        map_header(LEAD_SPEC, header)
    assert str(error.value) == "The columns “e_mail” and “эл.почта” both mean “E-mail”: keep one of them."

    indexes = map_header(LEAD_SPEC, ["  FIRST NAME ", "ЭЛ. ПОЧТА", "Кампания", "UTM Source"])
    assert indexes == {"first_name": 0, "email": 1, "campaign": 2}


def test_blank_rows_are_skipped_and_numbers_stay_those_of_the_spreadsheet() -> None:
    data = csv_bytes([HEADER, ROW, ["", "", "", "", ""], ["Борис", "", "", "+79162000001", "Весна"]])

    table = read_table(data, limits=LIMITS)

    assert [number for number, _cells in table.rows] == [2, 4]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\r\n\r\n", "The file is empty."),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "This is not a CSV or Excel (.xlsx) file. Save the spreadsheet as CSV or XLSX and try again.",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            "Old Excel files (.xls) are not supported. Save the file as .xlsx or CSV and try again.",
        ),
        (b"PK\x03\x04garbage", "The Excel file is damaged or is not an .xlsx workbook."),
        ("Имя;Кампания\r\n".encode(), "The file has a header row but no data rows."),
    ],
)
def test_garbage_gets_one_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(ImportFileError) as error:
        read_table(data, limits=LIMITS)

    assert str(error.value) == message


def test_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")

    with pytest.raises(ImportFileError) as error:
        read_table(buffer.getvalue(), limits=LIMITS)

    assert str(error.value) == "The Excel file is damaged or is not an .xlsx workbook."


def test_file_over_the_size_limit() -> None:
    limits = ImportLimits(max_bytes=1024 * 1024, max_rows=10**6, max_columns=10, max_unpacked_bytes=10**9)
    data = csv_bytes([HEADER] + [ROW] * 20_000)

    with pytest.raises(ImportFileError) as error:
        read_table(data, limits=limits)

    assert str(error.value) == "The file is 1.4 MB; the limit is 1.0 MB."


@pytest.mark.parametrize("make", [csv_bytes, xlsx_bytes])
def test_too_many_rows(make) -> None:
    data = make([HEADER] + [ROW] * 101)

    with pytest.raises(ImportFileError) as error:
        read_table(data, limits=LIMITS)

    assert str(error.value) == "The file has more than 100 data rows. Split it into smaller files."


@pytest.mark.parametrize("make", [csv_bytes, xlsx_bytes])
def test_too_many_columns(make) -> None:
    data = make([[f"c{i}" for i in range(11)], ["x"] * 11])

    with pytest.raises(ImportFileError) as error:
        read_table(data, limits=LIMITS)

    assert str(error.value) == "The file has 11 columns; at most 10 are accepted."


def test_xlsx_unpacked_size_is_checked_before_parsing() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (6 * 1024 * 1024) + b"</a>")

    with pytest.raises(ImportFileError) as error:
        read_table(buffer.getvalue(), limits=LIMITS)

    assert str(error.value) == "The Excel file unpacks to more than 5.0 MB; the limit protects the server."


def test_missing_column_names_what_is_missing() -> None:
    table = read_table(csv_bytes([["Имя", "Эл. почта"], ["Анна", "a@example.ru"]]), limits=LIMITS)

    with pytest.raises(ImportFileError) as error:
        clean_table(LEAD_SPEC, table)

    assert str(error.value) == (
        "The header row lacks the column(s) “Campaign”. Expected columns: "
        "First name, Last name, E-mail, Phone, Company, Campaign, Notes, ID, Created."
    )


def test_a_file_of_another_model_is_named() -> None:
    table = read_table(sample("campaigns-ru-cp1251.csv"), limits=LIMITS)

    with pytest.raises(ImportFileError) as error:
        clean_table(SERVICE_SPEC, table)

    assert str(error.value) == "This looks like a file of campaigns, not of services: import it on that page."


def test_lead_file_needs_an_email_or_phone_column() -> None:
    table = read_table(csv_bytes([["Имя", "Кампания"], ["Анна", "Весна"]]), limits=LIMITS)

    with pytest.raises(ImportFileError) as error:
        clean_table(LEAD_SPEC, table)

    assert str(error.value) == "The header row needs an e-mail or a phone column."


@pytest.mark.django_db
def test_values_are_normalised_like_the_admin_form() -> None:
    table = read_table(
        csv_bytes([HEADER, ROW, ["Борис", "", " Boris@EXAMPLE.ru ", "'+7 916 200 00 01", "Весна"]]),
        limits=LIMITS,
    )

    clean = clean_table(LEAD_SPEC, table)

    assert clean.errors == []
    assert clean.rows == [
        [2, "Анна", "Смирнова", "anna@example.ru", "+79162000000", None, "Весна", None, None, None],
        [3, "Борис", None, "boris@example.ru", "+79162000001", None, "Весна", None, None, None],
    ]


def test_xlsx_padded_far_beyond_a_spreadsheet_is_refused_before_parsing() -> None:
    """A sheet packed over 100 to 1 (a comment of millions of spaces) passes the
    unpacked-size limit, but the XML parser's time grows with the square of such
    a token: a 100 KB file held a worker for minutes."""
    buffer = io.BytesIO()
    original = io.BytesIO(xlsx_bytes([["Телефон"], ["+79162000000"]]))
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as padded:
        for member in source.infolist():
            content = source.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<sheetData>", b"<sheetData><!--" + b" " * 5_000_000 + b"-->")
            padded.writestr(member.filename, content)

    with pytest.raises(ImportFileError) as error:
        read_table(buffer.getvalue(), limits=LIMITS)

    assert str(error.value) == "The Excel file is damaged or is not an .xlsx workbook."


def test_xlsx_over_the_row_limit_is_refused_before_the_workbook_is_opened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sheet without declared dimensions (openpyxl's write-only mode) is parsed
    whole just to open the workbook: its rows are counted in the raw XML first
    (refusing 200,001 rows took 16 s)."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in [HEADER] + [ROW] * 11:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    monkeypatch.setattr(
        openpyxl, "load_workbook", lambda *args, **kwargs: pytest.fail("the workbook was opened")
    )
    limits = ImportLimits(max_bytes=10**6, max_rows=10, max_columns=10, max_unpacked_bytes=10**9)

    with pytest.raises(ImportFileError) as error:
        read_table(buffer.getvalue(), limits=limits)

    assert str(error.value) == "The file has more than 10 data rows. Split it into smaller files."
