"""Cubes queried by any month range: flows summed over the range and distinct counts that are
distinct over the range — never sums of months — answered in microseconds per row.

A :class:`RangeSpec` names hierarchical *paths* of dimension columns (coarse → fine, e.g.
``("lan", "vardgivare", "vardenhet")`` and ``("process", "moment")``), additive *flows*
(integer columns summed per month) and *distinct* measures (entities counted once, optionally
split, e.g. by kön). A *node* is one prefix of every path (``lan=01``, every process): the
rows of a table and the filters of a query are nodes.

:func:`build_ranges` computes, on DuckDB, from a table of flow facts and one table of
entity *appearances* (entity, month, finest levels, splits) per distinct measure:

- the nodes (every combination of path prefixes that has data);
- per node and month, the flows, kept cumulative, so the sum over ``[a, b]`` is two
  look-ups and a stock at a month end (started − finished up to it) is one;
- per node, split and entity, each month it appears with the month it last appeared before
  (``prev``), counted as points ``(month, prev, n)``. An entity has exactly one appearance in
  ``[a, b]`` whose ``prev`` is before ``a`` — its first in the range — so the distinct count
  over ``[a, b]`` is the number of points with ``a ≤ month ≤ b`` and ``prev < a``: one slice
  of a sorted array and a masked sum, whatever the range.

:class:`RangeCube` holds the result as numpy arrays (loaded from the Arrow tables a release
stores) and answers :meth:`RangeCube.flows`, :meth:`RangeCube.stock` and
:meth:`RangeCube.distinct` for many nodes at once, vectorised.

Months are integers ``year * 12 + month - 1`` (:func:`month_index`).

>>> import pyarrow as pa
>>> spec = RangeSpec("demo", (("lan", "enhet"),), ("started",), (Distinct("persons"),))
>>> flows = pa.table({"lan": ["01", "01", "03"], "enhet": ["a", "b", "c"],
...     "month": [24300, 24301, 24301], "started": [2, 1, 4]})
>>> seen = pa.table({"lan": ["01", "01", "01"], "enhet": ["a", "b", "a"],
...     "month": [24300, 24301, 24301], "entity": [7, 7, 8]})
>>> from helsestat.aggregate import DuckDBEngine
>>> with DuckDBEngine(threads=1) as engine:
...     cube = RangeCube(spec, build_ranges(spec, flows, {"persons": seen}, engine))
>>> lan01 = cube.node({"lan": "01"})
>>> int(cube.flows([lan01], 24300, 24301)[0, 0])
3
>>> int(cube.distinct("persons", [lan01], 24300, 24301)[0])
2
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.aggregate.duckdb_engine import DuckDBEngine
from helsestat.errors import HelsestatError, QueryError

#: The column of the flow facts and appearances that holds the month index.
MONTH = "month"
#: The column of an appearances table that holds the entity (an integer id).
ENTITY = "entity"
NODE = "node"
GROUP_ID = "g"


def month_index(year: int, month: int) -> int:
    """The integer of a month: ``year * 12 + month - 1``.

    >>> month_index(2015, 10), month_index(2016, 1) - month_index(2015, 12)
    (24189, 1)
    """
    return year * 12 + month - 1


def month_text(index: int, dash: bool = True) -> str:
    """A month index as text (``2015-10``, or ``201510`` without the dash).

    >>> month_text(24189), month_text(24189, dash=False)
    ('2015-10', '201510')
    """
    year, month = divmod(index, 12)
    return f"{year}-{month + 1:02d}" if dash else f"{year}{month + 1:02d}"


@dataclass(frozen=True)
class Distinct:
    """A distinct measure: entities counted once over any range, per node and per
    combination of the ``splits`` columns of its appearances."""

    name: str
    splits: tuple[str, ...] = ()


@dataclass(frozen=True)
class RangeSpec:
    """Paths of dimension columns (coarse → fine), flows and distinct measures."""

    name: str
    paths: tuple[tuple[str, ...], ...]
    flows: tuple[str, ...] = ()
    distinct: tuple[Distinct, ...] = ()

    @property
    def levels(self) -> tuple[str, ...]:
        """Every level column, path after path."""
        return tuple(level for path in self.paths for level in path)

    def grouping_sets(self) -> list[tuple[str, ...]]:
        """Every combination of path prefixes, coarsest first."""
        sets: list[tuple[str, ...]] = [()]
        for path in self.paths:
            sets = [s + path[:depth] for s in sets for depth in range(len(path) + 1)]
        return sets


@dataclass(frozen=True)
class RangeTables:
    """What :func:`build_ranges` computes, as Arrow tables (a release stores them):
    ``nodes`` (node id, grouping id, level columns), ``flows`` (node, month, cumulative
    flows) and per distinct measure its points (node, split id, month, prev, n) and its
    ``splits`` (split id, split columns)."""

    nodes: pa.Table
    flows: pa.Table
    points: Mapping[str, pa.Table]
    splits: Mapping[str, pa.Table]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sets_sql(sets: Sequence[tuple[str, ...]], extra: Sequence[str]) -> str:
    return ", ".join("(" + ", ".join(_q(c) for c in (*s, *extra)) + ")" for s in sets)


def _node_join(levels: Sequence[str]) -> str:
    conditions = [f"n.{GROUP_ID} = r.{GROUP_ID}"]
    conditions += [f"n.{_q(c)} IS NOT DISTINCT FROM r.{_q(c)}" for c in levels]
    return " AND ".join(conditions)


def build_ranges(
    spec: RangeSpec,
    flows: pa.Table,
    appearances: Mapping[str, pa.Table],
    engine: DuckDBEngine,
) -> RangeTables:
    """The nodes, cumulative flows and distinct points of ``spec`` (see the module text).

    ``flows``: the level columns, ``month`` and the flow columns (rows of one node and month
    are summed). ``appearances[name]``: the level columns, ``month``, ``entity`` and the
    measure's split columns; duplicates count once. Level values must not be null.
    """
    levels = spec.levels
    for name, table in {"flows": flows, **appearances}.items():
        for column in levels:
            if column in table.column_names and table[column].null_count:
                raise HelsestatError(
                    "aggregate.null_level",
                    f"range cube {spec.name!r}: level {column!r} of {name} has null values",
                    hint="code an unknown value explicitly before the range cube is built",
                )
    sets = spec.grouping_sets()
    cols = ", ".join(_q(c) for c in levels)
    grouping = f"GROUPING({cols})"
    finest = " UNION ".join(
        f"SELECT DISTINCT {cols} FROM {name}"
        for name in ["flows", *(f"app_{i}" for i in range(len(spec.distinct)))]
    )
    tables: dict[str, pa.Table] = {"flows": flows}
    for i, measure in enumerate(spec.distinct):
        tables[f"app_{i}"] = appearances[measure.name]
    cursor = engine._cursor()  # one connection: the node table is shared by the queries
    try:
        for name, table in tables.items():
            cursor.register(name, table)
        cursor.execute(
            f"CREATE TEMP TABLE nodes AS SELECT (row_number() OVER (ORDER BY {GROUP_ID} DESC, "
            f"{cols}) - 1)::INTEGER AS {NODE}, * FROM (SELECT {grouping} AS {GROUP_ID}, {cols} "
            f"FROM ({finest}) GROUP BY GROUPING SETS ({_sets_sql(sets, ())}))"
        )
        nodes = cursor.sql(f"SELECT * FROM nodes ORDER BY {NODE}").to_arrow_table()
        sums = ", ".join(f"SUM({_q(f)})::BIGINT AS {_q(f)}" for f in spec.flows)
        cums = ", ".join(
            f"(SUM({_q(f)}) OVER (PARTITION BY {NODE} ORDER BY {MONTH}))::BIGINT AS {_q(f)}"
            for f in spec.flows
        )
        flow_sql = (
            f"WITH r AS (SELECT {grouping} AS {GROUP_ID}, {cols}, {MONTH}"
            + (f", {sums}" if sums else "")
            + f" FROM flows GROUP BY GROUPING SETS ({_sets_sql(sets, (MONTH,))})) "
            f"SELECT n.{NODE}, r.{MONTH}::INTEGER AS {MONTH}"
            + (f", {cums}" if cums else "")
            + f" FROM r JOIN nodes n ON {_node_join(levels)} ORDER BY n.{NODE}, r.{MONTH}"
        )
        flow_table = cursor.sql(flow_sql).to_arrow_table()
        points: dict[str, pa.Table] = {}
        splits: dict[str, pa.Table] = {}
        for i, measure in enumerate(spec.distinct):
            split_cols = [_q(c) for c in measure.splits]
            split_list = ", ".join(split_cols)
            split_sel = (split_list + ", ") if split_cols else ""
            splits_sql = (
                f"SELECT (row_number() OVER (ORDER BY {split_list}) - 1)::INTEGER AS split, "
                f"{split_list} FROM (SELECT DISTINCT {split_list} FROM app_{i})"
                if split_cols
                else "SELECT 0::INTEGER AS split"
            )
            cursor.execute(f"CREATE OR REPLACE TEMP TABLE splits_{i} AS {splits_sql}")
            split_join = (
                f" JOIN splits_{i} s ON "
                + " AND ".join(f"s.{c} IS NOT DISTINCT FROM p.{c}" for c in split_cols)
                if split_cols
                else f" CROSS JOIN splits_{i} s"
            )
            r_splits = "".join(f"r.{c}, " for c in split_cols)
            p_splits = "".join(f", r.{c}" for c in split_cols)
            point_sql = (
                f"WITH a AS (SELECT DISTINCT {cols}, {split_sel}{ENTITY}, {MONTH} FROM app_{i}), "
                f"r AS (SELECT {grouping} AS {GROUP_ID}, {cols}, {split_sel}{ENTITY}, {MONTH} "
                f"FROM a GROUP BY GROUPING SETS "
                f"({_sets_sql(sets, (*measure.splits, ENTITY, MONTH))})), "
                f"p AS (SELECT n.{NODE}, {r_splits}r.{MONTH}, "
                f"LAG(r.{MONTH}, 1, -1) OVER (PARTITION BY n.{NODE}{p_splits}, r.{ENTITY} "
                f"ORDER BY r.{MONTH}) AS prev FROM r JOIN nodes n ON {_node_join(levels)}) "
                f"SELECT p.{NODE}, s.split, p.{MONTH}::INTEGER AS {MONTH}, "
                f"p.prev::INTEGER AS prev, COUNT(*)::INTEGER AS n FROM p{split_join} "
                f"GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
            )
            points[measure.name] = cursor.sql(point_sql).to_arrow_table()
            splits[measure.name] = cursor.sql(
                f"SELECT * FROM splits_{i} ORDER BY split"
            ).to_arrow_table()
    finally:
        cursor.close()
    return RangeTables(nodes, flow_table, points, splits)


@dataclass
class _Points:
    key: np.ndarray  # int64, sorted: (node * splits + split) * span + (month - first)
    prev: np.ndarray  # month index, -1 for the first appearance
    count: np.ndarray
    splits: pa.Table
    width: int


@dataclass
class RangeCube:
    """A built range cube in memory (see the module text)."""

    spec: RangeSpec
    tables: RangeTables
    first: int = 0
    span: int = 1
    _node_ids: dict[tuple[object, ...], int] = field(default_factory=dict)
    _levels: list[tuple[str | None, ...]] = field(default_factory=list)
    _parents: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    _children: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    _flow_key: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    _flow_cum: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    _points: dict[str, _Points] = field(default_factory=dict)

    def __post_init__(self) -> None:
        spec, tables = self.spec, self.tables
        months = [pc.min(tables.flows[MONTH]).as_py(), pc.max(tables.flows[MONTH]).as_py()]
        for points in tables.points.values():
            months += [pc.min(points[MONTH]).as_py(), pc.max(points[MONTH]).as_py()]
        known = [m for m in months if m is not None]
        self.first = min(known) if known else 0
        self.span = (max(known) - self.first + 2) if known else 1
        names = spec.levels
        columns = [tables.nodes[c].to_pylist() for c in names]
        for node, values in enumerate(zip(*columns, strict=True)):
            self._levels.append(tuple(values))
            self._node_ids[tuple(values)] = node
        for path in spec.paths:
            for depth in range(1, len(path)):
                child, parent = path[depth], path[depth - 1]
                at_child, at_parent = names.index(child), names.index(parent)
                parents: dict[str, set[str]] = {}
                for v in self._levels:
                    if v[at_child] is not None:
                        parents.setdefault(str(v[at_child]), set()).add(str(v[at_parent]))
                self._parents[child] = parents
        for node, values in enumerate(self._levels):
            for p in range(len(spec.paths)):
                above = self._parent(values, p)
                if above is not None:
                    self._children.setdefault((above, p), []).append(node)
        flows = tables.flows
        nodes = flows[NODE].to_numpy().astype(np.int64)
        month = flows[MONTH].to_numpy().astype(np.int64)
        self._flow_key = nodes * self.span + (month - self.first)
        self._flow_cum = (
            np.column_stack([flows[f].to_numpy().astype(np.int64) for f in spec.flows])
            if spec.flows
            else np.zeros((len(nodes), 0), np.int64)
        )
        for measure in spec.distinct:
            points = tables.points[measure.name]
            width = max(1, tables.splits[measure.name].num_rows)
            node = points[NODE].to_numpy().astype(np.int64)
            split = points["split"].to_numpy().astype(np.int64)
            at = points[MONTH].to_numpy().astype(np.int64)
            count = points["n"].to_numpy().astype(np.int64)
            self._points[measure.name] = _Points(
                key=(node * width + split) * self.span + (at - self.first),
                prev=points["prev"].to_numpy().astype(np.int64),
                count=count,
                splits=tables.splits[measure.name],
                width=width,
            )

    # -- nodes -----------------------------------------------------------------------------
    def _parent(self, values: tuple[str | None, ...], p: int) -> int | None:
        names = self.spec.levels
        path = self.spec.paths[p]
        depth = sum(values[names.index(c)] is not None for c in path)
        if depth == 0:
            return None
        parent = list(values)
        parent[names.index(path[depth - 1])] = None
        return self._node_ids.get(tuple(parent))

    def node(self, fixed: Mapping[str, str]) -> int | None:
        """The node of the given level values (a deeper level's ancestors are filled in),
        or None when no data has them (or they contradict each other). A value whose
        ancestors are not unique (a moment named alike in two processes) needs its parent
        given (``query.ambiguous_level``)."""
        names = self.spec.levels
        values: list[str | None] = [None] * len(names)
        for path in self.spec.paths:
            deepest = max((i for i, c in enumerate(path) if c in fixed), default=-1)
            if deepest < 0:
                continue
            value: str | None = fixed[path[deepest]]
            for depth in range(deepest, -1, -1):
                level = path[depth]
                if value is None:
                    return None
                if level in fixed and fixed[level] != value:
                    return None  # e.g. a vårdenhet of another vårdgivare
                values[names.index(level)] = value
                if not depth:
                    break
                above = path[depth - 1]
                candidates = self._parents.get(level, {}).get(value, set())
                if above in fixed:
                    value = fixed[above] if fixed[above] in candidates else None
                elif len(candidates) == 1:
                    value = next(iter(candidates))
                elif not candidates:
                    value = None
                else:
                    raise QueryError(
                        "query.ambiguous_level",
                        f"{level} {value[:60]!r} is found under {len(candidates)} values of "
                        f"{above}",
                        hint=f"add {above}=… to say which",
                    )
        return self._node_ids.get(tuple(values))

    def values(self, node: int) -> dict[str, str | None]:
        """The level values of a node (None: every value of that level)."""
        return dict(zip(self.spec.levels, self._levels[node], strict=True))

    def children(self, node: int, path: int) -> list[int]:
        """The nodes one level deeper than ``node`` on path number ``path``."""
        return self._children.get((node, path), [])

    # -- measures --------------------------------------------------------------------------
    def _cumulative(self, nodes: np.ndarray, month: int) -> np.ndarray:
        """Per node, the flows summed over every month up to ``month`` (inclusive)."""
        width = self._flow_cum.shape[1]
        out = np.zeros((len(nodes), width), np.int64)
        if not len(self._flow_key) or not len(nodes):
            return out
        offset = min(max(month - self.first, -1), self.span - 1)
        at = np.searchsorted(self._flow_key, nodes * self.span + offset, "right") - 1
        hit = (at >= 0) & (self._flow_key[np.maximum(at, 0)] >= nodes * self.span)
        out[hit] = self._flow_cum[at[hit]]
        return out

    def flows(self, nodes: Sequence[int], first: int, last: int) -> np.ndarray:
        """Per node (rows) and flow (columns): the sum over months ``first…last``."""
        array = np.asarray(nodes, dtype=np.int64)
        total: np.ndarray = self._cumulative(array, last) - self._cumulative(array, first - 1)
        return total

    def stock(self, nodes: Sequence[int], month: int) -> np.ndarray:
        """Per node and flow: the sum over every month up to ``month`` (a stock at that
        month's end is a difference of two such sums)."""
        return self._cumulative(np.asarray(nodes, dtype=np.int64), month)

    def split_ids(self, name: str, **values: str) -> list[int]:
        """The split ids of a distinct measure whose split columns take ``values``."""
        table = self._points[name].splits
        mask = np.ones(table.num_rows, dtype=bool)
        for column, value in values.items():
            mask &= np.asarray(pc.equal(table[column], value).to_numpy(zero_copy_only=False))
        return np.flatnonzero(mask).tolist()

    def distinct(
        self,
        name: str,
        nodes: Sequence[int],
        first: int,
        last: int,
        split: int | None = None,
    ) -> np.ndarray:
        """Per node: the entities of measure ``name`` that appear in ``first…last`` (in the
        given split, else the measure must have no splits)."""
        points = self._points[name]
        array = np.asarray(nodes, dtype=np.int64)
        if not len(array):
            return np.zeros(0, np.int64)
        lo_month = min(max(first - self.first, 0), self.span - 1)
        hi_month = min(max(last - self.first, -1), self.span - 1)
        base = (array * points.width + (split or 0)) * self.span
        if hi_month < lo_month:
            return np.zeros(len(array), np.int64)
        los = np.searchsorted(points.key, base + lo_month, "left")
        his = np.searchsorted(points.key, base + hi_month, "right")
        lengths = his - los
        out = np.zeros(len(array), np.int64)
        if not lengths.sum():
            return out
        shift = np.repeat(los - (np.cumsum(lengths) - lengths), lengths)
        rows = np.arange(len(shift)) + shift
        keep = points.prev[rows] < first
        owner = np.repeat(np.arange(len(array)), lengths)
        np.add.at(out, owner[keep], points.count[rows[keep]])
        return out


__all__ = [
    "ENTITY",
    "MONTH",
    "Distinct",
    "RangeCube",
    "RangeSpec",
    "RangeTables",
    "build_ranges",
    "month_index",
    "month_text",
]
