"""What the row formats (JSON, XML, CSV, Excel) write of a selection: a :class:`View`.

The default view (:data:`DEFAULT`) writes a table's published columns — the dimensions as
text and the measures as numbers in table order, then ``status`` and ``status_rule``
(:func:`~helsestat.publish.published.publishable`). A statistic that replaces an existing API
declares the fields that API writes instead (e.g. Helfo's twelve fields, with ``ar`` as an
integer and a field the table lacks as null), and whether the status fields are written only
when the suppressed cells are asked for. JSON-stat and Parquet always carry the published
columns: they are documents of the table, not of an API's rows.

Rows are rendered once per format and view and kept (within the index's byte budget), so a
repeated row costs a lookup (:func:`fragments`).

>>> DEFAULT.fields is None, DEFAULT.status_always
(True, True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.model import RULE_COLUMN, STATUS_COLUMN
from helsestat.publish.index import Selection, TableIndex

T = TypeVar("T")

Row = tuple[Any, ...]
STATUS_FIELDS = (STATUS_COLUMN, RULE_COLUMN)
#: Rows rendered in one piece of a large answer (:func:`pieces`): each piece is a short
#: stretch of work, so a thread rendering a whole table hands the interpreter over often.
PIECE_ROWS = 2_000


@dataclass(frozen=True)
class Field:
    """One field of a view: its name, the column it comes from (its name by default; a
    column the table lacks gives null), and how the value is written: ``value`` as the table
    publishes it, ``integer`` a text of digits as a number (``"2018"`` → ``2018``).

    >>> Field("ar", kind="integer").source
    'ar'
    """

    name: str
    column: str | None = None
    kind: Literal["value", "integer"] = "value"

    @property
    def source(self) -> str:
        """The column the field reads."""
        return self.column or self.name


@dataclass(frozen=True)
class View:
    """The fields of the row formats. ``fields=None``: the table's published columns.
    ``status_always``: write ``status`` and ``status_rule`` on every answer; otherwise only
    when the suppressed cells are asked for (they are left out otherwise).

    >>> View("helfo", (Field("ar", kind="integer"),), status_always=False).name
    'helfo'
    """

    name: str
    fields: tuple[Field, ...] | None = None
    status_always: bool = True


#: The published columns, status fields always written.
DEFAULT = View("published")


def with_status(selection: Selection, view: View) -> bool:
    """Whether the answer carries the status fields."""
    return view.status_always or selection.with_suppressed


def field_names(selection: Selection, view: View) -> tuple[str, ...]:
    """The names of the fields of an answer, in order.

    >>> import pyarrow as pa
    >>> from helsestat.model import ProtectedTable
    >>> from helsestat.publish.index import TableIndex
    >>> t = ProtectedTable("t", "T", ("k",), ("n",), pa.table({"k": ["a"], "n": [1],
    ...     "status": ["published"], "status_rule": [""]}))
    >>> field_names(Selection.everything(TableIndex.build(t)), DEFAULT)
    ('k', 'n', 'status', 'status_rule')
    """
    if view.fields is None:
        return tuple(selection.index.names)
    names = tuple(f.name for f in view.fields)
    return (*names, *STATUS_FIELDS) if with_status(selection, view) else names


def _integers(index: TableIndex, column: str) -> list[int | None]:
    """A text column's dictionary as integers (kept per index)."""
    key = f"int:{column}"
    found = index.constants.get(key)
    if not isinstance(found, list):
        found = [None if v is None else int(v) for v in index.texts[column].values.tolist()]
        index.constants[key] = found
    return found


def columns(index: TableIndex, rows: np.ndarray, view: View, status: bool) -> list[list[Any]]:
    """The fields of ``rows`` as Python values, column by column."""
    if view.fields is None:
        return [index.column(name, rows) for name in index.names]
    n = len(rows)
    out: list[list[Any]] = []
    for f in view.fields:
        source = f.source
        if f.kind == "integer" and source in index.texts:
            lookup = _integers(index, source)
            out.append([lookup[c] for c in index.texts[source].codes[rows].tolist()])
        elif source in index.texts or source in index.values:
            out.append(index.column(source, rows))
        else:
            out.append([None] * n)
    if status:
        out += [index.column(name, rows) for name in STATUS_FIELDS]
    return out


def uniform(codes: np.ndarray) -> list[bool]:
    """Per row of a (column, selected row) matrix of codes: is it one code throughout?

    >>> uniform(np.array([[1, 1], [0, 2]]))
    [True, False]
    """
    if not codes.shape[1]:
        return [True] * len(codes)
    same: list[bool] = np.logical_and.reduce(codes == codes[:, :1], axis=1).tolist()
    return same


def row_values(selection: Selection, view: View, limit: int | None = None) -> list[Row]:
    """The first ``limit`` rows of a selection as tuples of the view's fields."""
    rows = selection.rows if limit is None else selection.rows[:limit]
    cols = columns(selection.index, rows, view, with_status(selection, view))
    return list(zip(*cols, strict=True)) if len(rows) else []


def fragments(
    selection: Selection, fmt: str, view: View, make: Callable[[Row], bytes]
) -> list[bytes]:
    """The rendered rows of a selection in order: ``make`` renders a row's field values as
    the bytes of format ``fmt``; each rendered row is kept for the next answer."""
    status = with_status(selection, view)
    index = selection.index
    if not index.fragments.keep_rows:
        return list(map(make, zip(*columns(index, selection.rows, view, status), strict=True)))
    key = f"{fmt}:{view.name}" + ("+status" if status else "")

    def render(rows: np.ndarray) -> Iterable[bytes]:
        return map(make, zip(*columns(index, rows, view, status), strict=True))

    return cached_rows(index, key, selection.rows.tolist(), render)


def pieces(selection: Selection, size: int = PIECE_ROWS) -> Iterator[Selection]:
    """The selection in consecutive pieces of at most ``size`` rows (one empty piece for an
    empty selection), each counting the suppressed cells of the whole.

    >>> import pyarrow as pa
    >>> from helsestat.model import ProtectedTable
    >>> t = ProtectedTable("t", "T", ("k",), ("n",), pa.table({"k": ["a", "b", "c"],
    ...     "n": [1, 2, 3], "status": ["published"] * 3, "status_rule": [""] * 3}))
    >>> [len(p) for p in pieces(Selection.everything(TableIndex.build(t)), 2)]
    [2, 1]
    """
    rows = selection.rows
    for start in range(0, max(len(rows), 1), size):
        yield Selection(
            selection.index, rows[start : start + size], selection.suppressed,
            selection.with_suppressed,
        )  # fmt: skip


def per_view(selection: Selection, view: View, what: str, make: Callable[[], T]) -> T:
    """``make()``, kept on the selection's index for the view (with or without status): the
    parts of an answer that are the same for every answer of a table — a header, a
    document head, the field flags — are made once.

    >>> import pyarrow as pa
    >>> from helsestat.model import ProtectedTable
    >>> t = ProtectedTable("t", "T", ("k",), ("n",), pa.table({"k": ["a"], "n": [1],
    ...     "status": ["published"], "status_rule": [""]}))
    >>> everything = Selection.everything(TableIndex.build(t))
    >>> per_view(everything, DEFAULT, "names", lambda: field_names(everything, DEFAULT))
    ('k', 'n', 'status', 'status_rule')
    """
    key = f"{what}:{view.name}:{with_status(selection, view)}"
    store = selection.index.constants
    if key in store:
        return cast(T, store[key])
    made = make()
    store[key] = made
    return made


def cached_rows(
    index: TableIndex,
    key: str,
    rows: Sequence[int],
    make: Callable[[np.ndarray], Iterable[bytes]],
) -> list[bytes]:
    """The fragments of ``rows`` kept under ``key``; ``make`` renders those not kept yet (as
    fragments of the rows it is given, in order). An index that keeps no rows has them all
    rendered."""
    store = index.fragments
    if not store.keep_rows:
        return list(make(np.array(rows, dtype=np.int64)))
    known = store.get(key)
    try:
        return list(map(known.__getitem__, rows))  # every row rendered before: the usual case
    except KeyError:
        pass
    missing = [r for r in dict.fromkeys(rows) if r not in known]
    built = dict(zip(missing, make(np.array(missing, dtype=np.int64)), strict=True))
    size = sum(map(len, built.values()))
    if store.budget[0] >= size:  # the usual case: all kept at once
        store.budget[0] -= size
        known.update(built)
    else:
        for r, fragment in built.items():
            store.keep(key, r, fragment)
    if len(missing) == len(rows):  # none was kept before, each row once: in their order
        return list(built.values())
    return [known.get(r) or built[r] for r in rows]


#: Answers not kept (computed per query) of at least this many rows are written by
#: :func:`joined_rows` (JSON, CSV) instead of one Python object per row (fewer rows cost
#: less in Python than a few kernel calls).
VECTOR_ROWS = 1_000


def joined_rows(
    selection: Selection,
    lead: Callable[[int, str], str],
    text: Callable[[Any], str],
    null: str,
    end: str,
    trim: int = 0,
) -> bytes | None:
    """The selected rows written by Arrow kernels, column by column, instead of one Python
    object per row (a large answer computed for one query): before each column its
    ``lead`` (from its position and name), each text column's distinct values written once
    by ``text`` and taken per row, integer measures cast to digits (``null`` where
    suppressed), ``end`` after each row (``trim`` bytes of the last one left out); the
    pieces of each row are joined and the rows' bytes read from the joined array's data at
    once. None when a measure is not an integer
    (a float is written as the format's row writer writes it) or no column varies.

    >>> import pyarrow as pa
    >>> from helsestat.model import ProtectedTable
    >>> t = ProtectedTable("t", "T", ("k",), ("n",), pa.table({"k": ["a", "b"], "n": [1, None],
    ...     "status": ["published", "primary"], "status_rule": ["", "n<=3"]}))
    >>> joined_rows(Selection.everything(TableIndex.of_answer(t)),
    ...             lambda i, name: "" if i == 0 else ",", str, "", ";")
    b'a,1,published,;b,,primary,n<=3;'
    """
    index, rows = selection.index, selection.rows
    pieces: list[pa.Array | str] = []

    def add(piece: pa.Array | str) -> None:  # text next to text is one piece (fewer joins)
        if isinstance(piece, str) and pieces and isinstance(pieces[-1], str):
            pieces[-1] += piece
        else:
            pieces.append(piece)

    for i, name in enumerate(index.names):
        before = lead(i, name)
        column = index.texts.get(name)
        if column is not None:
            encoded = [before + text(v) for v in column.values.tolist()]
            codes = column.codes[rows]
            if len(encoded) == 1 or not (codes != codes[0]).any():  # one value throughout
                add(encoded[int(codes[0])])
            else:
                add(pa.array(encoded, pa.string()).take(codes))
        elif index.integer.get(name):
            valid = index.valid[name][rows]
            numbers = pa.array(
                index.values[name][rows], pa.int64(), mask=None if valid.all() else ~valid
            )
            digits = pc.cast(numbers, pa.string())
            add(before)
            add(pc.fill_null(digits, null) if digits.null_count else digits)
        else:
            return None
    add(end)
    if all(isinstance(piece, str) for piece in pieces):
        return None
    joined = pc.binary_join_element_wise(*pieces, "")
    _, offsets, data = joined.buffers()
    at = np.frombuffer(offsets, np.int32)[joined.offset : joined.offset + len(joined) + 1]
    return memoryview(data)[int(at[0]) : int(at[-1]) - trim].tobytes()


__all__ = [
    "DEFAULT",
    "PIECE_ROWS",
    "STATUS_FIELDS",
    "Field",
    "Row",
    "View",
    "cached_rows",
    "columns",
    "field_names",
    "fragments",
    "joined_rows",
    "per_view",
    "pieces",
    "row_values",
    "uniform",
    "with_status",
]
