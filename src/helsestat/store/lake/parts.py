"""A table held in parts: per-period pieces, each in the table's row order, that carry the
columns (``__order0``, ``__order1``, …) which put them back together as the whole table.

Concatenated in period order, the pieces are sorted by (period, the other columns); a stable
sort on the columns *before* the time column restores the table's own order:

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


__all__ = ["ORDER_PREFIX", "merge_order", "merge_parts"]
