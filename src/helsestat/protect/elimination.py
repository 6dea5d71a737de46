"""The main loop of secondary suppression by Gaussian elimination, in compiled code.

:func:`eliminate` runs GaussSuppression's loop (see :mod:`helsestat.protect.gauss`) over
sparse integer vectors kept in flat arrays: each residual is a slice of sorted row numbers
and integer coefficients in one pool, and each row has a list of the vectors that hold it
(lazily cleaned) with an exact count, which is what the pivot rule and the early exits read.
The same function runs compiled by numba (``int64`` coefficients, checked against
:data:`LIMIT` after every row operation so that no product can overflow) and, only when a
coefficient grows past that, again as plain Python over object arrays of Python integers,
which never overflow: the decisions are exact either way.

Compiled functions are cached on disk (numba's ``cache=True``): the first call in a fresh
installation compiles for a few seconds, later processes load the machine code.

>>> import numpy as np
>>> ptr, idx = np.array([0, 2, 3, 4]), np.array([0, 1, 0, 0])  # total, a, a again
>>> cands = (ptr, idx, np.ones(4, dtype=np.int64))
>>> prims = (np.array([0, 1]), np.array([1]), np.ones(1, dtype=np.int64))  # b is primary
>>> eliminate(cands, prims, np.zeros(4, dtype=np.int64), rows=2).secondary.tolist()
[False, True, True]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Problems with fewer nonzero entries than this run interpreted (no compilation to load).
COMPILE_ENTRIES = 2_000

#: The largest coefficient the compiled loop keeps: products of two stay below 2**61.
LIMIT = 2**30

# meta: the state the helpers share (one small array, so compiled helpers can update it)
_TOP, _HTOP, _NFREED, _TICK, _OVERFLOW = range(5)

Vectors = tuple[np.ndarray, np.ndarray, np.ndarray]

#: A row number read from the int32 pool, widened (numba types a mixed tuple otherwise).
_wide: Any = np.int64


@dataclass(frozen=True)
class Eliminated:
    """Which candidates became secondary, and which primary vectors the forced candidates
    made computable (``unsafe``)."""

    secondary: np.ndarray
    unsafe: np.ndarray


def _gcd(a: Any, b: Any) -> Any:
    a = abs(a)
    b = abs(b)
    while b:
        a, b = b, a % b
    return a


def _find(ri: Any, start: int, length: int, r: int) -> int:
    """Position of row ``r`` in a sorted slice, or -1."""
    lo, hi = start, start + length
    while lo < hi:
        mid = (lo + hi) >> 1
        if ri[mid] < r:
            lo = mid + 1
        else:
            hi = mid
    if lo < start + length and ri[lo] == r:
        return lo
    return -1


def _holds(ri: Any, vst: Any, vln: Any, k: int, r: int) -> bool:
    return vln[k] > 0 and _find(ri, vst[k], vln[k], r) >= 0


def _live(key: int, k: int, j: int, m: int, ri: Any, vst: Any, vln: Any) -> bool:
    """Whether vector ``k`` of a row list ``key`` still holds the row (candidates: only
    those after ``j``, the pending ones)."""
    if key < m:
        return k > j and _holds(ri, vst, vln, k, key)
    return _holds(ri, vst, vln, k, key - m)


def _push(
    key: int,
    k: int,
    j: int,
    m: int,
    hl: Any,
    hst: Any,
    hln: Any,
    hcp: Any,
    cnt: Any,
    seen: Any,
    meta: Any,
    ri: Any,
    vst: Any,
    vln: Any,
) -> Any:
    """Append vector ``k`` to the holders of row list ``key``; returns the (maybe grown)
    pool of lists."""
    if hln[key] == hcp[key]:
        # Mostly stale (more than 8 entries per live holder): keep the live entries once
        # each. Checking an entry costs a binary search in its vector, so a full list that
        # is not yet this stale grows instead (at 2 entries per holder, compacting took
        # half of the elimination's time on a table with totals on three dimensions).
        if hln[key] > 8 * cnt[key] + 4:
            meta[_TICK] += 1
            tick = meta[_TICK]
            s = hst[key]
            w = 0
            for t in range(hln[key]):
                v = hl[s + t]
                if seen[v] != tick and _live(key, v, j, m, ri, vst, vln):
                    seen[v] = tick
                    hl[s + w] = v
                    w += 1
            hln[key] = w
        if hln[key] * 2 > hcp[key]:
            cap = 4 * hcp[key] + 4
            if meta[_HTOP] + cap > len(hl):
                grown = np.empty(2 * len(hl) + cap, hl.dtype)
                grown[: meta[_HTOP]] = hl[: meta[_HTOP]]
                hl = grown
            s = hst[key]
            hl[meta[_HTOP] : meta[_HTOP] + hln[key]] = hl[s : s + hln[key]]
            hst[key] = meta[_HTOP]
            hcp[key] = cap
            meta[_HTOP] += cap
    hl[hst[key] + hln[key]] = k
    hln[key] += 1
    return hl


def _store(k: int, n: int, ri: Any, rv: Any, vst: Any, vcp: Any, meta: Any) -> Any:
    """Make room for ``n`` entries in vector ``k``'s slot; returns the (maybe grown) pools."""
    if n > vcp[k]:
        cap = n + (n >> 1) + 2
        if meta[_TOP] + cap > len(ri):
            size = 2 * len(ri) + cap
            gi = np.empty(size, ri.dtype)
            gv = np.empty(size, rv.dtype)
            gi[: meta[_TOP]] = ri[: meta[_TOP]]
            gv[: meta[_TOP]] = rv[: meta[_TOP]]
            ri, rv = gi, gv
        vst[k] = meta[_TOP]
        vcp[k] = cap
        meta[_TOP] += cap
    return ri, rv


def _drop(i: int, m: int, ri: Any, vst: Any, vln: Any, cnt: Any, blk: Any, blk_b: Any) -> None:
    """A primary vector that can no longer become computable: forget it."""
    s = vst[i]
    for t in range(vln[i]):
        cnt[m + ri[s + t]] -= 1
    blk_b[blk[i]] -= vln[i]
    vln[i] = 0


def _kernel(
    c_ptr: Any,
    c_idx: Any,
    c_val: Any,
    p_ptr: Any,
    p_idx: Any,
    p_val: Any,
    blk: Any,
    n_blocks: int,
    m: int,
    n_forced: int,
    n_plain: int,
    singletons: bool,
    not_primary_singleton: bool,
    sparse_pivot: bool,
    limit: int,
) -> Any:
    """The elimination over candidate vectors (in order, forced first) and primary vectors;
    rows are numbered so that plain rows (below ``n_plain``) come before singleton rows.
    ``blk``: the independent block of each vector (candidates, then primaries). Returns
    (secondary per candidate, unsafe per primary, overflowed)."""
    nc = len(c_ptr) - 1
    npr = len(p_ptr) - 1
    nv = nc + npr
    meta = np.zeros(5, np.int64)
    size = 2 * (c_ptr[nc] + p_ptr[npr]) + 16
    # Row numbers (``ri``, ``tmp_i``) and vector numbers (``hl``) are int32: half the memory
    # the row operations stream through (about 16 % of the time on the stress case). A
    # problem with 2**31 rows or vectors would not fit in memory in the first place.
    ri = np.empty(size, np.int32)
    rv = np.empty(size, c_val.dtype)
    vst = np.zeros(nv, np.int64)
    vln = np.zeros(nv, np.int64)
    vcp = np.zeros(nv, np.int64)
    cnt = np.zeros(2 * m, np.int64)
    blk_b = np.zeros(n_blocks, np.int64)
    for k in range(nv):
        if k < nc:
            s, e = c_ptr[k], c_ptr[k + 1]
        else:
            s, e = p_ptr[k - nc], p_ptr[k - nc + 1]
        n = e - s
        ri, rv = _store(k, n, ri, rv, vst, vcp, meta)
        for t in range(n):
            if k < nc:
                r, v = c_idx[s + t], c_val[s + t]
                cnt[r] += 1
            else:
                r, v = p_idx[s + t], p_val[s + t]
                cnt[m + r] += 1
            if limit > 0 and abs(v) > limit:
                meta[_OVERFLOW] = 1
            ri[vst[k] + t] = r
            rv[vst[k] + t] = v
        vln[k] = n
        if k >= nc:
            blk_b[blk[k]] += n
    # row lists: key r for candidates, m + r for primaries
    hcp = 2 * cnt + 2
    hst = np.zeros(2 * m, np.int64)
    acc = 0
    for key in range(2 * m):
        hst[key] = acc
        acc += hcp[key]
    hl = np.empty(2 * acc + 16, np.int32)
    meta[_HTOP] = acc
    hln = np.zeros(2 * m, np.int64)
    for k in range(nv):
        off = 0 if k < nc else m
        for t in range(vln[k]):
            key = off + ri[vst[k] + t]
            hl[hst[key] + hln[key]] = k
            hln[key] += 1
    seen = np.zeros(nv, np.int64)  # per vector: the tick it was last visited in
    rseen = np.zeros(m, np.int64)  # per row: the tick it was last marked in
    freed = np.empty(m, np.int64)
    enter = np.empty(m, np.int64)
    tmp_i = np.empty(m, np.int32)
    tmp_v = np.empty(m, c_val.dtype)
    sub_used = np.zeros(m, np.bool_)
    empty_before = vln[nc:] == 0
    secondary = np.zeros(nc, np.bool_)
    unsafe = np.zeros(npr, np.bool_)

    if n_forced == 0:
        _drop_idle(m, ri, vst, vln, hl, hst, hln, cnt, blk, blk_b)
    for j in range(nc):
        if meta[_OVERFLOW]:
            break
        if j == n_forced and n_forced:
            for i in range(npr):
                unsafe[i] = vln[nc + i] == 0 and not empty_before[i]
            _drop_idle(m, ri, vst, vln, hl, hst, hln, cnt, blk, blk_b)
        sa, la = vst[j], vln[j]
        for t in range(la):
            cnt[ri[sa + t]] -= 1
        if la == 0:
            continue
        if not singletons and j >= n_forced and blk_b[blk[j]] == 0:
            vln[j] = 0  # nothing left to protect in this block
            continue
        meta[_TICK] += 1
        ftick = meta[_TICK]
        meta[_NFREED] = 0
        for t in range(la):
            r = _wide(ri[sa + t])
            rseen[r] = ftick
            freed[t] = r
        meta[_NFREED] = la
        reduced = False
        if j < n_forced:
            is_secondary = False
        elif not singletons:
            is_secondary = _any_proportional(j, m, ri, rv, vst, vln, hl, hst, hln, cnt)
        else:
            sub_sec = ri[sa] >= n_plain  # the residual lies in singleton rows only
            if sub_sec:
                equal = True
                for t in range(1, la):
                    if rv[sa + t] != rv[sa]:
                        equal = False
                used = False
                for t in range(la):
                    if sub_used[ri[sa + t]]:
                        used = True
                if not equal and not used:
                    # not proportional to a plain sum of singletons; non-overlapping to be sure
                    sub_sec = False
                    for t in range(la):
                        sub_used[ri[sa + t]] = True
            if sub_sec and not_primary_singleton:
                if not _any_inside(j, m, ri, vst, vln, hl, hst, hln, rseen, ftick):
                    # publishing a sum of unsuppressed singletons: its rows are known
                    _forget_rows(j, m, ri, rv, vst, vln, hl, hst, hln, cnt, blk, blk_b)
                    is_secondary = False
                    reduced = True
                else:
                    is_secondary = True
            else:
                is_secondary = sub_sec or _any_proportional(
                    j, m, ri, rv, vst, vln, hl, hst, hln, cnt
                )
        if is_secondary:
            secondary[j] = True
        elif not reduced:
            p = _wide(ri[sa])
            if sparse_pivot:
                # the row held by the fewest pending candidates, then the fewest primaries:
                # every holder receives the pivot's residual, and candidates pass it on
                b_single, b_a, b_b = ri[sa] >= n_plain, cnt[p], cnt[m + p]
                for t in range(1, la):
                    r = _wide(ri[sa + t])
                    single = r >= n_plain
                    if (single, cnt[r], cnt[m + r]) < (b_single, b_a, b_b):
                        p, b_single, b_a, b_b = r, single, cnt[r], cnt[m + r]
            ap = rv[_find(ri, sa, la, p)]  # the pivot's coefficient, once per step
            for key in (p, m + p):
                t = 0
                while t < hln[key]:  # a reduced vector no longer holds p: no repeats
                    k = hl[hst[key] + t]
                    t += 1
                    if (key < m and k <= j) or vln[k] == 0:
                        continue
                    # does k still hold p? (binary search, inline: this runs per entry)
                    lo, hi = vst[k], vst[k] + vln[k]
                    while lo < hi:
                        mid = (lo + hi) >> 1
                        if ri[mid] < p:
                            lo = mid + 1
                        else:
                            hi = mid
                    if lo == vst[k] + vln[k] or ri[lo] != p:
                        continue
                    ri, rv, hl = _reduce(
                        k,
                        j,
                        ap,
                        lo,
                        key >= m,
                        m,
                        ri,
                        rv,
                        vst,
                        vln,
                        vcp,
                        hl,
                        hst,
                        hln,
                        hcp,
                        cnt,
                        seen,
                        meta,
                        blk,
                        blk_b,
                        tmp_i,
                        tmp_v,
                        enter,
                        freed,
                        rseen,
                        ftick,
                        limit,
                    )
                hln[key] = 0
        vln[j] = 0
        if j >= n_forced:
            for t in range(meta[_NFREED]):
                r = freed[t]
                if cnt[r] == 0 and cnt[m + r] > 0:
                    _drop_idle_row(r, m, ri, vst, vln, hl, hst, hln, cnt, blk, blk_b)
    if n_forced and nc <= n_forced:
        for i in range(npr):
            unsafe[i] = vln[nc + i] == 0 and not empty_before[i]
    return secondary, unsafe, meta[_OVERFLOW] != 0


def _drop_idle_row(
    r: int,
    m: int,
    ri: Any,
    vst: Any,
    vln: Any,
    hl: Any,
    hst: Any,
    hln: Any,
    cnt: Any,
    blk: Any,
    blk_b: Any,
) -> None:
    """Drop the primaries holding row ``r`` when no pending candidate holds it: no later
    residual can reach that row, so they can never become computable (exact, and it saves
    their updates)."""
    if cnt[r] > 0:
        return
    key = m + r
    if cnt[key] > 0:
        for t in range(hln[key]):
            i = hl[hst[key] + t]
            if _holds(ri, vst, vln, i, r):
                _drop(i, m, ri, vst, vln, cnt, blk, blk_b)
    hln[key] = 0
    hln[r] = 0


def _drop_idle(
    m: int,
    ri: Any,
    vst: Any,
    vln: Any,
    hl: Any,
    hst: Any,
    hln: Any,
    cnt: Any,
    blk: Any,
    blk_b: Any,
) -> None:
    for r in range(m):
        if cnt[m + r] > 0:
            _drop_idle_row(r, m, ri, vst, vln, hl, hst, hln, cnt, blk, blk_b)


def _any_proportional(
    a: int, m: int, ri: Any, rv: Any, vst: Any, vln: Any, hl: Any, hst: Any, hln: Any, cnt: Any
) -> bool:
    """Whether a live primary residual is proportional to residual ``a``."""
    sa, la = vst[a], vln[a]
    best = _wide(ri[sa])
    for t in range(1, la):
        if cnt[m + ri[sa + t]] < cnt[m + best]:
            best = _wide(ri[sa + t])
    key = m + best
    if cnt[key] == 0:
        return False
    a0 = rv[sa]
    for t in range(hln[key]):
        i = hl[hst[key] + t]
        if vln[i] != la:
            continue
        sb = vst[i]
        b0 = rv[sb]
        same = True
        for q in range(la):
            if ri[sb + q] != ri[sa + q] or rv[sb + q] * a0 != rv[sa + q] * b0:
                same = False
                break
        if same:
            return True
    return False


def _any_inside(
    a: int, m: int, ri: Any, vst: Any, vln: Any, hl: Any, hst: Any, hln: Any, rseen: Any, tick: int
) -> bool:
    """Whether some non-empty live primary residual lies within the rows of ``a`` (marked
    ``tick`` in ``rseen``)."""
    sa, la = vst[a], vln[a]
    for t in range(la):
        key = m + ri[sa + t]
        for u in range(hln[key]):
            i = hl[hst[key] + u]
            if vln[i] == 0:
                continue
            inside = True
            for q in range(vst[i], vst[i] + vln[i]):
                if rseen[ri[q]] != tick:
                    inside = False
                    break
            if inside:
                return True
    return False


def _forget_rows(
    a: int,
    m: int,
    ri: Any,
    rv: Any,
    vst: Any,
    vln: Any,
    hl: Any,
    hst: Any,
    hln: Any,
    cnt: Any,
    blk: Any,
    blk_b: Any,
) -> None:
    """The rows of ``a`` are known: remove them from every pending vector."""
    sa, la = vst[a], vln[a]
    for t in range(la):
        r = _wide(ri[sa + t])
        for key in (r, m + r):
            for u in range(hln[key]):
                k = hl[hst[key] + u]
                if not _live(key, k, a, m, ri, vst, vln):
                    continue
                s = vst[k]
                pos = _find(ri, s, vln[k], r)
                for q in range(pos, s + vln[k] - 1):
                    ri[q] = ri[q + 1]
                    rv[q] = rv[q + 1]
                vln[k] -= 1
                cnt[key] -= 1
                if key >= m:
                    blk_b[blk[k]] -= 1
            hln[key] = 0


def _reduce(
    k: int,
    a: int,
    ap: Any,
    pv: int,
    prim: bool,
    m: int,
    ri: Any,
    rv: Any,
    vst: Any,
    vln: Any,
    vcp: Any,
    hl: Any,
    hst: Any,
    hln: Any,
    hcp: Any,
    cnt: Any,
    seen: Any,
    meta: Any,
    blk: Any,
    blk_b: Any,
    tmp_i: Any,
    tmp_v: Any,
    enter: Any,
    freed: Any,
    rseen: Any,
    ftick: int,
    limit: int,
) -> Any:
    """v ← a[p]·v − v[p]·a (scaled by their gcd) for vector ``k``, keeping the row lists and
    counts current; ``ap`` is a[p] and ``pv`` the position of p in v's slot. Rows that leave
    a candidate are added to ``freed``. Returns the pools.

    Only the entries the merge computes are checked against ``limit`` (v's others keep their
    size when a[p]/gcd is ±1, the common case); dividing by a common factor only shrinks
    them, so a value found too large is looked at again after the division."""
    sv, lv = vst[k], vln[k]
    sa, la = vst[a], vln[a]
    vp = rv[pv]
    g = _gcd(ap, vp)
    fa = ap // g
    fv = vp // g
    off = m if prim else 0
    # the largest size of an entry the merge computes (all of them unless fa is ±1)
    top = 0
    if limit > 0 and fa != 1 and fa != -1:
        for t in range(lv):
            top = max(top, abs(fa * rv[sv + t]))
    n = 0
    n_enter = 0
    x = 0
    y = 0
    while x < lv and y < la:
        rx = _wide(ri[sv + x])
        ry = _wide(ri[sa + y])
        if rx < ry:
            tmp_i[n] = rx
            tmp_v[n] = fa * rv[sv + x]
            n += 1
            x += 1
        elif ry < rx:
            tmp_i[n] = ry
            value = -fv * rv[sa + y]
            top = max(top, abs(value))
            tmp_v[n] = value
            enter[n_enter] = ry
            n_enter += 1
            n += 1
            y += 1
        else:
            value = fa * rv[sv + x] - fv * rv[sa + y]
            if value != 0:
                top = max(top, abs(value))
                tmp_i[n] = rx
                tmp_v[n] = value
                n += 1
            else:
                cnt[off + rx] -= 1
                if prim:
                    blk_b[blk[k]] -= 1
                elif rseen[rx] != ftick:
                    rseen[rx] = ftick
                    freed[meta[_NFREED]] = rx
                    meta[_NFREED] += 1
            x += 1
            y += 1
    while x < lv:
        tmp_i[n] = ri[sv + x]
        tmp_v[n] = fa * rv[sv + x]
        n += 1
        x += 1
    while y < la:
        tmp_i[n] = ri[sa + y]
        value = -fv * rv[sa + y]
        top = max(top, abs(value))
        tmp_v[n] = value
        enter[n_enter] = ri[sa + y]
        n_enter += 1
        n += 1
        y += 1
    d = 1
    if n and (fa != 1 or fv != 1):
        d = abs(tmp_v[0])
        for t in range(1, n):
            if d == 1:
                break
            d = _gcd(d, tmp_v[t])
        if d > 1:
            for t in range(n):
                tmp_v[t] = tmp_v[t] // d
    if limit > 0 and top > limit:
        if d > 1:
            for t in range(n):
                if abs(tmp_v[t]) > limit:
                    meta[_OVERFLOW] = 1
        else:
            meta[_OVERFLOW] = 1
    ri, rv = _store(k, n, ri, rv, vst, vcp, meta)
    s = vst[k]
    for t in range(n):
        ri[s + t] = tmp_i[t]
        rv[s + t] = tmp_v[t]
    vln[k] = n
    for t in range(n_enter):
        key = off + enter[t]
        cnt[key] += 1
        if hln[key] < hcp[key]:  # the common case, without a call
            hl[hst[key] + hln[key]] = k
            hln[key] += 1
        else:
            hl = _push(key, k, a, m, hl, hst, hln, hcp, cnt, seen, meta, ri, vst, vln)
    if prim:
        blk_b[blk[k]] += n_enter
    return ri, rv, hl


_HELPERS = (
    _gcd,
    _find,
    _holds,
    _live,
    _push,
    _store,
    _drop,
    _drop_idle_row,
    _drop_idle,
    _any_proportional,
    _any_inside,
    _forget_rows,
    _reduce,
)
_compiled: list[Callable[..., Any]] = []


def _compiled_kernel() -> Callable[..., Any]:
    """The kernel compiled (numba is imported here, not with the module: it costs about a
    second per process, which only problems large enough to need it pay)."""
    if not _compiled:
        from numba import njit
        from numba.extending import register_jitable

        for helper in _HELPERS:
            register_jitable(helper)  # compiled into the kernel where it calls them
        _compiled.append(njit(cache=True, nogil=True)(_kernel))
    return _compiled[0]


def eliminate(
    candidates: Vectors,
    primaries: Vectors,
    blocks: np.ndarray,
    *,
    rows: int,
    n_forced: int = 0,
    n_plain: int | None = None,
    singletons: bool = False,
    not_primary_singleton: bool = False,
    sparse_pivot: bool = False,
    limit: int = LIMIT,
    compiled: bool | None = None,
) -> Eliminated:
    """Run the elimination over candidate and primary vectors, each given as CSC arrays
    ``(indptr, rows, coefficients)`` with rows sorted within a vector; ``blocks`` holds the
    independent block of every vector (candidates, then primaries), ``rows`` the number of
    rows. Coefficients past ``limit`` make the loop start again in exact Python integers.

    >>> import numpy as np
    >>> one = (np.array([0, 1]), np.array([0]), np.array([1]))
    >>> eliminate(one, one, np.zeros(2, dtype=np.int64), rows=1).secondary.tolist()
    [True]
    """
    c_ptr, c_idx, c_val = (np.asarray(v, dtype=np.int64) for v in candidates)
    p_ptr, p_idx, p_val = (np.asarray(v, dtype=np.int64) for v in primaries)
    blk = np.asarray(blocks, dtype=np.int64)
    n_blocks = int(blk.max()) + 1 if len(blk) else 1
    plain = rows if n_plain is None else n_plain
    args = (rows, n_forced, plain, singletons, not_primary_singleton, sparse_pivot)
    if compiled is None:
        compiled = len(c_idx) + len(p_idx) >= COMPILE_ENTRIES
    overflow = True
    if compiled:
        sec, uns, overflow = _compiled_kernel()(
            c_ptr, c_idx, c_val, p_ptr, p_idx, p_val, blk, n_blocks, *args, limit
        )
    if overflow:  # exact integers, interpreted: slow, but only where coefficients grow large
        big_c, big_p = c_val.astype(object), p_val.astype(object)
        sec, uns, _ = _kernel(c_ptr, c_idx, big_c, p_ptr, p_idx, big_p, blk, n_blocks, *args, 0)
    return Eliminated(np.asarray(sec, dtype=bool), np.asarray(uns, dtype=bool))


__all__ = ["LIMIT", "Eliminated", "eliminate"]
