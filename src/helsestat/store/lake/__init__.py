"""The Parquet lake: extracts, quarantine and releases under the data directory.

Layout::

    <data_dir>/
      extracts/<kind>/period=<YYYYMM>/<checksum>.parquet   accepted rows (pseudonymised)
      codebooks/<kind>/<column>.json                       codes of coded columns (append-only)
      quarantine/<kind>/<checksum>.parquet                 rejected rows with reasons
      batches/<kind>/<checksum>.json                       ingest report of each stored file
      withdrawn/<kind>/<checksum>.json                     a withdrawn batch, with when and why
      cache/<statistic>/period=<YYYYMM>/<key>.arrow      phase-1 table of a partition
      cache/<statistic>/tables/<table>/<period>/<key>.parquet  protected piece of a table
      cache/<statistic>/data/<key>/<name>.parquet          data of a statistic computed per query
      cache/reference/<key>.pickle                         the reference snapshot (the CLI)
      releases/<release-id>/<table>.parquet + release.json an immutable published release
      releases/<release-id>/<table>/<NNNN>.parquet         ... or a table in parts per period
      releases/CURRENT                                     name of the current release
      releases/.building-<id>/  .committing-<id>           a release being built, committed
      .build.lock                                          held by the build that is running
      .build.running                                       a build started and has not ended

Every file is written to a temporary name in the same directory and renamed into place, and
a release directory is built under a hidden name and renamed whole, so a reader never sees a
half-written file or release. ``CURRENT`` is switched with one atomic ``os.replace``; the
previous releases stay on disk and servable.

A compat-mode build publishes each table as parts, one per period (:class:`~helsestat.model.
PartedTable`), hard-linked from the lake's piece cache: a refresh that adds a month writes the
parts of that month and its year, and links the others, so a release costs the month, not
the history, in time and in disk space. :meth:`Lake.read_table` puts the parts back together
in the table's order; a reader cannot tell a table in parts from one written whole.

>>> import tempfile
>>> lake = Lake(Path(tempfile.mkdtemp()))
>>> lake.current() is None
True
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from helsestat.errors import NotFoundError, StoreError
from helsestat.model import PartedTable, ProtectedTable, ReleaseInfo
from helsestat.store.lake.parts import merge_parts

_POINTER = "CURRENT"
_MANIFEST = "release.json"
_BUILD_LOCK = ".build.lock"
#: present while a build runs (made durable before it writes anything, removed when it ends):
#: found by the next build, it says a build was killed and may have left temporary files
_BUILD_RUNNING = ".build.running"
#: prefix of a release directory while it is built
_STAGING = ".building-"
#: prefix of the marker of a release renamed into place but not yet current
_COMMITTING = ".committing-"
#: Bytes of published tables a :class:`Lake` keeps in memory once read (releases never change).
READ_CACHE_BYTES = 256 * 2**20
_Registered = TypeVar("_Registered", ProtectedTable, PartedTable)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_parquet_atomic(
    table: pa.Table,
    path: Path,
    *,
    row_group_rows: int | None = None,
    dictionary: bool | list[str] = True,
    statistics: bool = True,
) -> None:
    """Write ``table`` to ``path`` via a temporary file, fsync and a rename: all or nothing,
    also across a power cut (a file under its final name is complete: the lake reuses and
    links files by name). ``dictionary`` names the columns to dictionary-encode (True:
    all); ``statistics`` writes the min/max statistics of every column chunk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(
            table,
            tmp,
            compression="zstd",
            row_group_size=row_group_rows,
            use_dictionary=dictionary,
            write_statistics=statistics,
        )
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` via a temporary file, fsync and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def remove_temporary(*directories: Path) -> int:
    """Remove the temporary files (``.<name>.<random>.tmp``) that a killed writer left under
    ``directories``; the number removed. Only for directories no one else writes now (the
    caller holds their lock).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / ".x.parquet.0a1b.tmp").write_text("half")
    >>> remove_temporary(root), list(root.iterdir())
    (1, [])
    """
    removed = 0
    for directory in directories:
        if directory.is_dir():
            for path in directory.rglob(".*.tmp"):
                if path.is_file():
                    path.unlink(missing_ok=True)
                    removed += 1
    return removed


@contextmanager
def _flock(path: Path, waiting: Callable[[], None] | None) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` for the block; ``waiting`` is called before
    waiting for another holder. A killed holder's lock is released by the system."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _table_stem(name: str) -> str:
    """File or directory name of a published table: ``a/b/c`` → ``a__b__c``."""
    if not name or any(part in ("", ".", "..") for part in name.split("/")):
        raise StoreError("store.bad_table_name", f"invalid table name {name!r}")
    return name.replace("/", "__")


def _table_file(name: str) -> str:
    """File name of a published table written whole: ``a/b/c`` → ``a__b__c.parquet``."""
    return _table_stem(name) + ".parquet"


#: Errors of a file system that cannot hard-link the file (then it is copied).
_NO_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}


def _link_or_copy(source: Path, target: Path) -> bool:
    """Hard-link ``source`` as ``target`` (True); copy it where the file system cannot link
    (False). The lake never rewrites a file in place (every write is a rename), so a linked
    file stays as it was published."""
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        shutil.copyfile(source, target)
        return False
    return True


def _part_rows(source: Path, target: Path) -> int:
    """The rows of a part, from its footer; a file that is not Parquet is a clear error."""
    try:
        rows: int = pq.read_metadata(target).num_rows
    except (OSError, pa.ArrowInvalid) as exc:
        raise StoreError(
            "store.bad_part",
            f"{source} cannot be read as Parquet ({type(exc).__name__}: {exc})",
            hint="delete the file (the lake's cache: the next build computes it again)",
        ) from None
    return rows


class ReleaseWriter:
    """Collects the tables of one build; :meth:`Lake.release` commits or discards it."""

    def __init__(self, release_id: str, path: Path, previous: Path | None = None) -> None:
        self.id = release_id
        self.path = path
        self._tables: dict[str, dict[str, object]] = {}
        self._previous = previous
        self._known: dict[tuple[int, int], int] | None = None
        self._done: set[str] = set()  # tables written or linked
        self._data: dict[str, int] = {}  # data files and their rows

    def _known_rows(self) -> dict[tuple[int, int], int]:
        """(device, inode) → rows of every part of the previous release (its manifest is
        read once): a part linked again needs no footer read to count its rows. Built at
        the first link, when every file this build links exists, so an inode seen here is
        the same file, not a reused number."""
        if self._known is None:
            self._known = {}
            manifest_path = None if self._previous is None else self._previous / _MANIFEST
            if manifest_path is not None and manifest_path.exists():
                manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
                for entry in manifest.get("tables", {}).values():
                    for part in entry.get("parts", ()):
                        try:
                            stat = os.stat(manifest_path.parent / part["file"])
                        except FileNotFoundError:  # a release trimmed by hand
                            continue
                        self._known[(stat.st_dev, stat.st_ino)] = int(part["rows"])
        return self._known

    def add(self, table: ProtectedTable) -> None:
        """Write one protected table into the release being built."""
        self.write(self.register(table))

    def register(self, table: _Registered) -> _Registered:
        """Enter ``table`` in the manifest (tables are listed in the order registered); then
        :meth:`write` a :class:`ProtectedTable` (e.g. on another thread) or :meth:`link` a
        :class:`PartedTable`. A release whose write fails is discarded, so a registered
        table is always written when the release commits."""
        if table.name in self._tables:
            raise StoreError(
                "store.duplicate_table", f"table {table.name!r} written twice in one release"
            )
        self._tables[table.name] = {
            "title": table.title,
            "dimensions": list(table.dimensions),
            "measures": list(table.measures),
            "notes": list(table.notes),
            "rows": table.table.num_rows if isinstance(table, ProtectedTable) else 0,
        }
        if isinstance(table, ProtectedTable) and table.guarded:
            self._tables[table.name]["guarded"] = list(table.guarded)
        return table

    def link(self, table: PartedTable) -> None:
        """Put the files of a registered :class:`PartedTable` into the release, in its order
        of parts: hard links, so a part that an earlier release holds costs no new space.
        Every part's file must be complete (a build waits for its writes first)."""
        entry = self._unwritten(table.name, "link")
        if not table.parts:
            raise StoreError("store.no_parts", f"table {table.name!r} has no parts")
        directory = self.path / _table_stem(table.name)
        directory.mkdir()
        parts: list[dict[str, object]] = []
        known = self._known_rows()
        for index, part in enumerate(table.parts):
            target = directory / f"{index:04d}.parquet"
            rows = None
            if _link_or_copy(part.path, target):
                stat = os.stat(target)
                rows = known.get((stat.st_dev, stat.st_ino))
            if rows is None:
                rows = _part_rows(part.path, target)
            file = f"{directory.name}/{target.name}"
            parts.append({"file": file, "period": part.period, "rows": rows})
        entry["parts"] = parts
        entry["rows"] = sum(int(str(p["rows"])) for p in parts)
        self._done.add(table.name)

    def write(self, table: ProtectedTable) -> None:
        """Write the file of a registered table. Without min/max statistics: a published
        table is read whole (the API holds it in memory) and fits one row group, so they
        would prune nothing, and they cost a quarter of the write (text columns)."""
        write_parquet_atomic(table.table, self.path / _table_file(table.name), statistics=False)
        self._done.add(table.name)

    def link_written(self, table: ProtectedTable, source: Path, rows: int) -> None:
        """Put the file of a registered table that an earlier build wrote as :meth:`write`
        would write it (a build's cache entry of the same table, complete under its final
        name, with ``rows`` rows) into the release: a hard link, a copy where the file
        system cannot link."""
        entry = self._unwritten(table.name, "link_written")
        _link_or_copy(source, self.path / _table_file(table.name))
        entry["rows"] = rows
        self._done.add(table.name)

    def _unwritten(self, name: str, how: str) -> dict[str, object]:
        """The manifest entry of a registered table not yet written or linked (``how``: the
        method about to put its files in place, named in the hint)."""
        entry = self._tables.get(name)
        if entry is None:
            raise StoreError(
                "store.not_registered",
                f"table {name!r} is not registered",
                hint=f"register the table first: release.register(table), then release.{how}(…)",
            )
        if name in self._done:
            raise StoreError(
                "store.duplicate_table", f"table {name!r} written twice in one release"
            )
        return entry

    def register_computed(
        self,
        name: str,
        title: str,
        dimensions: tuple[str, ...],
        measures: tuple[str, ...],
        notes: tuple[str, ...] = (),
    ) -> None:
        """List a table that is computed per query from the release's data files
        (:meth:`add_data`) rather than stored: the API answers it, :meth:`Lake.read_table`
        refuses it."""
        if name in self._tables:
            raise StoreError(
                "store.duplicate_table", f"table {name!r} written twice in one release"
            )
        self._tables[name] = {
            "title": title,
            "dimensions": list(dimensions),
            "measures": list(measures),
            "notes": list(notes),
            "rows": 0,
            "computed": True,
        }
        self._done.add(name)

    def add_data(self, name: str, table: pa.Table) -> None:
        """Store a data file of the release (e.g. ``sob/nodes``: the range cube a computed
        table is answered from), read back by :meth:`Lake.read_data`."""
        if name in self._data:
            raise StoreError("store.duplicate_data", f"data file {name!r} written twice")
        write_parquet_atomic(table, self.path / "data" / f"{_table_stem(name)}.parquet")
        self._data[name] = table.num_rows

    def link_data(self, name: str, source: Path, rows: int) -> None:
        """Put a data file written before (a build's cache entry, complete under its final
        name) into the release as :meth:`add_data` would write it: a hard link, a copy where
        the file system cannot link."""
        if name in self._data:
            raise StoreError("store.duplicate_data", f"data file {name!r} written twice")
        target = self.path / "data" / f"{_table_stem(name)}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(source, target)
        self._data[name] = rows

    def manifest(self) -> dict[str, object]:
        """The release's manifest; refused while a registered table is neither written nor
        linked (the release would list a table it does not hold)."""
        if missing := [name for name in self._tables if name not in self._done]:
            raise StoreError(
                "store.incomplete_release",
                f"release {self.id!r}: table(s) {', '.join(missing)} registered but not written",
                hint="write (ProtectedTable) or link (PartedTable) every registered table",
            )
        manifest: dict[str, object] = {
            "id": self.id,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "tables": self._tables,
        }
        if self._data:
            manifest["data"] = {name: {"rows": rows} for name, rows in self._data.items()}
        return manifest


class Lake:
    """The data directory. Construction does no I/O; directories appear on first write."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._read: OrderedDict[tuple[str, str, str], ProtectedTable] = OrderedDict()
        self._read_lock = threading.Lock()

    @contextmanager
    def build_lock(self, waiting: Callable[[], None] | None = None) -> Iterator[None]:
        """Held by a build from start to finish, so two builds of one data directory never
        interleave (one could prune a cache entry that the other is linking into its
        release). A second build waits for the first; ``waiting`` is called before it
        waits. The lock is the operating system's (``flock``): a killed build releases it.

        What a killed build left is removed once the lock is held: its staging directory and
        uncommitted release (:meth:`discard_unfinished`, a listing of ``releases/``), and —
        only when the marker ``.build.running`` says the last build did not end — its
        temporary files (:func:`remove_temporary` over the releases and the cache: every file
        of every kept release, which a build that has nothing to clean up does not pay for).

        >>> import tempfile
        >>> lake = Lake(Path(tempfile.mkdtemp()))
        >>> with lake.build_lock():
        ...     pass
        """
        with _flock(self.root / _BUILD_LOCK, waiting):
            # what a killed build left (a staging directory, a release never made current,
            # temporary files) is removed now: no build runs while the lock is held
            self.discard_unfinished()
            running = self.root / _BUILD_RUNNING
            if running.exists():  # the last build was killed: look for its temporary files
                remove_temporary(self.releases_dir, self.root / "cache")
            else:
                os.close(os.open(running, os.O_WRONLY | os.O_CREAT, 0o644))
                _fsync_dir(self.root)
            try:
                yield
            finally:
                # every writer of this build has ended (a write that failed removed its
                # temporary file), so the next build has nothing to look for
                running.unlink(missing_ok=True)

    @contextmanager
    def batch_lock(self, kind: str) -> Iterator[None]:
        """Held while a batch of ``kind`` is stored or withdrawn, so the two never interleave
        for one file (a withdrawal deleting the files of the same file stored again)."""
        with _flock(self.root / "batches" / kind / ".lock", None):
            yield

    # -- extracts ---------------------------------------------------------------------
    def extract_dir(self, kind: str) -> Path:
        """Directory of the accepted rows of one extract kind."""
        return self.root / "extracts" / kind

    def extract_files(self, kind: str) -> list[Path]:
        """Every stored Parquet file of one extract kind, in a stable order."""
        return sorted(self.extract_dir(kind).glob("period=*/*.parquet"))

    def stored_batches(self, kind: str) -> dict[str, Path]:
        """Checksum → batch record of every committed extract of one kind."""
        return {p.stem: p for p in sorted((self.root / "batches" / kind).glob("*.json"))}

    def quarantine_path(self, kind: str, checksum: str) -> Path:
        return self.root / "quarantine" / kind / f"{checksum}.parquet"

    def batch_path(self, kind: str, checksum: str) -> Path:
        return self.root / "batches" / kind / f"{checksum}.json"

    # -- releases ---------------------------------------------------------------------
    @property
    def releases_dir(self) -> Path:
        return self.root / "releases"

    @contextmanager
    def release(self, release_id: str | None = None) -> Iterator[ReleaseWriter]:
        """Build a release: tables go to a hidden directory that is renamed into place and
        made current only if the block finishes; on any error it is removed.

        >>> import tempfile
        >>> lake = Lake(Path(tempfile.mkdtemp()))
        >>> with lake.release("r1") as rel:
        ...     pass
        >>> lake.current().id
        'r1'
        """
        rid = release_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        final = self.releases_dir / rid
        if final.exists():
            raise StoreError(
                "store.release_exists",
                f"release {rid!r} exists already",
                hint="releases are immutable; build a new one",
            )
        staging = self.releases_dir / f"{_STAGING}{rid}"
        try:
            staging.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise StoreError(
                "store.release_building",
                f"release {rid!r} is being built already, or a build of it was interrupted",
                hint="build under Lake.build_lock (helsestat build does): it removes what an "
                "interrupted build left",
            ) from None
        previous = self.current()
        writer = ReleaseWriter(rid, staging, previous.path if previous else None)
        marker = self.releases_dir / f"{_COMMITTING}{rid}"
        try:
            yield writer
            # orjson: the standard library's encoder runs in Python when it indents, and a
            # release of many tables in parts has a manifest of thousands of entries
            manifest = orjson.dumps(writer.manifest(), option=orjson.OPT_INDENT_2)
            write_text_atomic(manifest.decode("utf-8"), staging / _MANIFEST)
            # The commit point is CURRENT naming the release. The marker says the release
            # directory exists but may not be current yet: if the process dies before
            # CURRENT is switched, the next build lock removes that directory.
            write_text_atomic(rid + "\n", marker)
            os.replace(staging, final)
            _fsync_dir(self.releases_dir)
            write_text_atomic(rid + "\n", self.releases_dir / _POINTER)
            marker.unlink()
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
            if marker.exists():  # failed between the rename and the switch
                self._roll_back(marker)

    def discard_unfinished(self) -> list[str]:
        """Remove what interrupted builds left, and return the ids of their releases: a
        staging directory (killed before its release was renamed into place), and a
        release directory renamed into place but never made current (killed before
        ``CURRENT`` was switched: the marker ``.committing-<id>`` says so). What
        ``CURRENT`` names is never removed. :meth:`build_lock` calls it once it holds the
        lock, when no build is writing.

        >>> import tempfile
        >>> lake = Lake(Path(tempfile.mkdtemp()))
        >>> (lake.releases_dir / ".building-R1").mkdir(parents=True)
        >>> lake.discard_unfinished()
        ['R1']
        """
        if not self.releases_dir.exists():
            return []
        removed = [
            self._roll_back(marker)
            for marker in sorted(self.releases_dir.glob(f"{_COMMITTING}*"))
            if marker.is_file()
        ]
        stale = sorted(p for p in self.releases_dir.glob(f"{_STAGING}*") if p.is_dir())
        for path in stale:
            shutil.rmtree(path)
        removed += [p.name.removeprefix(_STAGING) for p in stale]
        return sorted({r for r in removed if r})

    def _roll_back(self, marker: Path) -> str:
        """Remove the release a commit marker names unless ``CURRENT`` names it, then the
        marker; the id of the release removed, or ''."""
        rid = marker.name.removeprefix(_COMMITTING)
        try:
            current = (self.releases_dir / _POINTER).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            current = None
        removed = ""
        if current != rid and rid and (self.releases_dir / rid).is_dir():
            shutil.rmtree(self.releases_dir / rid)
            removed = rid
        marker.unlink()
        _fsync_dir(self.releases_dir)
        return removed

    def current(self) -> ReleaseInfo | None:
        """The current release, or None before the first build."""
        pointer = self.releases_dir / _POINTER
        try:
            rid = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return self.get(rid)

    def get(self, release_id: str) -> ReleaseInfo:
        """A release by id (any release kept on disk, not only the current one)."""
        if not release_id or release_id.startswith(".") or "/" in release_id:
            raise NotFoundError("release.not_found", f"no release {release_id!r}")
        path = self.releases_dir / release_id
        try:
            manifest = json.loads((path / _MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFoundError(
                "release.not_found",
                f"no release {release_id!r}",
                hint="GET /api/v1/releases lists the releases",
            ) from None
        return ReleaseInfo(
            id=release_id, path=path, created=manifest["created"], tables=tuple(manifest["tables"])
        )

    def list_releases(self) -> list[ReleaseInfo]:
        """Every complete release, oldest first."""
        if not self.releases_dir.exists():
            return []
        found = [
            self.get(p.name)
            for p in self.releases_dir.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / _MANIFEST).exists()
        ]
        return sorted(found, key=lambda r: (r.created, r.id))

    def _entry(self, release: ReleaseInfo, name: str) -> dict[str, object]:
        if name not in release.tables:
            raise NotFoundError(
                "table.not_found",
                f"release {release.id!r} has no table {name!r}",
                hint="GET /api/v1/tables lists the published tables",
            )
        manifest = json.loads((release.path / _MANIFEST).read_text(encoding="utf-8"))
        entry: dict[str, object] = manifest["tables"][name]
        return entry

    def table_files(self, release: ReleaseInfo, name: str) -> list[Path]:
        """The Parquet files of a published table of a release: one, or its parts in order."""
        return _files(release, name, self._entry(release, name))

    def read_table(self, release: ReleaseInfo, name: str, *, keep: bool = True) -> ProtectedTable:
        """A published table of a release, as it was published (parts put back together in
        the table's order). Tables read are kept in memory up to :data:`READ_CACHE_BYTES`
        (a release never changes); ``keep=False`` for a caller that keeps its own copy."""
        try:
            stat = (release.path / _MANIFEST).stat()  # a release rebuilt under the same id
        except FileNotFoundError:
            raise NotFoundError(
                "release.not_found",
                f"release {release.id!r} is no longer on disk",
                hint="GET /api/v1/releases lists the releases",
            ) from None
        key = (release.id, f"{stat.st_ino}:{stat.st_mtime_ns}", name)
        with self._read_lock:
            if (found := self._read.get(key)) is not None:
                self._read.move_to_end(key)
                return found
        table = self._read_table(release, name)
        size = table.table.nbytes
        if keep and size <= READ_CACHE_BYTES:
            with self._read_lock:
                self._read[key] = table
                while sum(t.table.nbytes for t in self._read.values()) > READ_CACHE_BYTES:
                    self._read.popitem(last=False)
        return table

    def read_data(self, release: ReleaseInfo, prefix: str) -> dict[str, pa.Table]:
        """The data files of a release whose names start with ``prefix/`` (without it)."""
        manifest = json.loads((release.path / _MANIFEST).read_text(encoding="utf-8"))
        names = [n for n in manifest.get("data", {}) if n.startswith(prefix + "/")]
        return {
            n[len(prefix) + 1 :]: pq.read_table(release.path / "data" / f"{_table_stem(n)}.parquet")
            for n in names
        }

    def _read_table(self, release: ReleaseInfo, name: str) -> ProtectedTable:
        meta = self._entry(release, name)
        if meta.get("computed"):
            raise StoreError(
                "store.computed_table",
                f"table {name!r} of release {release.id!r} is computed per query, not stored",
                hint=f"ask the API: GET /api/v1/tables/{name}",
            )
        files = _files(release, name, meta)
        if "parts" in meta:
            try:
                parts = pa.concat_tables([pq.read_table(f) for f in files])
            except (OSError, pa.ArrowInvalid) as exc:
                raise StoreError(
                    "store.bad_part",
                    f"release {release.id!r}: the parts of {name!r} cannot be read together "
                    f"({type(exc).__name__}: {exc})",
                    hint="build a new release (helsestat build); report it if it happens again",
                ) from None
            table = merge_parts(parts, len(files))
        else:
            table = pq.read_table(files[0])
        return ProtectedTable(
            name=name,
            title=str(meta["title"]),
            dimensions=tuple(_texts(meta["dimensions"])),
            measures=tuple(_texts(meta["measures"])),
            table=table,
            release=release.id,
            notes=tuple(_texts(meta.get("notes", []))),
            guarded=tuple(_texts(meta.get("guarded", []))),
        )


def _files(release: ReleaseInfo, name: str, meta: dict[str, object]) -> list[Path]:
    parts = meta.get("parts")
    if parts is None:
        return [release.path / _table_file(name)]
    assert isinstance(parts, list)
    return [release.path / str(part["file"]) for part in parts]


def _texts(value: object) -> list[str]:
    assert isinstance(value, list)
    return [str(v) for v in value]
