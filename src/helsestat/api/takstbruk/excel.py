"""A minimal Excel workbook (Office Open XML), written directly for speed.

XlsxWriter takes ~20 ms for any workbook, more than serving a JSON answer a hundred times,
so the takstbruk export writes the few parts a one-sheet workbook needs itself: the package
parts are constant (compressed once), the worksheet is the header row plus one ``<row>``
fragment per data row (cells without references, which the format allows and Excel,
LibreOffice and openpyxl read in order), deflated, and the zip container is assembled here
with fixed timestamps so equal data gives equal bytes.

Cells: text as inline strings (``0301`` keeps its leading zero), numbers as numbers, a
missing value as an empty cell; the header row is bold and frozen.

>>> import io, openpyxl
>>> sheet = "<row><c><v>7</v></c></row>"
>>> book = openpyxl.load_workbook(io.BytesIO(workbook(["antall"], [sheet.encode()])))
>>> [[c.value for c in row] for row in book["data"].iter_rows()]
[['antall'], [7]]
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Sequence
from typing import Final
from xml.sax.saxutils import escape

MEDIA_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MAIN: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD: Final = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_DOS_TIME, _DOS_DATE = 0, (1980 - 1980) << 9 | 1 << 5 | 1  # 1980-01-01 00:00

_STATIC_PARTS: Final[tuple[tuple[str, str], ...]] = (
    (
        "[Content_Types].xml",
        _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>",
    ),
    (
        "_rels/.rels",
        _HEAD + f'<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
    ),
    (
        "xl/workbook.xml",
        _HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheets><sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>',
    ),
    (
        "xl/_rels/workbook.xml.rels",
        _HEAD + f'<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
        "</Relationships>",
    ),
    (
        "xl/styles.xml",
        _HEAD + f'<styleSheet xmlns="{_MAIN}">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
        "</borders>"
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>",
    ),
)
_SHEET_OPEN: Final = (
    _HEAD + f'<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    "</sheetView></sheetViews><sheetData>"
).encode()
_SHEET_CLOSE: Final = b"</sheetData></worksheet>"


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _entry(name: str, data: bytes) -> tuple[bytes, bytes, int, int, int]:
    """(name, deflated data, crc32, compressed size, uncompressed size)."""
    packed = _deflate(data)
    return name.encode(), packed, zlib.crc32(data), len(packed), len(data)


_STATIC: Final = [_entry(name, text.encode()) for name, text in _STATIC_PARTS]


def _zip(entries: Sequence[tuple[bytes, bytes, int, int, int]]) -> bytes:
    """A zip archive of already-deflated entries (APPNOTE 4.3: local headers, central
    directory, end record)."""
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, packed, crc, size, raw in entries:
        local = struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, _DOS_TIME, _DOS_DATE, crc, size, raw,
            len(name), 0,
        )  # fmt: skip
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                _DOS_TIME,
                _DOS_DATE,
                crc,
                size,
                raw,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
        out += (local, name, packed)
        offset += len(local) + len(name) + len(packed)
    directory = b"".join(central)
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), offset, 0
    )
    return b"".join(out) + directory + end


def text_cell(value: str) -> str:
    """An inline-string cell.

    >>> text_cell("a<b")
    '<c t="inlineStr"><is><t>a&lt;b</t></is></c>'
    """
    return f'<c t="inlineStr"><is><t>{escape(value)}</t></is></c>'


@functools.lru_cache(maxsize=16)
def _header_row(header: tuple[str, ...]) -> bytes:
    """The bold header row (the same for every workbook of a route)."""
    cells = "".join(f'<c t="inlineStr" s="1"><is><t>{escape(h)}</t></is></c>' for h in header)
    return f"<row>{cells}</row>".encode()


def workbook(header: Sequence[str], rows: Sequence[bytes]) -> bytes:
    """A one-sheet workbook (sheet ``data``): the bold ``header`` row, then ``rows``, each
    a ``<row>…</row>`` fragment of cells in column order."""
    sheet = b"".join((_SHEET_OPEN, _header_row(tuple(header)), *rows, _SHEET_CLOSE))
    return _zip([*_STATIC, _entry("xl/worksheets/sheet1.xml", sheet)])
