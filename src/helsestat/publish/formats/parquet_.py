"""Parquet (``application/vnd.apache.parquet``): the published columns with their types.

The columns are those every format publishes (dimensions and measures in table order as
text, ``int64`` and ``float64``, then ``status`` and ``status_rule``), and the schema
metadata key ``helsestat`` holds a JSON object describing the table::

    {"name": …, "title": …, "release": …, "dimensions": […], "measures": […], "notes": […]}

The bytes carry the writer's version (``created_by``), so compare Parquet files by content,
not by bytes.

>>> import io, pyarrow as pa, pyarrow.parquet as pq
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("kommune",), ("antall",), pa.table({"kommune": ["0301"],
...     "antall": [7], "status": ["published"], "status_rule": [""]}), release="2024-06")
>>> back = pq.read_table(io.BytesIO(render_parquet(t)))
>>> back.column("kommune").to_pylist(), back.schema.metadata[METADATA_KEY][:25]
(['0301'], b'{"name":"t","title":"T","')
"""

from __future__ import annotations

from typing import Final

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from helsestat.model import ProtectedTable
from helsestat.publish.published import Format, publishable

MEDIA_TYPE = "application/vnd.apache.parquet"
METADATA_KEY: Final = b"helsestat"


def render_parquet(table: ProtectedTable) -> bytes:
    """The table as a Parquet file with the table's description in the schema metadata.

    >>> import pyarrow as pa
    >>> t = ProtectedTable("t", "T", ("aar",), ("sum",), pa.table({"aar": ["2024"],
    ...     "sum": [4756525.0], "status": ["published"], "status_rule": [""]}))
    >>> render_parquet(t)[:4]
    b'PAR1'
    """
    data = publishable(table)
    about = {
        "name": table.name,
        "title": table.title,
        "release": table.release,
        "dimensions": [c for c in data.column_names if c in table.dimensions],
        "measures": [c for c in data.column_names if c in table.measures],
        "notes": list(table.notes),
    }
    data = data.replace_schema_metadata({METADATA_KEY: orjson.dumps(about)})
    sink = pa.BufferOutputStream()
    pq.write_table(data, sink)
    result: bytes = sink.getvalue().to_pybytes()
    return result


FORMAT = Format("parquet", MEDIA_TYPE, "parquet", render_parquet)
