"""A small .xlsx written part by part (so each part can be broken on purpose)
and the broken variants of it that the import must refuse with a message."""

import io
import struct
import zipfile
from collections.abc import Callable
from xml.sax.saxutils import escape

SHEET = "xl/worksheets/sheet1.xml"
SHARED_STRINGS = "xl/sharedStrings.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _column(index: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[index]


def workbook_parts(rows: list[list[str]]) -> dict[str, bytes]:
    """The parts of a workbook whose one sheet holds `rows`, every cell a
    shared string (as Excel saves text)."""
    strings: list[str] = []
    sheet_rows = []
    for number, row in enumerate(rows, start=1):
        cells = []
        for index, value in enumerate(row):
            strings.append(value)
            cells.append(f'<c r="{_column(index)}{number}" t="s"><v>{len(strings) - 1}</v></c>')
        sheet_rows.append(f'<row r="{number}">{"".join(cells)}</row>')
    shared = "".join(f"<si><t>{escape(value)}</t></si>" for value in strings)
    return {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            b"</Types>"
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
            '<sheets><sheet name="Leads" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ).encode(),
        SHEET: (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'
            f"<sheetData>{''.join(sheet_rows)}</sheetData></worksheet>"
        ).encode(),
        SHARED_STRINGS: (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(strings)}"'
            f' uniqueCount="{len(strings)}">{shared}</sst>'
        ).encode(),
    }


def zip_parts(parts: dict[str, bytes], stored: frozenset[str] = frozenset()) -> bytes:
    """The parts zipped in order, deflated except those named in `stored`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            method = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return buffer.getvalue()


def _data_offset(data: bytes, name: str) -> tuple[int, int]:
    """Where the packed bytes of part `name` start in the archive, and how many."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    return info.header_offset + 30 + name_length + extra_length, info.compress_size


def bad_crc(rows: list[list[str]]) -> bytes:
    """The sheet stored unpacked, one byte of it changed: its CRC no longer matches."""
    data = zip_parts(workbook_parts(rows), stored=frozenset({SHEET}))
    start, size = _data_offset(data, SHEET)
    part = data[start : start + size]
    position = part.index(b"<sheetData>") + 1
    changed = part[:position] + b"S" + part[position + 1 :]  # <SheetData>: same length
    return data[:start] + changed + data[start + size :]


def corrupt_deflate(rows: list[list[str]]) -> bytes:
    """The sheet's deflate stream starts with a block of the reserved type."""
    data = zip_parts(workbook_parts(rows))
    start, _size = _data_offset(data, SHEET)
    return data[:start] + b"\xff" * 8 + data[start + 8 :]


def truncated_sheet(rows: list[list[str]]) -> bytes:
    parts = workbook_parts(rows)
    parts[SHEET] = parts[SHEET][: len(parts[SHEET]) * 2 // 3]
    return zip_parts(parts)


def malformed_shared_strings(rows: list[list[str]]) -> bytes:
    parts = workbook_parts(rows)
    parts[SHARED_STRINGS] = parts[SHARED_STRINGS].replace(b"</t></si>", b"</si>", 1)
    return zip_parts(parts)


BROKEN: dict[str, Callable[[list[list[str]]], bytes]] = {
    "bad CRC in the sheet": bad_crc,
    "corrupted deflate stream": corrupt_deflate,
    "truncated sheet XML": truncated_sheet,
    "malformed sharedStrings.xml": malformed_shared_strings,
}
