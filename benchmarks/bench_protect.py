"""Benchmark: full protection (secondary suppression + attacker audit).

1. A three-dimensional hierarchical table of more than 100 000 cells shaped like
   takstbruk — kommune → fylke → landet × måned → år × takst — with skewed counts so that
   many cells are small (SYNTHETIC DATA), protected by ``protect_tables`` like a statistic
   (all six level combinations linked), target ≤ 10 s. Takster are not added up (as in
   takstbruk), so the problem splits into one block per takst.
2. A stress case with totals on all three dimensions (takst → takstgruppe → alle too): one
   connected block, where fill-in in the elimination dominates (smaller, to keep ``make
   bench`` short).
3. The anchors' own cases that GaussSuppression timed (``tests/protect/anchor_cases``: z1,
   z2, z3, d53 global), run through helsestat's Gaussian elimination with the same options.

``run(repeat)`` returns ``(name, seconds, cells)`` rows (median of ``repeat`` runs); the
anchor's seconds for the same cases are in ``ANCHOR_SECONDS``.

Usage: ``.venv/bin/python -m benchmarks.bench_protect [--repeat 3]``
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from helsestat.protect import FrequencyRule, Protection, Requirement, TableToProtect, protect_tables
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
            t = inner.group_by(list(dims)).aggregate([("n", "sum")])
            table = t.rename_columns([*dims, "n"])
        else:
            table = pa.table({"n": [int(np.asarray(inner.column("n")).sum())]})
        tables.append(TableToProtect(name, name, table, dims, rule))
    return tables, sum(t.table.num_rows for t in tables)


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


def run(repeat: int = 3) -> list[tuple[str, float, int]]:
    """``(name, median seconds, cells)`` for the hierarchical tables and the anchor cases.

    >>> rows = run(repeat=1)  # doctest: +SKIP
    """
    protection = Protection("n", Requirement(range_min=1))
    results = []
    for label, tables, cells in (
        (
            "3-D table, takstbruk shape (kommune→fylke→landet × måned→år × takst)",
            *hierarchical_table(takster=26),
        ),
        (
            "3-D table, totals on all three dimensions (one block; stress case)",
            *hierarchical_table(fylker=4, kommuner=5, takster=24, takst_totals=True),
        ),
    ):
        seconds = median_seconds(lambda t=tables: protect_tables(t, ("n",), protection), repeat)
        results.append((f"{label}, full protection", seconds, cells))
    for label, (job, cells) in _anchor_cases().items():
        results.append(
            (f"anchor case {label} (Gaussian elimination)", median_seconds(job, repeat), cells)
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for name, seconds, cells in run(args.repeat):
        rate = f"{cells / seconds:,.0f} cells/s" if cells else ""
        anchor = next((v for k, v in ANCHOR_SECONDS.items() if f"case {k} " in name), None)
        versus = f"(GaussSuppression: {anchor:.3f} s)" if anchor else ""
        print(f"{name:80s} {seconds:8.3f} s {rate:>18s} {versus}")


if __name__ == "__main__":
    main()
