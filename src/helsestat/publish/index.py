"""In-memory indexes of published tables: a query is a few binary searches and a take — no
DuckDB, no Parquet read per request. Every statistic is served through these.

A :class:`TableIndex` holds a :class:`~helsestat.model.ProtectedTable`'s rows sorted by its
:class:`Key` — dimension columns in the order a query most often fixes them, with the
table's :class:`Range` (its period, as an integer) among them — text columns
dictionary-encoded (codes in sorted order, so code order is text order) and measures as
numpy arrays. Each row has a composite key (its key codes in mixed radix), so the rows of
every combination of the values a query fixes on the leading key columns, within a range of
the next one, are found by one vectorised binary search; the filters on the other columns
are masks. :meth:`TableIndex.select` returns the rows in the table's published order,
sorting by a precomputed rank of every row only when the rows are not in that order already.

>>> import pyarrow as pa
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("ar", "kommune"), ("n",), pa.table({
...     "ar": ["2016", "2015", "2015"], "kommune": ["0301", "0301", "1103"], "n": [9, 7, None],
...     "status": ["published", "published", "primary"], "status_rule": ["", "", "n<=5"]}))
>>> index = TableIndex.build(t, Key(("kommune", "periode"), ("periode", "kommune"),
...                                 Range("periode", ("ar",))))
>>> chosen = index.select(Query({"kommune": ("0301",)}, (2015, 2016)))
>>> index.column("ar", chosen.rows), chosen.suppressed
(['2015', '2016'], 0)
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.errors import HelsestatError, ProtectionError
from helsestat.model import RULE_COLUMN, STATUS_COLUMN, ProtectedTable
from helsestat.publish.published import STATUS_LEGEND, publishable

#: Bytes of rendered row fragments the indexes of one release may keep for reuse.
FRAGMENT_BUDGET = 64 * 1024 * 1024
#: Releases whose indexes a cache keeps (the current one and a few pinned ones).
KEEP_RELEASES = 3
#: At most this many key intervals are searched for; past it, the rest are masks.
MAX_INTERVALS = 200_000
#: Up to this many intervals, their rows are joined from one range each (fewer array calls).
_FEW_INTERVALS = 16
_INT64_ROOM = 2**62


@dataclass(frozen=True)
class Range:
    """A dimension queried by an interval: an integer made of the digits of ``columns``
    (those the table has), e.g. ``ar`` + ``maned`` → ``201805``, ``ar`` alone → ``2018``.

    >>> Range("periode", ("ar", "maned")).name
    'periode'
    """

    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Key:
    """How a table is indexed and in which order its rows are published.

    ``columns`` are the key in index order (names of dimension columns, or the range's
    name); ``order`` is the published row order (the same names). A name the table lacks
    (a fylke column on a national table) is left out of both. Empty tuples keep the table's
    stored order (what :func:`helsestat.publish.publish` renders).

    >>> Key().columns, Key().order
    ((), ())
    """

    columns: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    range: Range | None = None


@dataclass(frozen=True, slots=True)
class Query:
    """What a request asks for: per dimension the values it may take (a dimension not named,
    or named with no values, is not filtered), an inclusive interval of the range, and
    whether suppressed cells are included (they always carry their status).

    >>> Query({"kommune": ("0301",)}).values["kommune"]
    ('0301',)
    """

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    range: tuple[int, int] | None = None
    with_suppressed: bool = True


@dataclass
class FragmentStore:
    """Rendered rows of one table kept for reuse, per format, within a byte budget that the
    tables of a release share (the one-element list)."""

    budget: list[int] = field(default_factory=lambda: [FRAGMENT_BUDGET])
    by_format: dict[str, dict[int, bytes]] = field(default_factory=dict)
    #: False for an answer computed for one query (most are rendered once): its rows are
    #: rendered in one go and not kept (:func:`helsestat.publish.views.fragments`)
    keep_rows: bool = True

    def get(self, fmt: str) -> dict[int, bytes]:
        """The fragments kept for ``fmt`` (row → bytes)."""
        return self.by_format.setdefault(fmt, {})

    def keep(self, fmt: str, row: int, fragment: bytes) -> None:
        """Keep ``fragment`` while the budget lasts."""
        if self.budget[0] >= len(fragment):
            self.budget[0] -= len(fragment)
            self.get(fmt)[row] = fragment


@dataclass(frozen=True, slots=True)
class Selection:
    """The rows of one answer (positions in the index, in published order) and how many
    cells matching the query are suppressed (left out unless the query asked for them)."""

    index: TableIndex
    rows: np.ndarray
    suppressed: int
    with_suppressed: bool

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def everything(cls, index: TableIndex) -> Selection:
        """Every row of the table, in published order, suppressed cells included."""
        if index.sorted_rank:
            rows = np.arange(index.size, dtype=np.int64)
        else:
            rows = np.argsort(index.rank, kind="stable").astype(np.int64)
        return cls(index, rows, int(index.size - np.count_nonzero(index.published)), True)


@dataclass(frozen=True)
class Text:
    """A dictionary-encoded text column: sorted distinct values and each row's code."""

    values: np.ndarray  # object array of str (None for a null)
    codes: np.ndarray  # int32, one per row

    def __len__(self) -> int:
        return len(self.codes)

    def code_of(self) -> dict[str | None, int]:
        """Value → code."""
        return {v: i for i, v in enumerate(self.values.tolist())}


#: Text columns up to this many rows are encoded in Python (a few Arrow kernel calls cost
#: more than the rows: a table computed per query is encoded on every request).
SHORT_TEXT = 256


def _cells_unique(index: TableIndex) -> bool:
    """Whether no two rows of an index share their dimension values (the codes of every
    dimension in mixed radix, sorted; pyarrow's group-by where they do not fit an int64)."""
    table, view = index.source, index.view
    columns: list[tuple[np.ndarray, int]] = []
    range_codes, range_dict = index.range_codes, index.range_dict
    in_range = set(index.range_columns)
    if range_codes is not None and range_dict is not None:
        columns.append((range_codes, len(range_dict)))
    for name in table.dimensions:
        if name in in_range and range_codes is not None:
            continue
        text = index.texts.get(name)
        if text is None:
            text = index.texts[name] = _encode(view[name])
        columns.append((text.codes, len(text.values)))
    if math.prod(max(1, size) for _, size in columns) >= _INT64_ROOM:
        groups = view.group_by(list(table.dimensions)).aggregate([])
        return bool(groups.num_rows == view.num_rows)
    combined = np.zeros(view.num_rows, dtype=np.int64)
    for codes, size in columns:
        combined *= max(1, size)
        combined += codes
    combined.sort()
    return not bool(np.any(combined[1:] == combined[:-1]))


def _encode(column: pa.ChunkedArray | pa.Array) -> Text:
    if len(column) <= SHORT_TEXT and pa.types.is_string(column.type):
        return _encode_short(column.to_pylist())
    text = pc.cast(column, pa.string())
    if isinstance(text, pa.ChunkedArray) and text.num_chunks == 1:
        text = text.chunk(0)
    if isinstance(text, pa.Array):  # one pass of hashing, the (few) values sorted here
        return _encode_dictionary(text.dictionary_encode())
    distinct = pc.unique(text)
    dictionary = pc.take(distinct, pc.array_sort_indices(distinct, null_placement="at_end"))
    codes = pc.index_in(text, value_set=dictionary, skip_nulls=False)
    return Text(
        np.array(dictionary.to_pylist(), dtype=object),
        np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int32),
    )


def _encode_dictionary(encoded: pa.DictionaryArray) -> Text:
    """:func:`_encode` of a dictionary-encoded column (nulls masked): its dictionary sorted
    by code point (the order of Arrow's sort of UTF-8), a null last, the indices renumbered.

    >>> text = _encode_dictionary(pa.array(["b", None, "a", "b"]).dictionary_encode())
    >>> text.values.tolist(), text.codes.tolist()
    (['a', 'b', None], [1, 2, 0, 1])
    """
    values: list[str | None] = encoded.dictionary.to_pylist()
    order = sorted(range(len(values)), key=values.__getitem__)  # type: ignore[arg-type]
    renumber = np.empty(len(values) + 1, dtype=np.int32)
    renumber[order] = np.arange(len(values), dtype=np.int32)
    renumber[len(values)] = len(values)  # a null: after every value
    indices = encoded.indices
    if indices.null_count:
        indices = pc.fill_null(indices, len(values))
    distinct = [values[i] for i in order]
    if encoded.null_count:
        distinct.append(None)
    return Text(
        np.array(distinct, dtype=object),
        renumber[indices.to_numpy(zero_copy_only=False)],
    )


def _encode_short(values: list[str | None]) -> Text:
    """:func:`_encode` of a short column: distinct values sorted by code point (the order
    of Arrow's sort of UTF-8), a null last.

    >>> text = _encode_short(["b", None, "a", "b"])
    >>> text.values.tolist(), text.codes.tolist()
    (['a', 'b', None], [1, 2, 0, 1])
    """
    seen = set(values)
    if len(seen) == 1:  # one value throughout (a status, as a rule): no look-up per row
        return Text(np.array(list(seen), dtype=object), np.zeros(len(values), np.int32))
    null = None in seen
    seen.discard(None)
    distinct: list[str | None] = [*sorted(cast("set[str]", seen))]
    if null:
        distinct.append(None)
    code = dict(zip(distinct, range(len(distinct)), strict=True))
    return Text(
        np.array(distinct, dtype=object),
        np.fromiter(map(code.__getitem__, values), np.int32, len(values)),
    )


@dataclass(frozen=True)
class Columns:
    """A table protected by its statistic, handed over as the index holds it rather than as
    Arrow columns to be read back (:meth:`TableIndex.of_columns`): every dimension,
    ``status`` and ``status_rule`` as a :class:`Text` (its distinct values sorted, a code
    per row), every measure as int64 or float64 values (0 where there is none) with the
    rows that hold one (``valid``). The other fields are a
    :class:`~helsestat.model.ProtectedTable`'s."""

    name: str
    title: str
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    texts: Mapping[str, Text]
    values: Mapping[str, np.ndarray]
    valid: Mapping[str, np.ndarray]
    release: str = ""
    notes: tuple[str, ...] = ()
    guarded: tuple[str, ...] = ()


def _not_made(columns: Columns, problem: str) -> HelsestatError:
    return HelsestatError(
        "publish.bad_columns",
        f"table {columns.name!r}: {problem}",
        hint="every dimension, status and status_rule a Text, every measure values and valid",
    )


def _within(codes: np.ndarray, size: int) -> bool:
    """Whether every code is one of ``0 … size - 1`` (in Python for a few codes)."""
    if len(codes) <= SHORT_TEXT:
        listed = codes.tolist()
        return bool(min(listed) >= 0 and max(listed) < size)
    return bool(codes.min() >= 0 and codes.max() < size)


def _checked(columns: Columns) -> tuple[int, np.ndarray]:
    """The rows of ``columns`` and which are published, after the checks
    :func:`~helsestat.publish.published.publishable` makes of a table: known statuses, no
    empty dimension, no value in a suppressed cell of a guarded measure."""
    texts, values, valid = columns.texts, columns.values, columns.valid
    names = (*columns.dimensions, STATUS_COLUMN, RULE_COLUMN)
    if any(name not in texts for name in names) or any(
        m not in values or m not in valid for m in columns.measures
    ):
        raise _not_made(columns, "a column is missing")
    status = texts[STATUS_COLUMN]
    n = len(status.codes)
    for name in names:
        text = texts[name]
        if len(text.codes) != n:
            raise _not_made(columns, f"column {name!r} has another number of rows")
        if n and not _within(text.codes, len(text.values)):
            raise _not_made(columns, f"column {name!r} has a code without a value")
        if None in text.values.tolist():
            if name in columns.dimensions:
                raise HelsestatError(
                    "publish.null_dimension",
                    f"table {columns.name!r}: dimension {name!r} is empty in some row(s)",
                    hint="code unknown values explicitly (e.g. '9999') before protect",
                )
            raise ProtectionError(
                "publish.unknown_status",
                f"table {columns.name!r}: a row has no {name}",
                hint=f"status is one of: {', '.join(STATUS_LEGEND)}",
            )
    statuses = status.values.tolist()
    if any(s not in STATUS_LEGEND for s in statuses):
        raise ProtectionError(
            "publish.unknown_status",
            f"table {columns.name!r}: some row(s) have no known status",
            hint=f"status is one of: {', '.join(STATUS_LEGEND)}",
        )
    code = statuses.index("published") if "published" in statuses else -1
    published: np.ndarray = status.codes == code
    hidden = None if code >= 0 and len(statuses) == 1 else ~published
    for name in columns.measures:
        if len(values[name]) != n or len(valid[name]) != n:
            raise _not_made(columns, f"measure {name!r} has another number of rows")
        if values[name].dtype not in (np.int64, np.float64) or valid[name].dtype != np.bool_:
            raise _not_made(columns, f"measure {name!r} is not int64 or float64 with valid")
        guarded = name in (columns.guarded or columns.measures)
        if guarded and hidden is not None and n:
            leaks = int(np.count_nonzero(hidden & valid[name]))
            if leaks:
                # Never publish a value that protect marked as suppressed, whatever made it.
                raise ProtectionError(
                    "publish.unsuppressed_value",
                    f"table {columns.name!r}: measure {name!r} has a value in {leaks} "
                    "suppressed cell(s)",
                    hint="protect must set every guarded measure of a suppressed cell to null",
                )
    return n, published


def _protected(columns: Columns) -> ProtectedTable:
    """The table of checked ``columns`` (:func:`_checked`), as Arrow columns."""
    arrays: dict[str, pa.Array] = {}
    for name in columns.dimensions:
        arrays[name] = _arrow_text(columns.texts[name])
    for name in columns.measures:
        shown = columns.valid[name]
        given = columns.values[name]
        arrays[name] = pa.array(
            given,
            pa.int64() if given.dtype == np.int64 else pa.float64(),
            mask=None if shown.all() else ~shown,
        )
    arrays[STATUS_COLUMN] = _arrow_text(columns.texts[STATUS_COLUMN])
    arrays[RULE_COLUMN] = _arrow_text(columns.texts[RULE_COLUMN])
    return ProtectedTable(
        columns.name,
        columns.title,
        columns.dimensions,
        columns.measures,
        pa.table(arrays),
        columns.release,
        columns.notes,
        columns.guarded,
    )


def _arrow_text(text: Text) -> pa.Array:
    if len(text.codes) <= SHORT_TEXT:  # a list in Python costs less than a kernel call
        return pa.array(text.values[text.codes].tolist(), pa.string())
    return pa.array(text.values.tolist(), pa.string()).take(pa.array(text.codes))


def encode_text(values: Sequence[str]) -> Text:
    """A text column given as Python strings, encoded as an index holds it (distinct values
    sorted by code point, a code per row).

    >>> encode_text(["b", "a", "b"]).codes.tolist()
    [1, 0, 1]
    """
    return _encode_short(list(values))


def _range_values(data: pa.Table, spec: Range) -> np.ndarray:
    present = [c for c in spec.columns if c in data.column_names]
    total = np.zeros(data.num_rows, dtype=np.int64)
    for name in present:
        digits = pc.cast(data[name], pa.string())
        width = pc.max(pc.utf8_length(digits)).as_py() or 0
        number = pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)
        total = total * 10**width + number
    return total


@dataclass(eq=False)
class TableIndex:
    """One published table, sorted and encoded for fast selection (see the module text)."""

    names: tuple[str, ...]  # the published columns, in order (those of ``view``)
    _source: ProtectedTable | None  # the table, rows in index order (see ``source``)
    _view: pa.Table | None  # its published columns (publish.published.publishable)
    key: tuple[str, ...]  # the key columns the table has, in index order
    order: tuple[str, ...]  # the published order, names the table has
    range_name: str | None
    texts: dict[str, Text]  # every text column of the view, and the key's
    range_values: np.ndarray | None  # int64 per row
    range_dict: np.ndarray | None  # sorted distinct range values
    range_codes: np.ndarray | None  # int32 per row
    measures: tuple[str, ...]
    values: dict[str, np.ndarray]  # measure → int64 or float64 array (0 where no value)
    valid: dict[str, np.ndarray]  # measure → bool array
    integer: dict[str, bool]  # measure → published as an integer
    published: np.ndarray  # bool per row: status == published
    composite: np.ndarray | None  # int64 per row, sorted; None when the key does not fit
    strides: tuple[int, ...]
    cardinality: tuple[int, ...]
    rank: np.ndarray  # int64 per row: its position in published order
    sorted_rank: bool  # rank == arange: index order is published order
    unique: bool  # the key covers every dimension and no two rows share it
    fragments: FragmentStore = field(default_factory=FragmentStore)
    #: Per-table constant parts of a format's documents, filled by the renderers.
    constants: dict[str, object] = field(default_factory=dict)
    #: The dimensions the range is made of (when the table has a range).
    range_columns: tuple[str, ...] = ()
    _code_maps: dict[str, dict[str | None, int]] = field(default_factory=dict)
    _in_order_of: dict[tuple[str, ...], bool] = field(default_factory=dict)
    #: what an index made by :meth:`of_columns` makes its Arrow table of, when asked
    _columns: Columns | None = None

    @property
    def source(self) -> ProtectedTable:
        """The table, rows in index order. Of an index made by :meth:`of_columns`, made
        the first time a format asks for it (JSON, CSV and the other row formats read
        the index alone)."""
        if self._source is None:
            assert self._columns is not None
            self._source = _protected(self._columns)
        return self._source

    @property
    def view(self) -> pa.Table:
        """The published columns (:func:`~helsestat.publish.published.publishable`), in
        index order."""
        if self._view is None:
            self._view = self.source.table
        return self._view

    @property
    def size(self) -> int:
        """Number of rows."""
        return len(self.rank)

    @classmethod
    def build(
        cls, table: ProtectedTable, key: Key = Key(), fragments: FragmentStore | None = None
    ) -> TableIndex:
        """Sort and encode ``table`` by ``key`` (see :class:`Key`)."""
        data = table.table
        names = set(data.column_names)
        spec_range = key.range
        range_name = spec_range.name if spec_range else None
        has_range = spec_range is not None and any(c in names for c in spec_range.columns)
        wanted = tuple(c for c in key.columns if c in names or (c == range_name and has_range))
        order_names = tuple(c for c in key.order if c in names or (c == range_name and has_range))
        n = data.num_rows
        range_values = range_dict = range_codes = None
        if has_range and spec_range is not None:
            range_values = _range_values(data, spec_range)
            range_dict = np.unique(range_values)
            range_codes = np.searchsorted(range_dict, range_values).astype(np.int32)
        key_codes: dict[str, np.ndarray] = {}
        key_sizes: dict[str, int] = {}
        texts: dict[str, Text] = {}
        for name in {*wanted, *order_names}:
            if name == range_name and range_codes is not None and range_dict is not None:
                key_codes[name], key_sizes[name] = range_codes, len(range_dict)
            else:
                texts[name] = _encode(data[name])
                key_codes[name] = texts[name].codes
                key_sizes[name] = len(texts[name].values)
        if wanted:
            index_order = np.lexsort([key_codes[c] for c in reversed(wanted)])
        else:
            index_order = np.arange(n)
        sorted_table = data.take(pa.array(index_order)) if wanted else data
        sorted_protected = ProtectedTable(
            table.name,
            table.title,
            table.dimensions,
            table.measures,
            sorted_table,
            table.release,
            table.notes,
            table.guarded,
        )
        view = publishable(sorted_protected)
        for name, text in list(texts.items()):
            texts[name] = Text(text.values, text.codes[index_order])
        for name in view.column_names:
            if name not in texts and (name in table.dimensions or name in (STATUS_COLUMN,)):
                texts[name] = _encode(view[name])
        texts[RULE_COLUMN] = _encode(view[RULE_COLUMN])
        if range_values is not None and range_codes is not None:
            range_values, range_codes = range_values[index_order], range_codes[index_order]
        codes = {
            c: (range_codes if c == range_name else texts[c].codes) for c in (*wanted, *order_names)
        }
        cardinality = tuple(max(1, key_sizes[c]) for c in wanted)
        strides_list = [math.prod(cardinality[i + 1 :]) for i in range(len(wanted))]
        composite = None
        if wanted and math.prod(cardinality) < _INT64_ROOM:
            composite = np.zeros(n, dtype=np.int64)
            for name, stride in zip(wanted, strides_list, strict=True):
                column = codes[name]
                assert column is not None
                composite += column.astype(np.int64) * stride
        declared = set(table.measures)
        measures = tuple(m for m in view.column_names if m in declared)
        values: dict[str, np.ndarray] = {}
        valid: dict[str, np.ndarray] = {}
        integer: dict[str, bool] = {}
        for name in measures:
            column = view[name]
            integer[name] = pa.types.is_integer(column.type)
            if column.null_count and n <= SHORT_TEXT:  # fewer calls in Python
                listed = column.to_pylist()
                valid[name] = np.array([v is not None for v in listed], dtype=bool)
                values[name] = np.array(
                    [0 if v is None else v for v in listed],
                    dtype=np.int64 if integer[name] else np.float64,
                )
            elif column.null_count:
                valid[name] = pc.is_valid(column).to_numpy(zero_copy_only=False)
                values[name] = pc.fill_null(column, 0).to_numpy(zero_copy_only=False)
            else:
                valid[name] = np.ones(n, dtype=bool)
                values[name] = column.to_numpy()
        status = texts[STATUS_COLUMN]
        published = status.codes == status.code_of().get("published", -1)
        if order_names:
            order_codes = [codes[c] for c in order_names]
            ranked = np.lexsort([c for c in reversed(order_codes) if c is not None])
            rank = np.empty(n, dtype=np.int64)
            rank[ranked] = np.arange(n)
        else:
            rank = np.arange(n, dtype=np.int64)
        # the key tells the cells apart when it covers every dimension
        covered = {c for c in wanted if c != range_name}
        if range_name in wanted and spec_range is not None:
            covered |= {c for c in spec_range.columns if c in names}
        unique = composite is not None and set(table.dimensions) <= covered
        if unique and composite is not None and n > 1:
            unique = bool(np.all(composite[1:] != composite[:-1]))
        return cls(
            names=tuple(view.column_names),
            _source=sorted_protected,
            _view=view,
            key=wanted,
            order=order_names,
            range_name=range_name if has_range else None,
            texts=texts,
            range_values=range_values,
            range_dict=range_dict,
            range_codes=range_codes,
            measures=measures,
            values=values,
            valid=valid,
            integer=integer,
            published=published,
            composite=composite,
            strides=tuple(strides_list),
            cardinality=cardinality,
            rank=rank,
            sorted_rank=not order_names or bool(np.all(rank == np.arange(n))),
            unique=unique,
            fragments=fragments or FragmentStore(),
            range_columns=spec_range.columns if has_range and spec_range is not None else (),
        )

    @classmethod
    def of_answer(cls, table: ProtectedTable) -> TableIndex:
        """The index of an answer computed for one query (most are rendered once, so their
        rows are rendered in one go and not kept: :attr:`FragmentStore.keep_rows`)."""
        return cls.build(table, fragments=FragmentStore(keep_rows=False))

    @classmethod
    def of_columns(cls, columns: Columns) -> TableIndex:
        """The index of an answer computed for one query and handed over as the index holds
        it (:class:`Columns`): the same as :meth:`of_answer` of the table the columns make
        (its ``source``), checked alike, without reading Arrow columns back.

        >>> text = lambda *v: Text(np.array(sorted(set(v)), object),
        ...     np.array([sorted(set(v)).index(x) for x in v], np.int32))
        >>> index = TableIndex.of_columns(Columns("t", "T", ("k",), ("n",),
        ...     {"k": text("a", "b"), "status": text("published", "primary"),
        ...      "status_rule": text("", "n<=5")},
        ...     {"n": np.array([7, 0])}, {"n": np.array([True, False])}))
        >>> index.source.table.column("n").to_pylist(), index.column("status", index.rank)
        ([7, None], ['published', 'primary'])
        """
        n, published = _checked(columns)
        return cls(
            names=(*columns.dimensions, *columns.measures, STATUS_COLUMN, RULE_COLUMN),
            _source=None,
            _view=None,
            key=(),
            order=(),
            range_name=None,
            texts={
                name: columns.texts[name]
                for name in (*columns.dimensions, STATUS_COLUMN, RULE_COLUMN)
            },
            range_values=None,
            range_dict=None,
            range_codes=None,
            measures=columns.measures,
            values=dict(columns.values),
            valid=dict(columns.valid),
            integer={name: columns.values[name].dtype == np.int64 for name in columns.measures},
            published=published,
            composite=None,
            strides=(),
            cardinality=(),
            rank=np.arange(n, dtype=np.int64),
            sorted_rank=True,
            unique=False,
            fragments=FragmentStore(keep_rows=False),
            _columns=columns,
        )

    def one_row_per_cell(self) -> bool:
        """Whether no two rows share their dimension values: known from the key when it
        covers every dimension, else looked at once (every dimension's codes) and kept."""
        if self.unique or self.size <= 1:
            return True
        found = self.constants.get("one_row_per_cell")
        if not isinstance(found, bool):
            found = _cells_unique(self)
            self.constants["one_row_per_cell"] = found
        return found

    # -- reading ---------------------------------------------------------------------------
    def codes(self, name: str) -> dict[str | None, int]:
        """Value → code of a text column (kept once made)."""
        found = self._code_maps.get(name)
        if found is None:
            found = self._code_maps[name] = self.texts[name].code_of()
        return found

    def column(self, name: str, rows: np.ndarray) -> list[object]:
        """The values of a column (text, measure or the range) at ``rows``, as Python values
        (None where a measure has no value)."""
        if name in self.texts:
            text = self.texts[name]
            out: list[object] = text.values[text.codes[rows]].tolist()
            return out
        if name == self.range_name and self.range_values is not None:
            ranged: list[object] = self.range_values[rows].tolist()
            return ranged
        values: list[object] = self.values[name][rows].tolist()
        valid = self.valid[name][rows]
        if not valid.all():
            values = [v if ok else None for v, ok in zip(values, valid.tolist(), strict=True)]
        return values

    def distinct(self, name: str) -> list[str]:
        """The distinct values of a text column, sorted."""
        return [v for v in self.texts[name].values.tolist() if v is not None]

    # -- selecting -------------------------------------------------------------------------
    def _allowed(self, name: str, wanted: tuple[str, ...]) -> np.ndarray:
        known = self.codes(name)
        allowed = np.zeros(len(known) + 1, dtype=bool)
        allowed[[known[w] for w in wanted if w in known]] = True
        return allowed

    def _range_codes(self, bounds: tuple[int, int]) -> tuple[int, int]:
        found = self.constants.get("range_list")
        if not isinstance(found, list):
            assert self.range_dict is not None
            found = self.constants["range_list"] = self.range_dict.tolist()
        return bisect_left(found, bounds[0]), bisect_right(found, bounds[1])

    def _key_plan(self) -> tuple[tuple[str, int, dict[str | None, int] | None], ...]:
        """Per key column in index order: its name, stride and value → code (None for the
        range), made once per index (every query walks it)."""
        found = self.constants.get("key_plan")
        if not isinstance(found, tuple):
            found = tuple(
                (name, self.strides[i], None if name == self.range_name else self.codes(name))
                for i, name in enumerate(self.key)
            )
            self.constants["key_plan"] = found
        return found

    def select(self, query: Query) -> Selection:
        """The rows answering ``query``, in published order; suppressed cells only when the
        query asks for them (they are counted either way)."""
        values = query.values
        mask_range = query.range if self.range_name is not None else None
        fixed: list[str] = []
        rows: np.ndarray | None = None
        bases = [0]
        composite = self.composite
        if composite is not None:
            span: tuple[list[int], list[int]] | None = None
            width = 0
            for name, stride, known in self._key_plan():
                if known is None:  # the range
                    if query.range is not None:
                        lo, hi = self._range_codes(query.range)
                        span = ([b + lo * stride for b in bases], [b + hi * stride for b in bases])
                        mask_range = None
                    break
                wanted = values.get(name)
                if not wanted:
                    break
                if len(wanted) == 1:  # the usual query: one value, no set to sort
                    code = known.get(wanted[0])
                    picked = [] if code is None else [code]
                else:
                    picked = sorted({known[v] for v in wanted if v in known})
                if len(bases) * max(1, len(picked)) > MAX_INTERVALS:
                    break
                bases = [b + c * stride for b in bases for c in picked]
                fixed.append(name)
                width = stride
            if span is None and fixed:
                span = (bases, [b + width for b in bases])
            if span is not None:
                if len(span[0]) == 1:
                    lo, hi = composite.searchsorted((span[0][0], span[1][0]), "left").tolist()
                    rows = np.arange(lo, hi, dtype=np.int64)
                elif not span[0]:  # a fixed value the table does not have
                    rows = np.zeros(0, dtype=np.int64)
                elif len(span[0]) <= _FEW_INTERVALS:  # a few intervals: one search, joined
                    ends = composite.searchsorted(span[0] + span[1], "left").tolist()
                    n = len(span[0])
                    rows = np.concatenate(
                        [np.arange(ends[i], ends[n + i], dtype=np.int64) for i in range(n)]
                    )
                else:
                    los = composite.searchsorted(np.array(span[0], dtype=np.int64), "left")
                    lengths = (
                        composite.searchsorted(np.array(span[1], dtype=np.int64), "left") - los
                    )
                    # the intervals one after another, without a Python loop
                    shift = np.repeat(los - (np.cumsum(lengths) - lengths), lengths)
                    rows = np.arange(len(shift), dtype=np.int64) + shift
        if rows is None:
            rows = np.arange(self.size, dtype=np.int64)
        for name, wanted in values.items():
            if not wanted or name in fixed:
                continue
            if name not in self.texts:
                rows = rows[:0]
            elif len(rows):
                rows = rows[self._allowed(name, wanted)[self.texts[name].codes[rows]]]
        if mask_range is not None and self.range_values is not None and len(rows):
            picked_range = self.range_values[rows]
            rows = rows[(picked_range >= mask_range[0]) & (picked_range <= mask_range[1])]
        if len(rows) > 1 and not self._in_order(fixed, len(bases)):
            rows = rows[np.argsort(self.rank[rows], kind="stable")]
        published = self.published[rows]
        suppressed = len(rows) - int(np.count_nonzero(published))
        if suppressed and not query.with_suppressed:
            rows = rows[published]
        return Selection(self, rows, suppressed, query.with_suppressed)

    def _in_order(self, fixed: list[str], intervals: int) -> bool:
        """Whether rows in index order are in published order: always when the two orders
        agree, and within one interval when the published order, without the key columns
        the query fixed to one value each, is the rest of the key."""
        if self.sorted_rank:
            return True
        if intervals != 1:
            return False
        known = self._in_order_of.get(tuple(fixed))
        if known is None:
            rest = tuple(c for c in self.order if c not in fixed)
            known = self._in_order_of[tuple(fixed)] = rest == self.key[len(fixed) :]
        return known


class IndexCache:
    """Indexes of the tables of the last :data:`KEEP_RELEASES` releases asked for, each
    table loaded on first use. Thread-safe: a table is loaded once.

    ``load(release_id, table)`` reads a table of a release; ``key_of(table)`` says how to
    index it.
    """

    def __init__(
        self,
        load: Callable[[str, str], ProtectedTable],
        key_of: Callable[[str], Key],
    ) -> None:
        self._load = load
        self._key_of = key_of
        self._lock = threading.Lock()
        self._releases: OrderedDict[str, dict[str, TableIndex]] = OrderedDict()
        self._budgets: dict[str, list[int]] = {}

    def cached(self, release_id: str, table: str) -> TableIndex | None:
        """The index if loaded already (no I/O)."""
        tables = self._releases.get(release_id)
        return tables.get(table) if tables is not None else None

    def get(self, release_id: str, table: str) -> TableIndex:
        """The index of ``table`` in release ``release_id``, loading it if needed."""
        found = self.cached(release_id, table)
        if found is not None:
            return found
        with self._lock:
            tables = self._releases.setdefault(release_id, {})
            self._releases.move_to_end(release_id)
            if table not in tables:
                budget = self._budgets.setdefault(release_id, [FRAGMENT_BUDGET])
                protected = self._load(release_id, table)
                tables[table] = TableIndex.build(
                    protected, self._key_of(table), FragmentStore(budget)
                )
            while len(self._releases) > KEEP_RELEASES:
                old, _ = self._releases.popitem(last=False)
                self._budgets.pop(old, None)
            return tables[table]


__all__ = [
    "FRAGMENT_BUDGET",
    "KEEP_RELEASES",
    "Columns",
    "FragmentStore",
    "IndexCache",
    "Key",
    "Query",
    "Range",
    "Selection",
    "TableIndex",
    "Text",
    "encode_text",
]
