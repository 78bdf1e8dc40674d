"""The rows of an upload that cannot be imported, as the file they came in.

The marketer fixes the rows in the spreadsheet and uploads the file again as
it is: so the rows are copied exactly as uploaded (a CSV in its encoding,
delimiter and line ends; an XLSX with its cells' own types), under the
original header, with one column added at the end that says what is wrong.
That column's header is not a column the importer reads, so a re-upload
ignores it. Cells are not neutralised against formulas: they are the user's
own upload, and a changed cell would no longer be "as uploaded".
"""

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

from .reader import Table

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ErrorFile:
    content: bytes
    content_type: str
    extension: str


def error_file_build(
    data: bytes, table: Table, messages: Mapping[int, str], *, error_header: str
) -> ErrorFile:
    """The header and the rows numbered in `messages` (spreadsheet row numbers,
    as `Table.rows` numbers them) of the uploaded `data`, each with its message."""
    if table.file_format == "xlsx":
        return ErrorFile(_xlsx(data, messages, error_header), XLSX_CONTENT_TYPE, "xlsx")
    return ErrorFile(_csv(data, table, messages, error_header), "text/csv", "csv")


def _padded(cells: list, width: int, fill: object = "") -> list:
    return [*cells, *[fill] * (width - len(cells))]


def _csv(data: bytes, table: Table, messages: Mapping[int, str], error_header: str) -> bytes:
    text = data.decode(table.encoding)
    terminator = "\r\n" if "\r\n" in text[:65536] else "\n"
    output = io.StringIO()
    writer = csv.writer(output, delimiter=table.delimiter, lineterminator=terminator)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=table.delimiter)
    width = len(table.header)
    for number, cells in enumerate(reader, start=1):
        if number == 1:
            writer.writerow([*_padded(cells, width), error_header])
        elif number in messages:
            writer.writerow([*_padded(cells, width), messages[number]])
    # A message the file's encoding cannot hold (a Windows-1251 file) keeps its
    # other characters; the rows themselves came in that encoding.
    return output.getvalue().encode(table.encoding, errors="replace")


def _xlsx(data: bytes, messages: Mapping[int, str], error_header: str) -> bytes:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    source = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    target = openpyxl.Workbook(write_only=True)
    try:
        sheet = source.worksheets[0]
        out = target.create_sheet(title=sheet.title)
        width = 0
        last = max(messages, default=1)
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > last:
                break
            if number == 1:
                header = list(values)
                while header and header[-1] in (None, ""):
                    header.pop()
                width = len(header)
                out.append([*header, error_header])
            elif number in messages:
                row = list(values)
                # Empty cells past the header's last column would push the error column right.
                while len(row) > width and row[-1] in (None, ""):
                    row.pop()
                cells = []
                for value in _padded(row, width, None):
                    cell = WriteOnlyCell(out, value=value)
                    if isinstance(value, str):
                        # Text stays text: "=1+1" typed as text must not come back a formula.
                        cell.data_type = "s"
                    cells.append(cell)
                out.append([*cells, messages[number]])
    finally:
        source.close()
    buffer = io.BytesIO()
    target.save(buffer)
    return buffer.getvalue()
