"""The benchmark code still runs against the current lake layout (tiny sizes, nothing timed):
``make bench`` is not part of the suite, so a change of layout would otherwise break it
unnoticed (SYNTHETIC DATA)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from helsestat.statistics.sob.answers import TABLES as SOB_TABLES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench_serve() -> object:
    sys.path.insert(0, str(ROOT))
    try:
        import benchmarks.bench_serve as module
    finally:
        sys.path.remove(str(ROOT))
    return module


@pytest.mark.slow
def test_serving_benchmark_reads_the_release_it_builds(bench_serve: object, tmp_path: Path) -> None:
    from helsestat.store.lake import Lake

    bench_serve.build_demo(tmp_path, 60_000)  # type: ignore[attr-defined]
    queries = bench_serve.typical_queries(tmp_path, count=10)  # type: ignore[attr-defined]
    assert len(queries) == 10 and queries[0].startswith("/v1/takstbruk/agtakst/kommune/maned?")
    # the naive design's one file per table holds the table as published
    lake = Lake(tmp_path)
    release = lake.current()
    assert release is not None
    for name in release.tables:
        whole = pq.read_table(bench_serve.release_file(tmp_path, name))  # type: ignore[attr-defined]
        assert whole.equals(lake.read_table(release, name).table), name


@pytest.mark.slow
def test_writer_benchmark_compares_like_with_like(bench_serve: object, tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks import bench_writers
    finally:
        sys.path.remove(str(ROOT))
    bench_serve.build_demo(tmp_path, 60_000)  # type: ignore[attr-defined]
    # run() reads back the library's files and compares them with helsestat's first
    results = bench_writers.run(tmp_path, rounds=1, count=20)
    assert [r["format"] for r in results] == ["parquet", "xlsx"]
    assert all(r["helsestat_us"] > 0 and r["library_us"] > 0 for r in results)


@pytest.mark.slow
def test_sob_benchmark_checks_every_cell_against_plain_duckdb(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks import bench_sob
    finally:
        sys.path.remove(str(ROOT))
    result = bench_sob.run(20_000, tmp_path, repeat=1, ranges=3, serve=False)
    assert result["cells"] > 100 and result["events"] > 15_000
    assert set(result["cold"]) == {"helsestat", "duckdb"}
    # every table of the statistic is checked against plain DuckDB, not a sample of them
    assert set(result["tables"]) == {t.name for t in SOB_TABLES}
    # a wrong plain answer is caught, not averaged away
    with pytest.raises(AssertionError):
        bench_sob.compare(
            {"lan": [], "manad": [], "pagaende": [], "vardtagare_kon": [], "region": []},
            {"lan": [("01", 5, 0, 0)], "manad": [], "pagaende": [], "vardtagare_kon": []},
        )


def _bench(name: str) -> object:
    sys.path.insert(0, str(ROOT))
    try:
        return importlib.import_module(f"benchmarks.{name}")
    finally:
        sys.path.remove(str(ROOT))


@pytest.mark.slow
def test_end_to_end_benchmark_checks_every_baseline_cell_against_helsestat(
    tmp_path: Path,
) -> None:
    bench_e2e, baselines = _bench("bench_e2e"), _bench("baselines")
    # every contender once, as fresh processes: the CLI ingest and builds, the floor, DuckDB
    # and polars from the lake and from the CSV, each baseline's tables checked in the run
    result = bench_e2e.run(tmp_path, 3000, 1, takster=60, steady_repeat=1)  # type: ignore[attr-defined]
    assert set(result["medians"]) == {"ingest", "build cold", "build warm", *baselines.ENGINES}  # type: ignore[attr-defined]
    assert result["cells"] > 3000 and result["months"] == 120
    assert set(result["steady"]) == {"ingest", "build cold", "build warm"}
    section = "\n".join(bench_e2e.section([result], "the command"))  # type: ignore[attr-defined]
    assert "3,000 lines" in section and "Where helsestat is behind" in section

    # the check can fail: a changed value, a missing cell and an extra cell are each caught
    expected = bench_e2e.helsestat_tables(tmp_path / "home-3000-60")  # type: ignore[attr-defined]
    good = baselines.read_tables(tmp_path / "tables-polars-csv")  # type: ignore[attr-defined]
    assert baselines.compare(expected, good, "polars-csv") == result["cells"]  # type: ignore[attr-defined]
    table = good["kommune/maned"]
    column = table.column_names.index("sum_refusjon")
    changed = pc.add(table["sum_refusjon"], pa.array([1] + [0] * (table.num_rows - 1)))
    perturbed = [
        table.set_column(column, "sum_refusjon", changed),
        table.slice(1),
        pa.concat_tables([table, table.slice(0, 1)]),
    ]
    for bad in perturbed:
        with pytest.raises(baselines.Mismatch):  # type: ignore[attr-defined]
            baselines.compare(expected, {**good, "kommune/maned": bad}, "perturbed")  # type: ignore[attr-defined]
    with pytest.raises(baselines.Mismatch):  # type: ignore[attr-defined]
        baselines.compare(expected, {k: v for k, v in good.items() if k != "landet/ar"}, "short")  # type: ignore[attr-defined]


@pytest.mark.slow
def test_catchment_benchmark_compares_cell_for_cell() -> None:
    """The catchment benchmark's plain DuckDB query and helsestat agree (run() raises if a
    cell differs), on one year."""
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks import bench_catchment
    finally:
        sys.path.remove(str(ROOT))
    result = bench_catchment.run(repeat=1, years=(2019,))
    assert result["cells"] > 0 and result["persons"] == 5_328_212
