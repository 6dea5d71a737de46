"""Full protection of several tables published from the same data, together.

The tables (e.g. takstbruk per kommune, fylke and landet × måned and år) are sums of the
cells of the finest one, so they are protected as one problem: primary rules per table, one
model matrix over all of them, secondary suppression by Gaussian elimination, the attacker
audit over everything published in the release (and in earlier releases), and more
suppression until every suppressed cell passes. Each table leaves as a
:class:`~helsestat.model.ProtectedTable` with a status per cell.

>>> import pyarrow as pa
>>> from helsestat.protect.rules import FrequencyRule
>>> k = pa.table({"kommune": ["0301", "1103", "1108"], "fylke": ["03", "11", "11"],
...               "n": [40, 2, 9]})
>>> f = pa.table({"fylke": ["03", "11"], "n": [40, 11]})
>>> rule = (FrequencyRule("n", 3),)
>>> out = protect_tables([TableToProtect("k", "K", k, ("kommune", "fylke"), rule),
...                       TableToProtect("f", "F", f, ("fylke",), rule)], ("n",), Protection("n"))
>>> out.tables[0].table.column("status").to_pylist()
['published', 'primary', 'secondary']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

from helsestat.errors import ProtectionError
from helsestat.model import RULE_COLUMN, STATUS_COLUMN, ProtectedTable
from helsestat.protect.candidates import candidate_order, magnitude_order
from helsestat.protect.engine import AuditMode, Problem, RateLink, Requirement, Solution, solve
from helsestat.protect.knowledge import Listed, Listing, derive, is_whole, name_cells
from helsestat.protect.matrix import group_keys, link_tables
from helsestat.protect.rules import Rule, requirement_of


@dataclass(frozen=True)
class TableToProtect:
    """One table of a release: its cells, dimension columns and primary rules."""

    name: str
    title: str
    table: pa.Table
    dimensions: tuple[str, ...]
    rules: tuple[Rule, ...] = ()
    notes: tuple[str, ...] = ()


#: The least any suppressed cell needs: its value cannot be computed exactly.
NOT_DERIVABLE = Requirement()


@dataclass(frozen=True)
class Protection:
    """How a family of tables is protected.

    ``measure`` is the additive measure the engine works on (the count for frequency tables,
    the amount for magnitude tables): it orders the candidates (small cells are suppressed
    first), finds singletons and is what the audit bounds. ``requirement`` is the interval
    width a primary cell needs (rules may bring their own); for whole numbers it counts the
    whole numbers an attacker cannot rule out.

    What the attacker knows besides the published values is read off the tables
    (:mod:`helsestat.protect.knowledge`): which tables list only non-empty cells (so a
    missing combination is 0 and a hidden listed count at least 1), and whether the values
    are whole numbers. ``listing="non_empty"`` declares the first for every table, and a
    table listing an empty cell is then an error; nothing can declare it away.
    ``workers`` > 1 spreads large problems (50 000 cells or more) over that many processes
    with the same result; 0 means one per CPU core.

    ``rate_count`` and ``rate_amounts``: the tables also publish amounts that are, per inner
    cell, a public rate times the count ``rate_count`` (e.g. refunds = tariff × uses; each
    entry of ``rate_amounts`` is one amount, or several measures that add up to one). An
    attacker can combine them with the count, so the audit also bounds ``rate_count`` over
    every published count and amount (:class:`~helsestat.protect.engine.RateLink`), with
    the same requirement, and suppresses more where it must.
    """

    measure: str
    requirement: Requirement = NOT_DERIVABLE
    singletons: bool = True
    listing: Listing = "derive"
    magnitude: bool = False
    audit: AuditMode = "certify"
    max_rounds: int = 50
    workers: int = 1
    rate_count: str | None = None
    rate_amounts: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class ProtectionReport:
    """The protected tables, and per table the attacker's interval of every suppressed cell
    (columns: the dimensions, the measure, ``lo``, ``up``, ``required``, ``exact``).
    ``non_empty`` names the tables found to list only non-empty cells and ``integer`` says
    whether the values were whole numbers: what the audit assumed the attacker knows."""

    tables: tuple[ProtectedTable, ...]
    intervals: dict[str, pa.Table]
    primary: int
    secondary: int
    extra: int
    unsafe: int
    rounds: int
    lps: int
    narrowest: float
    requirement: str
    non_empty: tuple[str, ...] = ()
    integer: bool = False

    def summary(self) -> str:
        """One sentence for the release notes.

        >>> r = ProtectionReport((), {}, 3, 2, 1, 0, 2, 10, 4.0, "width >= 2")
        >>> r.summary().split(";")[0]
        'full protection: 3 primary and 2 secondary cells (1 added by the audit)'
        """
        proved = (
            "no suppressed cell can be derived"
            if self.unsafe == 0
            else f"{self.unsafe} primary cell(s) were already disclosed by earlier releases "
            "(published there, or derivable from what they published)"
        )
        if self.primary and np.isfinite(self.narrowest):
            narrow = f"narrowest proven interval of a primary cell {self.narrowest:g}"
        else:
            narrow = (
                "no primary cell in this release" if not self.primary else "intervals unbounded"
            )
        return (
            f"full protection: {self.primary} primary and {self.secondary} secondary cells "
            f"({self.extra} added by the audit); audit over every table of the release: "
            f"{proved}; {narrow} (requirement: {self.requirement})"
        )


def _primary(
    table: pa.Table, rules: Sequence[Rule], default: Requirement, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Primary mask, rule label and required interval width per cell (first rule wins)."""
    n = table.num_rows
    hit = np.zeros(n, dtype=bool)
    labels = np.full(n, "", dtype=object)
    need = np.zeros(n)
    for rule in rules:
        new = rule.apply(table) & ~hit
        labels[new] = rule.label
        hit |= new
        need[new] = requirement_of(rule, default).width(values[new])
    return hit, labels, need


def _finest(tables: Sequence[TableToProtect]) -> TableToProtect:
    every = set().union(*(t.dimensions for t in tables))
    for t in tables:
        if set(t.dimensions) == every:
            return t
    raise ProtectionError(
        "protect.no_inner",
        "no table holds every dimension of the linked tables: " + ", ".join(t.name for t in tables),
        hint="pass the finest cells as inner=… (e.g. the cube's finest grouping)",
    )


def _covered(inner: pa.Table, tables: Sequence[TableToProtect | ProtectedTable]) -> np.ndarray:
    """Which inner cells a release covers: those its finest table lists."""
    usable = [t for t in tables if set(t.dimensions) <= set(inner.column_names)]
    if not usable:
        return np.ones(inner.num_rows, dtype=bool)
    finest = max(usable, key=lambda t: len(t.dimensions))
    dims = finest.dimensions
    ki, kf = group_keys([inner.select(list(dims)), finest.table.select(list(dims))], dims)
    return np.asarray(np.isin(ki, kf), dtype=bool)


def _values(table: pa.Table, measure: str) -> np.ndarray:
    col = table.column(measure)
    values = np.asarray(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False))
    return np.asarray(np.nan_to_num(values), dtype=np.float64)


def protect_tables(
    tables: Sequence[TableToProtect],
    measures: tuple[str, ...],
    protection: Protection,
    *,
    inner: pa.Table | None = None,
    earlier: Sequence[Sequence[ProtectedTable]] = (),
) -> ProtectionReport:
    """Protect ``tables`` together. ``earlier`` holds earlier releases of the same tables
    (each a sequence of :class:`ProtectedTable`): everything they published is known to an
    attacker and everything they hid as primary must stay hidden, so successive releases
    (month after month, sliding windows) never reveal together what each hides alone.
    ``inner`` defaults to the table that holds every dimension; pass the cube's finest cells
    when earlier releases cover periods the current tables no longer show.

    >>> import pyarrow as pa
    >>> t = pa.table({"k": ["a", "b"], "n": [2, 9]})
    >>> tot = TableToProtect("total", "T", pa.table({"n": [11]}), ())
    >>> r = protect_tables([TableToProtect("k", "K", t, ("k",)), tot], ("n",), Protection("n"))
    >>> r.tables[0].table.column("status").to_pylist()  # no rule: nothing to hide
    ['published', 'published']
    """
    # The pattern chosen must not depend on the order the rows come in (ties between equal
    # candidates are broken by position): each table is protected in the order of its
    # dimension values, and its rows are given back in the order they came.
    orders = [_canonical(t.table, t.dimensions) for t in tables]
    tables = [
        t if o is None else dataclasses.replace(t, table=t.table.take(o))
        for t, o in zip(tables, orders, strict=True)
    ]
    if inner is not None:
        dims = [c for c in inner.column_names if any(c in t.dimensions for t in tables)]
        inner_order = _canonical(inner, tuple(dims))
        inner = inner if inner_order is None else inner.take(inner_order)
    report = _protect_in_order(tables, measures, protection, inner, earlier)
    restored = tuple(
        t if o is None else dataclasses.replace(t, table=t.table.take(_inverse(o)))
        for t, o in zip(report.tables, orders, strict=True)
    )
    return dataclasses.replace(report, tables=restored)


def _canonical(table: pa.Table, dimensions: tuple[str, ...]) -> pa.Array | None:
    """The row order of ``table`` by its dimension values (None: already in it)."""
    if not dimensions or table.num_rows < 2:
        return None
    order = pc.sort_indices(table, sort_keys=[(d, "ascending") for d in dimensions])
    if pc.all(pc.equal(order, pa.array(np.arange(table.num_rows)))).as_py():
        return None
    return order


def _inverse(order: pa.Array) -> pa.Array:
    """The permutation that puts rows taken in ``order`` back where they were."""
    positions = np.empty(len(order), dtype=np.int64)
    positions[order.to_numpy()] = np.arange(len(order))
    return pa.array(positions)


def _protect_in_order(
    tables: Sequence[TableToProtect],
    measures: tuple[str, ...],
    protection: Protection,
    inner: pa.Table | None,
    earlier: Sequence[Sequence[ProtectedTable]],
) -> ProtectionReport:
    """:func:`protect_tables` on tables whose rows are in the order of their dimensions."""
    inner_table = _finest(tables).table if inner is None else inner
    measure = protection.measure
    linked = link_tables(inner_table, [(t.name, t.table, t.dimensions) for t in tables])
    x = linked.x
    covered = None
    if inner is not None:
        # The release covers only the inner cells its finest table lists (e.g. a window).
        covered = _covered(inner, tables)
        x = sparse.csc_matrix(x.multiply(covered[:, None]))
        x.eliminate_zeros()
    y = _values(inner_table, measure)
    z = np.concatenate([_values(t.table, measure) for t in tables]) if tables else np.zeros(0)
    listed = [
        Listed(t.name, t.table, t.dimensions, o)
        for t, o in zip(tables, linked.offsets, strict=False)
    ]
    _check_additive(x, y, z, listed, measure)
    know = derive(inner_table, listed, x, y, z, measure, protection.listing, covered)
    if know.known_zero.any():
        # empty by the listing: not unknowns of the attacker's problem
        x = sparse.csc_matrix(x.multiply(~know.known_zero[:, None]))
        x.eliminate_zeros()

    parts = [
        _primary(t.table, t.rules, protection.requirement, z[linked.columns(t.name)])
        for t in tables
    ]
    primary = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    need = np.concatenate([p[2] for p in parts])
    n = x.shape[1]
    forced = np.zeros(n, dtype=bool)
    hidden = np.zeros(n, dtype=bool)
    at_least = know.at_least
    revised = 0
    if earlier:
        x, z, primary, forced, hidden, need, at_least, revised = _with_history(
            x, z, y, primary, need, at_least, inner_table, earlier, measure, know.integer
        )
    if protection.magnitude:
        freq = np.asarray(x.sum(axis=0)).ravel()
        order = magnitude_order(x, z, freq)
        singleton = None
    else:
        order = candidate_order(x, z)
        zeros = any(getattr(r, "zeros", False) for t in tables for r in t.rules)
        singleton = (y == 0) if zeros else (y == 1)
        if not protection.singletons:
            singleton = None
    link = _rate_link(protection, inner_table, x, primary)
    problem = Problem(
        x=x,
        z=z,
        y=y,
        primary=primary,
        required=need,
        forced=forced,
        hidden=hidden,
        singleton=singleton,
        order=order,
        lower=know.lower,
        link=link,
        at_least=at_least,
        integer=know.integer,
    )
    sol = solve(
        problem,
        None,
        audit_mode=protection.audit,
        max_rounds=protection.max_rounds,
        workers=protection.workers,
    )
    report = _report(tables, measures, protection, linked.offsets, sol, labels, z, revised)
    return dataclasses.replace(report, non_empty=know.non_empty, integer=know.integer)


def _rate_link(
    protection: Protection, inner: pa.Table, x: sparse.csc_matrix, primary: np.ndarray
) -> RateLink | None:
    """The amounts an attacker can combine with ``protection.rate_count`` (see
    :class:`Protection`): per inner cell, each amount's rate (amount / count)."""
    if protection.rate_count is None or not protection.rate_amounts:
        return None
    count = _values(inner, protection.rate_count)
    rates = []
    for parts in protection.rate_amounts:
        amount = np.sum([_values(inner, m) for m in parts], axis=0)
        rates.append(np.divide(amount, count, out=np.zeros_like(amount), where=count > 0))
    need = np.where(primary, protection.requirement.width(x.T @ count), 0.0)
    return RateLink(count, tuple(rates), need, is_whole(count))


def _check_additive(
    x: sparse.csc_matrix,
    y: np.ndarray,
    z: np.ndarray,
    tables: Sequence[Listed],
    measure: str,
) -> None:
    got = x.T @ y
    bad = np.abs(got - z) > 1e-6 * np.maximum(1.0, np.abs(z))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        t = next(t for t in tables if t.offset <= first < t.offset + t.table.num_rows)
        rows = np.flatnonzero(bad[t.offset : t.offset + t.table.num_rows])
        raise ProtectionError(
            "protect.not_additive",
            f"table {t.name!r}: {measure} of {int(bad.sum())} cell(s) is not the sum of the "
            f"finest table's cells: {name_cells(t.table, t.dimensions, rows)}",
            hint="only additive measures (counts, sums) can be protected together; protect "
            "distinct counts with their own model. Inner cells passed as inner=… must hold "
            "the same combinations as the tables",
        )


def _with_history(
    x: sparse.csc_matrix,
    z: np.ndarray,
    y: np.ndarray,
    primary: np.ndarray,
    need: np.ndarray,
    at_least: np.ndarray,
    inner: pa.Table,
    earlier: Sequence[Sequence[ProtectedTable]],
    measure: str,
    integer: bool,
) -> tuple[
    sparse.csc_matrix,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    int,
]:
    """Add what earlier releases told: every cell they published becomes a known (forced)
    column, every primary cell they hid a protected column, every secondary cell they hid a
    hidden one (its listing still tells something), all over the inner cells that existed
    then (the earlier release's finest table), so a total that has grown since (a year
    published in March and again in April) is modelled as it was. A hidden cell of an
    earlier table that published only non-empty cells is known to hold at least 1 (whole
    numbers). These columns are not output; where one equals a current cell, the Gauss
    stage merges them."""
    n = x.shape[1]
    cols: list[sparse.csc_matrix] = []
    extra_z: list[np.ndarray] = []
    extra_p: list[np.ndarray] = []
    extra_h: list[np.ndarray] = []
    extra_a: list[np.ndarray] = []
    revised = 0
    for release in earlier:
        usable = [t for t in release if set(t.dimensions) <= set(inner.column_names)]
        existed = _covered(inner, usable)
        for old in usable:
            if measure not in old.table.column_names:
                continue
            status = np.asarray(old.table.column(STATUS_COLUMN).to_pylist(), dtype=object)
            shown = status == "published"
            if not len(status):
                continue
            sub = old.table
            member = link_tables(inner, [(old.name, sub, old.dimensions)]).x
            member = sparse.csc_matrix(member.multiply(existed[:, None]))
            member.eliminate_zeros()
            agg = member.T @ y
            was_primary = status == "primary"
            was_hidden = ~shown & ~was_primary
            val = _values(sub, measure)
            same = np.abs(agg - val) <= 1e-6 * np.maximum(1.0, np.abs(val))
            revised += int((shown & ~same).sum())
            # what the table's listing told then (its shown values: all above 0)
            floor = 1.0 if integer and bool((val[shown] > 0).all()) else 0.0
            use = (was_primary | was_hidden | (shown & same)) & (np.diff(member.indptr) > 0)
            cols.append(sparse.csc_matrix(member[:, np.flatnonzero(use)]))
            extra_z.append(agg[use])
            extra_p.append(was_primary[use])
            extra_h.append(was_hidden[use])
            # a floor only where it holds for the data as it is now (a revised cell may not)
            extra_a.append(np.where(~shown[use] & (agg[use] >= floor), floor, 0.0))
    forced = np.zeros(n, dtype=bool)
    hidden = np.zeros(n, dtype=bool)
    if cols:
        x = sparse.hstack([x, *cols], format="csc")
        z = np.concatenate([z, *extra_z])
        old_primary = np.concatenate(extra_p)
        old_hidden = np.concatenate(extra_h)
        primary = np.concatenate([primary, old_primary])
        forced = np.concatenate([forced, ~old_primary & ~old_hidden])
        hidden = np.concatenate([hidden, old_hidden])
        need = np.concatenate([need, np.zeros(len(old_primary))])
        at_least = np.concatenate([at_least, *extra_a])
    return x, z, primary, forced, hidden, need, at_least, revised


def _report(
    tables: Sequence[TableToProtect],
    measures: tuple[str, ...],
    protection: Protection,
    offsets: tuple[int, ...],
    sol: Solution,
    labels: np.ndarray,
    z: np.ndarray,
    revised: int,
) -> ProtectionReport:
    primary = sol.suppressed & ~sol.secondary
    width = sol.up - sol.lo
    sup = sol.suppressed[: offsets[-1]]
    # primary cells this release protects (not those earlier releases already disclosed)
    held = sup & ~sol.secondary[: offsets[-1]] & ~sol.unsafe[: offsets[-1]]
    if (sol.required[: offsets[-1]][held] > 0).any():
        held &= sol.required[: offsets[-1]] > 0  # cells with a width requirement
    widths = width[: offsets[-1]][held]
    widths = widths[~np.isnan(widths)]
    narrowest = float(widths.min()) if len(widths) else float("inf")
    report = ProtectionReport(
        tables=(),
        intervals={},
        primary=int(primary[: offsets[-1]].sum()),
        secondary=int(sol.secondary[: offsets[-1]].sum()),
        extra=int(sol.extra[: offsets[-1]].sum()),
        unsafe=int(sol.unsafe[: offsets[-1]].sum()),
        rounds=sol.rounds,
        lps=sol.lps,
        narrowest=narrowest,
        requirement=protection.requirement.label,
    )
    note = report.summary()
    if revised:
        note += f"; {revised} cell(s) differ from an earlier release (revised data)"
    out: list[ProtectedTable] = []
    intervals: dict[str, pa.Table] = {}
    for i, t in enumerate(tables):
        s = slice(offsets[i], offsets[i + 1])
        supp = sol.suppressed[s]
        status = np.where(supp, np.where(sol.secondary[s], "secondary", "primary"), "published")
        rule = np.where(sol.secondary[s], "secondary", np.where(supp, labels[s], ""))
        mask = pa.array(supp)
        cols: dict[str, pa.Array | pa.ChunkedArray] = {d: t.table.column(d) for d in t.dimensions}
        for mname in measures:
            col = t.table.column(mname)
            cols[mname] = pc.if_else(mask, pa.scalar(None, col.type), col)
        cols[STATUS_COLUMN] = pa.array(status.astype(str), pa.string())
        cols[RULE_COLUMN] = pa.array(rule.astype(str), pa.string())
        out.append(
            ProtectedTable(
                name=t.name,
                title=t.title,
                dimensions=t.dimensions,
                measures=measures,
                table=pa.table(cols),
                notes=(*t.notes, note),
            )
        )
        idx = np.flatnonzero(supp)
        iv = {d: t.table.column(d).take(pa.array(idx)) for d in t.dimensions}
        iv[protection.measure] = pa.array(z[s][idx])
        iv["lo"] = pa.array(sol.lo[s][idx])
        iv["up"] = pa.array(sol.up[s][idx])
        iv["required"] = pa.array(sol.required[s][idx])
        iv["exact"] = pa.array(sol.exact[s][idx])
        intervals[t.name] = pa.table(iv)
    return ProtectionReport(
        tables=tuple(out),
        intervals=intervals,
        primary=report.primary,
        secondary=report.secondary,
        extra=report.extra,
        unsafe=report.unsafe,
        rounds=report.rounds,
        lps=report.lps,
        narrowest=report.narrowest,
        requirement=report.requirement,
    )


__all__ = ["Protection", "ProtectionReport", "TableToProtect", "protect_tables"]
