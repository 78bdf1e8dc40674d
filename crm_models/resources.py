"""Export resources (django-import-export) and the file formats they are
written in.

Each resource lists its columns explicitly: adding a model field never adds a
column to exports by accident. Exports read plain values with one query
(`values_list` across the relations, streamed in chunks) instead of one model
instance per row, which keeps 100,000 rows in the tens-of-thousands-per-second
range.

Formula neutralisation: in CSV a text cell starting with `=`, `+`, `-`, `@`,
tab or carriage return is written with a leading apostrophe (`'=1+1`);
LibreOffice and Excel show the apostrophe visibly, which is the price of safety
(OWASP "CSV injection"). In XLSX every text cell is typed as a string, which a
spreadsheet never runs, so it needs no apostrophe: a phone `+7 916 ...` reads
as it is. Numbers and dates are not text and stay numbers and dates. The
importer strips the CSV's apostrophe again, so an export re-imports cleanly.
Import-export's own IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only handles `=`
and only in its tablib formats, which these formats replace.

Choice columns (a lead's status, a campaign's channel) are written as their
labels in the user's language; the importer reads channel labels in either
language.
"""

import csv
import datetime
import io
import itertools
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import tablib
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet, TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources
from import_export.formats import base_formats

from crm_models.importing.columns import FORMULA_PREFIXES
from crm_models.models import AdSpend, Campaign, Channel, Contract, Customer, Lead, LeadStatus, Service
from crm_models.normalization import format_phone

EXPORT_CHUNK = 5_000


def neutralize(value: str) -> str:
    if value and value[0] in FORMULA_PREFIXES:
        return "'" + value
    return value


def column(attribute: str, header: str) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=header, readonly=True)


def _plain_postgresql(values: QuerySet, compiler: Any) -> bool:
    """Whether the rows can be read straight off the cursor: PostgreSQL, and
    no column that Django would convert or reorder (`compiler` has run as_sql)."""
    return (
        connections[values.db].vendor == "postgresql"
        and not values.query.extra_select
        and not values.query.annotation_select
        and not compiler.get_converters([column for column, *_rest in compiler.select[: compiler.col_count]])
    )


def _value_chunks(values: QuerySet) -> Iterator[list[tuple]]:
    """The rows of a `values_list` queryset, in chunks of EXPORT_CHUNK.

    On PostgreSQL the query runs on a cursor whose timestamptz
    columns are read by psycopg's C loader instead of Django's Python one
    (which adds nothing here but the UTC tzinfo: the resource converts every
    datetime to the local zone anyway); that loader was a third of a 100,000-lead
    export. Querysets that need Django's value converters take the usual path.
    """
    connection = connections[values.db]
    compiler = values.query.get_compiler(using=values.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # a filter nothing can match (an id past bigint): no rows
        return
    if not _plain_postgresql(values, compiler):
        rows = values.iterator(chunk_size=EXPORT_CHUNK)
        while chunk := list(itertools.islice(rows, EXPORT_CHUNK)):
            yield chunk
        return
    from psycopg.types.datetime import TimestamptzLoader

    # A client-side cursor: libpq holds the compact result, Python objects are
    # made one chunk at a time; a server-side cursor's FETCHes took twice as long.
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(EXPORT_CHUNK):
            yield chunk


class ExplicitExportResource(resources.ModelResource):
    """Columns are the declared fields, in `Meta.export_order`."""

    # Columns (by attribute) written as the label of their choice.
    choice_columns: ClassVar[dict[str, type[TextChoices]]] = {}
    # Columns (by attribute) of stored E.164 phones, written as people read
    # them ("+7 916 123-45-67"); the importer reads that form back.
    phone_columns: ClassVar[frozenset[str]] = frozenset()

    def _export_chunks(
        self, queryset: QuerySet | None, export_fields: Any, *, neutralize_text: bool
    ) -> tuple[list[str], Iterator[Any]]:
        """The header and the rows (in chunks) of an export, from one
        values_list query: choices as labels, datetimes in local time, and text
        neutralised against formulas when `neutralize_text` (CSV)."""
        if queryset is None:
            queryset = self.get_queryset()
        selected = self.get_export_fields(export_fields)
        headers = [str(field.column_name) for field in selected]
        paths = [field.attribute for field in selected]
        labels = {
            index: {code: str(label) for code, label in self.choice_columns[path].choices}
            for index, path in enumerate(paths)
            if path in self.choice_columns
        }
        phones = [index for index, path in enumerate(paths) if path in self.phone_columns]
        chunks = _clean_chunks(_value_chunks(queryset.values_list(*paths)), labels, neutralize_text, phones)
        return headers, chunks

    def export(self, queryset: QuerySet | None = None, **kwargs: Any) -> tablib.Dataset:
        # Not neutralised: the XLSX writer types text cells as strings, and
        # SafeCSV.export_data neutralises what it writes.
        headers, chunks = self._export_chunks(queryset, kwargs.get("export_fields"), neutralize_text=False)
        dataset = tablib.Dataset(headers=headers)
        # Rows go straight into tablib's storage: Dataset.append validates every
        # row's width, which the single values_list query already guarantees.
        data = dataset._data
        row_class = tablib.core.Row
        for chunk in chunks:
            data.extend(map(row_class, chunk))
        return dataset

    def export_csv(self, queryset: QuerySet | None = None, **kwargs: Any) -> str:
        """`SafeCSV().export_data(self.export(...))` without the tablib rows in
        between (a fifth of a 100,000-row CSV export)."""
        headers, chunks = self._export_chunks(queryset, kwargs.get("export_fields"), neutralize_text=True)
        buffer, writer = excel_csv_writer()
        writer.writerow(headers)
        for chunk in chunks:
            writer.writerows(chunk)
        return buffer.getvalue()


def _clean_chunks(
    chunks: Iterator[list[tuple]],
    labels: dict[int, dict[str, str]],
    neutralize_text: bool,
    phones: list[int] | None = None,
) -> Iterator[Any]:
    prefixes = frozenset(FORMULA_PREFIXES)
    local = timezone.get_current_timezone()
    for chunk in chunks:
        # A column holds one type (or None): choices become labels, text cells
        # are neutralised and datetimes shown in local time; the other columns
        # are left alone. Column by column, as comprehensions: the cheapest
        # per-cell loop; it runs a million times per 100,000 rows.
        texts, times = _typed_columns(chunk)
        columns: list[Any] = list(zip(*chunk, strict=True))
        for index, names in labels.items():
            columns[index] = [names.get(value, value) for value in columns[index]]
        for index in phones or ():
            columns[index] = [format_phone(value) if value else value for value in columns[index]]
        if neutralize_text:
            for index in texts:
                columns[index] = [
                    "'" + value if value and value[0] in prefixes else value for value in columns[index]
                ]
        for index in times:
            columns[index] = [
                None if value is None else value.astimezone(local).replace(tzinfo=None, microsecond=0)
                for value in columns[index]
            ]
        yield zip(*columns, strict=True)


def _typed_columns(chunk: list[tuple]) -> tuple[list[int], list[int]]:
    """Positions of the text and of the datetime columns, by their first value that is not None."""
    texts: list[int] = []
    times: list[int] = []
    for index in range(len(chunk[0])):
        kind = next((row[index].__class__ for row in chunk if row[index] is not None), None)
        if kind is str:
            texts.append(index)
        elif kind is datetime.datetime:
            times.append(index)
    return texts, times


class LeadResource(ExplicitExportResource):
    choice_columns: ClassVar[dict[str, type[TextChoices]]] = {"status": LeadStatus}
    phone_columns: ClassVar[frozenset[str]] = frozenset({"phone"})

    id = column("id", "ID")
    first_name = column("first_name", "First name")
    last_name = column("last_name", "Last name")
    email = column("email", "E-mail")
    phone = column("phone", "Phone")
    company = column("company", "Company")
    campaign = column("campaign__name", "Campaign")
    status = column("status", "Status")
    owner = column("owner__username", "Owner")
    created_at = column("created_at", "Created")
    converted_at = column("converted_at", "Converted at")
    notes = column("notes", "Notes")

    class Meta:
        model = Lead
        name = _("Leads")
        fields: ClassVar = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "company",
            "campaign",
            "status",
            "owner",
            "created_at",
            "converted_at",
            "notes",
        ]
        export_order = fields


class ServiceResource(ExplicitExportResource):
    id = column("id", "ID")
    name = column("name", "Name")
    description = column("description", "Description")
    price = column("price", "Price")
    is_active = column("is_active", "Active")

    class Meta:
        model = Service
        name = _("Services")
        fields: ClassVar = ["id", "name", "description", "price", "is_active"]
        export_order = fields


class CampaignResource(ExplicitExportResource):
    choice_columns: ClassVar[dict[str, type[TextChoices]]] = {"channel": Channel}

    id = column("id", "ID")
    name = column("name", "Name")
    service = column("service__name", "Service")
    channel = column("channel", "Channel")
    budget = column("budget", "Budget")
    start_date = column("start_date", "Start date")
    end_date = column("end_date", "End date")

    class Meta:
        model = Campaign
        name = _("Campaigns")
        fields: ClassVar = ["id", "name", "service", "channel", "budget", "start_date", "end_date"]
        export_order = fields


class AdSpendResource(ExplicitExportResource):
    date = column("date", "Date")
    campaign = column("campaign__name", "Campaign")
    source = column("source", "Source")
    amount = column("amount", "Amount")

    class Meta:
        model = AdSpend
        name = _("Ad spend")
        fields: ClassVar = ["date", "campaign", "source", "amount"]
        export_order = fields


class CustomerResource(ExplicitExportResource):
    phone_columns: ClassVar[frozenset[str]] = frozenset({"lead__phone"})

    id = column("id", "ID")
    first_name = column("lead__first_name", "First name")
    last_name = column("lead__last_name", "Last name")
    email = column("lead__email", "E-mail")
    phone = column("lead__phone", "Phone")
    company = column("lead__company", "Company")
    campaign = column("lead__campaign__name", "Campaign")
    account_manager = column("account_manager__username", "Account manager")
    created_at = column("created_at", "Customer since")

    class Meta:
        model = Customer
        name = _("Customers")
        fields: ClassVar = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "company",
            "campaign",
            "account_manager",
            "created_at",
        ]
        export_order = fields


class ContractResource(ExplicitExportResource):
    id = column("id", "ID")
    name = column("name", "Name")
    customer_first_name = column("customer__lead__first_name", "Customer first name")
    customer_last_name = column("customer__lead__last_name", "Customer last name")
    customer_email = column("customer__lead__email", "Customer e-mail")
    service = column("service__name", "Service")
    amount = column("amount", "Amount")
    start_date = column("start_date", "Start date")
    end_date = column("end_date", "End date")
    signed_at = column("signed_at", "Signed on")

    class Meta:
        model = Contract
        name = _("Contracts")
        fields: ClassVar = [
            "id",
            "name",
            "customer_first_name",
            "customer_last_name",
            "customer_email",
            "service",
            "amount",
            "start_date",
            "end_date",
            "signed_at",
        ]
        export_order = fields


def _rows(dataset: tablib.Dataset) -> Iterator[Iterable[Any]]:
    yield dataset.headers or []
    # The rows' own lists: iterating a tablib Row goes through a generator per row.
    yield from (row._row for row in dataset._data)


def excel_csv_writer() -> tuple[io.StringIO, Any]:
    """A CSV writer into a buffer that starts with a BOM, so Excel reads the
    UTF-8 (Cyrillic) right."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    return buffer, csv.writer(buffer, lineterminator="\r\n")


def neutralize_row(row: Iterable[Any]) -> list[Any]:
    return [neutralize(value) if isinstance(value, str) else value for value in row]


class SafeCSV(base_formats.CSV):
    """CSV in UTF-8 with BOM (so Excel opens Cyrillic correctly), text cells
    neutralised against formulas."""

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> str:
        buffer, writer = excel_csv_writer()
        writer.writerows(map(neutralize_row, _rows(dataset)))
        return buffer.getvalue()


# Column widths are measured on the header and the first rows: enough to fit
# what a column typically holds without reading 100,000 rows twice.
WIDTH_SAMPLE_ROWS = 500
MIN_WIDTH = 6
MAX_WIDTH = 60
# As openpyxl's default formats show them ("2026-03-01 10:30:00", "2026-03-01").
DATETIME_WIDTH = 19
DATE_WIDTH = 10


def _shown_length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime.datetime):
        return DATETIME_WIDTH
    if isinstance(value, datetime.date):
        return DATE_WIDTH
    return max((len(line) for line in str(value).splitlines()), default=0)


def column_widths(rows: Iterable[Iterable[Any]]) -> list[float]:
    """Per column, a width (in characters) that fits its longest value among `rows`."""
    widths: list[int] = []
    for row in rows:
        for index, value in enumerate(row):
            length = _shown_length(value)
            if index == len(widths):
                widths.append(length)
            elif length > widths[index]:
                widths[index] = length
    return [min(max(width + 2, MIN_WIDTH), MAX_WIDTH) for width in widths]


def write_xlsx_sheet(
    workbook: Any, title: str, rows: Iterable[Iterable[Any]], *, bold_rows: tuple[int, ...] = (0,)
) -> None:
    """A sheet of `rows` in openpyxl's streaming mode: text stays text (never
    a formula), dates are date cells in openpyxl's date formats, `bold_rows`
    (the header) bold, the header frozen, and columns as wide as their first
    rows need."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    illegal = ILLEGAL_CHARACTERS_RE.sub
    iterator = iter(rows)
    head = [list(row) for row in itertools.islice(iterator, WIDTH_SAMPLE_ROWS + 1)]
    sheet = workbook.create_sheet(title=title[:31] or "Export")
    for index, width in enumerate(column_widths(head), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    for number, row in enumerate(itertools.chain(head, iterator)):
        cells: list[Any] = []
        for value in row:
            if value.__class__ is str:
                # Control characters are illegal in XLSX XML.
                value = illegal("\N{REPLACEMENT CHARACTER}", value)
                # openpyxl takes a string starting with "=" for a formula and
                # any other for text: only those need an explicit string cell.
                if value[:1] == "=":
                    value = WriteOnlyCell(sheet, value=value)
                    value.data_type = "s"
            if number in bold_rows:
                if not isinstance(value, Cell):
                    value = WriteOnlyCell(sheet, value=value)
                value.font = bold
            cells.append(value)
        sheet.append(cells)


class SafeXLSX(base_formats.XLSX):
    """XLSX written in openpyxl's streaming mode (see `write_xlsx_sheet`)."""

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> bytes:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        write_xlsx_sheet(workbook, str(dataset.title or "Export"), _rows(dataset))
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


EXPORT_FORMATS = [SafeCSV, SafeXLSX]
