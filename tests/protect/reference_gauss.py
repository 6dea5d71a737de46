"""The dict-based elimination loop that ``helsestat.protect.elimination`` replaced, kept as
the test oracle of ``tests/protect/test_elimination.py``: the same candidate order, pivot
rule and singleton handling in pure-Python sparse row operations over exact integers.

Only the loop is kept here; the preparation it shares with production (merging identical
columns, the connected components, the masks) is imported from
:mod:`helsestat.protect.gauss`, so the comparison isolates the loop.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from helsestat.protect.gauss import (
    GaussResult,
    SingletonMethod,
    _as_mask,
    _components,
    _row_blocks,
    duplicate_groups,
)

Vector = dict[int, int]


def gauss_suppress(
    x: sparse.spmatrix,
    candidates: Sequence[int] | np.ndarray,
    primary: np.ndarray | Sequence[int],
    *,
    forced: np.ndarray | Sequence[int] | None = None,
    hidden: np.ndarray | Sequence[int] | None = None,
    singleton: np.ndarray | None = None,
    singleton_method: SingletonMethod = "anySum",
    sparse_pivot: bool = False,
    extra_primary: sparse.spmatrix | None = None,
) -> GaussResult:
    """Choose secondary suppressions so that no primary cell is a linear combination of
    published cells (the non-suppressed candidates and the forced cells).

    ``candidates`` is the order in which cells are tried for publication (the first are the
    most wanted); ``primary``, ``forced`` and ``hidden`` are masks or indices of columns;
    ``singleton`` marks inner cells (rows) whose single contributor could subtract itself.
    ``extra_primary`` holds virtual primary cells (columns over the same inner cells, e.g.
    from :func:`sub2sum`) that must stay underivable but are not output.
    ``sparse_pivot`` picks pivots that keep residuals sparse (faster on large hierarchical
    tables); without singletons the result is the same, with them only the anchor's
    heuristics for mixed-sign singleton sums may differ.

    >>> x = sparse.csc_matrix(np.eye(2, dtype=int))
    >>> gauss_suppress(x, [0, 1], [0]).secondary.tolist()
    [False, False]
    """
    x = sparse.csc_matrix(x, dtype=np.int64)
    n_out = x.shape[1]
    if extra_primary is not None and extra_primary.shape[1]:
        x = sparse.hstack([x, sparse.csc_matrix(extra_primary, dtype=np.int64)], format="csc")
        primary = np.concatenate([_as_mask(primary, n_out), np.ones(extra_primary.shape[1], bool)])
    x.eliminate_zeros()
    m, n = x.shape
    primary_mask = _as_mask(primary, n)
    forced_mask = _as_mask(forced, n)
    hidden_mask = _as_mask(hidden, n) & ~forced_mask
    cand = [int(c) for c in dict.fromkeys(int(c) for c in np.asarray(candidates).tolist())]
    cand = [c for c in cand if not hidden_mask[c]]
    secondary = np.zeros(n, dtype=bool)
    unsafe = np.zeros(n, dtype=bool)
    if not primary_mask.any():
        return GaussResult(secondary, unsafe)

    # Merge identical columns: a group is primary when any member is, forced when any is.
    rep = duplicate_groups(x)
    groups = np.unique(rep)
    g_primary = np.zeros(n, dtype=bool)
    g_forced = np.zeros(n, dtype=bool)
    np.logical_or.at(g_primary, rep, primary_mask)
    np.logical_or.at(g_forced, rep, forced_mask)
    unsafe_groups = g_primary & g_forced
    g_primary &= ~g_forced
    forced_order = [int(g) for g in dict.fromkeys(int(rep[c]) for c in np.flatnonzero(forced_mask))]
    cand_groups = [g for g in dict.fromkeys(int(rep[c]) for c in cand) if not g_primary[g]]
    cand_groups = forced_order + [g for g in cand_groups if not g_forced[g]]
    n_forced = len(forced_order)

    single = np.zeros(m, dtype=bool) if singleton is None else np.asarray(singleton, dtype=bool)
    method: str = singleton_method if single.any() else "none"
    if method == "none":
        single = np.zeros(m, dtype=bool)
    nnz = np.diff(x.indptr)
    not_primary_singleton = False
    if method == "anySumNOTprimary":
        not_primary_singleton = True
    elif method == "anySum":
        # A published cell that is a single singleton inner cell needs anySumNOTprimary.
        one = (nnz == 1) & (x.sum(axis=0).A1 == 1)
        is_z = np.zeros(n, dtype=bool)
        is_z[one] = single[x.indices[x.indptr[:-1][one]]]
        z_groups = np.zeros(n, dtype=bool)
        z_groups[groups] = is_z[groups]
        not_primary_singleton = int(z_groups.sum()) > int((z_groups & g_primary).sum())
    sub_sum = method == "anySum" and not not_primary_singleton and n_forced > 0

    # Rows: non-singleton rows first, in input order, then singleton rows (the anchor's order).
    order = np.argsort(single, kind="stable")
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m)
    n_plain = int((~single).sum())

    primary_groups = np.flatnonzero(g_primary)
    if single.any() and not not_primary_singleton and n_forced == 0:
        plain_part = np.asarray(abs(x[~single][:, primary_groups]).sum(axis=0)).ravel()
        primary_groups = primary_groups[plain_part != 0]

    extra: list[Vector] = []
    if sub_sum:
        # subSumAny: the sum of the singletons of a cell is a virtual primary cell.
        seen: set[tuple[tuple[int, int], ...]] = set()
        for g in groups:
            s, e = x.indptr[g], x.indptr[g + 1]
            rows = x.indices[s:e]
            sel = single[rows]
            if sel.sum() > 1:
                vec = tuple(
                    sorted(zip(rank[rows[sel]].tolist(), x.data[s:e][sel].tolist(), strict=True))
                )
                if vec not in seen:
                    seen.add(vec)
                    extra.append(dict(vec))

    _, comp = _components(x, groups)
    block_of_group = comp  # per column, its block (-1 when empty)
    p_by_block: dict[int, list[int]] = defaultdict(list)
    for g in primary_groups.tolist():
        b = int(block_of_group[g])
        if b >= 0:
            p_by_block[b].append(g)
    active = {int(b) for b in block_of_group[np.flatnonzero(g_primary)] if b >= 0}
    if method != "none" and single.any():
        # anySum also guards blocks whose primaries are sums of singletons only
        active |= {int(b) for b in _row_blocks(x, block_of_group)[single] if b >= 0}
    extra_by_block: dict[int, list[Vector]] = defaultdict(list)
    if extra:
        row_block = _row_blocks(x, comp)
        for ex in extra:
            extra_by_block[int(row_block[order[next(iter(ex))]])].append(ex)
    c_by_block: dict[int, list[int]] = defaultdict(list)
    for g in cand_groups:
        b = int(block_of_group[g])
        if b >= 0 and (b in active or b in extra_by_block):
            c_by_block[b].append(g)

    g_secondary = np.zeros(n, dtype=bool)
    g_unsafe = unsafe_groups.copy()
    for b in active | set(extra_by_block):
        cols = c_by_block.get(b, [])
        cands = [_column(x, g, rank) for g in cols]
        prims = [_column(x, g, rank) for g in p_by_block.get(b, [])] + [
            dict(v) for v in extra_by_block.get(b, [])
        ]
        n_forced_b = sum(1 for g in cols if g_forced[g])
        sec, uns = _eliminate(
            cands, prims, n_forced_b, n_plain, method != "none", not_primary_singleton, sparse_pivot
        )
        for k in sec:
            g_secondary[cols[k]] = True
        prim_b = p_by_block.get(b, [])
        for k in uns:
            if k < len(prim_b):
                g_unsafe[prim_b[k]] = True

    # Map back: a candidate is secondary when its group is secondary or primary.
    for c in cand:
        if not primary_mask[c] and not forced_mask[c]:
            g = rep[c]
            if g_secondary[g] or g_primary[g]:
                secondary[c] = True
    unsafe = primary_mask & g_unsafe[rep]
    return GaussResult(secondary[:n_out], unsafe[:n_out])


def _column(x: sparse.csc_matrix, j: int, rank: np.ndarray) -> Vector:
    s, e = x.indptr[j], x.indptr[j + 1]
    return dict(zip(rank[x.indices[s:e]].tolist(), x.data[s:e].tolist(), strict=True))


class _Index:
    """Which vectors currently hold each row (kept up to date under elimination)."""

    def __init__(self, vectors: list[Vector]) -> None:
        self.rows: defaultdict[int, set[int]] = defaultdict(set)
        for k, v in enumerate(vectors):
            for r in v:
                self.rows[r].add(k)


def _reduce(
    v: Vector, k: int, a: Vector, p: int, index: _Index, freed: set[int] | None = None
) -> None:
    """v ← a[p]·v − v[p]·a (scaled by their gcd), keeping ``index`` current; rows that
    leave ``v`` are added to ``freed``."""
    ap, vp = a[p], v[p]
    g = math.gcd(ap, vp)
    fa, fv = ap // g, vp // g
    if fa != 1:
        for r in v:
            v[r] *= fa
    holders = index.rows
    for r, c in a.items():
        t = v.get(r)
        if t is None:
            v[r] = -fv * c
            holders[r].add(k)
        else:
            t -= fv * c
            if t:
                v[r] = t
            else:
                del v[r]
                holders[r].discard(k)
                if freed is not None:
                    freed.add(r)
    if v and (fa != 1 or fv != 1):
        d = math.gcd(*v.values())
        if d > 1:
            for r in v:
                v[r] //= d


def _proportional(a: Vector, b: Vector) -> bool:
    it = iter(a.items())
    r0, a0 = next(it)
    b0 = b.get(r0)
    if b0 is None:
        return False
    for r, c in it:
        bc = b.get(r)
        if bc is None or bc * a0 != c * b0:
            return False
    return True


def _any_proportional(a: Vector, prims: list[Vector], bindex: _Index) -> bool:
    n = len(a)
    holders = bindex.rows
    best = min(a, key=lambda r: len(holders[r]) if r in holders else 0)
    for i in holders.get(best, ()):
        b = prims[i]
        if len(b) == n and (n == 1 or _proportional(a, b)):
            return True
    return False


def _any_inside(a: Vector, prims: list[Vector], bindex: _Index) -> bool:
    """True when some non-empty primary residual lies within the rows of ``a``."""
    seen: set[int] = set()
    for r in a:
        for i in bindex.rows.get(r, ()):
            if i not in seen:
                seen.add(i)
                if all(q in a for q in prims[i]):
                    return True
    return False


def _drop_safe(rows: set[int], aindex: _Index, prims: list[Vector], bindex: _Index) -> None:
    """Drop primaries holding a row that no pending candidate holds: no later residual can
    reach that row, so they can never become computable (exact, and it saves the updates)."""
    for r in rows:
        if aindex.rows.get(r):
            continue
        for i in bindex.rows.pop(r, ()):
            for q in prims[i]:
                if q != r:
                    bindex.rows[q].discard(i)
            prims[i] = {}
        aindex.rows.pop(r, None)


def _pivot(a: Vector, aindex: _Index, bindex: _Index, sparse_pivot: bool, n_plain: int) -> int:
    if not sparse_pivot:
        return min(a)  # the anchor's rule: the first row
    # The row held by the fewest pending candidates, then the fewest primaries: every
    # holder receives the pivot's residual, and candidates pass it on when published.
    # Plain rows before singleton rows keeps the singleton test independent of the choice.
    ar, br = aindex.rows, bindex.rows
    return min(a, key=lambda r: (r >= n_plain, len(ar.get(r, ())), len(br.get(r, ())), r))


def _eliminate(
    cands: list[Vector],
    prims: list[Vector],
    n_forced: int,
    n_plain: int,
    singletons: bool,
    not_primary_singleton: bool,
    sparse_pivot: bool = False,
) -> tuple[list[int], list[int]]:
    """The main loop for one block; returns the secondary candidates and the primaries made
    computable by forced cells (both as positions in ``cands`` and ``prims``, the residuals
    of the candidates and of the primary cells)."""
    aindex, bindex = _Index(cands), _Index(prims)
    secondary: list[int] = []
    sub_used: set[int] = set()
    empty_before = [not b for b in prims]
    unsafe: list[int] = []
    if n_forced == 0:
        _drop_safe(set(bindex.rows) - set(aindex.rows), aindex, prims, bindex)
    for j, a in enumerate(cands):
        if j == n_forced and n_forced:
            unsafe = [i for i, b in enumerate(prims) if not b and not empty_before[i]]
            _drop_safe(set(bindex.rows), aindex, prims, bindex)
        for r in a:
            aindex.rows[r].discard(j)
        if not a:
            continue
        if not singletons and j >= n_forced and not any(bindex.rows.values()):
            break  # nothing left to protect in this block
        freed = set(a)
        reduced = False
        if j < n_forced:
            is_secondary = False
        elif not singletons:
            is_secondary = _any_proportional(a, prims, bindex)
        else:
            sub_sec = min(a) >= n_plain  # the residual lies in singleton rows only
            if sub_sec and len(set(a.values())) > 1 and not any(r in sub_used for r in a):
                # Not proportional to a plain sum of singletons; non-overlapping to be sure.
                sub_sec = False
                sub_used.update(a)
            if sub_sec and not_primary_singleton:
                if not _any_inside(a, prims, bindex):
                    # Publishing a sum of unsuppressed singletons: its rows are known.
                    for r in list(a):
                        for k in aindex.rows.pop(r, set()):
                            del cands[k][r]
                        for k in bindex.rows.pop(r, set()):
                            del prims[k][r]
                    a.clear()
                    is_secondary = False
                    reduced = True
                else:
                    is_secondary = True
            else:
                is_secondary = sub_sec or _any_proportional(a, prims, bindex)
        if is_secondary:
            secondary.append(j)
            a.clear()
        elif not reduced:
            p = _pivot(a, aindex, bindex, sparse_pivot, n_plain)
            for k in list(aindex.rows.get(p, ())):
                _reduce(cands[k], k, a, p, aindex, freed)
            for k in list(bindex.rows.get(p, ())):
                _reduce(prims[k], k, a, p, bindex)
            a.clear()
        if j >= n_forced:
            _drop_safe(freed, aindex, prims, bindex)
    if n_forced and len(cands) <= n_forced:
        unsafe = [i for i, b in enumerate(prims) if not b and not empty_before[i]]
    return secondary, unsafe
