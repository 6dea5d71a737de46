"""The NPR statistic's one definition built on Spark (pyspark local mode) and on DuckDB from
the same stored files gives identical cubes and identical protected tables, in both
variants and all three families (SYNTHETIC stored episodes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from npr_lake import npr_lake, npr_reference

from helsestat.aggregate import DuckDBEngine, SparkEngine, aggregate
from helsestat.build import protect_statistic
from helsestat.statistics.npr import NPR_STATISTICS
from helsestat.store.lake.extracts import committed_files

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]


def test_npr_is_identical_on_spark_and_duckdb(tmp_path: Path) -> None:
    lake, episodes = npr_lake(tmp_path, rows=2000)
    files = committed_files(lake, "npr_episode")
    population = {"folkemengde": committed_files(lake, "folkemengde")}
    assert len(files) > 24  # two batches × 24 months
    reference = npr_reference(episodes)  # names the behandlingssteder
    statistics = [s.with_reference(reference).with_inputs(population) for s in NPR_STATISTICS]
    with DuckDBEngine(threads=2) as duck:
        expected = [aggregate(files, s.spec, duck) for s in statistics]
    protected_duck = [
        protect_statistic(s, files, duck, "compat", 3, cube=c)
        for s, c in zip(statistics, expected, strict=True)
    ]
    spark = SparkEngine()
    try:
        got = [aggregate(files, s.spec, spark) for s in statistics]
    finally:
        spark.close()
    # the finished and protected tables of the Spark cube (the rates with the population)
    protected_spark = [
        protect_statistic(s, files, spark, "compat", 3, cube=c)
        for s, c in zip(statistics, got, strict=True)
    ]
    for statistic, want, cube in zip(statistics, expected, got, strict=True):
        assert set(cube.tables) == set(want.tables), statistic.name
        for grouping, table in want.tables.items():
            assert table.num_rows > 0, (statistic.name, grouping)
            assert cube.tables[grouping].equals(table), (statistic.name, grouping)
    for duck_tables, spark_tables in zip(protected_duck, protected_spark, strict=True):
        for a, b in zip(duck_tables, spark_tables, strict=True):
            assert a.name == b.name and a.table.equals(b.table), a.name
        assert any("primary" in t.table["status"].to_pylist() for t in duck_tables)
