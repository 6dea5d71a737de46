"""A reference snapshot kept on disk between processes, so that a command that reads it once
(``helsestat build``, ``ingest``) does not pay for reading the whole reference database and
importing the database layer every time.

Reading a :class:`~helsestat.reference.snapshot.Reference` from the database costs the
queries of every registry and the import of SQLAlchemy and Alembic: a large share of a build
that has little to do. The snapshot is the same as long as the database is, so the first
process writes it to ``<cache dir>/<key>.pickle`` and the next ones load it (a few
milliseconds) after reading the database's **stamp**: four small queries through Python's
own ``sqlite3`` module, none through SQLAlchemy:

- the schema's revision (``alembic_version``: a migration changes it);
- the reference version, when it last changed and when the database was seeded
  (``reference_state``: every write of reference content moves the version);
- the number of Swedish units plus the sum of their ``row_version``, and the same of the
  Norwegian units (the unit generations the
  :class:`~helsestat.reference.holder.ReferenceHolder` checks too: unit edits do not move the
  reference version).

The key hashes the stamp with the Python and pyarrow versions and the size and modification
time of every source file of :mod:`helsestat.reference` (the classes a snapshot is made of),
so a snapshot is never read by code it was not written by or for content it does not hold (a
copy of the data directory, database included, reads its copy of the snapshot: the same
content; the times in the stamp tell one database's history from another's). The file
carries the SHA-256 of its payload and is written under a temporary name and renamed: a file
that does not match its digest, or that cannot be read, is a miss, never an error.

Only SQLite databases named by a file have a stamp; for any other URL (PostgreSQL) there is
no cache and the caller reads the database as before. The cache directory must be private
to the deployment (it is under the data directory, which holds the lake): a snapshot is a
pickle.

>>> import tempfile
>>> from pathlib import Path
>>> from helsestat.reference.holder import ReferenceHolder
>>> folder = Path(tempfile.mkdtemp())
>>> url = f"sqlite:///{folder / 'reference.db'}"
>>> load_cached(url, folder / "cache") is None  # no database yet
True
>>> holder = ReferenceHolder(url)
>>> snapshot = holder.get(); holder.dispose()
>>> save_cached(url, folder / "cache", snapshot)
True
>>> again = load_cached(url, folder / "cache")
>>> again.version == snapshot.version, again.geography.digest == snapshot.geography.digest
(True, True)
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sqlite3
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from helsestat.reference.snapshot import Reference

#: Format of a cache file: the magic line, the payload's SHA-256 (hex) and a newline, then
#: the pickled snapshot.
_MAGIC = b"helsestat-reference-snapshot 1\n"
_SUFFIX = ".pickle"


@dataclass(frozen=True)
class Stamp:
    """What identifies the content of a reference database (see the module docstring).

    >>> Stamp("abc", 7, "2026-12-07", "2026-12-01", 0).version
    7
    """

    revision: str
    version: int
    changed_at: str | None
    seeded_at: str | None
    unit_generation: int
    #: the Norwegian units' generation (the Swedish ones': ``unit_generation``)
    resh_generation: int = 0


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite database URL; None for an in-memory database or another kind.

    >>> sqlite_path("sqlite:///var/reference.db"), sqlite_path("sqlite://")
    (PosixPath('var/reference.db'), None)
    >>> sqlite_path("postgresql+psycopg://u@h/db") is None
    True
    """
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url[len(prefix) :]
    if not path or path == ":memory:":
        return None
    return Path(path)


def read_stamp(url: str) -> Stamp | None:
    """The stamp of the database at ``url``; None when it has none (not SQLite, no file,
    not migrated, more than one state row).

    >>> read_stamp("sqlite://") is None
    True
    """
    path = sqlite_path(url)
    if path is None or not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        revisions = sorted(
            r for (r,) in connection.execute("SELECT version_num FROM alembic_version")
        )
        states = connection.execute(
            "SELECT version, changed_at, seeded_at FROM reference_state"
        ).fetchall()
        count, total = connection.execute(
            "SELECT count(*), coalesce(sum(row_version), 0) FROM unit WHERE country = 'SE'"
        ).fetchone()
        no_count, no_total = connection.execute(
            "SELECT count(*), coalesce(sum(row_version), 0) FROM unit WHERE country = 'NO'"
        ).fetchone()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    if len(states) != 1 or not revisions:
        return None
    version, changed_at, seeded_at = states[0]
    return Stamp(
        ",".join(revisions),
        int(version),
        None if changed_at is None else str(changed_at),
        None if seeded_at is None else str(seeded_at),
        int(count) + int(total),
        int(no_count) + int(no_total),
    )


def _code_fingerprint() -> str:
    """Versions and the size and modification time of every source file of the reference
    package: a snapshot pickled by other code is not read."""
    import pyarrow

    root = Path(__file__).parent
    digest = hashlib.sha256(f"{sys.version}\0{pyarrow.__version__}\0".encode())
    for path in sorted(root.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _file(directory: Path, stamp: Stamp) -> Path:
    key = json.dumps([_code_fingerprint(), stamp.__dict__], sort_keys=True)
    return directory / (hashlib.sha256(key.encode()).hexdigest()[:40] + _SUFFIX)


def load_cached(url: str, directory: Path) -> Reference | None:
    """The snapshot of the database at ``url`` kept in ``directory``, if one was saved for
    exactly its content now; else None (the caller reads the database)."""
    stamp = read_stamp(url)
    if stamp is None:
        return None
    try:
        data = _file(directory, stamp).read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + 65
    if not data.startswith(_MAGIC) or len(data) < head:
        return None
    payload = data[head:]
    if hashlib.sha256(payload).hexdigest().encode() != data[len(_MAGIC) : head - 1]:
        return None
    try:
        snapshot = pickle.loads(payload)
    except Exception:  # a file of other code: read the database instead
        return None
    if not isinstance(snapshot, Reference) or snapshot.version != stamp.version:
        return None
    return snapshot


def save_cached(url: str, directory: Path, snapshot: Reference) -> bool:
    """Keep ``snapshot`` for the next process if it holds what the database at ``url``
    holds now (its version and unit generation are the stamp's); other snapshots kept there
    are removed. False when nothing was written (no stamp, or the database moved on)."""
    stamp = read_stamp(url)
    if (
        stamp is None
        or stamp.version != snapshot.version
        or stamp.unit_generation != snapshot.hsa_as_of.generation
        or stamp.resh_generation != snapshot.resh_as_of.generation
    ):
        return False
    target = _file(directory, stamp)
    # computed once here and carried by the pickle (a cached property): every build keys
    # its protected pieces on it, and loading it costs less than computing it
    _ = snapshot.geography.digest
    payload = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        tmp.write_bytes(_MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
        os.replace(tmp, target)
    except OSError:  # e.g. another process cleared the folder meanwhile: not kept, no harm
        return False
    finally:
        tmp.unlink(missing_ok=True)
    # older snapshots, and what a process killed while writing one left
    for old in [*directory.glob(f"*{_SUFFIX}"), *directory.glob(".*.tmp")]:
        if old != target:
            old.unlink(missing_ok=True)
    return True


__all__ = ["Stamp", "load_cached", "read_stamp", "save_cached", "sqlite_path"]
