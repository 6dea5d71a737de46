"""Serving benchmark of the Helfo-compatible takstbruk API, over loopback only.

Starts the app with uvicorn in 2 worker processes on a free 127.0.0.1 port, then drives two
typical queries — one kommune, one takst, 13 months (``kommune/maned``); one fylke, five
takster, 5 years (``fylke/ar``) — rotating over many kommuner, fylker, takster and periods
so no answer repeats often, with ``wrk`` (``apt-get install wrk``) for a bounded time per
format: json, xml, csv, xlsx, jsonstat, parquet. For comparison it serves the naive design
the same way: one DuckDB query per request over the release's Parquet file.

The workers run as ``helsestat serve`` runs them (:mod:`helsestat.api.workers`): one
``SO_REUSEPORT`` socket per worker, made with ``IPPROTO_TCP`` (uvicorn's own ``--workers``
socket has protocol 0, so asyncio never sets ``TCP_NODELAY`` and every keep-alive response
waits ~40 ms for a delayed ACK, uvicorn issue #3149). ``--shared-socket`` measures one
socket shared by the workers instead.

Usage::

    .venv/bin/python -m benchmarks.bench_serve [--data-dir DIR] [--seconds 8] [--connections 16]
        [--repeat 3] [--formats json,jsonstat] [--no-naive] [--shared-socket]

With ``--repeat N`` every format is measured N times, in rounds over the formats (so a
noisy spell on a shared machine hits every format alike), and the medians are reported;
``x json`` is the ratio of a format's median to JSON's median in the same run.

Without ``--data-dir`` it builds a demo lake (1M synthetic claim lines, ~40 s) in a temporary
directory. :func:`run` is what ``benchmarks/run.py`` calls.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import duckdb
import httpx
import orjson

FORMATS = ("json", "xml", "csv", "xlsx", "jsonstat", "parquet")
ROOT = Path(__file__).resolve().parents[1]
KEY = b"benchmark-key-not-secret-0123456789abcdef"


# -- the data ----------------------------------------------------------------------------------


def build_demo(data_dir: Path, rows: int = 1_000_000) -> None:
    """A lake with one release from ``rows`` synthetic claim lines (as ``helsestat demo``)."""
    from benchmarks.bench_build import reference_of
    from helsestat.aggregate import DuckDBEngine
    from helsestat.build import build, ingest_file
    from helsestat.store.lake import Lake
    from helsestat.synth.claims import generate_claims
    from helsestat.synth.core import write_parquet

    extract = data_dir / "claims.parquet"
    write_parquet(generate_claims(rows, seed=2026), extract)
    lake = Lake(data_dir)
    reference = reference_of(data_dir)
    ingest_file(extract, "claims", KEY, lake, reference)
    with DuckDBEngine(threads=2) as engine:
        build(lake, engine, mode="compat", threshold=5, reference=reference)
    extract.unlink()


def release_file(data_dir: Path, table: str) -> Path:
    """One Parquet file holding the current release's ``table`` as published: the release
    holds it in parts (one per period), which the naive design would have to union on every
    request, so it gets the table whole, as before releases were stored in parts. Written
    once per release (atomically: workers of the naive server may race to write it)."""
    from helsestat.store.lake import Lake, write_parquet_atomic

    lake = Lake(data_dir)
    release = lake.current()
    assert release is not None, "build the release first"
    files = lake.table_files(release, table)
    whole = data_dir / "whole" / release.id / (table.replace("/", "__") + ".parquet")
    if not whole.exists():
        write_parquet_atomic(lake.read_table(release, table).table, whole)
    return files[0] if len(files) == 1 else whole


def typical_queries(data_dir: Path, count: int = 200) -> list[str]:
    """``count`` query strings, alternating the two typical shapes, over codes that have rows."""
    con = duckdb.connect()
    km = release_file(data_dir, "takstbruk/kommune/maned")
    pairs = con.execute(
        f"""SELECT behandler_kommunenr, takstkode FROM '{km}'
            WHERE status = 'published' AND fagomraade = 'LE'
            GROUP BY ALL ORDER BY count(*) DESC, 1, 2 LIMIT 50"""
    ).fetchall()
    fa = release_file(data_dir, "takstbruk/fylke/ar")
    fylker = [
        r[0]
        for r in con.execute(f"SELECT DISTINCT behandler_fylke FROM '{fa}' ORDER BY 1").fetchall()
    ]
    takster = [
        r[0]
        for r in con.execute(
            f"""SELECT takstkode FROM '{fa}' WHERE fagomraade = 'LE'
                GROUP BY 1 ORDER BY sum(sum_antall_takst) DESC, 1 LIMIT 10"""
        ).fetchall()
    ]
    out = []
    for i in range(count // 2):
        kommune, takst = pairs[i % len(pairs)]
        year, month = 2016 + i % 8, 1 + (i * 5) % 12
        end = year * 12 + month - 1 + 12
        out.append(
            f"/v1/takstbruk/agtakst/kommune/maned?fagomraade=LE&fommaned={year}{month:02d}"
            f"&tommaned={end // 12}{end % 12 + 1:02d}&takstkoder={takst}&kommuner={kommune}"
        )
        five = ",".join(takster[(i + j) % len(takster)] for j in range(5))
        first = 2015 + i % 7
        out.append(
            f"/v1/takstbruk/agtakst/fylke/ar?fagomraade=LE&fomar={first}&tomar={first + 4}"
            f"&takstkoder={five}&fylker={fylker[i % len(fylker)]}"
        )
    return out


def for_format(path: str, fmt: str) -> str:
    """The same query in ``fmt``: CSV and Excel at Helfo's export URLs, the rest by format."""
    if fmt == "csv":
        return path.replace("/agtakst/", "/eksport/agtakst/", 1)
    if fmt == "xlsx":
        return path.replace("/agtakst/", "/eksport/msexcel/agtakst/", 1)
    return path if fmt == "json" else f"{path}&format={fmt}"


# -- the naive design: one DuckDB query per request --------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


def naive_app_from_env() -> Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]:
    """An ASGI app answering the JSON query with one DuckDB query per request."""
    data_dir = Path(os.environ["HELSESTAT_DATA_DIR"])
    con = duckdb.connect(config={"threads": 1})
    # the release's files, looked up once per table (``run`` wrote them before the start)
    files = {
        (level, period): release_file(data_dir, f"takstbruk/{level}/{period}")
        for level in ("kommune", "fylke", "landet")
        for period in ("maned", "ar")
    }

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if not scope["query_string"]:  # /health, while the benchmark waits for the server
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})
            return
        level, period = scope["path"].rstrip("/").split("/")[-2:]
        q = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        file = files[(level, period)]
        geo = "behandler_kommunenr" if level == "kommune" else "behandler_fylke"
        where = ["status = 'published'", "fagomraade IN (SELECT unnest($fag))"]
        params: dict[str, Any] = {"fag": q["fagomraade"].split(",")}
        if period == "maned":
            where.append("ar || maned BETWEEN $fra AND $til")
            params |= {"fra": q["fommaned"], "til": q["tommaned"]}
        else:
            where.append("ar BETWEEN $fra AND $til")
            params |= {"fra": q["fomar"], "til": q["tomar"]}
        if "takstkoder" in q:
            where.append("takstkode IN (SELECT unnest($takst))")
            params["takst"] = q["takstkoder"].split(",")
        geo_values = q.get("kommuner") or q.get("fylker")
        if geo_values:
            where.append(f"{geo} IN (SELECT unnest($geo))")
            params["geo"] = geo_values.split(",")
        cursor = con.cursor()
        result = cursor.execute(
            f"SELECT * EXCLUDE (status, status_rule) FROM '{file}' WHERE {' AND '.join(where)} "
            "ORDER BY ALL",
            params,
        )
        names = [d[0] for d in result.description]
        body = orjson.dumps([dict(zip(names, row, strict=True)) for row in result.fetchall()])
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


# -- serving -----------------------------------------------------------------------------------


def serve(app: str, port: int, workers: int, reuse_port: bool = True) -> None:
    """Run ``app`` (a factory import string) in ``workers`` processes on 127.0.0.1:``port``
    as ``helsestat serve`` runs them (:func:`helsestat.api.workers.run_workers`: one
    ``SO_REUSEPORT`` socket per worker). ``reuse_port=False``: one shared socket instead,
    for comparison (the kernel then hands a burst of new connections — wrk opens all of its
    connections at once — to whichever worker accepts first, often all to one)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from helsestat.api.workers import listening_socket, run_workers

    fast = http_stack() == "httptools+uvloop"
    config = uvicorn.Config(
        app,
        factory=True,
        workers=workers,
        log_level="warning",
        access_log=False,
        http="httptools" if fast else "h11",
        loop="uvloop" if fast else "asyncio",
    )
    if reuse_port:
        run_workers(config, "127.0.0.1", port, workers)
    else:
        sock = listening_socket("127.0.0.1", port, reuse_port=False)
        Multiprocess(config, sockets=[sock]).run()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """A ``serve`` subprocess for the duration of a ``with`` block."""

    def __init__(self, app: str, data_dir: Path, workers: int, reuse_port: bool = True) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "HELSESTAT_DATA_DIR": str(data_dir),
            "HELSESTAT_DEMO_MODE": "1",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
        }
        code = (
            "from benchmarks.bench_serve import serve; "
            f"serve({app!r}, {self.port}, {workers}, reuse_port={reuse_port})"
        )
        self.process = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT)
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base + "/health", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("server did not start within 60 s")

    def __exit__(self, *_: object) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_LUA = """
local paths = %s
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT {\\"requests\\":%%d,\\"duration_us\\":%%d,\\"errors\\":%%d,\\"status\\":%%d,"
    .. "\\"p50_us\\":%%d,\\"p99_us\\":%%d,\\"bytes\\":%%d}\\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), summary.bytes))
end
"""


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds used so far by the processes ``pids`` (Linux ``/proc``)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The ids of the processes whose parent is ``pid`` (the uvicorn workers of a server)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def drive(
    base: str, paths: list[str], seconds: float, connections: int, workers: Sequence[int] = ()
) -> dict[str, Any]:
    """Requests/s and latency of ``paths`` (rotated) over ``seconds`` with wrk, and the CPU
    time per request of the server's processes ``workers`` and of wrk. CPU time per request
    does not depend on what else runs on the machine, unlike requests/s and latency."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_LUA % ("{" + ",".join(json.dumps(p) for p in paths) + "}"))
        script = fh.name
    server_before = cpu_seconds(workers)
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        out = subprocess.run(
            [
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "5s",
                "-s",
                script,
                base,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = cpu_seconds(workers) - server_before
    wrk_cpu = (usage.ru_utime + usage.ru_stime) - (usage_before.ru_utime + usage_before.ru_stime)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    requests = max(raw["requests"], 1)
    return {
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6)),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": raw["errors"] + raw["status"],
        "kb_per_response": round(raw["bytes"] / requests / 1024, 1),
        "server_cpu_us": round(server_cpu / requests * 1e6) if workers else None,
        "wrk_cpu_us": round(wrk_cpu / requests * 1e6),
        # the machine's 1-minute load average as the run ends: CPU per request is read
        # beside it (a shared machine's load changes what a request costs in caches)
        "load_1m": round(os.getloadavg()[0], 1),
    }


def handler_microseconds(data_dir: Path, paths: list[str], rounds: int = 3) -> float:
    """In-process cost of one answer (check, select, render; no HTTP), microseconds per
    request over ``paths`` — the part of a request the app controls."""
    from benchmarks.bench_build import holder_of
    from helsestat.api.fastpath import query_items
    from helsestat.api.service import CODE_LISTS_MAX_AGE, TableService
    from helsestat.statistics import STATISTICS
    from helsestat.store.lake import Lake

    service = TableService(
        Lake(data_dir),
        STATISTICS,
        version="bench",
        reference=partial(holder_of(data_dir).get, max_age=CODE_LISTS_MAX_AGE),
    )
    requests = [(p.split("?")[0], p.split("?")[1].encode()) for p in paths]
    for path, query in requests:  # load the indexes, render every row once
        service.answer(service.prepare_route(path, query_items(query), None, None))
    best = float("inf")  # the least disturbed round: the machine may be shared
    for _ in range(rounds):
        start = time.perf_counter()
        for path, query in requests:
            service.answer(service.prepare_route(path, query_items(query), None, None))
        best = min(best, time.perf_counter() - start)
    return round(best / len(requests) * 1e6)


def http_stack() -> str:
    """Which HTTP parser and event loop uvicorn picks here ("auto")."""
    fast = importlib.util.find_spec("httptools") and importlib.util.find_spec("uvloop")
    return "httptools+uvloop" if fast else "h11+asyncio"


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def run(
    data_dir: Path,
    *,
    seconds: float = 8,
    connections: int = 16,
    workers: int = 2,
    repeat: int = 1,
    formats: tuple[str, ...] = FORMATS,
    naive: bool = True,
    reuse_port: bool = True,
) -> list[dict[str, Any]]:
    """Measure every format (``repeat`` rounds, medians reported) and the naive baseline;
    one dict per format."""
    queries = typical_queries(data_dir)
    for level in ("kommune", "fylke", "landet"):  # the naive design's files, written once
        for period in ("maned", "ar"):
            release_file(data_dir, f"takstbruk/{level}/{period}")
    results: list[dict[str, Any]] = []
    common = {
        "workers": workers,
        "connections": connections,
        "http": http_stack(),
        "sockets": "SO_REUSEPORT per worker" if reuse_port else "one shared socket",
    }
    runs: dict[str, list[dict[str, Any]]] = {fmt: [] for fmt in formats}
    with Server("helsestat.api:create_app_from_env", data_dir, workers, reuse_port) as server:
        for fmt in formats:
            paths = [for_format(q, fmt) for q in queries]
            for path in paths[:4]:  # every response is 200 before the load starts
                status = httpx.get(server.base + path, timeout=60).status_code
                assert status == 200, (path, status)
            # warm both workers: each loads its indexes and renders each row once
            drive(server.base, paths, 6 if fmt == formats[0] else 2, connections)
        pids = children(server.process.pid)  # the workers (and multiprocessing's tracker)
        for _ in range(repeat):
            for fmt in formats:
                paths = [for_format(q, fmt) for q in queries]
                runs[fmt].append(drive(server.base, paths, seconds, connections, pids))
    for fmt in formats:
        measured = runs[fmt]
        results.append(
            {
                "server": "helsestat fast path",
                "format": fmt,
                **common,
                "rps": round(_median([m["rps"] for m in measured])),
                "p50_ms": _median([m["p50_ms"] for m in measured]),
                "p99_ms": _median([m["p99_ms"] for m in measured]),
                "errors": sum(m["errors"] for m in measured),
                "kb_per_response": measured[0]["kb_per_response"],
                "server_cpu_us": round(_median([m["server_cpu_us"] for m in measured])),
                "wrk_cpu_us": round(_median([m["wrk_cpu_us"] for m in measured])),
                "load_1m": _median([m["load_1m"] for m in measured]),
                "rps_runs": [m["rps"] for m in measured],
                "p99_runs": [m["p99_ms"] for m in measured],
                "handler_us": handler_microseconds(data_dir, [for_format(q, fmt) for q in queries]),
            }
        )
    if naive:
        naive_app = "benchmarks.bench_serve:naive_app_from_env"
        with Server(naive_app, data_dir, workers, reuse_port) as server:
            pids = children(server.process.pid)
            baseline = drive(server.base, queries, seconds, connections, pids)
            results.append(
                {"server": "DuckDB query per request", "format": "json", **common, **baseline}
            )
    json_rps = next((r["rps"] for r in results if r["format"] == "json"), 0)
    for row in results:
        row["vs_json"] = round(row["rps"] / json_rps, 2) if json_rps else None
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=1, help="rounds over the formats")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated")
    parser.add_argument("--no-naive", action="store_true", help="skip the DuckDB baseline")
    parser.add_argument(
        "--shared-socket",
        action="store_true",
        help="one socket shared by the workers instead of one SO_REUSEPORT socket each "
        "(as helsestat serve runs them)",
    )
    args = parser.parse_args()
    formats = tuple(f for f in args.formats.split(",") if f)
    unknown = set(formats) - set(FORMATS)
    if unknown:
        parser.error(f"unknown formats: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir
        if data_dir is None:
            data_dir = Path(tmp) / "lake"
            build_demo(data_dir, args.rows)
        results = run(
            data_dir,
            seconds=args.seconds,
            connections=args.connections,
            repeat=args.repeat,
            formats=formats,
            naive=not args.no_naive,
            reuse_port=not args.shared_socket,
        )
    print(
        f"{'server':28} {'format':9} {'rps':>7} {'p50 ms':>7} {'p99 ms':>7} {'x json':>6} "
        f"{'handler us':>10} {'server cpu us':>13} {'load 1m':>7} {'wrk cpu us':>10}"
    )
    for r in results:
        print(
            f"{r['server']:28} {r['format']:9} {r['rps']:7} {r['p50_ms']:7.2f} "
            f"{r['p99_ms']:7.2f} {r['vs_json']:6.2f} {r.get('handler_us', ''):>10} "
            f"{r.get('server_cpu_us') or '':>13} {r.get('load_1m', ''):>7} "
            f"{r.get('wrk_cpu_us', ''):>10}  "
            f"({r['http']}, {r['workers']} workers, {r['sockets']}, "
            f"{r['connections']} connections, {r['kb_per_response']} KB, errors {r['errors']})"
        )
        if len(r.get("rps_runs", ())) > 1:
            print(f"{'':38} runs: rps {r['rps_runs']}, p99 ms {r['p99_runs']}")


if __name__ == "__main__":
    main()
