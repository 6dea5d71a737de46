"""ProtectedTables for the publish tests, a Hypothesis strategy for random ones, and a reader
per format that turns the published bytes back into rows.

A *row* here is a dict of the published columns (dimensions and measures in table order, then
``status`` and ``status_rule``), the shape :func:`expected_rows` gives for the source table.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st
from pyjstat import pyjstat

from helsestat.model import RULE_COLUMN, STATUS_COLUMN, ProtectedTable
from helsestat.publish.formats.xml_ import XSI

Row = dict[str, Any]
GOLDEN_DIR = Path(__file__).parent / "golden"


def table(
    rows: list[tuple[Any, ...]],
    *,
    dimensions: tuple[str, ...],
    measures: dict[str, pa.DataType],
    name: str = "t",
    title: str = "T",
    release: str = "",
    notes: tuple[str, ...] = (),
) -> ProtectedTable:
    """A ProtectedTable from row tuples: dimensions, measures, status, status_rule."""
    names = [*dimensions, *measures, STATUS_COLUMN, RULE_COLUMN]
    types = [pa.string()] * len(dimensions) + list(measures.values()) + [pa.string()] * 2
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = [pa.array(list(c), type=t) for c, t in zip(columns, types, strict=True)]
    return ProtectedTable(
        name=name,
        title=title,
        dimensions=dimensions,
        measures=tuple(measures),
        table=pa.table(arrays, names=names),
        release=release,
        notes=notes,
    )


SMALL_ROWS: list[tuple[Any, ...]] = [
    ("2023", "0301", "Lege", 1432, 4410200.0, "published", ""),
    ("2024", "0301", "Lege", 1520, 4756525.0, "published", ""),
    ("2024", "0301", "Helsesøster", 41, 12000.25, "published", ""),
    ("2024", "3024", "Fysioterapeut, privat", 312, 1023400.5, "published", ""),
    ("2024", "5501", "Helsesøster", None, None, "primary", "count<=5"),
    ("2024", "5501", "Lege", None, None, "secondary", "margin"),
]
SMALL_SHAPE: dict[str, Any] = {
    "dimensions": ("aar", "kommune", "behandler"),
    "measures": {"antall": pa.int64(), "refusjon_kr": pa.float64()},
    "name": "refusjon_kommune",
    "title": "Refusjoner etter kommune, år og behandler – foreløpige tall & anslag",
    "release": "2024-06-01T0800",
    "notes": ("Tall for 2024 er foreløpige.", 'Kilde: KUHR – Helfo, "takstbruk".'),
}


def small_table() -> ProtectedTable:
    """Six rows: codes with leading zeros, æøå, a comma, one primary and one secondary cell,
    an int and a float measure."""
    return table(SMALL_ROWS, **SMALL_SHAPE)


def empty_table() -> ProtectedTable:
    """The small table's columns without any rows."""
    return table([], **{**SMALL_SHAPE, "name": "refusjon_tom", "notes": ()})


TABLES = {"small": small_table, "empty": empty_table}


def expected_rows(source: ProtectedTable) -> list[Row]:
    """The rows every format must carry: published columns in order, rule "" when null."""
    names = [c for c in source.table.column_names if c in (*source.dimensions, *source.measures)]
    rows: list[Row] = source.table.select([*names, STATUS_COLUMN, RULE_COLUMN]).to_pylist()
    for row in rows:
        row[RULE_COLUMN] = row[RULE_COLUMN] or ""
    return rows


def typed(rows: list[Row]) -> list[list[tuple[str, str, Any]]]:
    """Rows with each value's type, so 7 and 7.0 compare unequal."""
    return [[(k, type(v).__name__, v) for k, v in row.items()] for row in rows]


def by_key(rows: list[Row], source: ProtectedTable) -> dict[tuple[str, ...], Row]:
    return {tuple(row[d] for d in source.dimensions): row for row in rows}


# ---------------------------------------------------------------------------------------------
# Random tables.

_TEXT = st.text(
    # XML 1.0 cannot carry C0 controls other than tab/newline/carriage return; a carriage
    # return is written as Excel's own _x000D_ escape, which Excel decodes but openpyxl does not.
    alphabet=st.characters(codec="utf-8", exclude_characters="\ufffe\uffff").filter(
        lambda c: c in "\t\n" or ord(c) >= 0x20
    ),
    max_size=8,
)
_CODES = st.one_of(st.sampled_from(["0301", "03", "5001", "Ås", "Tromsø", "æøå", ""]), _TEXT)
_NAMES = ["aar", "kommune", "takstkode", "fagomraade", "antall", "personer", "sum_kr", "andel"]


@st.composite
def protected_tables(draw: st.DrawFn) -> ProtectedTable:
    """Random tables: 0-3 text dimensions, 0-3 int64/float64 measures, unique dimension
    combinations, statuses of every kind with suppressed measures null."""
    names = draw(st.lists(st.sampled_from(_NAMES), unique=True, max_size=5))
    n_dims = draw(st.integers(0, min(3, len(names))))
    dims, measure_names = names[:n_dims], names[n_dims:]
    kinds = {m: draw(st.sampled_from([pa.int64(), pa.float64()])) for m in measure_names}
    keys = draw(
        st.lists(
            st.tuples(*[_CODES] * n_dims),
            unique=True,
            max_size=12 if dims else 1,
        )
    )
    rows = []
    for key in keys:
        status = draw(st.sampled_from(["published", "published", "primary", "secondary"]))
        values = []
        for kind in kinds.values():
            if status != "published":
                values.append(None)
            elif kind == pa.int64():
                values.append(draw(st.none() | st.integers(-(10**15), 10**15)))
            else:
                # statistics stay far from the float limits; Excel keeps 15-17 digits, so a
                # value next to 1.8e308 can round to infinity when read back
                values.append(
                    draw(
                        st.none() | st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)
                    )
                )
        rule = draw(st.sampled_from(["count<=5", "persons<=10", "margin", "<&>\"'"]))
        rows.append((*key, *values, status, "" if status == "published" else rule))
    return table(
        rows,
        dimensions=tuple(dims),
        measures=kinds,
        title=draw(_TEXT),
        release=draw(st.sampled_from(["", "2024-06-01", "r7"])),
        notes=tuple(draw(st.lists(_TEXT, max_size=2))),
    )


# ---------------------------------------------------------------------------------------------
# Readers: published bytes → rows.


def _numbers(source: ProtectedTable) -> dict[str, type]:
    kinds = source.table.schema
    return {m: int if pa.types.is_integer(kinds.field(m).type) else float for m in source.measures}


def read_json(data: bytes, source: ProtectedTable) -> list[Row]:
    rows: list[Row] = json.loads(data)
    return rows


def read_csv(data: bytes, source: ProtectedTable, sep: str = ",") -> list[Row]:
    numbers = _numbers(source)
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=sep)
    header = next(reader)
    return [
        {
            k: (numbers[k](v) if v else None) if k in numbers else v
            for k, v in zip(header, record, strict=True)
        }
        for record in reader
    ]


def read_xml(data: bytes, source: ProtectedTable) -> list[Row]:
    numbers = _numbers(source)
    root = ET.fromstring(data)
    rows = []
    for element in root.iter("row"):
        row: Row = {}
        for field in element:
            text = field.text or ""
            if field.get(f"{{{XSI}}}nil") == "true":
                row[field.tag] = None
            elif field.tag in numbers:
                row[field.tag] = numbers[field.tag](text)
            else:
                row[field.tag] = text
        rows.append(row)
    return rows


def read_parquet(data: bytes, source: ProtectedTable) -> list[Row]:
    rows: list[Row] = pq.read_table(io.BytesIO(data)).to_pylist()
    return rows


def read_xlsx(data: bytes, source: ProtectedTable) -> list[Row]:
    """Rows of the data sheet; numbers keep the source's type (Excel has only doubles)."""
    numbers = _numbers(source)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["data"]
    header, *records = sheet.iter_rows(values_only=True)
    return [
        {
            k: (None if v is None else numbers[k](v)) if k in numbers else ("" if v is None else v)
            for k, v in zip(header, record, strict=True)
        }
        for record in records
    ]


def read_jsonstat(data: bytes, source: ProtectedTable) -> list[Row]:
    """Rows from a JSON-stat dataset: values through pyjstat, statuses and rules from the
    document (pyjstat does not read them), one row per present combination."""
    doc = json.loads(data)
    *dims, metric = doc["id"]
    measures = doc["dimension"][metric]["category"]["index"]
    status = doc.get("status", {})
    rules = doc["extension"]["status_rule"]
    numbers = _numbers(source)
    if not math.prod(doc["size"]):
        return []
    with warnings.catch_warnings():
        # pyjstat's dataframe writer calls its own deprecated from_json_stat.
        warnings.filterwarnings("ignore", "Shouldn't use this function", DeprecationWarning)
        frame = pyjstat.Dataset.read(data.decode("utf-8")).write("dataframe", naming="id")
    present = set(doc["value"]) if isinstance(doc["value"], dict) else None
    rows: dict[tuple[str, ...], Row] = {}
    for index, record in enumerate(frame.itertuples(index=False)):
        key = str(index)
        if status.get(key) == "absent" or (present is not None and key not in present):
            continue
        *codes, measure, value = record
        row = rows.setdefault(tuple(codes), dict(zip(dims, codes, strict=True)))
        row[measure] = None if value is None or value != value else numbers[measure](value)
        row[STATUS_COLUMN] = status.get(key, "published")
        row[RULE_COLUMN] = rules.get(key, "")
    # A table without measures has no cells to carry its rows.
    assert measures or not rows
    return [
        {**{d: r[d] for d in dims}, **{m: r[m] for m in measures}, **_status(r)}
        for r in rows.values()
    ]


def _status(row: Row) -> Row:
    return {STATUS_COLUMN: row[STATUS_COLUMN], RULE_COLUMN: row[RULE_COLUMN]}


READERS = {
    "json": read_json,
    "csv": read_csv,
    "xml": read_xml,
    "parquet": read_parquet,
    "xlsx": read_xlsx,
    "jsonstat": read_jsonstat,
}
