"""Excel (``application/vnd.openxmlformats-officedocument.spreadsheetml.sheet``).

Two sheets:

* ``data``: a bold, frozen header row with an autofilter, then one row per table row. The
  dimension columns are text cells (``0301`` keeps its leading zero), measures are number
  cells, and ``status`` and ``status_rule`` are text. A suppressed measure is an empty grey
  cell with a note saying why, e.g. ``primary: count<=5``.
* ``about``: the title, table name, release and notes, and the legend of the statuses.

The file is built in memory and is byte-for-byte reproducible: the document's created date
comes from the release id when it starts with a date (``2024-06-01…``), else 1980-01-01,
and XlsxWriter stamps the zip entries with a fixed date.

>>> import io, pyarrow as pa, openpyxl
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("kommune",), ("antall",), pa.table({"kommune": ["0301"],
...     "antall": [None], "status": ["primary"], "status_rule": ["count<=5"]}))
>>> sheet = openpyxl.load_workbook(io.BytesIO(render_xlsx(t)))["data"]
>>> sheet["A2"].value, sheet["B2"].value, sheet["B2"].comment.text
('0301', None, 'primary: count<=5')
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Final

import pyarrow as pa
import xlsxwriter
from xlsxwriter.format import Format as CellFormat
from xlsxwriter.worksheet import Worksheet

from helsestat.errors import HelsestatError
from helsestat.model import ProtectedTable
from helsestat.publish.published import STATUS_LEGEND, Format, publishable

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Excel's row limit, header included.
MAX_ROWS: Final = 1_048_576
SUPPRESSED_FILL: Final = "#D9D9D9"
_EPOCH: Final = datetime(1980, 1, 1)
_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


def render_xlsx(table: ProtectedTable) -> bytes:
    """The table as an Excel workbook with a ``data`` and an ``about`` sheet.

    >>> import pyarrow as pa
    >>> t = ProtectedTable("t", "T", ("aar",), ("sum",), pa.table({"aar": ["2024"],
    ...     "sum": [4756525.0], "status": ["published"], "status_rule": [""]}))
    >>> render_xlsx(t)[:2]
    b'PK'
    """
    data = publishable(table)
    if data.num_rows + 1 > MAX_ROWS:
        raise HelsestatError(
            "publish.too_many_rows",
            f"table {table.name!r} has {data.num_rows} rows, more than an Excel sheet holds",
            hint="download it as csv or parquet",
            status=413,
        )
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "nan_inf_to_errors": True})
    book.set_properties(
        {
            "title": table.title,
            "subject": table.name,
            "author": "helsestat",
            "created": _created(table.release),
        }
    )
    bold = book.add_format({"bold": True})
    grey = book.add_format({"bg_color": SUPPRESSED_FILL})
    _data_sheet(book.add_worksheet("data"), table, data, bold, grey)
    _about_sheet(book.add_worksheet("about"), table, bold)
    book.close()
    return out.getvalue()


def _data_sheet(
    ws: Worksheet, table: ProtectedTable, data: pa.Table, bold: CellFormat, grey: CellFormat
) -> None:
    names: list[str] = data.column_names
    measures = [name in table.measures for name in names]
    for col, name in enumerate(names):
        ws.write_string(0, col, name, bold)
        ws.set_column(col, col, max(10, len(name) + 2))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(data.num_rows, 1), len(names) - 1)
    columns = [data.column(name).to_pylist() for name in names]
    for row, values in enumerate(zip(*columns, strict=True), start=1):
        status, rule = values[-2], values[-1]
        for col, value in enumerate(values):
            if not measures[col]:
                ws.write_string(row, col, value)
            elif value is not None:
                ws.write_number(row, col, value)
            elif status != "published":
                ws.write_blank(row, col, None, grey)
                ws.write_comment(row, col, f"{status}: {rule}" if rule else status)


def _about_sheet(ws: Worksheet, table: ProtectedTable, bold: CellFormat) -> None:
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 80)
    lines: list[tuple[str, str]] = [
        ("title", table.title),
        ("table", table.name),
        ("release", table.release),
        *(("note", note) for note in table.notes),
    ]
    for row, (key, value) in enumerate(lines):
        ws.write_string(row, 0, key, bold)
        ws.write_string(row, 1, value)
    legend = len(lines) + 1  # one empty row, then the legend with its own header
    ws.write_string(legend, 0, "status", bold)
    ws.write_string(legend, 1, "meaning", bold)
    for row, (status, meaning) in enumerate(STATUS_LEGEND.items(), start=legend + 1):
        ws.write_string(row, 0, status)
        ws.write_string(row, 1, meaning)


def _created(release: str) -> datetime:
    """The release's date when its id starts with one, so a release's file never changes."""
    match = _DATE.match(release)
    if match:
        try:
            return datetime(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    return _EPOCH


FORMAT = Format("xlsx", MEDIA_TYPE, "xlsx", render_xlsx)
