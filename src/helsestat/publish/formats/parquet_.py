"""Parquet (``application/vnd.apache.parquet``): the published columns with their types.

The columns are those every format publishes (dimensions and measures in table order as
text, ``int64`` and ``float64``, then ``status`` and ``status_rule``), and the schema
metadata key ``helsestat`` holds a JSON object describing the table::

    {"name": …, "title": …, "release": …, "dimensions": […], "measures": […], "notes": […]}

The file is written by :mod:`.parquet_file` (one row group, uncompressed PLAIN pages: the
answers are small and pyarrow's writer costs more than the rest of a request, see
docs/benchmarks.md); compare Parquet files by content, not by bytes.

>>> import io, pyarrow as pa, pyarrow.parquet as pq
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("kommune",), ("antall",), pa.table({"kommune": ["0301"],
...     "antall": [7], "status": ["published"], "status_rule": [""]}), release="2024-06")
>>> back = pq.read_table(io.BytesIO(render_parquet(t)))
>>> back.column("kommune").to_pylist(), back.schema.metadata[METADATA_KEY][:25]
(['0301'], b'{"name":"t","title":"T","')
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

import numpy as np
import orjson

from helsestat.model import ProtectedTable
from helsestat.publish.format import Format
from helsestat.publish.formats.parquet_file import Column, write_parquet
from helsestat.publish.index import Selection, TableIndex
from helsestat.publish.views import DEFAULT, View, uniform

MEDIA_TYPE = "application/vnd.apache.parquet"
METADATA_KEY: Final = b"helsestat"


@dataclass(frozen=True)
class _ParquetLayout:
    """The parts of a table's Parquet files that do not depend on the rows."""

    names: tuple[str, ...]
    text_codes: np.ndarray  # (text column, index row) → the row's code in that column
    plain: tuple[list[bytes], ...]  # per text column, each code's PLAIN value
    valid: np.ndarray  # (measure, index row) → the cell has a value
    metadata: dict[str, str]


def _parquet_layout(index: TableIndex) -> _ParquetLayout:
    found = index.constants.get("parquet")
    if isinstance(found, _ParquetLayout):
        return found
    table = index.source
    names = tuple(index.names)
    text_names = [n for n in names if n not in table.measures]
    plain = []
    for name in text_names:
        encoded = [str(v).encode() for v in index.texts[name].values.tolist()]
        plain.append([struct.pack("<I", len(b)) + b for b in encoded])
    about = {
        "name": table.name,
        "title": table.title,
        "release": table.release,
        "dimensions": [c for c in names if c in table.dimensions],
        "measures": [c for c in names if c in table.measures],
        "notes": list(table.notes),
    }
    layout = _ParquetLayout(
        names=names,
        text_codes=np.stack([index.texts[n].codes for n in text_names]),
        plain=tuple(plain),
        valid=np.stack([index.valid[m] for m in index.measures])
        if index.measures
        else np.zeros((0, index.size), dtype=bool),
        metadata={METADATA_KEY.decode(): orjson.dumps(about).decode()},
    )
    index.constants["parquet"] = layout
    return layout


def render_rows(selection: Selection, view: View) -> bytes:
    """A Parquet file of the selected rows, helsestat's layout and metadata (the view does
    not apply: the file holds the table's published columns)."""
    index, rows = selection.index, selection.rows
    layout = _parquet_layout(index)
    n = len(rows)
    picked = layout.text_codes[:, rows]
    text_columns = iter(zip(picked, layout.plain, uniform(picked), strict=True))
    valid = layout.valid[:, rows]
    complete = (np.count_nonzero(valid, axis=1) == n).tolist()
    columns = []
    for name in layout.names:
        if name in index.values:
            at = index.measures.index(name)
            make = Column.int64 if index.integer[name] else Column.float64
            mask = None if complete[at] else valid[at]
            columns.append(make(name, index.values[name][rows], mask))
            continue
        codes, plain, single = next(text_columns)
        if single:  # one value in every row, e.g. the kommune asked for
            data = plain[int(codes[0])] * n if n else b""
        else:
            data = b"".join(map(plain.__getitem__, codes.tolist()))
        columns.append(Column.plain_text(name, data, n))
    return write_parquet(columns, layout.metadata)


def render_parquet(table: ProtectedTable) -> bytes:
    """The table as a Parquet file with the table's description in the schema metadata.

    >>> import pyarrow as pa
    >>> t = ProtectedTable("t", "T", ("aar",), ("sum",), pa.table({"aar": ["2024"],
    ...     "sum": [4756525.0], "status": ["published"], "status_rule": [""]}))
    >>> render_parquet(t)[:4]
    b'PAR1'
    """
    return render_rows(Selection.everything(TableIndex.build(table)), DEFAULT)


FORMAT = Format("parquet", MEDIA_TYPE, "parquet", render_rows)
