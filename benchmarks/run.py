"""``make bench``: measure helsestat and write docs/benchmarks.md.

Two groups, each compared as ratios within one run (this machine is shared and noisy; every
figure is the median of ``--repeat`` runs):

1. **Build**: all six takstbruk-shaped tables from N synthetic claim lines already in the
   lake layout (one Parquet file per month): helsestat's ``aggregate`` (two phases) against
   one plain DuckDB GROUPING SETS query and pandas groupby, in the same process.
2. **Pipeline stages** on the real path: synthetic CSV → ingest (read, validate,
   pseudonymise, store) → build (aggregate, protect, release), rows per second.

Usage: ``.venv/bin/python -m benchmarks.run [--rows 5000000] [--stage-rows 500000] [--repeat 3]``
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

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from benchmarks.bench_aggregate import generate, naive_sql, takstbruk
from helsestat.aggregate import DuckDBEngine, aggregate
from helsestat.pipeline import build, ingest_file
from helsestat.store.lake import Lake
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_csv

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
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
    sql = naive_sql(files, distinct=False)
    results.append(
        (
            "plain DuckDB SQL (GROUPING SETS)",
            median_seconds(lambda: con.execute(sql).to_arrow_table(), repeat),
        )
    )
    results.append(
        ("pandas groupby", median_seconds(lambda: pandas_build(files), max(1, repeat - 1)))
    )
    return results


def bench_stages(rows: int, tmp: Path) -> list[tuple[str, float]]:
    csv_path = tmp / "claims.csv"
    start = time.perf_counter()
    write_csv(generate_claims(rows, seed=2026), csv_path)
    synth_s = time.perf_counter() - start
    lake = Lake(tmp / "var")
    start = time.perf_counter()
    ingest_file(csv_path, "claims", KEY, lake)
    ingest_s = time.perf_counter() - start
    with DuckDBEngine(threads=2) as engine:
        start = time.perf_counter()
        build(lake, engine, mode="compat", threshold=5)
        build_s = time.perf_counter() - start
    return [
        ("synthetic claims → CSV", synth_s),
        ("ingest (read, validate, pseudonymise, store)", ingest_s),
        ("build (aggregate, protect, release)", build_s),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--stage-rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        build_results = bench_build(args.rows, args.repeat, Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        stage_results = bench_stages(args.stage_rows, Path(tmp))
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    base = build_results[1][1]
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
        f"--stage-rows {args.stage_rows} --repeat {args.repeat}",
        "```",
        "",
        f"## Build: six takstbruk-shaped tables from {args.rows:,} synthetic claim lines",
        "",
        "Input: one Parquet file per month in the lake layout (numpy-generated, Zipf-skewed "
        "kommuner and takster; `benchmarks/bench_aggregate.py`). Same data, same process.",
        "",
        "| engine | median seconds | million lines/s | vs plain DuckDB |",
        "|---|---:|---:|---:|",
    ]
    for label, seconds in build_results:
        lines.append(
            f"| {label} | {seconds:.2f} | {args.rows / seconds / 1e6:.1f} | {base / seconds:.2f}× |"
        )
    lines += [
        "",
        f"Peak resident memory of the whole benchmark process: {peak_gb:.1f} GB.",
        "",
        f"## Pipeline stages on the real path, {args.stage_rows:,} synthetic claim lines",
        "",
        "| stage | seconds | thousand lines/s |",
        "|---|---:|---:|",
    ]
    for label, seconds in stage_results:
        lines.append(f"| {label} | {seconds:.2f} | {args.stage_rows / seconds / 1e3:.0f} |")
    lines += [
        "",
        "Targets still open (issue: claims and tariff use): ≥ 10 million lines/s end to end at "
        "10 and 50 million lines with peak memory ≤ 2 GB; incremental monthly refresh; "
        "serving ≥ 5,000 requests/s.",
        "",
    ]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
