"""Phase 2: every grouping of a cube from the finest table, with numpy, on one machine.

The finest table (one row per combination of the finest levels, additive measures only) is
small next to the raw rows, so phase 2 is engine-independent and runs where the caller is:

1. Each dimension is dictionary-encoded once: its distinct values sorted (nulls last) and
   every row replaced by the rank of its value. Rollups (:class:`Prefix`, :class:`Lookup`)
   are applied to the *dictionary*, a few hundred values, giving a code → parent-code array;
   a row is rolled up by indexing that array (no string work and no join per row).
2. A grouping's codes are packed into one dense group id that keeps their lexicographic
   order (mixed radix, renumbered through a present-flag array when the range grows; a
   sort only when two dims have huge cardinalities), and the measures are summed per id
   with ``np.bincount``. Because codes follow the sorted values, ids do too: the result is
   in output order (dimension columns ascending, nulls last) without sorting a row.
3. Groupings are derived from the smallest grouping already computed that is at least as
   fine in every hierarchy (a cube lattice): ``fylke × år`` comes from ``fylke × måned``,
   not from the finest table.

Float sums are added in the order of the parent's rows, which are sorted by key, so the
same finest table always gives the same bits. (Phase 1 adds floats in the engine's order:
amounts that are not exact in binary can differ in the last bit between runs or engines;
integer øre are exact everywhere.)

>>> import pyarrow as pa
>>> from helsestat.model.cube import CubeSpec, Hierarchy, Level, Measure, Prefix
>>> geo = Hierarchy("geo", (Level("kommune", column="kommunenr"), Level("fylke", rollup=Prefix(2))))
>>> spec = CubeSpec("demo", (geo,), (Measure("antall", "count"),))
>>> fin = pa.table({"kommune": ["0301", "1103", "1108"], "antall": [5, 2, 1]})
>>> rollup(fin, spec).tables[("fylke",)].to_pydict()
{'fylke': ['03', '11'], 'antall': [5, 3]}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from helsestat import model
from helsestat.aggregate.plan import GID, DimPlan, Plan, compile_plan
from helsestat.errors import EngineError
from helsestat.model.cube import CubeSpec, Lookup, Prefix

Codes = npt.NDArray[np.int64]
#: Packed key ranges up to max(_DENSE_FACTOR × rows, _DENSE_MIN) are renumbered densely.
_DENSE_FACTOR = 12
# (a floor of 1 << 22 made every renumbering of a month's table a 4-million-slot cumsum:
# past the limit, sorting the few rows is cheaper)
_DENSE_MIN = 1 << 16
#: Show at most this many unmapped values in a lookup error.
_SHOW_MISSING = 5


@dataclass(frozen=True)
class _Dictionary:
    """Sorted distinct values of one level; code ``len(values)`` stands for null."""

    values: tuple[str, ...]

    @property
    def card(self) -> int:
        return len(self.values) + 1

    def decode(self, codes: Codes) -> pa.Array:
        return pa.array([*self.values, None], pa.string()).take(pa.array(codes))

    def encode(self, column: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
        """Codes of ``column``'s values; -1 for a value not in the dictionary."""
        codes = pc.index_in(column, value_set=pa.array(self.values, pa.string()))
        codes = pc.if_else(pc.is_null(column), len(self.values), codes.fill_null(-1))
        return np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64)


@dataclass(frozen=True)
class _Dim:
    """A dim's dictionaries per level and the code maps from each level to the next."""

    plan: DimPlan
    levels: tuple[_Dictionary, ...]
    up: tuple[Codes, ...]

    def to_level(self, codes: Codes, source: int, target: int) -> Codes:
        for step in self.up[source:target]:
            codes = step[codes]
        return codes


@dataclass(frozen=True)
class _Grouped:
    """One grouping in code space: unique keys, sorted; measure sums and their validity."""

    levels: tuple[int | None, ...]
    codes: tuple[Codes | None, ...]
    sums: tuple[npt.NDArray[np.generic], ...]
    #: Per sum: which groups have a non-null value (None: all of them).
    valid: tuple[npt.NDArray[np.bool_] | None, ...]
    rows: int
    #: Per sum: True when its float64 sums are exact (see :func:`_sum`).
    exact: tuple[bool, ...]


def _encode(column: pa.ChunkedArray) -> tuple[Codes, _Dictionary]:
    """Codes of a text column: the ranks of its values in code-point order, null last."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    found = encoded.dictionary.to_pylist()
    order = sorted(range(len(found)), key=found.__getitem__)
    rank = np.empty(len(found) + 1, dtype=np.int64)
    rank[order] = np.arange(len(found))
    rank[len(found)] = len(found)
    indices = encoded.indices.fill_null(len(found)).to_numpy(zero_copy_only=False)
    return rank[indices], _Dictionary(tuple(found[i] for i in order))


def _roll(
    spec: CubeSpec, level: str, rollup: Prefix | Lookup, values: tuple[str, ...]
) -> list[str]:
    """The values of ``level`` for the (non-null) values of the level below it."""
    if isinstance(rollup, Prefix):
        return [v[: rollup.length] for v in values]
    table = dict(rollup.pairs)
    missing = [v for v in values if v not in table]
    if missing and rollup.default is None:
        shown = ", ".join(repr(v) for v in missing[:_SHOW_MISSING])
        more = f" and {len(missing) - _SHOW_MISSING} more" if len(missing) > _SHOW_MISSING else ""
        raise EngineError(
            "aggregate.lookup_missing",
            f"cube {spec.name!r}: level {level!r} has no mapping for {shown}{more}",
            hint=f"add the values to the lookup of {level!r} or give it a default",
        )
    return [table.get(v, rollup.default or "") for v in values]


def _dim(spec: CubeSpec, plan: DimPlan, finest: _Dictionary) -> _Dim:
    """Dictionaries of every level of a dim, rolled up from the finest one."""
    levels, up = [finest], []
    for _, name, rollup in plan.steps():
        parent = levels[-1]
        mapped = _roll(spec, name, rollup, parent.values)
        child = _Dictionary(tuple(sorted(set(mapped))))
        index = {v: i for i, v in enumerate(child.values)}
        up.append(np.array([index[v] for v in mapped] + [len(child.values)], dtype=np.int64))
        levels.append(child)
    return _Dim(plan, tuple(levels), tuple(up))


def _group(keys: Sequence[tuple[Codes, int]], rows: int) -> tuple[Codes, int]:
    """A group id per row and the number of groups. Ids ascend in the lexicographic order of
    the keys (codes with their cardinality), so groups come out sorted without a sort.

    Adjacent keys are packed mixed-radix, halves first (a balanced tree keeps the ranges
    small); a packed range that outgrows the rows is renumbered densely through a
    present-flag array, which keeps the order and costs O(rows + range)."""
    if rows == 0:
        return np.zeros(0, dtype=np.int64), 0
    if not keys:
        return np.zeros(rows, dtype=np.int64), 1
    limit = max(_DENSE_FACTOR * rows, _DENSE_MIN)
    return _renumber(*_pack(keys, limit), limit)


def _pack(keys: Sequence[tuple[Codes, int]], limit: int) -> tuple[Codes, int]:
    if len(keys) == 1:
        return keys[0]
    (high, high_card), (low, low_card) = (_pack(half, limit) for half in _halves(keys))
    if high_card * low_card > limit:
        (high, high_card), (low, low_card) = (
            _renumber(high, high_card, limit),
            _renumber(low, low_card, limit),
        )
    return high * low_card + low, high_card * low_card


def _halves(
    keys: Sequence[tuple[Codes, int]],
) -> tuple[Sequence[tuple[Codes, int]], Sequence[tuple[Codes, int]]]:
    """Split where the cardinality products of the two sides are closest."""
    logs = np.cumsum([np.log(card) for _, card in keys])
    split = int(np.argmin(np.abs(logs[:-1] - (logs[-1] - logs[:-1])))) + 1
    return keys[:split], keys[split:]


def _renumber(packed: Codes, card: int, limit: int) -> tuple[Codes, int]:
    """Dense ids 0..n-1 for the distinct values of ``packed`` (in [0, card)), in order."""
    if card <= limit:
        present = np.zeros(card, dtype=np.bool_)
        present[packed] = True
        rank = np.cumsum(present, dtype=np.int32 if card < 2**31 else np.int64)
        return rank[packed].astype(np.int64) - 1, int(rank[-1])
    # A range far beyond the rows (two high-cardinality dims): sort instead. Both sides were
    # renumbered to at most ``rows`` values first, so ``card`` <= rows**2 fits in int64.
    distinct, ids = np.unique(packed, return_inverse=True)
    return ids.astype(np.int64).reshape(-1), len(distinct)


def _sum(
    ids: Codes, groups: int, values: npt.NDArray[np.generic], exact: bool
) -> npt.NDArray[np.generic]:
    """Sum ``values`` per group. ``np.bincount`` adds in float64, exact for integers while
    every sum stays below 2**53 (``exact``); beyond that ``np.add.at`` adds in int64."""
    if values.dtype.kind == "f" or exact:
        sums = np.bincount(ids, weights=values, minlength=groups)
        return sums if values.dtype.kind == "f" else np.rint(sums).astype(values.dtype)
    out = np.zeros(groups, dtype=values.dtype)
    np.add.at(out, ids, values)
    return out


def _derive(dims: Sequence[_Dim], parent: _Grouped, levels: tuple[int | None, ...]) -> _Grouped:
    codes: list[Codes | None] = []
    keys: list[tuple[Codes, int]] = []
    for dim, source, target, parent_codes in zip(
        dims, parent.levels, levels, parent.codes, strict=True
    ):
        if target is None:
            codes.append(None)
            continue
        assert source is not None and parent_codes is not None and source <= target
        rolled = dim.to_level(parent_codes, source, target)
        codes.append(rolled)
        keys.append((rolled, dim.levels[target].card))
    ids, groups = _group(keys, parent.rows)

    def first(values: Codes) -> Codes:
        # Every row of a group carries the group's code, so any write order is right.
        out = np.empty(groups, dtype=np.int64)
        out[ids] = values
        return out

    def any_valid(valid: npt.NDArray[np.bool_] | None) -> npt.NDArray[np.bool_] | None:
        if valid is None:
            return None
        out = np.zeros(groups, dtype=np.bool_)
        out[ids[valid]] = True
        return out

    return _Grouped(
        levels,
        tuple(None if c is None else first(c) for c in codes),
        tuple(_sum(ids, groups, s, e) for s, e in zip(parent.sums, parent.exact, strict=True)),
        tuple(any_valid(v) for v in parent.valid),
        groups,
        parent.exact,
    )


def _finest(spec: CubeSpec, plan: Plan, table: pa.Table) -> tuple[list[_Dim], _Grouped]:
    """Encode the finest table and group it at the finest levels (summing duplicate keys, so
    concatenated per-partition tables need no merge first)."""
    _check_finest(plan, table)
    dims, codes = [], []
    for plan_dim in plan.dims:
        dim_codes, dictionary = _encode(table.column(plan_dim.key))
        dims.append(_dim(spec, plan_dim, dictionary))
        codes.append(dim_codes)
    sums, valid, exact = [], [], []
    for m in plan.additive:
        column = table.column(m.name)
        nulls = column.null_count > 0
        valid.append(np.asarray(pc.is_valid(column).to_numpy(), dtype=np.bool_) if nulls else None)
        filled = column.cast(m.dtype).fill_null(0).to_numpy()
        exact.append(_bound(spec, m.name, filled) < 2.0**53)
        sums.append(filled)
    levels = tuple(0 for _ in dims)
    raw = _Grouped(levels, tuple(codes), tuple(sums), tuple(valid), table.num_rows, tuple(exact))
    return dims, _derive(dims, raw, levels)


def _check_finest(plan: Plan, table: pa.Table) -> None:
    for column in plan.finest_schema.names:
        if column not in table.column_names:
            raise EngineError(
                "aggregate.bad_finest",
                f"cube {plan.spec.name!r}: column {column!r} missing in the finest table",
                hint="build it with finest() for the same spec",
            )


def _bound(spec: CubeSpec, name: str, values: npt.NDArray[np.generic]) -> float:
    """The sum of absolute values: it bounds every partial sum of the column."""
    if values.dtype.kind == "f":
        return 0.0
    bound = float(np.abs(values.astype(np.float64)).sum())
    if bound >= 2.0**63:
        raise EngineError(
            "aggregate.overflow",
            f"cube {spec.name!r}: sums of {name!r} may exceed the int64 range",
            hint="sum a float column, or split the cube",
        )
    return bound


def _lattice(plan: Plan, dims: Sequence[_Dim], finest: _Grouped) -> dict[model.Grouping, _Grouped]:
    """Every grouping, each from the smallest finer grouping computed before it."""
    done: dict[tuple[int | None, ...], _Grouped] = {finest.levels: finest}

    def fineness(levels: tuple[int | None, ...]) -> int:
        return sum(d.plan.depth if i is None else i for d, i in zip(dims, levels, strict=True))

    def covers(parent: tuple[int | None, ...], child: tuple[int | None, ...]) -> bool:
        return all(
            c is None or (p is not None and p <= c) for p, c in zip(parent, child, strict=True)
        )

    for levels in sorted(set(plan.grouping_levels.values()), key=fineness):
        if levels not in done:
            parents = [g for lv, g in done.items() if covers(lv, levels)]
            done[levels] = _derive(dims, min(parents, key=lambda g: g.rows), levels)
    return {g: done[levels] for g, levels in plan.grouping_levels.items()}


def _table(
    plan: Plan, grouping: model.Grouping, dims: Sequence[_Dim], grouped: _Grouped
) -> pa.Table:
    schema = plan.output_schema(grouping)
    columns: list[pa.Array] = []
    for dim, level, codes in zip(dims, grouped.levels, grouped.codes, strict=True):
        if level is not None and codes is not None:
            columns.append(dim.levels[level].decode(codes))
    names = [m.name for m in plan.additive]
    additive = dict(zip(names, zip(grouped.sums, grouped.valid, strict=True), strict=True))
    for m in plan.measures:
        if m.kind == "count_distinct":
            columns.append(pa.nulls(grouped.rows, pa.int64()))  # filled by _attach_distinct
        else:
            values, valid = additive[m.name]
            columns.append(pa.array(values, m.dtype, mask=None if valid is None else ~valid))
    return pa.Table.from_arrays(columns, schema=schema)


def _attach_distinct(
    plan: Plan,
    dims: Sequence[_Dim],
    grouped: Mapping[model.Grouping, _Grouped],
    tables: dict[model.Grouping, pa.Table],
    distinct: pa.Table,
) -> None:
    """Put the count-distinct pass's values into the tables, matching rows by their codes."""
    gid = distinct.column(GID)
    for grouping, table in tables.items():
        part = distinct.filter(pc.equal(gid, plan.mask(plan.set_of(grouping))))
        target = grouped[grouping]
        keys: list[tuple[Codes, int]] = []
        for dim, level, codes in zip(dims, target.levels, target.codes, strict=True):
            if level is None or codes is None:
                continue
            dictionary = dim.levels[level]
            found = dictionary.encode(part.column(dim.plan.names[level]))
            keys.append((found, dictionary.card))
        known = all(bool((found >= 0).all()) for found, _ in keys)
        ids, groups = _group(keys, part.num_rows) if known else (np.zeros(0, np.int64), -1)
        same = groups == part.num_rows == table.num_rows
        for (found, _), codes in zip(keys, [c for c in target.codes if c is not None], strict=True):
            if same and codes is not None:
                placed = np.full(groups, -1, dtype=np.int64)
                placed[ids] = found
                same = bool(np.array_equal(placed, codes))
        if not same:
            raise EngineError(
                "aggregate.pass_mismatch",
                f"cube {plan.spec.name!r}: the count-distinct pass found other groups than "
                f"the additive pass for {grouping}",
                hint="this is a bug in the engine; report it with the spec",
            )
        for m in plan.distinct:
            values = np.zeros(groups, dtype=np.int64)
            values[ids] = part.column(m.internal).cast(pa.int64()).fill_null(0).to_numpy()
            index = table.schema.get_field_index(m.name)
            table = table.set_column(index, table.schema.field(index), pa.array(values))
        tables[grouping] = table


def build_cube(
    plan: Plan, finest: pa.Table, distinct: Callable[[], pa.Table] | None = None
) -> model.Cube:
    """Phase 2 for a compiled plan: the cube from the finest table, plus the result of the
    count-distinct pass when the spec has such measures (used by :func:`aggregate`). The
    pass is called only after the rollups succeeded, so a bad lookup fails fast.

    >>> from helsestat.model.cube import CubeSpec
    >>> plan = compile_plan(CubeSpec("tom", (), ()))
    >>> build_cube(plan, plan.finest_schema.empty_table()).tables[()].num_rows
    0
    """
    dims, finest_grouped = _finest(plan.spec, plan, finest)
    grouped = _lattice(plan, dims, finest_grouped)
    tables = {g: _table(plan, g, dims, grouped[g]) for g in plan.spec.all_groupings()}
    if plan.distinct and distinct is not None and finest.num_rows:
        _attach_distinct(plan, dims, grouped, tables, distinct())
    return model.Cube(plan.spec, tables)


def rollup(finest_table: pa.Table, spec: CubeSpec) -> model.Cube:
    """Phase 2: every grouping of ``spec`` from a finest table made by
    :func:`~helsestat.aggregate.finest` (or several of them concatenated: duplicate keys are
    summed). Only additive measures can be rolled up; a spec with ``count_distinct`` needs
    :func:`~helsestat.aggregate.aggregate`.

    >>> from helsestat.model.cube import Hierarchy, Level, Measure, Total
    >>> geo = Hierarchy("geo", (Level("kommune", column="k"), Level("landet", rollup=Total())))
    >>> spec = CubeSpec("demo", (geo,), (Measure("kr", "sum", "belop"),))
    >>> fin = pa.table({"kommune": ["0301", None], "kr": [2.5, 1.0]})
    >>> rollup(fin, spec).tables[("landet",)].to_pydict()
    {'kr': [3.5]}
    """
    plan = compile_plan(spec, finest=finest_table.schema)
    if plan.distinct:
        raise EngineError(
            "aggregate.not_additive",
            f"cube {spec.name!r}: count_distinct measures "
            f"({', '.join(m.name for m in plan.distinct)}) cannot be rolled up from sums",
            hint="use aggregate() on the Parquet files for this spec",
        )
    return build_cube(plan, finest_table)


def merge_finest(tables: Sequence[pa.Table], spec: CubeSpec) -> pa.Table:
    """Merge finest tables of disjoint sets of rows (e.g. one per month partition) into one,
    summing the additive measures of equal keys: the cache step of incremental refresh.

    >>> from helsestat.model.cube import Hierarchy, Level, Measure
    >>> spec = CubeSpec("demo", (Hierarchy("geo", (Level("kommune", column="k"),)),),
    ...                 (Measure("antall", "count"),))
    >>> a = pa.table({"kommune": ["0301"], "antall": [2]})
    >>> b = pa.table({"kommune": ["0301", "1103"], "antall": [1, 4]})
    >>> merge_finest([a, b], spec).to_pydict()
    {'kommune': ['0301', '1103'], 'antall': [3, 4]}
    """
    plan = compile_plan(spec, finest=tables[0].schema if tables else None)
    # Only the finest level of each dim: merging needs no rollup (nor its lookups).
    plan = replace(plan, dims=tuple(replace(d, depth=1) for d in plan.dims))
    schema = plan.finest_schema
    for t in tables:
        _check_finest(plan, t)
    table = (
        pa.concat_tables(
            [t.select(schema.names).cast(schema) for t in tables], promote_options="none"
        )
        if tables
        else schema.empty_table()
    )
    dims, grouped = _finest(spec, plan, table)
    columns = [
        d.levels[0].decode(c) for d, c in zip(dims, grouped.codes, strict=True) if c is not None
    ]
    columns += [
        pa.array(s, m.dtype, mask=None if v is None else ~v)
        for m, s, v in zip(plan.additive, grouped.sums, grouped.valid, strict=True)
    ]
    return pa.Table.from_arrays(columns, schema=schema)


__all__ = ["build_cube", "merge_finest", "rollup"]
