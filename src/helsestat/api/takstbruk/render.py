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

Rows are rendered once and kept (within a byte budget) so a repeated row costs a lookup.

>>> FIELDS[:3]
('ar', 'maned', 'takstkode')
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
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
    store = selection.index.fragments
    known = store.get(key)
    rows = selection.rows.tolist()
    missing = [r for r in rows if r not in known]
    built: dict[int, bytes] = {}
    if missing:
        columns = _helfo_columns(selection.index, np.array(missing), selection.medstatus)
        for r, values in zip(missing, zip(*columns, strict=True), strict=True):
            built[r] = fragment = make(values)
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


def _first_seen(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes in order of first appearance, position of every code in that order)."""
    order = np.array(list(dict.fromkeys(codes.tolist())), dtype=np.int64)
    position = np.zeros(size, dtype=np.int64)
    position[order] = np.arange(len(order))
    return order, position


def _jsonstat_dataset(selection: Selection) -> dict[str, Any]:
    """:func:`helsestat.publish.formats.jsonstat._dataset` of the selected rows — the same
    document (a test compares them), computed with numpy from the index's encoded columns."""
    index, rows = selection.index, selection.rows
    table = index.source
    names = [n for n in index.view.column_names if n in table.dimensions or n in table.measures]
    dims = [n for n in names if n in table.dimensions]
    measures = [n for n in names if n in table.measures]
    metric = "measure"
    while metric in dims:
        metric += "_"
    categories: list[list[str]] = []
    place = np.zeros(len(rows), dtype=np.int64)
    sizes = []
    positions = []
    for dim in dims:
        dictionary, codes = index.view_codes[dim]
        order, position = _first_seen(codes[rows], len(dictionary))
        categories.append(dictionary[order].tolist())
        sizes.append(len(order))
        positions.append(position[codes[rows]])
    for i, position in enumerate(positions):
        place += position * math.prod(sizes[i + 1 :])
    size = [*sizes, len(measures)]
    if len(np.unique(place)) != len(place):
        raise HelsestatError(
            "publish.duplicate_cell",
            f"table {table.name!r} has more than one row for a combination of dimensions",
            hint="a published table has one row per combination of its dimension values",
        )
    width = len(measures)
    cells = math.prod(size)
    flat = [place * width + j for j in range(width)]
    columns = []
    for name in measures:
        values = index.values[name][rows].tolist()
        valid = index.valid[name][rows]
        if not valid.all():
            values = [v if ok else None for v, ok in zip(values, valid.tolist(), strict=True)]
        columns.append(values)
    suppressed = ~index.published[rows]
    status_at: list[np.ndarray] = []
    status_of: list[str] = []
    rules: dict[int, str] = {}
    if suppressed.any():
        row_status = index.status_dict[index.status[rows]]
        row_rule = index.rule_dict[index.rule[rows]]
        for j in range(width):
            for at, st, rule in zip(
                flat[j][suppressed].tolist(),
                row_status[suppressed].tolist(),
                row_rule[suppressed].tolist(),
                strict=True,
            ):
                status_at.append(np.array([at]))
                status_of.append(st)
                if rule:
                    rules[at] = rule
    filled = len(rows) * width
    value: list[Any] | dict[int, Any]
    if cells <= max(DENSE_LIMIT, 2 * filled):
        dense = np.full(cells, None, dtype=object)
        present = np.zeros(cells, dtype=bool)
        for j in range(width):
            dense[flat[j]] = columns[j]
            present[flat[j]] = True
        value = dense.tolist()
        absent = np.flatnonzero(~present)
    else:
        at = np.concatenate(flat) if flat else np.zeros(0, dtype=np.int64)
        numbers = [v for column in columns for v in column]
        order = np.argsort(at, kind="stable")
        # int keys: orjson writes them as the strings JSON-stat wants (OPT_NON_STR_KEYS)
        value = dict(zip(at[order].tolist(), [numbers[i] for i in order.tolist()], strict=True))
        absent = np.zeros(0, dtype=np.int64)
    status: dict[int, str]
    if status_at:
        where = np.concatenate([*status_at, absent])
        labels = status_of + [ABSENT] * len(absent)
        order = np.argsort(where, kind="stable")
        keys = where[order].tolist()
        status = dict(zip(keys, [labels[i] for i in order.tolist()], strict=True))
    else:
        status = dict.fromkeys(absent.tolist(), ABSENT)
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
        doc["status"] = status
    if table.notes:
        doc["note"] = list(table.notes)
    doc["extension"] = {
        "table": table.name,
        "release": table.release,
        "status": STATUS_CODES,
        "status_rule": {str(index): rules[index] for index in sorted(rules)},
    }
    return doc


def render_jsonstat(selection: Selection) -> bytes:
    """A JSON-stat 2.0 dataset of the selected rows (helsestat's JSON-stat layout)."""
    return orjson.dumps(_jsonstat_dataset(selection), option=orjson.OPT_NON_STR_KEYS)


def _plain(index: TableIndex, name: str, dictionary: np.ndarray) -> np.ndarray:
    """The dictionary of a text column, each entry length-prefixed UTF-8 (PLAIN)."""
    found = index.plain.get(name)
    if found is None:
        encoded = [str(v).encode() for v in dictionary.tolist()]
        found = np.array([struct.pack("<I", len(b)) + b for b in encoded], dtype=object)
        index.plain[name] = found
    return found


def render_parquet(selection: Selection) -> bytes:
    """A Parquet file of the selected rows (helsestat's Parquet layout and metadata), written
    by :mod:`helsestat.api.takstbruk.parquet`."""
    index, rows = selection.index, selection.rows
    table = index.source
    names = index.view.column_names
    texts: dict[str, tuple[np.ndarray, np.ndarray]] = {
        **index.view_codes,
        STATUS_COLUMN: (index.status_dict, index.status),
        RULE_COLUMN: (index.rule_dict, index.rule),
    }
    columns = []
    for name in names:
        if name in texts:
            dictionary, codes = texts[name]
            plain = b"".join(_plain(index, name, dictionary)[codes[rows]].tolist())
            columns.append(parquet.Column.plain_text(name, plain, len(rows)))
        elif name in COUNTS:
            columns.append(
                parquet.Column.int64(name, index.values[name][rows], index.valid[name][rows])
            )
        else:
            columns.append(
                parquet.Column.float64(name, index.values[name][rows], index.valid[name][rows])
            )
    about = {
        "name": table.name,
        "title": table.title,
        "release": table.release,
        "dimensions": [c for c in names if c in table.dimensions],
        "measures": [c for c in names if c in table.measures],
        "notes": list(table.notes),
    }
    return parquet.write_parquet(columns, {METADATA_KEY.decode(): orjson.dumps(about).decode()})


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
