"""Unit registry benchmark (SYNTHETIC data): placing N reported rows by unit id and date, and
the registry's API under load.

Placing: the full demo tree (real RHF/HF, synthetic units below, the Swedish tree) is loaded
into a SQLite file; its as-of table is computed; N rows are drawn — 99 % ids of the tree, 1 %
unknown, dates uniform over 2000–2025, so about 40 % fall outside their unit's lifetime — and
placed:

- in memory (Arrow table in, Arrow table out, input order kept): :func:`place`;
- file to file (Parquet in, Parquet out, streamed by DuckDB): :func:`place_file`;
- one at a time, as the API does (:func:`place_one`), for the latency of a single lookup;
- and, for contrast, a plain Python loop over a dict of intervals on a sample.

Serving (:func:`run_serving`): a real ``helsestat serve`` with 2 workers on a lake with one
release (synthetic claims) and the full demo registry, driven with ``wrk`` on loopback:
unit reads (``GET /api/v1/units/{id}`` over every id), placements, the search; then the
slowest registry read (measured one request at a time first) is flooded while a light load
of typical takstbruk queries measures what the flood does to them.

Usage: ``.venv/bin/python -m benchmarks.bench_units --rows 10000000`` (placing) and
``… --serve`` (the API under load); ``run(rows)`` and ``run_serving()`` return the figures as
dicts for ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
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


# -- the registry's API under load ---------------------------------------------------------

#: wrk connections of the measured loads, of the flood, and of the light takstbruk load that
#: measures what a flood does.
CONNECTIONS = 16
FLOOD_CONNECTIONS = 32
LIGHT_CONNECTIONS = 2
#: Registry reads whose work grows with the registry: the slowest of them is flooded.
HEAVY_READS = (
    "/api/v1/units/fhir?date={day}",
    "/api/v1/units/changes?from={day}",
    "/api/v1/units/tree?date={day}",
    "/api/v1/units?q=a&limit=500&date={day}",
    "/api/v1/units/{hf}/subtree?date={day}",
    "/dashboard/units?date={day}",
)
#: Whole-table downloads, the slowest answers of the API: the slowest is flooded too.
WHOLE_TABLES = tuple(
    f"/api/v1/tables/takstbruk/kommune/maned?format={fmt}"
    for fmt in ("json", "xml", "csv", "xlsx", "jsonstat")
)


@contextmanager
def helsestat_serve(
    data_dir: Path, database_url: str, workers: int = 2
) -> Iterator[tuple[str, int]]:
    """``(base url, pid)`` of a running ``helsestat serve`` with ``workers`` workers."""
    from benchmarks.bench_serve import free_port

    port = free_port()
    env = {
        **os.environ,
        "HELSESTAT_DEMO_MODE": "1",
        "HELSESTAT_DATA_DIR": str(data_dir),
        "HELSESTAT_DATABASE_URL": database_url,
        "HELSESTAT_WORKERS": str(workers),
        "HELSESTAT_PORT": str(port),
        "HELSESTAT_HOST": "::",  # IPv6 and IPv4 loopback: two client addresses
        "HELSESTAT_LOG_LEVEL": "WARNING",  # no access log, as bench_serve
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "helsestat.cli", "serve"], env=env, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("helsestat serve did not start")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:  # requests still waiting in a lane after a flood are refused within 10 s
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def registry_paths(flat: pa.Table, count: int = 2_000, seed: int = 2026) -> dict[str, list[str]]:
    """Paths of the measured loads: unit reads over every id, placements (ids of the tree
    and 1 % unknown, dates 2000–2025), and searches for pieces of the units' names."""
    rng = np.random.default_rng(seed)
    ids = np.unique(flat.column("unit_id").to_numpy())
    units = [f"/api/v1/units/{uid}" for uid in ids]
    placed = synthetic_rows(flat, count, seed).to_pylist()
    places = [f"/api/v1/units/place?id={r['unit_id']}&date={r['date']}" for r in placed]
    words = [
        "helse",
        "sykehus",
        "klinikk",
        "avdeling",
        "seksjon",
        "psyk",
        "kirurgi",
        "medisin",
        "barn",
        "rus",
        "vård",
        "region",
        "hf",
        "bergen",
        "oslo",
        "nord",
    ]
    searches = [
        f"/api/v1/units?q={quote(words[i % len(words)][: 3 + i % 4])}" for i in range(count)
    ]  # ASCII only: wrk's Lua reads the paths
    rng.shuffle(units)
    return {"unit reads": units, "placements": places, "search": searches}


def _concurrently(*loads: tuple[str, list[str], float, int]) -> list[dict[str, Any]]:
    """Run several wrk loads at once; their results in order."""
    from benchmarks.bench_serve import drive

    results: list[dict[str, Any]] = [{} for _ in loads]

    def one(i: int, base: str, paths: list[str], seconds: float, connections: int) -> None:
        results[i] = drive(base, paths, seconds, connections)

    threads = [threading.Thread(target=one, args=(i, *load)) for i, load in enumerate(loads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def slowest(base: str, templates: tuple[str, ...], hf: int) -> tuple[str, list[str], float]:
    """Of ``templates``, the one that takes longest one request at a time (median of 3 over
    different dates): its template, paths to flood it with, and its milliseconds."""
    timed = []
    with httpx.Client(base_url=base, timeout=300) as client:
        for template in templates:
            took = []
            for year in range(2015, 2018):
                path = template.format(day=f"{year}-03-01", hf=hf)
                start = time.perf_counter()
                answer = client.get(path)
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
                took.append(time.perf_counter() - start)
            timed.append((sorted(took)[1], template))
    seconds, template = max(timed)
    days = [f"{2000 + i % 26}-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(2_000)]
    return template, [template.format(day=d, hf=hf) for d in days], seconds * 1000


def flood(base: str, paths: list[str], takstbruk: list[str], seconds: float) -> dict[str, Any]:
    """wrk floods ``paths`` while a light load of ``takstbruk`` queries measures latency;
    the flooding client and the measuring one reach the server on different addresses
    (IPv4 and IPv6 loopback), as two clients would."""
    v6 = base.replace("127.0.0.1", "[::1]")
    flooded, light = _concurrently(
        (base, paths, seconds, FLOOD_CONNECTIONS), (v6, takstbruk, seconds, LIGHT_CONNECTIONS)
    )
    return {"flood": flooded, "takstbruk": light}


def _median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over ``runs`` (the machine may be shared: rounds over the
    loads, so a noisy spell hits every load alike)."""
    out = dict(runs[0])
    for key in ("rps", "p50_ms", "p99_ms", "server_cpu_us"):
        values = sorted(r[key] for r in runs if r.get(key) is not None)
        if values:
            out[key] = values[len(values) // 2]
    out["errors"] = sum(r["errors"] for r in runs)
    out["runs"] = [{k: r[k] for k in ("rps", "p99_ms")} for r in runs]
    return out


def _load_average() -> float:
    return round(os.getloadavg()[0], 1)


def run_serving(
    *, rows: int = 200_000, seconds: float = 8, workers: int = 2, repeat: int = 3
) -> dict[str, Any]:
    """The registry's API under load (see the module docstring): ``repeat`` rounds over the
    loads and the floods, medians reported; figures as a dict."""
    import shutil

    from benchmarks.bench_serve import build_demo, children, drive, typical_queries

    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp, "lake")
        build_demo(data_dir, rows)
        url = f"sqlite:///{Path(tmp, 'reference.db').as_posix()}"
        engine = create_engine_for(url)
        migrate(engine)
        with session_factory(engine).begin() as session:
            loaded = load_demo(session)
        with session_factory(engine)() as session:
            flat = as_of_table(session)
        engine.dispose()
        paths = registry_paths(flat)
        takstbruk = typical_queries(data_dir)
        hf = int(flat.filter(pa.compute.is_valid(flat.column("hf_id"))).column("hf_id")[0].as_py())
        out: dict[str, Any] = {
            "workers": workers,
            "cores": os.cpu_count(),
            "units": loaded.units,
            "rows": rows,
            "seconds": seconds,
            "repeat": repeat,
            "connections": CONNECTIONS,
            "flood_connections": FLOOD_CONNECTIONS,
            "light_connections": LIGHT_CONNECTIONS,
            "load_average": [_load_average()],
        }
        loads = {**paths, "takstbruk": takstbruk}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in [*loads, "takstbruk light"]}
        floods: dict[str, dict[str, Any]] = {}
        with helsestat_serve(data_dir, url, workers) as (base, pid):
            pids = children(pid)
            v6 = base.replace("127.0.0.1", "[::1]")
            for load in loads.values():
                drive(base, load, 2, CONNECTIONS)  # warm both workers
            for name, templates in (("registry", HEAVY_READS), ("table", WHOLE_TABLES)):
                template, flood_paths, single_ms = slowest(base, templates, hf)
                shown = template.split("?")[0]
                if name == "table":
                    shown += "?" + template.split("?")[1]
                floods[name] = {
                    "path": shown,
                    "single_ms": round(single_ms, 1),
                    "paths": flood_paths,
                    "flood": [],
                    "takstbruk": [],
                }
            for _ in range(repeat):
                for name, load in loads.items():
                    runs[name].append(drive(base, load, seconds, CONNECTIONS, pids))
                runs["takstbruk light"].append(drive(v6, takstbruk, seconds, LIGHT_CONNECTIONS))
                for entry in floods.values():
                    flooded = flood(base, entry["paths"], takstbruk, seconds)
                    entry["flood"].append(flooded["flood"])
                    entry["takstbruk"].append(flooded["takstbruk"])
                    time.sleep(12)  # the lane refuses what still waits within 10 s
                out["load_average"].append(_load_average())
        for name, measured in runs.items():
            out[name] = _median_of(measured)
        for name, entry in floods.items():
            out[f"slowest {name}"] = {
                "path": entry["path"],
                "single_ms": entry["single_ms"],
                "flood": _median_of(entry["flood"]),
                "takstbruk": _median_of(entry["takstbruk"]),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--serve", action="store_true", help="the API under load instead")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.serve:
        print(json.dumps(run_serving(seconds=args.seconds, repeat=args.repeat), indent=1))
    else:
        print(json.dumps(run(args.rows, threads=args.threads), indent=1))


if __name__ == "__main__":
    main()
