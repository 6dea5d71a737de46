"""The attacker audit: what can be derived about each suppressed cell from everything
published in a release.

The attacker knows every published cell (``x[:, c] @ y == z[c]``), bounds on the inner
cells (``lower <= y <= upper``; counts are never negative, and a listed row of a count table
holds at least 1) and lower bounds on hidden cells (``x[:, c] @ y >= at_least[c]``: a hidden
cell listed by a table that lists only non-empty cells holds at least 1). For each
suppressed cell ``s`` the *feasibility interval* is ``[min x[:, s] @ y, max x[:, s] @ y]``
over all such ``y`` (tau-Argus §2.15; GaussSuppression ``ComputeIntervals``; sdcTable
``attack``). With ``integer=True`` the values are whole numbers and the attacker knows it:
the interval's ends are rounded inwards (``ceil``, ``floor``), so an interval that holds a
single whole number is an exact disclosure. A cell is *exactly disclosed* when the interval
has width 0, and *too narrow* when it is narrower than its protection requirement.

How it stays fast on large releases:

1. **Propagation.** A published cell with one unknown inner cell fixes it; one whose value
   equals the sum of its unknowns' lower bounds fixes them all (GaussSuppression's
   ``Reduce0exact``). Repeated until nothing changes; each fix remembers the published cell
   that caused it, which is where more suppression helps.
2. **Components.** The remaining unknowns split into independent linear programs.
3. **Closed form** for a component held by one published cell; HiGHS
   (``scipy.optimize.linprog``) for the rest.
4. **Certification.** In ``exact=False`` mode a cell is accepted without its own two LPs when
   feasible points already found (the true data, earlier LP optima) spread it at least as
   wide as required; its reported interval is then the proven part ``[lo, up]`` of the
   attacker's interval (``exact`` is False for it).

>>> import numpy as np
>>> from scipy import sparse
>>> x = sparse.csc_matrix(np.array([[1, 1, 0], [1, 0, 1]]))      # total, a, b
>>> r = audit(x, np.array([7.0, 3.0, 4.0]), np.array([3.0, 4.0]), np.array([False, True, True]))
>>> r.lo[1:].tolist(), r.up[1:].tolist()  # a and b: anything from 0 to 7
([0.0, 0.0], [7.0, 7.0])
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

_EPS = 1e-7
_CERT = 1e-5


@dataclass(frozen=True)
class AuditResult:
    """Per column of ``x``: the attacker's interval of each suppressed cell (NaN for
    published ones), whether it is the exact LP interval or a proven inner part, and the
    published cells that bind it (where more suppression would widen it). ``pinned``: cells
    whose linear-programming interval is a single point (before rounding to whole numbers):
    publishing one tells an attacker nothing new. ``deferred``: cells of ``defer`` left
    unproven because a cell of their linear program that is not deferred fails anyway."""

    lo: np.ndarray
    up: np.ndarray
    exact: np.ndarray
    required: np.ndarray
    failing: np.ndarray
    binding: dict[int, tuple[int, ...]]
    lps: int
    pinned: np.ndarray | None = None
    deferred: np.ndarray | None = None

    @property
    def width(self) -> np.ndarray:
        """Interval widths (``up - lo``)."""
        return np.asarray(self.up - self.lo, dtype=np.float64)

    def disclosed(self, suppressed: np.ndarray) -> np.ndarray:
        """Suppressed cells whose value the attacker can compute exactly."""
        tol = _EPS * np.maximum(1.0, np.abs(np.nan_to_num(self.lo)))
        return np.asarray(suppressed & (self.width <= tol), dtype=bool)


def _tol(v: np.ndarray | float) -> np.ndarray | float:
    return _EPS * np.maximum(1.0, np.abs(v))


def audit(
    x: sparse.spmatrix,
    z: np.ndarray,
    y: np.ndarray,
    suppressed: np.ndarray,
    *,
    required: np.ndarray | None = None,
    lower: np.ndarray | float = 0.0,
    upper: np.ndarray | float = np.inf,
    unknown: np.ndarray | None = None,
    exact: bool = True,
    at_least: np.ndarray | None = None,
    integer: bool = False,
    defer: np.ndarray | None = None,
) -> AuditResult:
    """Compute the attacker's interval for every suppressed column of ``x``.

    ``z`` are the cell values, ``y`` the inner values (the truth, used to fix what the
    attacker can fix and as a feasible point), ``required`` the minimum interval width per
    cell (0: only exact disclosure fails), ``unknown`` cells neither published nor audited
    (hidden). ``exact=False`` certifies cells from feasible points when it can.
    ``at_least`` per cell: what an unpublished cell is known to hold at least (e.g. 1 for a
    listed cell of a table without empty cells; columns of non-negative coefficients);
    ``integer``: the inner values are whole numbers, and the attacker knows it.
    ``defer``: cells worth proving only when every other cell of their linear program
    passes (secondary cells: the others are the ones protected).

    >>> import numpy as np
    >>> from scipy import sparse
    >>> x = sparse.csc_matrix(np.array([[1, 1], [1, 0]]))          # total, a
    >>> r = audit(x, np.array([5.0, 2.0]), np.array([2.0, 3.0]), np.array([False, True]))
    >>> float(r.lo[1]), float(r.up[1])
    (0.0, 5.0)
    >>> r = audit(x, np.array([5.0, 2.0]), np.array([2.0, 3.0]), np.array([False, True]),
    ...           at_least=np.array([0.0, 1.0]), integer=True)
    >>> float(r.lo[1]), float(r.up[1])  # a listed cell of a table of non-empty cells
    (1.0, 5.0)
    """
    xs = sparse.csc_matrix(x, dtype=np.float64)
    if (xs.data == 0).any():  # explicit zeros would read as membership below
        xs = xs.copy()
        xs.eliminate_zeros()
    m0, n = xs.shape
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    suppressed = np.asarray(suppressed, dtype=bool)
    hidden = np.zeros(n, bool) if unknown is None else np.asarray(unknown, dtype=bool)
    need = np.zeros(n) if required is None else np.asarray(required, dtype=np.float64)
    lb = np.broadcast_to(np.asarray(lower, dtype=np.float64), (m0,)).copy()
    ub = np.broadcast_to(np.asarray(upper, dtype=np.float64), (m0,)).copy()
    targets = np.flatnonzero(suppressed & ~hidden)
    if not len(targets):
        nan, no = np.full(n, np.nan), np.zeros(n, dtype=bool)
        return AuditResult(nan, nan.copy(), no, need, no.copy(), {}, 0, no.copy(), no.copy())
    if at_least is not None:
        # x[:, c] @ y >= a becomes an equality with a slack inner cell: x[:, c] @ y - s == a,
        # s >= 0, published as one more cell (left out of the result again below).
        xs, z, y, lb, ub = _with_floors(xs, z, y, lb, ub, suppressed | hidden, at_least)
    m, n_all = xs.shape
    pad = np.zeros(n_all - n, dtype=bool)
    suppressed = np.concatenate([suppressed, pad])
    hidden = np.concatenate([hidden, pad])
    need = np.concatenate([need, np.zeros(n_all - n)])
    published = ~suppressed & ~hidden & (np.diff(xs.indptr) > 0)

    fixed, reason = _propagate(xs, z, y, published, lb, ub)
    free = ~fixed
    lo = np.full(n_all, np.nan)
    up = np.full(n_all, np.nan)
    is_exact = np.zeros(n_all, dtype=bool)
    binding: dict[int, tuple[int, ...]] = {}

    # Constraints: published cells that still hold an unknown inner cell.
    pub_cols = np.flatnonzero(published)
    xp_free = sparse.csc_matrix(xs[:, pub_cols].multiply(free[:, None]))
    xp_free.eliminate_zeros()
    has_free = np.diff(xp_free.indptr) > 0
    cons = pub_cols[has_free]
    cmat = sparse.csc_matrix(xp_free[:, has_free])  # inner × constraints
    rhs = z[cons] - xs[:, cons].T @ np.where(fixed, y, 0.0)

    # Components of free inner cells linked through constraints: 0 constraints (bounds
    # only), 1 constraint with unit coefficients (closed form), or a linear program.
    adj = sparse.bmat([[None, cmat], [cmat.T, None]], format="csr")
    adj.data[:] = 1
    _, labels = connected_components(adj, directed=False)
    var_comp, con_comp = labels[:m], labels[m:]
    n_comp = int(labels.max()) + 1
    n_cons = _sum(con_comp, minlength=n_comp)
    unit = np.ones(n_comp, dtype=bool)
    nz_col = np.repeat(np.arange(cmat.shape[1]), np.diff(cmat.indptr))
    unit[con_comp[nz_col[cmat.data != 1]]] = False
    kind = np.where(n_cons == 0, 0, np.where((n_cons == 1) & unit, 1, 2))

    # Each suppressed cell as (cell, inner cell, coefficient) triples.
    xt = sparse.csc_matrix(xs[:, targets])
    t_of = np.repeat(np.arange(len(targets)), np.diff(xt.indptr))
    rows, coef = xt.indices, xt.data
    truth = _sum(t_of, weights=coef * y[rows], minlength=len(targets))
    isfree = free[rows]
    base = _sum(t_of[~isfree], weights=coef[~isfree] * y[rows[~isfree]], minlength=len(targets))
    t_lo, t_up = base.copy(), base.copy()
    t_exact = np.ones(len(targets), dtype=bool)
    fr_t, fr_r, fr_c = t_of[isfree], rows[isfree], coef[isfree]
    fr_k = kind[var_comp[fr_r]]

    # Bounds only.
    k0 = fr_k == 0
    t_lo += _sum(
        fr_t[k0],
        weights=np.where(fr_c[k0] > 0, fr_c[k0] * lb[fr_r[k0]], fr_c[k0] * ub[fr_r[k0]]),
        minlength=len(targets),
    )
    t_up += _sum(
        fr_t[k0],
        weights=np.where(fr_c[k0] > 0, fr_c[k0] * ub[fr_r[k0]], fr_c[k0] * lb[fr_r[k0]]),
        minlength=len(targets),
    )

    # One published cell: the part S of its unknowns lies in [max(lb_S, R − ub_rest),
    # min(ub_S, R − lb_rest)].
    k1 = (fr_k == 1) & (fr_c == 1)
    bad1 = (fr_k == 1) & (fr_c != 1)
    kind[var_comp[fr_r[bad1]]] = 2
    k1 &= kind[var_comp[fr_r]] == 1
    pair_t, pair_c = fr_t[k1], var_comp[fr_r[k1]]
    if len(pair_t):
        key = pair_t * n_comp + pair_c
        uk, inv = np.unique(key, return_inverse=True)
        r1 = fr_r[k1]
        fin = np.isfinite(ub)
        s_lb = _sum(inv, weights=lb[r1])
        s_ubf = _sum(inv, weights=np.where(fin[r1], ub[r1], 0.0))
        s_inf = _sum(inv, weights=(~fin[r1]).astype(float))
        comp_lb = _sum(var_comp[free], weights=lb[free], minlength=n_comp)
        comp_ubf = _sum(var_comp[free], weights=np.where(fin, ub, 0.0)[free], minlength=n_comp)
        comp_inf = _sum(var_comp[free], weights=(~fin[free]).astype(float), minlength=n_comp)
        comp_rhs = _sum(con_comp, weights=rhs, minlength=n_comp)
        pc_, pt_ = uk % n_comp, uk // n_comp
        s_ub = np.where(s_inf > 0, np.inf, s_ubf)
        rest_ub = np.where(comp_inf[pc_] - s_inf > 0, np.inf, comp_ubf[pc_] - s_ubf)
        hi = np.minimum(s_ub, comp_rhs[pc_] - (comp_lb[pc_] - s_lb))
        low = np.maximum(s_lb, comp_rhs[pc_] - rest_ub)
        t_lo += _sum(pt_, weights=low, minlength=len(targets))
        t_up += _sum(pt_, weights=hi, minlength=len(targets))
        comp_con = np.full(n_comp, -1, dtype=np.int64)
        comp_con[con_comp] = np.arange(len(con_comp))
        one_bind = comp_con[pc_]
    else:
        pt_ = one_bind = np.zeros(0, dtype=np.int64)

    # Linear programs.
    k2 = kind[var_comp[fr_r]] == 2
    solver = _Solver(cmat, rhs, lb, ub, var_comp, con_comp, y, cons, integer)
    lp_bind: dict[int, set[int]] = {}
    t_defer = np.zeros(len(targets), dtype=bool)
    if defer is not None:
        t_defer = np.asarray(defer, dtype=bool)[targets]
    t_skipped = np.zeros(len(targets), dtype=bool)
    if k2.any():
        t_lo, t_up, t_exact, t_skipped = solver.run(
            fr_t[k2], fr_r[k2], fr_c[k2], t_lo, t_up, truth, need[targets], exact, lp_bind, t_defer
        )
    lo[targets], up[targets] = t_lo, t_up
    is_exact[targets] = t_exact
    deferred = np.zeros(n_all, dtype=bool)
    deferred[targets] = t_skipped
    pinned = suppressed & ~hidden & ~deferred & (up - lo <= _tol(np.nan_to_num(lo)))
    if integer:
        lo, up = _whole(lo, up)
    width = up - lo
    failing = suppressed & ~hidden & (width < need - _tol(need))
    failing |= suppressed & ~hidden & (width <= _tol(np.nan_to_num(lo)))
    failing &= ~deferred
    one = defaultdict(set)
    for t_, b_ in zip(pt_.tolist(), one_bind.tolist(), strict=True):
        one[t_].add(int(cons[b_]))
    for i in np.flatnonzero(failing[targets]).tolist():
        s_ = int(targets[i])
        rows_s = xs.indices[xs.indptr[s_] : xs.indptr[s_ + 1]]
        bind = (
            set(_reasons(rows_s[fixed[rows_s]], reason)) | one.get(i, set()) | lp_bind.get(i, set())
        )
        # a known floor of a hidden cell is a fact, not a published cell to suppress
        binding[s_] = tuple(sorted(b for b in bind if b < n))
    return AuditResult(
        lo[:n],
        up[:n],
        is_exact[:n],
        need[:n],
        failing[:n],
        binding,
        solver.lps,
        pinned[:n],
        deferred[:n],
    )


def _whole(lo: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An interval of whole numbers: its ends rounded inwards (NaN and infinity kept).

    >>> _whole(np.array([0.5, 2.0]), np.array([1.5, np.inf]))
    (array([1., 2.]), array([ 1., inf]))
    """
    with np.errstate(invalid="ignore"):
        return np.ceil(lo - _tol(lo)) + 0.0, np.floor(up + _tol(up)) + 0.0  # no -0.0


def _with_floors(
    xs: sparse.csc_matrix,
    z: np.ndarray,
    y: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    unpublished: np.ndarray,
    at_least: np.ndarray,
) -> tuple[sparse.csc_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Add ``x[:, c] @ y >= at_least[c]`` for the unpublished cells whose inner cells' own
    lower bounds do not already imply it: one slack inner cell and one published cell each."""
    floor = np.asarray(at_least, dtype=np.float64)
    implied = xs.T @ lb
    cells = np.flatnonzero(unpublished & (floor > implied + _tol(floor)))
    if not len(cells):
        return xs, z, y, lb, ub
    k = len(cells)
    slack = sparse.csc_matrix((-np.ones(k), (np.arange(k), np.arange(k))), shape=(k, k))
    grown = sparse.bmat(
        [[xs, sparse.csc_matrix(xs[:, cells])], [sparse.csc_matrix((k, xs.shape[1])), slack]],
        format="csc",
    )
    truth = xs[:, cells].T @ y - floor[cells]
    return (
        grown,
        np.concatenate([z, floor[cells]]),
        np.concatenate([y, np.maximum(truth, 0.0)]),
        np.concatenate([lb, np.zeros(k)]),
        np.concatenate([ub, np.full(k, np.inf)]),
    )


def _sum(index: np.ndarray, weights: np.ndarray | None = None, minlength: int = 0) -> np.ndarray:
    """``np.bincount`` that is always float (also for empty input)."""
    return np.bincount(index, weights=weights, minlength=minlength).astype(np.float64)


def _reasons(rows: np.ndarray, reason: np.ndarray) -> tuple[int, ...]:
    out = {int(reason[r]) for r in rows.tolist() if reason[r] >= 0}
    return tuple(sorted(out))


def _propagate(
    xs: sparse.csc_matrix,
    z: np.ndarray,
    y: np.ndarray,
    published: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Fix every inner cell the attacker can pin down from single published cells; returns
    the fixed mask and, per inner cell, the published cell that fixed it (-1 if free).

    A published cell with one unknown fixes it; one of unit coefficients whose value equals
    the sum of its unknowns' lower (or upper) bounds fixes them all. Repeated in rounds of
    sparse products until nothing changes."""
    m = xs.shape[0]
    fixed = np.zeros(m, dtype=bool)
    reason = np.full(m, -1, dtype=np.int64)
    pub = np.flatnonzero(published)
    pc = sparse.csc_matrix(xs[:, pub])
    pattern = sparse.csc_matrix(pc, copy=True)
    pattern.data[:] = 1.0
    ends = pc.indptr
    unit = np.ones(len(pub), dtype=bool)
    col_of = np.repeat(np.arange(len(pub)), np.diff(ends))
    unit[col_of[pc.data != 1]] = False
    fin = np.isfinite(ub)
    zp = z[pub]
    tol = _tol(zp)
    while True:
        free = ~fixed
        nfree = pattern.T @ free.astype(float)
        known = pc.T @ np.where(fixed, y, 0.0)
        slack_lo = zp - known - pc.T @ np.where(free, lb, 0.0)
        inf_free = pattern.T @ (free & ~fin).astype(float)
        slack_up = pc.T @ np.where(free & fin, ub, 0.0) + known - zp
        trigger = nfree == 1
        trigger |= unit & (nfree > 1) & (np.abs(slack_lo) <= tol)
        trigger |= unit & (nfree > 1) & (inf_free == 0) & (np.abs(slack_up) <= tol)
        if not trigger.any():
            break
        sel = sparse.csc_matrix(pattern[:, np.flatnonzero(trigger)])
        cols = np.flatnonzero(trigger)[np.repeat(np.arange(sel.shape[1]), np.diff(sel.indptr))]
        rows = sel.indices
        new = free[rows]
        reason[rows[new]] = pub[cols[new]]
        fixed[rows[new]] = True
    return fixed, reason


class _Solver:
    """The linear programs of the components that need them (see :class:`_Component`)."""

    def __init__(
        self,
        cmat: sparse.csc_matrix,
        rhs: np.ndarray,
        lb: np.ndarray,
        ub: np.ndarray,
        var_comp: np.ndarray,
        con_comp: np.ndarray,
        truth: np.ndarray,
        cons: np.ndarray,
        integer: bool = False,
    ) -> None:
        self.integer = integer
        self.cmat = sparse.csr_matrix(cmat.T)  # constraints × inner
        self.rhs = rhs
        self.lb, self.ub = lb, ub
        self.var_comp, self.con_comp = var_comp, con_comp
        self.truth = truth
        self.cons = cons
        self.lps = 0

    def run(
        self,
        t: np.ndarray,
        r: np.ndarray,
        c: np.ndarray,
        t_lo: np.ndarray,
        t_up: np.ndarray,
        truth: np.ndarray,
        need: np.ndarray,
        exact: bool,
        bind: dict[int, set[int]],
        defer: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Add each component's part of each cell's interval to ``t_lo``/``t_up``; ``(t, r,
        c)`` are (cell, inner cell, coefficient) triples of the unknown inner cells;
        ``defer`` the cells proven only where their component's other cells pass. Returns
        the intervals, which are exact, and the deferred cells left unproven."""
        n_t = len(t_lo)
        t_exact = np.ones(n_t, dtype=bool)
        t_skipped = np.zeros(n_t, dtype=bool)
        comp = self.var_comp[r]
        # A cell spread over several LP components gets exact intervals in each; otherwise
        # a component must prove what the cell's other parts do not.
        per_cell = np.unique(np.stack([t, comp]), axis=1)
        multi = _sum(per_cell[0], minlength=n_t) > 1
        other = np.nan_to_num(t_up - t_lo, nan=0.0, posinf=np.inf)
        residual = np.where(multi, np.inf, np.maximum(need - other, 0.0))
        moves_elsewhere = other > _tol(truth)
        order = np.argsort(comp, kind="stable")
        t, r, c, comp = t[order], r[order], c[order], comp[order]
        starts = np.flatnonzero(np.r_[True, comp[1:] != comp[:-1], True])
        con_order = np.argsort(self.con_comp, kind="stable")
        con_sorted = self.con_comp[con_order]
        for a, b in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
            k = int(comp[a])
            ks = con_order[np.searchsorted(con_sorted, k) : np.searchsorted(con_sorted, k, "right")]
            sub = self.cmat[ks]
            vars_ = np.unique(sub.indices)
            lp = _LP(sparse.csc_matrix(sub[:, vars_]), self.rhs[ks], self.lb[vars_], self.ub[vars_])
            cells, inv = np.unique(t[a:b], return_inverse=True)
            local = np.searchsorted(vars_, r[a:b])
            ct = sparse.csr_matrix((c[a:b], (inv, local)), shape=(len(cells), len(vars_)))
            part = _Component(
                lp, ct, self.truth[vars_], residual[cells], moves_elsewhere[cells], k, self.integer
            )
            lo_c, up_c, done, binding = part.solve(exact, defer[cells])
            self.lps += part.lps
            t_lo[cells] += lo_c
            t_up[cells] += up_c
            t_exact[cells] &= done
            t_skipped[cells] |= part.skipped
            for i, rows in binding.items():
                bind.setdefault(int(cells[i]), set()).update(int(self.cons[ks[j]]) for j in rows)
        return t_lo, t_up, t_exact, t_skipped


class _Component:
    """One LP component and the suppressed cells that touch it (rows of ``ct``).

    In certify mode, cheap proofs come first: feasible points (a relative-interior point and
    the point beyond it from the truth) and an exact end wherever the truth sits at a bound.
    Then inner cells held by the same constraints with the same bounds, which are
    interchangeable and so share one interval, get one pair of LPs per class; aggregate
    cells are pushed to their extremes in batches with random weights; the rest get their
    own LPs (maximum first: one side often suffices).

    With whole numbers (``integer``) a cell's proven part counts by the whole numbers it
    spans: the cell's other parts (fixed inner cells, bounds, single published cells) have
    whole-number ends, so the cell's rounded interval is exactly as wide as theirs plus the
    rounded part proven here."""

    def __init__(
        self,
        lp: _LP,
        ct: sparse.csr_matrix,
        truth: np.ndarray,
        need: np.ndarray,
        moves_elsewhere: np.ndarray,
        seed: int,
        integer: bool = False,
    ) -> None:
        self.integer = integer
        self.lp, self.ct, self.need, self.moves_elsewhere = lp, ct, need, moves_elsewhere
        self.rng = np.random.default_rng(seed)
        self.value = ct @ truth
        self.truth = truth
        self.mn, self.mx = self.value.copy(), self.value.copy()
        n = ct.shape[0]
        self.lo = np.full(n, -np.inf)
        self.up = np.full(n, np.inf)
        self.lo_known = np.zeros(n, dtype=bool)
        self.up_known = np.zeros(n, dtype=bool)
        self.binding: dict[int, set[int]] = {}
        self.lps = 0
        self.proxy = np.arange(n)
        self.skipped = np.zeros(n, dtype=bool)
        pos, neg = ct.maximum(0), ct.minimum(0)
        with np.errstate(invalid="ignore"):
            low = pos @ lp.lb + neg @ lp.ub
            high = pos @ lp.ub + neg @ lp.lb
        at_low = np.abs(self.value - low) <= _tol(low)
        at_high = np.isfinite(high) & (np.abs(self.value - high) <= _tol(high))
        self.lo[at_low], self.lo_known[at_low] = low[at_low], True
        self.up[at_high], self.up_known[at_high] = high[at_high], True

    def add(self, point: np.ndarray) -> None:
        v = self.ct @ point
        np.minimum(self.mn, v, out=self.mn)
        np.maximum(self.mx, v, out=self.mx)

    def hull(self) -> tuple[np.ndarray, np.ndarray]:
        """The proven part of each cell's interval. Interchangeable inner cells share one
        interval, so a cell may also use what is proven for its class representative."""
        lo = np.where(self.lo_known, self.lo, self.mn)
        up = np.where(self.up_known, self.up, self.mx)
        return np.minimum(lo, lo[self.proxy]), np.maximum(up, up[self.proxy])

    def ok(self) -> np.ndarray:
        """Cells proven wide enough (and not exactly derivable) by what is known so far."""
        lo, up = self.hull()
        if self.integer:
            lo, up = _whole(lo, up)
        with np.errstate(invalid="ignore"):  # inf - inf (nothing proven yet) is NaN: not wide
            w = up - lo
            wide = w >= self.need - _tol(self.need)
        # Points from the interior-point solver are feasible to ~1e-9: demand a clear margin
        # before calling a cell not exactly derivable.
        with np.errstate(invalid="ignore"):
            spread = (
                w >= 1.0 - _CERT if self.integer else w > _CERT * np.maximum(1.0, np.abs(self.mn))
            )
        nonzero = self.moves_elsewhere | spread
        return np.asarray(wide & nonzero & ~np.isinf(self.need), dtype=bool)

    def exact_side(self, i: int, sign: float) -> None:
        """Minimise (sign 1) or maximise (sign −1) cell ``i``."""
        self.lps += 1
        ct = self.ct
        obj = np.zeros(ct.shape[1])
        obj[ct.indices[ct.indptr[i] : ct.indptr[i + 1]]] = ct.data[ct.indptr[i] : ct.indptr[i + 1]]
        res = self.lp.solve(sign * obj)
        if res is None:
            val = -np.inf if sign > 0 else np.inf
        else:
            val = sign * res[0]
            self.add(res[1])
            self.binding.setdefault(i, set()).update(res[2].tolist())
        if sign > 0:
            self.lo[i], self.lo_known[i] = val, True
        else:
            self.up[i], self.up_known[i] = val, True

    def _prove(
        self, group: np.ndarray, rep: np.ndarray, exact: bool, centre: np.ndarray | None
    ) -> None:
        """Prove the cells of ``group``: batches of linear programs while each pair proves
        more than two cells, then the rest one by one (a representative whenever a member
        still needs proof)."""
        ct = self.ct
        n = ct.shape[0]
        reps = np.zeros(n, dtype=bool)
        reps[self.proxy[group]] = True
        reps &= rep
        if not exact and centre is not None:
            left = int((reps & ~self.ok()).sum())
            while left > 2:
                open_ = reps & ~self.ok()
                weights = self.rng.uniform(0.5, 1.5, int(open_.sum()))
                w_obj = np.asarray(ct[open_].T @ weights).ravel()
                for sign in (-1.0, 1.0):
                    self.lps += 1
                    res = self.lp.solve(sign * w_obj)
                    if res is not None:
                        self.add(res[1])
                        far = self.lp.beyond(centre, res[1])
                        if far is not None:
                            self.add(far)
                now = int((reps & ~self.ok()).sum())
                if left - now <= 2:
                    break
                left = now
        proven = self.ok() if not exact else np.zeros(n, dtype=bool)
        for i in np.flatnonzero(~proven & group).tolist():
            r = int(self.proxy[i])
            for sign in (-1.0, 1.0):
                known = self.up_known[r] if sign < 0 else self.lo_known[r]
                if known or (not exact and proven[i]):
                    continue
                self.exact_side(r, sign)
                if not exact:
                    proven = self.ok()

    def solve(
        self, exact: bool, defer: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, set[int]]]:
        ct = self.ct
        n = ct.shape[0]
        centre = None
        if not exact:
            points = self.lp.spread_points(self.truth)
            for point in points:
                self.add(point)
            centre = points[0] if points else None
        # Interchangeable inner cells: one representative per class.
        nnz = np.diff(ct.indptr)
        first = ct.indptr[:-1].clip(max=max(len(ct.data) - 1, 0))
        single = (nnz == 1) & (ct.data[first] == 1) if len(ct.data) else np.zeros(n, bool)
        var_of = ct.indices[first] if len(ct.indices) else np.zeros(n, np.int64)
        cells = np.flatnonzero(single)
        self.proxy[cells] = _interchangeable(
            self.lp.a, self.lp.lb, self.lp.ub, cells, var_of[cells]
        )
        rep = self.proxy == np.arange(n)
        later = np.zeros(n, dtype=bool) if defer is None else np.asarray(defer, dtype=bool)
        self._prove(~later, rep, exact, centre)
        if later.any():
            # a cell that is not deferred fails (a primary cell too narrow): the block gets
            # more suppression and a new audit, so the deferred cells wait for that
            fails = ~later & np.isfinite(self.need) & ~self.ok()
            if fails.any():
                self.skipped = later.copy()
            else:
                self._prove(later, rep, exact, centre)
        members = ~rep
        exact_rep = (self.lo_known & self.up_known)[self.proxy]
        self.lo = np.where(members & exact_rep, self.lo[self.proxy], self.lo)
        self.up = np.where(members & exact_rep, self.up[self.proxy], self.up)
        self.lo_known |= members & exact_rep
        self.up_known |= members & exact_rep
        for i in np.flatnonzero(members).tolist():
            if int(self.proxy[i]) in self.binding:
                self.binding.setdefault(i, set()).update(self.binding[int(self.proxy[i])])
        done = self.lo_known & self.up_known
        lo, up = self.hull()
        lo = np.where(done, self.lo, lo)
        up = np.where(done, self.up, up)
        return lo, up, done, self.binding


def _interchangeable(
    a: sparse.csc_matrix, lb: np.ndarray, ub: np.ndarray, cells: np.ndarray, var_of: np.ndarray
) -> np.ndarray:
    """Per cell of ``cells`` (ascending), each the sum of one inner cell ``var_of``: the first
    cell of its class, cells whose inner cells lie in the same constraints (column of ``a``,
    in the order stored) with the same bounds and so share one interval.

    >>> a = sparse.csc_matrix(np.array([[1, 1, 1], [0, 0, 1]]))
    >>> _interchangeable(a, np.zeros(3), np.full(3, np.inf), np.arange(4), np.array([0, 1, 2, 0]))
    array([0, 0, 2, 0])
    """
    if not len(cells):
        return cells
    uv, inv = np.unique(var_of, return_inverse=True)
    start, nnz = a.indptr[uv], np.diff(a.indptr)[uv]
    width = int(nnz.max(initial=0))
    if len(uv) * (3 + width) > _KEY_CELLS:
        return _interchangeable_loop(a, lb, ub, cells, var_of)
    # one row per inner cell: its number of constraints, bounds and constraints (padded)
    key = np.full((len(uv), 3 + width), -1.0)
    key[:, 0], key[:, 1], key[:, 2] = nnz, lb[uv] + 0.0, ub[uv] + 0.0  # + 0.0: no -0.0
    offset = np.cumsum(nnz) - nnz
    at = np.arange(int(nnz.sum()))
    owner = np.repeat(np.arange(len(uv)), nnz)
    key[owner, 3 + at - offset[owner]] = a.indices[np.repeat(start - offset, nnz) + at]
    order = np.lexsort(key.T[::-1])
    starts = np.r_[True, (key[order[1:]] != key[order[:-1]]).any(axis=1)]
    group = np.empty(len(uv), dtype=np.int64)
    group[order] = np.cumsum(starts) - 1
    _, first, cls = np.unique(group[inv], return_index=True, return_inverse=True)
    return np.asarray(cells[first[cls]])


#: Above this many entries the padded table of constraints in :func:`_interchangeable`
#: would take too much memory (160 MB), and the classes are found one cell at a time.
_KEY_CELLS = 20_000_000


def _interchangeable_loop(
    a: sparse.csc_matrix, lb: np.ndarray, ub: np.ndarray, cells: np.ndarray, var_of: np.ndarray
) -> np.ndarray:
    """:func:`_interchangeable`, one cell at a time (memory in proportion to the cells)."""
    proxy = cells.copy()
    classes: dict[tuple[object, ...], list[int]] = {}
    for k, v in enumerate(var_of.tolist()):
        key = (a.indices[a.indptr[v] : a.indptr[v + 1]].tobytes(), float(lb[v]), float(ub[v]))
        classes.setdefault(key, []).append(k)
    for members in classes.values():
        proxy[members] = cells[members[0]]
    return proxy


class _LP:
    """One component's linear program: ``a @ v == b``, ``lb <= v <= ub``, for several
    objectives. Uses the HiGHS object bundled with scipy when available (one model, warm
    starts), else ``scipy.optimize.linprog``."""

    def __init__(self, a: sparse.csc_matrix, b: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> None:
        self.a, self.b, self.lb, self.ub = a, b, lb, ub
        self.h = _highs(a, b, lb, ub)
        self.warm = False  # whether the solver holds a basis from an earlier solve

    def spread_points(self, truth: np.ndarray) -> list[np.ndarray]:
        """Feasible points that move every inner cell that can move: a relative-interior
        point (interior-point method, zero objective, no crossover: it lands in the relative
        interior, off every bound a cell can leave) and the point beyond it on the line
        from the truth. Random vertices when the interior-point solver is unavailable."""
        centre = self._centre()
        if centre is None:
            rng = np.random.default_rng(0)
            w = rng.choice([-1.0, 1.0], len(truth))
            points = [r[1] for r in (self.solve(w), self.solve(-w)) if r is not None]
            return points
        d = centre - truth
        d[np.abs(d) < 1e-9] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            room_lo = np.where(d < 0, (centre - self.lb) / -d, np.inf)
            room_up = np.where(d > 0, (self.ub - centre) / d, np.inf)
        t = min(float(min(room_lo.min(initial=np.inf), room_up.min(initial=np.inf))), 100.0)
        points = [centre, centre + 0.999 * t * d]
        return [p for p in points if self._feasible(p)]

    def beyond(self, centre: np.ndarray, point: np.ndarray) -> np.ndarray | None:
        """The farthest feasible point on the ray from ``point`` through ``centre``."""
        d = centre - point
        d[np.abs(d) < 1e-9] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            room_lo = np.where(d < 0, (centre - self.lb) / -d, np.inf)
            room_up = np.where(d > 0, (self.ub - centre) / d, np.inf)
        t = min(float(min(room_lo.min(initial=np.inf), room_up.min(initial=np.inf))), 100.0)
        far = centre + 0.999 * t * d
        return far if t > 0 and self._feasible(far) else None

    def _feasible(self, v: np.ndarray) -> bool:
        scale = max(1.0, float(np.abs(self.b).max(initial=0.0)))
        return bool(
            np.abs(self.a @ v - self.b).max(initial=0.0) <= 1e-8 * scale
            and (v >= self.lb - 1e-9 * scale).all()
            and (v <= self.ub + 1e-9 * scale).all()
        )

    def _centre(self) -> np.ndarray | None:
        h = self.h
        if h is None:
            return None
        n = self.a.shape[1]
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
        for key, value in (("solver", "ipm"), ("run_crossover", "off"), ("presolve", "off")):
            h.setOptionValue(key, value)
        h.clearSolver()
        self.warm = False
        h.run()
        ok = h.modelStatusToString(h.getModelStatus()) == "Optimal"
        point = np.asarray(h.getSolution().col_value) if ok else None
        for key, value in (("solver", "simplex"), ("run_crossover", "on"), ("presolve", "choose")):
            h.setOptionValue(key, value)
        h.clearSolver()
        return point

    def solve(self, c: np.ndarray) -> tuple[float, np.ndarray, np.ndarray] | None:
        """Minimise ``c @ v``: (value, solution, binding rows), or None when unbounded."""
        if self.h is not None:
            h = self.h
            h.changeColsCost(len(c), np.arange(len(c), dtype=np.int32), c.astype(np.float64))
            if not self.warm:
                # From scratch, dual simplex after presolve is fastest (2-6x primal here);
                # afterwards only the objective changes, so the last basis stays primal
                # feasible and primal simplex restarts from it in a few iterations.
                h.setOptionValue("simplex_strategy", 1)
                h.setOptionValue("presolve", "on")
            h.run()
            if not self.warm:
                h.setOptionValue("simplex_strategy", 4)
                h.setOptionValue("presolve", "choose")
                self.warm = True
            status = h.modelStatusToString(h.getModelStatus())
            if status == "Optimal":
                sol = h.getSolution()
                duals = np.asarray(sol.row_dual)
                return (
                    float(np.dot(c, sol.col_value)),
                    np.asarray(sol.col_value),
                    np.flatnonzero(np.abs(duals) > 1e-9),
                )
            if status == "Unbounded":
                return None
        # imported here: scipy.optimize costs about 0.1 s to import, and a build that
        # publishes without the audit (compat mode) never needs it
        from scipy.optimize import linprog

        res = linprog(
            c, A_eq=self.a, b_eq=self.b, bounds=np.column_stack([self.lb, self.ub]), method="highs"
        )
        if res.status == 3:
            return None
        if res.status != 0:  # pragma: no cover - the truth is always feasible
            raise RuntimeError(f"audit LP failed: {res.message}")
        duals = np.asarray(res.eqlin.marginals)
        return float(res.fun), np.asarray(res.x), np.flatnonzero(np.abs(duals) > 1e-9)


def _highs(a: sparse.csc_matrix, b: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> Any:
    try:  # scipy's bundled HiGHS bindings: private, so fall back to linprog if they move
        from scipy.optimize._highspy import _core
    except ImportError:  # pragma: no cover
        return None
    try:
        h = _core._Highs()
        h.setOptionValue("output_flag", False)
        lp = _core.HighsLp()
        lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
        lp.col_cost_ = np.zeros(a.shape[1])
        lp.col_lower_ = lb.astype(np.float64)
        lp.col_upper_ = np.where(np.isfinite(ub), ub, h.getInfinity()).astype(np.float64)
        lp.row_lower_ = b.astype(np.float64)
        lp.row_upper_ = b.astype(np.float64)
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data.astype(np.float64)
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = a.shape[1], a.shape[0]
        h.passModel(lp)
    except (AttributeError, TypeError, RuntimeError):  # pragma: no cover
        return None
    return h


__all__ = ["AuditResult", "audit"]
