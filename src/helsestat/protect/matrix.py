"""The model matrix of a family of linked tables.

Every table published from the same data is a set of sums of *inner cells*, the rows of the
finest table. A table's cell is the group of inner rows that share its dimension values,
so hierarchies (kommune → fylke → landet, måned → år, region → vårdgivare → vårdenhet) need
no special code: the finest table carries a column for every level, and a coarser table
simply groups by fewer columns. ``x`` has one row per inner cell and one column per
published cell of every table, in table order; ``published = x.T @ inner``.

>>> import pyarrow as pa
>>> inner = pa.table({"kommune": ["0301", "1103", "1108"], "fylke": ["03", "11", "11"],
...                   "n": [4, 7, 9]})
>>> fylke = pa.table({"fylke": ["03", "11"], "n": [4, 16]})
>>> m = link_tables(inner, [("kommune", inner, ("kommune", "fylke")), ("fylke", fylke, ("fylke",))])
>>> m.x.toarray().tolist()
[[1, 0, 0, 1, 0], [0, 1, 0, 0, 1], [0, 0, 1, 0, 1]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

from helsestat.errors import ProtectionError

_NULL = "\x00null"


@dataclass(frozen=True)
class LinkedCells:
    """``x`` (inner cells × published cells) and where each table's columns start."""

    x: sparse.csc_matrix
    names: tuple[str, ...]
    offsets: tuple[int, ...]

    def columns(self, name: str) -> slice:
        """The columns of ``x`` that hold table ``name``'s cells, in its row order."""
        i = self.names.index(name)
        return slice(self.offsets[i], self.offsets[i + 1])


def _text(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return pc.fill_null(pc.cast(arr, pa.string()), _NULL)


def group_keys(tables: Sequence[pa.Table], keys: Sequence[str]) -> list[np.ndarray]:
    """One integer per row of each table, equal exactly when the rows agree on ``keys``.

    >>> import pyarrow as pa
    >>> a, b = pa.table({"k": ["x", "y"]}), pa.table({"k": ["y", "z"]})
    >>> [v.tolist() for v in group_keys([a, b], ["k"])]
    [[0, 1], [1, 2]]
    """
    sizes = [t.num_rows for t in tables]
    total = int(sum(sizes))
    key = np.zeros(total, dtype=np.int64)
    for name in keys:
        joined = pa.concat_arrays([_text(t.column(name)) for t in tables])
        enc = pc.dictionary_encode(joined)
        codes = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        key = key * len(enc.dictionary) + codes
        _, key = np.unique(key, return_inverse=True)  # keep the key compact
        key = key.astype(np.int64).ravel()
    return list(np.split(key, np.cumsum(sizes)[:-1]))


def link_tables(
    inner: pa.Table, tables: Sequence[tuple[str, pa.Table, tuple[str, ...]]]
) -> LinkedCells:
    """Build the model matrix of ``tables`` (name, table, dimension columns) over the rows of
    ``inner``. Each table must have one row per combination of its dimension columns, and
    every dimension column must be a column of ``inner``.

    >>> import pyarrow as pa
    >>> inner = pa.table({"k": ["a", "b"], "n": [1, 2]})
    >>> link_tables(inner, [("total", pa.table({"n": [3]}), ())]).x.toarray().tolist()
    [[1], [1]]
    """
    n_inner = inner.num_rows
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    offsets = [0]
    for name, table, dims in tables:
        missing = [d for d in dims if d not in inner.column_names]
        if missing:
            raise ProtectionError(
                "protect.not_linked",
                f"table {name!r}: dimension {missing[0]!r} is not a column of the inner table",
                hint="protect tables together only when the finest table carries every level",
            )
        if dims:
            ki, kt = group_keys([inner.select(list(dims)), table.select(list(dims))], dims)
        else:
            ki, kt = np.zeros(n_inner, np.int64), np.zeros(table.num_rows, np.int64)
        order = np.argsort(kt, kind="stable")
        sorted_kt = kt[order]
        if len(sorted_kt) > 1 and (sorted_kt[1:] == sorted_kt[:-1]).any():
            raise ProtectionError(
                "protect.duplicate_cell",
                f"table {name!r} has two rows for the same cell of {', '.join(dims) or 'total'}",
                hint="aggregate the table to one row per combination of its dimensions",
            )
        pos = np.searchsorted(sorted_kt, ki)
        pos = np.minimum(pos, max(len(sorted_kt) - 1, 0))
        found = (sorted_kt[pos] == ki) if len(sorted_kt) else np.zeros(n_inner, bool)
        rows.append(np.flatnonzero(found))
        cols.append(order[pos[found]] + offsets[-1])
        offsets.append(offsets[-1] + table.num_rows)
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    x = sparse.csc_matrix((np.ones(len(r), dtype=np.int64), (r, c)), shape=(n_inner, offsets[-1]))
    x.sort_indices()
    return LinkedCells(x=x, names=tuple(t[0] for t in tables), offsets=tuple(offsets))


__all__ = ["LinkedCells", "group_keys", "link_tables"]
