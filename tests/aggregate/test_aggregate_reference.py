"""The DuckDB engine against the pure-Python reference, and the semantics cell by cell."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from helsestat.aggregate import (
    CubeSpec,
    DuckDBEngine,
    Filter,
    Hierarchy,
    Level,
    Lookup,
    Measure,
    Prefix,
    Total,
    aggregate,
)

from ._data import reference, spec, write


def assert_same(actual: pa.Table, expected: pa.Table) -> None:
    assert actual.schema == expected.schema
    assert actual.to_pylist() == expected.to_pylist()


@pytest.mark.parametrize(
    ("distinct", "filters"),
    [(True, True), (True, False), (False, True)],
    ids=["all", "nofilter", "additive"],
)
def test_every_grouping_matches_the_reference(
    extract: tuple[list[Path], list[pa.Table]],
    duckdb_engine: DuckDBEngine,
    distinct: bool,
    filters: bool,
) -> None:
    files, tables = extract
    cube_spec = spec(distinct=distinct, filters=filters)
    cube = aggregate(files, cube_spec, duckdb_engine)
    expected = reference(tables, cube_spec)
    assert list(cube.tables) == list(cube_spec.all_groupings())
    assert len(cube.tables) == 4 * 3 * 3
    for grouping, table in cube.tables.items():
        assert_same(table, expected[grouping])
    # The data exercise what they should: null keys, all-null sums, more than one group.
    kommune = cube.tables[("kommune", "maaned", "takstkode")]
    assert kommune.column("kommune").null_count > 0
    assert kommune.column("tillegg").null_count > 0
    assert kommune.num_rows > 100


def test_dimensions_are_text_sorted_with_nulls_last(
    tmp_path: Path, duckdb_engine: DuckDBEngine
) -> None:
    path = write(
        pa.table(
            {
                "kommunenr": ["1103", None, "0301", "0301", "1103"],
                "maaned": pa.array([201805, 201712, None, 201805, 201805], pa.int64()),
                "belop": pa.array([1, 2, 3, 4, None], pa.int32()),
            }
        ),
        tmp_path / "x.parquet",
    )
    geo = Hierarchy("geo", (Level("kommune", column="kommunenr"), Level("landet", rollup=Total())))
    tid = Hierarchy("tid", (Level("maaned", column="maaned"),))
    cube_spec = CubeSpec("x", (geo, tid), (Measure("kr", "sum", "belop"), Measure("n", "count")))
    tables = aggregate([path], cube_spec, duckdb_engine).tables
    assert tables[("kommune", "maaned")].to_pydict() == {
        "kommune": ["0301", "0301", "1103", None],
        "maaned": ["201805", None, "201805", "201712"],
        "kr": [4, 3, 1, 2],
        "n": [1, 1, 2, 1],
    }
    assert tables[("landet", "maaned")].schema == pa.schema(
        [("maaned", pa.string()), ("kr", pa.int64()), ("n", pa.int64())]
    )
    assert tables[("landet", "maaned")].to_pydict() == {
        "maaned": ["201712", "201805", None],
        "kr": [2, 5, 3],
        "n": [1, 3, 1],
    }


def test_lookup_chains_after_prefix_and_maps_null_to_null(
    tmp_path: Path, duckdb_engine: DuckDBEngine
) -> None:
    path = write(pa.table({"k": ["0301", "1103", "9999", None]}), tmp_path / "x.parquet")
    geo = Hierarchy(
        "geo",
        (
            Level("kommune", column="k"),
            Level("fylke", rollup=Prefix(2)),
            Level("region", rollup=Lookup((("03", "Øst"), ("11", "Vest")), default="Ukjent")),
        ),
    )
    cube_spec = CubeSpec("x", (geo,), (Measure("n", "count"),), groupings=(("region",),))
    table = aggregate([path], cube_spec, duckdb_engine).tables[("region",)]
    assert table.to_pydict() == {"region": ["Ukjent", "Vest", "Øst", None], "n": [1, 1, 1, 1]}


def test_filter_values_are_converted_to_the_column_type(
    extract: tuple[list[Path], list[pa.Table]], duckdb_engine: DuckDBEngine
) -> None:
    files, tables = extract
    tid = Hierarchy("tid", (Level("maaned", column="maaned"), Level("aar", rollup=Prefix(4))))
    as_text = CubeSpec(
        "x", (tid,), (Measure("n", "count"),), (Filter("maaned", "le", ("201806",)),)
    )
    as_int = CubeSpec("x", (tid,), (Measure("n", "count"),), (Filter("maaned", "le", (201806,)),))
    text_cube = aggregate(files, as_text, duckdb_engine)
    assert text_cube.tables == aggregate(files, as_int, duckdb_engine).tables
    assert text_cube.tables[("aar",)].to_pydict() == reference(tables, as_int)[("aar",)].to_pydict()


def test_only_count_distinct_and_grand_total(
    extract: tuple[list[Path], list[pa.Table]], duckdb_engine: DuckDBEngine
) -> None:
    files, tables = extract
    geo = Hierarchy("geo", (Level("kommune", column="kommunenr"), Level("landet", rollup=Total())))
    cube_spec = CubeSpec("x", (geo,), (Measure("personer", "count_distinct", "pid"),))
    cube = aggregate(files, cube_spec, duckdb_engine)
    expected = reference(tables, cube_spec)
    for grouping in cube_spec.all_groupings():
        assert_same(cube.tables[grouping], expected[grouping])
    assert cube.tables[("landet",)].to_pydict() == {"personer": [150]}


@pytest.mark.parametrize("cardinality", [50, 5000, 10**6], ids=["low", "mid", "high"])
def test_integer_dimensions_of_any_cardinality_sort_as_text(
    tmp_path: Path, duckdb_engine: DuckDBEngine, cardinality: int
) -> None:
    # High cardinalities take the sorting path of phase 2 instead of the dense renumbering.
    rng = np.random.default_rng(cardinality)
    table = pa.table(
        {
            "a": pa.array(rng.integers(0, cardinality, 3000), pa.int64()),
            "b": pa.array(rng.integers(0, cardinality, 3000), pa.int64()),
            "c": pa.array([f"c{i}" for i in rng.integers(0, 3, 3000)]),
            "x": pa.array(rng.integers(-5, 5, 3000), pa.int64()),
        }
    )
    path = write(table, tmp_path / "x.parquet")
    hierarchies = tuple(
        Hierarchy(c, (Level(c, column=c), Level(f"{c}_total", rollup=Total()))) for c in "abc"
    )
    cube_spec = CubeSpec("x", hierarchies, (Measure("n", "count"), Measure("x", "sum", "x")))
    cube = aggregate([path], cube_spec, duckdb_engine)
    expected = reference([table], cube_spec)
    for grouping in cube_spec.all_groupings():
        assert_same(cube.tables[grouping], expected[grouping])
