"""Excel (``application/vnd.openxmlformats-officedocument.spreadsheetml.sheet``).

Two sheets:

* ``data``: a bold, frozen header row with an autofilter, then one row per selected row with
  the view's fields (by default the published columns). Text fields are text cells (``0301``
  keeps its leading zero), measures are number cells, and ``status`` and ``status_rule`` are
  text. A suppressed measure is an empty grey cell with a note saying why, e.g.
  ``primary: count<=5``.
* ``about``: the title, table name, release and notes, and the legend of the statuses.

The file is byte-for-byte reproducible (:mod:`.xlsx_file`): the document's created date comes
from the release id when it starts with a date (``2024-06-01…``), else 1980-01-01.

>>> import io, pyarrow as pa, openpyxl
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("kommune",), ("antall",), pa.table({"kommune": ["0301"],
...     "antall": [None], "status": ["primary"], "status_rule": ["count<=5"]}))
>>> sheet = openpyxl.load_workbook(io.BytesIO(render_xlsx(t)))["data"]
>>> sheet["A2"].value, sheet["B2"].value, sheet["B2"].comment.text
('0301', None, 'primary: count<=5')
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any, Final

import numpy as np

from helsestat.errors import HelsestatError
from helsestat.model import RULE_COLUMN, STATUS_COLUMN, ProtectedTable
from helsestat.publish.format import Format
from helsestat.publish.formats.xlsx_file import (
    BLANK,
    BOLD,
    MAX_ROWS,
    SUPPRESSED,
    Sheet,
    number_cell,
    text_cell,
    workbook_parts,
)
from helsestat.publish.index import Selection, TableIndex
from helsestat.publish.published import STATUS_LEGEND
from helsestat.publish.views import (
    DEFAULT,
    PIECE_ROWS,
    View,
    field_names,
    fragments,
    per_view,
    pieces,
    with_status,
)

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUPPRESSED_FILL: Final = "#D9D9D9"
_EPOCH: Final = datetime(1980, 1, 1)
_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


def _guarded_fields(selection: Selection, view: View) -> list[bool]:
    """Per field of the view: does it hold a measure a suppressed row has no value of?"""
    guarded = set(selection.index.source.suppressible)
    if view.fields is None:
        return [n in guarded for n in selection.index.names]
    flags = [f.source in guarded for f in view.fields]
    return [*flags, False, False] if with_status(selection, view) else flags


def _fields(selection: Selection, view: View) -> tuple[tuple[str, ...], list[bool], int | None]:
    """The field names, which of them are guarded, and where the status is."""
    names = field_names(selection, view)
    status_at = names.index(STATUS_COLUMN) if STATUS_COLUMN in names else None
    return names, _guarded_fields(selection, view), status_at


def render_rows(selection: Selection, view: View) -> bytes:
    """The selected rows as a workbook with a ``data`` and an ``about`` sheet."""
    return b"".join(render_parts(selection, view))


def render_parts(selection: Selection, view: View) -> list[bytes]:
    """:func:`render_rows` in parts (a large sheet written a block of rows at a time)."""
    index = selection.index
    table = index.source
    if len(selection) + 1 > MAX_ROWS:
        raise HelsestatError(
            "publish.too_many_rows",
            f"table {table.name!r} has {len(selection)} rows, more than an Excel sheet holds",
            hint="download it as csv or parquet",
            status=413,
        )
    names, guarded, status_at = per_view(selection, view, "xlsx", lambda: _fields(selection, view))

    def make(values: tuple[Any, ...]) -> bytes:
        suppressed = status_at is not None and values[status_at] != "published"
        cells = []
        for value, is_guarded in zip(values, guarded, strict=True):
            if value is None:
                cells.append(SUPPRESSED if suppressed and is_guarded else BLANK)
            elif isinstance(value, str):
                cells.append(text_cell(value))
            else:
                cells.append(number_cell(value))
        return ("<row>" + "".join(cells) + "</row>").encode()

    if len(selection) <= PIECE_ROWS:
        rows = fragments(selection, "xlsx", view, make)
    else:  # a piece at a time: short stretches of work
        rows = []
        for piece in pieces(selection):
            rows += fragments(piece, "xlsx", view, make)
    notes: list[tuple[int, int, str]] = []
    if status_at is not None and selection.suppressed:
        hidden = np.flatnonzero(~index.published[selection.rows])
        if len(hidden):
            columns = [j for j, is_guarded in enumerate(guarded) if is_guarded]
            for start in range(0, len(hidden), PIECE_ROWS):
                part = hidden[start : start + PIECE_ROWS]
                picked = selection.rows[part]
                statuses = index.column(STATUS_COLUMN, picked)
                rules = index.column(RULE_COLUMN, picked)
                for position, status, rule in zip(part.tolist(), statuses, rules, strict=True):
                    text = f"{status}: {rule}" if rule else str(status)
                    notes += [(position + 1, j, text) for j in columns]
    data = Sheet(
        "data",
        names,
        rows,
        freeze=True,
        autofilter=True,
        widths=_widths(names),
        notes=tuple(notes),
    )
    return workbook_parts(
        [data, _about(index)],
        title=table.title,
        subject=table.name,
        created=_created(table.release),
    )


@functools.lru_cache(maxsize=256)
def _widths(names: tuple[str, ...]) -> tuple[float, ...]:
    return tuple(float(max(10, len(n) + 2)) for n in names)


def _about(index: TableIndex) -> Sheet:
    """The ``about`` sheet of a table (made once per index: the same on every answer)."""
    found = index.constants.get("xlsx:about")
    if isinstance(found, Sheet):
        return found
    table = index.source
    lines: list[tuple[str, str]] = [
        ("title", table.title),
        ("table", table.name),
        ("release", table.release),
        *(("note", note) for note in table.notes),
    ]
    rows = [_pair(key, value) for key, value in lines]
    rows.append(b"<row/>")  # one empty row, then the legend with its own header
    rows.append(("<row>" + text_cell("status", BOLD) + text_cell("meaning", BOLD) + "</row>")
                .encode())  # fmt: skip
    rows += [_pair(status, meaning, bold=False) for status, meaning in STATUS_LEGEND.items()]
    sheet = Sheet("about", (), tuple(rows), widths=(12.0, 80.0), constant=True)
    index.constants["xlsx:about"] = sheet
    return sheet


def _pair(key: str, value: str, bold: bool = True) -> bytes:
    return ("<row>" + text_cell(key, BOLD if bold else 0) + text_cell(value) + "</row>").encode()


def render_xlsx(table: ProtectedTable) -> bytes:
    """The table as an Excel workbook with a ``data`` and an ``about`` sheet.

    >>> import pyarrow as pa
    >>> t = ProtectedTable("t", "T", ("aar",), ("sum",), pa.table({"aar": ["2024"],
    ...     "sum": [4756525.0], "status": ["published"], "status_rule": [""]}))
    >>> render_xlsx(t)[:2]
    b'PK'
    """
    return render_rows(Selection.everything(TableIndex.build(table)), DEFAULT)


@functools.lru_cache(maxsize=64)
def _created(release: str) -> datetime:
    """The release's date when its id starts with one, so a release's file never changes."""
    match = _DATE.match(release)
    if match:
        try:
            return datetime(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    return _EPOCH


FORMAT = Format("xlsx", MEDIA_TYPE, "xlsx", render_rows, render_parts)
