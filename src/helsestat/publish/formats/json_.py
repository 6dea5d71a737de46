"""JSON (``application/json``): an array of row objects.

Each row object holds the fields of the view — by default the dimension and measure fields
in the table's column order, then ``status`` and ``status_rule``. Suppressed measures are
``null``. Numbers keep their Arrow type: an ``int64`` measure is a JSON integer (``7``), a
``float64`` measure a JSON number with a fraction (``4756525.0``), so a client can tell a
count from a sum of kroner.

>>> import pyarrow as pa
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("kommune",), ("antall",), pa.table({"kommune": ["0301"],
...     "antall": [7], "status": ["published"], "status_rule": [""]}))
>>> rows_as_json(t)
b'[{"kommune":"0301","antall":7,"status":"published","status_rule":""}]'
"""

from __future__ import annotations

from collections.abc import Callable

import orjson

from helsestat.model import ProtectedTable
from helsestat.publish.format import Format
from helsestat.publish.index import Selection, TableIndex
from helsestat.publish.views import (
    DEFAULT,
    VECTOR_ROWS,
    Field,
    View,
    columns,
    field_names,
    fragments,
    joined_rows,
    per_view,
    pieces,
    with_status,
)

MEDIA_TYPE = "application/json"


def _maker(selection: Selection, view: View) -> Callable[[tuple[object, ...]], bytes]:
    """The row writer (the same for every answer of a table and view: kept on the index)."""
    return per_view(selection, view, "json", lambda: _make_maker(selection, view))


def _make_maker(selection: Selection, view: View) -> Callable[[tuple[object, ...]], bytes]:
    names = field_names(selection, view)

    def make(values: tuple[object, ...]) -> bytes:
        return orjson.dumps(dict(zip(names, values, strict=True)))

    return make


def render_rows(selection: Selection, view: View) -> bytes:
    """The selected rows as a JSON array of objects with the view's fields (of an answer
    computed for one query, whose rows are not kept: in one call of the encoder)."""
    if not selection.index.fragments.keep_rows:
        if len(selection) >= VECTOR_ROWS and view.fields is None:
            found = _vectorised(selection)
            if found is not None:
                return found
        names = field_names(selection, view)
        status = with_status(selection, view)
        values = columns(selection.index, selection.rows, view, status)
        return orjson.dumps(
            [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
        )
    make = _maker(selection, view)
    return b"[" + b",".join(fragments(selection, "json", view, make)) + b"]"


def _vectorised(selection: Selection) -> bytes | None:
    """:func:`render_rows` of the published columns by Arrow kernels
    (:func:`~helsestat.publish.views.joined_rows`): each field name and text value encoded
    by orjson, ``null`` where suppressed. None when a measure is not an integer (a float is
    written as orjson writes it: left to orjson)."""
    body = joined_rows(
        selection,
        lambda i, name: ("{" if i == 0 else ",") + orjson.dumps(name).decode() + ":",
        lambda value: orjson.dumps(value).decode(),
        "null",
        "},",
        trim=1,  # the last row's comma
    )
    return None if body is None else b"[" + body + b"]"


def render_parts(selection: Selection, view: View) -> list[bytes]:
    """:func:`render_rows` in parts, a piece of rows each."""
    make = _maker(selection, view)
    parts = [b"["]
    for i, piece in enumerate(pieces(selection)):
        if i and len(piece):
            parts.append(b",")
        parts.append(b",".join(fragments(piece, "json", view, make)))
    parts.append(b"]")
    return parts


def rows_as_json(table: ProtectedTable, include_status: bool = True) -> bytes:
    """The table as a JSON array of row objects, with or without the status fields.

    >>> import pyarrow as pa
    >>> t = ProtectedTable("t", "T", ("aar",), ("sum",), pa.table({"aar": ["2024"],
    ...     "sum": [None], "status": ["primary"], "status_rule": ["count<=5"]}))
    >>> rows_as_json(t, include_status=False)
    b'[{"aar":"2024","sum":null}]'
    """
    everything = Selection.everything(TableIndex.build(table))
    if include_status:
        return render_rows(everything, DEFAULT)
    names = [c for c in everything.index.names[:-2]]
    view = View("published-without-status", tuple(Field(n) for n in names), False)
    return render_rows(Selection(everything.index, everything.rows, 0, False), view)


FORMAT = Format("json", MEDIA_TYPE, "json", render_rows, render_parts)
