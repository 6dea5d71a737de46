"""What the attacker knows is read off the tables, never declared away: listed hidden counts
hold at least 1 and unlisted combinations are empty when a table lists only non-empty cells,
counts are whole numbers, and the inner cells must agree with the tables on which
combinations exist."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from attacker import Attacker
from scipy import sparse

from helsestat.errors import ProtectionError
from helsestat.protect import FrequencyRule, Protection, TableToProtect, protect_tables
from helsestat.protect.audit import audit
from helsestat.protect.engine import Problem, solve
from helsestat.protect.knowledge import Listed, derive

RULE = (FrequencyRule("n", 3),)
MONTHS = ("202401", "202402")
# kommune A: X = 1, Y = 1, Z = 50; B: X = 30, Y = 40, Z = 60; each split over two months
SPLIT = {
    ("A", "X"): (1, 0),
    ("A", "Y"): (0, 1),
    ("A", "Z"): (20, 30),
    ("B", "X"): (10, 20),
    ("B", "Y"): (40, 0),
    ("B", "Z"): (30, 30),
}


def _cube() -> pa.Table:
    """kommune × kategori × måned, the empty months included (SYNTHETIC DATA)."""
    rows = [
        {"kommune": k, "kategori": c, "maned": m, "n": v[i]}
        for (k, c), v in SPLIT.items()
        for i, m in enumerate(MONTHS)
    ]
    return pa.Table.from_pylist(rows)


def _tables(cube: pa.Table) -> list[TableToProtect]:
    """kommune × kategori with its margins, listing only non-empty cells (no måned)."""
    full = cube.filter(pc.greater(cube.column("n"), 0))
    out = []
    for name, dims in (
        ("kommune/kategori", ("kommune", "kategori")),
        ("kommune", ("kommune",)),
        ("kategori", ("kategori",)),
    ):
        t = full.group_by(list(dims)).aggregate([("n", "sum")]).rename_columns([*dims, "n"])
        out.append(
            TableToProtect(name, name, t.sort_by([(d, "ascending") for d in dims]), dims, RULE)
        )
    total = pa.table({"n": [int(pc.sum(cube.column("n")).as_py())]})
    return [*out, TableToProtect("total", "total", total, (), RULE)]


def test_a_hidden_listed_cell_over_a_cube_with_zero_rows_holds_at_least_one() -> None:
    # A × X and A × Y (1 each) are primary; A's other kategori Z is published (50 of 52), so
    # X + Y = 2, and a listed count is at least 1: both are 1. The cube passed as inner
    # cells splits every cell over two months, zeros included, so no single inner cell is
    # known to hold 1 — the cell as a whole is.
    cube = _cube()
    report = protect_tables(_tables(cube), ("n",), Protection("n"), inner=cube)
    attacker = Attacker(cube.to_pylist())
    for t in report.tables:
        attacker.read(t, "n", non_empty=True)
    pinned = [(c.table, c.key) for c in attacker.attack() if c.up - c.lo < 1]
    assert pinned == []
    status = report.tables[0].table.column("status").to_pylist()
    assert status[:2] == ["primary", "primary"] and status[2] != "published"
    assert report.non_empty == ("kommune/kategori", "kommune", "kategori", "total")


def test_whole_numbers_an_interval_holding_one_whole_number_discloses_the_cell() -> None:
    # A published model whose linear program leaves cell 0 between 0.5 and 1: as a count,
    # it is 1.
    x = sparse.csc_matrix(
        np.array([[1, 1, 1, 0, 1], [0, 1, 0, 1, 0], [1, 0, 1, 0, 1], [0, 0, 1, 1, 1]])
    )
    y = np.array([0.0, 2.0, 1.0, 0.0])
    z = x.T @ y
    hidden = np.array([True, False, False, False, False])
    real = audit(x, z, y, hidden)
    assert (real.lo[0], real.up[0], bool(real.failing[0])) == (0.5, 1.0, False)
    whole = audit(x, z, y, hidden, integer=True)
    assert (whole.lo[0], whole.up[0], bool(whole.failing[0])) == (1.0, 1.0, True)
    # the engine suppresses more until the count is no longer pinned
    sol = solve(Problem(x, z=z, y=y, primary=hidden, integer=True), audit_mode="exact")
    assert sol.suppressed.sum() > 1 and sol.up[0] - sol.lo[0] >= 1


def test_the_inner_cells_and_the_tables_must_agree_on_which_combinations_exist() -> None:
    cube = _cube()
    tables = _tables(cube)
    # the kommune table leaves out B, which holds data in the cube (and in kommune/kategori)
    k = tables[1].table
    short = TableToProtect(
        "kommune", "k", k.filter(pc.not_equal(k.column("kommune"), "B")), ("kommune",), RULE
    )
    with pytest.raises(ProtectionError) as err:
        protect_tables([tables[0], short, *tables[2:]], ("n",), Protection("n"), inner=cube)
    assert err.value.code == "protect.missing_cells"
    assert "'kommune'" in err.value.message
    assert "kommune=B" in err.value.message
    assert "130" not in err.value.message  # names the cells, never their values
    assert err.value.hint
    # the finest table leaves out B × Y (40 in the cube): then its margins do not add up
    km = tables[0].table
    keep = pc.invert(
        pc.and_(pc.equal(km.column("kommune"), "B"), pc.equal(km.column("kategori"), "Y"))
    )
    short = TableToProtect("kommune/kategori", "km", km.filter(keep), tables[0].dimensions, RULE)
    with pytest.raises(ProtectionError) as err:
        protect_tables([short, *tables[1:]], ("n",), Protection("n"), inner=cube)
    assert err.value.code == "protect.not_additive"
    assert "'kommune'" in err.value.message and "kommune=B" in err.value.message


def test_a_declared_listing_is_checked_against_the_data() -> None:
    k = pa.table(
        {"kommune": ["0301", "1101", "1103"], "fylke": ["03", "11", "11"], "n": [40, 0, 9]}
    )
    f = pa.table({"fylke": ["03", "11"], "n": [40, 9]})
    tables = [
        TableToProtect("k", "K", k, ("kommune", "fylke"), RULE),
        TableToProtect("f", "F", f, ("fylke",), RULE),
    ]
    with pytest.raises(ProtectionError) as err:
        protect_tables(tables, ("n",), Protection("n", listing="non_empty"))
    assert err.value.code == "protect.listing_contradicts"
    assert "'k'" in err.value.message and "kommune=1101 fylke=11" in err.value.message
    # derived, the same tables are protected: k lists an empty cell, f does not
    report = protect_tables(tables, ("n",), Protection("n"))
    assert report.non_empty == ("f",)


def test_knowledge_is_derived_per_table_and_cannot_be_declared_away() -> None:
    inner = pa.table({"k": ["a", "b", "c"], "g": ["x", "x", "y"], "n": [2.0, 0.0, 5.0]})
    by_g = pa.table({"g": ["x", "y"], "n": [2.0, 5.0]})
    x = sparse.csc_matrix(np.array([[1, 0, 0, 1, 0], [0, 1, 0, 1, 0], [0, 0, 1, 0, 1]]))
    what = derive(
        inner,
        [Listed("k", inner, ("k", "g"), 0), Listed("g", by_g, ("g",), 3)],
        x,
        np.array([2.0, 0, 5]),
        np.array([2.0, 0, 5, 2, 5]),
        "n",
        "derive",
    )
    # k lists b with 0: its listing tells nothing; g lists only non-empty cells
    assert what.non_empty == ("g",) and what.integer
    assert what.known_zero.tolist() == [False, False, False]
    # g = y is one inner cell, which then holds the floor itself
    assert what.lower.tolist() == [0.0, 0.0, 1.0]
    assert what.at_least.tolist() == [0.0, 0.0, 0.0, 1.0, 0.0]
    decimals = inner.set_column(2, "n", pa.array([2.5, 0.0, 5.0]))
    assert not derive(
        decimals, [Listed("k", decimals, ("k", "g"), 0)], x[:, :3], np.array([2.5, 0, 5]),
        np.array([2.5, 0, 5]), "n", "derive",
    ).integer  # fmt: skip
    # there is no flag that makes the attacker forget what the tables show
    with pytest.raises(TypeError):
        Protection("n", known_positive=False)  # type: ignore[call-arg]
