"""Cubes queried by any month range: flows summed over the range and distinct counts that are
distinct over the range — never sums of months — answered in microseconds per row.

A :class:`RangeSpec` names hierarchical *paths* of dimension columns (coarse → fine, e.g.
``("lan", "vardgivare", "vardenhet")`` and ``("process", "moment")``), additive *flows*
(integer columns summed per month) and *distinct* measures (entities counted once, optionally
split, e.g. by kön). A *node* is one prefix of every path (``lan=01``, every process): the
rows of a table and the filters of a query are nodes.

:func:`build_ranges` computes, with numpy on integer codes (:class:`RangeFacts`;
:func:`code_levels` codes facts given by their level values on DuckDB), from a table of flow
facts and one table of entity *appearances* (entity, month, finest levels, splits) per
distinct measure:

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
...     facts = code_levels(spec, flows, {"persons": seen}, engine)
>>> cube = RangeCube(spec, build_ranges(spec, facts))
>>> lan01 = cube.node({"lan": "01"})
>>> int(cube.flows([lan01], 24300, 24301)[0, 0])
3
>>> int(cube.distinct("persons", [lan01], 24300, 24301)[0])
2
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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


@functools.lru_cache(maxsize=4096)
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

    @functools.cached_property
    def levels(self) -> tuple[str, ...]:
        """Every level column, path after path (asked for on every query: worked out once)."""
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


@dataclass(frozen=True)
class RangeFacts:
    """The input of :func:`build_ranges`, coded: ``finest`` has one row per combination of
    the finest levels that has data (an integer ``f``, unique, and the level columns, none
    null); ``flows`` has ``f``, ``month`` and the flow columns (rows of one ``f`` and month
    are summed); ``appearances[name]`` has ``f``, ``month``, ``entity`` (an integer) and the
    measure's split columns (duplicates count once)."""

    finest: pa.Table
    flows: pa.Table
    appearances: Mapping[str, pa.Table]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: The column of coded facts that holds the finest combination.
FINEST = "f"


def _grouping_id(levels: Sequence[str], kept: Sequence[str]) -> int:
    """``GROUPING(levels…)`` of a grouping set: one bit per level, the first level's the
    most significant, set where the level is aggregated away.

    >>> _grouping_id(("a", "b", "c"), ("a",))
    3
    """
    return sum(1 << (len(levels) - 1 - i) for i, c in enumerate(levels) if c not in kept)


def code_levels(
    spec: RangeSpec,
    flows: pa.Table,
    appearances: Mapping[str, pa.Table],
    engine: DuckDBEngine,
) -> RangeFacts:
    """Facts given with their level columns, coded for :func:`build_ranges`: ``f`` is a
    64-bit hash of the level values, checked to be one-to-one (a collision is an error,
    never a merged cell). Level values must not be null."""
    levels = spec.levels
    tables = {"flows": flows, **appearances}
    for name, table in tables.items():
        for column in levels:
            if column in table.column_names and table[column].null_count:
                raise HelsestatError(
                    "aggregate.null_level",
                    f"range cube {spec.name!r}: level {column!r} of {name} has null values",
                    hint="code an unknown value explicitly before the range cube is built",
                )
    cols = ", ".join(_q(c) for c in levels)
    coded: dict[str, pa.Table] = {}
    cursor = engine._cursor()
    try:
        for i, (name, table) in enumerate(tables.items()):
            cursor.register(f"t{i}", table)
            rest = ", ".join(_q(c) for c in table.column_names if c not in levels)
            coded[name] = cursor.sql(
                f"SELECT hash({cols}) AS {FINEST}, {rest} FROM t{i}"
            ).to_arrow_table()
        union = " UNION ALL ".join(
            f"SELECT hash({cols}) AS {FINEST}, {cols} FROM t{i}" for i in range(len(tables))
        )
        extremes = ", ".join(
            f"min({_q(c)}) AS {_q(c)}, max({_q(c)}) AS {_q('~' + c)}" for c in levels
        )
        finest = cursor.sql(
            f"SELECT {FINEST}, {extremes} FROM ({union}) GROUP BY {FINEST} ORDER BY {FINEST}"
        ).to_arrow_table()
    finally:
        cursor.close()
    for column in levels:
        if pc.all(pc.equal(finest[column], finest["~" + column])).as_py() is not False:
            continue
        raise HelsestatError(
            "aggregate.hash_collision",
            f"range cube {spec.name!r}: two combinations of levels share a hash",
            hint="report this: the cube cannot be built from these level values",
        )
    finest = finest.select([FINEST, *levels])
    return RangeFacts(finest, coded["flows"], {name: coded[name] for name in appearances})


def _ranks(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Per row, the rank of its value among the distinct values of ``column`` (0 for the
    smallest; nulls last): the column is dictionary-encoded and only its distinct values
    are sorted."""
    encoded = pc.dictionary_encode(
        column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    )
    dictionary = encoded.dictionary
    order = np.asarray(pc.sort_indices(dictionary).to_numpy(), np.int64)
    rank = np.empty(len(dictionary) + 1, np.int64)
    rank[order] = np.arange(len(dictionary))
    rank[len(dictionary)] = len(dictionary)  # null
    indices = encoded.indices.fill_null(len(dictionary)).to_numpy(zero_copy_only=False)
    result: np.ndarray = rank[np.asarray(indices, np.int64)]
    return result


def _dense(columns: Sequence[pa.ChunkedArray | pa.Array]) -> tuple[np.ndarray, np.ndarray]:
    """Ids 0… of the distinct rows of ``columns``, in the order of their values (column
    after column), and the first row of each id."""
    key = np.zeros(len(columns[0]), np.int64)
    width = 1
    for column in columns:
        ranks = _ranks(column)
        size = int(ranks.max()) + 1 if len(ranks) else 1
        if width * size >= 2**62:  # too wide for one integer: distinct rows so far first
            key = np.unique(key, return_inverse=True)[1].reshape(-1)
            width = int(key.max()) + 1 if len(key) else 1
        key = key * size + ranks
        width *= size
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), first.astype(np.int64)


def _positions(
    finest_ids: np.ndarray, sorter: np.ndarray, table: pa.Table, name: str
) -> np.ndarray:
    """The row of ``finest`` that each row of ``table`` names by ``f``."""
    ids = table[FINEST].to_numpy()
    sorted_ids = finest_ids[sorter]
    at = np.minimum(np.searchsorted(sorted_ids, ids), max(len(sorted_ids) - 1, 0))
    if len(ids) and (not len(sorted_ids) or not np.array_equal(sorted_ids[at], ids)):
        raise HelsestatError(
            "aggregate.unknown_finest",
            f"range cube: {name} names a combination of levels that is not in finest",
            hint="code every table with the same finest combinations",
        )
    result: np.ndarray = sorter[at]
    return result


def _sum_by(group: np.ndarray, groups: int, values: np.ndarray | pa.ChunkedArray) -> np.ndarray:
    """Per group (0 … groups - 1), the sum of the integer ``values`` of its rows (exact:
    summed as floats only while below 2**53)."""
    array = values if isinstance(values, np.ndarray) else values.to_numpy()
    if len(array) and float(np.abs(array).max()) * len(array) >= 2**53:
        out = np.zeros(groups, np.int64)
        np.add.at(out, group, array.astype(np.int64))
        return out
    return np.rint(np.bincount(group, weights=array, minlength=groups)).astype(np.int64)


def _narrow(values: np.ndarray) -> np.ndarray:
    """Counts as 32-bit integers when they fit (the release keeps them that way)."""
    if not values.size or (values.min() >= -(2**31) and values.max() < 2**31):
        return values.astype(np.int32)
    return values


def _finest_index(spec: RangeSpec, finest: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """The ids ``f`` of ``finest`` and the order that sorts them (checked: no level null,
    no id twice)."""
    for column in spec.levels:
        if finest[column].null_count:
            raise HelsestatError(
                "aggregate.null_level",
                f"range cube {spec.name!r}: level {column!r} has null values",
                hint="code an unknown value explicitly before the range cube is built",
            )
    finest_ids = finest[FINEST].to_numpy()
    sorter = np.argsort(finest_ids, kind="stable")
    if len(finest_ids) > 1 and not np.all(np.diff(finest_ids[sorter]) != 0):
        raise HelsestatError(
            "aggregate.duplicate_finest",
            f"range cube {spec.name!r}: a finest combination is listed twice",
            hint="list each combination of the finest levels once",
        )
    return finest_ids, sorter


def _nodes(spec: RangeSpec, finest: pa.Table) -> tuple[list[np.ndarray], pa.Table]:
    """Per grouping set (coarsest first) the node of each row of ``finest``, and the nodes
    table: per grouping set, its distinct level values in their order (so a node's id
    depends only on the set of finest combinations, not on their order)."""
    levels = spec.levels
    rank = {c: finest[c] for c in levels}
    node_maps: list[np.ndarray] = []
    node_columns: dict[str, list[pa.Array]] = {c: [] for c in levels}
    group_ids: list[np.ndarray] = []
    base = 0
    for kept in spec.grouping_sets():
        if kept:
            inverse, first_rows = _dense([rank[c] for c in kept])
        else:
            inverse = np.zeros(finest.num_rows, np.int64)
            first_rows = np.zeros(min(1, finest.num_rows), np.int64)
        node_maps.append(inverse + base)
        count = len(first_rows)
        base += count
        group_ids.append(np.full(count, _grouping_id(levels, kept), np.int32))
        for c in levels:
            column = finest[c]
            node_columns[c].append(
                column.take(pa.array(first_rows)).combine_chunks()
                if c in kept
                else pa.nulls(count, column.type)
            )
    nodes = pa.table(
        {
            NODE: pa.array(np.arange(base, dtype=np.int32)),
            GROUP_ID: pa.array(np.concatenate(group_ids) if group_ids else [], pa.int32()),
            **{c: pa.concat_arrays(node_columns[c]) for c in levels},
        }
    )
    return node_maps, nodes


def build_ranges(spec: RangeSpec, facts: RangeFacts, threads: int = 1) -> RangeTables:
    """The nodes, cumulative flows and distinct points of ``spec`` (see the module text),
    from coded facts (:class:`RangeFacts`; :func:`code_levels` codes facts given by their
    level values).

    Everything is on integers, with numpy: a map takes each finest combination to its node
    in every grouping set; flows are summed per (combination, month) once and then per
    (node, month); the appearances of a measure are sorted once by month and then, per
    grouping set, stably by (split, entity, node), so each appearance meets the one before
    it of the same entity at the same node. ``threads`` measures are worked on at once.
    """
    finest = facts.finest
    finest_ids, sorter = _finest_index(spec, finest)
    node_maps, nodes = _nodes(spec, finest)
    months = [t[MONTH] for t in (facts.flows, *facts.appearances.values()) if t.num_rows]
    lows = [pc.min(m).as_py() for m in months]
    highs = [pc.max(m).as_py() for m in months]
    first = min(lows) if lows else 0
    span = (max(highs) - first + 2) if highs else 1

    def flow_table() -> pa.Table:
        table = facts.flows
        at = _positions(finest_ids, sorter, table, "flows")
        month = table[MONTH].to_numpy().astype(np.int64) - first
        # one column at a time: numpy is slow over the rows of a wide 2-D array
        keys, group = np.unique(at * span + month, return_inverse=True)
        sums = [_sum_by(group, len(keys), table[f]) for f in spec.flows]
        at, month = keys // span, keys % span
        parts_key: list[np.ndarray] = []
        parts_sum: list[list[np.ndarray]] = [[] for _ in spec.flows]
        for node_map in node_maps:
            node_keys, node_group = np.unique(node_map[at] * span + month, return_inverse=True)
            parts_key.append(node_keys)
            for i, column in enumerate(sums):
                parts_sum[i].append(_sum_by(node_group, len(node_keys), column))
        keys = np.concatenate(parts_key) if parts_key else np.zeros(0, np.int64)
        node = keys // span
        starts = np.flatnonzero(np.r_[True, node[1:] != node[:-1]]) if len(node) else node
        lengths = np.diff(np.r_[starts, len(node)])
        columns = {}
        for f, part in zip(spec.flows, parts_sum, strict=True):
            running = np.cumsum(np.concatenate(part) if part else np.zeros(0, np.int64))
            if len(running):  # cumulative within each node: less what came before it
                before = np.r_[0, running[starts[1:] - 1]]
                running -= np.repeat(before, lengths)
            columns[f] = pa.array(_narrow(running))
        return pa.table(
            {
                NODE: pa.array(node.astype(np.int32)),
                MONTH: pa.array((keys % span + first).astype(np.int32)),
                **columns,
            }
        )

    def measure_tables(measure: Distinct) -> tuple[pa.Table, pa.Table]:
        table = facts.appearances[measure.name]
        at = _positions(finest_ids, sorter, table, measure.name)
        if measure.splits:
            split, first_rows = _dense([table[c] for c in measure.splits])
            split_table = pa.table(
                {"split": pa.array(np.arange(len(first_rows), dtype=np.int32))}
                | {c: table[c].take(pa.array(first_rows)).combine_chunks() for c in measure.splits}
            )
        else:
            split = np.zeros(table.num_rows, np.int64)
            split_table = pa.table({"split": pa.array([0], pa.int32())})
        width = max(1, split_table.num_rows)
        entity = np.unique(table[ENTITY].to_numpy(), return_inverse=True)[1].reshape(-1)
        entities = int(entity.max()) + 1 if len(entity) else 1
        month = (table[MONTH].to_numpy().astype(np.int64) - first).astype(np.int16)
        person = split * entities + entity
        # sorted by person and month once: each grouping set's stable sort by (person, node)
        # then meets long sorted runs
        order = np.lexsort((month, person))
        at, person, month = at[order], person[order], month[order]
        del order, split, entity
        parts = []
        for node_map in node_maps:
            node = node_map[at]
            lo = int(node.min()) if len(node) else 0
            key = person * (int(node.max()) - lo + 1 if len(node) else 1) + (node - lo)
            order = np.argsort(key, kind="stable")
            key, at_month, node = key[order], month[order], node[order]
            del order
            new = np.r_[True, (key[1:] != key[:-1]) | (at_month[1:] != at_month[:-1])]
            key, at_month, node = key[new], at_month[new], node[new]
            same = np.r_[False, key[1:] == key[:-1]]
            prev = np.zeros(len(key), np.int64)  # 0: none, else month offset + 1
            prev[same] = at_month[np.flatnonzero(same) - 1].astype(np.int64) + 1
            owner = key // (int(node.max()) - lo + 1 if len(node) else 1) // entities
            point = ((node * width + owner) * span + at_month) * (span + 1) + prev
            del key, same, owner, node
            parts.append(np.unique(point, return_counts=True))
        point = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        count = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
        prev, rest = point % (span + 1), point // (span + 1)
        at_month, rest = rest % span, rest // span
        split_id, node = rest % width, rest // width
        points = pa.table(
            {
                NODE: pa.array(node.astype(np.int32)),
                "split": pa.array(split_id.astype(np.int32)),
                MONTH: pa.array((at_month + first).astype(np.int32)),
                "prev": pa.array(np.where(prev > 0, prev - 1 + first, -1).astype(np.int32)),
                "n": pa.array(count.astype(np.int32)),
            }
        )
        return points, split_table

    with ThreadPoolExecutor(max(1, threads)) as pool:
        flow_future = pool.submit(flow_table)
        futures = {m.name: pool.submit(measure_tables, m) for m in spec.distinct}
        flow_result = flow_future.result()
        built = {name: future.result() for name, future in futures.items()}
    return RangeTables(
        nodes,
        flow_result,
        {name: b[0] for name, b in built.items()},
        {name: b[1] for name, b in built.items()},
    )


@dataclass(frozen=True)
class RangeState:
    """What a built range cube carries to the next month (:func:`extend_ranges`): its
    finest combinations (``f`` and the level columns) and, per distinct measure, the last
    month each (``f``, split values, entity) appeared (columns ``f``, ``entity``, the
    measure's split columns, ``month``)."""

    finest: pa.Table
    last_seen: Mapping[str, pa.Table]


def range_state(spec: RangeSpec, facts: RangeFacts) -> RangeState:
    """The :class:`RangeState` of the cube :func:`build_ranges` builds from ``facts``.

    >>> spec = RangeSpec("demo", (("lan",),), ("n",), (Distinct("persons"),))
    >>> seen = pa.table({"f": [1, 1], "month": [5, 7], "entity": [9, 9]})
    >>> state = range_state(spec, RangeFacts(pa.table({"f": [1], "lan": ["01"]}),
    ...     pa.table({"f": [1], "month": [5], "n": [1]}), {"persons": seen}))
    >>> state.last_seen["persons"].to_pylist()
    [{'f': 1, 'entity': 9, 'month': 7}]
    """
    last: dict[str, pa.Table] = {}
    for measure in spec.distinct:
        keys = [FINEST, ENTITY, *measure.splits]
        table = facts.appearances[measure.name].select([*keys, MONTH])
        grouped = table.group_by(keys, use_threads=False).aggregate([(MONTH, "max")])
        last[measure.name] = grouped.rename_columns([*keys, MONTH])
    return RangeState(facts.finest, last)


def _union_finest(spec: RangeSpec, old: pa.Table, new: pa.Table) -> pa.Table:
    """The finest combinations of ``old`` and ``new`` (in the order of ``f``); an id of
    both must name the same levels."""
    old_ids = old[FINEST].to_numpy()
    order = np.argsort(old_ids, kind="stable")
    new_ids = new[FINEST].to_numpy()
    at = np.minimum(np.searchsorted(old_ids[order], new_ids), max(len(old_ids) - 1, 0))
    known = (old_ids[order][at] == new_ids) if len(old_ids) else np.zeros(len(new_ids), dtype=bool)
    if known.any():
        rows = pa.array(np.flatnonzero(known))
        same = old.take(pa.array(order[at[known]])).select(spec.levels)
        if not same.equals(new.take(rows).select(spec.levels)):
            raise HelsestatError(
                "aggregate.hash_collision",
                f"range cube {spec.name!r}: two combinations of levels share a hash",
                hint="report this: the cube cannot be built from these level values",
            )
    added = new.take(pa.array(np.flatnonzero(~known))).select(old.column_names)
    union = pa.concat_tables([old, added.cast(old.schema)]).combine_chunks()
    return union.take(pc.sort_indices(union[FINEST]))


def _group_last(key: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``key`` values (sorted) and, per key, the largest ``value``."""
    order = np.lexsort((value, key))
    key, value = key[order], value[order]
    ends = np.flatnonzero(np.r_[key[1:] != key[:-1], True]) if len(key) else key
    return key[ends], value[ends]


def _merged(old: pa.Table, rows: Mapping[str, np.ndarray], before: np.ndarray) -> pa.Table:
    """``old`` (integer columns) with ``rows`` (its columns) inserted before the rows
    ``before`` (ascending): a column keeps its type while the new values fit it (as
    :func:`build_ranges` narrows its columns), else it is widened to int64."""
    count, added = old.num_rows, len(before)
    at = before + np.arange(added)  # the new rows' places in the result
    keep = np.ones(count + added, dtype=bool)
    keep[at] = False
    columns = {}
    for name in old.column_names:
        stored = old[name].to_numpy()
        values = rows[name]
        info = np.iinfo(stored.dtype)
        fits = not added or (values.min() >= info.min and values.max() <= info.max)
        out = np.empty(count + added, stored.dtype if fits else np.int64)
        out[keep] = stored
        out[at] = values
        columns[name] = pa.array(out)
    return pa.table(columns)


def _renumbered(ids: pa.ChunkedArray, renumber: np.ndarray | None) -> np.ndarray:
    """Stored ids (int32) under a renumbering (None: unchanged)."""
    array: np.ndarray = ids.to_numpy()
    return array if renumber is None else renumber[array]


def extend_ranges(
    spec: RangeSpec,
    tables: RangeTables,
    state: RangeState,
    facts: RangeFacts,
    month: int,
) -> tuple[RangeTables, RangeState]:
    """The range cube of ``tables`` (built by :func:`build_ranges`, carrying ``state``)
    with one more month: ``facts`` hold that month's flows and appearances only (their
    ``finest`` the month's combinations), and ``month`` is after every month of the cube.
    The result equals :func:`build_ranges` over all the facts, table for table.

    Nothing built is recomputed: node ids are renumbered (a new combination's nodes take
    their place in the order of the level values; old nodes keep their order, so their
    rows stay sorted), the month's cumulative flows continue each node's last, and each
    entity's point at a node takes as ``prev`` the last month it appeared under that node
    (the largest last month of its finest combinations under it in ``state``) — the points
    of earlier months are unchanged, so distinct counts over any range stay exact. Costs
    the month's facts, the state of the entities in them, and copying the tables.

    >>> spec = RangeSpec("demo", (("lan",),), ("n",), (Distinct("persons"),))
    >>> finest = pa.table({"f": [1], "lan": ["01"]})
    >>> def facts(month: int, entity: int) -> RangeFacts:
    ...     return RangeFacts(finest, pa.table({"f": [1], "month": [month], "n": [1]}),
    ...         {"persons": pa.table({"f": [1], "month": [month], "entity": [entity]})})
    >>> cube, state = build_ranges(spec, facts(5, 9)), range_state(spec, facts(5, 9))
    >>> cube, state = extend_ranges(spec, cube, state, facts(6, 9), 6)
    >>> cube.points["persons"].to_pylist()[-1]
    {'node': 1, 'split': 0, 'month': 6, 'prev': 5, 'n': 1}
    """
    for table in (facts.flows, *facts.appearances.values()):
        months = pc.min_max(table[MONTH]).as_py() if table.num_rows else {}
        if months and not months["min"] == months["max"] == month:
            raise HelsestatError(
                "aggregate.not_one_month",
                f"range cube {spec.name!r}: the facts to add hold months other than {month}",
                hint="add one month at a time",
            )
    built = [tables.flows[MONTH], *(p[MONTH] for p in tables.points.values())]
    last_built = max((pc.max(m).as_py() for m in built if len(m)), default=None)
    if last_built is not None and month <= last_built:
        raise HelsestatError(
            "aggregate.month_not_after",
            f"range cube {spec.name!r}: month {month} is not after the cube's last month",
            hint="build the cube again from every month (a correction of an earlier month)",
        )
    union = _union_finest(spec, state.finest, facts.finest)
    union_ids, sorter = _finest_index(spec, union)
    node_maps, nodes = _nodes(spec, union)
    old_maps, old_nodes = _nodes(spec, state.finest)
    if old_nodes.num_rows != tables.nodes.num_rows:
        raise HelsestatError(
            "aggregate.state_mismatch",
            f"range cube {spec.name!r}: the carried state does not describe the cube",
            hint="build the cube again from every month",
        )
    # old node → new node: monotonic (each grouping set keeps its order), so rows stay sorted
    numbers = np.zeros(old_nodes.num_rows, np.int32)
    old_at = _positions(union_ids, sorter, state.finest, "state")
    for old_map, new_map in zip(old_maps, node_maps, strict=True):
        numbers[old_map] = new_map[old_at]
    # most months add no combination: then nothing is renumbered
    same = np.array_equal(numbers, np.arange(len(numbers)))
    renumber = None if same else numbers

    # flows: per node, the month's sums on top of its last cumulative row
    flows = tables.flows
    flow_node = _renumbered(flows[NODE], renumber)
    at = _positions(union_ids, sorter, facts.flows, "flows")
    add_node_parts, add_sum_parts = [], []
    for node_map in node_maps:
        keys, group = np.unique(node_map[at], return_inverse=True)
        add_node_parts.append(keys)
        add_sum_parts.append(
            np.stack([_sum_by(group, len(keys), facts.flows[f]) for f in spec.flows], axis=1)
            if spec.flows
            else np.zeros((len(keys), 0), np.int64)
        )
    add_node = np.concatenate(add_node_parts) if add_node_parts else np.zeros(0, np.int64)
    add_sum = (
        np.concatenate(add_sum_parts) if add_sum_parts else np.zeros((0, len(spec.flows)), np.int64)
    )
    before = np.searchsorted(flow_node, add_node, "right")
    prior = before - 1
    has_prior = (prior >= 0) & (flow_node[np.maximum(prior, 0)] == add_node)
    added: dict[str, np.ndarray] = {NODE: add_node, MONTH: np.full(len(add_node), month)}
    for i, f in enumerate(spec.flows):
        old = flows[f].to_numpy()
        last = old[np.maximum(prior, 0)].astype(np.int64) if len(old) else 0
        added[f] = add_sum[:, i] + np.where(has_prior, last, 0)
    if renumber is not None:
        flows = flows.set_column(0, NODE, pa.array(flow_node.astype(np.int32)))
    new_flows = _merged(flows, added, before)

    points: dict[str, pa.Table] = {}
    splits: dict[str, pa.Table] = {}
    last_seen: dict[str, pa.Table] = {}
    for measure in spec.distinct:
        points[measure.name], splits[measure.name], last_seen[measure.name] = _extend_measure(
            measure,
            tables,
            state.last_seen[measure.name],
            facts.appearances[measure.name],
            month,
            renumber,
            node_maps,
            (union_ids, sorter),
        )
    return (
        RangeTables(nodes, new_flows, points, splits),
        RangeState(union, last_seen),
    )


def _extend_measure(
    measure: Distinct,
    tables: RangeTables,
    last: pa.Table,
    seen: pa.Table,
    month: int,
    renumber: np.ndarray | None,
    node_maps: Sequence[np.ndarray],
    finest: tuple[np.ndarray, np.ndarray],
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """One distinct measure of :func:`extend_ranges`: its points and splits with the month's
    appended, and its last-seen state."""
    union_ids, sorter = finest
    old_splits = tables.splits[measure.name]
    entity_seen = seen[ENTITY].to_numpy()
    entity_last = last[ENTITY].to_numpy()
    mine = np.isin(entity_last, entity_seen)  # the state of the month's entities only
    rows = pa.array(np.flatnonzero(mine))
    last_sub = last.take(rows)
    if measure.splits:  # split ids of the union, in the order of their values
        names = list(measure.splits)
        stacked = pa.concat_tables(
            [
                old_splits.select(names),
                seen.select(names).cast(old_splits.select(names).schema),
                last_sub.select(names).cast(old_splits.select(names).schema),
            ]
        )
        ids, first_rows = _dense([stacked[c] for c in names])
        k, a = old_splits.num_rows, seen.num_rows
        split_old, split_seen, split_last = ids[:k], ids[k : k + a], ids[k + a :]
        new_splits = pa.table(
            {"split": pa.array(np.arange(len(first_rows), dtype=np.int32))}
            | {c: stacked[c].take(pa.array(first_rows)).combine_chunks() for c in names}
        )
    else:
        split_old = np.zeros(1, np.int64)
        split_seen = np.zeros(seen.num_rows, np.int64)
        split_last = np.zeros(last_sub.num_rows, np.int64)
        new_splits = old_splits
    width = max(1, new_splits.num_rows)
    codes = np.unique(np.r_[entity_seen, entity_last[mine]], return_inverse=True)[1].reshape(-1)
    code_seen, code_last = codes[: len(entity_seen)], codes[len(entity_seen) :]
    entities = int(codes.max()) + 1 if len(codes) else 1
    at_seen = _positions(union_ids, sorter, seen, measure.name)
    at_last = _positions(union_ids, sorter, last_sub, measure.name)
    month_last = last_sub[MONTH].to_numpy().astype(np.int64)
    new_key: list[np.ndarray] = []
    new_prev: list[np.ndarray] = []
    new_n: list[np.ndarray] = []
    for node_map in node_maps:
        key_seen = np.unique((node_map[at_seen] * width + split_seen) * entities + code_seen)
        key_last, prev_last = _group_last(
            (node_map[at_last] * width + split_last) * entities + code_last, month_last
        )
        found = np.minimum(np.searchsorted(key_last, key_seen), max(len(key_last) - 1, 0))
        hit = (key_last[found] == key_seen) if len(key_last) else np.zeros(len(key_seen), bool)
        prev = np.where(hit, prev_last[found] if len(key_last) else -1, -1)
        cell = key_seen // entities
        # counted per (node, split, prev), in that order: prev + 1 is 0 … month
        point, count = np.unique(cell * (month + 2) + prev + 1, return_counts=True)
        new_key.append(point // (month + 2))
        new_prev.append(point % (month + 2) - 1)
        new_n.append(count)
    cell_new = np.concatenate(new_key) if new_key else np.zeros(0, np.int64)
    prev_new = np.concatenate(new_prev) if new_prev else np.zeros(0, np.int64)
    n_new = np.concatenate(new_n) if new_n else np.zeros(0, np.int64)
    old = tables.points[measure.name]
    node_old = _renumbered(old[NODE], renumber)
    split_ids: np.ndarray = old["split"].to_numpy()
    moved = not np.array_equal(split_old, np.arange(len(split_old)))
    if moved:
        split_ids = split_old.astype(np.int32)[split_ids]
    cell_old = node_old.astype(np.int64) * width + split_ids
    before = np.searchsorted(cell_old, cell_new, "right")
    del cell_old
    if renumber is not None:
        old = old.set_column(0, NODE, pa.array(node_old.astype(np.int32)))
    if moved:
        old = old.set_column(1, "split", pa.array(split_ids.astype(np.int32)))
    rows = {
        NODE: cell_new // width,
        "split": cell_new % width,
        MONTH: np.full(len(cell_new), month),
        "prev": prev_new,
        "n": n_new,
    }
    points = _merged(old, rows, before)
    # the state: the month's appearances replace what they update
    seen_key = np.unique((at_seen * width + split_seen) * entities + code_seen)
    replaced = np.isin((at_last * width + split_last) * entities + code_last, seen_key)
    keep = np.ones(last.num_rows, dtype=bool)
    keep[np.flatnonzero(mine)[replaced]] = False
    columns = [FINEST, ENTITY, *measure.splits]
    fresh = seen.select(columns).group_by(columns, use_threads=False).aggregate([])
    fresh = fresh.append_column(MONTH, pa.array(np.full(fresh.num_rows, month), last[MONTH].type))
    kept = last.filter(pa.array(keep))
    state = pa.concat_tables([kept, fresh.select(kept.column_names).cast(kept.schema)])
    return points, new_splits, state.combine_chunks()


def _running(count: np.ndarray) -> np.ndarray:
    """0 and the running sum of ``count`` (int64): the sum over rows lo…hi - 1 is
    ``running[hi] - running[lo]``."""
    out = np.empty(len(count) + 1, np.int64)
    out[0] = 0
    np.cumsum(count, out=out[1:])
    return out


@dataclass
class _Points:
    key: np.ndarray  # int64, sorted: (node * splits + split) * span + (month - first)
    prev: np.ndarray  # month index, -1 for the first appearance
    count: np.ndarray
    running: np.ndarray  # 0 and the running sum of count: the sum over rows lo…hi - 1
    running_new: np.ndarray  # the same over first appearances (prev -1) only
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
    _split_ids: dict[tuple[object, ...], list[int]] = field(default_factory=dict)

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
        month = flows[MONTH].to_numpy()
        # a first key below every other and a row of zeros: a look-up that finds nothing
        # of its node reads that row (no test for "found before the first key")
        self._flow_key = np.concatenate(([-1], nodes * self.span + (month - self.first)))
        columns = [flows[f].to_numpy() for f in spec.flows]  # kept narrow (int32 as stored)
        kind = np.result_type(np.int32, *columns)
        self._flow_cum = np.zeros((len(nodes) + 1, len(columns)), kind)
        for i, column in enumerate(columns):
            self._flow_cum[1:, i] = column
        for measure in spec.distinct:
            points = tables.points[measure.name]
            width = max(1, tables.splits[measure.name].num_rows)
            key = points[NODE].to_numpy().astype(np.int64)
            key *= width
            key += points["split"].to_numpy()
            key *= self.span
            key += points[MONTH].to_numpy()
            key -= self.first
            count = points["n"].to_numpy()
            prev = points["prev"].to_numpy()
            self._points[measure.name] = _Points(
                key=key,
                prev=prev,
                count=count,
                running=_running(count),
                running_new=_running(np.where(prev < 0, count, 0)),
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

    def level_columns(self, nodes: Sequence[int]) -> dict[str, list[str | None]]:
        """The level values of many nodes, as one list per level (None: every value)."""
        rows = [self._levels[n] for n in nodes]
        return {name: [r[i] for r in rows] for i, name in enumerate(self.spec.levels)}

    def children(self, node: int, path: int) -> list[int]:
        """The nodes one level deeper than ``node`` on path number ``path``."""
        return self._children.get((node, path), [])

    # -- measures --------------------------------------------------------------------------
    def _cumulative(
        self, nodes: np.ndarray, months: np.ndarray | int, columns: Sequence[int] | None = None
    ) -> np.ndarray:
        """Per (node, month) pair (broadcast), the flows summed over every month up to the
        month (inclusive): an array of shape ``(*pairs, flows)`` — only the flows numbered
        ``columns``, in that order, when given (a table that publishes two flows of twenty
        reads two). Kept as stored (32-bit where they fit)."""
        base = np.asarray(nodes, np.int64) * self.span
        if isinstance(months, int):
            offset: np.ndarray | int = min(max(months - self.first, -1), self.span - 1)
        else:
            offset = np.clip(np.asarray(months, np.int64) - self.first, -1, self.span - 1)
        at = self._flow_key.searchsorted(base + offset, "right") - 1
        at[self._flow_key[at] < base] = 0  # the node has no month up to it: the zero row
        if columns is None:
            found: np.ndarray = self._flow_cum[at]
        else:
            found = self._flow_cum[at[..., None], np.asarray(columns, np.intp)]
        return found

    def flows(
        self, nodes: Sequence[int], first: int, last: int, columns: Sequence[int] | None = None
    ) -> np.ndarray:
        """Per node (rows) and flow (columns; those numbered ``columns`` when given): the
        sum over months ``first…last``."""
        array = np.asarray(nodes, dtype=np.int64)
        ends = self._cumulative(array[None, :], np.array([[last], [first - 1]]), columns)
        total: np.ndarray = np.subtract(ends[0], ends[1], dtype=np.int64)
        return total

    def flows_by_month(
        self, nodes: Sequence[int], months: Sequence[int], columns: Sequence[int] | None = None
    ) -> np.ndarray:
        """Per node, month and flow (shape ``(nodes, months, flows)``): the month's flows."""
        grid = np.asarray(nodes, np.int64)[:, None]
        at = np.asarray(months, np.int64)[None, :]
        ends = self._cumulative(grid[None], np.stack((at, at - 1)), columns)
        total: np.ndarray = np.subtract(ends[0], ends[1], dtype=np.int64)
        return total

    def stock(
        self, nodes: Sequence[int], month: int, columns: Sequence[int] | None = None
    ) -> np.ndarray:
        """Per node and flow: the sum over every month up to ``month`` (a stock at that
        month's end is a difference of two such sums)."""
        found: np.ndarray = self._cumulative(
            np.asarray(nodes, dtype=np.int64), int(month), columns
        ).astype(np.int64)
        return found

    def stock_by_month(
        self, nodes: Sequence[int], months: Sequence[int], columns: Sequence[int] | None = None
    ) -> np.ndarray:
        """:meth:`stock` at the end of each month: shape ``(nodes, months, flows)``."""
        found: np.ndarray = self._cumulative(
            np.asarray(nodes, np.int64)[:, None], np.asarray(months, np.int64)[None, :], columns
        ).astype(np.int64)
        return found

    def split_ids(self, name: str, **values: str) -> list[int]:
        """The split ids of a distinct measure whose split columns take ``values``."""
        key = (name, *sorted(values.items()))
        found = self._split_ids.get(key)
        if found is None:
            table = self._points[name].splits
            mask = np.ones(table.num_rows, dtype=bool)
            for column, value in values.items():
                mask &= np.asarray(pc.equal(table[column], value).to_numpy(zero_copy_only=False))
            found = self._split_ids[key] = np.flatnonzero(mask).tolist()
        return list(found)

    def distinct(
        self,
        name: str,
        nodes: Sequence[int] | np.ndarray,
        first: int,
        last: int,
        split: int | Sequence[int] | np.ndarray | None = None,
    ) -> np.ndarray:
        """Per node: the entities of measure ``name`` that appear in ``first…last`` (in the
        given split, else the measure must have no splits). ``split`` may be one id per
        node (the two are broadcast)."""
        points = self._points[name]
        base = np.asarray(nodes, dtype=np.int64) * points.width
        if split is not None:  # one split, or one per node
            base = base + (split if isinstance(split, int) else np.asarray(split, np.int64))
        base = (base * self.span).reshape(-1)
        if not len(base):
            return np.zeros(0, np.int64)
        lo_month = min(max(first - self.first, 0), self.span - 1)
        hi_month = min(max(last - self.first, -1), self.span - 1)
        if hi_month < lo_month:
            return np.zeros(len(base), np.int64)
        # the first point at lo_month and the first after hi_month, in one search (the keys
        # are integers: "right of k" is "left of k + 1")
        found = points.key.searchsorted(np.concatenate((base + lo_month, base + hi_month + 1)))
        los, his = found[: len(base)], found[len(base) :]
        if lo_month == hi_month:  # one month: every point's prev is before it
            summed: np.ndarray = points.running[his] - points.running[los]
            return summed
        if first <= self.first:  # from the cube's start: first appearances only
            new: np.ndarray = points.running_new[his] - points.running_new[los]
            return new
        # the points of every node in the range, one after another: a running sum of the
        # counts of those first seen before ``first``, read at each node's ends
        lengths = his - los
        ends = np.cumsum(lengths)
        if not ends[-1]:
            return np.zeros(len(base), np.int64)
        starts = ends - lengths
        rows = np.arange(ends[-1]) + np.repeat(los - starts, lengths)
        kept = np.where(points.prev[rows] < first, points.count[rows], 0)
        running = _running(kept)
        result: np.ndarray = running[ends] - running[starts]
        return result

    def distinct_by_month(
        self,
        name: str,
        nodes: Sequence[int],
        months: Sequence[int],
        split: int | Sequence[int] | None = None,
    ) -> np.ndarray:
        """Per node (rows; with its split, broadcast) and month (columns): the entities
        that appear in that month."""
        points = self._points[name]
        base = np.asarray(nodes, dtype=np.int64) * points.width
        if split is not None:  # one split, or one per node
            base = base + (split if isinstance(split, int) else np.asarray(split, np.int64))
        at = np.asarray(months, np.int64)[None, :] - self.first
        inside = (at >= 0) & (at < self.span)
        key = (base * self.span)[:, None] + np.clip(at, 0, self.span - 1)
        ends = points.key.searchsorted(np.stack((key, key + 1)))  # left and right of each
        found: np.ndarray = np.where(inside, points.running[ends[1]] - points.running[ends[0]], 0)
        return found


__all__ = [
    "ENTITY",
    "FINEST",
    "MONTH",
    "Distinct",
    "RangeCube",
    "RangeFacts",
    "RangeSpec",
    "RangeState",
    "RangeTables",
    "build_ranges",
    "code_levels",
    "extend_ranges",
    "month_index",
    "month_text",
    "range_state",
]
