"""Unit registry benchmark: placing N reported rows by unit id and date (SYNTHETIC data).

The full demo tree (real RHF/HF, synthetic units below, the Swedish tree) is loaded into a
SQLite file; its as-of table is computed; N rows are drawn — 99 % ids of the tree, 1 % unknown,
dates uniform over 2000–2025, so about 40 % fall outside their unit's lifetime — and placed:

- in memory (Arrow table in, Arrow table out, input order kept): :func:`place`;
- file to file (Parquet in, Parquet out, streamed by DuckDB): :func:`place_file`;
- one at a time, as the API does (:func:`place_one`), for the latency of a single lookup;
- and, for contrast, a plain Python loop over a dict of intervals on a sample.

Usage: ``.venv/bin/python -m benchmarks.bench_units --rows 10000000`` (``run(rows)`` returns
the figures as a dict for ``benchmarks/run.py``).
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from helsestat.reference.units.placing import as_of_table, place_one
from helsestat.reference.units.placing_bulk import place, place_file
from helsestat.store.db.database import create_engine_for, migrate, session_factory
from helsestat.synth.units import load_demo

LOOP_SAMPLE = 200_000
SINGLE_LOOKUPS = 2_000


def synthetic_rows(flat: pa.Table, rows: int, seed: int = 2026) -> pa.Table:
    """``rows`` (unit_id, date) pairs: ids of the tree (1 % unknown), dates 2000–2025."""
    rng = np.random.default_rng(seed)
    ids = np.unique(flat.column("unit_id").to_numpy())
    unit_id = rng.choice(ids, rows)
    unknown = rng.random(rows) < 0.01
    unit_id[unknown] = rng.integers(1, 99_999, int(unknown.sum()))
    first, last = np.datetime64("2000-01-01"), np.datetime64("2026-01-01")
    days = rng.integers(first.astype(int), last.astype(int), rows).astype("datetime64[D]")
    return pa.table(
        {"unit_id": unit_id, "date": pa.array(days), "antall": rng.integers(1, 9, rows)}
    )


def python_loop(flat: pa.Table, rows: pa.Table) -> float:
    """Seconds for a dict-and-bisect loop over ``rows`` (what "not a loop" avoids)."""
    intervals: dict[int, list[tuple[date, date | None, int | None]]] = defaultdict(list)
    for uid, start, end, hf in zip(
        *(flat.column(c).to_pylist() for c in ("unit_id", "valid_from", "valid_to", "hf_id")),
        strict=True,
    ):
        intervals[uid].append((start, end, hf))
    starts = {uid: [s for s, _, _ in v] for uid, v in intervals.items()}
    begin = time.perf_counter()
    out = []
    for uid, day in zip(
        rows.column("unit_id").to_pylist(), rows.column("date").to_pylist(), strict=True
    ):
        found = None
        if uid in intervals:
            i = bisect.bisect_right(starts[uid], day) - 1
            if i >= 0:
                start, end, hf = intervals[uid][i]
                if end is None or day < end:
                    found = hf
        out.append(found)
    return time.perf_counter() - begin


def run(rows: int, *, threads: int = 2) -> dict[str, Any]:
    """Place ``rows`` synthetic rows; returns seconds and rows per second for each way."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp, 'reference.db').as_posix()}"
        engine = create_engine_for(url)
        migrate(engine)
        start = time.perf_counter()
        with session_factory(engine).begin() as session:
            loaded = load_demo(session)
        load_s = time.perf_counter() - start
        with session_factory(engine)() as session:
            start = time.perf_counter()
            flat = as_of_table(session)
            flat_s = time.perf_counter() - start
            data = synthetic_rows(flat, rows)
            start = time.perf_counter()
            placed = place(data, flat, threads=threads)
            place_s = time.perf_counter() - start
            source, target = Path(tmp, "rows.parquet"), Path(tmp, "placed.parquet")
            pq.write_table(data, source)
            start = time.perf_counter()
            file_report = place_file(source, target, flat, threads=threads)
            file_s = time.perf_counter() - start
            sample = data.slice(0, SINGLE_LOOKUPS).to_pylist()
            start = time.perf_counter()
            for row in sample:
                place_one(session, int(row["unit_id"]), row["date"])
            single_s = time.perf_counter() - start
        engine.dispose()
        loop_rows = min(rows, LOOP_SAMPLE)
        loop_s = python_loop(flat, data.slice(0, loop_rows))
    assert file_report == placed.report
    return {
        "rows": rows,
        "threads": threads,
        "cores": os.cpu_count(),
        "units": loaded.units,
        "changes": loaded.events,
        "as_of_rows": flat.num_rows,
        "load_demo_s": round(load_s, 2),
        "as_of_table_s": round(flat_s, 3),
        "place_s": round(place_s, 2),
        "place_rows_per_s": round(rows / place_s),
        "place_file_s": round(file_s, 2),
        "place_file_rows_per_s": round(rows / file_s),
        "single_lookup_ms": round(single_s / len(sample) * 1000, 2),
        "python_loop_rows_per_s": round(loop_rows / loop_s),
        "by_status": placed.report.by_status,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(run(args.rows, threads=args.threads), indent=1))


if __name__ == "__main__":
    main()
