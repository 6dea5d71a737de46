"""A small Excel workbook writer (Office Open XML), written directly for speed.

XlsxWriter takes ~10 ms for a workbook of fifty rows, more than serving a JSON answer twenty
times (``make bench`` measures both writers on the served answers, see docs/benchmarks.md),
so helsestat writes the parts itself. A workbook here is a list of sheets, each a header row
and row fragments (``<row>`` elements whose cells carry no references, which the format
allows and Excel, LibreOffice and openpyxl read in order); a sheet may freeze its header,
filter its columns and carry notes (comments) on cells. The parts are deflated and put in a
zip container with fixed timestamps, so equal data gives equal bytes.

Cells (:func:`text_cell`, :func:`number_cell`, :data:`BLANK`, :data:`SUPPRESSED`): text as
inline strings (``0301`` keeps its leading zero), numbers as numbers, a missing value as an
empty cell, a suppressed one as an empty grey cell. Styles: 0 plain, 1 bold, 2 grey.

>>> import io, openpyxl
>>> sheet = Sheet("data", ("antall",), [b"<row><c><v>7</v></c></row>"], freeze=True)
>>> book = openpyxl.load_workbook(io.BytesIO(workbook([sheet])))
>>> [[c.value for c in row] for row in book["data"].iter_rows()], book["data"].freeze_panes
([['antall'], [7]], 'A2')
"""

from __future__ import annotations

import functools
import itertools
import math
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from xml.sax.saxutils import escape

_MAIN: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_TYPES: Final = "http://schemas.openxmlformats.org/package/2006/content-types"
_HEAD: Final = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_DOS_TIME, _DOS_DATE = 0, (1980 - 1980) << 9 | 1 << 5 | 1  # 1980-01-01 00:00
#: Excel's row limit, header included.
MAX_ROWS: Final = 1_048_576
BOLD, GREY = 1, 2
BLANK: Final = "<c/>"
SUPPRESSED: Final = f'<c s="{GREY}"/>'
_STYLES: Final = (
    _HEAD + f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFD9D9D9"/><bgColor indexed="64"/>'
    "</patternFill></fill></fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
    "</borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="2" borderId="0" xfId="0" applyFill="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name, header row (bold), the row fragments that follow, whether
    the header is frozen and the columns filtered, column widths, and notes as
    ``(row, column, text)`` (0-based, the header is row 0)."""

    name: str
    header: tuple[str, ...]
    rows: Sequence[bytes]
    freeze: bool = False
    autofilter: bool = False
    widths: tuple[float, ...] = ()
    notes: tuple[tuple[int, int, str], ...] = ()
    #: The same for every workbook of a table (its rows a tuple): deflated once, kept.
    constant: bool = False


@functools.lru_cache(maxsize=1 << 16)  # codes and labels repeat from row to row
def text_cell(value: str, style: int = 0) -> str:
    """An inline-string cell.

    >>> text_cell("a<b")
    '<c t="inlineStr"><is><t>a&lt;b</t></is></c>'
    """
    attrs = f' s="{style}"' if style else ""
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f'<c t="inlineStr"{attrs}><is><t{space}>{escape(value)}</t></is></c>'


def number_cell(value: float) -> str:
    """A number cell (NaN and infinities, which a cell cannot hold, as text).

    >>> number_cell(7), number_cell(4756525.0)
    ('<c><v>7</v></c>', '<c><v>4756525.0</v></c>')
    """
    if isinstance(value, int) or math.isfinite(value):
        return f"<c><v>{value!r}</v></c>"
    return text_cell("NaN" if math.isnan(value) else "INF" if value > 0 else "-INF")


def column_name(index: int) -> str:
    """Excel's name of a 0-based column.

    >>> column_name(0), column_name(27)
    ('A', 'AB')
    """
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


@functools.lru_cache(maxsize=64)
def _header_row(header: tuple[str, ...]) -> bytes:
    """The bold header row (the same for every workbook of a table)."""
    return ("<row>" + "".join(text_cell(h, BOLD) for h in header) + "</row>").encode()


#: Rows (or notes) written and deflated in one block of a large sheet: each block is a
#: short stretch of work, so a thread writing a whole table hands the interpreter over often
#: (zlib releases it while it deflates).
BLOCK = 2_000

# (deflated parts, compressed size, local header with the name, the central directory
# record up to its offset field, the name): everything of an entry but where it lands
_Entry = tuple[tuple[bytes, ...], int, bytes, bytes, bytes]


def _entry(name: str, data: bytes) -> _Entry:
    """An entry made once and kept (the package's parts): always deflated."""
    return _entry_of_parts(name, (data,), store=False)


#: An entry of at most this many bytes is stored, not deflated: a
#: deflater costs a few microseconds to set up whatever it is given, more than a small
#: entry (a short answer's sheet, the notes of a few suppressed cells) saves on the wire.
STORE_MAX = 4_096


def _entry_of_parts(name: str, parts: Iterable[bytes], store: bool = True) -> _Entry:
    """An entry of the concatenated ``parts``, deflated part by part (the same bytes as
    deflating them joined: zlib's output does not depend on how its input is split); parts of
    at most :data:`STORE_MAX` bytes in all are stored as they are, unless ``store`` is false.

    >>> _entry_of_parts("a.xml", [b"<a/>"])[0], _entry_of_parts("a.xml", [b"<a/>"])[1]
    ((b'<a/>',), 4)
    """
    items = iter(parts)
    head: list[bytes] = []  # the parts read before deciding
    total = 0
    for part in items:
        head.append(part)
        total += len(part)
        if total > STORE_MAX:
            break
    else:  # all of it within STORE_MAX bytes
        if store:
            data = b"".join(head)
            return _headed(name, (data,), total, zlib.crc32(data), total, 0)
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    packed: list[bytes] = []
    crc = raw = 0
    for part in itertools.chain(head, items):
        crc = zlib.crc32(part, crc)
        raw += len(part)
        out = packer.compress(part)
        if out:
            packed.append(out)
    packed.append(packer.flush())
    return _headed(name, tuple(packed), sum(map(len, packed)), crc, raw, 8)


def _headed(
    name: str, packed: tuple[bytes, ...], size: int, crc: int, raw: int, method: int
) -> _Entry:
    """The entry of ``packed`` (``size`` bytes; ``raw`` bytes with CRC ``crc`` before
    compression by ``method``: 8 deflate, 0 stored) with its headers."""
    encoded = name.encode()
    local = struct.pack(
        "<IHHHHHIIIHH",
        *(0x04034B50, 20, 0, method, _DOS_TIME, _DOS_DATE, crc, size, raw, len(encoded), 0),
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHI",
        *(0x02014B50, 20, 20, 0, method, _DOS_TIME, _DOS_DATE, crc, size, raw, len(encoded)),
        *(0, 0, 0, 0, 0),
    )
    return packed, size, local + encoded, central, encoded


@functools.lru_cache(maxsize=256)
def _static_entry(name: str, text: str) -> _Entry:
    return _entry(name, text.encode())


def _zip(entries: Sequence[_Entry]) -> list[bytes]:
    """A zip archive of already-deflated entries (APPNOTE 4.3: local headers, central
    directory, end record), in parts."""
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for packed, size, local, record, name in entries:  # the headers are made with the entry
        central += (record, offset.to_bytes(4, "little"), name)
        out.append(local)
        out += packed
        offset += len(local) + size
    directory = b"".join(central)
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), offset, 0
    )
    out += (directory, end)
    return out


def _blocks(items: Sequence[bytes]) -> Iterator[bytes]:
    """``items`` joined :data:`BLOCK` at a time."""
    for start in range(0, len(items), BLOCK):
        yield b"".join(items[start : start + BLOCK])


@functools.lru_cache(maxsize=256)
def _sheet_head(freeze: bool, widths: tuple[float, ...]) -> bytes:
    """A sheet's XML up to its rows (the same for every answer of a table)."""
    views = ""
    if freeze:
        views = (
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        )
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'
        for i, w in enumerate(widths)
    )
    return (
        f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">{views}'
        + (f"<cols>{cols}</cols>" if cols else "")
        + "<sheetData>"
    ).encode()


def _sheet_parts(sheet: Sheet, has_notes: bool) -> Iterator[bytes]:
    head = _sheet_head(sheet.freeze, sheet.widths)
    filtered = len(sheet.header) if sheet.autofilter else 0
    tail = _sheet_tail(filtered, max(len(sheet.rows), 1) + 1, has_notes)
    header = _header_row(sheet.header) if sheet.header else b""
    if len(sheet.rows) <= BLOCK:  # one piece: one call to deflate
        yield b"".join((head, header, *sheet.rows, tail))
        return
    yield head + header
    yield from _blocks(sheet.rows)
    yield tail


@functools.lru_cache(maxsize=1024)
def _sheet_tail(filtered: int, last_row: int, has_notes: bool) -> bytes:
    """A sheet's XML after its rows: the autofilter over the first ``filtered`` columns (none
    for 0) down to ``last_row``, and the link to its notes."""
    tail = "</sheetData>"
    if filtered:
        tail += f'<autoFilter ref="A1:{column_name(filtered - 1)}{last_row}"/>'
    if has_notes:
        tail += '<legacyDrawing r:id="rId1"/>'
    return (tail + "</worksheet>").encode()


#: Entries of constant sheets by (id of the sheet, position, notes); the sheet is kept with
#: its entry, so its id is not reused meanwhile.
_CONSTANT: dict[tuple[int, int, bool], tuple[Sheet, _Entry]] = {}


def _sheet_entry(i: int, sheet: Sheet, has_notes: bool) -> _Entry:
    name = f"xl/worksheets/sheet{i + 1}.xml"
    if not sheet.constant:
        return _entry_of_parts(name, _sheet_parts(sheet, has_notes))
    key = (id(sheet), i, has_notes)
    found = _CONSTANT.get(key)
    if found is None or found[0] is not sheet:
        found = (sheet, _entry_of_parts(name, _sheet_parts(sheet, has_notes), store=False))
        if len(_CONSTANT) >= 256:
            _CONSTANT.clear()
        _CONSTANT[key] = found
    return found[1]


def _comments_parts(notes: Sequence[tuple[int, int, str]]) -> Iterator[bytes]:
    yield (
        f'{_HEAD}<comments xmlns="{_MAIN}"><authors><author>helsestat</author></authors>'
        "<commentList>"
    ).encode()
    letters: dict[int, str] = {}  # a table's notes name a few columns and say a few things
    texts: dict[str, str] = {}
    for start in range(0, len(notes), BLOCK):
        out = []
        for r, c, text in notes[start : start + BLOCK]:
            column = letters.get(c)
            if column is None:
                column = letters[c] = column_name(c)
            escaped = texts.get(text)
            if escaped is None:
                escaped = texts[text] = escape(text)
            out.append(
                f'<comment ref="{column}{r + 1}" authorId="0"><text><r><t>{escaped}'
                "</t></r></text></comment>"
            )
        yield "".join(out).encode()
    yield b"</commentList></comments>"


def _vml_parts(notes: Sequence[tuple[int, int, str]]) -> Iterator[bytes]:
    """The legacy drawing Excel needs to show the notes (one hidden box per note)."""
    yield (
        b'<xml xmlns:v="urn:schemas-microsoft-com:vml" '
        b'xmlns:o="urn:schemas-microsoft-com:office:office" '
        b'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        b'<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
        b'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
        b'<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
    )
    for start in range(0, len(notes), BLOCK):
        yield "".join(
            f'<v:shape id="_x0000_s{1025 + start + i}" type="#_x0000_t202" '
            'style="position:absolute;width:144pt;height:60pt;z-index:1;visibility:hidden" '
            'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            '<v:textbox/><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:AutoFill>False</x:AutoFill><x:Row>{r}</x:Row><x:Column>{c}</x:Column>"
            "</x:ClientData></v:shape>"
            for i, (r, c, _) in enumerate(notes[start : start + BLOCK])
        ).encode()
    yield b"</xml>"


def _w3cdtf(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def workbook(
    sheets: Sequence[Sheet],
    *,
    title: str = "",
    subject: str = "",
    created: datetime = datetime(1980, 1, 1),
) -> bytes:
    """The workbook of ``sheets`` (the first is active), with its document properties."""
    return b"".join(workbook_parts(sheets, title=title, subject=subject, created=created))


def workbook_parts(
    sheets: Sequence[Sheet],
    *,
    title: str = "",
    subject: str = "",
    created: datetime = datetime(1980, 1, 1),
) -> list[bytes]:
    """:func:`workbook` in parts (a large sheet is written and deflated a block at a time).

    >>> sheet = Sheet("data", ("antall",), [b"<row><c><v>7</v></c></row>"])
    >>> b"".join(workbook_parts([sheet])) == workbook([sheet])
    True
    """
    noted = tuple(i for i, s in enumerate(sheets) if s.notes)
    entries = list(_package(tuple(s.name for s in sheets), noted, title, subject, created))
    for i, sheet in enumerate(sheets):
        entries.append(_sheet_entry(i, sheet, i in noted))
        if i in noted:
            entries.append(
                _static_entry(
                    f"xl/worksheets/_rels/sheet{i + 1}.xml.rels",
                    f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
                    f'<Relationship Id="rId1" Type="{_REL}/vmlDrawing" '
                    f'Target="../drawings/vmlDrawing{i + 1}.vml"/>'
                    f'<Relationship Id="rId2" Type="{_REL}/comments" '
                    f'Target="../comments{i + 1}.xml"/></Relationships>',
                )
            )
            entries.append(_entry_of_parts(f"xl/comments{i + 1}.xml", _comments_parts(sheet.notes)))
            entries.append(
                _entry_of_parts(f"xl/drawings/vmlDrawing{i + 1}.vml", _vml_parts(sheet.notes))
            )
    return _zip(entries)


@functools.lru_cache(maxsize=256)
def _package(
    names: tuple[str, ...], noted: tuple[int, ...], title: str, subject: str, created: datetime
) -> tuple[_Entry, ...]:
    """The parts around the sheets (the same for every workbook of a table): content
    types, relationships, properties, workbook and styles, deflated once."""
    types = [
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>',
        '<Default Extension="xml" ContentType="application/xml"/>',
        '<Default Extension="vml" ContentType="application/'
        'vnd.openxmlformats-officedocument.vmlDrawing"/>',
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>',
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>',
        '<Override PartName="/docProps/core.xml" ContentType="application/'
        'vnd.openxmlformats-package.core-properties+xml"/>',
    ]
    types += [
        f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="{_CT}.worksheet+xml"/>'
        for i in range(len(names))
    ]
    types += [
        f'<Override PartName="/xl/comments{i + 1}.xml" ContentType="{_CT}.comments+xml"/>'
        for i in noted
    ]
    core = (
        f"{_HEAD}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title><dc:subject>{escape(subject)}</dc:subject>"
        "<dc:creator>helsestat</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{_w3cdtf(created)}</dcterms:created>'
        "</cp:coreProperties>"
    )
    book_sheets = "".join(
        f'<sheet name="{escape(name)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
        for i, name in enumerate(names)
    )
    book_rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="{_REL}/worksheet" '
        f'Target="worksheets/sheet{i + 1}.xml"/>'
        for i in range(len(names))
    )
    return (
        _static_entry(
            "[Content_Types].xml",
            _HEAD + f'<Types xmlns="{_TYPES}">' + "".join(types) + "</Types>",
        ),
        _static_entry(
            "_rels/.rels",
            f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" '
            'Target="docProps/core.xml"/></Relationships>',
        ),
        _entry("docProps/core.xml", core.encode()),
        _static_entry(
            "xl/workbook.xml",
            f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{book_sheets}</sheets>'
            "</workbook>",
        ),
        _static_entry(
            "xl/_rels/workbook.xml.rels",
            f'{_HEAD}<Relationships xmlns="{_PKG_REL}">{book_rels}'
            f'<Relationship Id="rId{len(names) + 1}" Type="{_REL}/styles" '
            'Target="styles.xml"/></Relationships>',
        ),
        _static_entry("xl/styles.xml", _STYLES),
    )


__all__ = [
    "BLANK",
    "BLOCK",
    "BOLD",
    "GREY",
    "MAX_ROWS",
    "SUPPRESSED",
    "Sheet",
    "column_name",
    "number_cell",
    "text_cell",
    "workbook",
    "workbook_parts",
]
