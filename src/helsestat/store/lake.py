"""The Parquet lake: extracts, quarantine and releases under the data directory.

Layout::

    <data_dir>/
      extracts/<kind>/period=<YYYYMM>/<checksum>.parquet   accepted rows (pseudonymised)
      codebooks/<kind>/<column>.json                       codes of coded columns (append-only)
      quarantine/<kind>/<checksum>.parquet                 rejected rows with reasons
      batches/<kind>/<checksum>.json                       ingest report of each stored file
      cache/<statistic>/period=<YYYYMM>/<key>.arrow      phase-1 table of a partition
      cache/<statistic>/tables/<table>/<period>/<key>.arrow  protected piece of a table
      releases/<release-id>/<table>.parquet + release.json an immutable published release
      releases/CURRENT                                     name of the current release

Every file is written to a temporary name in the same directory and renamed into place, and
a release directory is built under a hidden name and renamed whole, so a reader never sees a
half-written file or release. ``CURRENT`` is switched with one atomic ``os.replace``; the
previous releases stay on disk and servable.

>>> import tempfile
>>> lake = Lake(Path(tempfile.mkdtemp()))
>>> lake.current() is None
True
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from helsestat.errors import NotFoundError, StoreError
from helsestat.model import ProtectedTable, ReleaseInfo

_POINTER = "CURRENT"
_MANIFEST = "release.json"


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
    """Write ``table`` to ``path`` via a temporary file and a rename: all or nothing.
    ``dictionary`` names the columns to dictionary-encode (True: all); ``statistics``
    writes the min/max statistics of every column chunk."""
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


def _table_file(name: str) -> str:
    """File name of a published table: ``a/b/c`` → ``a__b__c.parquet``."""
    if not name or any(part in ("", ".", "..") for part in name.split("/")):
        raise StoreError("store.bad_table_name", f"invalid table name {name!r}")
    return name.replace("/", "__") + ".parquet"


class ReleaseWriter:
    """Collects the tables of one build; :meth:`Lake.release` commits or discards it."""

    def __init__(self, release_id: str, path: Path) -> None:
        self.id = release_id
        self.path = path
        self._tables: dict[str, dict[str, object]] = {}

    def add(self, table: ProtectedTable) -> None:
        """Write one protected table into the release being built."""
        self.write(self.register(table))

    def register(self, table: ProtectedTable) -> ProtectedTable:
        """Enter ``table`` in the manifest (tables are listed in the order registered);
        :meth:`write` it next, e.g. on another thread. A release whose write fails is
        discarded, so a registered table is always written when the release commits."""
        if table.name in self._tables:
            raise StoreError(
                "store.duplicate_table", f"table {table.name!r} written twice in one release"
            )
        self._tables[table.name] = {
            "title": table.title,
            "dimensions": list(table.dimensions),
            "measures": list(table.measures),
            "notes": list(table.notes),
            "rows": table.table.num_rows,
        }
        return table

    def write(self, table: ProtectedTable) -> None:
        """Write the file of a registered table. Without min/max statistics: a published
        table is read whole (the API holds it in memory) and fits one row group, so they
        would prune nothing, and they cost a quarter of the write (text columns)."""
        write_parquet_atomic(table.table, self.path / _table_file(table.name), statistics=False)

    def manifest(self) -> dict[str, object]:
        return {
            "id": self.id,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "tables": self._tables,
        }


class Lake:
    """The data directory. Construction does no I/O; directories appear on first write."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

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
        staging = self.releases_dir / f".building-{rid}"
        staging.mkdir(parents=True, exist_ok=False)
        writer = ReleaseWriter(rid, staging)
        try:
            yield writer
            write_text_atomic(
                json.dumps(writer.manifest(), ensure_ascii=False, indent=1), staging / _MANIFEST
            )
            os.replace(staging, final)
            _fsync_dir(self.releases_dir)
            write_text_atomic(rid + "\n", self.releases_dir / _POINTER)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

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

    def table_path(self, release: ReleaseInfo, name: str) -> Path:
        """The Parquet file of a published table of a release."""
        return release.path / _table_file(name)

    def read_table(self, release: ReleaseInfo, name: str) -> ProtectedTable:
        """A published table of a release, as it was published."""
        if name not in release.tables:
            raise NotFoundError(
                "table.not_found",
                f"release {release.id!r} has no table {name!r}",
                hint="GET /api/v1/tables lists the published tables",
            )
        manifest = json.loads((release.path / _MANIFEST).read_text(encoding="utf-8"))
        meta = manifest["tables"][name]
        table = pq.read_table(release.path / _table_file(name))
        return ProtectedTable(
            name=name,
            title=meta["title"],
            dimensions=tuple(meta["dimensions"]),
            measures=tuple(meta["measures"]),
            table=table,
            release=release.id,
            notes=tuple(meta.get("notes", ())),
        )
