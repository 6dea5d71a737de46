"""The takstbruk statistic built on Spark equals the one built on DuckDB, cell for cell, from
a synthetic claims extract that went through the real ingest (SYNTHETIC DATA)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helsestat.aggregate import DuckDBEngine, SparkEngine, aggregate
from helsestat.build import ingest_file, protect_statistic
from helsestat.reference.seed import packaged_reference
from helsestat.statistics.takstbruk import TAKSTBRUK
from helsestat.store.lake import Lake
from helsestat.store.lake.extracts import committed_files

#: The reference data claims are checked against and rules read: the packaged files.
REFERENCE = packaged_reference()

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]


def test_takstbruk_is_identical_on_spark_and_duckdb(tmp_path: Path, claims_csv: Path) -> None:
    lake = Lake(tmp_path / "var")
    ingest_file(claims_csv, "claims", b"k" * 40, lake, REFERENCE)
    files = committed_files(lake, "claims")
    assert len(files) > 12
    with DuckDBEngine(threads=2) as duck:
        expected = aggregate(files, TAKSTBRUK.spec, duck)
        protected_duck = protect_statistic(
            TAKSTBRUK.with_reference(REFERENCE), files, duck, "compat", 5
        )
    spark = SparkEngine()
    try:
        got = aggregate(files, TAKSTBRUK.spec, spark)
        protected_spark = protect_statistic(
            TAKSTBRUK.with_reference(REFERENCE), files, spark, "compat", 5
        )
    finally:
        spark.close()
    assert set(got.tables) == set(expected.tables)
    for grouping, table in expected.tables.items():
        assert table.num_rows > 0
        assert got.tables[grouping].equals(table), grouping
    for a, b in zip(protected_duck, protected_spark, strict=True):
        assert a.name == b.name and a.table.equals(b.table)
