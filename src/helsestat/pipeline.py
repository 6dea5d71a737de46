"""The pipeline, read as the diagram:

    extract ─► ingest ─► validate + pseudonymise ─► store ─► aggregate ─► protect ─► publish

``ingest_file`` runs the first three stages for one file; ``build`` runs the rest for every
statistic and writes one new release, switched in atomically when complete.

``aggregate_statistic`` is the incremental part of a build: it reads the lake's integer code
columns instead of text where they are stored (:func:`~helsestat.aggregate.read_codes`),
computes phase 1 per month partition, reusing the partitions cached by earlier builds
(:mod:`helsestat.store.cache`), and rolls the merged tables up. A new month costs a scan of
that month, not of the history.

>>> import tempfile
>>> from pathlib import Path
>>> from helsestat.store.lake import Lake
>>> lake = Lake(Path(tempfile.mkdtemp()))
>>> from helsestat.aggregate import DuckDBEngine
>>> build(lake, DuckDBEngine(), mode="compat", threshold=5).tables[0]
'takstbruk/kommune/maned'
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from helsestat.aggregate import (
    CodeColumn,
    CubeSpec,
    Engine,
    aggregate,
    finest,
    finest_fingerprint,
    read_codes,
    rollup,
)
from helsestat.aggregate.plan import read_schema
from helsestat.ingest.readers import file_checksum, read_extract
from helsestat.model import Batch, Cube, ProtectedTable, ReleaseInfo
from helsestat.protect import TableToProtect, protect_table, protect_tables
from helsestat.protect.rules import FrequencyRule, Rule
from helsestat.statistics import STATISTICS, Statistic, TableDef
from helsestat.store.cache import FinestCache
from helsestat.store.codebooks import read_codebooks
from helsestat.store.extracts import committed_files, is_stored, store_extract
from helsestat.store.lake import Lake
from helsestat.validate import spec_for, validate
from helsestat.validate.spec import CODE_SUFFIX

Progress = Callable[[str], None]


def ingest_file(path: Path, kind: str, key: bytes, lake: Lake) -> Batch:
    """Read, validate, pseudonymise and store one extract file; a file stored before is a
    no-op (its earlier batch is returned with ``already_stored=True``)."""
    spec = spec_for(kind)
    previous = is_stored(lake, kind, file_checksum(path)) if path.is_file() else None
    if previous is not None:
        return previous
    raw = read_extract(path, kind)
    clean = validate(raw, spec, key)
    return store_extract(clean, lake, spec.partition_column, coded=spec.coded, sort_by=spec.sort_by)


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
    names = [set(pq.read_schema(f).names) for f in files]
    codes = {
        column: CodeColumn(f"{column}{CODE_SUFFIX}", book.pairs())
        for column, book in books.items()
        if files and all(f"{column}{CODE_SUFFIX}" in n for n in names)
    }
    return read_codes(spec, codes) if codes else spec


def aggregate_statistic(
    statistic: Statistic,
    lake: Lake,
    engine: Engine,
    *,
    cache: bool = True,
    progress: Progress | None = None,
) -> Cube:
    """The cube of a statistic from the committed extracts: phase 1 per partition, reused
    from the cache when the partition's files are unchanged, then phase 2 over them all.
    Specs with count-distinct measures (not additive) are aggregated in one pass.

    >>> import tempfile
    >>> from helsestat.aggregate import DuckDBEngine
    >>> from helsestat.statistics.takstbruk import TAKSTBRUK
    >>> lake = Lake(Path(tempfile.mkdtemp()))
    >>> with DuckDBEngine(threads=1) as engine:
    ...     cube = aggregate_statistic(TAKSTBRUK, lake, engine)
    >>> len(cube.tables)
    6
    """
    files = committed_files(lake, statistic.source_kind)
    spec = stored_spec(statistic.spec, lake, statistic.source_kind, files)
    if not files or not cache or any(m.kind == "count_distinct" for m in spec.measures):
        return aggregate(files, spec, engine)
    fingerprint = finest_fingerprint(spec, read_schema(files, spec))
    store = FinestCache(lake, statistic.name)
    partitions: dict[str, list[Path]] = {}
    for file in files:
        partitions.setdefault(file.parent.name, []).append(file)
    store.prune(partitions)
    tables: dict[str, pa.Table] = {}
    todo: list[tuple[str, str]] = []
    for partition, part_files in partitions.items():
        key = store.key(part_files, fingerprint)
        cached = store.get(partition, key)
        if cached is None:
            todo.append((partition, key))
        else:
            tables[partition] = cached

    def compute(item: tuple[str, str]) -> tuple[str, pa.Table]:
        partition, key = item
        table = finest(partitions[partition], spec, engine)
        store.put(partition, key, table)
        return partition, table

    if progress:
        progress(f"{statistic.name}: phase 1 for {len(todo)} of {len(partitions)} partitions")
    # DuckDB (or Spark) runs each query outside the GIL: partitions overlap on the cores
    with ThreadPoolExecutor(max_workers=max(1, min(len(todo), os.cpu_count() or 1))) as pool:
        tables.update(pool.map(compute, todo))
    merged = pa.concat_tables([tables[p] for p in sorted(tables)])
    return rollup(merged, spec)


def rules_for(
    statistic: Statistic, table: TableDef, mode: Literal["compat", "full"], threshold: int
) -> tuple[Rule, ...]:
    """Compat: the replaced API's documented rules. Full: those plus the frequency rule."""
    if mode == "compat":
        return table.compat_rules
    return (*table.compat_rules, FrequencyRule(statistic.count_measure, threshold))


def protect_statistic(
    statistic: Statistic,
    files: Sequence[Path],
    engine: Engine,
    mode: Literal["compat", "full"],
    threshold: int,
    *,
    cube: Cube | None = None,
    earlier: Sequence[Sequence[ProtectedTable]] = (),
) -> list[ProtectedTable]:
    """Aggregate one statistic (unless its ``cube`` is given) and protect its tables.

    Compat: each table alone, with the replaced API's documented rules. Full: all tables
    together (``statistic.protection``): secondary suppression across margins and linked
    tables, checked by the attacker audit over the release and the ``earlier`` releases of
    the statistic (each a sequence of its published tables)."""
    if cube is None:
        cube = aggregate(files, statistic.spec, engine)
    finished = [(t, statistic.finish(cube.tables[t.grouping], t)) for t in statistic.tables]
    if mode == "full" and statistic.protection is not None:
        report = protect_tables(
            [
                TableToProtect(
                    t.name,
                    t.title,
                    table,
                    statistic.dimensions(t),
                    rules_for(statistic, t, mode, threshold),
                )
                for t, table in finished
            ],
            statistic.measures,
            statistic.protection,
            earlier=earlier,
        )
        return list(report.tables)
    out = []
    for tdef, table in finished:
        notes = (tdef.rules_note,) if tdef.rules_note and mode == "compat" else ()
        out.append(
            protect_table(
                tdef.name,
                tdef.title,
                table,
                statistic.dimensions(tdef),
                statistic.measures,
                rules_for(statistic, tdef, mode, threshold),
                notes,
            )
        )
    return out


def published_history(lake: Lake, statistic: Statistic) -> list[tuple[ProtectedTable, ...]]:
    """The tables of ``statistic`` in every release kept on disk, oldest first: all of them
    can be downloaded (``?release=``), so an attacker knows every cell they published. A
    release that published exactly the tables of an earlier one (a rebuild from unchanged
    data) adds nothing and is left out.

    >>> import tempfile
    >>> from helsestat.statistics.takstbruk import TAKSTBRUK
    >>> published_history(Lake(Path(tempfile.mkdtemp())), TAKSTBRUK)
    []
    """
    names = [t.name for t in statistic.tables]
    seen: set[str] = set()
    out: list[tuple[ProtectedTable, ...]] = []
    for release in lake.list_releases():
        held = [n for n in names if n in release.tables]
        if not held:
            continue
        digest = hashlib.sha256()
        for name in held:
            checksum = file_checksum(lake.table_path(release, name))
            digest.update(f"{name}\0{checksum}\0".encode())
        if digest.hexdigest() in seen:
            continue
        seen.add(digest.hexdigest())
        out.append(tuple(lake.read_table(release, name) for name in held))
    return out


def build(
    lake: Lake,
    engine: Engine,
    *,
    mode: Literal["compat", "full"],
    threshold: int,
    statistics: Sequence[Statistic] = STATISTICS,
    release_id: str | None = None,
    progress: Progress | None = None,
    cache: bool = True,
) -> ReleaseInfo:
    """Build every statistic from the stored extracts into a new release and make it current.
    Phase 1 of unchanged partitions comes from the lake's cache (``cache=False``: neither
    read nor written)."""
    # Parquet writes release the GIL: the tables are written two at a time, overlapping the
    # next statistic's work; every write has finished before the release is committed.
    with lake.release(release_id) as release, ThreadPoolExecutor(max_workers=2) as writer:
        writes = []
        for statistic in statistics:
            if progress:
                progress(f"building {statistic.name}")
            files = committed_files(lake, statistic.source_kind)
            cube = aggregate_statistic(statistic, lake, engine, cache=cache, progress=progress)
            # Full mode protects against what every release still on disk has published.
            earlier = published_history(lake, statistic) if mode == "full" else []
            if earlier and progress:
                progress(f"{statistic.name}: protecting against {len(earlier)} earlier release(s)")
            tables = protect_statistic(
                statistic, files, engine, mode, threshold, cube=cube, earlier=earlier
            )
            for table in tables:
                writes.append(writer.submit(release.add, table))
        for write in writes:
            write.result()
    current = lake.current()
    assert current is not None
    return current
