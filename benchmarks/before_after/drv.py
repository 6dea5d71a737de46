"""One measurement of one benchmark group in the checkout that is the current directory (before
or after a change; see pair.sh and docs/benchmarks-before-after.md); prints one RESULT line."""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())
group, work = sys.argv[1], Path(sys.argv[2])
arg = int(sys.argv[3]) if len(sys.argv) > 3 else 0
work.mkdir(parents=True, exist_ok=True)
out = {}
if group == "lake":  # one year 2024
    from benchmarks.bench_build import make_lake, year_months

    lines, s = make_lake(work / "lake", arg, year_months(2024))
    out = {"lines": lines, "lake_s": s}
elif group == "lake-month":  # add the refresh month
    from benchmarks.bench_build import make_lake

    lines, s = make_lake(work / "lake", arg // 12, [(2025, 1)], seed=2027)
    out = {"lines": lines, "ingest_s": s}
elif group in ("cold", "warm", "duckdb", "refresh"):
    from benchmarks.bench_build import measure

    eng = "duckdb" if group == "duckdb" else "helsestat"
    m = measure(
        eng,
        work / "lake",
        1,
        warm=group in ("warm", "refresh"),
        refresh="period=202501" if group == "refresh" else None,
    )
    out = {"s": m.seconds, "cpu": m.cpu, "peak_gb": m.peak_gb}
elif group in ("cold-eq", "warm-eq", "refresh-eq"):
    # in-process, the reference data loaded untimed in BOTH versions (before: the packaged
    # geography the population rule reads; after: the reference snapshot)
    import benchmarks.bench_build as bb

    try:
        from helsestat.reference.geography import load_geography

        load_geography()
    except ImportError:
        pass

    s, c = bb._measure_here(
        "helsestat",
        work / "lake",
        1,
        group != "cold-eq",
        "period=202501" if group == "refresh-eq" else None,
    )
    out = {"s": s[0], "cpu": c[0]}
elif group == "aggregate":
    import duckdb
    from benchmarks.bench_aggregate import generate, naive_sql, takstbruk

    from helsestat.aggregate import DuckDBEngine, aggregate

    d = work / "agg"
    files = sorted(d.glob("**/*.parquet")) if (d / "done").exists() else None
    if not files:
        files = generate(arg, d)
        (d / "done").write_text("x")
    spec = takstbruk(distinct=False)
    with DuckDBEngine(threads=2, memory_limit="2GB") as engine:
        t = time.perf_counter()
        aggregate(files, spec, engine)
        out["helsestat_aggregate_s"] = time.perf_counter() - t
    con = duckdb.connect()
    con.execute("SET threads = 2")
    t = time.perf_counter()
    con.execute(naive_sql(files, distinct=False)).to_arrow_table()
    out["plain_duckdb_s"] = time.perf_counter() - t
elif group == "stages":
    from benchmarks.run import bench_stages

    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        out = {k: v for k, v in bench_stages(arg, Path(tmp))}
elif group == "demo":
    from benchmarks.bench_serve import build_demo

    if not (work / "demo" / ".done").exists():
        build_demo(work / "demo", rows=arg)
        (work / "demo" / ".done").write_text("x")
elif group == "handler":
    from benchmarks.bench_serve import for_format, handler_microseconds, typical_queries

    q = typical_queries(work / "demo")
    for fmt in ("json", "xml", "csv", "xlsx", "jsonstat", "parquet"):
        out[fmt] = handler_microseconds(work / "demo", [for_format(x, fmt) for x in q], rounds=3)
    out["load_1m"] = round(os.getloadavg()[0], 1)
elif group == "handler-cpu":
    # the same measurement timed by the thread's CPU clock instead of the wall clock: on a
    # machine shared with other work (load average above the cores), a round of 200 answers
    # is preempted more often than not, and the wall clock measures the waiting
    import types

    import benchmarks.bench_serve as bench_serve

    bench_serve.time = types.SimpleNamespace(perf_counter=time.thread_time)  # type: ignore[assignment]
    q = bench_serve.typical_queries(work / "demo")
    for fmt in ("json", "xml", "csv", "xlsx", "jsonstat", "parquet"):
        paths = [bench_serve.for_format(x, fmt) for x in q]
        out[fmt] = bench_serve.handler_microseconds(work / "demo", paths, rounds=7)
    out["load_1m"] = round(os.getloadavg()[0], 1)
elif group == "app-cpu":
    # the whole ASGI app in-process — every middleware, the fast path, the answer; no HTTP
    # server — timed by the process's CPU clock, best of ARG rounds of the typical queries:
    # what the app adds per request, apart from uvicorn (the same in both)
    import asyncio

    from benchmarks.bench_serve import for_format, typical_queries

    os.environ["HELSESTAT_DATA_DIR"] = str(work / "demo")
    os.environ["HELSESTAT_DEMO_MODE"] = "1"
    from helsestat.api import create_app_from_env

    app = create_app_from_env()
    queries = typical_queries(work / "demo")
    head = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk")]

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"status {message['status']}")

    async def rounds(requests: list[tuple[str, bytes]], n: int) -> float:
        best = float("inf")
        for _ in range(n):
            t = time.process_time()
            for path, query in requests:
                scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                         "method": "GET", "scheme": "http", "path": path,
                         "raw_path": path.encode(), "root_path": "", "query_string": query,
                         "headers": head, "client": ("127.0.0.1", 5000),
                         "server": ("127.0.0.1", 8000), "state": {}}  # fmt: skip
                await app(scope, receive, send)
            best = min(best, time.process_time() - t)
        return round(best / len(requests) * 1e6, 1)

    async def measure() -> None:
        for fmt in ("json", "xml", "csv", "xlsx", "jsonstat", "parquet"):
            paths = [for_format(x, fmt).split("?", 1) for x in queries]
            requests = [(path, query.encode()) for path, query in paths]
            await rounds(requests, 1)  # load the indexes, render every row once
            out[fmt] = await rounds(requests, arg or 15)

    asyncio.run(measure())
    out["load_1m"] = round(os.getloadavg()[0], 1)
elif group == "serve":
    from benchmarks.bench_serve import run

    for r in run(work / "demo", seconds=arg or 4, repeat=1, naive=False):
        out[r["format"]] = {
            "rps": r["rps"],
            "p50_ms": r["p50_ms"],
            "cpu_us": r.get("server_cpu_us"),
        }
    out["load_1m"] = round(os.getloadavg()[0], 1)  # the machine's load as the run ended
elif group == "protect":
    from benchmarks.bench_protect import run

    out = {name: s for name, s, cells in run(repeat=1)}
elif group == "units":
    from benchmarks.bench_units import run

    r = run(arg)
    out = {k: r[k] for k in ("place_s", "place_file_s", "single_lookup_ms", "as_of_table_s")}
print("RESULT " + json.dumps(out))
