"""Incremental builds: what a build can take from the lake's cache instead of recomputing.

* Phase 1 per partition (:func:`phase1_by_partition`): each month partition's finest table
  is computed once from its files (reading the lake's integer code columns, see
  :func:`stored_spec`) and cached until the partition's files change.
* Compat-mode tables per period (:func:`protect_by_period`): the compat rules judge a cell by
  its own row, so a published table is the union of per-period pieces (a month of a month
  table, a year of a year table), each rolled up, finished and protected on its own and
  cached as a Parquet file; a new month computes its own pieces and its year's from the
  cached phase-1 tables, and the release hard-links the files of the others.

Full mode protects all tables of a statistic together (and against earlier releases), so it
is not incremental beyond phase 1.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.aggregate import (
    CodeColumn,
    CubeSpec,
    Engine,
    finest,
    finest_fingerprint,
    read_codes,
    rollup,
)
from helsestat.aggregate.pieces import leading_columns, level_index, roll_value
from helsestat.aggregate.plan import file_schema, read_schema
from helsestat.errors import StoreError
from helsestat.model import PartedTable, ProtectedTable, TablePart
from helsestat.protect import protect_table
from helsestat.protect.rules import FrequencyRule, Rule, is_cell_local, rule_fingerprint
from helsestat.statistics import Statistic, TableDef
from helsestat.store.lake import Lake
from helsestat.store.lake.cache import FinestCache, PieceCache
from helsestat.store.lake.codebooks import read_codebooks
from helsestat.store.lake.parts import ORDER_PREFIX
from helsestat.validate import spec_for
from helsestat.validate.spec import CODE_SUFFIX

Progress = Callable[[str], None]


def stored_spec(spec: CubeSpec, lake: Lake, kind: str, files: Sequence[Path]) -> CubeSpec:
    """``spec`` reading the integer code columns that every one of ``files`` stores beside
    the text columns it reads (same cube, see :func:`~helsestat.aggregate.read_codes`).

    >>> import tempfile
    >>> from helsestat.statistics.takstbruk import TAKSTBRUK
    >>> lake = Lake(Path(tempfile.mkdtemp()))
    >>> stored_spec(TAKSTBRUK.spec, lake, "claims", []) is TAKSTBRUK.spec  # nothing stored
    True
    """
    books = read_codebooks(lake, kind)
    names = [set(file_schema(f).names) for f in files]
    codes = {
        column: CodeColumn(f"{column}{CODE_SUFFIX}", book.pairs())
        for column, book in books.items()
        if files and all(f"{column}{CODE_SUFFIX}" in n for n in names)
    }
    return read_codes(spec, codes) if codes else spec


class _Tables(Mapping[str, pa.Table]):
    """Finest tables by partition, each read from the cache on first use: a refresh that
    recomputes one month's pieces reads that month's year, not the history."""

    def __init__(self, store: FinestCache, keys: dict[str, str]) -> None:
        self._loaded: dict[str, pa.Table] = {}
        self._store = store
        self._keys = keys

    def add(self, partition: str, table: pa.Table) -> None:
        """A partition's table computed by this build."""
        self._loaded[partition] = table

    def __getitem__(self, partition: str) -> pa.Table:
        if partition not in self._loaded:
            if partition not in self._keys:
                raise KeyError(partition)
            table = self._store.get(partition, self._keys[partition])
            if table is None:
                raise StoreError(
                    "store.cache_lost",
                    f"the phase-1 cache entry of {partition} disappeared during the build",
                    hint="run the build again; is another process deleting cache/?",
                )
            self._loaded[partition] = table
        return self._loaded[partition]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._keys))

    def __len__(self) -> int:
        return len(self._keys)


@dataclass(frozen=True)
class Phase1:
    """Phase 1 of a statistic per partition: the spec it read (integer codes where the lake
    stores them), and per partition its cache key, its finest table (read on first use) and
    the values of its time column (None when the spec has no hierarchy on the partition
    column)."""

    spec: CubeSpec
    keys: dict[str, str]
    tables: Mapping[str, pa.Table]
    periods: dict[str, list[str | None]] | None = None

    def merged(self) -> pa.Table:
        """Every partition's finest table, in partition order."""
        return pa.concat_tables([self.tables[p] for p in sorted(self.tables)])


def phase1_by_partition(
    statistic: Statistic,
    lake: Lake,
    engine: Engine,
    files: Sequence[Path],
    *,
    progress: Progress | None = None,
) -> Phase1 | None:
    """Phase 1 of ``statistic`` over the committed ``files``, per partition, reusing the
    partitions cached by earlier builds (not read until needed). None when there are no
    files or the spec has count-distinct measures (not additive: they need one pass over all
    files).

    >>> import tempfile
    >>> from helsestat.aggregate import DuckDBEngine
    >>> from helsestat.statistics.takstbruk import TAKSTBRUK
    >>> lake = Lake(Path(tempfile.mkdtemp()))
    >>> phase1_by_partition(TAKSTBRUK, lake, DuckDBEngine(threads=1), []) is None
    True
    """
    spec = stored_spec(statistic.spec, lake, statistic.source_kind, files)
    if not files or any(m.kind == "count_distinct" for m in spec.measures):
        return None
    fingerprint = finest_fingerprint(spec, read_schema(files, spec))
    store = FinestCache(lake, statistic.name)
    partitions: dict[str, list[Path]] = {}
    for file in files:
        partitions.setdefault(file.parent.name, []).append(file)
    store.prune(partitions)
    keys = {
        partition: store.key(part_files, fingerprint)
        for partition, part_files in partitions.items()
    }
    time = _time_hierarchy(statistic, spec)
    column = None if time is None else spec.hierarchies[time].levels[0].name
    tables = _Tables(store, keys)
    periods: dict[str, list[str | None]] = {}
    todo: list[str] = []
    for partition, key in keys.items():
        # None: no entry, or one written before entries recorded their periods (recomputed)
        recorded = store.periods(partition, key)
        if recorded is None:
            todo.append(partition)
        else:
            periods[partition] = recorded

    def compute(partition: str) -> tuple[str, pa.Table, list[str | None]]:
        table = finest(partitions[partition], spec, engine)
        values = [] if column is None else pc.unique(table.column(column)).to_pylist()
        store.put(partition, keys[partition], table, periods=values)
        return partition, table, values

    if progress:
        progress(f"{statistic.name}: phase 1 for {len(todo)} of {len(partitions)} partitions")
    # DuckDB (or Spark) runs each query outside the GIL: partitions overlap on the cores
    with ThreadPoolExecutor(max_workers=max(1, min(len(todo), os.cpu_count() or 1))) as pool:
        for partition, table, values in pool.map(compute, todo):
            tables.add(partition, table)
            periods[partition] = values
    return Phase1(spec, keys, tables, periods if column is not None else None)


def rules_for(
    statistic: Statistic, table: TableDef, mode: Literal["compat", "full"], threshold: int
) -> tuple[Rule, ...]:
    """Compat: the replaced API's documented rules. Full: those plus the frequency rule.
    The rules that read the reference data must be made first
    (:meth:`~helsestat.statistics.base.Statistic.with_reference`)."""
    if mode == "compat":
        return table.rules()
    return (*table.rules(), FrequencyRule(statistic.count_measure, threshold))


def protect_alone(
    statistic: Statistic,
    tdef: TableDef,
    table: pa.Table,
    mode: Literal["compat", "full"],
    threshold: int,
) -> ProtectedTable:
    """One finished table protected on its own (compat mode, or full mode without a
    ``statistic.protection``)."""
    notes = (tdef.rules_note,) if tdef.rules_note and mode == "compat" else ()
    return protect_table(
        tdef.name,
        tdef.title,
        table,
        statistic.dimensions(tdef),
        statistic.measures,
        rules_for(statistic, tdef, mode, threshold),
        notes,
    )


#: Bump when the meaning of a cached piece changes beyond what :func:`_code_digest` sees.
_PIECE_VERSION = 2


@cache
def _module_digest(*modules: str) -> str | None:
    """The checksum of the modules' source files; None when one has no file to read (code
    typed into a session): its pieces could not be told apart from other code's."""
    digest = hashlib.sha256()
    for name in modules:
        source = _source_digest(name)
        if source is None:
            return None
        digest.update(source)
    return digest.hexdigest()


@cache
def _source_digest(name: str) -> bytes | None:
    """The checksum of one module's source file (read once per process), or None."""
    try:
        module = sys.modules.get(name) or importlib.import_module(name)
        return hashlib.sha256(Path(inspect.getfile(module)).read_bytes()).digest()
    except (TypeError, OSError, ImportError):
        return None


def _code_digest(statistic: Statistic) -> str | None:
    """The code that turns finest tables into protected pieces: a cached piece is not reused
    by other code."""
    return _module_digest(
        __name__,
        "helsestat.aggregate.lattice",
        "helsestat.aggregate.pieces",
        "helsestat.store.lake.parts",
        "helsestat.protect",
        "helsestat.protect.rules",
        "helsestat.statistics.base",
        statistic.finish.__module__,
        statistic.dimensions.__module__,
    )


def whole_key(statistic: Statistic, threshold: int, inputs: str) -> str | None:
    """The cache key of a statistic's compat-mode tables built whole
    (:class:`~helsestat.store.lake.cache.WholeCache`): its spec and table definitions, the
    rules (with the checksums of the reference data they read), the reference data its
    finish reads, the threshold, the code that aggregates, finishes and protects, and
    ``inputs`` (what else the tables are made from, named by the caller). None when the code
    has no source file to read."""
    modules = [
        "helsestat.build",
        __name__,
        "helsestat.build.distinct",
        "helsestat.aggregate.engine",
        "helsestat.aggregate.duckdb_engine",
        "helsestat.aggregate.lattice",
        "helsestat.aggregate.plan",
        "helsestat.aggregate.codes",
        "helsestat.protect",
        "helsestat.protect.rules",
        "helsestat.statistics.base",
        statistic.finish.__module__,
        statistic.dimensions.__module__,
    ]
    if statistic.derive is not None:
        modules.append(statistic.derive.__module__)
    code = _module_digest(*modules)
    if code is None:
        return None
    tables = [
        (
            t.name,
            t.title,
            t.grouping,
            [rule_fingerprint(r) for r in rules_for(statistic, t, "compat", threshold)],
            t.rules_note,
            statistic.dimensions(t),
        )
        for t in statistic.tables
    ]
    ident = (
        _WHOLE_VERSION,
        code,
        statistic.name,
        repr(statistic.spec),
        pa.__version__,
        statistic.finish_reads,
        statistic.measures,
        statistic.name_columns,
        threshold,
        tables,
        inputs,
    )
    return hashlib.sha256(repr(ident).encode()).hexdigest()[:32]


#: Bumped when what :func:`whole_key` covers changes meaning.
_WHOLE_VERSION = 1


def _time_hierarchy(statistic: Statistic, spec: CubeSpec) -> int | None:
    """The index of the hierarchy whose finest level reads the column the lake is
    partitioned by (e.g. ``maned``), or None."""
    column = spec_for(statistic.source_kind).partition_column
    for index, hierarchy in enumerate(spec.hierarchies):
        if hierarchy.levels[0].column == column:
            return index
    return None


@dataclass(frozen=True)
class _Piece:
    """One piece of a published table: its period at the table's time level, the
    partitions it is computed from and its cache key."""

    table: TableDef
    period: str | None
    partitions: tuple[str, ...]
    key: str


def protect_by_period(
    statistic: Statistic,
    lake: Lake,
    done: Phase1,
    threshold: int,
    *,
    submit: Callable[..., object] | None = None,
    progress: Progress | None = None,
) -> list[PartedTable] | None:
    """The compat-mode tables of ``statistic`` as per-period pieces in the lake's piece
    cache, each reused when nothing it depends on changed.

    Every compat rule judges a cell by its own row (:func:`~helsestat.protect.rules.
    is_cell_local`) and ``finish`` works row by row, so a published table is the union of
    its pieces: one per period of the table's time level (2024-01 for a month table, 2024
    for a year table), each rolled up, finished and protected from the finest tables of the
    partitions in that period only. A refresh that adds a month computes that month's pieces
    and its year's from the cached finest tables (small, not the lines); the other pieces are
    neither read nor written, and the release links their files
    (:meth:`~helsestat.store.lake.ReleaseWriter.link`). A year none of whose pieces is
    cached (a cold build, a new threshold) is computed whole, and its month tables are split
    into pieces. Each piece carries the columns that merge the pieces back in cube order
    (:func:`~helsestat.store.lake.parts.merge_parts`: the columns before the time column,
    then the time column).

    A piece's key covers its partitions' keys (their files and the phase-1 fingerprint), the
    statistic's spec and table definition, the rules (a rule that reads reference data
    names its checksum in its fingerprint), the digest of the reference data its finish
    reads (``Statistic.finish_reads``: a unit renamed), the threshold and the code
    (:func:`_code_digest`). Codebook lookups (integer codes back to text) are not
    in it: codebooks are append-only, so a code read once always meant the same text.

    ``submit(fn, *args)`` runs the piece writes (``build``: on its writer threads; default:
    at once); every part's file exists once they have finished. None when pieces cannot be
    used (a rule that is not cell-local, code without a source file, measures derived after
    protection, no hierarchy on the partition column, or a partition holding several
    periods): the caller then builds the whole tables.
    """
    code = _code_digest(statistic)
    if statistic.derive is not None:  # derived across a table's periods: built whole
        return None
    if code is None or not all(is_cell_local(r) for t in statistic.tables for r in t.rules()):
        return None
    time = _time_hierarchy(statistic, done.spec)
    if time is None or done.periods is None:
        return None
    hierarchy = done.spec.hierarchies[time]
    months: dict[str, str | None] = {}
    for partition, values in done.periods.items():
        if len(values) > 1:
            return None
        if values:  # a partition without rows adds nothing to any cell
            months[partition] = values[0]
    if not months:
        return None
    levels = {t.name: level_index(done.spec, time, t.grouping) for t in statistic.tables}
    top = max((lv for lv in levels.values() if lv is not None), default=None)

    def period(partition: str, level: int | None) -> str | None:
        return "" if level is None else roll_value(hierarchy, level, months[partition])

    store = PieceCache(lake, statistic.name)
    # pyarrow: the parts of one table, written by different builds, must read back alike
    # finish_reads: the reference data the published shape reads (names of units)
    base = (_PIECE_VERSION, code, repr(statistic.spec), pa.__version__, statistic.finish_reads)
    wanted: list[_Piece] = []
    for tdef in statistic.tables:
        rules = [rule_fingerprint(r) for r in rules_for(statistic, tdef, "compat", threshold)]
        dims = statistic.dimensions(tdef)
        ident = (tdef.name, tdef.title, tdef.grouping, rules, tdef.rules_note, threshold, dims)
        groups: dict[str | None, list[str]] = {}
        for partition in sorted(months):
            groups.setdefault(period(partition, levels[tdef.name]), []).append(partition)
        for value, parts in groups.items():
            digest = hashlib.sha256(repr((*base, ident, statistic.measures, value)).encode())
            for part in parts:
                digest.update(f"\0{part}\0{done.keys[part]}".encode())
            wanted.append(_Piece(tdef, value, tuple(parts), digest.hexdigest()[:32]))
    paths = {id(p): store.path(p.table.name, p.period, p.key) for p in wanted}
    missing = [p for p in wanted if not _complete(paths[id(p)])]
    if progress:
        progress(f"{statistic.name}: {len(missing)} of {len(wanted)} table pieces to compute")
    # A top period (year) with no piece cached is computed whole; otherwise piece by piece.
    jobs: dict[tuple[str, ...], list[_Piece]] = {}
    whole: dict[str | None, list[_Piece]] = {}
    for piece in missing:
        if top is not None and levels[piece.table.name] is not None:
            whole.setdefault(period(piece.partitions[0], top), []).append(piece)
        else:
            jobs.setdefault(piece.partitions, []).append(piece)
    for year, pieces in whole.items():
        inside = [p for p in wanted if levels[p.table.name] is not None]
        inside = [p for p in inside if period(p.partitions[0], top) == year]
        if len(pieces) == len(inside):
            chosen = tuple(sorted({q for p in pieces for q in p.partitions}))
            _compute(statistic, done, time, threshold, chosen, pieces, store, submit)
        else:
            for piece in pieces:
                jobs.setdefault(piece.partitions, []).append(piece)
    for chosen, pieces in jobs.items():
        _compute(statistic, done, time, threshold, chosen, pieces, store, submit)
    store.prune({t.name: [p.period for p in wanted if p.table is t] for t in statistic.tables})
    out = []
    for tdef in statistic.tables:
        files = tuple(TablePart(paths[id(p)], p.period) for p in wanted if p.table is tdef)
        notes = (tdef.rules_note,) if tdef.rules_note else ()
        dims = statistic.dimensions(tdef)
        out.append(PartedTable(tdef.name, tdef.title, dims, statistic.measures, files, notes))
    return out


def _complete(path: Path) -> bool:
    """Whether a cached piece can be linked: it exists and is not empty (pieces are written
    with an fsync before their rename; an empty file is what a power cut could have left
    from a lake written before that, and it is computed again)."""
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


def _compute(
    statistic: Statistic,
    done: Phase1,
    time: int,
    threshold: int,
    partitions: tuple[str, ...],
    pieces: Sequence[_Piece],
    store: PieceCache,
    submit: Callable[..., object] | None,
) -> None:
    """Roll up, finish and protect the tables of ``pieces`` from ``partitions``' finest
    tables, and store each table's pieces (one per period)."""
    groupings = tuple(dict.fromkeys(p.table.grouping for p in pieces))
    cube = rollup(
        pa.concat_tables([done.tables[p] for p in partitions]),
        replace(done.spec, groupings=groupings),
    )
    by_table: dict[str, list[_Piece]] = {}
    for piece in pieces:
        by_table.setdefault(piece.table.name, []).append(piece)
    for table_pieces in by_table.values():
        tdef = table_pieces[0].table
        cube_table = cube.tables[tdef.grouping]
        finished = statistic.finish(cube_table, tdef)
        chunk = protect_alone(statistic, tdef, finished, "compat", threshold).table
        merge = list(leading_columns(done.spec, time, tdef.grouping))
        if level_index(done.spec, time, tdef.grouping) is not None:
            merge.append(tdef.grouping[time])
        for i, column in enumerate(merge):
            chunk = chunk.append_column(f"{ORDER_PREFIX}{i}", cube_table.column(column))
        if submit is None:
            _store_pieces(store, chunk, table_pieces, len(merge) - 1)
        else:
            submit(_store_pieces, store, chunk, table_pieces, len(merge) - 1)


def _store_pieces(
    store: PieceCache, chunk: pa.Table, pieces: Sequence[_Piece], time_column: int
) -> None:
    """Store ``chunk`` (a table in cube order) split into ``pieces`` by period (a piece
    whose period has no row in ``chunk`` is stored empty)."""
    if len(pieces) == 1:
        store.put(pieces[0].table.name, pieces[0].period, pieces[0].key, chunk)
        return
    # one stable sort by period, then a zero-copy slice per period
    encoded = pc.dictionary_encode(chunk.column(f"{ORDER_PREFIX}{time_column}").combine_chunks())
    values = encoded.dictionary.to_pylist()
    codes = np.asarray(encoded.indices.fill_null(len(values)).to_numpy(zero_copy_only=False))
    ordered = chunk.take(np.argsort(codes, kind="stable"))
    ends = np.cumsum(np.bincount(codes, minlength=len(values) + 1))
    position = {value: i for i, value in enumerate([*values, None])}
    for piece in pieces:
        if piece.period not in position:
            part = ordered.slice(0, 0)
        else:
            i = position[piece.period]
            start = int(ends[i - 1]) if i else 0
            part = ordered.slice(start, ends[i] - start)
        store.put(piece.table.name, piece.period, piece.key, part)
