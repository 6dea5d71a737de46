"""The current :class:`~helsestat.reference.snapshot.Reference` of one reference database,
for a process that reads it often (the API serves from it on every request; the CLI and a
build read it once).

A :class:`ReferenceHolder` does no I/O when made. The first :meth:`~ReferenceHolder.get`
opens the database, migrates it, seeds it from the packaged files if it was never seeded
(unless told not to) and reads a snapshot. Later calls return the same snapshot after asking
the database for its reference version (one small query; with ``refresh_seconds`` above 0
at most that often) and read a new snapshot only when the version has moved: a version
loaded with ``helsestat reference load`` by another process is served by the next request.
The Swedish units by HSA-id (:mod:`helsestat.reference.units.directory`,
:mod:`helsestat.reference.units.hsa`) and the Norwegian ones by RESH id
(:mod:`helsestat.reference.units.resh`) are part of the snapshot and have versions of their own
(edits of the unit registry do not move the reference version): when only they changed, only
they are read again.
:meth:`~ReferenceHolder.invalidate` makes the next ``get`` check whatever the interval.

>>> holder = ReferenceHolder("sqlite://", refresh_seconds=0)
>>> ref = holder.get()
>>> holder.get() is ref, ref.registry.classification(131).name
(True, 'Standard for kommuneinndeling')
>>> holder.dispose()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from helsestat.reference import state
from helsestat.reference.persist import read_reference
from helsestat.reference.seed import seed_if_new
from helsestat.reference.snapshot import Reference
from helsestat.reference.units.directory import hsa_directory
from helsestat.reference.units.hsa import SWEDEN, read_hsa_units
from helsestat.reference.units.resh import NORWAY, read_resh_units
from helsestat.settings import Settings
from helsestat.store.db.database import create_engine_for, migrate, session_factory
from helsestat.store.db.reference_schema import SINGLE_ROW, ReferenceState
from helsestat.store.db.units_schema import Unit


class ReferenceHolder:
    """The reference snapshot of the database at ``url``, reloaded when its version moves.

    ``seed``: write the packaged files into a database that was never seeded, on first use;
    ``refresh_seconds``: how long a snapshot is handed out before the version is checked
    again (0: on every call); ``clock``: monotonic seconds (tests pass their own)."""

    def __init__(
        self,
        url: str,
        *,
        seed: bool = True,
        refresh_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.seed = seed
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._snapshot: Reference | None = None
        self._checked = float("-inf")
        #: What opening the database wrote from the packaged files (None: nothing, it had
        #: been seeded before or ``seed`` is off).
        self.seeded: dict[str, int] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ReferenceHolder:
        """The holder of the reference database of ``settings`` (no I/O yet).

        >>> ReferenceHolder.from_settings(Settings(demo_mode=True)).url
        'sqlite:///var/reference.db'
        """
        return cls(
            settings.resolved_database_url,
            seed=settings.reference_seed,
            refresh_seconds=settings.reference_refresh_seconds,
        )

    def engine(self) -> Engine:
        """The engine on the database: on first use created, migrated and (``seed``) seeded."""
        return self._open()[0]

    def _open(self) -> tuple[Engine, sessionmaker[Session]]:
        engine, sessions = self._engine, self._sessions
        if engine is not None and sessions is not None:
            return engine, sessions
        with self._lock:
            if self._engine is None or self._sessions is None:
                engine = create_engine_for(self.url)
                try:
                    migrate(engine)
                    if self.seed:
                        self.seeded = seed_if_new(engine)
                except BaseException:
                    engine.dispose()
                    raise
                self._engine, self._sessions = engine, session_factory(engine)
            return self._engine, self._sessions

    def get(self, max_age: float | None = None) -> Reference:
        """The snapshot of the current reference content. ``max_age``: serve a snapshot
        whose version was checked at most this many seconds ago without asking (default:
        ``refresh_seconds``), for callers on a hot path."""
        snapshot, now = self._snapshot, self._clock()
        age = self.refresh_seconds if max_age is None else max_age
        if snapshot is not None and now - self._checked < age:
            return snapshot
        _, sessions = self._open()
        if snapshot is not None:
            with sessions() as session:
                if _current(session, snapshot):
                    self._checked = now
                    return snapshot
        with self._lock:
            # Another thread may have read the new content while this one waited.
            with sessions() as session:
                current = self._snapshot
                if current is not None and current is not snapshot:
                    if _current(session, current):
                        return current
                    session.rollback()
                fresh = _read(session, current)
            self._snapshot, self._checked = fresh, now
            return fresh

    def invalidate(self) -> None:
        """Check the database's version on the next :meth:`get` (after a write)."""
        self._checked = float("-inf")

    def dispose(self) -> None:
        """Close the database connections (a later call opens them again)."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
            self._engine = self._sessions = None


def _generation(country: str) -> ScalarSelect[int]:
    total = func.count() + func.coalesce(func.sum(Unit.row_version), 0)
    return select(total).where(Unit.country == country).scalar_subquery()


#: The reference version and both countries' unit generations, in one statement (made once:
#: building it costs more than running it).
_STAMP = select(ReferenceState.version, _generation(SWEDEN), _generation(NORWAY)).where(
    ReferenceState.id == SINGLE_ROW
)


def _current(session: Session, snapshot: Reference) -> bool:
    """Whether the database still holds what ``snapshot`` was read from: the same reference
    version, and no unit changed since (unit edits do not move the version). One query:
    the version and both countries' unit generations (as ``hsa_generation`` and
    ``resh_generation`` count them)."""

    row = session.execute(_STAMP).one_or_none()
    if row is None:
        state.version(session)  # raises: the database is not migrated
        return False
    return (int(row[0]), int(row[1]), int(row[2])) == (
        snapshot.version,
        snapshot.hsa_as_of.generation,
        snapshot.resh_as_of.generation,
    )


def _read(session: Session, earlier: Reference | None) -> Reference:
    """A new snapshot; when only the units changed since ``earlier``, the rest of
    ``earlier`` with the units (now and over time) read again."""
    hsa, resh = read_hsa_units(session), read_resh_units(session)
    if earlier is not None and state.version(session) == earlier.version:
        return replace(earlier, hsa_units=hsa_directory(session), hsa_as_of=hsa, resh_as_of=resh)
    fresh = replace(read_reference(session), hsa_as_of=hsa, resh_as_of=resh)
    # the geography's checksum is part of reading it, as a kept snapshot carries it
    # (snapshot_cache.save_cached): every build keys its cached pieces on it
    _ = fresh.geography.digest
    return fresh


__all__ = ["ReferenceHolder"]
