"""The version of the reference content in the database (table ``reference_state``).

Every write to the reference tables calls :func:`bump` in its own transaction, so the
version a reader sees says exactly which content it has: a snapshot read at version n is
current as long as :func:`version` still answers n. ``seeded_at`` records when the packaged
files were written (:func:`mark_seeded`), so that a database is seeded once, never
overwritten behind an administrator's back.

>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> with session_factory(engine).begin() as session:
...     before = version(session)
...     bump(session)
>>> with session_factory(engine)() as session:
...     version(session) - before, seeded(session)
(1, False)
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from helsestat.errors import StoreError
from helsestat.store.db.reference_schema import SINGLE_ROW, ReferenceState

_ROW: ColumnElement[bool] = ReferenceState.id == SINGLE_ROW


def _missing() -> StoreError:
    return StoreError(
        "store.not_migrated",
        "the reference database has no reference_state row: it is not migrated to the "
        "newest schema",
        hint="run 'helsestat migrate' (or helsestat.store.db.database.migrate)",
    )


def bump(session: Session) -> None:
    """Count one more change of the reference content (inside the caller's transaction)."""
    done = session.execute(
        update(ReferenceState)
        .where(_ROW)
        .values(version=ReferenceState.version + 1, changed_at=datetime.now(UTC))
    )
    if getattr(done, "rowcount", 1) == 0:
        raise _missing()


def version(session: Session) -> int:
    """The version of the reference content."""
    found = session.scalar(select(ReferenceState.version).where(_ROW))
    if found is None:
        raise _missing()
    return found


def seeded(session: Session) -> bool:
    """True once the packaged files have been written into the database."""
    return session.scalar(select(ReferenceState.seeded_at).where(_ROW)) is not None


def mark_seeded(session: Session) -> None:
    """Record that the packaged files were written (inside the caller's transaction)."""
    session.execute(update(ReferenceState).where(_ROW).values(seeded_at=datetime.now(UTC)))


__all__ = ["bump", "mark_seeded", "seeded", "version"]
