"""The campaign report as a file: DESIGN.md's columns, one row per campaign in
the order the page shows them; numbers as numbers (XLSX) or plain decimals
(CSV); an empty cell where a ratio is undefined.

Made for Excel: the CSV starts with a byte-order mark (Excel reads it as UTF-8
only then), headers and channels are in the user's language, and the XLSX adds
a totals row, bold header and columns wide enough to read."""

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from crm_models.models import Channel
from crm_models.resources import write_xlsx_sheet
from crm_models.selectors.metrics import CampaignMetrics, CampaignRow, Figures

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
# In English these read as DESIGN.md's names.
HEADERS = {
    "campaign": _("Campaign"),
    "channel": _("Channel"),
    "leads": _("Leads"),
    "customers": _("Customers"),
    "conversion_rate": _("Conversion rate"),
    "revenue": _("Revenue"),
    "spend": _("Spend"),
    "roi": _("ROI"),
    "cpl": _("CPL"),
    "cac": _("CAC"),
}
TOTAL_LABEL = _("Total")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | Decimal | None


def headers() -> list[str]:
    return [str(HEADERS[column]) for column in COLUMNS]


def report_rows(rows: Iterable[CampaignRow]) -> Iterator[list[Cell]]:
    labels = {code: str(label) for code, label in Channel.choices}
    for row in rows:
        yield [row.campaign, labels.get(row.channel, row.channel), *figure_values(row)]


def figure_values(row: Figures) -> list[Cell]:
    return [
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


def csv_response(metrics: CampaignMetrics, rows: Iterable[CampaignRow]) -> HttpResponse:
    """`rows`: the metrics' rows in the page's order."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(headers())
    for values in report_rows(rows):
        writer.writerow([_csv_text(value) for value in values])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    return _attachment(response, filename(metrics, "csv"))


def xlsx_response(metrics: CampaignMetrics, rows: Iterable[CampaignRow]) -> HttpResponse:
    """`rows` in the page's order, then the totals row (as the page's footer)."""
    body = list(report_rows(rows))
    totals = [str(TOTAL_LABEL), None, *figure_values(metrics.totals)]
    workbook = Workbook(write_only=True)
    write_xlsx_sheet(workbook, "campaign-metrics", [headers(), *body, totals], bold_rows=(0, len(body) + 1))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    return _attachment(response, filename(metrics, "xlsx"))
