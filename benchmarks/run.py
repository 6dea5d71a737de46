"""``make bench``: measure helsestat and write docs/benchmarks.md.

Groups, each compared as ratios within one run (this machine is shared and noisy; every
figure is the median of ``--repeat`` runs):

1. **End to end** (``benchmarks/bench_e2e.py``): ``helsestat ingest`` and ``helsestat
   build`` as command-line processes from raw claims CSVs of ``--build-rows`` lines
   (``--takster`` takstkoder, ten years), cold, warm and in a long-running process, against
   the strongest plain DuckDB and polars plans from the lake and from the CSV and a bare
   scan, each checked cell for cell; then the incremental refresh of one new month onto
   one, two and four years of history (lakes of ``--rows`` lines a year).
2. **Aggregate engine alone**: six takstbruk-shaped tables from ``--aggregate-rows`` lines of
   numpy-generated Parquet: helsestat's ``aggregate`` (two phases) against the strongest
   plain DuckDB and polars plans (fine group-by, rollups from it), one GROUPING SETS query
   and pandas groupby, in the same process.
3. **Pipeline stages** on the real path: synthetic CSV → ingest (read, validate,
   pseudonymise, store) → build (aggregate, protect, release), rows per second.
4. **Serving**, **disclosure control** and the **unit registry** (``bench_serve``,
   ``bench_protect``, ``bench_units``).
5. **1177 Stöd och behandling** (``benchmarks/bench_sob.py``, ``--sob-events``): the range
   cube against plain DuckDB (cold processes, steady state per range, cell for cell) and
   served by ``helsestat serve``.
6. **Catchment areas** (``benchmarks/bench_catchment.py``): population per area for the four
   services and every year 2015-2025 from the SYNTHETIC grunnkrets population, against plain
   DuckDB (cell for cell).
7. **NPR-like episodes** (``benchmarks/bench_npr.py``, ``--npr-episodes``, default ten years
   of about 70 million): helsestat's build of the npr statistic on DuckDB (cold, warm, steady
   state) and on Spark local mode against the strongest plain DuckDB plan, cell for cell,
   with peak memory.

Usage: ``.venv/bin/python -m benchmarks.run [--rows 10000000] [--build-rows 1000000
10000000] [--takster 800] [--aggregate-rows 5000000] [--stage-rows 500000]
[--sob-events 1000000] [--npr-episodes 70000000] [--repeat 3] [--work DIR]``;
``--only build`` (end to end and aggregate), ``--only aggregate``, ``--only serve``,
``--only units``, ``--only sob``, ``--only protect``, ``--only catchment`` or ``--only npr``
measures its sections and replaces them in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from benchmarks.bench_aggregate import (
    fine_then_rollups,
    generate,
    naive_sql,
    polars_fine_then_rollups,
    takstbruk,
)
from benchmarks.bench_build import (
    make_lake,
    measure,
    reference_of,
    remove_lake_batches,
    year_months,
)
from helsestat.aggregate import DuckDBEngine, aggregate
from helsestat.build import build, ingest_file
from helsestat.reference.holder import ReferenceHolder
from helsestat.settings import Settings
from helsestat.store.lake import Lake
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_csv

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
#: What the figures above do not reach yet (kept by hand next to the code that measures them).
TARGETS_NOTE = [
    "Targets (issue: claims and tariff use): ≥ 10 million lines/s end to end at 10 and 50 "
    "million lines with peak memory ≤ 2 GB; a monthly refresh costing a month; serving "
    "≥ 5,000 requests/s. See the end-to-end section for where helsestat stands.",
    "",
    "Before and after the publish seam (issue 11; several figures worse, serving above all): "
    "[its own page](benchmarks-before-after.md).",
]
KEY = b"benchmark-key-not-secret-0123456789abcdef"


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pandas_build(files: list[Path]) -> None:
    df = pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
    df["fylke"] = df["kommunenr"].str[:2]
    df["aar"] = (df["maaned"] // 100).astype(str)
    df["maaned"] = df["maaned"].astype(str)
    sums = {c: "sum" for c in ("antall", "refusjon", "egenandel", "honorar", "minutter")}
    rest = ["takstkode", "fagomraade", "praksistype"]
    for geo in (["kommunenr"], ["fylke"], []):
        for period in ("maaned", "aar"):
            df.groupby([*geo, period, *rest], observed=True).agg(
                antall_linjer=("antall", "size"), **{k: (k, v) for k, v in sums.items()}
            )


def bench_build(rows: int, repeat: int, tmp: Path) -> list[tuple[str, float]]:
    files = generate(rows, tmp / "lake")
    spec = takstbruk(distinct=False)
    results = []
    with DuckDBEngine(threads=2, memory_limit="2GB") as engine:
        results.append(
            (
                "helsestat aggregate (DuckDB, two phases)",
                median_seconds(lambda: aggregate(files, spec, engine), repeat),
            )
        )
    con = duckdb.connect()
    con.execute("SET threads = 2")
    # the strongest plain plans first: the ratios are against plain DuckDB's best
    strong = fine_then_rollups(con, files)
    with DuckDBEngine(threads=2, memory_limit="2GB") as engine:
        cube = aggregate(files, spec, engine)
    cells = sorted(t.num_rows for t in cube.tables.values())
    for name, tables in (("DuckDB", strong), ("polars", polars_fine_then_rollups(files))):
        if sorted(t.num_rows for t in tables.values()) != cells:  # the same tables, or no row
            raise AssertionError(f"plain {name}'s tables do not have helsestat's cells")
    results.append(
        (
            "plain DuckDB SQL: fine GROUP BY, rollups from it",
            median_seconds(lambda: fine_then_rollups(con, files), repeat),
        )
    )
    results.append(
        (
            "plain polars: the same plan",
            median_seconds(lambda: polars_fine_then_rollups(files), repeat),
        )
    )
    sql = naive_sql(files, distinct=False)
    results.append(
        (
            "plain DuckDB SQL, one GROUPING SETS query (weak)",
            median_seconds(lambda: con.sql(sql).to_arrow_table(), repeat),
        )
    )
    results.append(
        ("pandas groupby", median_seconds(lambda: pandas_build(files), max(1, repeat - 1)))
    )
    return results


AGGREGATE_HEADING = "## Aggregate engine alone"


def aggregate_section(rows: int, results: list[tuple[str, float]]) -> list[str]:
    """The Aggregate section (markdown lines) of :func:`bench_build`'s results."""
    base = results[1][1]  # plain DuckDB's strongest plan
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    lines = [
        f"{AGGREGATE_HEADING}: six takstbruk-shaped tables from {rows:,} synthetic claim lines",
        "",
        "Input: one Parquet file per month in the lake layout (numpy-generated, Zipf-skewed "
        "kommuner and takster, text columns; `benchmarks/bench_aggregate.py`). Same data, same "
        "process, imports and start-up excluded (a steady state). The plain plans' tables "
        "have the same number of cells as helsestat's, table by table (the end-to-end section "
        "checks the takstbruk tables cell for cell).",
        "",
        "| engine | median seconds | million lines/s | vs plain DuckDB's strongest plan |",
        "|---|---:|---:|---:|",
    ]
    for label, seconds in results:
        lines.append(
            f"| {label} | {seconds:.2f} | {rows / seconds / 1e6:.1f} | {base / seconds:.2f}× |"
        )
    own = results[0][1]
    faster = [
        f"{label} ({own / seconds:.2f}× faster)" for label, seconds in results[1:] if seconds < own
    ]
    return [
        *lines,
        "",
        "Where helsestat is behind: "
        + ("; ".join(faster) if faster else "nowhere in this run")
        + ".",
        "",
        f"Peak resident memory of the whole benchmark process: {peak_gb:.1f} GB.",
    ]


def bench_stages(rows: int, tmp: Path) -> list[tuple[str, float]]:
    csv_path = tmp / "claims.csv"
    start = time.perf_counter()
    write_csv(generate_claims(rows, seed=2026), csv_path)
    synth_s = time.perf_counter() - start
    lake = Lake(tmp / "var")
    # A new reference database is seeded untimed (once per database); each stage then reads
    # the reference snapshot as its command would.
    ReferenceHolder.from_settings(Settings(demo_mode=True, data_dir=lake.root)).engine().dispose()
    start = time.perf_counter()
    ingest_file(csv_path, "claims", KEY, lake, reference_of(lake.root))
    ingest_s = time.perf_counter() - start
    with DuckDBEngine(threads=2) as engine:
        start = time.perf_counter()
        build(lake, engine, mode="compat", threshold=5, reference=reference_of(lake.root))
        build_s = time.perf_counter() - start
    return [
        ("synthetic claims → CSV", synth_s),
        ("ingest (read, validate, pseudonymise, store)", ingest_s),
        ("build (aggregate, protect, release)", build_s),
    ]


REFRESH_MONTH, REFRESH_SEED = (2025, 1), 2027
#: The last year before 2024 in the longer histories, and its seed (earlier years: one less
#: per year back).
HISTORY_YEAR, HISTORY_SEED = 2023, 2025
#: Years of history the refresh is measured on.
HISTORY_YEARS = (1, 2, 4)
E2E_HEADING = "## End to end: from the raw CSV"
REFRESH_HEADING = "## Incremental refresh"


def build_section(
    sizes: list[int], takster: int, repeat: int, work: Path | None, options: str
) -> list[str]:
    """The End-to-end section: ``helsestat ingest`` + ``build`` from a raw CSV of each size
    as command-line processes, against the strongest plain DuckDB and polars plans, checked
    cell for cell (``benchmarks/bench_e2e.py``)."""
    from benchmarks import bench_e2e

    command = f".venv/bin/python -m benchmarks.run {options}"
    if work is None:
        with tempfile.TemporaryDirectory() as tmp:
            results = [bench_e2e.run(Path(tmp), n, repeat, takster=takster) for n in sizes]
    else:  # the CSVs stay there and are reused by the next run with the same sizes and code
        results = [bench_e2e.run(work, n, repeat, takster=takster) for n in sizes]
    return bench_e2e.section(results, command)


def bench_refresh(rows: int, repeat: int, work: Path) -> list[str]:
    """The incremental-refresh section, on a one-year lake of ``rows`` lines written by the
    real validate and store code (``bench_build.make_lake``)."""
    lake = work / f"lake-{rows}"
    remove_lake_batches(lake, REFRESH_SEED, rows // 12, [REFRESH_MONTH])
    make_lake(lake, rows, year_months(2024))
    return _refresh(work, lake, rows, repeat)


def _history_lake(work: Path, lake: Path, rows: int, years: int) -> Path:
    """A lake of ``years`` years of history ending in 2024 (the one-year lake's lines for
    2024, a seed of its own for each earlier year) plus the refresh month."""
    if years == 1:
        return lake
    root = work / f"lake-{rows}-{years}y"
    make_lake(root, rows, year_months(2024))  # the same lines as the one-year lake
    for back in range(1, years):
        year = HISTORY_YEAR + 1 - back
        make_lake(root, rows, year_months(year), seed=HISTORY_SEED + 1 - back)
    make_lake(root, rows // 12, [REFRESH_MONTH], seed=REFRESH_SEED)
    return root


def _refresh(work: Path, lake: Path, rows: int, repeat: int) -> list[str]:
    """One new month onto one, two and four years of history: the refresh against a cold
    build of the same lake (each refresh run follows an untimed build of the lake without
    the new month, see ``bench_build.prepare_refresh``)."""
    lines, ingest_s = make_lake(lake, rows // 12, [REFRESH_MONTH], seed=REFRESH_SEED)
    partition = f"period={REFRESH_MONTH[0]}{REFRESH_MONTH[1]:02d}"
    month = f"{REFRESH_MONTH[0]}-{REFRESH_MONTH[1]:02d}"
    table = [
        "| history | build | median s (runs) | CPU s | peak memory GB |",
        "|---|---|---:|---:|---:|",
    ]
    ratios = []
    for years in HISTORY_YEARS:
        root = _history_lake(work, lake, rows, years)
        label = f"{years} year{'s' if years > 1 else ''} ({2025 - years}–2024)"
        refresh = measure("helsestat", root, repeat, warm=True, refresh=partition)
        cold = measure("helsestat", root, repeat)
        table += [
            f"| {label} | cold, every month computed | {cold.seconds:.2f} ({cold.runs}) "
            f"| {cold.cpu:.2f} | {cold.peak_gb:.2f} |",
            f"| {label} | refresh: {month} added | {refresh.seconds:.2f} ({refresh.runs}) "
            f"| {refresh.cpu:.2f} | {refresh.peak_gb:.2f} |",
        ]
        ratios.append((years, refresh, cold))
    one = ratios[0][1]
    per_history = "; ".join(
        f"{years} year{'s' if years > 1 else ''}: {r.seconds / c.seconds:.2f} of cold in time, "
        f"{r.cpu / c.cpu:.2f} in CPU, {r.seconds / one.seconds:.2f}× the refresh onto one year "
        f"({r.cpu / one.cpu:.2f}× in CPU)"
        for years, r, c in ratios
    )
    return [
        "## Incremental refresh: one new month onto one, two and four years",
        "",
        f"Lakes of {rows:,} lines per year; one month, {month}, of {lines:,} lines is added "
        f"(ingest: {ingest_s:.1f} s). Before each timed refresh the lake is built without "
        "that month (untimed), so the refresh is the build after the month arrived, in a "
        "process that has built before (the reference data loaded): phase 1 scans the new "
        "month only; in compat mode the new month's pieces of the month tables and its "
        "year's pieces of the year tables are rolled up, finished and protected from the "
        "cached phase-1 tables of that year, and written; every other piece is neither read "
        "nor written, the new release hard-links its file "
        "(`incremental.protect_by_period`, `ReleaseWriter.link`). Cold: the caches removed "
        "first, every piece computed and written.",
        "",
        *table,
        "",
        f"Refresh by history: {per_history}. What still grows with the history is "
        "bookkeeping: per stored file its name is hashed into its partition's key and its "
        "Parquet schema read (once per process); per period of each table a `stat` to find "
        "its piece, one hard link, two more `stat` calls and its entry in the manifest, about "
        "10 ms per year of history in all. Peak memory is the process's maximum over all its "
        "runs, the untimed builds before each refresh included.",
        "",
    ]


def units_section(rows: int, repeat: int) -> list[str]:
    """The unit registry: placing rows by unit id and date (the bulk join), and its API under
    load (wrk against ``helsestat serve`` with 2 workers)."""
    import shutil

    from benchmarks.bench_units import run, run_serving

    r = run(rows)
    lines = [
        "",
        f"## Unit registry: placing {rows:,} rows by unit id and date",
        "",
        f"Demo registry: {r['units']:,} units, {r['as_of_rows']:,} as-of rows "
        f"(built in {r['as_of_table_s']} s).",
        "",
        "| way | seconds | rows/s |",
        "|---|---:|---:|",
        f"| DuckDB interval join, in memory | {r['place_s']} | {r['place_rows_per_s']:,} |",
        f"| Parquet file to file | {r['place_file_s']} | {r['place_file_rows_per_s']:,} |",
        f"| plain Python loop (sample, for comparison) | — | {r['python_loop_rows_per_s']:,} |",
        f"| one lookup through the database (the library's path) | {r['single_lookup_ms']} ms "
        "| — |",
        "",
        "## Unit registry under load",
        "",
    ]
    if shutil.which("wrk") is None:
        return [*lines, "Not measured: `wrk` is not installed (`make system-deps`)."]
    return lines + serving_lines(run_serving(repeat=repeat))


def serving_lines(s: dict[str, Any]) -> list[str]:
    """The registry-under-load figures of :func:`benchmarks.bench_units.run_serving`."""

    def row(label: str, m: dict[str, Any], connections: int, target: str) -> str:
        cpu = m.get("server_cpu_us")
        return (
            f"| {label} | {connections} | {m['rps']:,} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} "
            f"| {cpu if cpu is not None else '—'} | {target} |"
        )

    loads = " → ".join(f"{x:g}" for x in s["load_average"])
    lines = [
        f"`benchmarks/bench_units.py`: `helsestat serve` with {s['workers']} workers on a lake "
        f"with one release ({s['rows']:,} synthetic claim lines) and the demo registry "
        f"({s['units']:,} units, SQLite), driven by wrk on loopback on the same "
        f"{s['cores']} cores, {s['seconds']:g} s per run, {s['repeat']} rounds over the loads "
        "(medians). Server CPU per request is the workers' CPU time over the requests served, "
        f"which does not depend on what else runs on the machine. Load average of the machine "
        f"(1 minute) at the start and after each round: {loads}.",
        "",
        "| load | connections | requests/s | p50 ms | p99 ms | server CPU µs/request | target |",
        "|---|---:|---:|---:|---:|---:|---|",
        row(
            "unit reads: `GET /api/v1/units/{id}`, every id",
            s["unit reads"],
            s["connections"],
            "≥ 1,000/s, p99 ≤ 50 ms",
        ),
        row(
            "placements: `GET /api/v1/units/place?id=&date=`", s["placements"], s["connections"], ""
        ),
        row(
            "search: `GET /api/v1/units?q=`, 16 name pieces",
            s["search"],
            s["connections"],
            "≥ 300/s",
        ),
        row("takstbruk: typical queries", s["takstbruk"], s["connections"], ""),
        row("takstbruk, light load", s["takstbruk light"], s["light_connections"], ""),
        "",
        f"Floods: {s['flood_connections']} connections on one endpoint — the slowest registry "
        "read and the slowest whole-table download, each picked by timing one request of every "
        f"candidate — while {s['light_connections']} connections of typical takstbruk queries, "
        "from another address, measure what the flood does to them.",
        "",
        "| flooded | one request alone | flood requests/s | flood answers not 2xx | "
        "takstbruk p50 ms | takstbruk p99 ms | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name in ("slowest registry", "slowest table"):
        f = s[name]
        lines.append(
            f"| `{f['path']}` | {f['single_ms']:,.0f} ms | {f['flood']['rps']:,} "
            f"| {f['flood']['errors']:,} | {f['takstbruk']['p50_ms']:.2f} "
            f"| {f['takstbruk']['p99_ms']:.2f} | p99 ≤ 20 ms |"
        )
    lines += [
        "",
        "Before (issue 12, same kind of run): unit reads 52 requests/s with p99 1.3 s, the "
        "search about 10 requests/s, and a flood of the search moved takstbruk's median from "
        "1.7 ms to 146 ms. What changed and why: [security](security.md#load).",
    ]
    return lines


SOB_HEADING = "## 1177 Stöd och behandling"
CATCHMENT_HEADING = "## Catchment areas"


def sob_section(events: int, repeat: int, work: Path | None) -> list[str]:
    """1177 Stöd och behandling: the range cube against plain DuckDB, and served."""
    from benchmarks import bench_sob

    command = f".venv/bin/python -m benchmarks.bench_sob --events {events} --repeat {repeat}"
    if work is not None:
        result = bench_sob.run(events, work / "sob", repeat, 40)
        return ["", *bench_sob.section(result, command).splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        result = bench_sob.run(events, Path(tmp), repeat, 40)
    return ["", *bench_sob.section(result, command).splitlines()]


def serve_section(repeat: int) -> list[str]:
    """Serving the takstbruk API under load (wrk on loopback, 2 workers), every format and
    the one-DuckDB-query-per-request design, on a demo lake of 1M synthetic claim lines."""
    import shutil

    from benchmarks import bench_writers
    from benchmarks.bench_serve import build_demo, run

    if shutil.which("wrk") is None:
        return ["", "## Serving", "", "Not measured: `wrk` is not installed (`make system-deps`)."]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "lake"
        build_demo(data_dir)
        results = run(data_dir, seconds=6, repeat=repeat)
        writers = bench_writers.run(data_dir, rounds=max(3, repeat))
    first = results[0]
    lines = [
        "",
        "## Serving the takstbruk API under load",
        "",
        f"`benchmarks/bench_serve.py`: {first['workers']} uvicorn workers as `helsestat serve` "
        f"runs them (one SO_REUSEPORT socket each, {first['http']}), wrk with "
        f"{first['connections']} connections on loopback, 6 s per run, {repeat} rounds over the "
        "formats (medians), rotating over 200 typical queries (one kommune, one takst, 13 "
        "months; one fylke, five takster, 5 years). wrk runs on the same 2 cores as the "
        "server. CPU per request is the workers' CPU time over the requests served, which "
        "depends much less on what else runs on the machine than requests/s do; beside it "
        "the machine's 1-minute load average as the run ended (median over the rounds), and "
        "the in-process cost of one answer (check, select, render; no HTTP).",
        "",
        "| server | format | requests/s | × JSON | p50 ms | p99 ms | server CPU µs/request "
        "| load (1 min) | handler µs |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        cpu = r.get("server_cpu_us")
        lines.append(
            f"| {r['server']} | {r['format']} | {r['rps']:,} | {r['vs_json']} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {cpu if cpu is not None else '—'} "
            f"| {r.get('load_1m', '—')} | {r.get('handler_us', '—')} |"
        )
    lines += [
        "",
        "### Parquet and Excel writers: helsestat's own against the libraries",
        "",
        "`benchmarks/bench_writers.py`: the same typical queries answered in-process (check, "
        "select, write), once with helsestat's writer and once writing the same rows with the "
        "library (interleaved rounds, medians; the files are read back and compared cell for "
        "cell). helsestat keeps its own writer only where the library makes the served "
        "answer more than twice as slow (docs/architecture.md).",
        "",
        "| format | library | helsestat µs/answer | library µs/answer | library / helsestat |",
        "|---|---|---:|---:|---:|",
    ]
    for w in writers:
        lines.append(
            f"| {w['format']} | {w['library']} | {w['helsestat_us']:,} | {w['library_us']:,} "
            f"| {w['ratio']}× |"
        )
    return lines


def protect_section(repeat: int) -> list[str]:
    """Disclosure control: the whole protection split into elimination and audit, the
    anchors' recorded GaussSuppression times, and the compiled kernel's cold start."""
    from benchmarks.bench_protect import ANCHOR_SECONDS, cold_start, run

    lines = [
        "",
        PROTECT_HEADING,
        "",
        "`benchmarks/bench_protect.py` (synthetic counts, rule n ≤ 3, width ≥ 1). Medians of "
        f"{repeat} runs in one process after a warm-up run. Wall seconds depend on what else "
        "runs on the shared 2 cores (load average "
        f"{os.getloadavg()[0]:.1f} at the start of this run), CPU seconds do not: the split is "
        "in CPU seconds. Elimination is every round's Gaussian elimination, audit every "
        "attacker-audit call (propagation and LPs); the rest of a full protection is linking, "
        "primary rules and the report. Targets (issue 16): elimination ≤ 1 s on the stress "
        "case and ≤ 2 s on the 108,157-cell table.",
        "",
        "| table | cells | median wall s | CPU s | elimination CPU s | audit CPU s | rounds "
        "| LPs | GaussSuppression (R, recorded) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = run(repeat=repeat)
    for row in rows:
        anchor = next((v for k, v in ANCHOR_SECONDS.items() if f"case {k} " in row.name), None)
        shown = f"{anchor:.3f} s" if anchor is not None else "—"
        parts = (
            f"{row.cpu:.3f} | {row.elimination:.3f} | {row.audit:.3f} | {row.rounds} | {row.lps}"
            if row.rounds
            else f"{row.cpu:.3f} | {row.elimination:.3f} | — | — | —"
        )
        lines.append(f"| {row.name} | {row.cells:,} | {row.seconds:.3f} | {parts} | {shown} |")
    verdicts = []
    for row in rows[:2]:
        target = 1.0 if "stress" in row.name else 2.0
        met = "met" if row.elimination <= target else "NOT met"
        share = row.audit / row.cpu if row.cpu else 0.0
        label = row.name.removesuffix(", full protection")
        verdicts.append(
            f"- {label}: elimination {row.elimination:.2f} CPU s over {row.rounds} round(s), "
            f"target ≤ {target:g} s {met}; the audit is {share:.0%} of the CPU time."
        )
    lines += [
        "",
        *verdicts,
        "",
        "Before (issue 16: the interpreted elimination, wall seconds on a quieter machine): "
        "the 108,157-cell table 6.1 s and the stress case 13.5–20 s, 80 % of it in the "
        "elimination and 20 % in 83 LPs of about 93 ms.",
        "",
        f"A fresh process pays {cold_start():.2f} CPU s once for its first compiled elimination "
        "(importing numba and loading the kernel's cached machine code; problems under "
        "2,000 nonzero entries run the same kernel interpreted and pay nothing).",
    ]
    return lines


PROTECT_HEADING = "## Disclosure control (secondary suppression + LP audit)"


def catchment_section(repeat: int) -> list[str]:
    """Catchment areas: population per area from the grunnkrets population, against plain
    DuckDB."""
    from benchmarks import bench_catchment

    command = f".venv/bin/python -m benchmarks.bench_catchment --repeat {repeat}"
    return ["", *bench_catchment.section(bench_catchment.run(repeat), command).splitlines()]


def bench_npr_heading() -> str:
    from benchmarks.bench_npr import HEADING

    return HEADING


def npr_section(episodes: int, repeat: int, work: Path | None) -> list[str]:
    """NPR-like episodes: helsestat's build on DuckDB and Spark against plain DuckDB."""
    from benchmarks import bench_npr

    command = (
        f".venv/bin/python -m benchmarks.run --only npr --npr-episodes {episodes} "
        f"--repeat {repeat}" + (f" --work {work}" if work else "")
    )
    params = bench_npr.LakeParams(episodes)
    steady = max(1, repeat - 1)  # steady-state builds after an untimed one
    if work is not None:  # the lake stays there and is reused by the next run
        result = bench_npr.run(work, params, repeat, steady_repeat=steady, progress=print)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = bench_npr.run(Path(tmp), params, repeat, steady_repeat=steady, progress=print)
    return ["", *bench_npr.section(result, command)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--aggregate-rows", type=int, default=5_000_000)
    parser.add_argument("--stage-rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="keep (and reuse) the lakes here; default: temporary",
    )
    parser.add_argument(
        "--units-rows", type=int, default=10_000_000, help="rows placed by unit id and date"
    )
    parser.add_argument(
        "--sob-events", type=int, default=1_000_000, help="synthetic 1177 SOB events"
    )
    parser.add_argument(
        "--build-rows",
        type=int,
        nargs="+",
        default=[1_000_000, 10_000_000],
        help="claim lines of the end-to-end CSVs (ingest + build from the CSV)",
    )
    parser.add_argument(
        "--takster", type=int, default=800, help="takstkoder of the end-to-end input"
    )
    parser.add_argument(
        "--npr-episodes",
        type=int,
        default=int(os.environ.get("HELSESTAT_BENCH_NPR_EPISODES", 70_000_000)),
        help="SYNTHETIC NPR-like episodes over ten years (the npr section)",
    )
    parser.add_argument(
        "--only",
        choices=["build", "aggregate", "serve", "units", "sob", "protect", "catchment", "npr"],
        help="measure one section and replace it in docs/benchmarks.md, leaving the rest",
    )
    args = parser.parse_args()
    if args.only == "build":
        options = (
            f"--only build --build-rows {' '.join(map(str, args.build_rows))} "
            f"--takster {args.takster} --repeat {args.repeat}"
            + (f" --work {args.work}" if args.work else "")
        )
        replace_section(
            E2E_HEADING,
            build_section(args.build_rows, args.takster, args.repeat, args.work, options),
            options,
            until=REFRESH_HEADING,
        )
    if args.only in ("build", "aggregate"):
        with tempfile.TemporaryDirectory() as tmp:
            results = bench_build(args.aggregate_rows, args.repeat, Path(tmp))
        replace_section(
            AGGREGATE_HEADING,
            aggregate_section(args.aggregate_rows, results),
            f"--only aggregate --aggregate-rows {args.aggregate_rows} --repeat {args.repeat}",
            until="## Pipeline stages",
        )
        return
    if args.only == "serve":
        replace_section(
            "## Serving the takstbruk API under load",
            serve_section(args.repeat),
            f"--only serve --repeat {args.repeat}",
            until="## Disclosure control",
        )
        return
    if args.only == "units":
        replace_section(
            "## Unit registry: placing",
            units_section(args.units_rows, args.repeat),
            f"--only units --units-rows {args.units_rows} --repeat {args.repeat}",
            until=SOB_HEADING,
        )
        return
    if args.only == "protect":
        replace_section(
            PROTECT_HEADING,
            protect_section(args.repeat),
            f"--only protect --repeat {args.repeat}",
            until="## Unit registry: placing",
        )
        return
    if args.only == "catchment":
        replace_section(
            CATCHMENT_HEADING,
            catchment_section(args.repeat),
            f"--only catchment --repeat {args.repeat}",
            until=bench_npr_heading(),
        )
        return
    if args.only == "npr":
        replace_section(
            bench_npr_heading(),
            npr_section(args.npr_episodes, args.repeat, args.work)[1:],
            f"--only npr --npr-episodes {args.npr_episodes} --repeat {args.repeat}"
            + (f" --work {args.work}" if args.work else ""),
        )
        return
    if args.only == "sob":
        replace_section(
            SOB_HEADING,
            sob_section(args.sob_events, args.repeat, args.work),
            f"--only sob --sob-events {args.sob_events} --repeat {args.repeat}",
            until=CATCHMENT_HEADING,
        )
        return
    options = (
        f"--build-rows {' '.join(map(str, args.build_rows))} --takster {args.takster} "
        f"--repeat {args.repeat}" + (f" --work {args.work}" if args.work else "")
    )
    end_to_end = [
        "",
        *build_section(args.build_rows, args.takster, args.repeat, args.work, options),
    ]
    if args.work is None:
        with tempfile.TemporaryDirectory() as tmp:
            end_to_end += bench_refresh(args.rows, args.repeat, Path(tmp))
    else:  # the lakes stay there and are reused by the next run with the same sizes and code
        end_to_end += bench_refresh(args.rows, args.repeat, args.work)
    with tempfile.TemporaryDirectory() as tmp:
        build_results = bench_build(args.aggregate_rows, args.repeat, Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        stage_results = bench_stages(args.stage_rows, Path(tmp))
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, DuckDB {duckdb.__version__}. "
        "The machine is shared and noisy: compare ratios within one run; each figure is a median.",
        "",
        "Reproduce with:",
        "",
        "```sh",
        f"make bench   # = .venv/bin/python -m benchmarks.run --rows {args.rows} "
        f"{options} --aggregate-rows {args.aggregate_rows} "
        f"--stage-rows {args.stage_rows} --repeat {args.repeat}"
        + (f" --work {args.work}" if args.work else ""),
        "```",
        *end_to_end,
        *aggregate_section(args.aggregate_rows, build_results),
        "",
        f"## Pipeline stages on the real path, {args.stage_rows:,} synthetic claim lines",
        "",
        "| stage | seconds | thousand lines/s |",
        "|---|---:|---:|",
    ]
    for label, seconds in stage_results:
        lines.append(f"| {label} | {seconds:.2f} | {args.stage_rows / seconds / 1e3:.0f} |")
    lines += serve_section(args.repeat)
    lines += protect_section(args.repeat)
    lines += units_section(args.units_rows, args.repeat)
    lines += sob_section(args.sob_events, args.repeat, args.work)
    lines += catchment_section(args.repeat)
    lines += npr_section(args.npr_episodes, args.repeat, args.work)
    lines += ["", *TARGETS_NOTE, ""]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


def replace_section(heading: str, section: list[str], options: str, until: str = "") -> None:
    """Put ``section`` in place of the one starting with ``heading`` (up to the heading
    ``until`` or the targets note) in docs/benchmarks.md, saying when and how (``options``
    of ``benchmarks.run``) it was measured; a section not there yet goes before the note."""
    text = OUT.read_text(encoding="utf-8")
    note = text.index("\n" + TARGETS_NOTE[0][:40])
    start = text.find("\n" + heading)
    if start < 0:
        start = end = note
    else:
        after = text.find("\n" + until, start + 1) if until else -1
        end = after if after >= 0 else text.index("\n" + TARGETS_NOTE[0][:40], start)
    when = (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on its own with `.venv/bin/python -m "
        f"benchmarks.run {options}`."
    )
    body = "\n".join([*section[:3], when, "", *section[3:]])
    OUT.write_text(text[:start] + body + "\n" + text[end:], encoding="utf-8")
    print(body)


if __name__ == "__main__":
    main()
