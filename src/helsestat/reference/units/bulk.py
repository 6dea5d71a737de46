"""Importing whole histories at once (a demo tree, an extract from another registry): ids
from the same counter, the same rules (:mod:`.rules`) checked against the imported units
and the stored ones together, one audit entry per unit — but a few bulk statements instead
of a dozen per unit, so a tree of thousands of units loads in seconds. Only the registry
owner may import.

>>> from datetime import date
>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> from helsestat.reference.units.model import SYSTEM, Span, UnitFields
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> with session_factory(engine).begin() as session:
...     (rhf,) = allocate_unit_ids(session, 1)
...     import_histories(session, SYSTEM, [ImportedUnit(rhf, "NO", (
...         Span(date(2002, 1, 1), None, UnitFields("rhf", "Helse Vest RHF")),))])
1
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from helsestat.errors import InputError, StoreError
from helsestat.reference.units.history import unit_versions
from helsestat.reference.units.model import Identifier, Principal, Span
from helsestat.reference.units.permissions import require_owner
from helsestat.reference.units.repository import Clock, DbView, service_codes, utc_now
from helsestat.reference.units.rules import CodeLookup, check_history, check_identifier
from helsestat.reference.units.timeline import TimelineError, check_contiguous
from helsestat.store.db.schema import AuditLog
from helsestat.store.db.units_schema import (
    UNIT_ID_COUNTER,
    Unit,
    UnitIdCounter,
    UnitIdentifierRow,
    UnitVersionRow,
)


@dataclass(frozen=True)
class ImportedUnit:
    """A unit to import: an id from :func:`allocate_unit_ids`, its whole history (parents by
    id) and its identifiers."""

    id: int
    country: str
    spans: tuple[Span, ...]
    identifiers: tuple[Identifier, ...] = ()


def allocate_unit_ids(session: Session, count: int) -> range:
    """``count`` new permanent ids in one atomic step of the counter."""
    if count <= 0:
        return range(0)
    end = session.execute(
        update(UnitIdCounter)
        .where(UnitIdCounter.name == UNIT_ID_COUNTER)
        .values(next_value=UnitIdCounter.next_value + count)
        .returning(UnitIdCounter.next_value)
    ).scalar_one_or_none()
    if end is None:
        raise StoreError(
            "store.not_migrated",
            "the unit id counter is missing: the reference database is not migrated",
            hint="run 'helsestat migrate'",
        )
    return range(int(end) - count, int(end))


class _Batch(DbView):
    """The registry as it will be after the import: imported units first, stored ones next."""

    def __init__(self, session: Session, units: Sequence[ImportedUnit]) -> None:
        super().__init__(session)
        self.batch = {u.id: u for u in units}
        self.under: dict[int, list[tuple[int, Span]]] = defaultdict(list)
        self.ids: dict[tuple[str, str], list[tuple[int, Identifier]]] = defaultdict(list)
        for unit in units:
            for span in unit.spans:
                if span.fields.parent_id is not None:
                    self.under[span.fields.parent_id].append((unit.id, span))
            for identifier in unit.identifiers:
                self.ids[(identifier.scheme, identifier.value)].append((unit.id, identifier))

    def spans(self, unit_id: int) -> list[Span]:
        if unit_id in self.batch:
            return list(self.batch[unit_id].spans)
        return super().spans(unit_id)

    def country(self, unit_id: int) -> str | None:
        if unit_id in self.batch:
            return self.batch[unit_id].country
        return super().country(unit_id)

    def children(self, unit_id: int) -> list[tuple[int, Span]]:
        stored = super().children(unit_id) if unit_id not in self.batch else []
        return self.under.get(unit_id, []) + stored

    def identifier_holders(self, scheme: str, value: str) -> list[tuple[int, Identifier]]:
        return self.ids.get((scheme, value), []) + super().identifier_holders(scheme, value)


def _json(span: Span) -> dict[str, Any]:
    return {
        "valid_from": span.valid_from.isoformat(),
        "valid_to": span.valid_to.isoformat() if span.valid_to else None,
        **span.fields.as_json(),
    }


def import_histories(
    session: Session,
    actor: Principal,
    units: Sequence[ImportedUnit],
    *,
    clock: Clock = utc_now,
    codes: CodeLookup | None = None,
) -> int:
    """Check and store ``units`` (new ids only); returns how many. All or nothing."""
    require_owner(actor, "import units")
    when: datetime = clock()
    lookup = codes or service_codes(session)
    view = _Batch(session, units)
    for unit in units:
        try:
            check_contiguous(unit.spans)
        except TimelineError as exc:
            raise InputError("unit.invalid_change", f"unit {unit.id}: {exc}") from None
        if unit_versions(session, unit.id):
            raise InputError(
                "unit.exists", f"unit {unit.id} is in the registry already; import adds new units"
            )
        check_history(view, unit.id, unit.country, unit.spans, unit.spans, codes=lookup)
        for identifier in unit.identifiers:
            check_identifier(view, unit.id, unit.country, identifier)
    if not units:
        return 0
    with session.begin_nested():
        session.execute(
            insert(Unit),
            [
                {
                    "id": u.id,
                    "country": u.country,
                    "row_version": 1,
                    "created_at": when,
                    "created_by": actor.name,
                }
                for u in units
            ],
        )
        session.execute(
            insert(UnitVersionRow),
            [
                {
                    "unit_id": u.id,
                    "valid_from": s.valid_from,
                    "valid_to": s.valid_to,
                    "recorded_at": when,
                    "superseded_at": None,
                    "recorded_by": actor.name,
                    **s.fields.as_json(),
                }
                for u in units
                for s in u.spans
            ],
        )
        identifiers = [
            {
                "unit_id": u.id,
                "scheme": i.scheme,
                "value": i.value,
                "valid_from": i.valid_from,
                "valid_to": i.valid_to,
                "recorded_at": when,
                "superseded_at": None,
                "recorded_by": actor.name,
            }
            for u in units
            for i in u.identifiers
        ]
        if identifiers:
            session.execute(insert(UnitIdentifierRow), identifiers)
        session.execute(
            insert(AuditLog),
            [
                {
                    "at": when,
                    "actor": actor.name,
                    "entity": "unit",
                    "entity_id": str(u.id),
                    "action": "import",
                    "before": None,
                    "after": {
                        "country": u.country,
                        "versions": [_json(s) for s in u.spans],
                        "identifiers": [
                            {
                                "scheme": i.scheme,
                                "value": i.value,
                                "valid_from": i.valid_from.isoformat(),
                                "valid_to": i.valid_to.isoformat() if i.valid_to else None,
                            }
                            for i in u.identifiers
                        ],
                    },
                }
                for u in units
            ],
        )
    return len(units)


__all__ = ["ImportedUnit", "allocate_unit_ids", "import_histories"]
