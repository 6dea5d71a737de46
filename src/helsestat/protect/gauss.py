"""Secondary suppression by Gaussian elimination over a sparse model matrix.

A reimplementation of the algorithm of SSB's ``GaussSuppression`` (SSBtools,
``R/GaussSuppression.R``; Langsrud 2024) in exact integer arithmetic. ``x`` relates inner
cells (rows) to published cells (columns): ``published = x.T @ inner``. Candidates are
visited in order; a candidate whose residual (its column reduced by every column published
before it) is proportional to the residual of a primary cell would make that primary
computable, so it becomes secondary; otherwise it is published and used as a pivot.

Equal to the anchor where it matters and faster where it can be:

* the same candidate order, pivot rule (first row; singleton rows last) and singleton
  handling (``anySum``, ``anySumNOTprimary``, ``subSumAny`` with forced cells), so patterns
  agree cell for cell;
* identical columns are merged first and the problem is split into the connected components
  of ``x`` (blocks that share no inner cell), which cannot influence each other; only blocks
  holding a primary cell are eliminated, all in one run of the loop;
* the loop itself is compiled (:mod:`helsestat.protect.elimination`) over exact integers:
  int64 while coefficients stay small, Python integers if they grow, never floating point.

This module prepares the loop's input (merging, ordering, blocks, singleton rules) and maps
its decisions back to the cells.

>>> import numpy as np
>>> from scipy import sparse
>>> x = sparse.csc_matrix(np.array([[1, 1, 0, 1], [1, 0, 1, 0]]))  # total, a, b, a again
>>> gauss_suppress(x, [0, 1, 2, 3], np.array([False, True, False, False])).secondary.tolist()
[False, False, True, True]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from helsestat.protect.elimination import eliminate

SingletonMethod = Literal["anySum", "anySumNOTprimary", "none"]


@dataclass(frozen=True)
class GaussResult:
    """Masks over the columns of ``x``: ``secondary`` cells to suppress, and ``unsafe``
    primary cells that a forced (already published) cell makes computable."""

    secondary: np.ndarray
    unsafe: np.ndarray


def duplicate_groups(x: sparse.csc_matrix) -> np.ndarray:
    """For each column, the index of the first column identical to it (itself if none).

    Columns are hashed with two random projections, then every claimed duplicate is compared
    exactly, so a hash collision cannot merge different cells.

    >>> x = sparse.csc_matrix(np.array([[1, 1, 1], [0, 0, 1]]))
    >>> duplicate_groups(x).tolist()
    [0, 0, 2]
    """
    x = sparse.csc_matrix(x)
    x.sort_indices()
    n = x.shape[1]
    rng = np.random.default_rng(20240611)
    u1 = rng.integers(1, 2**62, x.shape[0], dtype=np.uint64)
    u2 = rng.integers(1, 2**62, x.shape[0], dtype=np.uint64)
    data = x.data.astype(np.int64).astype(np.uint64)
    h1 = np.zeros(n, dtype=np.uint64)
    h2 = np.zeros(n, dtype=np.uint64)
    nnz = np.diff(x.indptr)
    col = np.repeat(np.arange(n), nnz)
    with np.errstate(over="ignore"):
        np.add.at(h1, col, u1[x.indices] * data)
        np.add.at(h2, col, u2[x.indices] * data)
    keys = np.stack([h1, h2, nnz.astype(np.uint64)], axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    rep = first[inverse.ravel()]
    for j in np.flatnonzero(rep != np.arange(n)):
        r = rep[j]
        same = np.array_equal(
            x.indices[x.indptr[j] : x.indptr[j + 1]], x.indices[x.indptr[r] : x.indptr[r + 1]]
        ) and np.array_equal(
            x.data[x.indptr[j] : x.indptr[j + 1]], x.data[x.indptr[r] : x.indptr[r + 1]]
        )
        if not same:  # pragma: no cover - a 128-bit hash collision
            rep[j] = j
    return rep.astype(np.int64)


def _first_seen(values: np.ndarray) -> np.ndarray:
    """The distinct values in the order of their first appearance.

    >>> _first_seen(np.array([3, 1, 3, 2, 1])).tolist()
    [3, 1, 2]
    """
    _, first = np.unique(values, return_index=True)
    return values[np.sort(first)]


def _as_mask(value: np.ndarray | Sequence[int] | None, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    if value is None:
        return out
    arr = np.asarray(value)
    if arr.dtype == bool:
        out[: len(arr)] = arr
    elif arr.size:
        out[arr.astype(np.int64)] = True
    return out


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
    cand = _first_seen(np.asarray(candidates, dtype=np.int64).ravel())
    cand = cand[~hidden_mask[cand]]
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
    forced_order = _first_seen(rep[np.flatnonzero(forced_mask)])
    in_order = _first_seen(rep[cand])
    in_order = in_order[~g_primary[in_order] & ~g_forced[in_order]]
    cand_groups = np.concatenate([forced_order, in_order])
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

    extra: list[tuple[tuple[int, int], ...]] = []
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
                    extra.append(vec)

    _, comp = _components(x, groups)
    block_of_group = comp  # per column, its block (-1 when empty)
    prim_cols = primary_groups[block_of_group[primary_groups] >= 0]
    active = np.zeros(max(int(comp.max()) + 1, 1), dtype=bool)
    active[block_of_group[g_primary & (block_of_group >= 0)]] = True
    if method != "none" and single.any():
        # anySum also guards blocks whose primaries are sums of singletons only
        row_blocks = _row_blocks(x, block_of_group)[single]
        active[row_blocks[row_blocks >= 0]] = True
    extra_blocks = np.zeros(0, dtype=np.int64)
    if extra:
        row_block = _row_blocks(x, comp)
        extra_blocks = row_block[order[np.array([ex[0][0] for ex in extra])]]
        active[extra_blocks] = True
    cand_arr = np.asarray(cand_groups, dtype=np.int64)
    if len(cand_arr):
        cb = block_of_group[cand_arr]
        cand_arr = cand_arr[(cb >= 0) & active[np.maximum(cb, 0)]]
    n_forced_active = int(g_forced[cand_arr].sum())

    # Rows in elimination order, each column's rows sorted.
    xr = sparse.csc_matrix((x.data, rank[x.indices], x.indptr), shape=x.shape)
    xr.sort_indices()
    xc = sparse.csc_matrix(xr[:, cand_arr])
    xp = sparse.csc_matrix(xr[:, prim_cols])
    p_blocks = block_of_group[prim_cols]
    if extra:
        ex_rows = np.concatenate([np.array([r for r, _ in ex]) for ex in extra])
        ex_vals = np.concatenate([np.array([v for _, v in ex]) for ex in extra])
        ex_ptr = np.concatenate([[0], np.cumsum([len(ex) for ex in extra])])
        xe = sparse.csc_matrix((ex_vals, ex_rows, ex_ptr), shape=(m, len(extra)))
        xp = sparse.hstack([xp, xe], format="csc")
        p_blocks = np.concatenate([p_blocks, extra_blocks])
    result = eliminate(
        (xc.indptr, xc.indices, xc.data),
        (xp.indptr, xp.indices, xp.data),
        np.concatenate([block_of_group[cand_arr], p_blocks]),
        rows=m,
        n_forced=n_forced_active,
        n_plain=n_plain,
        singletons=method != "none",
        not_primary_singleton=not_primary_singleton,
        sparse_pivot=sparse_pivot,
    )
    g_secondary = np.zeros(n, dtype=bool)
    g_secondary[cand_arr[result.secondary]] = True
    g_unsafe = unsafe_groups.copy()
    g_unsafe[prim_cols[result.unsafe[: len(prim_cols)]]] = True

    # Map back: a candidate is secondary when its group is secondary or primary.
    cand_idx = cand
    if len(cand_idx):
        cand_idx = cand_idx[~primary_mask[cand_idx] & ~forced_mask[cand_idx]]
        g = rep[cand_idx]
        secondary[cand_idx[g_secondary[g] | g_primary[g]]] = True
    unsafe = primary_mask & g_unsafe[rep]
    return GaussResult(secondary[:n_out], unsafe[:n_out])


def _components(x: sparse.csc_matrix, groups: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected components of the bipartite graph of rows and the ``groups`` columns;
    returns a block id per column (-1 for empty or non-representative columns)."""
    m, n = x.shape
    keep = np.zeros(n, dtype=bool)
    keep[groups] = True
    sub = sparse.csc_matrix(x[:, keep])
    sub.data[:] = 1
    adj = sparse.bmat([[None, sub], [sub.T, None]], format="csr")
    k, labels = connected_components(adj, directed=False)
    out = np.full(n, -1, dtype=np.int64)
    nonempty = np.diff(x.indptr) > 0
    out[np.flatnonzero(keep)] = labels[m:]
    out[~nonempty] = -1
    return k, out


def _row_blocks(x: sparse.csc_matrix, col_block: np.ndarray) -> np.ndarray:
    out = np.full(x.shape[0], -1, dtype=np.int64)
    nnz = np.diff(x.indptr)
    col = np.repeat(np.arange(x.shape[1]), nnz)
    ok = col_block[col] >= 0
    out[x.indices[ok]] = col_block[col[ok]]
    return out


def sub2sum(
    x: sparse.spmatrix,
    primary: np.ndarray,
    singleton: np.ndarray,
    contributor: np.ndarray | None = None,
) -> sparse.csc_matrix:
    """Virtual primary cells for magnitude tables (GaussSuppression's ``sub2Sum``): where a
    published cell holds two primary inner cells and one of them has a single contributor,
    that contributor knows its own value, so the sum of the two must be protected too.

    With ``contributor`` ids (per inner cell; 0 for cells with several contributors) two
    primary cells of the same single contributor count as one, as in the anchor's
    ``integerUnique`` variant: the sum of a group made of at most two such units is
    protected.

    >>> x = sparse.csc_matrix(np.array([[1, 1, 0], [1, 0, 1]]))  # total, a, b
    >>> sub2sum(x, np.array([False, True, True]), np.array([True, False])).toarray().tolist()
    [[1], [1]]
    """
    x = sparse.csc_matrix(x, dtype=np.int64)
    primary = np.asarray(primary, dtype=bool)
    single = np.asarray(singleton, dtype=bool)
    nnz = np.diff(x.indptr)
    inner_primary = np.zeros(x.shape[0], dtype=bool)
    cols = np.flatnonzero(primary & (nnz == 1))
    inner_primary[x.indices[x.indptr[cols]]] = True
    pz = sparse.csc_matrix(x.multiply(inner_primary[:, None]))
    pz.eliminate_zeros()
    pz = sparse.csc_matrix(pz[:, np.flatnonzero(~primary)])
    pz_single = np.asarray(abs(pz).T @ single.astype(np.int64)).ravel()
    cells = np.diff(pz.indptr)
    if contributor is None:
        take = (cells == 2) & (pz_single > 0)
    else:
        unit = np.where(single, np.asarray(contributor, dtype=np.int64), -1 - np.arange(x.shape[0]))
        col = np.repeat(np.arange(pz.shape[1]), cells)
        pairs = np.unique(np.stack([col, unit[pz.indices]]), axis=1)
        units = np.bincount(pairs[0], minlength=pz.shape[1])
        take = (cells > 1) & (units <= 2) & (pz_single > 0)
    out = sparse.csc_matrix(pz[:, np.flatnonzero(take)])
    if out.shape[1] > 1:
        rep = duplicate_groups(out)
        out = sparse.csc_matrix(out[:, np.unique(rep)])
    return out


__all__ = ["GaussResult", "SingletonMethod", "duplicate_groups", "gauss_suppress", "sub2sum"]
