"""CSV (``text/csv; charset=utf-8``): RFC 4180, UTF-8 without a byte-order mark.

A header row, then one record per row: the dimension and measure columns in table order, then
``status`` and ``status_rule``. Records end in CRLF; a field is quoted only when it holds the
separator, a quote or a line break. Suppressed measures are empty fields. Numbers are written
as Python writes them, so an ``int64`` stays ``7`` and a ``float64`` stays ``4756525.0``.

The registered format uses ``,``; :func:`render_csv` also writes ``;`` (what Norwegian and
Swedish Excel expects), tab or ``|``.

>>> import pyarrow as pa
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("kommune",), ("antall",), pa.table({"kommune": ["0301"],
...     "antall": [None], "status": ["primary"], "status_rule": ["count<=5"]}))
>>> render_csv(t)
b'kommune,antall,status,status_rule\\r\\n0301,,primary,count<=5\\r\\n'
"""

from __future__ import annotations

import csv
import io
from typing import Final

from helsestat.errors import QueryError
from helsestat.model import ProtectedTable
from helsestat.publish.published import Format, publishable

MEDIA_TYPE = "text/csv; charset=utf-8"
SEPARATORS: Final = (",", ";", "\t", "|")


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
    data = publishable(table)
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=sep, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(data.column_names)
    writer.writerows(zip(*(data.column(n).to_pylist() for n in data.column_names), strict=True))
    return out.getvalue().encode("utf-8")


FORMAT = Format("csv", MEDIA_TYPE, "csv", render_csv)
