"""Benchmark: full protection (secondary suppression + attacker audit).

1. A three-dimensional hierarchical table of 108,157 cells shaped like takstbruk —
   kommune → fylke → landet × måned → år × takst — with skewed counts so that many cells
   are small (SYNTHETIC DATA), protected by ``protect_tables`` like a statistic (all six
   level combinations linked). Takster are not added up (as in takstbruk), so the problem
   splits into one block per takst. Issue 16's target: elimination ≤ 2 s.
2. The stress case, 8,513 cells with totals on all three dimensions (takst → takstgruppe →
   alle too): one connected block, where fill-in in the elimination dominates. Target:
   elimination ≤ 1 s.
3. The anchors' own cases that GaussSuppression timed (``tests/protect/anchor_cases``: z1,
   z2, z3, d53 global), run through helsestat's Gaussian elimination with the same options.

For the full protections the time is split into the Gaussian elimination (every round's
``gauss_suppress``) and the attacker audit (every ``audit`` call: propagation and LPs); the
rest is linking the tables, primary rules and the report. ``run(repeat)`` returns one
:class:`Row` per case (medians of ``repeat`` runs in one process, after one untimed warm-up
run, so that the compiled elimination is loaded); ``cold_start()`` is what the first
compiled elimination of a fresh process costs on top (importing numba, loading the cached
machine code). The anchor's seconds for the same cases are in ``ANCHOR_SECONDS``.

Usage: ``.venv/bin/python -m benchmarks.bench_protect [--repeat 3] [--only stress]``.
``--before REF`` compares this checkout with the protect code of git revision REF instead:
runs alternate between the two (B A A B …), each a fresh process measuring the cases of
``--only`` once after a warm-up run, and the table gives medians of CPU seconds, the ratio
after/before and whether both versions suppressed exactly the same cells.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from benchmarks.revision import package_at
from helsestat.protect import (
    FrequencyRule,
    Protection,
    ProtectionReport,
    Requirement,
    TableToProtect,
    engine,
    protect_tables,
)
from helsestat.protect.candidates import candidate_order
from helsestat.protect.gauss import gauss_suppress

#: GaussSuppression's timings on the same cases (REPORT.md §5.3, cases/_timings_gauss.json).
ANCHOR_SECONDS = {"z1": 0.072, "z2": 0.045, "z3": 1.171, "d53 global": 7.99}

GEO = ("kommune", "fylke", None)
TIME = ("maned", "ar")
TAKST = ("takst", "gruppe", None)


def hierarchical_table(
    fylker: int = 12,
    kommuner: int = 30,
    months: int = 12,
    takster: int = 24,
    *,
    takst_totals: bool = False,
    seed: int = 2026,
) -> tuple[list[TableToProtect], int]:
    """Linked tables over kommune → fylke → landet × måned → år × takst, with skewed counts
    (many small cells). As takstbruk, takster are not added up unless ``takst_totals``: then
    takst → takstgruppe → alle is a third hierarchy and the whole table is one block.
    Returns the tables and their number of cells."""
    rng = np.random.default_rng(seed)
    keys = list(
        itertools.product(
            [f"{f:02d}{k:02d}" for f in range(1, fylker + 1) for k in range(1, kommuner + 1)],
            [f"2024{m:02d}" for m in range(1, months + 1)],
            [f"T{t:02d}" for t in range(takster)],
        )
    )
    counts = rng.poisson(np.exp(rng.normal(1.2, 1.3, len(keys))))
    rows = [
        {
            "kommune": k,
            "fylke": k[:2],
            "maned": m,
            "ar": m[:4],
            "takst": t,
            "gruppe": f"G{int(t[1:]) % 4}",
            "n": int(c),
        }
        for (k, m, t), c in zip(keys, counts, strict=True)
        if c > 0
    ]
    inner = pa.Table.from_pylist(rows)
    rule = (FrequencyRule("n", 3),)
    geo_levels = [("kommune", "fylke"), ("fylke",), ()]
    time_levels = [("ar", "maned"), ("ar",)]
    takst_levels = [("takst", "gruppe"), ("gruppe",), ()] if takst_totals else [("takst",)]
    tables = []
    for geo, time_, takst in itertools.product(geo_levels, time_levels, takst_levels):
        dims = (*takst, *geo, *time_)
        name = "/".join([geo[0] if geo else "landet", time_[-1], takst[0] if takst else "alle"])
        if dims:
            # unthreaded: a threaded group-by orders its rows differently from run to run,
            # and a different row order can give a different (as safe) suppression pattern
            t = inner.group_by(list(dims), use_threads=False).aggregate([("n", "sum")])
            table = t.rename_columns([*dims, "n"])
        else:
            table = pa.table({"n": [int(np.asarray(inner.column("n")).sum())]})
        tables.append(TableToProtect(name, name, table, dims, rule))
    return tables, sum(t.table.num_rows for t in tables)


@dataclass(frozen=True)
class Row:
    """One measured case: median wall seconds of the whole run, and median CPU seconds of the
    whole run and of its elimination and audit parts (0 where not applicable); rounds and
    LPs of the last run. CPU time is what a shared machine's load does not inflate."""

    name: str
    cells: int
    seconds: float
    cpu: float = 0.0
    elimination: float = 0.0
    audit: float = 0.0
    rounds: int = 0
    lps: int = 0
    pattern: str = ""


def pattern(report: ProtectionReport) -> str:
    """A short digest of every cell's status in the report's tables: equal digests, the same
    cells suppressed for the same reasons."""
    digest = hashlib.sha256()
    for table in report.tables:
        for status in table.table.column("status").to_pylist():
            digest.update(f"{status}\n".encode())
    return digest.hexdigest()[:12]


@contextmanager
def _timed_parts(spent: dict[str, float]) -> Iterator[None]:
    """Add the CPU seconds spent in the engine's elimination and audit calls to ``spent``."""
    originals = engine.gauss_suppress, engine.audit

    def timed(name: str, fn: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.process_time() - start

        return call

    engine.gauss_suppress = timed("elimination", originals[0])  # type: ignore[assignment]
    engine.audit = timed("audit", originals[1])  # type: ignore[assignment]
    try:
        yield
    finally:
        engine.gauss_suppress, engine.audit = originals


def protect_timed(
    tables: list[TableToProtect], protection: Protection, repeat: int
) -> tuple[float, float, float, float, ProtectionReport]:
    """Median wall seconds of the whole protection and median CPU seconds of the whole, its
    elimination and its audit (after one untimed warm-up run), and the last report."""
    protect_tables(tables, ("n",), protection)
    whole, cpu, elim, aud = [], [], [], []
    report = None
    for _ in range(repeat):
        spent = {"elimination": 0.0, "audit": 0.0}
        with _timed_parts(spent):
            start, start_cpu = time.perf_counter(), time.process_time()
            report = protect_tables(tables, ("n",), protection)
            whole.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        elim.append(spent["elimination"])
        aud.append(spent["audit"])
    assert report is not None
    med = statistics.median
    return med(whole), med(cpu), med(elim), med(aud), report


def cold_start() -> float:
    """CPU seconds the first compiled elimination of a fresh process costs beyond the
    elimination itself: importing numba and loading the cached kernel (median of 3)."""
    code = (
        "import time, numpy as np\n"
        "from helsestat.protect import elimination as e\n"
        "one = (np.array([0, 1]), np.array([0]), np.array([1]))\n"
        "t = time.process_time()\n"
        "e.eliminate(one, one, np.zeros(2, dtype=np.int64), rows=1, compiled=True)\n"
        "print(time.process_time() - t)\n"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    ]
    return statistics.median(runs)


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _anchor_cases() -> dict[str, tuple[Callable[[], object], int]]:
    tests = Path(__file__).resolve().parents[1] / "tests" / "protect"
    sys.path.insert(0, str(tests))
    from anchors import CASES, load  # the same loader the agreement tests use

    if not CASES.is_dir():
        return {}
    specs = {
        "z1": ("gauss_z1_2dim", "ant", None, True, "anySum"),
        "z2": (
            "gauss_z2_hier_4var",
            "ant",
            {"region": ["region", "fylke", "kostragr"]},
            True,
            "anySum",
        ),
        "z3": (
            "gauss_z3_6var_default",
            "ant",
            {"region": ["region", "fylke", "kostragr"], "mnd": ["mnd", "mnd2"]},
            True,
            "anySum",
        ),
        "d53 global": (
            "gauss_linked_d53_4tables_global_recordAwareFALSE",
            "freq",
            None,
            False,
            "none",
        ),
    }
    out: dict[str, tuple[Callable[[], object], int]] = {}
    for label, (name, freq, columns, zeros, method) in specs.items():
        case = load(name, freq=freq, columns=columns)
        f = np.asarray(case.x.T @ case.freq_inner)
        primary = (f <= 3) if zeros else (f <= 3) & (f > 0)
        single = case.freq_inner == 0 if zeros else None

        def job(case=case, f=f, primary=primary, single=single, method=method) -> object:  # type: ignore[no-untyped-def]
            order = candidate_order(case.x, f)
            return gauss_suppress(case.x, order, primary, singleton=single, singleton_method=method)

        out[label] = (job, case.x.shape[1])
    return out


TAKSTBRUK_SHAPE = "3-D table, takstbruk shape (kommune→fylke→landet × måned→år × takst)"
STRESS = "3-D table, totals on all three dimensions (one block; stress case)"


CASES = ("takstbruk", "stress", "anchors")


def run(repeat: int = 3, only: tuple[str, ...] = CASES) -> list[Row]:
    """The hierarchical tables (whole, elimination, audit) and the anchor cases; ``only``
    picks among ``takstbruk``, ``stress`` and ``anchors``.

    >>> rows = run(repeat=1)  # doctest: +SKIP
    """
    protection = Protection("n", Requirement(range_min=1))
    results = []
    for key, label, shape in (
        ("takstbruk", TAKSTBRUK_SHAPE, {"takster": 26}),
        ("stress", STRESS, {"fylker": 4, "kommuner": 5, "takster": 24, "takst_totals": True}),
    ):
        if key not in only:
            continue
        tables, cells = hierarchical_table(**shape)  # type: ignore[arg-type]
        whole, cpu, elim, aud, report = protect_timed(tables, protection, repeat)
        results.append(
            Row(
                f"{label}, full protection",
                cells,
                whole,
                cpu,
                elim,
                aud,
                report.rounds,
                report.lps,
                pattern(report),
            )
        )
    if "anchors" not in only:
        return results
    for label, (job, cells) in _anchor_cases().items():
        job()  # warm-up
        cpu = statistics.median(_cpu_seconds(job) for _ in range(repeat))
        name = f"anchor case {label} (Gaussian elimination)"
        results.append(Row(name, cells, median_seconds(job, repeat), cpu, cpu))
    return results


def _cpu_seconds(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def before_after(ref: str, only: tuple[str, ...], pairs: int) -> list[str]:
    """Markdown lines comparing the protect code of git revision ``ref`` (before) with this
    checkout's (after): ``pairs`` fresh processes each, alternating, medians of CPU seconds.
    The benchmark itself is this checkout's in both; only ``helsestat.protect`` differs."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        before = package_at(ref, Path(tmp))
        # the rest of the package from this checkout, the protect stage from ``ref``
        mixed = Path(tmp) / "mixed" / "helsestat"
        mixed.parent.mkdir()
        subprocess.run(["cp", "-r", str(root / "src" / "helsestat"), str(mixed.parent)], check=True)
        subprocess.run(["rm", "-rf", str(mixed / "protect")], check=True)
        subprocess.run(["cp", "-r", str(before / "helsestat" / "protect"), str(mixed)], check=True)
        runs: dict[str, list[dict[str, Row]]] = {"before": [], "after": []}
        for i in range(pairs):
            order = ("before", "after") if i % 2 == 0 else ("after", "before")
            for version in order:
                env = dict(os.environ)
                if version == "before":
                    env["PYTHONPATH"] = str(mixed.parent)
                done = subprocess.run(
                    [sys.executable, "-m", "benchmarks.bench_protect", "--repeat", "1", "--json"]
                    + [a for case in only for a in ("--only", case)],
                    capture_output=True,
                    text=True,
                    check=False,
                    cwd=root,
                    env=env,
                )
                if done.returncode:
                    raise RuntimeError(f"{version} run failed:\n{done.stderr[-3000:]}")
                out = done.stdout
                rows = [Row(**json.loads(line)) for line in out.splitlines() if line.strip()]
                runs[version].append({r.name: r for r in rows})
    med = statistics.median
    lines = [
        f"| case | figure | before ({ref}) | after | after/before |",
        "|---|---|---:|---:|---:|",
    ]
    for name in runs["after"][0]:
        for figure in ("cpu", "elimination", "audit"):
            b = med(getattr(r[name], figure) for r in runs["before"])
            a = med(getattr(r[name], figure) for r in runs["after"])
            if b:
                lines.append(f"| {name} | {figure} CPU s | {b:.3f} | {a:.3f} | {a / b:.2f} |")
        patterns = {r[name].pattern for v in runs.values() for r in v}
        if patterns != {""}:
            same = "the same cells" if len(patterns) == 1 else "DIFFERENT cells"
            lines.append(f"| {name} | suppressed | | | {same} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", action="append", choices=CASES, help="repeatable")
    parser.add_argument("--json", action="store_true", help="one JSON object per case")
    parser.add_argument("--before", metavar="REF", help="compare with git revision REF")
    args = parser.parse_args()
    only = tuple(args.only or CASES)
    if args.before:
        print(f"load average at the start: {os.getloadavg()[0]:.1f}")
        print("\n".join(before_after(args.before, only, args.repeat)))
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
        return
    if args.json:
        for row in run(args.repeat, only):
            print(json.dumps(asdict(row)))
        return
    for row in run(args.repeat, only):
        anchor = next((v for k, v in ANCHOR_SECONDS.items() if f"case {k} " in row.name), None)
        versus = f"(GaussSuppression: {anchor:.3f} s)" if anchor else ""
        parts = (
            f"CPU {row.cpu:.3f} s: elimination {row.elimination:.3f} s, audit {row.audit:.3f} s "
            f"({row.rounds} rounds, {row.lps} LPs)"
            if row.rounds
            else ""
        )
        print(f"{row.name:80s} {row.cells:>8,} {row.seconds:8.3f} s {parts} {versus}")
    if "anchors" not in only:
        return
    print(f"cold start of the compiled elimination: {cold_start():.2f} s")


if __name__ == "__main__":
    main()
