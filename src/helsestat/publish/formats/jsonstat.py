"""JSON-stat 2.0 (``application/vnd.json-stat+json``): one ``dataset`` document.

JSON-stat registers no media type of its own (its providers serve ``application/json``), so
helsestat names it in the vendor tree to keep it apart from the row-array ``json`` format;
:func:`~helsestat.publish.formats.negotiate` also answers ``application/jsonstat+json``.

The cube: ``id`` lists the table's dimensions in column order, then a metric dimension
``measure`` (``measure_`` if a dimension already has that name) whose categories are the
measures. Each dimension's categories are its distinct codes in order of first appearance,
with the code as its label. ``value`` is row-major (the last id varies fastest), so a row's
measures sit next to each other. Integer measures stay integers.

``value`` is a dense array with ``null`` where there is no number, unless the cube is both
larger than :data:`DENSE_LIMIT` cells and more than half empty; then it is the object form
the specification allows for sparse cubes (``{"7": 12, "8": 4756525.0}``), which leaves
the empty cells out.

Status codes, in a ``status`` object keyed by value index (left out when nothing has one):

=============  ==============================================================================
(no status)    published
``primary``    suppressed: the cell itself breaks a disclosure rule
``secondary``  suppressed so that a primary suppressed cell cannot be derived from totals
``absent``     dense array only: the table has no row for this combination of categories
=============  ==============================================================================

The full words are the ones the ``status`` column of every other format uses. The rule that
suppressed each cell (``count<=5``) is in ``extension.status_rule``, keyed the same way, and
the legend above in ``extension.status``, beside ``extension.table`` and
``extension.release``. The title is ``label`` and the table notes are ``note``.

>>> import orjson, pyarrow as pa
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "Kontakter", ("kommune",), ("antall",), pa.table({
...     "kommune": ["0301", "5001"], "antall": [120, None],
...     "status": ["published", "primary"], "status_rule": ["", "count<=5"]}))
>>> doc = orjson.loads(render_jsonstat(t))
>>> doc["id"], doc["size"], doc["value"], doc["status"], doc["extension"]["status_rule"]
(['kommune', 'measure'], [2, 1], [120, None], {'1': 'primary'}, {'1': 'count<=5'})
"""

from __future__ import annotations

import math
from typing import Any, Final

import orjson

from helsestat.errors import HelsestatError
from helsestat.model import RULE_COLUMN, STATUS_COLUMN, ProtectedTable
from helsestat.publish.published import STATUS_LEGEND, Format, publishable

MEDIA_TYPE = "application/vnd.json-stat+json"
ABSENT: Final = "absent"
#: Cubes up to this many cells always use the dense ``value`` array.
DENSE_LIMIT: Final = 10_000
#: The meaning of each status code; values without a status are published.
STATUS_CODES: Final[dict[str, str]] = {
    **{code: meaning for code, meaning in STATUS_LEGEND.items() if code != "published"},
    ABSENT: "the table has no row for this combination of categories",
}


def render_jsonstat(table: ProtectedTable) -> bytes:
    """The table as a JSON-stat 2.0 dataset.

    >>> import pyarrow as pa
    >>> t = ProtectedTable("t", "T", ("aar",), ("sum",), pa.table({"aar": ["2024"],
    ...     "sum": [4756525.0], "status": ["published"], "status_rule": [""]}))
    >>> render_jsonstat(t)[:40]
    b'{"version":"2.0","class":"dataset","labe'
    """
    return orjson.dumps(_dataset(table))


def _dataset(table: ProtectedTable) -> dict[str, Any]:
    data = publishable(table)
    names = data.column_names[:-2]
    dims = [name for name in names if name in table.dimensions]
    measures = [name for name in names if name in table.measures]
    metric = "measure"
    while metric in dims:
        metric += "_"
    categories = [list(dict.fromkeys(data.column(dim).to_pylist())) for dim in dims]
    size = [len(codes) for codes in categories] + [len(measures)]

    # Row-major: the last id varies fastest. A row's place among the dimension combinations,
    # times the number of measures, is the value index of its first measure.
    strides = [math.prod(size[i + 1 : -1]) for i in range(len(dims))]
    places = [0] * data.num_rows
    for dim, codes, stride in zip(dims, categories, strides, strict=True):
        position = {code: i * stride for i, code in enumerate(codes)}
        places = [
            p + position[c] for p, c in zip(places, data.column(dim).to_pylist(), strict=True)
        ]
    if len(set(places)) != len(places):
        raise HelsestatError(
            "publish.duplicate_cell",
            f"table {table.name!r} has more than one row for a combination of dimensions",
            hint="a published table has one row per combination of its dimension values",
        )

    values: dict[int, Any] = {}
    status: dict[int, str] = {}
    rules: dict[int, str] = {}
    columns = [data.column(measure).to_pylist() for measure in measures]
    row_status = data.column(STATUS_COLUMN).to_pylist()
    row_rule = data.column(RULE_COLUMN).to_pylist()
    for row, place in enumerate(places):
        offset = place * len(measures)
        for j, column in enumerate(columns):
            values[offset + j] = column[row]
            if row_status[row] != "published":
                status[offset + j] = row_status[row]
                if row_rule[row]:
                    rules[offset + j] = row_rule[row]

    cells = math.prod(size)
    value: list[Any] | dict[str, Any]
    if cells <= max(DENSE_LIMIT, 2 * len(values)):
        value = [None] * cells
        for index, number in values.items():
            value[index] = number
        status.update((index, ABSENT) for index in range(cells) if index not in values)
    else:
        value = {str(index): values[index] for index in sorted(values)}

    dimension: dict[str, Any] = {
        dim: {"label": dim, "category": {"index": codes, "label": {c: c for c in codes}}}
        for dim, codes in zip(dims, categories, strict=True)
    }
    dimension[metric] = {
        "label": "measure",
        "category": {"index": measures, "label": {m: m for m in measures}},
    }
    doc: dict[str, Any] = {
        "version": "2.0",
        "class": "dataset",
        "label": table.title,
        "id": [*dims, metric],
        "size": size,
        "role": {"metric": [metric]},
        "dimension": dimension,
        "value": value,
    }
    if status:
        doc["status"] = {str(index): status[index] for index in sorted(status)}
    if table.notes:
        doc["note"] = list(table.notes)
    doc["extension"] = {
        "table": table.name,
        "release": table.release,
        "status": STATUS_CODES,
        "status_rule": {str(index): rules[index] for index in sorted(rules)},
    }
    return doc


FORMAT = Format("jsonstat", MEDIA_TYPE, "jsonstat.json", render_jsonstat)
