"""What the unit registry's routes and pages share: the app's reference database, a session
per request, and the date and unit-id parameters.

>>> parse_unit_id("4001")
4001
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from helsestat.api.params import IsoDate, IsoDateTime
from helsestat.errors import NotFoundError
from helsestat.store.db.database import create_engine_for, migrate, session_factory

#: ASCII digits only: ``re``'s ``\d`` (and ``int()``) also take fullwidth and Arabic-Indic
#: digits, which would make ``/units/１２`` another name of unit 12. 18 digits at most, so
#: an id never overflows the database's 64-bit integers.
_UNIT_ID = re.compile(r"[0-9]{1,18}", re.ASCII)


class UnitDatabase:
    """The app's engine on the reference database: created and migrated on first use."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                engine = create_engine_for(self.url)
                migrate(engine)
                self._engine = engine
            return self._engine

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def get_session(request: Request) -> Iterator[Session]:
    """A session on the app's reference database (rolled back unless a route commits)."""
    database: UnitDatabase = request.app.state.units_db
    with session_factory(database.engine())() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


DateParam = Annotated[
    IsoDate | None,
    Query(alias="date", description="The day to look at, YYYY-MM-DD (default: today)"),
]
KnownAtParam = Annotated[
    IsoDateTime | None,
    Query(
        description="What the registry said at this time, RFC 3339 with a zone, e.g. "
        "2024-03-01T12:00:00Z (default: now)"
    ),
]


def today() -> date:
    """Today in UTC: the default date of every query."""
    return datetime.now(UTC).date()


def parse_unit_id(raw: str) -> int:
    """A unit id from the path (a number); anything else is an unknown unit (404)."""
    if not _UNIT_ID.fullmatch(raw):
        raise NotFoundError(
            "unit.not_found",
            f"no unit {raw[:40]!r}: unit ids are numbers",
            hint="search by name with GET /api/v1/units?q=…",
        )
    return int(raw)


__all__ = [
    "DateParam",
    "KnownAtParam",
    "SessionDep",
    "UnitDatabase",
    "get_session",
    "parse_unit_id",
    "today",
]
