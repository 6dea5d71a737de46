"""JSON (``application/json``): an array of row objects.

Each row object holds the dimension and measure fields in the table's column order, then
``status`` and ``status_rule``. Suppressed measures are ``null``. Numbers keep their Arrow
type: an ``int64`` measure is a JSON integer (``7``), a ``float64`` measure a JSON number with
a fraction (``4756525.0``), so a client can tell a count from a sum of kroner.

:func:`rows_as_json` is the building block the API uses for the compatible shapes of the
services it replaces (e.g. Helfo's open-data rows, without the status fields).

>>> import pyarrow as pa
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("kommune",), ("antall",), pa.table({"kommune": ["0301"],
...     "antall": [7], "status": ["published"], "status_rule": [""]}))
>>> rows_as_json(t)
b'[{"kommune":"0301","antall":7,"status":"published","status_rule":""}]'
"""

from __future__ import annotations

import orjson

from helsestat.model import ProtectedTable
from helsestat.publish.published import Format, publishable

MEDIA_TYPE = "application/json"


def rows_as_json(table: ProtectedTable, include_status: bool = True) -> bytes:
    """The table as a JSON array of row objects, with or without the status fields.

    >>> import pyarrow as pa
    >>> t = ProtectedTable("t", "T", ("aar",), ("sum",), pa.table({"aar": ["2024"],
    ...     "sum": [None], "status": ["primary"], "status_rule": ["count<=5"]}))
    >>> rows_as_json(t, include_status=False)
    b'[{"aar":"2024","sum":null}]'
    """
    data = publishable(table)
    names = data.column_names if include_status else data.column_names[:-2]
    columns = [data.column(name).to_pylist() for name in names]
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    if not names:  # no fields at all: one empty object per row
        rows = [{} for _ in range(data.num_rows)]
    return orjson.dumps(rows)


def render_json(table: ProtectedTable) -> bytes:
    """The registered renderer: :func:`rows_as_json` with the status fields.

    >>> import pyarrow as pa
    >>> render_json(ProtectedTable("t", "T", (), (), pa.table({"status": pa.array([], pa.string()),
    ...     "status_rule": pa.array([], pa.string())})))
    b'[]'
    """
    return rows_as_json(table)


FORMAT = Format("json", MEDIA_TYPE, "json", render_json)
