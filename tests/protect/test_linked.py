from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from helsestat.errors import ProtectionError
from helsestat.protect import (
    FrequencyRule,
    MinimumPopulationRule,
    Protection,
    Requirement,
    TableToProtect,
    protect_tables,
)
from helsestat.protect.audit import audit
from helsestat.protect.matrix import link_tables

RULE = (FrequencyRule("n", 3),)


def _geo(counts: dict[str, int]) -> list[TableToProtect]:
    """kommune → fylke → landet, from kommune counts keyed '<fylke><kommune>'."""
    k = pa.table(
        {
            "kommune": list(counts),
            "fylke": [c[:2] for c in counts],
            "n": list(counts.values()),
        }
    )
    f = k.group_by(["fylke"]).aggregate([("n", "sum")]).rename_columns(["fylke", "n"])
    f = f.sort_by("fylke")
    land = pa.table({"n": [sum(counts.values())]})
    return [
        TableToProtect("kommune", "Per kommune", k, ("kommune", "fylke"), RULE),
        TableToProtect("fylke", "Per fylke", f, ("fylke",), RULE),
        TableToProtect("landet", "Hele landet", land, (), RULE),
    ]


def _statuses(report: object) -> list[list[str]]:
    return [t.table.column("status").to_pylist() for t in report.tables]  # type: ignore[attr-defined]


def test_a_fylke_with_one_small_kommune_hides_a_second_cell() -> None:
    report = protect_tables(
        _geo({"0301": 40, "1101": 2, "1103": 9, "1106": 30}), ("n",), Protection("n")
    )
    assert _statuses(report) == [
        ["published", "primary", "secondary", "published"],
        ["published", "published"],
        ["published"],
    ]
    rules = report.tables[0].table.column("status_rule").to_pylist()
    assert rules == ["", "n<=3", "secondary", ""]
    assert report.tables[0].table.column("n").to_pylist() == [40, None, None, 30]
    assert "no suppressed cell can be derived" in report.tables[0].notes[-1]


def test_a_fylke_with_a_single_kommune_is_the_same_cell() -> None:
    # Fylke 03 has one kommune: its total is the kommune cell and is hidden with it, and
    # the landet total then needs a second hidden fylke or kommune.
    report = protect_tables(
        _geo({"0301": 2, "1101": 20, "1103": 9}), ("n",), Protection("n", singletons=False)
    )
    kommune, fylke, landet = _statuses(report)
    assert kommune[0] == "primary" and fylke[0] == "primary"
    assert landet == ["published"] and "secondary" in kommune + fylke


def test_intervals_are_reported_for_every_suppressed_cell() -> None:
    # The kommune table lists an empty kommune (1108: 0), so its listing tells nothing: a
    # hidden kommune may hold 0.
    report = protect_tables(
        _geo({"0301": 40, "1101": 2, "1103": 9, "1106": 30, "1108": 0}),
        ("n",),
        Protection("n", audit="exact"),
    )
    iv = report.intervals["kommune"].to_pylist()
    assert [(r["kommune"], r["lo"], r["up"], r["exact"]) for r in iv] == [
        ("1101", 0.0, 11.0, True),
        ("1103", 0.0, 11.0, True),
    ]
    # Without the empty row every listed kommune is known to hold at least 1.
    report = protect_tables(
        _geo({"0301": 40, "1101": 2, "1103": 9, "1106": 30}), ("n",), Protection("n", audit="exact")
    )
    iv = report.intervals["kommune"].to_pylist()
    assert [(r["kommune"], r["lo"], r["up"], r["exact"]) for r in iv] == [
        ("1101", 1.0, 10.0, True),
        ("1103", 1.0, 10.0, True),
    ]


def test_listed_cells_make_two_ones_exact_and_the_audit_adds_suppression() -> None:
    # Two kommuner of 1 in a fylke whose other kommune is published: their sum is 2, and an
    # attacker who knows every listed kommune has at least 1 knows both exactly. The tables
    # list only non-empty cells, so the attacker knows it, without any flag.
    tables = _geo({"1101": 1, "1103": 1, "1106": 50, "0301": 60})
    aware = protect_tables(tables, ("n",), Protection("n", singletons=False))
    kommune = _statuses(aware)[0]
    assert (
        kommune[:2] == ["primary", "primary"] and "secondary" in kommune[2:] + _statuses(aware)[1]
    )
    assert aware.extra >= 1
    assert aware.non_empty == ("kommune", "fylke", "landet") and aware.integer
    # A kommune table that lists an empty kommune as well tells nothing about its hidden
    # cells: 1 + 1 = 2 leaves each anywhere from 0 to 2, and nothing more is hidden.
    plain = protect_tables(
        _geo({"1101": 1, "1103": 1, "1106": 50, "0301": 60, "1108": 0}),
        ("n",),
        Protection("n", singletons=False),
    )
    assert _statuses(plain)[0] == ["primary", "primary", "published", "published", "published"]
    assert plain.non_empty == ("fylke", "landet")


def test_a_width_requirement_adds_suppression_until_it_holds() -> None:
    tables = _geo({"0301": 40, "1101": 2, "1103": 9, "1106": 30})
    report = protect_tables(tables, ("n",), Protection("n", Requirement(range_min=20)))
    assert report.extra >= 1
    for name, iv in report.intervals.items():
        for row in iv.to_pylist():
            if row["required"]:
                assert row["up"] - row["lo"] >= row["required"], name


def test_design_rule_cells_need_only_be_underivable() -> None:
    k = pa.table(
        {
            "kommune": ["0301", "1101", "1103"],
            "fylke": ["03", "11", "11"],
            "ar": ["2024"] * 3,
            "n": [90, 40, 50],
        }
    )
    pop = {"0301": 700_000, "1101": 5_000, "1103": 140_000}
    rule = MinimumPopulationRule("kommune", "ar", 10_000, lambda k, y: pop[k])
    f = pa.table({"fylke": ["03", "11"], "ar": ["2024", "2024"], "n": [90, 90]})
    report = protect_tables(
        [
            TableToProtect("k", "K", k, ("kommune", "fylke", "ar"), (rule,)),
            TableToProtect("f", "F", f, ("fylke", "ar"), ()),
        ],
        ("n",),
        Protection("n", Requirement(range_min=1000)),
    )
    assert _statuses(report)[0] == ["published", "primary", "secondary"]
    assert report.extra == 0  # the 1000-wide requirement is not the design rule's


def test_errors_name_the_table() -> None:
    tables = _geo({"0301": 40, "1101": 2})
    bad = TableToProtect(
        "fylke", "F", pa.table({"fylke": ["03", "11"], "n": [40, 3]}), ("fylke",), RULE
    )
    with pytest.raises(ProtectionError) as err:
        protect_tables([tables[0], bad], ("n",), Protection("n"))
    assert err.value.code == "protect.not_additive" and "'fylke'" in err.value.message
    dup = TableToProtect(
        "fylke", "F", pa.table({"fylke": ["03", "03"], "n": [40, 0]}), ("fylke",), RULE
    )
    with pytest.raises(ProtectionError) as err:
        protect_tables([tables[0], dup], ("n",), Protection("n"))
    assert err.value.code == "protect.duplicate_cell"
    other = TableToProtect("x", "X", pa.table({"region": ["a"], "n": [42]}), ("region",), RULE)
    with pytest.raises(ProtectionError) as err:
        protect_tables([tables[1], other], ("n",), Protection("n"))
    assert err.value.code == "protect.no_inner"


def test_link_tables_groups_inner_cells_by_the_coarser_dimensions() -> None:
    inner = pa.table({"k": ["a", "b", "c"], "f": ["x", "y", "y"], "n": [1, 2, 3]})
    fylke = pa.table({"f": ["y", "x"], "n": [5, 1]})
    m = link_tables(inner, [("k", inner, ("k", "f")), ("f", fylke, ("f",))])
    assert m.x.toarray().tolist() == [[1, 0, 0, 0, 1], [0, 1, 0, 1, 0], [0, 0, 1, 1, 0]]
    assert m.columns("f") == slice(3, 5)


def test_the_final_pattern_survives_an_independent_audit() -> None:
    rng = np.random.default_rng(3)
    counts = {f"{f:02d}{k:02d}": int(rng.integers(1, 12)) for f in (3, 11, 15) for k in range(1, 6)}
    tables = _geo(counts)
    report = protect_tables(tables, ("n",), Protection("n"))
    inner = tables[0].table
    m = link_tables(inner, [(t.name, t.table, t.dimensions) for t in tables])
    y = np.asarray(inner.column("n"), dtype=float)
    suppressed = np.concatenate(
        [np.array(t.table.column("status").to_pylist()) != "published" for t in report.tables]
    )
    check = audit(m.x, m.x.T @ y, y, suppressed, lower=np.minimum(1, y), exact=True)
    assert not check.disclosed(suppressed).any()


def test_worker_processes_give_the_same_pattern() -> None:
    from helsestat.protect.engine import Problem, solve

    rng = np.random.default_rng(8)
    blocks = []
    for _ in range(6):  # six independent 2-D tables with margins
        y = rng.integers(1, 9, (3, 4)).astype(float)
        blocks.append(y)
    from scipy import sparse

    xs, ys = [], []
    for y in blocks:
        r, c = y.shape
        cols = [np.ones(r * c)]
        cols += [np.kron(np.eye(r)[i], np.ones(c)) for i in range(r)]
        cols += [np.kron(np.ones(r), np.eye(c)[j]) for j in range(c)]
        cols += list(np.eye(r * c))
        xs.append(sparse.csc_matrix(np.column_stack(cols)))
        ys.append(y.ravel())
    x = sparse.block_diag(xs, format="csc")
    y = np.concatenate(ys)
    z = x.T @ y
    problem = Problem(x, z=z, y=y, primary=(z > 0) & (z <= 3), lower=np.minimum(1.0, y))
    one = solve(problem)
    two = solve(problem, workers=2, parallel_cells=0)
    assert (one.suppressed == two.suppressed).all() and one.suppressed.any()


def test_the_worked_example_in_docs_protect_md() -> None:
    rows = [
        ("1103", "202401", 48), ("1103", "202402", 52), ("1108", "202401", 21),
        ("1108", "202402", 3), ("1119", "202401", 7), ("1119", "202402", 9),
        ("1120", "202401", 2), ("1120", "202402", 6),
    ]  # fmt: skip
    k = pa.table(
        {"kommune": [r[0] for r in rows], "fylke": ["11"] * 8, "ar": ["2024"] * 8,
         "maned": [r[1] for r in rows], "n": [r[2] for r in rows]}
    )  # fmt: skip

    def table(name: str, dims: tuple[str, ...]) -> TableToProtect:
        t = k.group_by(list(dims)).aggregate([("n", "sum")]).rename_columns([*dims, "n"])
        return TableToProtect(name, name, t.sort_by([(d, "ascending") for d in dims]), dims,
                              (FrequencyRule("n", 5),))  # fmt: skip

    report = protect_tables(
        [table("kommune/maned", ("kommune", "fylke", "ar", "maned")),
         table("kommune/ar", ("kommune", "fylke", "ar")),
         table("fylke/maned", ("fylke", "ar", "maned")), table("fylke/ar", ("fylke", "ar"))],
        ("n",),
        Protection("n", Requirement(range_min=2), audit="exact"),
    )  # fmt: skip
    assert report.tables[0].table.column("status").to_pylist() == [
        "published", "published", "secondary", "primary",
        "published", "published", "primary", "secondary",
    ]  # fmt: skip
    assert all(
        set(t.table.column("status").to_pylist()) == {"published"} for t in report.tables[1:]
    )
    iv = [
        (r["kommune"], r["maned"], r["lo"], r["up"])
        for r in report.intervals["kommune/maned"].to_pylist()
    ]
    assert iv == [
        ("1108", "202401", 16.0, 22.0), ("1108", "202402", 2.0, 8.0),
        ("1120", "202401", 1.0, 7.0), ("1120", "202402", 1.0, 7.0),
    ]  # fmt: skip
    assert report.summary() == (
        "full protection: 2 primary and 2 secondary cells (0 added by the audit); audit over "
        "every table of the release: no suppressed cell can be derived; narrowest proven "
        "interval of a primary cell 6 (requirement: width >= 2)"
    )
