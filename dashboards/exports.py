"""The campaign report as a file: DESIGN.md's exact columns, one row per
campaign; numbers as numbers (XLSX) or plain decimals (CSV); an empty cell
where a ratio is undefined."""

import csv
import io
from collections.abc import Iterator
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from crm_models.selectors.metrics import CampaignMetrics, CampaignRow

COLUMNS = [
    "campaign",
    "channel",
    "leads",
    "customers",
    "conversion_rate",
    "revenue",
    "spend",
    "roi",
    "cpl",
    "cac",
]
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | Decimal | None


def report_rows(metrics: CampaignMetrics) -> Iterator[list[Cell]]:
    for row in metrics.rows:
        yield row_values(row)


def row_values(row: CampaignRow) -> list[Cell]:
    return [
        row.campaign,
        row.channel,
        row.leads,
        row.customers,
        row.conversion_rate,
        row.revenue,
        row.spend,
        row.roi,
        row.cpl,
        row.cac,
    ]


def filename(metrics: CampaignMetrics, extension: str) -> str:
    return f"campaign-metrics_{metrics.date_from.isoformat()}_{metrics.date_to.isoformat()}.{extension}"


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return str(value)


def csv_response(metrics: CampaignMetrics) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for values in report_rows(metrics):
        writer.writerow([_csv_text(value) for value in values])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    return _attachment(response, filename(metrics, "csv"))


def xlsx_response(metrics: CampaignMetrics) -> HttpResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("campaign-metrics")
    sheet.append(COLUMNS)
    for values in report_rows(metrics):
        cells: list[WriteOnlyCell] = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                # A name like "=HYPERLINK(...)" stays text, never a formula.
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    return _attachment(response, filename(metrics, "xlsx"))
