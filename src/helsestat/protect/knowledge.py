"""What an attacker knows about a release besides its published values, read off the tables.

A table shows which combinations it lists, published or not (a suppressed cell keeps its
dimension values). When a table lists only non-empty cells (every listed value of the
measure is above 0), that listing is knowledge:

* a combination it does not list is empty: every inner cell under it is 0;
* a listed cell holds at least the smallest positive value of the measure — 1 for whole
  numbers (counts), so a hidden listed count is at least 1.

Whether the values are whole numbers is read off them too (an integer type, or every value
integral): an attacker knows counts are whole numbers, so an interval that holds a single
whole number discloses the cell. None of this is a caller's flag: a statistic may *declare*
that its tables list only non-empty cells (``listing="non_empty"``), and then a table that
lists an empty cell is an error, but it cannot declare the attacker ignorant of what the
data shows.

The inner cells and the tables must agree on which combinations exist: an inner cell of the
release with a value that some table does not list means the tables are not sums of the
inner cells (``protect.missing_cells``, naming the combinations).

>>> import numpy as np, pyarrow as pa
>>> from scipy import sparse
>>> inner = pa.table({"k": ["a", "b", "c"], "n": [2, 0, 5]})
>>> listed = pa.table({"k": ["a", "c"], "n": [2, 5]})
>>> x = sparse.csc_matrix(np.array([[1, 0, 1], [0, 0, 1], [0, 1, 1]]))  # cells: a, c, total
>>> what = derive(inner, [Listed("k", listed, ("k",), 0), Listed("t", pa.table({"n": [7]}),
...               (), 2)], x, np.array([2.0, 0, 5]), np.array([2.0, 5, 7]), "n", "derive")
>>> what.integer, what.non_empty, what.known_zero.tolist(), what.lower.tolist()
(True, ('k', 't'), [False, True, False], [1.0, 0.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

from helsestat.errors import ProtectionError

#: How the tables list their cells: ``derive`` reads it off the values (the default);
#: ``non_empty`` declares that every table lists only non-empty cells, checked.
Listing = Literal["derive", "non_empty"]

#: How many combinations an error names.
NAMED = 5


@dataclass(frozen=True)
class Listed:
    """One table as the attacker sees it: its name, rows, dimension columns and where its
    cells start among the columns of the model matrix."""

    name: str
    table: pa.Table
    dimensions: tuple[str, ...]
    offset: int


@dataclass(frozen=True)
class Knowledge:
    """What the tables tell besides their published values.

    ``integer``: the measure's values are whole numbers; ``non_empty``: the tables that
    list only non-empty cells; ``known_zero`` per inner cell: empty, because a table of
    non-empty cells does not list its combination; ``lower`` per inner cell and
    ``at_least`` per cell: the least each holds (1 for a listed count of a table of
    non-empty cells; the per-cell floor is what the inner cells' own floors do not imply)."""

    integer: bool
    non_empty: tuple[str, ...]
    known_zero: np.ndarray
    lower: np.ndarray
    at_least: np.ndarray


def is_whole(values: pa.ChunkedArray | pa.Array | np.ndarray) -> bool:
    """True when every value is a whole number (an integer type, or integral floats).

    >>> import pyarrow as pa
    >>> is_whole(pa.array([1, 2])), is_whole(pa.array([1.0, 2.0])), is_whole(pa.array([0.5]))
    (True, True, False)
    """
    if isinstance(values, pa.ChunkedArray | pa.Array) and pa.types.is_integer(values.type):
        return True
    if isinstance(values, pa.ChunkedArray | pa.Array):
        if not (pa.types.is_floating(values.type) or pa.types.is_decimal(values.type)):
            return False
        arr = np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False))
    else:
        arr = np.asarray(values, dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    return bool(np.all(arr == np.round(arr)))


def derive(
    inner: pa.Table,
    tables: Sequence[Listed],
    x: sparse.csc_matrix,
    y: np.ndarray,
    z: np.ndarray,
    measure: str,
    listing: Listing,
    covered: np.ndarray | None = None,
) -> Knowledge:
    """The attacker's knowledge of a release: ``x`` links the ``inner`` cells (values ``y``)
    to the cells of ``tables`` (values ``z``, columns from each table's offset); ``covered``
    marks the inner cells the release covers (all by default). Raises
    :class:`ProtectionError` when the tables contradict ``listing`` or the inner cells."""
    m = x.shape[0]
    covered = np.ones(m, dtype=bool) if covered is None else np.asarray(covered, dtype=bool)
    integer = is_whole(inner.column(measure)) and all(
        is_whole(t.table.column(measure)) for t in tables if measure in t.table.column_names
    )
    xr = sparse.csr_matrix(x)
    known_zero = np.zeros(m, dtype=bool)
    non_empty: list[str] = []
    floors = np.zeros(x.shape[1])
    for t in tables:
        cols = slice(t.offset, t.offset + t.table.num_rows)
        values = z[cols]
        empty = ~(values > 0)
        if listing == "non_empty" and empty.any():
            raise ProtectionError(
                "protect.listing_contradicts",
                f"table {t.name!r} lists {int(empty.sum())} empty cell(s) ({measure} <= 0) "
                f"although its tables are declared to list only non-empty cells: "
                f"{name_cells(t.table, t.dimensions, np.flatnonzero(empty))}",
                hint="drop empty rows from the table, or let protection derive the listing "
                "(Protection(listing='derive'))",
            )
        listed = np.diff(xr[:, cols].indptr) > 0
        missing = covered & ~listed
        full = missing & (y != 0)
        if full.any():
            raise ProtectionError(
                "protect.missing_cells",
                f"table {t.name!r} does not list {int(full.sum())} combination(s) that hold "
                f"data in the inner cells: {name_cells(inner, t.dimensions, np.flatnonzero(full))}",
                hint="the inner cells and the tables must come from the same data: list "
                "every combination in every table, or pass inner cells of this release only",
            )
        if not empty.any():
            non_empty.append(t.name)
            known_zero |= missing
            if integer:
                floors[cols] = 1.0
    lower = np.zeros(m)
    # A listed cell of one inner cell (known zeros aside): that inner cell holds the floor.
    xs = sparse.csc_matrix(x.multiply(~known_zero[:, None])) if known_zero.any() else x
    xs = sparse.csc_matrix(xs)
    xs.eliminate_zeros()
    one = np.flatnonzero((np.diff(xs.indptr) == 1) & (floors > 0))
    lower[xs.indices[xs.indptr[one]]] = floors[one]
    at_least = np.where(floors > xs.T @ lower, floors, 0.0)
    return Knowledge(integer, tuple(non_empty), known_zero, lower, at_least)


def name_cells(table: pa.Table, dimensions: tuple[str, ...], rows: np.ndarray) -> str:
    """The first :data:`NAMED` of ``rows`` by their dimension values (codes, never
    measures).

    >>> import pyarrow as pa
    >>> name_cells(pa.table({"kommune": ["0301", "1103"], "n": [4, 1]}), ("kommune",),
    ...            np.array([1]))
    'kommune=1103'
    """
    if not dimensions:
        return "the total"
    picked = table.select(list(dimensions)).take(pa.array(rows[:NAMED])).to_pylist()
    text = "; ".join(" ".join(f"{k}={v}" for k, v in row.items()) for row in picked)
    more = len(rows) - NAMED
    return text + (f" and {more} more" if more > 0 else "")


__all__ = [
    "Knowledge",
    "Listed",
    "Listing",
    "derive",
    "is_whole",
    "name_cells",
]
