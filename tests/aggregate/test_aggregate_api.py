"""The public surface of helsestat.aggregate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import helsestat.aggregate as aggregate_package
from helsestat.aggregate import DuckDBEngine, Engine, engine_for
from helsestat.settings import Settings


def test_public_names() -> None:
    assert sorted(aggregate_package.__all__) == [
        "CodeColumn",
        "CubeSpec",
        "DuckDBEngine",
        "Engine",
        "Filter",
        "Hierarchy",
        "Level",
        "Lookup",
        "Measure",
        "Plan",
        "Prefix",
        "Rollup",
        "SparkEngine",
        "Total",
        "aggregate",
        "compile_plan",
        "engine_for",
        "finest",
        "finest_fingerprint",
        "merge_finest",
        "read_codes",
        "rollup",
    ]


def test_engine_for_settings() -> None:
    engine = engine_for(Settings(demo_mode=True, threads=3, memory_limit="512MB"))
    assert isinstance(engine, DuckDBEngine)
    assert (engine.threads, engine.memory_limit) == (3, "512MB")
    spark: Engine = engine_for(Settings(demo_mode=True, engine="spark"))
    assert spark.name == "spark"
    spark.close()  # never started: constructing an engine does no I/O


def test_importing_the_package_does_not_import_pyspark() -> None:
    code = "import sys, helsestat.aggregate; sys.exit('pyspark' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_duckdb_gets_its_share_of_the_memory_and_spills_under_the_data_dir(
    tmp_path: Path,
) -> None:
    engine = engine_for(Settings(demo_mode=True, data_dir=tmp_path, memory_limit="2GB"))
    assert isinstance(engine, DuckDBEngine)
    with engine:
        cursor = engine._cursor()
        try:
            limit, temp = cursor.sql(
                "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
            ).fetchall()[0]
        finally:
            cursor.close()
    assert limit == "953.0 MiB"  # half of 2·1000³ bytes, in MiB
    assert temp == str(tmp_path / "tmp" / "duckdb")
    assert (tmp_path / "tmp").is_dir()
