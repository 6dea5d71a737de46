"""In-memory indexes of the six takstbruk tables of a release, so a query is a few array
slices and a take — no DuckDB, no Parquet read per request.

A :class:`TableIndex` holds a table's rows sorted by (fagområde, geography, takstkode,
period, praksistype), its text columns dictionary-encoded (codes in sorted order, so code
order is text order) and its measures as numpy arrays. Precomputed row ranges per
fagområde and per (fagområde, geography), and a sorted key of (fagområde, geography,
takstkode) group and period, make the typical query — one kommune or fylke, a few takster,
a period — a few dictionary lookups and one binary search for all its groups.
:meth:`TableIndex.select` returns the rows in the published order (period, geography,
takstkode, fagområde, praksistype), sorting by a precomputed rank of every row in that
order when the rows come from more than one group.

An :class:`IndexCache` lives on ``app.state``: it loads a table of a release the first time
it is asked for and keeps the indexes of the last few releases, so a new build swaps the
cache without a restart.

>>> import pyarrow as pa
>>> from helsestat.model import ProtectedTable
>>> from helsestat.api.takstbruk.query import TakstbrukQuery
>>> counts = {name: [9, 7] for name in MEASURES}
>>> t = ProtectedTable("takstbruk/landet/ar", "T", ("ar", "takstkode", "fagomraade",
...     "praksis_type_kode"), MEASURES, pa.table({"ar": ["2016", "2015"],
...     "takstkode": ["H1", "H1"], "fagomraade": ["LE", "LE"],
...     "praksis_type_kode": ["FALE", "FALE"], **counts,
...     "status": ["published", "published"], "status_rule": ["", ""]}))
>>> index = TableIndex.build(t)
>>> index.period[index.select(TakstbrukQuery(("LE",), 2015, 2016), medstatus=False).rows]
array([2015, 2016], dtype=int32)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.api.takstbruk.query import TakstbrukQuery
from helsestat.model import RULE_COLUMN, STATUS_COLUMN, ProtectedTable
from helsestat.publish.formats import publishable
from helsestat.store.lake import Lake

#: Helfo's measures, in Helfo's field order.
COUNTS = ("antall_regninger", "sum_antall_takst")
KRONER = (
    "sum_refusjon",
    "sum_egenandel_betalt_av_pasient",
    "sum_egenandel_dekket_av_folketrygden",
)
MEASURES = (*COUNTS, *KRONER)
#: Releases whose indexes a cache keeps (the current one and a few pinned ones).
KEEP_RELEASES = 3
#: Bytes of rendered row fragments a release's indexes may keep for reuse.
FRAGMENT_BUDGET = 64 * 1024 * 1024

Range = tuple[int, int]
#: Greater than any period (YYYYMM or YYYY): the factor of the group ordinal in a group key.
_SPAN = 1_000_000


def _encode(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values as an object array, int32 code of every row)."""
    text = pc.cast(column, pa.string())
    distinct = pc.unique(text)
    dictionary = pc.take(distinct, pc.array_sort_indices(distinct))
    codes = pc.index_in(text, value_set=dictionary).to_numpy(zero_copy_only=False)
    return np.array(dictionary.to_pylist(), dtype=object), codes.astype(np.int32)


def _ranges(starts: np.ndarray, n: int) -> list[Range]:
    ends = np.append(starts[1:], n)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


@dataclass
class FragmentStore:
    """Rendered rows of one table kept for reuse, per format, within a byte budget that the
    tables of a release share (the one-element list)."""

    budget: list[int] = field(default_factory=lambda: [FRAGMENT_BUDGET])
    by_format: dict[str, dict[int, bytes]] = field(default_factory=dict)

    def get(self, fmt: str) -> dict[int, bytes]:
        return self.by_format.setdefault(fmt, {})

    def keep(self, fmt: str, row: int, fragment: bytes) -> None:
        if self.budget[0] >= len(fragment):
            self.budget[0] -= len(fragment)
            self.get(fmt)[row] = fragment


@dataclass(frozen=True)
class Selection:
    """The rows of one answer (positions in the index, in published order) and how many
    cells matching the query are suppressed (left out unless ``medstatus``)."""

    index: TableIndex
    rows: np.ndarray
    suppressed: int
    medstatus: bool

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(eq=False)
class TableIndex:
    """One published takstbruk table, sorted and encoded for fast selection."""

    source: ProtectedTable
    view: pa.Table  # the published columns (publish.formats.publishable), in index order
    monthly: bool
    period: np.ndarray  # YYYYMM on monthly tables, YYYY on yearly ones
    fag: np.ndarray
    fag_dict: np.ndarray
    geo: np.ndarray
    geo_dict: np.ndarray
    takst: np.ndarray
    takst_dict: np.ndarray
    praksis: np.ndarray
    praksis_dict: np.ndarray
    status: np.ndarray
    status_dict: np.ndarray
    rule: np.ndarray
    rule_dict: np.ndarray
    published: np.ndarray
    values: dict[str, np.ndarray]
    valid: dict[str, np.ndarray]
    geo_column: str | None
    view_codes: dict[str, tuple[np.ndarray, np.ndarray]]  # dimension → (dictionary, codes)
    by_fag: dict[str, Range]
    by_fag_geo: dict[tuple[str, str], Range]
    #: (fagområde, geography, takstkode) → the group's ordinal in the index order.
    by_group: dict[tuple[str, str, str], int]
    #: Per row, its group's ordinal × :data:`_SPAN` + its period: sorted, so the rows of
    #: any groups within a period are found by one binary search for all of them.
    group_key: np.ndarray
    takst_code: dict[str, int]
    praksis_code: dict[str, int]
    #: Each row's position in the published order (period, geography, takstkode,
    #: fagområde, praksistype): sorting a selection is one gather and one argsort.
    rank: np.ndarray
    #: True when no two rows share (fagområde, geography, takstkode, period, praksistype),
    #: so no selection can hold two rows for one cell.
    unique: bool
    fragments: FragmentStore = field(default_factory=FragmentStore)
    #: Per-table constant parts of a format's documents, filled by the renderer on first use.
    constants: dict[str, object] = field(default_factory=dict)

    @classmethod
    def build(cls, table: ProtectedTable, fragments: FragmentStore | None = None) -> TableIndex:
        """Sort and encode a published takstbruk table (as stored in a release)."""
        data = table.table
        names = data.column_names
        monthly = "maned" in names
        ar = pc.cast(data["ar"], pa.int32()).to_numpy(zero_copy_only=False)
        period = ar * 100 + pc.cast(data["maned"], pa.int32()).to_numpy() if monthly else ar
        geo_column = next(
            (c for c in ("behandler_kommunenr", "behandler_fylke") if c in names), None
        )
        n = data.num_rows
        fag_dict, fag = _encode(data["fagomraade"])
        if geo_column:
            geo_dict, geo = _encode(data[geo_column])
        else:
            geo_dict, geo = np.array([""], dtype=object), np.zeros(n, dtype=np.int32)
        takst_dict, takst = _encode(data["takstkode"])
        praksis_dict, praksis = _encode(data["praksis_type_kode"])
        status_dict, status = _encode(data[STATUS_COLUMN])
        rule_dict, rule = _encode(pc.fill_null(data[RULE_COLUMN], ""))
        order = np.lexsort((praksis, period, takst, geo, fag))
        period, fag, geo, takst, praksis = (
            a[order] for a in (period.astype(np.int32), fag, geo, takst, praksis)
        )
        status, rule = status[order], rule[order]
        sorted_table = data.take(pa.array(order))
        values: dict[str, np.ndarray] = {}
        valid: dict[str, np.ndarray] = {}
        for name in MEASURES:
            column = sorted_table[name]
            valid[name] = pc.is_valid(column).to_numpy(zero_copy_only=False)
            kind = pa.int64() if name in COUNTS else pa.float64()
            values[name] = pc.fill_null(pc.cast(column, kind), 0).to_numpy(zero_copy_only=False)
        published_code = np.flatnonzero(status_dict == "published")
        published = np.isin(status, published_code)

        def starts(*keys: np.ndarray) -> np.ndarray:
            change = np.zeros(n, dtype=bool)
            if n:
                change[0] = True
            for key in keys:
                change[1:] |= key[1:] != key[:-1]
            return np.flatnonzero(change)

        rank = np.empty(n, dtype=np.int64)
        rank[np.lexsort((praksis, fag, takst, geo, period))] = np.arange(n)
        unique = len(starts(fag, geo, takst, period, praksis)) == n
        by_fag = {fag_dict[fag[s]]: (s, e) for s, e in _ranges(starts(fag), n)}
        by_fag_geo = {
            (fag_dict[fag[s]], geo_dict[geo[s]]): (s, e) for s, e in _ranges(starts(fag, geo), n)
        }
        group_starts = starts(fag, geo, takst)
        by_group = {
            (fag_dict[fag[s]], geo_dict[geo[s]], takst_dict[takst[s]]): i
            for i, s in enumerate(group_starts.tolist())
        }
        ordinal = np.zeros(n, dtype=np.int64)
        ordinal[group_starts[1:]] = 1
        group_key = np.cumsum(ordinal) * _SPAN + period
        sorted_protected = ProtectedTable(
            table.name,
            table.title,
            table.dimensions,
            table.measures,
            sorted_table,
            table.release,
            table.notes,
        )
        view = publishable(sorted_protected)
        view_codes = {
            name: _encode(view[name]) for name in view.column_names if name in table.dimensions
        }
        return cls(
            source=sorted_protected,
            view=view,
            monthly=monthly,
            period=period,
            fag=fag,
            fag_dict=fag_dict,
            geo=geo,
            geo_dict=geo_dict,
            takst=takst,
            takst_dict=takst_dict,
            praksis=praksis,
            praksis_dict=praksis_dict,
            status=status,
            status_dict=status_dict,
            rule=rule,
            rule_dict=rule_dict,
            published=published,
            values=values,
            valid=valid,
            geo_column=geo_column,
            view_codes=view_codes,
            by_fag=by_fag,
            by_fag_geo=by_fag_geo,
            by_group=by_group,
            group_key=group_key,
            takst_code={str(v): i for i, v in enumerate(takst_dict)},
            praksis_code={str(v): i for i, v in enumerate(praksis_dict)},
            rank=rank,
            unique=unique,
            fragments=fragments or FragmentStore(),
        )

    def _allowed(self, codes: dict[str, int], wanted: tuple[str, ...]) -> np.ndarray:
        allowed = np.zeros(len(codes) + 1, dtype=bool)
        allowed[[codes[w] for w in wanted if w in codes]] = True
        return allowed

    def _in_period(self, start: int, end: int, query: TakstbrukQuery) -> np.ndarray:
        """Rows of a range sorted by takstkode, then period: a mask on the period."""
        period = self.period[start:end]
        keep = (period >= query.fra) & (period <= query.til)
        return start + np.flatnonzero(keep)

    def _groups(self, groups: list[int], query: TakstbrukQuery) -> np.ndarray:
        """The rows of (fagområde, geography, takstkode) groups within the period, in the
        index order (each group's rows sorted by period, then praksistype)."""
        key = self.group_key
        if len(groups) == 1:
            base = groups[0] * _SPAN
            lo = int(key.searchsorted(base + query.fra, "left"))
            return np.arange(lo, int(key.searchsorted(base + query.til, "right")))
        bases = np.array(groups, dtype=np.int64) * _SPAN
        los = key.searchsorted(bases + query.fra, "left")
        lengths = key.searchsorted(bases + query.til, "right") - los
        # the ranges [lo, lo + length) one after another, without a Python loop
        shift: np.ndarray = np.repeat(los - (np.cumsum(lengths) - lengths), lengths)
        rows: np.ndarray = np.arange(len(shift)) + shift
        return rows

    def select(self, query: TakstbrukQuery, *, medstatus: bool) -> Selection:
        """The rows answering ``query`` in published order (period, geography, takstkode,
        fagområde, praksistype); suppressed cells only when ``medstatus``."""
        pieces: list[np.ndarray] = []
        groups: list[int] = []
        geos = query.geografi or (("",) if self.geo_column is None else ())
        for fag in query.fagomraader:
            if geos and query.takstkoder:
                for geo in geos:
                    for takst in query.takstkoder:
                        found = self.by_group.get((fag, geo, takst))
                        if found is not None:
                            groups.append(found)
            elif geos:
                for geo in geos:
                    range_ = self.by_fag_geo.get((fag, geo))
                    if range_:
                        pieces.append(self._in_period(*range_, query))
            elif (range_ := self.by_fag.get(fag)) is not None:
                rows = self._in_period(*range_, query)
                if query.takstkoder:
                    allowed = self._allowed(self.takst_code, query.takstkoder)
                    rows = rows[allowed[self.takst[rows]]]
                pieces.append(rows)
        # one group's rows are in published order already (period, then praksistype)
        ordered = not pieces and len(groups) <= 1
        if groups:
            pieces.append(self._groups(groups, query))
        if len(pieces) == 1:
            rows = pieces[0]
        else:
            rows = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
        if query.praksistyper and len(rows):
            allowed = self._allowed(self.praksis_code, query.praksistyper)
            rows = rows[allowed[self.praksis[rows]]]
        if not ordered and len(rows) > 1:
            rows = rows[np.argsort(self.rank[rows], kind="stable")]
        published = self.published[rows]
        suppressed = int(len(rows) - np.count_nonzero(published))
        if not medstatus and suppressed:
            rows = rows[published]
        return Selection(self, rows, suppressed, medstatus)


class IndexCache:
    """Indexes of the takstbruk tables of the last :data:`KEEP_RELEASES` releases asked for,
    each table loaded on first use. Thread-safe: a table is loaded once."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self._lock = threading.Lock()
        self._releases: OrderedDict[str, dict[str, TableIndex]] = OrderedDict()
        self._budgets: dict[str, list[int]] = {}

    def cached(self, release_id: str, table: str) -> TableIndex | None:
        """The index if loaded already (no I/O)."""
        tables = self._releases.get(release_id)
        return tables.get(table) if tables is not None else None

    def get(self, release_id: str, table: str) -> TableIndex:
        """The index of ``table`` in release ``release_id``, loading it if needed (reads the
        release's Parquet file once; raises NotFoundError for an unknown table)."""
        found = self.cached(release_id, table)
        if found is not None:
            return found
        with self._lock:
            tables = self._releases.setdefault(release_id, {})
            self._releases.move_to_end(release_id)
            if table not in tables:
                budget = self._budgets.setdefault(release_id, [FRAGMENT_BUDGET])
                release = self.lake.get(release_id)
                protected = self.lake.read_table(release, table, keep=False)  # indexed below
                tables[table] = TableIndex.build(protected, FragmentStore(budget))
            while len(self._releases) > KEEP_RELEASES:
                old, _ = self._releases.popitem(last=False)
                self._budgets.pop(old, None)
            return tables[table]
