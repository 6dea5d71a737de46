"""Classes of interchangeable inner cells in the audit's linear programs: the table-wide
grouping gives every cell the same representative as grouping one cell at a time (the
representative decides which linear programs are solved, so the audit's results depend on
it)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from helsestat.protect import audit as audit_module
from helsestat.protect.audit import _interchangeable, _interchangeable_loop


@settings(max_examples=200, deadline=None)
@given(
    rows=st.integers(1, 6),
    cols=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
    cells=st.integers(0, 20),
)
def test_grouping_matches_one_cell_at_a_time(rows: int, cols: int, seed: int, cells: int) -> None:
    rng = np.random.default_rng(seed)
    # few distinct columns and bounds, so that classes of several cells are common
    pattern = rng.integers(0, 2, size=(rows, 3))
    a = sparse.csc_matrix(pattern[:, rng.integers(0, 3, size=cols)])
    lb = rng.choice([0.0, -0.0, 1.0], size=cols)
    ub = rng.choice([np.inf, 5.0], size=cols)
    ids = np.arange(cells)
    var_of = rng.integers(0, cols, size=cells)
    got = _interchangeable(a, lb, ub, ids, var_of)
    want = _interchangeable_loop(a, lb, ub, ids, var_of)
    assert got.tolist() == want.tolist()
    # a class is represented by its first cell
    assert (got <= ids).all()


def test_constraint_order_and_bounds_tell_classes_apart() -> None:
    a = sparse.csc_matrix(np.array([[1, 1, 1, 0], [1, 1, 0, 1]]))
    lb = np.array([0.0, 1.0, 0.0, 0.0])
    ub = np.full(4, np.inf)
    ids = np.array([3, 5, 8, 9, 11])
    # inner cells 0 and 1 differ in a bound, 2 and 3 in their constraint
    got = _interchangeable(a, lb, ub, ids, np.array([0, 1, 2, 3, 0]))
    assert got.tolist() == [3, 5, 8, 9, 3]


def test_wide_tables_are_grouped_one_cell_at_a_time(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []
    loop = audit_module._interchangeable_loop

    def counted(*args):  # type: ignore[no-untyped-def]
        calls.append(1)
        return loop(*args)

    monkeypatch.setattr(audit_module, "_interchangeable_loop", counted)
    monkeypatch.setattr(audit_module, "_KEY_CELLS", 4)
    a = sparse.csc_matrix(np.ones((3, 2)))
    got = _interchangeable(a, np.zeros(2), np.full(2, np.inf), np.arange(3), np.array([0, 1, 0]))
    assert got.tolist() == [0, 0, 0]
    assert calls == [1]
