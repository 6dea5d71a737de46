"""Benchmark: what a user runs — ``helsestat ingest`` and ``helsestat build`` as command-line
processes from a raw claims CSV — against the strongest plain-engine plans on the same input.

Input (:func:`make_input`): a SYNTHETIC claims CSV as hard as the real thing: ``--takster``
takstkoder (default 800, about the real normaltariff's count; Zipf use within each
fagområde), every kommune valid in each year weighted by population, ten years (2016–2025),
no deliberately bad lines (so a plain engine that validates nothing computes the same
tables). The tariff list is loaded into the data directory's reference database with
``helsestat reference load`` before the CSV is generated from it.

Each round, every contender runs as a fresh process (:func:`benchmarks.bench_build.run_fresh`),
interleaved; figures are medians over the rounds:

- ``helsestat ingest claims FILE`` into an empty data directory (the reference database
  copied in, untimed);
- ``helsestat build``: cold (the cache removed first) and warm (the cache of the build
  before kept);
- ``scan``: a bare scan of the lake columns the build reads, the floor a build is compared
  with;
- ``duckdb-lake``, ``polars-lake``: from the lake the ingest wrote, fine group-by on the
  integer code columns, then the rollups from the fine result;
- ``duckdb-csv``, ``polars-csv``: from the raw CSV, with a true COUNT DISTINCT of bills.

The time of a process is from its launch to its result in memory (interpreter start and
imports included; a baseline writing its tables for the check afterwards is not timed),
CPU and peak memory from ``wait4``. In the first round each baseline's tables are checked
cell for cell against helsestat's pre-suppression tables, and helsestat's published cells
against those (:func:`helsestat_tables`); any difference stops the benchmark.

The steady state (:func:`steady`) runs ingest and builds again and again in one long-running
process, as a service would: one untimed round, then ``repeat`` timed ones.

Usage::

    .venv/bin/python -m benchmarks.bench_e2e --rows 1000000 --repeat 3 --work var/bench
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.baselines import (
    ENGINES,
    KEYS,
    MEASURES,
    Mismatch,
    canonical,
    compare,
    read_tables,
)
from benchmarks.bench_build import run_fresh

TAKSTER = 800
YEARS = (2016, 2025)
SEED = 2026
THREADS = 2
_ROOT = Path(__file__).resolve().parents[1]
#: The code the input depends on: an input written by other code is not reused.
_INPUT_CODE = ("synth/claims.py", "synth/people.py", "synth/tariffs.py", "synth/core.py")


@dataclass(frozen=True)
class Input:
    """A benchmark input: the CSV, and the data directory holding only the reference
    database with the input's tariff list (copied into each fresh data directory)."""

    folder: Path
    lines: int
    takster: int
    years: tuple[int, int]

    @property
    def csv(self) -> Path:
        return self.folder / "claims.csv"

    @property
    def reference(self) -> Path:
        return self.folder / "reference"


def helsestat_command() -> list[str]:
    """The ``helsestat`` console script next to this interpreter (what a user runs)."""
    script = Path(sys.executable).with_name("helsestat")
    return [str(script)] if script.exists() else [sys.executable, "-m", "helsestat.cli"]


def cli_env(home: Path) -> dict[str, str]:
    """The environment of a CLI process on the data directory ``home`` (demo mode: the
    public demo pseudonymisation key; the data are synthetic)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELSESTAT_")}
    return {**env, "HELSESTAT_DATA_DIR": str(home), "HELSESTAT_DEMO_MODE": "true"}


def make_input(
    work: Path, rows: int, takster: int = TAKSTER, years: tuple[int, int] = YEARS
) -> Input:
    """Write the CSV of ``rows`` claim lines and its reference database under ``work``
    (reused when an earlier run wrote them with the same arguments and code)."""
    from helsestat.reference.holder import ReferenceHolder
    from helsestat.settings import Settings
    from helsestat.synth.claims import generate_claims
    from helsestat.synth.core import write_csv
    from helsestat.synth.tariffs import generate_takstkoder, render_csv

    made = Input(work / f"claims-{rows}-{takster}-{years[0]}-{years[1]}", rows, takster, years)
    src = _ROOT / "src" / "helsestat"
    code = hashlib.sha256(b"".join((src / name).read_bytes() for name in _INPUT_CODE))
    stamp = {"rows": rows, "takster": takster, "years": list(years), "code": code.hexdigest()}
    stamp_path = made.folder / "stamp.json"
    if stamp_path.exists() and json.loads(stamp_path.read_text()) == stamp:
        return made
    shutil.rmtree(made.folder, ignore_errors=True)
    made.folder.mkdir(parents=True)
    tariff_file = made.folder / "takstkoder.csv"
    tariff_file.write_text(render_csv(generate_takstkoder(takster)), encoding="utf-8")
    command = [*helsestat_command(), "reference", "load", str(tariff_file)]
    run_fresh(command, "reference load", env=cli_env(made.reference), answers=False)
    holder = ReferenceHolder.from_settings(Settings(demo_mode=True, data_dir=made.reference))
    tariffs = holder.get().tariffs
    holder.engine().dispose()
    assert len({t.takstkode for t in tariffs.takster}) == takster
    batches = generate_claims(
        rows, SEED, first_year=years[0], last_year=years[1], bad_share=0.0, tariffs=tariffs
    )
    write_csv(batches, made.csv)
    stamp_path.write_text(json.dumps(stamp))
    return made


def fresh_home(made: Input, home: Path) -> None:
    """An empty data directory holding only the input's reference database."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy2(made.reference / "reference.db", home / "reference.db")


# -- helsestat's tables, the reference of the check ---------------------------------------------


def _canonical_of(table: pa.Table, grouping: Sequence[str], kroner: bool) -> pa.Table:
    geo, period = grouping[0], grouping[1]
    n = table.num_rows
    if "maned" in table.column_names and kroner:  # published: ar and maned split
        periode = pc.binary_join_element_wise(table["ar"], table["maned"], "")
    else:
        periode = table[period]
    cols: dict[str, Any] = {
        "geo": table[geo] if geo in table.column_names else pa.array([""] * n, pa.string()),
        "periode": periode,
        "takstkode": table["takstkode"],
        "fagomraade": table["fagomraade"],
        "praksistype": table["praksis_type_kode"],
    }
    for m in MEASURES:
        col = table[m]
        if kroner and pa.types.is_floating(col.type):
            col = pc.round(pc.multiply(col, 100.0))
        cols[m] = pc.cast(col, pa.int64())
    if "status" in table.column_names:
        cols["status"] = table["status"]
    return pa.table(cols)


def _cells(table: pa.Table) -> pa.Table:
    """The table's cells, every measure 0 (to compare which cells two tables hold)."""
    zero = pa.array([0] * table.num_rows, pa.int64())
    return pa.table({**{k: table[k] for k in KEYS}, **dict.fromkeys(MEASURES, zero)})


def _published(before: pa.Table, shown: pa.Table) -> pa.Table:
    """The cells of ``before`` that ``shown`` publishes (a join on the keys)."""
    import duckdb

    with duckdb.connect(config={"threads": THREADS}) as con:
        con.register("b", before)
        con.register("s", shown)
        keys = ", ".join(KEYS)
        result: pa.Table = con.sql(
            f"SELECT b.* FROM b SEMI JOIN (SELECT {keys} FROM s WHERE status = 'published') p "
            f"USING ({keys})"
        ).to_arrow_table()
    return result


def helsestat_tables(home: Path) -> dict[str, pa.Table]:
    """helsestat's six takstbruk tables before suppression, from the phase-1 results the
    build cached in ``home`` and its rollups (the library's own path), after checking that
    the current release publishes exactly these cells: the same cells, and every published
    value equal (a suppressed one empty)."""
    from helsestat.aggregate import DuckDBEngine
    from helsestat.build import aggregate_statistic
    from helsestat.statistics.takstbruk import TAKSTBRUK
    from helsestat.store.lake import Lake

    lake = Lake(home)
    release = lake.current()
    assert release is not None, "no release to check"
    with DuckDBEngine(threads=THREADS) as engine:
        cube = aggregate_statistic(TAKSTBRUK, lake, engine)
    out = {}
    for tdef in TAKSTBRUK.tables:
        name = tdef.name.removeprefix("takstbruk/")
        before = canonical(_canonical_of(cube.tables[tdef.grouping], tdef.grouping, False))
        shown = _canonical_of(lake.read_table(release, tdef.name).table, tdef.grouping, True)
        compare({name: _cells(before)}, {name: _cells(shown)}, "the release's cells")
        published = pc.equal(shown["status"], "published")
        hidden = shown.filter(pc.invert(published))
        if any(hidden[m].null_count != hidden.num_rows for m in MEASURES):
            raise Mismatch(f"the release's {name}: a suppressed cell shows a value")
        compare(
            {name: _published(before, shown)},
            {name: canonical(shown.filter(published).drop(["status"]))},
            "the release's published values",
        )
        out[name] = before
    return out


# -- the rounds -----------------------------------------------------------------------------------


@dataclass
class Runs:
    """The runs of one contender: process seconds (launch to result), in-process seconds
    (after imports), CPU seconds and peak memory (GB) of each."""

    process: list[float] = field(default_factory=list)
    inside: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_gb: list[float] = field(default_factory=list)

    # Peak memory is wait4's ru_maxrss of the child. Linux counts in it the pages the child
    # had after fork and before exec (a copy of this process), so this process must stay
    # small: the check of the tables runs in a process of its own.
    def add(self, process: float, inside: float | None, cpu: float, peak_kb: int) -> None:
        self.process.append(process)
        if inside is not None:
            self.inside.append(inside)
        self.cpu.append(cpu)
        self.peak_gb.append(peak_kb / 1024**2)

    def median(self) -> dict[str, float | None]:
        return {
            "process": statistics.median(self.process),
            "inside": statistics.median(self.inside) if self.inside else None,
            "cpu": statistics.median(self.cpu),
            "peak_gb": max(self.peak_gb),
            "runs": len(self.process),
        }


def _cli(home: Path, *args: str) -> tuple[float, float, int]:
    start = time.time()
    _, usage = run_fresh(
        [*helsestat_command(), *args], f"helsestat {args[0]}", env=cli_env(home), answers=False
    )
    return time.time() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def check(home: Path, outputs: Sequence[Path]) -> int:
    """Check each baseline's tables (written in ``outputs``) against helsestat's in
    ``home``; the cells of one baseline's six tables. Raises :class:`Mismatch`."""
    expected = helsestat_tables(home)
    cells = 0
    for out in outputs:
        cells = compare(expected, read_tables(out), out.name.removeprefix("tables-"))
    return cells


def _baseline(engine: str, source: Path, out: Path | None) -> tuple[float, float, float, int]:
    command = [sys.executable, "-m", "benchmarks.baselines", engine, str(source)]
    command += ["--threads", str(THREADS)] + (["--out", str(out)] if out else [])
    start = time.time()
    result, usage = run_fresh(command, engine)
    return result["done"] - start, result["seconds"][-1], result["cpu"], usage.ru_maxrss


def run(
    work: Path,
    rows: int,
    repeat: int,
    *,
    takster: int = TAKSTER,
    steady_repeat: int = 2,
    engines: Sequence[str] = ENGINES,
) -> dict[str, Any]:
    """Every contender, interleaved, ``repeat`` rounds, on an input of ``rows`` lines; the
    first round's tables checked; then the steady state. Returns the medians and the
    input's description."""
    made = make_input(work, rows, takster)
    home = work / f"home-{rows}-{takster}"
    runs: dict[str, Runs] = {}
    cells = 0
    for round_ in range(repeat):
        fresh_home(made, home)
        process, cpu, peak = _cli(home, "ingest", "claims", str(made.csv))
        runs.setdefault("ingest", Runs()).add(process, None, cpu, peak)
        shutil.rmtree(home / "cache", ignore_errors=True)
        process, cpu, peak = _cli(home, "build")
        runs.setdefault("build cold", Runs()).add(process, None, cpu, peak)
        process, cpu, peak = _cli(home, "build")
        runs.setdefault("build warm", Runs()).add(process, None, cpu, peak)
        order = list(engines[round_ % len(engines) :]) + list(engines[: round_ % len(engines)])
        for engine in order:
            out = work / f"tables-{engine}" if round_ == 0 and engine != "scan" else None
            source = made.csv if engine.endswith("-csv") else home
            process, inside, cpu, peak = _baseline(engine, source, out)
            runs.setdefault(engine, Runs()).add(process, inside, cpu, peak)
        if round_ == 0:  # in a process of its own: this one stays small (see _baseline)
            command = [sys.executable, "-m", "benchmarks.bench_e2e", "check", str(home)]
            command += [str(work / f"tables-{e}") for e in engines if e != "scan"]
            cells = run_fresh(command, "the cell-for-cell check")[0]["cells"]
    lines = _stored_lines(home)
    if lines != rows:
        raise Mismatch(f"helsestat stored {lines:,} of the CSV's {rows:,} lines")
    steady_state = steady(made, work / f"steady-{rows}-{takster}", steady_repeat)
    result = {
        "rows": rows,
        "takster": takster,
        "years": list(made.years),
        "csv_gb": made.csv.stat().st_size / 1024**3,
        "cells": cells,
        "months": len({p.name for p in (home / "extracts" / "claims").glob("period=*")}),
        "medians": {name: r.median() for name, r in runs.items()},
        "steady": steady_state,
        "load": os.getloadavg()[0],
    }
    # kept beside the input: a long run's figures survive a later step that fails
    (work / f"result-{rows}-{takster}.json").write_text(json.dumps(result, indent=1))
    return result


def _stored_lines(home: Path) -> int:
    import pyarrow.parquet as pq

    from benchmarks.baselines import lake_files

    return sum(pq.read_metadata(f).num_rows for f in lake_files(home))


def steady(made: Input, home: Path, repeat: int) -> dict[str, float]:
    """Ingest, cold build and warm build in one long-running process (a fresh process runs
    :func:`_steady_here`): medians of ``repeat`` rounds after an untimed one."""
    command = [sys.executable, "-m", "benchmarks.bench_e2e", "steady", str(made.folder)]
    command += [str(home), "--repeat", str(repeat), "--lines", str(made.lines)]
    result, _ = run_fresh(command, "the steady-state process")
    return {k: statistics.median(v) for k, v in result.items()}


def _steady_here(made: Input, home: Path, repeat: int) -> dict[str, list[float]]:
    from helsestat.aggregate import engine_for
    from helsestat.build import build, ingest_file
    from helsestat.reference.holder import ReferenceHolder
    from helsestat.settings import Settings
    from helsestat.store.lake import Lake

    out: dict[str, list[float]] = {"ingest": [], "build cold": [], "build warm": []}
    fresh_home(made, home)
    settings = Settings(demo_mode=True, data_dir=home)
    holder = ReferenceHolder.from_settings(settings)  # held, as a service holds it
    engine = engine_for(settings)
    for round_ in range(repeat + 1):
        if round_:  # a new data directory, the reference database copied in (untimed)
            holder.engine().dispose()
            fresh_home(made, home)
            holder = ReferenceHolder.from_settings(settings)
        lake = Lake(home)
        times = []
        start = time.perf_counter()
        ingest_file(made.csv, "claims", settings.key, lake, holder.get())
        times.append(time.perf_counter() - start)
        for cold in (True, False):
            if cold:
                shutil.rmtree(home / "cache", ignore_errors=True)
            start = time.perf_counter()
            build(
                lake,
                engine,
                mode=settings.protection_mode,
                threshold=settings.suppression_threshold,
                reference=holder.get(),
            )
            times.append(time.perf_counter() - start)
        if round_:
            for name, seconds in zip(out, times, strict=True):
                out[name].append(seconds)
    return out


HEADING = "## End to end: from the raw CSV to the six takstbruk tables, as a user runs it"
_WHAT = {
    "ingest": "`helsestat ingest claims FILE` (read, validate, pseudonymise, store)",
    "build cold": "`helsestat build`, the cache removed first",
    "build warm": "`helsestat build` again, the cache kept",
    "scan": "floor: DuckDB scan of the 11 lake columns the build reads (a sum of each)",
    "duckdb-lake": "DuckDB on the lake: fine group-by on the int codes, rollups from it",
    "polars-lake": "polars on the lake: the same plan",
    "duckdb-csv": "DuckDB from the CSV: COUNT(DISTINCT regning_id) per fine cell, rollups",
    "polars-csv": "polars from the CSV: the same plan",
}


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×"


def section(results: Sequence[dict[str, Any]], command: str) -> list[str]:
    """The End-to-end section of docs/benchmarks.md (markdown lines) from :func:`run`'s
    results, one per size."""
    first = results[0]
    out = [
        HEADING,
        "",
        f"Reproduce with `{command}`. Input: a SYNTHETIC claims CSV "
        f"(`helsestat.synth.claims.generate_claims`) as hard as the real thing: "
        f"{first['takster']} takstkoder (`generate_takstkoder({first['takster']})`, loaded with "
        "`helsestat reference load takstkoder.csv`; Zipf use, exponent 1.1, within each "
        "fagområde), every kommune valid in each year weighted by its population (356–433), "
        f"ten years ({first['years'][0]}–{first['years'][1]}, {first['months']} months), bills "
        "of 1–3 lines, 3 % of bills avvist, no deliberately bad lines (`bad_share=0`, so a plain "
        "engine that validates nothing computes the same tables).",
        "",
        "Every contender runs as a fresh process, interleaved round by round (medians; peak "
        "memory is the largest of the runs). *Process s* is from the launch to the result "
        "(interpreter start and imports included: what a user waits for); *in-process s* "
        "excludes start-up and imports (a baseline's computation alone). helsestat's *steady "
        "state* is the same commands called in one long-running process (one untimed round "
        "first). In the first round each baseline's six tables were checked cell for cell "
        "against helsestat's tables before suppression, and helsestat's published cells "
        "against those (`benchmarks/baselines.py: compare`); the run stops on any difference. "
        "Only helsestat validates, pseudonymises, protects and writes a release.",
    ]
    behind: list[str] = []
    for r in results:
        m, st = r["medians"], r["steady"]
        rows = r["rows"]
        out += [
            "",
            f"**{rows:,} lines** ({r['csv_gb']:.2f} GB CSV; {r['cells']:,} cells checked in "
            f"each baseline's six tables; load average at the end {r['load']:.1f}):",
            "",
            "| contender | what runs | process s (runs) | in-process s | CPU s | peak GB |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for name, what in _WHAT.items():
            x = m[name]
            if name.startswith("build") or name == "ingest":
                inside = f"{st[name]:.2f} (steady state)"
            else:
                inside = f"{x['inside']:.2f}"
            out.append(
                f"| {name} | {what} | {x['process']:.2f} ({x['runs']}) | {inside} "
                f"| {x['cpu']:.2f} | {x['peak_gb']:.2f} |"
            )
        cold, scan_s = m["build cold"]["process"], m["scan"]["process"]
        e2e = m["ingest"]["process"] + cold
        target = 3 if rows < 10_000_000 else 2
        ratios = [
            ("cold `helsestat build` / bare scan (floor)", cold, scan_s, f"≤ {target}×"),
            ("cold `helsestat build` / DuckDB on the lake", cold, m["duckdb-lake"]["process"], ""),
            ("cold `helsestat build` / polars on the lake", cold, m["polars-lake"]["process"], ""),
            (
                "steady-state cold build / DuckDB on the lake, in-process",
                st["build cold"],
                m["duckdb-lake"]["inside"],
                "",
            ),
            (
                "`helsestat ingest` / DuckDB from the CSV",
                m["ingest"]["process"],
                m["duckdb-csv"]["process"],
                "",
            ),
            (
                "end to end: ingest + cold build / DuckDB from the CSV",
                e2e,
                m["duckdb-csv"]["process"],
                "",
            ),
            (
                "end to end: ingest + cold build / polars from the CSV",
                e2e,
                m["polars-csv"]["process"],
                "",
            ),
            (
                "peak memory: ingest / DuckDB from the CSV",
                m["ingest"]["peak_gb"],
                m["duckdb-csv"]["peak_gb"],
                "",
            ),
        ]
        out += ["", "| ratio (medians of this run) | value | target |", "|---|---:|---|"]
        for label, a, b, goal in ratios:
            out.append(f"| {label} | {_ratio(a, b)} | {goal} |")
            if a > b and not label.startswith("peak"):
                behind.append(f"{rows:,} lines: {label} {_ratio(a, b)}")
    out += [
        "",
        "**Where helsestat is behind** (a ratio above 1 is helsestat slower): "
        + ("; ".join(behind) if behind else "nowhere in this run")
        + ". The plain engines only compute the tables; helsestat's ingest also validates "
        "every line against the reference registries, pseudonymises the fødselsnummer "
        "(HMAC-SHA256) and stores the lake, and its build also protects the tables and "
        "writes a release, so part of each ratio is work the baseline does not do — but it "
        "is time a user waits for.",
        "",
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("run", help="every contender, interleaved; print JSON")
    bench.add_argument("--rows", type=int, default=1_000_000)
    bench.add_argument("--takster", type=int, default=TAKSTER)
    bench.add_argument("--repeat", type=int, default=3)
    bench.add_argument("--work", type=Path, default=Path("var/bench"))
    checking = sub.add_parser("check", help="(internal) check baselines' tables")
    checking.add_argument("home", type=Path)
    checking.add_argument("outputs", type=Path, nargs="+")
    here = sub.add_parser("steady", help="(internal) the steady-state process")
    here.add_argument("folder", type=Path)
    here.add_argument("home", type=Path)
    here.add_argument("--repeat", type=int, default=2)
    here.add_argument("--lines", type=int, required=True)
    args = parser.parse_args()
    if args.command == "check":
        print(json.dumps({"cells": check(args.home, args.outputs)}))
    elif args.command == "steady":
        made = Input(args.folder, args.lines, 0, YEARS)
        print(json.dumps(_steady_here(made, args.home, args.repeat)))
    else:
        print(json.dumps(run(args.work, args.rows, args.repeat, takster=args.takster), indent=1))


if __name__ == "__main__":
    main()
