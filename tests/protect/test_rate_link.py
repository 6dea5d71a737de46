"""Amounts that are a public rate times a count give an attacker more equations: a year
published across a tariff change (June at 100 kr, July at 120 kr per use) splits into its
months. The engine's audit bounds the count over the counts and the amounts together."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from attacker import disclosed_primary

from helsestat.model import ProtectedTable
from helsestat.protect import FrequencyRule, Protection, Requirement, TableToProtect, protect_tables

RATE = {"06": 100.0, "07": 120.0}
USES = {("A", "06"): 2, ("A", "07"): 10, ("B", "06"): 10, ("B", "07"): 12, ("C", "06"): 9}
USES |= {("C", "07"): 11}
MEASURES = ("n", "refusjon")


def _inner() -> pa.Table:
    rows = [
        {"kommune": k, "maned": m, "n": n, "refusjon": n * RATE[m]} for (k, m), n in USES.items()
    ]
    return pa.Table.from_pylist(rows)


def _tables() -> list[TableToProtect]:
    inner = _inner()
    rule = (FrequencyRule("n", 3),)
    out = [TableToProtect("kommune/maned", "km", inner, ("kommune", "maned"), rule)]
    for name, keys in (("kommune", ["kommune"]), ("maned", ["maned"]), ("total", [])):
        agg = inner.group_by(keys).aggregate([(m, "sum") for m in MEASURES]) if keys else None
        table = (
            agg.rename_columns([*keys, *MEASURES])
            if agg is not None
            else pa.table({m: [float(np.sum(inner.column(m)))] for m in MEASURES})
        )
        out.append(TableToProtect(name, name, table, tuple(keys), rule))
    return out


def _disclosed(tables: tuple[ProtectedTable, ...]) -> list[str]:
    """Primary cells the published counts and refunds pin down, by LP."""
    inner = _inner()
    rates = np.array([RATE[m] for m in inner.column("maned").to_pylist()])
    return [f"{name}#{i}" for name, i, _ in disclosed_primary(inner, [tables], "n", rates=rates)]


def test_counts_alone_leave_the_small_month_derivable_from_the_refunds() -> None:
    protection = Protection("n", Requirement(range_min=1))
    report = protect_tables(_tables(), MEASURES, protection)
    assert _disclosed(report.tables) == ["kommune/maned#0"]


def test_rate_link_suppresses_until_the_refunds_do_not_reveal_it() -> None:
    protection = Protection(
        "n",
        Requirement(range_min=1),
        rate_count="n",
        rate_amounts=(("refusjon",),),
    )
    report = protect_tables(_tables(), MEASURES, protection)
    assert _disclosed(report.tables) == []
    kommune = {r["kommune"]: r["status"] for r in report.tables[1].table.to_pylist()}
    assert kommune["A"] != "published"  # A's year would split into June and July
