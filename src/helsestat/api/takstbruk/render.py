"""The bodies of takstbruk answers in six formats, from a :class:`Selection`.

JSON, XML, CSV and Excel carry **Helfo's twelve fields in Helfo's order** on every route —
``ar``, ``maned``, ``takstkode``, ``fagomraade``, ``praksis_type_kode``,
``behandler_kommunenr``, ``behandler_fylke``, ``antall_regninger``, ``sum_antall_takst``,
``sum_refusjon``, ``sum_egenandel_betalt_av_pasient``,
``sum_egenandel_dekket_av_folketrygden`` — with ``ar`` and ``maned`` as integers, codes as
text, counts as integers and kroner as floating-point numbers. A field the route has no
value for (``maned`` on /ar, ``behandler_kommunenr`` on fylke and landet,
``behandler_fylke`` on landet) is null (JSON), ``xsi:nil`` (XML) or empty (CSV, Excel).
With ``medstatus=ja`` each row adds ``status`` and ``status_rule``.

JSON-stat and Parquet (helsestat extensions) hold exactly what
:func:`helsestat.publish.publish` makes of the selected rows of the published table (its
dimensions as text, ``status`` and ``status_rule`` included), written here from the index's
arrays — the checks of ``publishable`` ran once, when the table was indexed.

Rows are rendered once and kept (within a byte budget) so a repeated row costs a lookup:
a row's fields for JSON, XML, CSV and Excel, and its measures as they stand in a JSON-stat
``value`` array. The parts of the JSON-stat and Parquet documents that depend only on the
table (dimension lists, Parquet's metadata and PLAIN-encoded code lists) are made once per
table. No whole answer is kept: each request selects its rows and assembles its document.

>>> FIELDS[:3]
('ar', 'maned', 'takstkode')
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final
from xml.sax.saxutils import escape

import numpy as np
import orjson

from helsestat.api.takstbruk import excel, parquet
from helsestat.api.takstbruk.index import COUNTS, MEASURES, Selection, TableIndex
from helsestat.errors import HelsestatError
from helsestat.model import RULE_COLUMN, STATUS_COLUMN
from helsestat.publish.formats.jsonstat import ABSENT, DENSE_LIMIT, STATUS_CODES
from helsestat.publish.formats.parquet_ import METADATA_KEY

FIELDS: Final = (
    "ar",
    "maned",
    "takstkode",
    "fagomraade",
    "praksis_type_kode",
    "behandler_kommunenr",
    "behandler_fylke",
    *MEASURES,
)
STATUS_FIELDS: Final = (STATUS_COLUMN, RULE_COLUMN)
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"

Row = tuple[Any, ...]


def _helfo_columns(index: TableIndex, rows: np.ndarray, with_status: bool) -> list[list[Any]]:
    """Helfo's fields (plus status) of ``rows`` as Python values, column by column."""
    n = len(rows)
    period = index.period[rows]
    none: list[Any] = [None] * n
    if index.monthly:
        ar, maned = (period // 100).tolist(), (period % 100).tolist()
    else:
        ar, maned = period.tolist(), none
    geo = index.geo_dict[index.geo[rows]].tolist()
    if index.geo_column == "behandler_kommunenr":
        kommune, fylke = geo, [g[:2] for g in geo]
    elif index.geo_column == "behandler_fylke":
        kommune, fylke = none, geo
    else:
        kommune, fylke = none, none
    columns = [
        ar,
        maned,
        index.takst_dict[index.takst[rows]].tolist(),
        index.fag_dict[index.fag[rows]].tolist(),
        index.praksis_dict[index.praksis[rows]].tolist(),
        kommune,
        fylke,
    ]
    for name in MEASURES:
        values = index.values[name][rows].tolist()
        valid = index.valid[name][rows]
        if not valid.all():
            values = [v if ok else None for v, ok in zip(values, valid.tolist(), strict=True)]
        columns.append(values)
    if with_status:
        columns.append(index.status_dict[index.status[rows]].tolist())
        columns.append(index.rule_dict[index.rule[rows]].tolist())
    return columns


def _fragments(selection: Selection, fmt: str, make: Callable[[Row], bytes]) -> list[bytes]:
    """The rendered rows of a selection in order, rendering (and keeping) the new ones."""
    key = fmt + ("+status" if selection.medstatus else "")
    return _cached_rows(
        selection.index,
        key,
        selection.rows.tolist(),
        lambda rows: map(
            make, zip(*_helfo_columns(selection.index, rows, selection.medstatus), strict=True)
        ),
    )


def _cached_rows(
    index: TableIndex, key: str, rows: list[int], make: Callable[[np.ndarray], Iterable[bytes]]
) -> list[bytes]:
    """The fragments of ``rows`` kept under ``key``; ``make`` renders those not kept yet (as
    fragments of the rows it is given, in order)."""
    store = index.fragments
    known = store.get(key)
    try:
        return list(map(known.__getitem__, rows))  # every row rendered before: the usual case
    except KeyError:
        pass
    missing = [r for r in dict.fromkeys(rows) if r not in known]
    built = dict(zip(missing, make(np.array(missing, dtype=np.int64)), strict=True))
    for r, fragment in built.items():
        store.keep(key, r, fragment)
    return [known.get(r) or built[r] for r in rows]


def _names(selection: Selection) -> tuple[str, ...]:
    return (*FIELDS, *STATUS_FIELDS) if selection.medstatus else FIELDS


# -- JSON ------------------------------------------------------------------------------------


def render_json(selection: Selection) -> bytes:
    """A JSON array of row objects with Helfo's fields."""
    names = _names(selection)

    def make(values: Row) -> bytes:
        return orjson.dumps(dict(zip(names, values, strict=True)))

    return b"[" + b",".join(_fragments(selection, "json", make)) + b"]"


# -- XML -------------------------------------------------------------------------------------


def _number(value: float) -> str:
    if isinstance(value, int) or math.isfinite(value):
        return repr(value)
    return "NaN" if math.isnan(value) else "INF" if value > 0 else "-INF"


def render_xml(selection: Selection) -> bytes:
    """``<rows>`` with one ``<row>`` per row and one element per field (helsestat's XML
    layout, see :mod:`helsestat.publish.formats.xml_`); a null is ``xsi:nil="true"``."""
    names = _names(selection)
    opening = [f"<{n}>" for n in names]
    closing = [f"</{n}>" for n in names]
    nil = [f'<{n} xsi:nil="true"/>' for n in names]

    def make(values: Row) -> bytes:
        parts = ["<row>"]
        for i, value in enumerate(values):
            if value is None:
                parts.append(nil[i])
            else:
                text = escape(value) if isinstance(value, str) else _number(value)
                parts += (opening[i], text, closing[i])
        parts.append("</row>\n")
        return "".join(parts).encode()

    table = selection.index.source
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rows xmlns:xsi="{XSI}"'
        f' table="{escape(table.name)}" title="{escape(table.title)}"'
        f' release="{escape(table.release)}">\n'
    ).encode()
    return b"".join((head, *_fragments(selection, "xml", make), b"</rows>\n"))


# -- CSV -------------------------------------------------------------------------------------


def _csv_field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        if any(c in value for c in ',"\r\n'):
            return '"' + value.replace('"', '""') + '"'
        return value
    return repr(value)


def render_csv(selection: Selection) -> bytes:
    """RFC 4180 CSV, comma-separated, CRLF, a header row with Helfo's field names."""

    def make(values: Row) -> bytes:
        return (",".join(_csv_field(v) for v in values) + "\r\n").encode()

    header = (",".join(_names(selection)) + "\r\n").encode()
    return header + b"".join(_fragments(selection, "csv", make))


# -- Excel -----------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return "<c/>"
    if isinstance(value, str):
        return excel.text_cell(value)
    return f"<c><v>{_number(value)}</v></c>"


def render_xlsx(selection: Selection) -> bytes:
    """An Excel workbook with one sheet ``data``: Helfo's field names, then the rows."""

    def make(values: Row) -> bytes:
        return ("<row>" + "".join(_cell(v) for v in values) + "</row>").encode()

    return excel.workbook(_names(selection), _fragments(selection, "xlsx", make))


# -- JSON-stat and Parquet: publish()'s documents of the selected rows --------------------


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
    names = [n for n in index.view.column_names if n in table.dimensions or n in table.measures]
    dims = tuple(n for n in names if n in table.dimensions)
    measures = tuple(n for n in names if n in table.measures)
    metric = "measure"
    while metric in dims:
        metric += "_"
    layout = _CubeLayout(
        dims=dims,
        codes=np.stack([index.view_codes[d][1] for d in dims])
        if dims
        else np.zeros((0, len(index.period)), dtype=np.int32),
        labels=tuple(index.view_codes[d][0].tolist() for d in dims),
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
    columns = []
    for name in measures:
        values = index.values[name][rows].tolist()
        valid = index.valid[name][rows]
        if not valid.all():
            values = [v if ok else None for v, ok in zip(values, valid.tolist(), strict=True)]
        columns.append(values)
    return columns


def _constant(codes: np.ndarray) -> list[bool]:
    """Per row of a (column, selected row) matrix of codes: is it one code throughout?"""
    if not codes.shape[1]:
        return [True] * len(codes)
    same: list[bool] = np.logical_and.reduce(codes == codes[:, :1], axis=1).tolist()
    return same


def _cell_values(index: TableIndex, measures: Sequence[str], rows: np.ndarray) -> list[bytes]:
    """Per row, the JSON text of its measures as they stand in ``value`` (``7,12,1.5``)."""
    columns = _measure_columns(index, measures, rows)
    return [orjson.dumps(cells)[1:-1] for cells in zip(*columns, strict=True)]


def _jsonstat_dataset(selection: Selection) -> dict[str, Any]:
    """:func:`helsestat.publish.formats.jsonstat._dataset` of the selected rows — the same
    document (a test compares them), computed from the index's encoded columns. A dense
    ``value`` array is an :class:`orjson.Fragment` joined from each row's measures as JSON
    text, rendered once per row and kept like the rows of the other formats."""
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
    for codes, labels, single in zip(picked, layout.labels, _constant(picked), strict=True):
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
    if not index.unique and len(np.unique(place)) != n:
        raise HelsestatError(
            "publish.duplicate_cell",
            f"table {table.name!r} has more than one row for a combination of dimensions",
            hint="a published table has one row per combination of its dimension values",
        )
    size = [*sizes, width]
    places = math.prod(sizes)
    cells = places * width
    value: Any
    empty: list[int] = []  # the combinations without a row (dense value only)
    if cells <= max(DENSE_LIMIT, 2 * n * width):
        slots = [layout.nulls] * places
        texts = _cached_rows(
            index, "jsonstat", rows.tolist(), partial(_cell_values, index, layout.measures)
        )
        for at, text in zip(place.tolist(), texts, strict=True):
            slots[at] = text
        value = orjson.Fragment(b"[" + b",".join(slots) + b"]")
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
    if selection.medstatus and selection.suppressed:  # else every row is published
        suppressed = (~index.published[rows]).nonzero()[0]
        first = place[suppressed] * width
        row_status = index.status_dict[index.status[rows[suppressed]]].tolist()
        row_rule = index.rule_dict[index.rule[rows[suppressed]]].tolist()
        marked: dict[int, str] = {p * width + j: ABSENT for p in empty for j in range(width)}
        for at, st, rule in zip(first.tolist(), row_status, row_rule, strict=True):
            for j in range(width):
                marked[at + j] = st
                if rule:
                    rules[at + j] = rule
        status = {at: marked[at] for at in sorted(marked)}
    elif empty:  # {"<cell>": "absent", …} for every cell of every empty combination
        status = orjson.Fragment(b"{" + b",".join(_absent_texts(width, empty)) + b"}")
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
        "status_rule": {str(at): rules[at] for at in sorted(rules)},
    }
    return doc


def render_jsonstat(selection: Selection) -> bytes:
    """A JSON-stat 2.0 dataset of the selected rows (helsestat's JSON-stat layout)."""
    return orjson.dumps(_jsonstat_dataset(selection), option=orjson.OPT_NON_STR_KEYS)


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
    names = tuple(index.view.column_names)
    texts: dict[str, tuple[np.ndarray, np.ndarray]] = {
        **index.view_codes,
        STATUS_COLUMN: (index.status_dict, index.status),
        RULE_COLUMN: (index.rule_dict, index.rule),
    }
    text_names = [n for n in names if n in texts]
    plain = []
    for name in text_names:
        encoded = [str(v).encode() for v in texts[name][0].tolist()]
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
        text_codes=np.stack([texts[n][1] for n in text_names]),
        plain=tuple(plain),
        valid=np.stack([index.valid[m] for m in MEASURES]),
        metadata={METADATA_KEY.decode(): orjson.dumps(about).decode()},
    )
    index.constants["parquet"] = layout
    return layout


def render_parquet(selection: Selection) -> bytes:
    """A Parquet file of the selected rows (helsestat's Parquet layout and metadata), written
    by :mod:`helsestat.api.takstbruk.parquet`."""
    index, rows = selection.index, selection.rows
    layout = _parquet_layout(index)
    n = len(rows)
    picked = layout.text_codes[:, rows]
    text_columns = iter(zip(picked, layout.plain, _constant(picked), strict=True))
    valid = layout.valid[:, rows]
    complete = (np.count_nonzero(valid, axis=1) == n).tolist()
    columns = []
    for name in layout.names:
        if name in MEASURES:
            at = MEASURES.index(name)
            make = parquet.Column.int64 if name in COUNTS else parquet.Column.float64
            mask = None if complete[at] else valid[at]
            columns.append(make(name, index.values[name][rows], mask))
            continue
        codes, plain, single = next(text_columns)
        if single:  # one value in every row, e.g. the kommune asked for
            data = plain[int(codes[0])] * n if n else b""
        else:
            data = b"".join(map(plain.__getitem__, codes.tolist()))
        columns.append(parquet.Column.plain_text(name, data, n))
    return parquet.write_parquet(columns, layout.metadata)


#: Renderer per format name.
RENDERERS: Final[dict[str, Callable[[Selection], bytes]]] = {
    "json": render_json,
    "xml": render_xml,
    "csv": render_csv,
    "xlsx": render_xlsx,
    "jsonstat": render_jsonstat,
    "parquet": render_parquet,
}


def header_names(selection: Selection) -> Sequence[str]:
    """The field names of the Helfo-shaped formats for this selection."""
    return _names(selection)


def helfo_rows(selection: Selection, limit: int | None = None) -> list[Row]:
    """The first ``limit`` rows of a selection as tuples of Helfo's fields (plus status),
    in :func:`header_names` order — what the dashboard shows."""
    rows = selection.rows if limit is None else selection.rows[:limit]
    columns = _helfo_columns(selection.index, rows, selection.medstatus)
    return list(zip(*columns, strict=True)) if len(rows) else []
