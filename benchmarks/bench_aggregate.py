"""Benchmark: ``aggregate`` on a takstbruk-like extract against one naive DuckDB query.

Generates N claim lines with numpy (seeded), written as one Parquet file per month like the
lake (``extracts/<kind>/period=YYYYMM/``), then times

- ``aggregate`` end to end (phase 1 ``finest`` + phase 2 ``rollup``), and each phase alone;
- a naive single ``GROUP BY GROUPING SETS`` over the raw rows, rollups as expressions;
- with ``--distinct``: the spec plus a count of distinct patients (the non-additive pass).

Usage::

    .venv/bin/python benchmarks/bench_aggregate.py 5000000 --threads 2

The distributions are skewed like real claims (a few kommuner and takster carry most
lines; fagområde follows the takst), so the finest table is a realistic fraction of the
rows; it is printed, because phase 2 costs grow with it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from helsestat.aggregate import (
    CubeSpec,
    DuckDBEngine,
    Hierarchy,
    Level,
    Measure,
    Prefix,
    Total,
    aggregate,
    finest,
    rollup,
)

MONTHS = [y * 100 + m for y in (2023, 2024) for m in range(1, 13)]


def generate(rows: int, directory: Path, seed: int = 2026) -> list[Path]:
    """Write ``rows`` takstbruk-like claim lines, one Parquet file per month."""
    rng = np.random.default_rng(seed)
    kommuner = np.array(
        [
            f"{f:02d}{k:02d}"
            for f in (3, 11, 15, 18, 31, 32, 33, 34, 39, 40, 42, 46, 50, 55, 56)
            for k in range(1, 25)
        ]
    )
    weight_k = 1.0 / np.arange(1, len(kommuner) + 1)
    takster = np.array([f"{c}{i}" for c in "ABCDEFGHIJ" for i in range(1, 31)])
    weight_t = 1.0 / np.arange(1, len(takster) + 1) ** 1.1
    fag = np.array([f"F{i:02d}" for i in range(12)])[rng.integers(0, 12, len(takster))]
    praksis = np.array(["fastlege", "legevakt", "spesialist", "annet"])
    k = rng.choice(len(kommuner), rows, p=weight_k / weight_k.sum())
    t = rng.choice(len(takster), rows, p=weight_t / weight_t.sum())
    month = np.sort(rng.integers(0, len(MONTHS), rows))
    table = pa.table(
        {
            "kommunenr": kommuner[k],
            "maaned": np.array(MONTHS, dtype=np.int32)[month],
            "takstkode": takster[t],
            "fagomraade": fag[t],
            "praksistype": praksis[rng.choice(4, rows, p=[0.6, 0.2, 0.15, 0.05])],
            "pasient": rng.integers(0, max(rows // 8, 1), rows).astype(np.int64),
            "antall": rng.integers(1, 4, rows).astype(np.int64),
            "refusjon": np.round(rng.gamma(2.0, 150.0, rows), 2),
            "egenandel": np.round(rng.gamma(2.0, 50.0, rows), 2),
            "honorar": np.round(rng.gamma(2.0, 200.0, rows), 2),
            "minutter": rng.integers(5, 60, rows).astype(np.int64),
        }
    )
    bounds = np.searchsorted(month, np.arange(len(MONTHS) + 1))
    files = []
    for i, period in enumerate(MONTHS):
        path = directory / f"period={period}" / "claims.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.slice(bounds[i], bounds[i + 1] - bounds[i]), path)
        files.append(path)
    return files


def takstbruk(distinct: bool) -> CubeSpec:
    """A spec shaped like Helfo's takstbruk: 5 hierarchies, count + 5 sums, 6 groupings."""
    geo = Hierarchy(
        "geo",
        (
            Level("kommune", column="kommunenr"),
            Level("fylke", rollup=Prefix(2)),
            Level("landet", rollup=Total()),
        ),
    )
    tid = Hierarchy("tid", (Level("maaned", column="maaned"), Level("aar", rollup=Prefix(4))))
    flat = [Hierarchy(c, (Level(c, column=c),)) for c in ("takstkode", "fagomraade", "praksistype")]
    measures = [Measure("antall_linjer", "count")]
    measures += [
        Measure(c, "sum", c) for c in ("antall", "refusjon", "egenandel", "honorar", "minutter")
    ]
    if distinct:
        measures.append(Measure("pasienter", "count_distinct", "pasient"))
    rest = ("takstkode", "fagomraade", "praksistype")
    groupings = tuple(
        (g, t, *rest) for g in ("kommune", "fylke", "landet") for t in ("maaned", "aar")
    )
    return CubeSpec("takstbruk", (geo, tid, *flat), tuple(measures), groupings=groupings)


def naive_sql(files: list[Path], distinct: bool) -> str:
    """One GROUPING SETS query over the raw rows, rollups computed per row."""
    source = "read_parquet([" + ", ".join(f"'{f}'" for f in files) + "])"
    sums = ", ".join(
        f"SUM({c})" for c in ("antall", "refusjon", "egenandel", "honorar", "minutter")
    )
    extra = ", COUNT(DISTINCT pasient)" if distinct else ""
    rest = "takstkode, fagomraade, praksistype"
    sets = ", ".join(
        f"({g}{t}, {rest})" for g in ("kommune, ", "fylke, ", "") for t in ("maaned", "aar")
    )
    return (
        f"WITH r AS (SELECT kommunenr AS kommune, substring(kommunenr, 1, 2) AS fylke, "
        f"CAST(maaned AS VARCHAR) AS maaned, substring(CAST(maaned AS VARCHAR), 1, 4) AS aar, "
        f"{rest}, pasient, antall, refusjon, egenandel, honorar, minutter FROM {source}) "
        f"SELECT kommune, fylke, maaned, aar, {rest}, COUNT(*), {sums}{extra} FROM r "
        f"GROUP BY GROUPING SETS ({sets})"
    )


_SUMS = ("antall", "refusjon", "egenandel", "honorar", "minutter")
#: Each coarser table and the finer one it is rolled up from (the smallest that holds it).
_ROLLUPS = (
    ("kommune_aar", "kommune_maaned", "g", "p // 100"),
    ("fylke_maaned", "kommune_maaned", "substr(g, 1, 2)", "p"),
    ("fylke_aar", "fylke_maaned", "g", "p // 100"),
    ("landet_maaned", "fylke_maaned", "''", "p"),
    ("landet_aar", "landet_maaned", "g", "p // 100"),
)


def fine_then_rollups(con: duckdb.DuckDBPyConnection, files: list[Path]) -> dict[str, pa.Table]:
    """The strongest plain DuckDB plan we know: one fine ``GROUP BY`` (kommune, måned, takst,
    fagområde, praksistype), then each coarser table from the smallest finer one."""
    source = "read_parquet([" + ", ".join(f"'{f}'" for f in files) + "])"
    rest = "takstkode, fagomraade, praksistype"
    sums = ", ".join(f"SUM({c}) AS {c}" for c in _SUMS)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE kommune_maaned AS SELECT kommunenr AS g, maaned AS p, "
        f"{rest}, COUNT(*) AS antall_linjer, {sums} FROM {source} GROUP BY ALL"
    )
    resum = ", ".join(f"SUM({c}) AS {c}" for c in ("antall_linjer", *_SUMS))
    for name, source_table, g, p in _ROLLUPS:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {g} AS g, {p} AS p, {rest}, "
            f"{resum} FROM {source_table} GROUP BY ALL"
        )
    names = ("kommune_maaned", *(r[0] for r in _ROLLUPS))
    return {name: con.sql(f"SELECT * FROM {name}").to_arrow_table() for name in names}


def polars_fine_then_rollups(files: list[Path]) -> dict[str, pa.Table]:
    """The same plan in polars (lazy scan, fine group-by collected, rollups collected
    together)."""
    import polars as pl

    keys = ["g", "p", "takstkode", "fagomraade", "praksistype"]
    fine = (
        pl.scan_parquet([str(f) for f in files])
        .group_by(pl.col("kommunenr").alias("g"), pl.col("maaned").alias("p"), *keys[2:])
        .agg(pl.len().alias("antall_linjer"), *(pl.col(c).sum() for c in _SUMS))
        .collect()
    )
    tables = {"kommune_maaned": fine}
    measures = ["antall_linjer", *_SUMS]
    expr = {"g": pl.col("g"), "substr(g, 1, 2)": pl.col("g").str.slice(0, 2), "''": pl.lit("")}
    for name, source_table, g, p in _ROLLUPS:
        period = pl.col("p") // 100 if p != "p" else pl.col("p")
        tables[name] = (
            tables[source_table]
            .lazy()
            .with_columns(g=expr[g], p=period)
            .group_by(keys)
            .agg(pl.col(m).sum() for m in measures)
            .collect()
        )
    return {name: frame.to_arrow() for name, frame in tables.items()}


def timed(label: str, rows: int, repeat: int, run: Callable[[], object]) -> None:
    """Print the best and median wall time, and the CPU time (all threads) of the best run:
    on a shared machine the CPU time is the steadier number."""
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    best, cpu = min(runs)
    median = statistics.median(w for w, _ in runs)
    print(
        f"{label:32s} best {best:6.3f}s median {median:6.3f}s cpu {cpu:6.3f}s"
        f"  {rows / best / 1e6:5.1f} M rows/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="?", default=5_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--distinct", action="store_true", help="add a count_distinct measure")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        files = generate(args.rows, Path(tmp))
        took = time.perf_counter() - start
        print(f"generated {args.rows:,} rows in {len(files)} files in {took:.1f}s")
        spec = takstbruk(args.distinct)
        with DuckDBEngine(threads=args.threads, memory_limit="4GB") as engine:
            fin = finest(files, spec, engine)
            print(f"finest table: {fin.num_rows:,} rows ({fin.num_rows / args.rows:.1%} of input)")
            if not args.distinct:
                timed(
                    "phase 1 finest()", args.rows, args.repeat, lambda: finest(files, spec, engine)
                )
                timed("phase 2 rollup()", args.rows, args.repeat, lambda: rollup(fin, spec))
            timed(
                "aggregate() end to end",
                args.rows,
                args.repeat,
                lambda: aggregate(files, spec, engine),
            )
        con = duckdb.connect(config={"threads": args.threads, "memory_limit": "4GB"})
        sql = naive_sql(files, args.distinct)
        timed(
            "naive GROUPING SETS (unsorted)",
            args.rows,
            args.repeat,
            lambda: con.sql(sql).to_arrow_table(),
        )
        con.close()


if __name__ == "__main__":
    main()
