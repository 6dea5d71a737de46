"""A large answer rendered in parts (what the server sends a whole table as) is the same
bytes as the answer rendered whole, in every format: with suppressed cells (Excel notes,
JSON-stat status and rules), absent combinations, a view of named fields, and a selection
that is not the whole table."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import pyarrow as pa
import pytest
from publish_tables import table

from helsestat.model import ProtectedTable
from helsestat.publish.formats import FORMATS
from helsestat.publish.formats.csv_ import _vectorised as csv_vectorised
from helsestat.publish.formats.csv_ import render_rows as csv_render
from helsestat.publish.index import Query, Selection, TableIndex
from helsestat.publish.views import DEFAULT, PIECE_ROWS, VECTOR_ROWS, Field, View

ROWS = 2 * PIECE_ROWS + 321  # three pieces, the last one short


def big_table() -> ProtectedTable:
    """Kommuner × months, every seventh cell suppressed, every eleventh combination absent."""
    rows = []
    for i in range(ROWS + ROWS // 10):
        if i % 11 == 5:
            continue
        kommune, month = f"{i // 60:04d}", f"2024{1 + i % 12:02d}"
        hidden = i % 7 == 3
        rows.append(
            (
                kommune,
                month,
                f"T{i % 5}",
                None if hidden else i,
                None if hidden else i * 1.5,
                "primary" if hidden else "published",
                "n<=5" if hidden and i % 2 else "",
            )
        )
    return table(
        rows,
        dimensions=("kommune", "maned", "takst"),
        measures={"antall": pa.int64(), "belop": pa.float64()},
        name="stor",
        title="Stor & <tabell>",
        release="2024-06-01T00",
        notes=("a note",),
    )


HELFO_LIKE = View(
    "named",
    (Field("maned", kind="integer"), Field("kommune"), Field("mangler"), Field("antall")),
    status_always=False,
)


@pytest.fixture(scope="module")
def index() -> TableIndex:
    return TableIndex.build(big_table())


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("view", [DEFAULT, HELFO_LIKE], ids=["published", "named"])
@pytest.mark.parametrize("with_suppressed", [True, False])
def test_parts_join_to_the_whole_answer(
    index: TableIndex, fmt: str, view: View, with_suppressed: bool
) -> None:
    selection = index.select(Query({}, None, with_suppressed))
    assert len(selection) > PIECE_ROWS + PIECE_ROWS // 2
    whole = FORMATS[fmt].render_selection(selection, view)
    parts = FORMATS[fmt].render_parts(selection, view)
    if fmt != "parquet":  # parquet is written in one part
        assert len(parts) >= 3
    assert b"".join(parts) == whole
    # and again, every row kept from the first answer
    assert b"".join(FORMATS[fmt].render_parts(selection, view)) == whole


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_parts_of_a_part_of_the_table_and_of_nothing(index: TableIndex, fmt: str) -> None:
    some = index.select(Query({"takst": ("T1", "T3")}))
    nothing = index.select(Query({"takst": ("nope",)}))
    for selection in (some, nothing):
        whole = FORMATS[fmt].render_selection(selection, DEFAULT)
        assert b"".join(FORMATS[fmt].render_parts(selection, DEFAULT)) == whole


def test_the_whole_table_in_parts_is_what_publish_writes() -> None:
    source = big_table()
    everything = Selection.everything(TableIndex.build(source))
    for name, fmt in FORMATS.items():
        assert b"".join(fmt.render_parts(everything)) == fmt.render(source), name


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("view", [DEFAULT, HELFO_LIKE], ids=["published", "named"])
def test_an_answer_whose_rows_are_not_kept_is_the_same_bytes(
    index: TableIndex, fmt: str, view: View
) -> None:
    """An answer computed for one query is rendered in one go, its rows not kept (the
    service builds its index so): the same bytes as rows rendered and kept, whole, in parts
    and for a part of the table."""
    once = TableIndex.of_answer(big_table())
    for query in (Query({}, None, True), Query({}, None, False), Query({"takst": ("T1", "T3")})):
        kept, not_kept = index.select(query), once.select(query)
        whole = FORMATS[fmt].render_selection(kept, view)
        assert FORMATS[fmt].render_selection(not_kept, view) == whole
        assert b"".join(FORMATS[fmt].render_parts(not_kept, view)) == whole
    assert not any(once.fragments.by_format.values())


def counts_table(rows: int) -> ProtectedTable:
    """Integer measures only (what a large computed answer holds), text that JSON escapes
    (quotes, a backslash, a control character, non-ASCII), suppressed cells."""
    names = ['Bo "KBT"', "ångest\\oro", "tab\there", "Ärende ✓", ""]
    out = []
    for i in range(rows):
        hidden = i % 9 == 4
        out.append(
            (
                f"2024-{1 + i % 12:02d}",
                names[i % len(names)],
                f"m{i // 7}",
                None if hidden else i - 50,
                None if hidden else i * 3,
                "primary" if hidden else "published",
                "n<=10" if hidden else "",
            )
        )
    return table(
        out,
        dimensions=("manad", "process", "moment"),
        measures={"pagaende": pa.int64(), "invanare": pa.int64()},
    )


@pytest.mark.parametrize("rows", [0, 3, VECTOR_ROWS - 1, VECTOR_ROWS, 3 * VECTOR_ROWS + 17])
def test_a_large_answer_of_counts_is_the_same_json_as_rows_rendered_each(rows: int) -> None:
    """A computed answer of integer counts is written by Arrow kernels from
    :data:`VECTOR_ROWS` rows on: byte for byte what orjson writes row by row."""
    source = counts_table(rows)
    kept, once = TableIndex.build(source), TableIndex.of_answer(source)
    for query in (Query({}, None, True), Query({}, None, False), Query({"moment": ("m3",)})):
        whole = FORMATS["json"].render_selection(kept.select(query), DEFAULT)
        assert FORMATS["json"].render_selection(once.select(query), DEFAULT) == whole
    rendered = json.loads(FORMATS["json"].render_selection(once.select(Query()), DEFAULT))
    assert len(rendered) == rows
    if rows:
        assert rendered[1] == {
            "manad": "2024-02",
            "process": "ångest\\oro",
            "moment": "m0",
            "pagaende": -49,
            "invanare": 3,
            "status": "published",
            "status_rule": "",
        }


def csv_table(rows: int) -> ProtectedTable:
    """:func:`counts_table` with text that CSV quotes (the separator, a quote, a line
    break) and a value that is empty."""
    source = counts_table(rows)
    names = ["Migrän, huvudvärk", 'Bo "KBT"', "två\r\nrader", "Ärende ✓", ""]
    process = [names[i % len(names)] for i in range(rows)]
    at = source.table.column_names.index("process")
    return replace(source, table=source.table.set_column(at, "process", pa.array(process)))


@pytest.mark.parametrize("rows", [0, 3, VECTOR_ROWS - 1, VECTOR_ROWS, 2 * VECTOR_ROWS + 5])
@pytest.mark.parametrize("sep", [",", ";"])
def test_a_large_answer_of_counts_is_the_same_csv_as_rows_rendered_each(
    rows: int, sep: str
) -> None:
    """A computed answer of integer counts is written by Arrow kernels from
    :data:`VECTOR_ROWS` rows on: byte for byte the records written row by row."""
    source = csv_table(rows)
    kept, once = TableIndex.build(source), TableIndex.of_answer(source)
    for query in (Query({}, None, True), Query({}, None, False), Query({"moment": ("m3",)})):
        whole = csv_render(kept.select(query), DEFAULT, sep)
        assert csv_render(once.select(query), DEFAULT, sep) == whole
    if rows:
        text = csv_render(once.select(Query()), DEFAULT, sep).decode()
        parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
        assert len(parsed) == rows + 1
        expected = {
            (m, p, mo, "" if n is None else str(n), "" if k is None else str(k), st, r)
            for m, p, mo, n, k, st, r in zip(*source.table.to_pydict().values(), strict=True)
        }
        assert {tuple(row) for row in parsed[1:]} == expected
        assert any(row[1] == "två\r\nrader" for row in parsed[1:])
    if rows >= VECTOR_ROWS:  # from the threshold on, the kernels write it (not the rows)
        assert csv_vectorised(once.select(Query()), DEFAULT, sep) is not None
