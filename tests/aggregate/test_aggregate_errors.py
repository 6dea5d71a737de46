"""Errors say what and where, and empty input gives empty tables of the right schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helsestat.aggregate import (
    CubeSpec,
    DuckDBEngine,
    Filter,
    Hierarchy,
    Level,
    Lookup,
    Measure,
    Total,
    aggregate,
    finest,
    rollup,
)
from helsestat.errors import EngineError

from ._data import claims, reference, spec, write


def test_missing_column_names_the_column_and_the_file(
    tmp_path: Path, duckdb_engine: DuckDBEngine
) -> None:
    good = write(claims(50, seed=1), tmp_path / "good.parquet")
    bad = write(claims(50, seed=2).drop_columns(["belop"]), tmp_path / "bad.parquet")
    with pytest.raises(EngineError) as caught:
        aggregate([good, bad], spec(), duckdb_engine)
    err = caught.value
    assert err.code == "aggregate.missing_column"
    assert err.message == f"cube 'testkube': column 'belop' missing in {bad}"
    assert "kommunenr" in err.hint


def test_unreadable_file(tmp_path: Path, duckdb_engine: DuckDBEngine) -> None:
    path = tmp_path / "claims.parquet"
    path.write_text("kommunenr;maaned\n0301;201801\n")
    with pytest.raises(EngineError) as caught:
        aggregate([path], spec(), duckdb_engine)
    assert caught.value.code == "aggregate.unreadable"
    assert str(path) in caught.value.message


def test_lookup_without_default_names_the_missing_value_and_the_level(
    tmp_path: Path, duckdb_engine: DuckDBEngine
) -> None:
    path = write(pa.table({"k": ["0301", "1103", "5001", None]}), tmp_path / "x.parquet")
    geo = Hierarchy(
        "geo", (Level("kommune", column="k"), Level("region", rollup=Lookup((("0301", "Øst"),))))
    )
    cube_spec = CubeSpec("x", (geo,), (Measure("n", "count"), Measure("p", "count_distinct", "k")))
    with pytest.raises(EngineError) as caught:
        aggregate([path], cube_spec, duckdb_engine)
    assert caught.value.code == "aggregate.lookup_missing"
    assert caught.value.message == "cube 'x': level 'region' has no mapping for '1103', '5001'"


@pytest.mark.parametrize(
    ("cube_spec", "code"),
    [
        (
            CubeSpec(
                "x",
                (Hierarchy("tid", (Level("maaned", column="maaned"),)),),
                (Measure("maaned", "count"),),
            ),
            "aggregate.invalid_spec",
        ),
        (
            CubeSpec(
                "x", (Hierarchy("b", (Level("b", column="belop"),)),), (Measure("n", "count"),)
            ),
            "aggregate.column_type",
        ),
        (
            CubeSpec(
                "x",
                (Hierarchy("k", (Level("k", column="kommunenr"),)),),
                (Measure("n", "count"),),
                (Filter("kommunenr", "in", (301,)),),
            ),
            "aggregate.filter_value",
        ),
        (
            CubeSpec(
                "x",
                (Hierarchy("k", (Level("k", column="kommunenr"),)),),
                (Measure("n", "sum", "pid"),),
            ),
            "aggregate.column_type",
        ),
    ],
    ids=["duplicate-name", "float-dimension", "int-filter-on-text", "sum-of-text"],
)
def test_bad_specs_are_refused(
    tmp_path: Path, duckdb_engine: DuckDBEngine, cube_spec: CubeSpec, code: str
) -> None:
    path = write(claims(20, seed=1), tmp_path / "x.parquet")
    with pytest.raises(EngineError) as caught:
        aggregate([path], cube_spec, duckdb_engine)
    assert caught.value.code == code
    assert caught.value.hint


def test_no_files_gives_empty_tables_with_the_right_schemas(duckdb_engine: DuckDBEngine) -> None:
    cube_spec = spec()
    typed = aggregate([], cube_spec, duckdb_engine, schema=claims(1, seed=1).schema)
    untyped = aggregate([], cube_spec, duckdb_engine)
    for grouping in cube_spec.all_groupings():
        dims = [pa.field(c, pa.string()) for c in cube_spec.output_columns(grouping)]
        measures = [("linjer", pa.int64()), ("personer", pa.int64()), ("antall", pa.int64())]
        assert typed.tables[grouping].schema == pa.schema(
            [*dims, *measures, ("kroner", pa.float64()), ("tillegg", pa.float64())]
        )
        assert typed.tables[grouping].num_rows == 0
        assert untyped.tables[grouping].schema.field("antall").type == pa.float64()
    assert finest([], cube_spec, duckdb_engine).num_rows == 0


def test_filters_that_keep_nothing_give_empty_tables_even_for_totals(
    tmp_path: Path, duckdb_engine: DuckDBEngine
) -> None:
    path = write(claims(200, seed=4), tmp_path / "x.parquet")
    nothing = spec(filters=False)
    nothing = CubeSpec(
        nothing.name, nothing.hierarchies, nothing.measures, (Filter("maaned", "ge", (203001,)),)
    )
    cube = aggregate([path], nothing, duckdb_engine)
    total = cube.tables[("landet", "alle_aar", "alle_takster")]
    assert total.num_rows == 0
    assert total.schema.names == ["linjer", "personer", "antall", "kroner", "tillegg"]
    assert total.schema.field("antall").type == pa.int64()
    assert all(t.num_rows == 0 for t in cube.tables.values())


def test_int64_overflow_is_refused_in_both_phases(
    tmp_path: Path, duckdb_engine: DuckDBEngine
) -> None:
    geo = Hierarchy("geo", (Level("kommune", column="k"), Level("landet", rollup=Total())))
    cube_spec = CubeSpec("x", (geo,), (Measure("kr", "sum", "x"),))
    big = pa.array([2**62, 2**62], pa.int64())
    same_key = write(pa.table({"k": ["0301", "0301"], "x": big}), tmp_path / "a.parquet")
    with pytest.raises(EngineError) as caught:
        aggregate([same_key], cube_spec, duckdb_engine)
    assert (caught.value.code, caught.value.message) == (
        "aggregate.engine_failed",
        "cube 'x': DuckDB failed (ConversionException)",
    )
    with pytest.raises(EngineError) as caught:
        rollup(pa.table({"kommune": ["0301", "1103"], "kr": big}), cube_spec)
    assert caught.value.code == "aggregate.overflow"


def test_float_sums_of_real_amounts_match_to_rounding(
    tmp_path: Path, duckdb_engine: DuckDBEngine
) -> None:
    # Amounts in kroner and øre are not exact in binary: the order of addition changes the
    # last bits, so engines agree to rounding, not bit for bit (integer øre would be exact).
    rng = np.random.default_rng(7)
    table = claims(3000, seed=7).set_column(
        6, "belop", pa.array(np.round(rng.gamma(2.0, 150.0, 3000), 2))
    )
    path = write(table, tmp_path / "x.parquet")
    cube_spec = spec(distinct=False)
    cube = aggregate([path], cube_spec, duckdb_engine)
    expected = reference([table], cube_spec)
    for grouping, actual in cube.tables.items():
        assert actual.column("kroner").to_pylist() == pytest.approx(
            expected[grouping].column("kroner").to_pylist(), rel=1e-12
        )
        assert actual.drop_columns(["kroner"]).equals(expected[grouping].drop_columns(["kroner"]))


def test_a_flag_column_is_filtered_by_true_or_false(
    tmp_path: Path, duckdb_engine: DuckDBEngine
) -> None:
    path = tmp_path / "flags.parquet"
    pq.write_table(
        pa.table({"k": ["a", "a", "b"], "ok": pa.array([True, False, None], pa.bool_())}), path
    )
    geo = (Hierarchy("k", (Level("k", column="k"),)),)
    kept = CubeSpec("x", geo, (Measure("n", "count"),), (Filter("ok", "in", (True,)),))
    assert aggregate([path], kept, duckdb_engine).tables[("k",)].to_pydict() == {
        "k": ["a"],
        "n": [1],
    }
    dropped = CubeSpec("x", geo, (Measure("n", "count"),), (Filter("ok", "not_in", (True,)),))
    assert aggregate([path], dropped, duckdb_engine).tables[("k",)].to_pydict() == {
        "k": ["a", "b"],
        "n": [1, 1],
    }
    for wrong in (Filter("ok", "in", (1,)), Filter("k", "in", (True,))):
        spec = CubeSpec("x", geo, (Measure("n", "count"),), (wrong,))
        with pytest.raises(EngineError) as caught:
            aggregate([path], spec, duckdb_engine)
        assert caught.value.code == "aggregate.filter_value"
