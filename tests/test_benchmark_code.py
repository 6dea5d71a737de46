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
    # the new month: added and built whole, fresh processes, the two checked equal
    month = result["month"]
    assert month["extend"]["runs"] == month["full"]["runs"] == 1 and month["tables"] == 15
    assert "A new month onto the months before" in bench_sob.section(result, "the command")
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


#: The stored columns of the npr_episode contract and their Arrow types as read back
#: (Parquet has no second resolution: timestamp[s] is stored, and read, as milliseconds).
NPR_STORED = {
    "episode_id": pa.string(),
    "resh_id": pa.int64(),
    "inn": pa.timestamp("ms"),
    "ut": pa.timestamp("ms"),
    "maned": pa.string(),
    "kontakttype": pa.string(),
    "pasient_pseudonym": pa.string(),
    "bostedskommune": pa.string(),
    "bydel": pa.string(),
    "kjonn": pa.string(),
    "alder": pa.int16(),
    "aldersgruppe": pa.string(),
    "hovedtilstand": pa.string(),
    "fagomrade": pa.string(),
    "finansiering": pa.string(),
    "behandlingssted_id": pa.int64(),
    "hf_id": pa.int64(),
    "rhf_id": pa.int64(),
    "hf_orgnr": pa.string(),
    "rhf_orgnr": pa.string(),
    "sektor": pa.string(),
    "ssb_utvalg": pa.bool_(),
    "bo_omrade": pa.string(),
    "bo_hf_orgnr": pa.string(),
    "bo_rhf_orgnr": pa.string(),
    "dogn": pa.int8(),
    "dag": pa.int8(),
    "poli": pa.int8(),
    "liggedogn": pa.int32(),
}


@pytest.fixture(scope="module")
def npr_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bench_npr = _bench("bench_npr")
    home = tmp_path_factory.mktemp("npr") / "home"
    bench_npr.write_lake(home, bench_npr.LakeParams(episodes=24_000, years=1))  # type: ignore[attr-defined]
    return home


def test_npr_lake_holds_the_stored_columns_of_the_contract(npr_lake: Path) -> None:
    """The benchmark's lake is what ingest stores: the contract's columns and types, one
    committed partition per month, every episode ending in its partition's month."""
    import duckdb

    bench_npr = _bench("bench_npr")
    files = bench_npr.lake_files(npr_lake)  # type: ignore[attr-defined]
    assert sorted({f.parent.name for f in files}) == [f"period=2016{m:02d}" for m in range(1, 13)]
    schema = pq.read_schema(files[0])
    assert {n: schema.field(n).type for n in NPR_STORED} == NPR_STORED
    paths = [str(f) for f in files]
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW e AS SELECT * FROM read_parquet({paths})")
        (rows, patients, wrong_month, stays, poli, bad_days, city_null, no_area) = con.sql(
            "SELECT count(*), count(DISTINCT pasient_pseudonym), "
            "count(*) FILTER (strftime(ut, '%Y%m') <> maned), sum(dogn), sum(poli), "
            "count(*) FILTER (liggedogn <> CASE WHEN dogn = 1 THEN "
            "date_diff('day', inn::DATE, ut::DATE) ELSE 0 END OR inn > ut "
            "OR (dogn = 0 AND inn::DATE <> ut::DATE)), "
            "count(*) FILTER (bostedskommune = '0301' AND bydel IS NULL AND bo_omrade IS NOT "
            "NULL), count(*) FILTER (bo_omrade IS NULL) FROM e"
        ).fetchall()[0]
        sectors = dict(con.sql("SELECT sektor, count(*) FROM e GROUP BY ALL").fetchall())
    assert rows == 24_000 and wrong_month == 0 and bad_days == 0
    assert patients < rows * 0.6  # patients return
    assert 4.5 < poli / stays < 7.5  # about 6 outpatient contacts per stay
    assert city_null == 0 and 0 < no_area < rows * 0.1  # Oslo without bydel: no area
    assert set(sectors) == {"somatikk", "phv", "phbu", "tsb"}
    assert sectors["somatikk"] > rows * 0.7


def test_npr_plain_duckdb_agrees_with_helsestat_and_the_check_can_fail(npr_lake: Path) -> None:
    """Plain DuckDB's plan (fine sums and rollups, an exact COUNT DISTINCT of patients per
    table) against helsestat's aggregate engine on the same files, cell for cell; a changed
    count, a missing and an extra cell are each caught."""
    from helsestat.aggregate import DuckDBEngine, aggregate

    bench_npr, baselines = _bench("bench_npr"), _bench("baselines")
    files = bench_npr.lake_files(npr_lake)  # type: ignore[attr-defined]
    spec = bench_npr.PLAIN_SPEC  # type: ignore[attr-defined]
    with DuckDBEngine(threads=1) as engine:
        cube = aggregate(files, spec, engine)
    expected = {g: cube.tables[g] for g in spec.groupings}
    plain = bench_npr.plain_tables(files, spec, threads=1)  # type: ignore[attr-defined]
    cells = bench_npr.compare_tables(expected, plain, "plain")  # type: ignore[attr-defined]
    assert cells == sum(t.num_rows for t in expected.values()) > 100
    grouping = spec.groupings[0]
    table = plain[grouping]
    column = table.column_names.index("pasienter")
    changed = pc.add(table["pasienter"], pa.array([1] + [0] * (table.num_rows - 1)))
    for bad in (
        table.set_column(column, "pasienter", changed),
        table.slice(1),
        pa.concat_tables([table, table.slice(0, 1)]),
    ):
        with pytest.raises(baselines.Mismatch):  # type: ignore[attr-defined]
            bench_npr.compare_tables(expected, {**plain, grouping: bad}, "perturbed")  # type: ignore[attr-defined]


def _has_npr_statistics() -> bool:
    from helsestat.statistics import STATISTICS

    return any(s.source_kind == "npr_episode" for s in STATISTICS)


@pytest.mark.slow
@pytest.mark.spark
@pytest.mark.skipif(
    not _has_npr_statistics(), reason="no statistic reads npr_episode extracts in this version"
)
def test_npr_benchmark_runs_every_contender_and_checks_them(tmp_path: Path) -> None:
    """The npr section at a tiny scale: every contender once as a fresh process (the CLI
    build on DuckDB cold and warm and on Spark, plain DuckDB), the plain tables and the
    Spark release checked against helsestat's in the run, the steady state of both."""
    bench_npr = _bench("bench_npr")
    params = bench_npr.LakeParams(episodes=6_000, years=1)  # type: ignore[attr-defined]
    result = bench_npr.run(tmp_path, params, 1, steady_repeat=1)  # type: ignore[attr-defined]
    assert set(result["medians"]) == set(bench_npr.CONTENDERS)  # type: ignore[attr-defined]
    assert result["checked"]["plain"] > 0 and result["checked"]["spark"] > 0
    assert set(result["steady"]) == {"duckdb", "duckdb peak_gb", "spark", "spark peak_gb"}
    assert all(m["peak_gb"] > 0 for m in result["medians"].values())
    section = "\n".join(bench_npr.section(result, "the command"))  # type: ignore[attr-defined]
    assert "6,000 episodes" in section and "Where helsestat is behind" in section
