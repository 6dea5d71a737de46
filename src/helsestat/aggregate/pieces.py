"""A cube table by period: which period a partition's rows fall in at a grouping's time
level, and the row order that puts per-period pieces back together as the whole table.

A grouping's table (rows sorted by its dimension columns, nulls last) can be computed one
period at a time when the partitions of the data are periods: the cells of 2024-01, or of
2024, come only from the partitions in that period. Concatenated in period order, the pieces
are sorted by (period, the other columns); a stable sort on the columns *before* the time
column (:func:`leading_columns`) restores the table's own order:

>>> import pyarrow as pa
>>> jan = pa.table({"kommune": ["0301", "1103"], "maned": ["202401", "202401"]})
>>> feb = pa.table({"kommune": ["0301"], "maned": ["202402"]})
>>> both = pa.concat_tables([jan, feb])
>>> both.take(merge_order([both.column("kommune")])).to_pydict()
{'kommune': ['0301', '0301', '1103'], 'maned': ['202401', '202402', '202401']}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from helsestat import model
from helsestat.aggregate.spec import CubeSpec, Hierarchy, Lookup, Prefix


def level_index(spec: CubeSpec, hierarchy: int, grouping: model.Grouping) -> int | None:
    """The index of ``grouping``'s level in the ``hierarchy``-th hierarchy; None for its
    total (the grouping is not split by that hierarchy).

    >>> from helsestat.aggregate.spec import Level, Measure, Total
    >>> tid = Hierarchy("tid", (Level("maned", column="maned"), Level("ar", rollup=Prefix(4)),
    ...                         Level("alle", rollup=Total())))
    >>> spec = CubeSpec("demo", (tid,), (Measure("n", "count"),))
    >>> level_index(spec, 0, ("ar",)), level_index(spec, 0, ("alle",))
    (1, None)
    """
    levels = spec.hierarchies[hierarchy].levels
    index = [level.name for level in levels].index(grouping[hierarchy])
    return None if levels[index].is_total else index


def roll_value(hierarchy: Hierarchy, level: int, value: str | None) -> str | None:
    """A finest-level ``value`` rolled up to the ``level``-th level of ``hierarchy`` (a
    value a lookup does not map rolls up to its default, and null stays null).

    >>> from helsestat.aggregate.spec import Level
    >>> tid = Hierarchy("tid", (Level("maned", column="maned"), Level("ar", rollup=Prefix(4))))
    >>> roll_value(tid, 1, "202401"), roll_value(tid, 0, "202401")
    ('2024', '202401')
    """
    for step in hierarchy.levels[1 : level + 1]:
        if value is None:
            return None
        if isinstance(step.rollup, Prefix):
            value = value[: step.rollup.length]
        elif isinstance(step.rollup, Lookup):
            value = dict(step.rollup.pairs).get(value, step.rollup.default)
    return value


def leading_columns(spec: CubeSpec, hierarchy: int, grouping: model.Grouping) -> tuple[str, ...]:
    """The dimension columns of ``grouping``'s table that come before the ``hierarchy``-th
    hierarchy's column: the ones a table of per-period pieces is merged on.

    >>> from helsestat.aggregate.spec import Level, Measure
    >>> geo = Hierarchy("geo", (Level("kommune", column="k"),))
    >>> tid = Hierarchy("tid", (Level("maned", column="m"),))
    >>> spec = CubeSpec("demo", (geo, tid), (Measure("n", "count"),))
    >>> leading_columns(spec, 1, ("kommune", "maned"))
    ('kommune',)
    """
    before = CubeSpec(spec.name, spec.hierarchies[:hierarchy], ())
    return before.output_columns(grouping[:hierarchy])


#: Prefix of the columns a per-period piece carries so the pieces can be merged back in the
#: table's order (``__order0``, ``__order1``, …: the leading columns, then the time column).
ORDER_PREFIX = "__order"


def merge_parts(table: pa.Table, parts: int) -> pa.Table:
    """``table``: ``parts`` per-period pieces concatenated, each in the table's order and
    with its :data:`ORDER_PREFIX` columns. Returns the table in its own order, without them.

    >>> jan = pa.table({"k": ["0301", "1103"], "__order0": ["0301", "1103"]})
    >>> feb = pa.table({"k": ["0301"], "__order0": ["0301"]})
    >>> merge_parts(pa.concat_tables([jan, feb]), 2).to_pydict()
    {'k': ['0301', '0301', '1103']}
    """
    order = [c for c in table.column_names if c.startswith(ORDER_PREFIX)]
    published = table.select([c for c in table.column_names if not c.startswith(ORDER_PREFIX)])
    if parts > 1 and order:
        published = published.take(merge_order([table.column(c) for c in order]))
    return published


def merge_order(columns: Sequence[pa.ChunkedArray | pa.Array]) -> npt.NDArray[np.int64]:
    """Row indices that sort by ``columns`` (text, ascending by code point, nulls last),
    keeping the present order of equal rows (a stable sort). See the module docstring."""
    if not columns:
        raise ValueError("merge_order needs at least one column")
    ranks = [_ranks(column) for column in columns]
    if len(ranks) == 1:
        return np.argsort(ranks[0], kind="stable").astype(np.int64)
    # np.lexsort sorts by the last key first and is stable
    return np.lexsort(ranks[::-1]).astype(np.int64)


def _ranks(column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column)
    values = encoded.dictionary.to_pylist()
    rank = np.empty(len(values) + 1, dtype=np.int64)
    rank[sorted(range(len(values)), key=values.__getitem__)] = np.arange(len(values))
    rank[len(values)] = len(values)  # null last
    indices = encoded.indices.fill_null(len(values)).to_numpy(zero_copy_only=False)
    return rank[np.asarray(indices, dtype=np.int64)]


__all__ = [
    "ORDER_PREFIX",
    "leading_columns",
    "level_index",
    "merge_order",
    "merge_parts",
    "roll_value",
]
