"""The audit log of the reference registries: who changed which entity when, with the
values before and after (JSON), appended in the same transaction as the change.

>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> with session_factory(engine).begin() as session:
...     _ = record_audit(session, "kari", "unit", 4001, "rename", {"name": "A"}, {"name": "B"})
>>> with session_factory(engine)() as session:
...     [(e.actor, e.after) for e in audit_trail(session, "unit", 4001)]
[('kari', {'name': 'B'})]
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helsestat.errors import (
    InputError,
)
from helsestat.store.db.database import atomic
from helsestat.store.db.schema import (
    AuditLog,
)

# -- audit -----------------------------------------------------------------------------------

JsonObject = Mapping[str, Any]


@dataclass(frozen=True)
class AuditEntry:
    """One change of a reference entity, as recorded."""

    id: int
    at: datetime
    actor: str
    entity: str
    entity_id: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _as_json(label: str, where: str, value: JsonObject | None) -> dict[str, Any] | None:
    """``value`` as it will read back from the database (tuples become lists, …)."""
    if value is None:
        return None
    try:
        loaded: dict[str, Any] = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InputError(
            "input.audit_not_json",
            f"{where}: '{label}' cannot be stored as JSON ({exc})",
            hint="pass plain dicts, lists, strings, finite numbers, booleans and None; "
            "write dates as ISO strings",
        ) from None
    return loaded


def record_audit(
    session: Session,
    actor: str,
    entity: str,
    entity_id: str | int,
    action: str,
    before: JsonObject | None,
    after: JsonObject | None,
    *,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry to the audit log (``at`` defaults to now, UTC) and return it.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine).begin() as session:
    ...     entry = record_audit(session, "kari", "unit", 4001, "rename",
    ...                          {"name": "Kir. avd."}, {"name": "Kirurgisk avdeling"})
    >>> entry.entity_id, entry.after
    ('4001', {'name': 'Kirurgisk avdeling'})
    """
    where = f"audit of {entity} {entity_id}"
    when = at if at is not None else datetime.now(UTC)
    if when.tzinfo is None:
        raise InputError(
            "input.naive_timestamp",
            f"{where}: the time {when.isoformat()} has no timezone",
            hint="pass an aware datetime, e.g. datetime.now(UTC)",
        )
    if not actor:
        raise InputError("input.missing_actor", f"{where}: no actor", hint="name who changed it")
    row = AuditLog(
        at=when,
        actor=actor,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        before=_as_json("before", where, before),
        after=_as_json("after", where, after),
    )
    with atomic(session, f"recording {where}"):
        session.add(row)
    return AuditEntry(
        row.id, when.astimezone(UTC), actor, entity, row.entity_id, action, row.before, row.after
    )


def audit_trail(session: Session, entity: str, entity_id: str | int) -> list[AuditEntry]:
    """Every audit entry of one entity, oldest first.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     audit_trail(session, "unit", 4001)
    []
    """
    rows = session.scalars(
        select(AuditLog)
        .where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
        .order_by(AuditLog.at, AuditLog.id)
    ).all()
    return [
        AuditEntry(r.id, r.at, r.actor, r.entity, r.entity_id, r.action, r.before, r.after)
        for r in rows
    ]


__all__ = [
    "AuditEntry",
    "JsonObject",
    "audit_trail",
    "record_audit",
]
