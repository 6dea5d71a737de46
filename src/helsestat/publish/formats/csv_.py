"""CSV (``text/csv; charset=utf-8``): RFC 4180, UTF-8 without a byte-order mark.

A header row, then one record per row: the view's fields (by default the dimension and
measure columns in table order, then ``status`` and ``status_rule``). Records end in CRLF; a
field is quoted only when it holds the separator, a quote or a line break. Suppressed
measures are empty fields. Numbers are written as Python writes them, so an ``int64`` stays
``7`` and a ``float64`` stays ``4756525.0``.

The registered format uses ``,``; :func:`render_csv` also writes ``;`` (what Norwegian and
Swedish Excel expects), tab or ``|``. :func:`record` writes one record for any CSV helsestat
serves (the code lists use it with every field quoted).

>>> import pyarrow as pa
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("kommune",), ("antall",), pa.table({"kommune": ["0301"],
...     "antall": [None], "status": ["primary"], "status_rule": ["count<=5"]}))
>>> render_csv(t)
b'kommune,antall,status,status_rule\\r\\n0301,,primary,count<=5\\r\\n'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from helsestat.errors import QueryError
from helsestat.model import ProtectedTable
from helsestat.publish.format import Format
from helsestat.publish.index import Selection, TableIndex
from helsestat.publish.views import (
    DEFAULT,
    VECTOR_ROWS,
    View,
    field_names,
    fragments,
    joined_rows,
    per_view,
    pieces,
)

MEDIA_TYPE = "text/csv; charset=utf-8"
SEPARATORS: Final = (",", ";", "\t", "|")


def _field(value: Any, sep: str, quote_all: bool) -> str:
    if value is None:
        return '""' if quote_all else ""
    text = value if isinstance(value, str) else repr(value)
    if quote_all or sep in text or '"' in text or "\r" in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def record(values: Iterable[Any], sep: str = ",", quote_all: bool = False) -> str:
    """One CSV record with its CRLF: text as is (quoted when needed, or always with
    ``quote_all``), numbers as Python writes them, None as an empty field.

    >>> record(["0301", 7, None, 'a "b" c'])
    '0301,7,,"a ""b"" c"\\r\\n'
    >>> record(["0301", "Oslo"], ";", quote_all=True)
    '"0301";"Oslo"\\r\\n'
    """
    return sep.join(_field(v, sep, quote_all) for v in values) + "\r\n"


def render_rows(selection: Selection, view: View, sep: str = ",") -> bytes:
    """The selected rows as CSV with the view's fields, a header row first (an answer
    computed for one query, whose rows are not kept, of :data:`VECTOR_ROWS` rows or more:
    by Arrow kernels, the same bytes)."""

    def make(values: tuple[object, ...]) -> bytes:
        return record(values, sep).encode()

    key = "csv" if sep == "," else f"csv{sep}"
    header = per_view(
        selection, view, key, lambda: record(field_names(selection, view), sep).encode()
    )
    if (
        not selection.index.fragments.keep_rows
        and len(selection) >= VECTOR_ROWS
        and view.fields is None
    ):
        found = _vectorised(selection, view, sep)
        if found is not None:
            return header + found
    return header + b"".join(fragments(selection, key, view, make))


def _vectorised(selection: Selection, view: View, sep: str) -> bytes | None:
    """The records of :func:`render_rows` (no header) by Arrow kernels
    (:func:`~helsestat.publish.views.joined_rows`): text fields quoted where needed, an
    empty field where suppressed. None when the fields are not the index's columns in order
    or a measure is not an integer."""
    if list(selection.index.names) != list(field_names(selection, view)):
        return None
    return joined_rows(
        selection,
        lambda i, _: "" if i == 0 else sep,
        lambda value: _field(value, sep, False),
        "",
        "\r\n",
    )


def render_parts(selection: Selection, view: View) -> list[bytes]:
    """:func:`render_rows` (comma-separated) in parts, a piece of rows each."""

    def make(values: tuple[object, ...]) -> bytes:
        return record(values).encode()

    parts = [
        per_view(selection, view, "csv", lambda: record(field_names(selection, view)).encode())
    ]
    for piece in pieces(selection):
        parts.append(b"".join(fragments(piece, "csv", view, make)))
    return parts


def render_csv(table: ProtectedTable, sep: str = ",") -> bytes:
    """The table as RFC 4180 CSV with ``sep`` between fields (one of :data:`SEPARATORS`).

    >>> import pyarrow as pa
    >>> t = ProtectedTable("t", "T", ("navn",), ("sum",), pa.table({"navn": ["Tromsø; by"],
    ...     "sum": [4756525.0], "status": ["published"], "status_rule": [""]}))
    >>> render_csv(t, sep=";").decode()
    'navn;sum;status;status_rule\\r\\n"Tromsø; by";4756525.0;published;\\r\\n'
    """
    if sep not in SEPARATORS:
        raise QueryError(
            "query.csv_separator",
            f"CSV separator {sep!r} is not supported",
            hint="use one of: , ; | or a tab",
        )
    return render_rows(Selection.everything(TableIndex.build(table)), DEFAULT, sep)


FORMAT = Format("csv", MEDIA_TYPE, "csv", render_rows, render_parts)
