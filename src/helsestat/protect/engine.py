"""Full protection of a family of linked tables: primary rules, secondary suppression by
Gaussian elimination, the attacker audit, and more suppression where the audit finds a
cell too narrowly protected — repeated until every suppressed cell passes.

>>> import numpy as np
>>> from scipy import sparse
>>> x = sparse.csc_matrix(np.array([[1, 1, 0, 1, 0], [1, 0, 1, 0, 1]]))  # total, a, b, a', b'
>>> p = Problem(x, z=np.array([9.0, 2, 7, 2, 7]), y=np.array([2.0, 7]),
...             primary=np.array([False, True, False, False, False]))
>>> solve(p, Requirement()).suppressed.tolist()
[False, True, True, True, True]
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from helsestat.errors import ProtectionError
from helsestat.protect.audit import AuditResult, audit
from helsestat.protect.candidates import candidate_order
from helsestat.protect.gauss import SingletonMethod, duplicate_groups, gauss_suppress

AuditMode = Literal["certify", "exact", "off"]


@dataclass(frozen=True)
class Requirement:
    """How wide the attacker's interval around a primary cell must be: at least
    ``range_min``, and at least ``range_percent`` % of the cell's value (GaussSuppression's
    ``rangeMin`` / ``rangePercent``). The default only forbids exact disclosure.

    >>> Requirement(range_min=2).width(np.array([1.0, 40.0])).tolist()
    [2.0, 2.0]
    """

    range_min: float = 0.0
    range_percent: float = 0.0

    def width(self, values: np.ndarray) -> np.ndarray:
        """The required width for cells with these values."""
        out = np.maximum(self.range_min, np.abs(values) * self.range_percent / 100.0)
        return np.asarray(out, dtype=np.float64)

    @property
    def label(self) -> str:
        """A short description, e.g. ``width >= 2``."""
        parts = []
        if self.range_min:
            parts.append(f"width >= {self.range_min:g}")
        if self.range_percent:
            parts.append(f"width >= {self.range_percent:g}% of the value")
        return " and ".join(parts) or "not exactly derivable"


@dataclass(frozen=True)
class RateLink:
    """Published amounts an attacker can combine with a count: per inner cell, each amount
    is a public rate times the count (a refund per use of a tariff code, from the tariff
    list). Every published cell then gives one more equation per amount over the same
    unknown counts, independent of the count's own where a cell's inner cells have different
    rates (a year across a tariff change).

    ``count`` and ``rates`` are per inner cell; ``required`` is the interval width the count
    of each cell needs (primary cells; 0 elsewhere); ``integer``: the count is a whole
    number."""

    count: np.ndarray
    rates: tuple[np.ndarray, ...]
    required: np.ndarray
    integer: bool = False


@dataclass(frozen=True)
class Problem:
    """One suppression problem over a model matrix ``x`` (inner cells × cells).

    ``z`` cell values and ``y`` inner values of the audited measure; ``required`` the interval
    width each cell needs (primary cells; 0 elsewhere); ``forced`` cells are already public
    (earlier releases); ``hidden`` cells are neither published nor protected.

    What an attacker knows besides the published cells: ``lower`` per inner cell, ``at_least``
    per cell (a hidden cell is known to hold at least this much, e.g. 1 for a listed cell of
    a table without empty cells) and ``integer`` (the values are whole numbers, so an
    interval holding one whole number discloses the cell)."""

    x: sparse.csc_matrix
    z: np.ndarray
    y: np.ndarray
    primary: np.ndarray
    required: np.ndarray | None = None
    forced: np.ndarray | None = None
    hidden: np.ndarray | None = None
    singleton: np.ndarray | None = None
    singleton_method: SingletonMethod = "anySum"
    order: np.ndarray | None = None
    lower: np.ndarray | float = 0.0
    link: RateLink | None = None
    at_least: np.ndarray | None = None
    integer: bool = False


@dataclass(frozen=True)
class Solution:
    """The suppression pattern and what the final audit proved."""

    suppressed: np.ndarray
    secondary: np.ndarray
    extra: np.ndarray
    unsafe: np.ndarray
    lo: np.ndarray
    up: np.ndarray
    exact: np.ndarray
    required: np.ndarray
    rounds: int
    lps: int


def _mask(v: np.ndarray | None, n: int) -> np.ndarray:
    return np.zeros(n, dtype=bool) if v is None else np.asarray(v, dtype=bool)


def solve(
    problem: Problem,
    requirement: Requirement | None = None,
    *,
    audit_mode: AuditMode = "certify",
    max_rounds: int = 50,
    sparse_pivot: bool = True,
    workers: int = 1,
    parallel_cells: int | None = None,
) -> Solution:
    """Suppress until no primary cell can be derived and every audited interval is wide
    enough; raise :class:`ProtectionError` when that cannot be reached.

    Cells that share no inner cell, even indirectly, form independent blocks: blocks without
    a primary cell are published as they are, and with ``workers > 1`` large problems are
    spread over that many processes, block by block (same result; 0: one per CPU core;
    "large" is ``parallel_cells`` cells, default :data:`PARALLEL_CELLS`).

    >>> import numpy as np
    >>> from scipy import sparse
    >>> x = sparse.csc_matrix(np.array([[1, 1, 0], [1, 0, 1]]))  # total, a, b
    >>> p = Problem(x, z=np.array([9.0, 2, 7]), y=np.array([2.0, 7]), primary=np.array([0, 1, 0]))
    >>> solve(p).suppressed.tolist()
    [False, True, True]
    """
    x = sparse.csc_matrix(problem.x, dtype=np.int64, copy=True)
    x.eliminate_zeros()  # an explicit zero is not membership
    m, n = x.shape
    primary = _mask(problem.primary, n)
    forced = _mask(problem.forced, n)
    if forced.any():
        # A cell identical to a public one (e.g. published by an earlier release) is public.
        rep = duplicate_groups(x)
        public = np.zeros(n, dtype=bool)
        public[rep[forced]] = True
        forced = public[rep]
    z = np.asarray(problem.z, dtype=np.float64)
    need = np.zeros(n) if problem.required is None else np.asarray(problem.required, float)
    if requirement is not None:
        need = np.maximum(need, np.where(primary, requirement.width(z), 0.0))
    need = np.where(primary, need, 0.0)
    order = candidate_order(x, z) if problem.order is None else np.asarray(problem.order)
    y = np.asarray(problem.y, dtype=np.float64)
    lower = (
        problem.lower if isinstance(problem.lower, np.ndarray) else np.full(m, float(problem.lower))
    )
    single = None if problem.singleton is None else np.asarray(problem.singleton, dtype=bool)
    full = Problem(
        x=x,
        z=z,
        y=y,
        primary=primary,
        required=need,
        forced=forced,
        hidden=_mask(problem.hidden, n) & ~forced,
        singleton=single,
        singleton_method=problem.singleton_method,
        order=order,
        lower=lower,
        link=problem.link,
        at_least=None if problem.at_least is None else np.asarray(problem.at_least, float),
        integer=problem.integer,
    )
    blocks = _blocks(x)
    active = np.isin(blocks, np.unique(blocks[primary]))
    if workers <= 0:
        workers = os.cpu_count() or 1
    large = n >= (PARALLEL_CELLS if parallel_cells is None else parallel_cells)
    groups = _groups(x, blocks, active, workers if large else 1)
    parts = [_part(full, g) for g in groups]
    args = (audit_mode, max_rounds, sparse_pivot)
    if len(parts) > 1:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(len(parts), mp_context=ctx) as pool:
            results = list(pool.map(_solve_part, parts, [args] * len(parts)))
    else:
        results = [_solve_part(p, args) for p in parts]
    out = _empty_solution(n, need, primary & forced)
    for (cols, _), res in zip(groups, results, strict=True):
        if isinstance(res, tuple):
            raise ProtectionError(res[0], res[1], hint=res[2])
        for name in ("suppressed", "secondary", "extra", "unsafe", "lo", "up", "exact"):
            getattr(out, name)[cols] = getattr(res, name)
        out = Solution(
            **{**out.__dict__, "rounds": max(out.rounds, res.rounds), "lps": out.lps + res.lps}
        )
    out.suppressed[primary & forced] = True
    return out


#: Problems with at least this many cells may be spread over worker processes.
PARALLEL_CELLS = 50_000


def _groups(
    x: sparse.csc_matrix, blocks: np.ndarray, active: np.ndarray, workers: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The active blocks' (columns, rows), in ``workers`` groups of about equal size."""
    cols = np.flatnonzero(active)
    if not len(cols):
        return []
    sizes = np.bincount(blocks[cols], weights=np.diff(x.indptr)[cols])
    ids = np.flatnonzero(sizes)
    load = np.zeros(max(workers, 1))
    owner = np.zeros(blocks.max() + 1, dtype=np.int64)
    for b in ids[np.argsort(-sizes[ids], kind="stable")].tolist():
        k = int(np.argmin(load))
        owner[b] = k
        load[k] += sizes[b]
    out = []
    for k in range(len(load)):
        c = cols[owner[blocks[cols]] == k]
        if len(c):
            out.append((c, np.unique(x[:, c].indices)))
    return out


def _part(p: Problem, group: tuple[np.ndarray, np.ndarray]) -> Problem:
    cols, rows = group
    n = p.x.shape[1]
    keep = np.full(n, -1, dtype=np.int64)
    keep[cols] = np.arange(len(cols))
    order = np.asarray(p.order)
    sub_order = keep[order[keep[order] >= 0]]

    def take(v: np.ndarray | None) -> np.ndarray | None:
        return None if v is None else np.asarray(v)[cols]

    return Problem(
        x=sparse.csc_matrix(p.x[rows][:, cols]),
        z=np.asarray(p.z)[cols],
        y=np.asarray(p.y)[rows],
        primary=np.asarray(p.primary)[cols],
        required=take(p.required),
        forced=take(p.forced),
        hidden=take(p.hidden),
        singleton=None if p.singleton is None else np.asarray(p.singleton)[rows],
        singleton_method=p.singleton_method,
        order=sub_order,
        lower=np.asarray(p.lower)[rows],
        link=None
        if p.link is None
        else RateLink(
            p.link.count[rows],
            tuple(r[rows] for r in p.link.rates),
            p.link.required[cols],
            p.link.integer,
        ),
        at_least=take(p.at_least),
        integer=p.integer,
    )


def _empty_solution(n: int, need: np.ndarray, unsafe: np.ndarray) -> Solution:
    return Solution(
        suppressed=np.zeros(n, dtype=bool),
        secondary=np.zeros(n, dtype=bool),
        extra=np.zeros(n, dtype=bool),
        unsafe=unsafe.copy(),
        lo=np.full(n, np.nan),
        up=np.full(n, np.nan),
        exact=np.zeros(n, dtype=bool),
        required=need,
        rounds=0,
        lps=0,
    )


def _solve_part(
    problem: Problem, args: tuple[AuditMode, int, bool]
) -> Solution | tuple[str, str, str]:
    """One group of blocks; errors come back as values (they cross a process boundary)."""
    audit_mode, max_rounds, sparse_pivot = args
    try:
        return _solve_blocks(problem, audit_mode, max_rounds, sparse_pivot)
    except ProtectionError as exc:
        return (exc.code, exc.message, exc.hint)


def _solve_blocks(
    problem: Problem, audit_mode: AuditMode, max_rounds: int, sparse_pivot: bool
) -> Solution:
    x = sparse.csc_matrix(problem.x)
    m, n = x.shape
    primary = _mask(problem.primary, n)
    forced = _mask(problem.forced, n)
    hidden = _mask(problem.hidden, n)
    z = np.asarray(problem.z, dtype=np.float64)
    need = np.asarray(problem.required, dtype=np.float64)
    order = np.asarray(problem.order)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(len(order))
    unsafe = primary & forced

    extra = np.zeros(n, dtype=bool)
    secondary = np.zeros(n, dtype=bool)
    # secondary cells an attacker pins to one whole number although the linear program
    # leaves them a range: hiding them protects nothing, so they are published (and the
    # attacker is then given their values as equations)
    released = np.zeros(n, dtype=bool)
    blocks = _blocks(x)
    todo = np.ones(n, dtype=bool)
    result: AuditResult | None = None
    lo = np.full(n, np.nan)
    up = np.full(n, np.nan)
    exact = np.zeros(n, dtype=bool)
    pinned = np.zeros(n, dtype=bool)
    stale = np.zeros(n, dtype=bool)  # secondary cells whose audit was deferred
    at_least = None if problem.at_least is None else np.asarray(problem.at_least, float)
    lps = 0
    rounds = 0
    for attempt in range(1, max_rounds + 1):
        rounds = attempt
        known = forced | released
        cols = np.flatnonzero(todo)
        rows = np.unique(x[:, cols].indices) if len(cols) < n else np.arange(m)
        sub = x[rows][:, cols] if len(cols) < n else x
        keep = np.full(n, -1, dtype=np.int64)
        keep[cols] = np.arange(len(cols))
        sub_order = keep[order[todo[order]]]
        single = None if problem.singleton is None else np.asarray(problem.singleton)[rows]
        g = gauss_suppress(
            sub,
            sub_order,
            (primary | extra)[cols],
            forced=known[cols],
            hidden=hidden[cols],
            singleton=single,
            singleton_method=problem.singleton_method,
            sparse_pivot=sparse_pivot,
        )
        secondary[cols] = g.secondary
        suppressed = (primary | extra | secondary) & ~known  # forced cells are known
        if audit_mode == "off":
            break
        lower = problem.lower
        lower_sub = lower[rows] if isinstance(lower, np.ndarray) else lower
        # Secondary cells only protect the guarded ones (primary, and those the audit
        # added): where a guarded cell of their linear program fails, the block is suppressed
        # further and audited again, so their proof waits (deferred, then stale).
        guarded = suppressed & (primary | extra)
        shade = suppressed & ~guarded
        result = audit(
            sub,
            z[cols],
            np.asarray(problem.y, float)[rows],
            suppressed[cols],
            required=need[cols],
            lower=lower_sub,
            unknown=hidden[cols],
            exact=audit_mode == "exact",
            at_least=None if at_least is None else at_least[cols],
            integer=problem.integer,
            defer=shade[cols],
        )
        lps += result.lps
        lo[cols], up[cols], exact[cols] = result.lo, result.up, result.exact
        pinned[cols] = _mask(result.pinned, len(cols))
        stale[cols] = _mask(result.deferred, len(cols))
        release = np.zeros(n, dtype=bool)
        release[cols] = result.failing & shade[cols]
        release &= ~pinned
        failing = np.zeros(n, dtype=bool)
        failing[cols] = result.failing
        failing &= (primary | extra) & ~unsafe
        if not failing.any() and problem.link is not None:
            # the count alone is safe; now what the amounts tell about it as well
            result = _linked_audit(
                problem.link, sub, rows, cols, guarded, hidden | shade, lower_sub, audit_mode
            )
            lps += result.lps
            failing = np.zeros(n, dtype=bool)
            failing[cols] = result.failing
            failing &= (primary | extra) & ~unsafe
        if failing.any():
            added = _more_suppression(x, failing, result, cols, suppressed, known, hidden, position)
            if not added.any() and forced.any():
                # What earlier releases published alone may pin these cells down: then they
                # are disclosed already and no suppression now can help (counted as unsafe).
                old = _disclosed_by_history(problem, failing, forced, need)
                unsafe |= old
                failing &= ~old
            if failing.any():
                if not added.any():
                    raise ProtectionError(
                        "protect.cannot_protect",
                        f"{int(failing.sum())} suppressed cell(s) stay derivable and no "
                        "published cell near them can be suppressed",
                        hint="cells published in an earlier release fix them; see the release "
                        "notes",
                    )
                extra |= added
                todo = np.isin(blocks, np.unique(blocks[added]))
                continue
        # Every guarded cell passes. Secondary cells left unproven (a block whose failing
        # cells turned out disclosed by earlier releases) are audited now; one pinned to a
        # single whole number although the linear program leaves it a range is published,
        # and its blocks are protected again with its value known.
        if (stale & shade).any():
            late = _audit_shade(
                problem, x, blocks, stale & shade, shade, guarded, hidden, audit_mode, out=(lo, up)
            )
            lps += late.lps
            check = late.cols
            exact[check] = np.where(shade[check], late.exact, exact[check])
            pinned[check] = np.where(shade[check], late.pinned, pinned[check])
            release |= late.release
        stale[:] = False
        if not release.any():
            break
        released |= release
        todo = np.isin(blocks, np.unique(blocks[release]))
    else:
        raise ProtectionError(
            "protect.no_convergence",
            f"the audit still fails after {max_rounds} rounds of extra suppression",
            hint="raise max_rounds or lower the protection requirement",
        )
    suppressed = (primary | extra | secondary) & ~forced & ~released
    if audit_mode != "off":
        # A secondary cell the attacker can compute anyway may as well be published.
        derivable = suppressed & ~primary & pinned
        suppressed &= ~derivable
        secondary &= ~derivable
        extra &= ~derivable
    # A primary cell an earlier release published stays suppressed here (it is unsafe).
    suppressed |= unsafe
    return Solution(
        suppressed=suppressed,
        secondary=suppressed & ~primary,
        extra=extra & suppressed,
        unsafe=unsafe,
        lo=np.where(suppressed, lo, np.nan),
        up=np.where(suppressed, up, np.nan),
        exact=exact & suppressed,
        required=need,
        rounds=rounds,
        lps=lps,
    )


@dataclass(frozen=True)
class _Shade:
    """What the audit of secondary cells found: over columns ``cols``, their exact flags
    and pinned cells, and the cells to publish (``release``, over all columns)."""

    cols: np.ndarray
    exact: np.ndarray
    pinned: np.ndarray
    release: np.ndarray
    lps: int


def _audit_shade(
    problem: Problem,
    x: sparse.csc_matrix,
    blocks: np.ndarray,
    stale: np.ndarray,
    shade: np.ndarray,
    guarded: np.ndarray,
    hidden: np.ndarray,
    audit_mode: AuditMode,
    *,
    out: tuple[np.ndarray, np.ndarray],
) -> _Shade:
    """Audit the secondary cells (``shade``) of the blocks holding a ``stale`` one, with the
    guarded cells unpublished but not audited; writes their intervals into ``out``."""
    n = x.shape[1]
    release = np.zeros(n, dtype=bool)
    if not stale.any():
        empty = np.zeros(0, dtype=np.int64)
        return _Shade(empty, np.zeros(0, bool), np.zeros(0, bool), release, 0)
    cols = np.flatnonzero(np.isin(blocks, np.unique(blocks[stale])))
    rows = np.unique(x[:, cols].indices)
    lower = problem.lower
    result = audit(
        sparse.csc_matrix(x[rows][:, cols]),
        np.asarray(problem.z, float)[cols],
        np.asarray(problem.y, float)[rows],
        shade[cols],
        lower=lower[rows] if isinstance(lower, np.ndarray) else lower,
        unknown=(hidden | guarded)[cols],
        exact=audit_mode == "exact",
        at_least=None if problem.at_least is None else np.asarray(problem.at_least)[cols],
        integer=problem.integer,
    )
    lo, up = out
    mine = shade[cols]
    lo[cols[mine]], up[cols[mine]] = result.lo[mine], result.up[mine]
    pinned = _mask(result.pinned, len(cols))
    release[cols] = result.failing & mine & ~pinned
    return _Shade(cols, result.exact, pinned, release, result.lps)


def _linked_audit(
    link: RateLink,
    sub: sparse.csc_matrix,
    rows: np.ndarray,
    cols: np.ndarray,
    suppressed: np.ndarray,
    hidden: np.ndarray,
    lower: np.ndarray | float,
    audit_mode: AuditMode,
) -> AuditResult:
    """The attacker audit of the link's count over every published cell's count and
    amounts: a suppressed cell fails when its count's interval is narrower than required
    (what is protected is the count; an amount of a suppressed cell is only audited through
    it). The result is per cell of ``sub`` (an amount's binding cells are the cells that
    publish it)."""
    k = sub.shape[1]
    count = link.count[rows]
    amounts = [sparse.csc_matrix(sub.multiply(r[rows][:, None])) for r in link.rates]
    x2 = sparse.hstack([sub, *amounts], format="csc")
    supp, hid = suppressed[cols], hidden[cols]
    r = audit(
        x2,
        x2.T @ count,
        count,
        np.concatenate([supp, np.zeros(k * len(amounts), dtype=bool)]),
        required=np.concatenate([link.required[cols], np.zeros(k * len(amounts))]),
        # what is known of the audited measure's inner cells holds for the count where true
        lower=np.minimum(lower, count),
        # a suppressed cell's amounts are not published either (and not audited)
        unknown=np.concatenate([hid, np.tile(supp | hid, len(amounts))]),
        exact=audit_mode == "exact",
        integer=link.integer,
    )
    failing = np.asarray(r.failing[:k], dtype=bool)
    binding: dict[int, set[int]] = {}
    for target, bound in r.binding.items():
        binding.setdefault(target % k, set()).update(b % k for b in bound)
    return AuditResult(
        r.lo[:k],
        r.up[:k],
        r.exact[:k],
        r.required[:k],
        failing,
        {t: tuple(sorted(b)) for t, b in binding.items()},
        r.lps,
        None if r.pinned is None else r.pinned[:k],
    )


def _disclosed_by_history(
    problem: Problem, cells: np.ndarray, forced: np.ndarray, need: np.ndarray
) -> np.ndarray:
    """Which of ``cells`` the forced cells (published by earlier releases) alone pin down
    more narrowly than required: the attacker audit with nothing else published."""
    result = audit(
        sparse.csc_matrix(problem.x),
        np.asarray(problem.z, dtype=np.float64),
        np.asarray(problem.y, dtype=np.float64),
        cells,
        required=need,
        lower=problem.lower,
        unknown=~forced & ~cells,
        exact=True,
        at_least=problem.at_least,
        integer=problem.integer,
    )
    return np.asarray(cells & result.failing, dtype=bool)


def _blocks(x: sparse.csc_matrix) -> np.ndarray:
    """A component id per column (cells sharing no inner cell, even indirectly, differ)."""
    m = x.shape[0]
    b = sparse.csc_matrix(x, dtype=np.int8)
    b.data[:] = 1
    adj = sparse.bmat([[None, b], [b.T, None]], format="csr")
    _, labels = connected_components(adj, directed=False)
    return np.asarray(labels[m:])


def _more_suppression(
    x: sparse.csc_matrix,
    failing: np.ndarray,
    result: AuditResult,
    cols: np.ndarray,
    suppressed: np.ndarray,
    forced: np.ndarray,
    hidden: np.ndarray,
    position: np.ndarray,
) -> np.ndarray:
    """For each failing cell, suppress the published cell that binds it and comes last in
    the candidate order (the smallest); fall back to its published neighbours."""
    n = x.shape[1]
    open_ = ~suppressed & ~forced & ~hidden
    added = np.zeros(n, dtype=bool)
    xr = None
    local = {int(c): k for k, c in enumerate(cols.tolist())}
    for s in np.flatnonzero(failing).tolist():
        bind = [int(cols[b]) for b in result.binding.get(local[s], ())]
        options = [c for c in bind if open_[c]]
        if not options:
            if xr is None:
                xr = sparse.csr_matrix(x)
            rows = x.indices[x.indptr[s] : x.indptr[s + 1]]
            near = np.unique(
                np.concatenate([xr.indices[xr.indptr[r] : xr.indptr[r + 1]] for r in rows])
            )
            options = [int(c) for c in near if open_[c]]
        if options:
            added[max(options, key=lambda c: position[c])] = True
    return added


__all__ = ["AuditMode", "Problem", "RateLink", "Requirement", "Solution", "solve"]
