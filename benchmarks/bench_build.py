"""Benchmark: build the six takstbruk tables end to end from a lake of synthetic claim lines.

"End to end" is what ``helsestat build`` does: from the stored claim lines in the lake (as the
real ingest wrote them: code columns, sorted month files, codebooks) to the six published,
protected takstbruk tables in a new release. The lake is written through the real validate
and store code (``validate`` → ``store_extract``, pseudonymisation included) straight from
generated Arrow batches, one extract per month split in files of at most
:data:`EXTRACT_ROWS` lines, without a CSV in between (CSV reading is benchmarked in the
stage section of ``benchmarks/run.py``).

Every build runs in a fresh subprocess, so its peak resident memory (``ru_maxrss`` from
``wait4``) is its own. The same lake is aggregated, in the same run, by

- ``helsestat``: ``build`` with the cache removed first (cold), kept (``--warm``), or
  after a build of the lake without one partition (``--refresh period=YYYYMM``);
- ``duckdb``: one plain SQL query, ``GROUPING SETS`` over the stored text columns;
- ``pandas`` and ``polars`` (if installed): groupbys over the same columns.

Only helsestat protects the tables and writes a release; the others just compute them.

Usage::

    .venv/bin/python -m benchmarks.bench_build lake /tmp/lake --rows 10000000
    .venv/bin/python -m benchmarks.bench_build measure helsestat /tmp/lake --repeat 3
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from helsestat.reference.holder import ReferenceHolder
    from helsestat.reference.snapshot import Reference

KEY = b"benchmark-key-not-secret-0123456789abcdef"
#: Lines per generated extract file (a month is split into several files above this).
EXTRACT_ROWS = 2_000_000
ENGINES = ("helsestat", "duckdb", "pandas", "polars")
SUMS = {
    "antall_regninger": "regning_teller",
    "sum_antall_takst": "antall",
    "sum_refusjon": "refusjon_ore",
    "sum_egenandel_betalt_av_pasient": "egenandel_pasient_ore",
    "sum_egenandel_dekket_av_folketrygden": "egenandel_folketrygd_ore",
}
REST = ("takstkode", "fagomraade", "praksistype")


# -- the lake ----------------------------------------------------------------------------------

#: One holder per lake and process, as a running service holds its reference snapshot.
_HOLDERS: dict[Path, ReferenceHolder] = {}


def holder_of(root: Path) -> ReferenceHolder:
    """The holder of the lake's reference database (``root/reference.db``, seeded from the
    packaged files the first time), one per process, as ``helsestat serve`` and a
    long-running build process keep theirs."""
    from helsestat.reference.holder import ReferenceHolder
    from helsestat.settings import Settings

    holder = _HOLDERS.get(root)
    if holder is None:
        holder = ReferenceHolder.from_settings(Settings(demo_mode=True, data_dir=root))
        _HOLDERS[root] = holder
    return holder


def reference_of(root: Path) -> Reference:
    """The reference snapshot of the lake's reference database: read once per process, then
    reused after a check of its version."""
    return holder_of(root).get()


def _extract(job: tuple[str, int, int, int, int]) -> int:
    """Generate one extract file's lines for one month and store them (validate + store)."""
    root, rows, year, month, seed = job
    from helsestat.model import RawExtract
    from helsestat.store.lake import Lake
    from helsestat.store.lake.extracts import store_extract
    from helsestat.synth.claims import generate_claims
    from helsestat.validate import validate
    from helsestat.validate.claims import CLAIMS

    end = date(year, month, calendar.monthrange(year, month)[1])
    batches = generate_claims(rows, seed, start=date(year, month, 1), end=end)
    table = pa.Table.from_batches(list(batches))
    checksum = hashlib.sha256(f"synthetic {seed} {year}-{month} {rows}".encode()).hexdigest()
    raw = RawExtract("claims", f"claims_{year}{month:02d}_{seed}.synthetic", checksum, table, 1)
    clean = validate(raw, CLAIMS, KEY, reference_of(Path(root)))
    store_extract(clean, Lake(Path(root)), "maned", coded=CLAIMS.coded, sort_by=CLAIMS.sort_by)
    return int(clean.report.accepted)


def month_jobs(root: Path, rows: int, months: Sequence[tuple[int, int]], seed: int) -> list:
    """One job per extract file: ``rows`` lines spread evenly over ``months``."""
    jobs = []
    for i, (year, month) in enumerate(months):
        share = rows // len(months) + (1 if i < rows % len(months) else 0)
        parts = max(1, -(-share // EXTRACT_ROWS))
        for p in range(parts):
            lines = share // parts + (1 if p < share % parts else 0)
            jobs.append((str(root), lines, year, month, seed * 10_000 + i * 100 + p))
    return jobs


#: The code a lake depends on: a lake written by other code is not reused.
_LAKE_CODE = (
    "synth/claims.py",
    "synth/people.py",
    "validate/spec.py",
    "validate/row_rules.py",
    "validate/claims.py",
    "validate/pseudonymise.py",
    "store/lake/extracts.py",
    "store/lake/codebooks.py",
)


def _stamp(rows: int, months: Sequence[tuple[int, int]], seed: int) -> dict[str, object]:
    src = Path(__file__).resolve().parents[1] / "src" / "helsestat"
    code = hashlib.sha256(b"".join((src / name).read_bytes() for name in _LAKE_CODE))
    return {"rows": rows, "months": list(map(list, months)), "seed": seed, "code": code.hexdigest()}


def make_lake(
    root: Path, rows: int, months: Sequence[tuple[int, int]], seed: int = 2026, workers: int = 2
) -> tuple[int, float]:
    """Write ``rows`` synthetic lines over ``months`` into the lake at ``root``; returns the
    accepted lines and the seconds it took (generation, validation and storing). A lake that
    an earlier run wrote with the same arguments and code is reused (its seconds are those
    of that run): writing 50 million lines takes minutes."""
    stamp_path = root / f".bench-{seed}-{rows}.json"
    stamp = _stamp(rows, months, seed)
    if stamp_path.exists():
        done = json.loads(stamp_path.read_text())
        if {k: done[k] for k in stamp} == stamp:
            return int(done["accepted"]), float(done["seconds"])
    start = time.perf_counter()
    jobs = month_jobs(root, rows, months, seed)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        accepted = sum(pool.map(_extract, jobs))
    seconds = time.perf_counter() - start
    stamp_path.write_text(json.dumps({**stamp, "accepted": accepted, "seconds": seconds}))
    return accepted, seconds


def remove_lake_batches(
    root: Path, seed: int, rows: int, months: Sequence[tuple[int, int]]
) -> None:
    """Remove what :func:`make_lake` stored for these arguments (batch records first, so the
    lake never shows a half-removed batch), to ingest them again."""
    from helsestat.store.lake import Lake

    lake = Lake(root)
    for _, lines, year, month, job_seed in month_jobs(root, rows, months, seed):
        text = f"synthetic {job_seed} {year}-{month} {lines}"
        checksum = hashlib.sha256(text.encode()).hexdigest()
        lake.batch_path("claims", checksum).unlink(missing_ok=True)
        for file in lake.extract_dir("claims").glob(f"period=*/{checksum}.parquet"):
            file.unlink()
        lake.quarantine_path("claims", checksum).unlink(missing_ok=True)
    (root / f".bench-{seed}-{rows}.json").unlink(missing_ok=True)


def year_months(year: int) -> list[tuple[int, int]]:
    return [(year, m) for m in range(1, 13)]


def stored_lines(root: Path) -> int:
    from helsestat.store.lake import Lake
    from helsestat.store.lake.extracts import committed_files

    return sum(pq.read_metadata(f).num_rows for f in committed_files(Lake(root), "claims"))


# -- the builds (run inside the measuring subprocess) --------------------------------------------


def _files(root: Path) -> list[Path]:
    from helsestat.store.lake import Lake
    from helsestat.store.lake.extracts import committed_files

    return committed_files(Lake(root), "claims")


#: Where a refresh benchmark keeps the batch records it hides (inside the lake).
_HIDDEN = ".refresh-hidden"


def _restore_hidden(root: Path) -> None:
    """Put back batch records a refresh run hid (also after a run that was killed)."""
    from helsestat.store.lake import Lake

    hidden = root / _HIDDEN
    if hidden.exists():
        for record in hidden.glob("*.json"):
            os.replace(record, Lake(root).batch_path("claims", record.stem))
        hidden.rmdir()


def prepare_refresh(root: Path, partition: str) -> None:
    """Build the lake as it was before ``partition`` (e.g. ``period=202501``) was committed:
    its batch records are hidden (the commit markers), the lake built (caches filled for
    every other partition, the partition's entries pruned) and the records put back. The
    next build is then a real refresh: the new month is scanned, its pieces and its year's
    recomputed, everything else read from the caches."""
    from helsestat.store.lake import Lake

    lake = Lake(root)
    _restore_hidden(root)  # left by a run that was killed
    hidden = root / _HIDDEN
    hidden.mkdir(exist_ok=True)
    try:
        for file in (lake.extract_dir("claims") / partition).glob("*.parquet"):
            record = lake.batch_path("claims", file.stem)
            if record.exists():
                os.replace(record, hidden / record.name)
        run_helsestat(root, warm=True)
    finally:
        _restore_hidden(root)


def run_helsestat(root: Path, warm: bool) -> None:
    from helsestat.aggregate import DuckDBEngine
    from helsestat.build import build
    from helsestat.settings import Settings
    from helsestat.store.lake import Lake

    lake = Lake(root)
    if not warm:
        shutil.rmtree(root / "cache", ignore_errors=True)
    settings = Settings(demo_mode=True, data_dir=root)
    reference = reference_of(root)  # the version checked, the snapshot reused
    with DuckDBEngine(threads=settings.threads, memory_limit=settings.memory_limit) as engine:
        build(lake, engine, mode="compat", threshold=5, reference=reference)


def duckdb_sql(files: Sequence[Path]) -> str:
    source = "read_parquet([" + ", ".join(f"'{f}'" for f in files) + "])"
    sums = ", ".join(f"SUM({c}) AS {m}" for m, c in SUMS.items())
    rest = ", ".join(REST)
    sets = ", ".join(f"({g}{t}, {rest})" for g in ("k, ", "f, ", "") for t in ("m", "a"))
    return (
        "WITH r AS (SELECT behandler_kommunenr AS k, substr(behandler_kommunenr, 1, 2) AS f, "
        "CAST(maned AS VARCHAR) AS m, substr(CAST(maned AS VARCHAR), 1, 4) AS a, "
        f"{rest}, {', '.join(SUMS.values())} FROM {source} WHERE resultat = 'godkjent') "
        f"SELECT k, f, m, a, {rest}, {sums} FROM r GROUP BY GROUPING SETS ({sets})"
    )


def run_duckdb(root: Path) -> None:
    import duckdb

    con = duckdb.connect(config={"threads": 2})
    con.sql(duckdb_sql(_files(root))).to_arrow_table()
    con.close()


def run_pandas(root: Path) -> None:
    columns = ["behandler_kommunenr", "maned", "resultat", *REST, *SUMS.values()]
    df = pq.read_table(_files(root), columns=columns).to_pandas()
    df = df[df["resultat"] == "godkjent"]
    df["fylke"] = df["behandler_kommunenr"].str[:2]
    df["ar"] = (df["maned"] // 100).astype(str)
    df["maned"] = df["maned"].astype(str)
    for geo in (["behandler_kommunenr"], ["fylke"], []):
        for period in ("maned", "ar"):
            df.groupby([*geo, period, *REST], observed=True)[list(SUMS.values())].sum()


def run_polars(root: Path) -> None:
    import polars as pl

    frame = (
        pl.scan_parquet([str(f) for f in _files(root)])
        .filter(pl.col("resultat") == "godkjent")
        .with_columns(
            fylke=pl.col("behandler_kommunenr").str.slice(0, 2),
            maned=pl.col("maned").cast(pl.String),
            ar=(pl.col("maned") // 100).cast(pl.String),
        )
    )
    queries = [
        frame.group_by([*geo, period, *REST]).agg([pl.col(c).sum() for c in SUMS.values()])
        for geo in (["behandler_kommunenr"], ["fylke"], [])
        for period in ("maned", "ar")
    ]
    pl.collect_all(queries)


def _measure_here(
    engine: str, root: Path, repeat: int, warm: bool, refresh: str | None
) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds (all threads of the process) of each run."""
    runs = {
        "helsestat": lambda: run_helsestat(root, warm),
        "duckdb": lambda: run_duckdb(root),
        "pandas": lambda: run_pandas(root),
        "polars": lambda: run_polars(root),
    }
    # Imports are not timed (a long-running service has them); everything else is.
    modules = {
        "helsestat": ["helsestat.build", "helsestat.settings"],
        "duckdb": ["duckdb"],
        "pandas": ["pandas"],
        "polars": ["polars"],
    }
    for module in modules[engine]:
        importlib.import_module(module)
    if engine == "helsestat":  # nor is reading the reference, which a running process holds
        reference_of(root)
    _restore_hidden(root)  # batch records a killed refresh run left hidden
    seconds, cpu = [], []
    for _ in range(repeat):
        if refresh:  # untimed: the build before the new month arrived
            prepare_refresh(root, refresh)
        start, start_cpu = time.perf_counter(), time.process_time()
        runs[engine]()
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return seconds, cpu


# -- the measuring parent ---------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """Median wall and CPU seconds of the runs, and the peak resident memory of their
    process. On a shared machine the CPU seconds are the steadier figure."""

    engine: str
    seconds: float
    runs: int
    peak_gb: float
    cpu: float = 0.0


def run_fresh(
    command: list[str], what: str, *, env: dict[str, str] | None = None, answers: bool = True
) -> tuple[Any, Any]:
    """Run ``command`` as a new process from the repository root (with ``env`` as its
    environment when given): the JSON of its last line of output (None unless ``answers``:
    a command such as ``helsestat build`` that prints no JSON) and its resource usage
    (``os.wait4``: its own CPU time and peak memory)."""
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parents[1], env=env
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed with exit code {proc.returncode}")
    if not answers:
        return None, usage
    return json.loads(output.decode().strip().splitlines()[-1]), usage


def measure(
    engine: str, root: Path, repeat: int = 3, *, warm: bool = False, refresh: str | None = None
) -> Measured:
    """Run ``repeat`` builds of ``engine`` in one fresh subprocess; its median and peak RSS.
    helsestat builds cold (cache removed before each run), ``warm`` (cache kept), or a
    ``refresh`` of a partition, e.g. ``period=202501`` (before each run, untimed, the lake
    is built without that partition; see :func:`prepare_refresh`)."""
    command = [sys.executable, "-m", "benchmarks.bench_build", "measure", engine, str(root)]
    command += ["--repeat", str(repeat)] + (["--warm"] if warm else [])
    command += ["--refresh", refresh] if refresh else []
    result, usage = run_fresh(command, f"{engine} build")
    return Measured(
        engine,
        statistics.median(result["seconds"]),
        len(result["seconds"]),
        usage.ru_maxrss / 1024**2,
        statistics.median(result["cpu"]),
    )


def available_gb() -> float:
    """MemAvailable of /proc/meminfo, in GB (0 where unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return 0.0


def has_polars() -> bool:
    import importlib.util

    return importlib.util.find_spec("polars") is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    lake = sub.add_parser("lake", help="write a synthetic lake (one year, 2024)")
    lake.add_argument("root", type=Path)
    lake.add_argument("--rows", type=int, default=10_000_000)
    run = sub.add_parser("measure", help="time builds in this process, print JSON")
    run.add_argument("engine", choices=ENGINES)
    run.add_argument("root", type=Path)
    run.add_argument("--repeat", type=int, default=3)
    run.add_argument("--warm", action="store_true")
    run.add_argument(
        "--refresh", help="time a refresh: the lake built without this partition before each run"
    )
    args = parser.parse_args()
    if args.command == "lake":
        accepted, seconds = make_lake(args.root, args.rows, year_months(2024))
        print(f"{accepted:,} lines stored in {seconds:.1f} s")
    else:
        seconds, cpu = _measure_here(args.engine, args.root, args.repeat, args.warm, args.refresh)
        print(json.dumps({"seconds": seconds, "cpu": cpu}))


if __name__ == "__main__":
    main()
