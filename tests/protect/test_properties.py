"""The promises of full protection, on random hierarchical and linked tables:

* no published cell breaks its primary rule;
* no suppressed cell can be computed exactly from everything published;
* every primary cell's attacker interval is at least as wide as required;
* the Gaussian elimination leaves no primary cell in the span of the published cells.

Intervals are checked by a plain reference (two ``linprog`` calls per cell over the whole,
unreduced model), independent of the engine's propagation, components and certification.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import linprog

from helsestat.protect import FrequencyRule, Protection, Requirement, TableToProtect, protect_tables
from helsestat.protect.candidates import candidate_order
from helsestat.protect.gauss import gauss_suppress
from helsestat.protect.matrix import link_tables

LEVELS = {
    "kommune/maned": ("takst", "kommune", "fylke", "ar", "maned"),
    "kommune/ar": ("takst", "kommune", "fylke", "ar"),
    "fylke/maned": ("takst", "fylke", "ar", "maned"),
    "fylke/ar": ("takst", "fylke", "ar"),
    "landet/maned": ("takst", "ar", "maned"),
    "landet/ar": ("takst", "ar"),
}


@st.composite
def releases(draw: st.DrawFn) -> tuple[list[TableToProtect], int, Protection]:
    """Six linked tables (kommune → fylke → landet × måned → år, per takst)."""
    fylker = draw(st.integers(1, 3))
    kommuner = [
        f"{f:02d}{k:02d}"
        for f in range(1, fylker + 1)
        for k in range(1, draw(st.integers(1, 3)) + 1)
    ]
    months = [f"2024{m:02d}" for m in range(1, draw(st.integers(1, 3)) + 1)]
    takster = ["A", "B"][: draw(st.integers(1, 2))]
    combos = list(itertools.product(takster, kommuner, months))
    present = draw(st.lists(st.booleans(), min_size=len(combos), max_size=len(combos)))
    counts = draw(st.lists(st.integers(1, 15), min_size=len(combos), max_size=len(combos)))
    rows = [
        {"takst": t, "kommune": k, "fylke": k[:2], "ar": m[:4], "maned": m, "n": n}
        for (t, k, m), keep, n in zip(combos, present, counts, strict=True)
        if keep
    ] or [{"takst": "A", "kommune": "0101", "fylke": "01", "ar": "2024", "maned": "202401", "n": 4}]
    inner = pa.Table.from_pylist(rows)
    k = draw(st.sampled_from([2, 3, 5]))
    rule = (FrequencyRule("n", k),)
    tables = []
    for name, dims in LEVELS.items():
        t = inner.group_by(list(dims)).aggregate([("n", "sum")]).rename_columns([*dims, "n"])
        tables.append(
            TableToProtect(name, name, t.sort_by([(d, "ascending") for d in dims]), dims, rule)
        )
    protection = Protection(
        "n",
        Requirement(range_min=draw(st.sampled_from([0.0, 1.0, 2.0]))),
        singletons=draw(st.booleans()),
        audit=draw(st.sampled_from(["certify", "exact"])),
    )
    return tables, k, protection


def _reference_intervals(
    x: sparse.csc_matrix, y: np.ndarray, published: np.ndarray, lower: np.ndarray
) -> dict[int, tuple[float, float]]:
    xs = sparse.csc_matrix(x, dtype=float)
    a, b = xs[:, published].T, xs[:, published].T @ y
    out = {}
    for s in np.flatnonzero(~published):
        c = xs[:, s].toarray().ravel()
        ends = []
        for sign in (1.0, -1.0):
            res = linprog(
                sign * c, A_eq=a, b_eq=b, bounds=[(lo, None) for lo in lower], method="highs"
            )
            ends.append(sign * res.fun if res.status == 0 else -sign * -np.inf)
        out[int(s)] = (ends[0], ends[1] if np.isfinite(ends[1]) else np.inf)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(releases())
def test_full_protection_keeps_its_promises(
    release: tuple[list[TableToProtect], int, Protection],
) -> None:
    tables, k, protection = release
    report = protect_tables(tables, ("n",), protection)
    statuses, published, primary, values = [], [], [], []
    for original, out in zip(tables, report.tables, strict=True):
        status = out.table.column("status").to_pylist()
        n_in = original.table.column("n").to_pylist()
        n_out = out.table.column("n").to_pylist()
        for s, a, b in zip(status, n_in, n_out, strict=True):
            # no published cell breaks its primary rule, and published values are true
            assert (s == "published") == (b is not None)
            if s == "published":
                assert not 0 < a <= k and a == b
            else:
                assert s in ("primary", "secondary")
            assert (s == "primary") == (0 < a <= k)
        statuses += status
        published += [s == "published" for s in status]
        primary += [s == "primary" for s in status]
        values += n_in
    inner = tables[0].table
    x = link_tables(inner, [(t.name, t.table, t.dimensions) for t in tables]).x
    y = np.asarray(inner.column("n"), dtype=float)
    # the tables list only non-empty cells: an attacker knows each listed cell holds >= 1
    lower = np.minimum(1.0, y)
    ref = _reference_intervals(x, y, np.array(published), lower)
    need = protection.requirement.range_min
    for s, (lo, up) in ref.items():
        assert up - lo > 1e-6, f"cell {s} ({statuses[s]}) is exactly derivable"
        if primary[s]:
            assert up - lo >= need - 1e-6
    # the reported intervals lie inside the attacker's, and are exact where they say so
    for name, table in report.intervals.items():
        start = [t.name for t in tables].index(name)
        offset = sum(t.table.num_rows for t in tables[:start])
        status = report.tables[start].table.column("status").to_pylist()
        rows = [i for i, s in enumerate(status) if s != "published"]
        for i, row in zip(rows, table.to_pylist(), strict=True):
            lo, up = ref[offset + i]
            assert row["lo"] >= lo - 1e-6 and row["up"] <= up + 1e-6
            if row["exact"]:
                assert abs(row["lo"] - lo) < 1e-6 and (
                    row["up"] == up or abs(row["up"] - up) < 1e-6
                )


@st.composite
def cross_tables(draw: st.DrawFn) -> tuple[sparse.csc_matrix, np.ndarray, np.ndarray]:
    """A 2- or 3-way table with all margins; random small counts."""
    shape = draw(st.lists(st.integers(2, 4), min_size=2, max_size=3))
    cells = list(itertools.product(*[[*range(k), -1] for k in shape]))
    inner = [c for c in cells if -1 not in c]
    x = np.array(
        [
            [all(a in (-1, b) for a, b in zip(col, row, strict=True)) for col in cells]
            for row in inner
        ],
        dtype=np.int64,
    )
    y = np.array(draw(st.lists(st.integers(0, 12), min_size=len(inner), max_size=len(inner))))
    return sparse.csc_matrix(x), y, x.T @ y


@settings(max_examples=60, deadline=None)
@given(cross_tables(), st.integers(1, 4), st.booleans())
def test_gauss_leaves_no_primary_in_the_span_of_published_cells(
    table: tuple[sparse.csc_matrix, np.ndarray, np.ndarray], k: int, singletons: bool
) -> None:
    x, y, z = table
    primary = (z > 0) & (z <= k)
    single = y == 1 if singletons else None
    result = gauss_suppress(x, candidate_order(x, z), primary, singleton=single)
    published = ~primary & ~result.secondary
    dense = x.toarray().astype(float)
    base = np.linalg.matrix_rank(dense[:, published]) if published.any() else 0
    for s in np.flatnonzero(primary):
        with_s = np.linalg.matrix_rank(np.column_stack([dense[:, published], dense[:, s]]))
        assert with_s > base, f"primary cell {s} is a combination of published cells"


@settings(max_examples=40, deadline=None)
@given(cross_tables(), st.integers(1, 4))
def test_merging_duplicates_and_sparse_pivots_change_nothing(
    table: tuple[sparse.csc_matrix, np.ndarray, np.ndarray], k: int
) -> None:
    x, _, z = table
    primary = (z > 0) & (z <= k)
    order = candidate_order(x, z)
    plain = gauss_suppress(x, order, primary, singleton_method="none").secondary
    sparse_pivot = gauss_suppress(x, order, primary, singleton_method="none", sparse_pivot=True)
    assert (sparse_pivot.secondary == plain).all()
    # a copy of every column, placed right after it in the candidate order, gets its status
    doubled = sparse.hstack([x, x], format="csc")
    n = x.shape[1]
    order2 = np.ravel(np.column_stack([order, order + n]))
    twice = gauss_suppress(
        doubled, order2, np.concatenate([primary, primary]), singleton_method="none"
    )
    assert (twice.secondary[:n] == plain).all() and (twice.secondary[n:] == plain).all()
