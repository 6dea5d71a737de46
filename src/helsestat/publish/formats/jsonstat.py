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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import numpy as np
import orjson

from helsestat.errors import HelsestatError
from helsestat.model import RULE_COLUMN, STATUS_COLUMN, ProtectedTable
from helsestat.publish.format import Format
from helsestat.publish.index import Selection, TableIndex
from helsestat.publish.published import STATUS_LEGEND
from helsestat.publish.views import DEFAULT, PIECE_ROWS, View, cached_rows, uniform

MEDIA_TYPE = "application/vnd.json-stat+json"
ABSENT: Final = "absent"
#: Cubes up to this many cells always use the dense ``value`` array.
DENSE_LIMIT: Final = 10_000
#: The meaning of each status code; values without a status are published.
STATUS_CODES: Final[dict[str, str]] = {
    **{code: meaning for code, meaning in STATUS_LEGEND.items() if code != "published"},
    ABSENT: "the table has no row for this combination of categories",
}


@dataclass(frozen=True)
class _CubeLayout:
    """The parts of a table's JSON-stat documents that do not depend on the rows."""

    dims: tuple[str, ...]
    codes: np.ndarray  # (dimension, index row) → the row's code of that dimension
    labels: tuple[list[str], ...]  # per dimension, the text of every code
    measures: tuple[str, ...]
    metric: str
    nulls: bytes  # the value-array text of a combination without a row
    metric_dimension: dict[str, Any]
    extension: dict[str, Any]


def _layout(index: TableIndex) -> _CubeLayout:
    found = index.constants.get("jsonstat")
    if isinstance(found, _CubeLayout):
        return found
    table = index.source
    names = [n for n in index.names if n in table.dimensions or n in table.measures]
    dims = tuple(n for n in names if n in table.dimensions)
    measures = tuple(n for n in names if n in table.measures)
    metric = "measure"
    while metric in dims:
        metric += "_"
    layout = _CubeLayout(
        dims=dims,
        codes=np.stack([index.texts[d].codes for d in dims])
        if dims
        else np.zeros((0, index.size), dtype=np.int32),
        labels=tuple(index.texts[d].values.tolist() for d in dims),
        measures=measures,
        metric=metric,
        nulls=b",".join([b"null"] * len(measures)),
        metric_dimension={
            "label": "measure",
            "category": {"index": list(measures), "label": {m: m for m in measures}},
        },
        extension={"table": table.name, "release": table.release, "status": STATUS_CODES},
    )
    index.constants["jsonstat"] = layout
    return layout


_OPTIONS: Final = orjson.OPT_NON_STR_KEYS
_ABSENT: Final = orjson.dumps(ABSENT)
_ABSENT_TEXTS: dict[int, list[bytes]] = {}


def _absent_text(width: int, place: int) -> bytes:
    return b",".join(b'"%d":%s' % (place * width + j, _ABSENT) for j in range(width))


def _absent_texts(width: int, places: list[int]) -> list[bytes]:
    """Per combination, the ``status`` entries of its ``width`` cells marked absent, e.g.
    ``"10":"absent","11":"absent"``; those of the first :data:`DENSE_LIMIT` combinations are
    kept once made."""
    known = _ABSENT_TEXTS.get(width, [])
    wanted = min(places[-1] + 1, DENSE_LIMIT)  # places are in increasing order
    if wanted > len(known):  # a longer list replaces the kept one (large answers render in
        # threads: a list once kept is never changed, so every kept list is right)
        known = known + [_absent_text(width, p) for p in range(len(known), wanted)]
        _ABSENT_TEXTS[width] = known
    return [known[p] if p < DENSE_LIMIT else _absent_text(width, p) for p in places]


def _measure_columns(
    index: TableIndex, measures: Sequence[str], rows: np.ndarray
) -> list[list[Any]]:
    """The measures of ``rows`` as Python values (``None`` where the cell has no value)."""
    return [index.column(name, rows) for name in measures]


def _cell_values(index: TableIndex, measures: Sequence[str], rows: np.ndarray) -> list[bytes]:
    """Per row, the JSON text of its measures as they stand in ``value`` (``7,12,1.5``)."""
    if not measures:
        return [b""] * len(rows)
    columns = _measure_columns(index, measures, rows)
    return [orjson.dumps(cells)[1:-1] for cells in zip(*columns, strict=True)]


def _dataset(selection: Selection) -> dict[str, Any]:
    """The dataset of the selected rows, computed from the index's encoded columns. A dense
    ``value`` array is an :class:`orjson.Fragment` joined from each row's measures as JSON
    text, rendered once per row and kept like the rows of the other formats."""
    return _document(selection)[0]


def _document(selection: Selection) -> tuple[dict[str, Any], dict[str, bytes]]:
    """:func:`_dataset`, and the JSON text of its members that are fragments."""
    index, rows = selection.index, selection.rows
    table = index.source
    layout = _layout(index)
    width = len(layout.measures)
    n = len(rows)
    # Each dimension's categories in order of first appearance (as publish() lists them);
    # a row's place among the combinations in row-major order (the last id varies fastest).
    categories: list[list[str]] = []
    sizes: list[int] = []
    place: np.ndarray | None = None
    picked = layout.codes[:, rows]
    for codes, labels, single in zip(picked, layout.labels, uniform(picked), strict=True):
        if single:  # one category (or none): no place to compute
            seen = codes[:1].tolist()
        else:
            seen = list(dict.fromkeys(codes.tolist()))
            lookup = np.zeros(len(labels), dtype=np.int64)
            lookup[seen] = np.arange(len(seen))
            position = lookup[codes]
            place = position if place is None else place * len(seen) + position
        categories.append([labels[c] for c in seen])
        sizes.append(len(seen))
    if place is None:
        place = np.zeros(n, dtype=np.int64)
    if n > 1 and not index.one_row_per_cell() and bool(np.any(np.diff(np.sort(place)) == 0)):
        raise HelsestatError(
            "publish.duplicate_cell",
            f"table {table.name!r} has more than one row for a combination of dimensions",
            hint="a published table has one row per combination of its dimension values",
        )
    size = [*sizes, width]
    places = math.prod(sizes)
    cells = places * width
    value: Any
    raw: dict[str, bytes] = {}
    empty: list[int] = []  # the combinations without a row (dense value only)
    if not width:  # no measures: no cells
        value = []
    elif cells <= max(DENSE_LIMIT, 2 * n * width):
        slots = [layout.nulls] * places
        texts = cached_rows(
            index, "jsonstat", rows.tolist(), partial(_cell_values, index, layout.measures)
        )
        for at, text in zip(place.tolist(), texts, strict=True):
            slots[at] = text
        raw["value"] = b"[" + b",".join(slots) + b"]"
        value = orjson.Fragment(raw["value"])
        if n < places:
            present = np.zeros(places, dtype=bool)
            present[place] = True
            empty = (~present).nonzero()[0].tolist()
    else:
        order = np.argsort(place, kind="stable")
        columns = _measure_columns(index, layout.measures, rows[order])
        numbers: dict[int, Any] = {}
        for i, at in enumerate((place[order] * width).tolist()):
            for j, column in enumerate(columns):
                numbers[at + j] = column[i]
        value = numbers  # int keys: orjson writes them as strings (OPT_NON_STR_KEYS)
    status: Any = None
    rules: dict[int, str] = {}
    if selection.with_suppressed and selection.suppressed:  # else every row is published
        suppressed = (~index.published[rows]).nonzero()[0]
        first = place[suppressed] * width
        row_status = index.column(STATUS_COLUMN, rows[suppressed])
        row_rule = index.column(RULE_COLUMN, rows[suppressed])
        marked: dict[int, str] = {p * width + j: ABSENT for p in empty for j in range(width)}
        guarded = set(table.suppressible)
        hidden = [j for j, m in enumerate(layout.measures) if m in guarded]
        for at, st, rule in zip(first.tolist(), row_status, row_rule, strict=True):
            for j in hidden:
                marked[at + j] = str(st)
                if rule:
                    rules[at + j] = str(rule)
        status = {at: marked[at] for at in _sorted(marked)}
    elif empty:  # {"<cell>": "absent", …} for every cell of every empty combination
        raw["status"] = b"{" + b",".join(_absent_texts(width, empty)) + b"}"
        status = orjson.Fragment(raw["status"])
    dimension: dict[str, Any] = {
        dim: {"label": dim, "category": {"index": codes, "label": {c: c for c in codes}}}
        for dim, codes in zip(layout.dims, categories, strict=True)
    }
    dimension[layout.metric] = layout.metric_dimension
    doc: dict[str, Any] = {
        "version": "2.0",
        "class": "dataset",
        "label": table.title,
        "id": [*layout.dims, layout.metric],
        "size": size,
        "role": {"metric": [layout.metric]},
        "dimension": dimension,
        "value": value,
    }
    if status is not None:
        doc["status"] = status
    if table.notes:
        doc["note"] = list(table.notes)
    doc["extension"] = {
        **layout.extension,
        "status_rule": {str(at): rules[at] for at in _sorted(rules)},
    }
    return doc, raw


def _sorted(keys: dict[int, str]) -> list[int]:
    """The keys in order (numpy sorts without holding the interpreter lock)."""
    if len(keys) < PIECE_ROWS:
        return sorted(keys)
    ordered = np.fromiter(keys, dtype=np.int64, count=len(keys))
    ordered.sort()
    result: list[int] = ordered.tolist()
    return result


def _parts(value: Any, out: list[bytes]) -> None:
    """orjson's text of ``value`` appended to ``out`` in parts: a large object a piece of
    members at a time, an object holding objects member by member."""
    if isinstance(value, dict) and len(value) > PIECE_ROWS:
        items = list(value.items())
        out.append(b"{")
        for start in range(0, len(items), PIECE_ROWS):
            text = orjson.dumps(dict(items[start : start + PIECE_ROWS]), option=_OPTIONS)
            out.append((b"," if start else b"") + text[1:-1])
        out.append(b"}")
    elif isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
        out.append(b"{")
        for i, (key, member) in enumerate(value.items()):
            name = key if isinstance(key, str) else str(key)  # as OPT_NON_STR_KEYS writes it
            out.append((b"," if i else b"") + orjson.dumps(name) + b":")
            _parts(member, out)
        out.append(b"}")
    else:
        out.append(orjson.dumps(value, option=_OPTIONS))


def render_parts(selection: Selection, view: View) -> list[bytes]:
    """:func:`render_rows` in parts (a large dataset's members a piece at a time)."""
    doc, raw = _document(selection)
    out = [b"{"]
    for i, (key, member) in enumerate(doc.items()):
        out.append((b"," if i else b"") + orjson.dumps(key) + b":")
        if key in raw:
            out.append(raw[key])
        else:
            _parts(member, out)
    out.append(b"}")
    return out


def render_rows(selection: Selection, view: View) -> bytes:
    """A JSON-stat 2.0 dataset of the selected rows (the view does not apply: the dataset
    is a document of the table's published columns)."""
    return orjson.dumps(_dataset(selection), option=_OPTIONS)


def render_jsonstat(table: ProtectedTable) -> bytes:
    """The table as a JSON-stat 2.0 dataset.

    >>> import pyarrow as pa
    >>> t = ProtectedTable("t", "T", ("aar",), ("sum",), pa.table({"aar": ["2024"],
    ...     "sum": [4756525.0], "status": ["published"], "status_rule": [""]}))
    >>> render_jsonstat(t)[:40]
    b'{"version":"2.0","class":"dataset","labe'
    """
    return render_rows(Selection.everything(TableIndex.build(table)), DEFAULT)


FORMAT = Format("jsonstat", MEDIA_TYPE, "jsonstat.json", render_rows, render_parts)
