"""Successive releases must not together reveal a cell that each hides alone.

Two releases of a statistic with sliding 13-month windows: monthly cells per kommune and
fylke, and year totals over the months in the window. Between them the 2023 total loses
January 2023, so the two published totals differ by exactly that month — which the first
release hid as primary. Protected one by one the releases leak it; protected with
``earlier`` they do not.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from attacker import disclosed_primary

from helsestat.model import ProtectedTable
from helsestat.protect import FrequencyRule, Protection, TableToProtect, protect_tables

MONTHS = [f"2023{m:02d}" for m in range(1, 13)] + ["202401", "202402"]
RULE = (FrequencyRule("n", 3),)
DIMS = {
    "kommune/maned": ("kommune", "fylke", "ar", "maned"),
    "kommune/ar": ("kommune", "fylke", "ar"),
    "fylke/maned": ("fylke", "ar", "maned"),
    "fylke/ar": ("fylke", "ar"),
}


def _cube() -> pa.Table:
    rows = []
    for kommune, base in (("0301", 30), ("0302", 50)):
        for i, month in enumerate(MONTHS):
            n = base + 3 * i
            if kommune == "0301" and month == "202301":
                n = 2  # the sensitive cell
            rows.append(
                {"kommune": kommune, "fylke": "03", "ar": month[:4], "maned": month, "n": n}
            )
    return pa.Table.from_pylist(rows)


def _release(cube: pa.Table, first: int) -> list[TableToProtect]:
    window = cube.filter(pc.is_in(cube.column("maned"), pa.array(MONTHS[first : first + 13])))
    out = []
    for name, dims in DIMS.items():
        table = window.group_by(list(dims)).aggregate([("n", "sum")]).rename_columns([*dims, "n"])
        out.append(
            TableToProtect(name, name, table.sort_by([(d, "ascending") for d in dims]), dims, RULE)
        )
    return out


def _union_disclosed(cube: pa.Table, releases: list[tuple[ProtectedTable, ...]]) -> list[str]:
    """Primary cells of any release that the published cells of all releases pin down."""
    return sorted({f"{name} {row}" for name, _, row in disclosed_primary(cube, releases, "n")})


def test_releases_protected_alone_leak_the_month_that_left_the_year_total() -> None:
    cube = _cube()
    protection = Protection("n")
    first = protect_tables(_release(cube, 0), ("n",), protection).tables
    second = protect_tables(_release(cube, 1), ("n",), protection).tables
    leaked = _union_disclosed(cube, [first, second])
    assert leaked == [
        "kommune/maned {'kommune': '0301', 'fylke': '03', 'ar': '2023', 'maned': '202301'}"
    ]


def test_releases_protected_with_their_history_do_not_leak() -> None:
    cube = _cube()
    protection = Protection("n")
    first = protect_tables(_release(cube, 0), ("n",), protection).tables
    second = protect_tables(
        _release(cube, 1), ("n",), protection, inner=cube, earlier=[first]
    ).tables
    assert _union_disclosed(cube, [first, second]) == []
    # Release 2 has no small cell of its own; it hides the 2023 totals (now February –
    # December) and February 2023, so release 1's January stays hidden.
    hidden = {
        t.name: [r for r in t.table.to_pylist() if r["status"] != "published"] for t in second
    }
    assert [(r["kommune"], r["ar"]) for r in hidden["kommune/ar"]] == [
        ("0301", "2023"),
        ("0302", "2023"),
    ]
    assert [(r["kommune"], r["maned"]) for r in hidden["kommune/maned"]] == [
        ("0301", "202302"),
        ("0302", "202302"),
    ]
    assert hidden["fylke/maned"] == hidden["fylke/ar"] == []
