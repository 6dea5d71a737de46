"""Parity: the Spark engine gives the DuckDB engine's cube, table for table, cell for cell."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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
    aggregate,
    finest,
    merge_finest,
)
from helsestat.errors import EngineError

from ._data import claims, spec, write

if TYPE_CHECKING:
    from helsestat.aggregate import SparkEngine

pytestmark = [
    pytest.mark.spark,
    # pyspark.testing, imported by pyspark itself at session start, checks pandas and warns
    # about pandas 3; pyspark catches it. Our path uses Arrow only.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]


@pytest.mark.parametrize(
    ("distinct", "filters"), [(True, True), (False, False)], ids=["all", "additive-nofilter"]
)
def test_spark_cube_equals_duckdb_cube(
    extract: tuple[list[Path], list[pa.Table]],
    duckdb_engine: DuckDBEngine,
    spark_engine: SparkEngine,
    distinct: bool,
    filters: bool,
) -> None:
    files, _ = extract
    cube_spec = spec(distinct=distinct, filters=filters)
    on_duckdb = aggregate(files, cube_spec, duckdb_engine)
    on_spark = aggregate(files, cube_spec, spark_engine)
    assert list(on_spark.tables) == list(on_duckdb.tables)
    for grouping, expected in on_duckdb.tables.items():
        actual = on_spark.tables[grouping]
        assert actual.schema == expected.schema, grouping
        assert actual.to_pylist() == expected.to_pylist(), grouping


def test_spark_finest_equals_duckdb_finest(
    extract: tuple[list[Path], list[pa.Table]],
    duckdb_engine: DuckDBEngine,
    spark_engine: SparkEngine,
) -> None:
    files, _ = extract
    cube_spec = spec(distinct=False)
    on_spark = finest(files, cube_spec, spark_engine)
    on_duckdb = finest(files, cube_spec, duckdb_engine)
    assert on_spark.schema == on_duckdb.schema
    # merge_finest sorts by the keys, so row order of the engines does not matter.
    assert merge_finest([on_spark], cube_spec).equals(merge_finest([on_duckdb], cube_spec))


def test_spark_raises_the_same_errors(tmp_path: Path, spark_engine: SparkEngine) -> None:
    path = write(pa.table({"k": ["0301", "1103"], "belop": [1.0, 2.0]}), tmp_path / "x.parquet")
    geo = Hierarchy(
        "geo", (Level("kommune", column="k"), Level("region", rollup=Lookup((("0301", "Øst"),))))
    )
    lookup = CubeSpec("x", (geo,), (Measure("n", "count"),))
    with pytest.raises(EngineError) as caught:
        aggregate([path], lookup, spark_engine)
    assert caught.value.code == "aggregate.lookup_missing"
    assert "'1103'" in caught.value.message
    missing = CubeSpec("x", (geo,), (Measure("kr", "sum", "refusjon"),))
    with pytest.raises(EngineError) as caught:
        aggregate([path], missing, spark_engine)
    assert caught.value.code == "aggregate.missing_column"
    big = write(pa.table({"k": ["0301", "0301"], "x": [2**62, 2**62]}), tmp_path / "big.parquet")
    kommune = Hierarchy("geo", (Level("kommune", column="k"),))
    with pytest.raises(EngineError) as caught:
        aggregate([big], CubeSpec("x", (kommune,), (Measure("kr", "sum", "x"),)), spark_engine)
    assert caught.value.code == "aggregate.engine_failed"


def test_spark_empty_results(
    tmp_path: Path, duckdb_engine: DuckDBEngine, spark_engine: SparkEngine
) -> None:
    path = write(claims(100, seed=5), tmp_path / "x.parquet")
    base = spec()
    nothing = CubeSpec(
        base.name, base.hierarchies, base.measures, (Filter("maaned", "le", (190001,)),)
    )
    on_spark = aggregate([path], nothing, spark_engine)
    assert on_spark.tables == aggregate([path], nothing, duckdb_engine).tables
    assert all(t.num_rows == 0 for t in on_spark.tables.values())
    assert aggregate([], base, spark_engine).tables == aggregate([], base, duckdb_engine).tables
