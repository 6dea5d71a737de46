"""Caches that make a refresh cost a month, not the history: phase-1 tables per partition and
protected pieces of the published tables per period.

The finest table of a statistic (phase 1 of :mod:`helsestat.aggregate`) is additive, so it
can be computed per partition and the partitions' tables merged. Each one is kept under::

    <data_dir>/cache/<statistic>/period=<YYYYMM>/<key>.arrow

where ``key`` hashes the partition's committed extract files (their checksums: the lake
never rewrites a file, it only adds new ones) and the phase-1 fingerprint of the spec (see
:func:`helsestat.aggregate.finest_fingerprint`). A partition that gains a batch, or a spec
that reads other columns, gets a new key, so a stale entry is never read; it is deleted when
the new one is written.

An entry also records the values of the partition's time column (e.g. ``["202401"]``) in
its schema metadata, so a build learns which period a cached partition holds without
reading its rows (:meth:`FinestCache.periods`). Entries are Arrow IPC files, uncompressed:
they are read back when a period is recomputed, and a year of them reads in milliseconds.

In compatibility mode every rule judges a cell by its own row, so a published table is the
union of its per-period pieces, each finished and protected on its own (see
``incremental.protect_by_period``). :class:`PieceCache` keeps them under::

    <data_dir>/cache/<statistic>/tables/<table>/<period>/<key>.parquet

``key`` hashes everything a piece depends on: the keys of the partitions it is computed
from, the statistic's spec and table definition, the rules, mode and threshold, the
reference data and the code that finishes and protects (the caller computes it). A piece is
a Parquet file because a release hard-links it as one part of a published table
(:meth:`~helsestat.store.lake.ReleaseWriter.link`): a piece that did not change is never
read or written again.

A statistic with no stored input publishes what its code makes of nothing (empty tables);
:class:`WholeCache` keeps them under ``<data_dir>/cache/<statistic>/whole/<key>/``, linked by
every build until the code, the definition or the reference data change.

Entries are written atomically (a new file renamed into place, never rewritten), so a
crash leaves a valid cache, and a release that links an entry keeps it as it was when the
cache drops it.

>>> import tempfile
>>> cache = FinestCache(Lake(Path(tempfile.mkdtemp())), "demo")
>>> key = cache.key([Path("period=202401/abc.parquet")], "fingerprint")
>>> cache.get("period=202401", key) is None
True
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from helsestat.model import ProtectedTable
from helsestat.store.lake import Lake, write_parquet_atomic, write_text_atomic

#: The directory of the piece cache inside a statistic's cache (never a partition name).
_TABLES = "tables"
#: The directory of :class:`WholeCache` inside a statistic's cache (never a partition name).
_WHOLE = "whole"


#: Schema metadata key of a phase-1 entry: the values of its partition's time column.
_PERIODS = b"helsestat.periods"


def _read(path: Path) -> pa.Table | None:
    if not path.exists():
        return None
    table: pa.Table = feather.read_table(path, memory_map=False)
    metadata = table.schema.metadata
    if metadata and _PERIODS in metadata:  # recorded for the cache, not part of the table
        rest = {k: v for k, v in metadata.items() if k != _PERIODS}
        table = table.replace_schema_metadata(rest or None)
    return table


def _write(path: Path, table: pa.Table) -> None:
    """Write an Arrow entry atomically and remove the stale entries of its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        feather.write_feather(table, tmp, compression="uncompressed")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _drop_stale(path)


def _drop_stale(path: Path) -> None:
    for old in path.parent.iterdir():  # stale keys (hidden: another build's temp file)
        if old != path and not old.name.startswith("."):
            old.unlink(missing_ok=True)


def _prune(root: Path, keep: set[str], *, spare: tuple[str, ...] = ()) -> None:
    if root.exists():
        for directory in root.iterdir():
            if directory.is_dir() and directory.name not in keep and directory.name not in spare:
                shutil.rmtree(directory, ignore_errors=True)


class FinestCache:
    """Phase-1 tables of one statistic, per partition. Construction does no I/O."""

    def __init__(self, lake: Lake, statistic: str) -> None:
        self.root = lake.root / "cache" / statistic

    @staticmethod
    def key(files: Sequence[Path], fingerprint: str) -> str:
        """The cache key of a partition's committed files for a phase-1 fingerprint."""
        digest = hashlib.sha256(fingerprint.encode())
        for name in sorted(f.name for f in files):
            digest.update(b"\0" + name.encode())
        return digest.hexdigest()[:32]

    def _path(self, partition: str, key: str) -> Path:
        return self.root / partition / f"{key}.arrow"

    def get(self, partition: str, key: str) -> pa.Table | None:
        """The cached table, or None when the partition has no entry for this key."""
        return _read(self._path(partition, key))

    def periods(self, partition: str, key: str) -> list[str | None] | None:
        """The time values recorded with an entry (its footer only is read); None when there
        is no entry for this key, or it recorded none (an entry from an older helsestat).

        >>> import tempfile
        >>> cache = FinestCache(Lake(Path(tempfile.mkdtemp())), "demo")
        >>> cache.put("period=202401", "k", pa.table({"n": [1]}), periods=["202401"])
        >>> cache.periods("period=202401", "k"), cache.get("period=202401", "k").schema.metadata
        (['202401'], None)
        """
        path = self._path(partition, key)
        if not path.exists():
            return None
        with pa.memory_map(str(path)) as source:
            metadata = pa.ipc.open_file(source).schema.metadata or {}
        if _PERIODS not in metadata:
            return None
        values: list[str | None] = json.loads(metadata[_PERIODS])
        return values

    def put(
        self,
        partition: str,
        key: str,
        table: pa.Table,
        *,
        periods: Sequence[str | None],
    ) -> None:
        """Store a partition's table (atomically) with the values of its time column (empty
        for a spec without one), and remove its stale entries."""
        metadata = {**(table.schema.metadata or {}), _PERIODS: json.dumps(list(periods))}
        _write(self._path(partition, key), table.replace_schema_metadata(metadata))

    def prune(self, partitions: Iterable[str]) -> None:
        """Remove the entries of partitions that are no longer in the lake."""
        _prune(self.root, set(partitions), spare=(_TABLES, _WHOLE))


def _period_dir(period: str | None) -> str:
    """Directory name of a period value: quoted, so any text is one safe name."""
    return "null" if period is None else "value=" + quote(period, safe="")


class PieceCache:
    """Finished and protected pieces of the published tables of one statistic, one per table
    and period (e.g. ``takstbruk/kommune/maned`` of 2024-01). Construction does no I/O.

    >>> import tempfile
    >>> cache = PieceCache(Lake(Path(tempfile.mkdtemp())), "demo")
    >>> path = cache.put("demo/t", "2024", "k1", pa.table({"n": [1]}))
    >>> path == cache.path("demo/t", "2024", "k1"), cache.get("demo/t", "2024", "k2")
    (True, None)
    >>> cache.get("demo/t", "2024", "k1").to_pydict()
    {'n': [1]}
    """

    def __init__(self, lake: Lake, statistic: str) -> None:
        self.root = lake.root / "cache" / statistic / _TABLES

    def path(self, table: str, period: str | None, key: str) -> Path:
        """Where the piece of this key is (or will be) stored."""
        return self.root / quote(table, safe="") / _period_dir(period) / f"{key}.parquet"

    def get(self, table: str, period: str | None, key: str) -> pa.Table | None:
        """The cached piece, or None when there is none for this key."""
        path = self.path(table, period, key)
        return pq.read_table(path) if path.exists() else None

    def put(self, table: str, period: str | None, key: str, piece: pa.Table) -> Path:
        """Store a piece (atomically) as a release writes a table, remove the stale entries
        of its table and period, and return its path."""
        path = self.path(table, period, key)
        write_parquet_atomic(piece, path, statistics=False)
        _drop_stale(path)
        return path

    def prune(self, periods: Mapping[str, Iterable[str | None]]) -> None:
        """Keep only the pieces of these tables and periods (table name → its periods)."""
        _prune(self.root, {quote(t, safe="") for t in periods})
        for table, values in periods.items():
            _prune(self.root / quote(table, safe=""), {_period_dir(v) for v in values})


#: The directory of the data of a statistic computed per query inside its cache.
_DATA = "data"
#: The file an entry of :class:`ComputedCache` is complete with (written last).
_DONE = "done.json"


class ComputedCache:
    """The data files a release of a statistic computed per query holds (e.g. SOB's range
    cube), kept under ``<data_dir>/cache/<statistic>/data/<key>/`` for the inputs ``key``
    names, so that a build with the same inputs links them instead of computing them.
    One entry is kept: a new one removes the others (a release that linked their files keeps
    them). Construction does no I/O.

    >>> import tempfile
    >>> cache = ComputedCache(Lake(Path(tempfile.mkdtemp())), "demo")
    >>> cache.files("k1") is None
    True
    >>> found = cache.put("k1", {"nodes": pa.table({"n": [1, 2]})})
    >>> found["nodes"][1], cache.files("k1") == found
    (2, True)
    """

    def __init__(self, lake: Lake, statistic: str) -> None:
        self.root = lake.root / "cache" / statistic / _DATA

    def files(self, key: str) -> dict[str, tuple[Path, int]] | None:
        """Name → (file, rows) of the entry of ``key``; None when there is no complete one."""
        directory = self.root / key
        try:
            done = json.loads((directory / _DONE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        found = {
            name: (directory / f"{quote(name, safe='')}.parquet", int(rows))
            for name, rows in done.items()
        }
        if not all(path.is_file() for path, _ in found.values()):
            return None
        return found

    def put(self, key: str, data: Mapping[str, pa.Table]) -> dict[str, tuple[Path, int]]:
        """Store the data of ``key`` (each file atomically, then the list of them, which
        makes the entry complete), remove the other entries and return :meth:`files`."""
        directory = self.root / key
        if directory.exists():  # an entry a killed build did not complete
            shutil.rmtree(directory)
        for name, table in data.items():
            write_parquet_atomic(table, directory / f"{quote(name, safe='')}.parquet")
        rows = {name: table.num_rows for name, table in data.items()}
        write_text_atomic(json.dumps(rows), directory / _DONE)
        _prune(self.root, {key})
        found = self.files(key)
        assert found is not None
        return found


class WholeCache:
    """The protected tables of one statistic as a build wrote them into a release, kept
    under ``<data_dir>/cache/<statistic>/whole/<key>/`` for the inputs ``key`` names, so that
    a build with the same inputs links their files instead of computing them again (see
    ``build._unchanged_tables``). One entry is kept. Construction does no I/O.

    >>> import tempfile
    >>> from helsestat.model import ProtectedTable
    >>> cache = WholeCache(Lake(Path(tempfile.mkdtemp())), "demo")
    >>> t = ProtectedTable("demo/t", "T", ("k",), ("n",), pa.table({"k": ["a"], "n": [1]}))
    >>> cache.tables("k1") is None
    True
    >>> [(found.name, found.title, path.name, rows) for found, path, rows in cache.put("k1", [t])]
    [('demo/t', 'T', 'demo%2Ft.parquet', 1)]
    >>> cache.tables("k1") == cache.put("k1", [t]), cache.tables("k2")
    (True, None)
    """

    def __init__(self, lake: Lake, statistic: str) -> None:
        self.root = lake.root / "cache" / statistic / _WHOLE

    def tables(self, key: str) -> list[tuple[ProtectedTable, Path, int]] | None:
        """The tables of the entry of ``key``, in their order, each with its file and its
        number of rows: the table holds the registration (title, dimensions, measures,
        notes) and no rows (they are in the file); None when there is no complete entry."""
        directory = self.root / key
        try:
            done = json.loads((directory / _DONE).read_text(encoding="utf-8"))
            found = [
                (
                    ProtectedTable(
                        str(t["name"]),
                        str(t["title"]),
                        tuple(t["dimensions"]),
                        tuple(t["measures"]),
                        pa.table({}),
                        notes=tuple(t["notes"]),
                        guarded=tuple(t["guarded"]),
                    ),
                    directory / str(t["file"]),
                    int(t["rows"]),
                )
                for t in done
            ]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not all(path.is_file() for _, path, _ in found):
            return None
        return found

    def put(
        self, key: str, tables: Sequence[ProtectedTable]
    ) -> list[tuple[ProtectedTable, Path, int]]:
        """Store ``tables`` under ``key`` (each file as a release writes it, then the list of
        them, which makes the entry complete), remove the other entries and return
        :meth:`tables`."""
        directory = self.root / key
        if directory.exists():  # an entry a killed build did not complete
            shutil.rmtree(directory)
        listed = []
        for table in tables:
            file = quote(table.name, safe="") + ".parquet"
            write_parquet_atomic(table.table, directory / file, statistics=False)
            listed.append(
                {
                    "name": table.name,
                    "title": table.title,
                    "dimensions": list(table.dimensions),
                    "measures": list(table.measures),
                    "notes": list(table.notes),
                    "guarded": list(table.guarded),
                    "file": file,
                    "rows": table.table.num_rows,
                }
            )
        write_text_atomic(json.dumps(listed), directory / _DONE)
        _prune(self.root, {key})
        found = self.tables(key)
        assert found is not None
        return found


__all__ = ["ComputedCache", "FinestCache", "PieceCache", "WholeCache"]
