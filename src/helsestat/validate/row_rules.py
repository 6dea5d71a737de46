"""The rules every extract kind gets from its spec, without code of its own: a date after
today, a byte the reader could not decode, an exact duplicate row, and a line an earlier
batch stored. Each returns one mask (True = the row breaks the rule), computed on whole
columns.

>>> import pyarrow as pa
>>> duplicates(pa.table({"a": ["x", "y", "x", "x"], "b": ["1", "1", "1", "2"]})).tolist()
[False, False, True, False]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: the rule suffix of a date after the day of ingest
FUTURE = "future"
#: The line keys stored by earlier batches of a kind in the given partitions (the spec's
#: ``line_key`` columns and its partition column): read from the lake by the caller, which
#: validate cannot see.
StoredKeys = Callable[[Sequence[int]], pa.Table]


def today_in(time_zone: str) -> date:
    """Today's date in ``time_zone`` (an IANA name such as ``Europe/Stockholm``).

    >>> today_in("Europe/Oslo") >= date(2024, 1, 1)
    True
    """
    return datetime.now(ZoneInfo(time_zone)).date()


def future(typed: pa.Table, columns: Sequence[str], today: date) -> dict[str, np.ndarray]:
    """``<column>.future``: a typed date (or the day of a timestamp) after ``today``.

    >>> t = pa.table({"d": pa.array([date(2024, 1, 1), date(2024, 1, 3), None])})
    >>> future(t, ["d"], date(2024, 1, 2))["d.future"].tolist()
    [False, True, False]
    """
    bound = pa.scalar(today, pa.date32())
    out = {}
    for name in columns:
        values = typed.column(name)
        if pa.types.is_timestamp(values.type):
            values = pc.cast(values, pa.date32())
        after = pc.fill_null(pc.greater(values, bound), False)
        out[f"{name}.{FUTURE}"] = np.asarray(after.to_numpy(zero_copy_only=False), dtype=bool)
    return out


def undecodable(table: pa.Table) -> np.ndarray:
    """Rows with U+FFFD in any text column: where the reader met a byte that is no
    character of the file's encoding.

    >>> undecodable(pa.table({"a": ["R74", "R7\ufffd"]})).tolist()
    [False, True]
    """
    rows = np.zeros(table.num_rows, dtype=bool)
    for column in table.columns:
        hit = pc.fill_null(pc.match_substring(column, "\ufffd"), False)
        rows |= np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
    return rows


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, int]:
    """Per row, the index of its value among the column's distinct values (null its own),
    and how many there are."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
    size = len(encoded.dictionary)
    codes = np.asarray(encoded.indices.fill_null(size).to_numpy(zero_copy_only=False), np.int64)
    return codes, size + 1


def duplicates(table: pa.Table, first: Sequence[str] = ()) -> np.ndarray:
    """Rows equal in every column to an earlier row: the second and later copies (the first
    stays). Rows are grouped column by column, the columns ``first`` (a line key) before the
    others, and rows alone in their group are dropped from the next round, so after a few
    columns with many distinct values (an id, a timestamp) only the real copies are still
    compared."""
    n = table.num_rows
    rows = np.arange(n)
    group = np.zeros(n, np.int64)
    names = [*first, *(c for c in table.column_names if c not in first)]
    for column in (table.column(name) for name in names):
        if not len(rows):
            break
        codes, size = _codes(column.take(pa.array(rows)) if len(rows) < n else column)
        key = group * size + codes
        _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        shared = counts[inverse] > 1
        rows, group = rows[shared], inverse[shared]
    out = np.zeros(n, dtype=bool)
    if len(rows):
        _, first_copy = np.unique(group, return_index=True)  # rows ascending: the first
        out[rows] = True
        out[rows[first_copy]] = False
    return out


def _line_keys(table: pa.Table, columns: Sequence[str]) -> pa.ChunkedArray | pa.Array:
    """One text key per row from the key columns (joined by a unit separator)."""
    parts = [pc.cast(table.column(c), pa.string()) for c in columns]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, "\x1f")


def already_stored(
    typed: pa.Table, line_key: Sequence[str], partition_column: str, stored_keys: StoredKeys
) -> np.ndarray:
    """Rows whose line key an earlier batch stored in the same partition.

    >>> rows = pa.table({"id": ["a", "b"], "maned": [202401, 202401]})
    >>> stored = lambda months: pa.table({"id": ["b"], "maned": [202401]})
    >>> already_stored(rows, ["id"], "maned", stored).tolist()
    [False, True]
    """
    if not typed.num_rows:
        return np.zeros(0, dtype=bool)
    partitions = pc.unique(typed.column(partition_column)).to_pylist()
    earlier = stored_keys(sorted(p for p in partitions if p is not None))
    if not earlier.num_rows:
        return np.zeros(typed.num_rows, dtype=bool)
    # the same line in the same partition (month): a line's partition never changes
    columns = (*line_key, partition_column)
    seen = _line_keys(typed, columns)
    stored = _line_keys(earlier, columns)
    if isinstance(stored, pa.ChunkedArray):
        stored = stored.combine_chunks()
    hit = pc.fill_null(pc.is_in(seen, value_set=stored), False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


__all__ = [
    "FUTURE",
    "StoredKeys",
    "already_stored",
    "duplicates",
    "future",
    "today_in",
    "undecodable",
]
