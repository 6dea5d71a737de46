"""The Spark cluster invocation of docs/spark-cluster.md, run for real against a local master
(``spark-submit --master local[1] scripts/spark_build.py``) on a tiny SYNTHETIC lake of
NPR-like episodes: the build takes spark-submit's master (not the engine's own local
default) and publishes the same tables as the DuckDB build of the same lake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from helsestat.aggregate import DuckDBEngine
from helsestat.build import build
from helsestat.reference.holder import ReferenceHolder
from helsestat.settings import Settings
from helsestat.store.lake import Lake

ROOT = Path(__file__).resolve().parents[1]
SPARK_SUBMIT = Path(sys.executable).with_name("spark-submit")

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(not SPARK_SUBMIT.exists(), reason="pyspark's spark-submit not installed"),
]


def _bench_npr() -> object:
    sys.path.insert(0, str(ROOT))
    try:
        import benchmarks.bench_npr as module
    finally:
        sys.path.remove(str(ROOT))
    return module


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by([(c, "ascending") for c in table.column_names])


def test_spark_submit_builds_the_release_duckdb_builds(tmp_path: Path) -> None:
    bench_npr = _bench_npr()
    home = tmp_path / "lake"
    params = bench_npr.LakeParams(episodes=2400, years=1)  # type: ignore[attr-defined]
    written = bench_npr.write_lake(home, params)  # type: ignore[attr-defined]
    assert written["stored"] == 2400

    env = {k: v for k, v in os.environ.items() if not k.startswith("HELSESTAT_")}
    env |= {
        "HELSESTAT_DATA_DIR": str(home),
        "HELSESTAT_DEMO_MODE": "true",
        "HELSESTAT_ENGINE": "spark",
        "PYSPARK_PYTHON": sys.executable,
    }
    command = [
        str(SPARK_SUBMIT),
        "--master",
        "local[1]",
        "--conf",
        "spark.ui.enabled=false",
        "scripts/spark_build.py",
        "--release",
        "on-spark",
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["release"] == "on-spark"
    assert answer["master"] == "local[1]"  # spark-submit's, not SparkEngine's local[2]

    lake = Lake(home)
    settings = Settings(demo_mode=True, data_dir=home)
    holder = ReferenceHolder.from_settings(settings)
    try:
        with DuckDBEngine(threads=1) as engine:
            build(
                lake,
                engine,
                mode="compat",
                threshold=5,
                reference=holder.get(),
                release_id="on-duckdb",
            )
    finally:
        holder.dispose()
    spark, duck = lake.get("on-spark"), lake.get("on-duckdb")
    assert spark.tables == duck.tables
    statistics = bench_npr.npr_statistics()  # type: ignore[attr-defined]
    # the npr statistics are built from the episodes
    assert {t.name for s in statistics for t in s.tables} <= set(spark.tables)
    rows = 0
    for name in spark.tables:
        a = lake.read_table(spark, name, keep=False).table
        b = lake.read_table(duck, name, keep=False).table
        assert _sorted(a).equals(_sorted(b)), name
        rows += a.num_rows
    if statistics:
        assert rows > 0
