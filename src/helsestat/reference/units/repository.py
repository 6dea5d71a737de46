"""Writing the registry: create a unit (its id from the counter), change it from a date,
close or reopen it, add or end identifiers. Each write checks the writer's rights as of the
date it takes effect, checks the resulting history (:mod:`.rules`), records it bitemporally
(old versions are stamped ``superseded_at``, never updated or deleted), appends one audit
entry with the versions before and after, and bumps the unit's ``row_version`` — with a
compare-and-set, so of two concurrent edits one fails instead of being lost.

Functions take a :class:`~sqlalchemy.orm.Session`, write in a SAVEPOINT (all or nothing) and
leave the commit to the caller, like :mod:`helsestat.store.db.database`.

>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> from helsestat.reference.units.model import SYSTEM, NewUnit, UnitFields
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> with session_factory(engine).begin() as session:
...     rhf = create_unit(session, SYSTEM, NewUnit("NO", UnitFields("rhf", "Helse Vest RHF",
...                       orgnr="983658725"), date(2002, 1, 1)))
...     renamed = change_unit(session, SYSTEM, rhf.id, date(2010, 1, 1), {"name": "Helse Vest"})
>>> rhf.id, [v.fields.name for v in renamed.versions]
(100000, ['Helse Vest RHF', 'Helse Vest'])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from helsestat.errors import ConflictError, InputError, NotFoundError, StoreError
from helsestat.reference.classification_store import codes_at
from helsestat.reference.units.history import (
    VERSION_COLUMNS,
    current_rows,
    fields_of,
    unit_identifiers,
    unit_versions,
)
from helsestat.reference.units.model import (
    CHANGEABLE,
    Expected,
    Identifier,
    IfMatch,
    NewUnit,
    Principal,
    Span,
    UnitRecord,
    Version,
)
from helsestat.reference.units.permissions import require_owner, require_scope_over
from helsestat.reference.units.rules import CodeLookup, check_history, check_identifier
from helsestat.reference.units.timeline import (
    TimelineError,
    apply_change,
    changed_spans,
    set_end,
)
from helsestat.store.db.audit import record_audit
from helsestat.store.db.units_schema import (
    UNIT_ID_COUNTER,
    Unit,
    UnitIdCounter,
    UnitIdentifierRow,
    UnitVersionRow,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


@contextmanager
def _atomic(session: Session, what: str) -> Iterator[None]:
    try:
        with session.begin_nested():
            yield
    except IntegrityError as exc:
        raise ConflictError(
            "unit.conflict",
            f"{what}: the database refused the change ({str(exc.orig).splitlines()[0]})",
            hint="another edit may have written the same rows; re-read and retry",
        ) from exc
    except DBAPIError as exc:
        if "database is locked" in str(exc.orig):  # SQLite: another writer got there first
            raise ConflictError(
                "unit.concurrent_edit",
                f"{what}: another edit is being written at the same time",
                hint="GET the unit again and retry",
            ) from exc
        raise StoreError(
            "store.database_error",
            f"{what}: {str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__}",
            hint="check that the reference database is reachable and migrated",
        ) from exc


class DbView:
    """The :class:`~.rules.RegistryView` of the stored registry, caching each unit's spans
    for the duration of one write."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._spans: dict[int, list[Span]] = {}

    def spans(self, unit_id: int) -> list[Span]:
        if unit_id not in self._spans:
            self._spans[unit_id] = [v.span for v in unit_versions(self.session, unit_id)]
        return self._spans[unit_id]

    def country(self, unit_id: int) -> str | None:
        unit = self.session.get(Unit, unit_id)
        return unit.country if unit is not None else None

    def children(self, unit_id: int) -> list[tuple[int, Span]]:
        rows = self.session.execute(
            select(*VERSION_COLUMNS).where(UnitVersionRow.parent_id == unit_id, current_rows())
        ).all()
        return [(r.unit_id, Span(r.valid_from, r.valid_to, fields_of(r))) for r in rows]

    def identifier_holders(self, scheme: str, value: str) -> list[tuple[int, Identifier]]:
        rows = self.session.scalars(
            select(UnitIdentifierRow).where(
                UnitIdentifierRow.scheme == scheme,
                UnitIdentifierRow.value == value,
                UnitIdentifierRow.superseded_at.is_(None),
            )
        ).all()
        return [(r.unit_id, Identifier(r.scheme, r.value, r.valid_from, r.valid_to)) for r in rows]


def service_codes(session: Session) -> CodeLookup:
    """A cached :data:`~.rules.CodeLookup` over the classifications in the database."""
    cache: dict[tuple[int, date], frozenset[str] | None] = {}

    def lookup(classification_id: int, day: date) -> frozenset[str] | None:
        key = (classification_id, day)
        if key not in cache:
            try:
                cache[key] = frozenset(c.code for c in codes_at(session, classification_id, day))
            except NotFoundError:
                cache[key] = None
        return cache[key]

    return lookup


def allocate_unit_id(session: Session) -> int:
    """The next permanent unit id: one atomic ``UPDATE … RETURNING`` on the counter row, so
    concurrent writers never get the same id, and the counter never goes back (a trigger
    refuses it), so an id is never handed out twice — even for a unit whose creation was
    rolled back, and even if someone deleted a unit row behind the registry's back."""
    allocated = session.execute(
        update(UnitIdCounter)
        .where(UnitIdCounter.name == UNIT_ID_COUNTER)
        .values(next_value=UnitIdCounter.next_value + 1)
        .returning(UnitIdCounter.next_value)
    ).scalar_one_or_none()
    if allocated is None:
        raise StoreError(
            "store.not_migrated",
            "the unit id counter is missing: the reference database is not migrated",
            hint="run 'helsestat migrate'",
        )
    return int(allocated) - 1


def _span_json(span: Span) -> dict[str, Any]:
    return {
        "valid_from": span.valid_from.isoformat(),
        "valid_to": span.valid_to.isoformat() if span.valid_to else None,
        **span.fields.as_json(),
    }


def _timeline_error(unit_id: int, exc: TimelineError) -> InputError:
    return InputError(
        "unit.invalid_change",
        f"unit {unit_id}: {exc}",
        hint="GET /api/v1/units/<id> shows the unit's versions and lifetime",
    )


def get_unit(session: Session, unit_id: int, *, known_at: datetime | None = None) -> UnitRecord:
    """A unit with its versions and identifiers (as known at ``known_at``, default now)."""
    unit = session.get(Unit, unit_id)
    versions = unit_versions(session, unit_id, known_at=known_at) if unit is not None else []
    if unit is None or not versions:
        raise NotFoundError(
            "unit.not_found",
            f"unit {unit_id} is not in the registry"
            + (f" as known at {known_at.isoformat()}" if unit is not None and known_at else ""),
            hint="unit ids are permanent numbers; search by name with GET /api/v1/units?q=…",
        )
    return UnitRecord(
        unit.id,
        unit.country,
        unit.row_version,
        unit.created_at,
        unit.created_by,
        tuple(versions),
        tuple(unit_identifiers(session, unit_id, known_at=known_at)),
    )


def _expected(expected: Expected, unit_id: int) -> int | None:
    """The ``row_version`` a write expects (None: any). Called only once the writer's rights
    are checked: an ``If-Match`` that is missing or wrong is 428/412 to a writer with the
    right, and never a hint to one without."""
    return expected.version(unit_id) if isinstance(expected, IfMatch) else expected


def _claim(session: Session, unit: Unit, expected_version: int | None) -> None:
    """Compare-and-set ``row_version``: fails when the unit changed since it was read (or
    since the client's ETag, when ``expected_version`` is given)."""
    seen = unit.row_version
    if expected_version is not None and expected_version != seen:
        raise ConflictError(
            "unit.precondition_failed",
            f"unit {unit.id} has changed since you read it (version {expected_version}, "
            f"now {seen})",
            hint="GET the unit again, re-apply your change and send its new ETag in If-Match",
            status=412,
        )
    result = session.execute(
        update(Unit)
        .where(Unit.id == unit.id, Unit.row_version == seen)
        .values(row_version=seen + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(
            "unit.concurrent_edit",
            f"unit {unit.id} was changed by another edit while this one ran",
            hint="GET the unit again and retry",
            status=412 if expected_version is not None else 409,
        )
    session.expire(unit)


def _store_history(
    session: Session,
    unit_id: int,
    removed: Sequence[Span],
    added: Sequence[Span],
    actor: Principal,
    when: datetime,
) -> None:
    """Stamp the removed spans' rows superseded and insert the added ones (Core statements:
    the registry never needs ORM objects of versions)."""
    if removed:
        rows = session.execute(
            select(UnitVersionRow.id, *VERSION_COLUMNS).where(
                UnitVersionRow.unit_id == unit_id, current_rows()
            )
        ).all()
        gone = set(removed)
        ids = [r.id for r in rows if Span(r.valid_from, r.valid_to, fields_of(r)) in gone]
        session.execute(
            update(UnitVersionRow)
            .where(UnitVersionRow.id.in_(ids))
            .values(superseded_at=when)
            .execution_options(synchronize_session=False)
        )
    if added:
        session.execute(
            insert(UnitVersionRow),
            [
                {
                    "unit_id": unit_id,
                    "valid_from": span.valid_from,
                    "valid_to": span.valid_to,
                    "recorded_at": when,
                    "superseded_at": None,
                    "recorded_by": actor.name,
                    **{k: v for k, v in span.fields.as_json().items()},
                }
                for span in added
            ],
        )


def _authorise_spans(
    session: Session, actor: Principal, unit_id: int, old: Sequence[Span], added: Sequence[Span]
) -> None:
    """The actor must hold the unit over every changed span (as the tree was before the
    edit) and, where a span puts the unit under a new parent, hold that parent over the
    span."""
    for span in added:
        before = next((s.fields for s in old if s.covers(span.valid_from)), None)
        if before == span.fields:
            continue  # only cut short by a neighbour's change (checked there) or extended
        if before is not None:
            require_scope_over(session, actor, unit_id, span.valid_from, span.valid_to)
        parent = span.fields.parent_id
        if parent is not None and (before is None or before.parent_id != parent):
            require_scope_over(session, actor, parent, span.valid_from, span.valid_to, verb="add")
        elif parent is None and (before is None or before.parent_id is not None):
            require_owner(actor, "make a unit a root of the registry")


def create_unit(
    session: Session,
    actor: Principal,
    new: NewUnit,
    *,
    clock: Clock = utc_now,
    codes: CodeLookup | None = None,
) -> UnitRecord:
    """Create a unit with a new permanent id. Root units (an RHF, an organisation registered
    on its own, a vårdgivare) need the registry owner; others a right on the parent for as
    long as the new unit is valid."""
    when = clock()
    span = Span(new.valid_from, new.valid_to, new.fields)
    if new.valid_to is not None and new.valid_to <= new.valid_from:
        raise InputError("unit.invalid_change", "valid_to is not after valid_from")
    parent = new.fields.parent_id
    if parent is None:
        require_owner(actor, "register organisations (units without a parent)")
    else:
        require_scope_over(session, actor, parent, new.valid_from, new.valid_to, verb="add")
    view = DbView(session)
    lookup = codes or service_codes(session)
    with _atomic(session, f"creating {new.fields.kind} {new.fields.name!r}"):
        unit_id = allocate_unit_id(session)
        check_history(view, unit_id, new.country, [span], [span], codes=lookup, new=True)
        for identifier in new.identifiers:
            check_identifier(view, unit_id, new.country, identifier)
        session.execute(
            insert(Unit).values(
                id=unit_id,
                country=new.country,
                row_version=1,
                created_at=when,
                created_by=actor.name,
            )
        )
        _store_history(session, unit_id, [], [span], actor, when)
        _store_identifiers(session, unit_id, [], list(new.identifiers), actor, when)
        record_audit(
            session,
            actor.name,
            "unit",
            unit_id,
            "create",
            None,
            {
                "country": new.country,
                "versions": [_span_json(span)],
                "identifiers": [_identifier_json(i) for i in new.identifiers],
            },
            at=when,
        )
    version = Version(unit_id, span.valid_from, span.valid_to, span.fields, when, actor.name)
    return UnitRecord(unit_id, new.country, 1, when, actor.name, (version,), new.identifiers)


def _rewrite(
    session: Session,
    actor: Principal,
    unit_id: int,
    action: str,
    compute: Callable[[list[Span]], list[Span]],
    *,
    expected_version: Expected,
    clock: Clock,
    codes: CodeLookup | None,
    details: Mapping[str, Any],
) -> UnitRecord:
    when = clock()
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFoundError(
            "unit.not_found",
            f"unit {unit_id} is not in the registry",
            hint="unit ids are permanent numbers; search by name with GET /api/v1/units?q=…",
        )
    view = DbView(session)
    old = view.spans(unit_id)
    try:
        new = compute(old)
    except TimelineError as exc:
        raise _timeline_error(unit_id, exc) from None
    removed, added = changed_spans(old, new)
    _authorise_spans(session, actor, unit_id, old, added)
    version = _expected(expected_version, unit_id)
    if not removed and not added:
        if version is not None and version != unit.row_version:
            _claim(session, unit, version)  # raises 412
        return get_unit(session, unit_id)  # nothing to change: no new version, no audit
    with _atomic(session, f"{action} unit {unit_id}"):
        _claim(session, unit, version)
        check_history(
            view, unit_id, unit.country, new, added, codes=codes or service_codes(session)
        )
        _store_history(session, unit_id, removed, added, actor, when)
        record_audit(
            session,
            actor.name,
            "unit",
            unit_id,
            action,
            {"versions": [_span_json(s) for s in removed]},
            {**details, "versions": [_span_json(s) for s in added]},
            at=when,
        )
    return get_unit(session, unit_id)


def change_unit(
    session: Session,
    actor: Principal,
    unit_id: int,
    on: date,
    changes: Mapping[str, Any],
    *,
    until: date | None = None,
    expected_version: Expected = None,
    clock: Clock = utc_now,
    codes: CodeLookup | None = None,
) -> UnitRecord:
    """Set ``changes`` (``name``, ``parent_id``, ``kind``, ``orgnr``, ``kommune``, ``lan``,
    ``sector``, ``services``, ``service_classification``, and the fields of the institution
    lists: ``naeringskode``, ``postnummer``, ``poststed``, ``reporting_number``,
    ``foretakstype``, ``helseregion``) from ``on``; each new value lasts until that field's
    next recorded change, or until ``until``. Moving is a change of ``parent_id``: the id
    stays.

    ``expected_version``: the ``row_version`` the caller read (or the request's
    :class:`~.model.IfMatch`); a different current version is 412
    ``unit.precondition_failed``."""
    values = dict(changes)
    if "services" in values:
        values["services"] = tuple(values["services"] or ())
    unknown = sorted(set(values) - set(CHANGEABLE))
    if unknown or not values:
        raise InputError(
            "unit.invalid_change",
            f"unit {unit_id}: "
            + (f"unknown field(s) {', '.join(unknown)}" if unknown else "no change given"),
            hint=f"changeable fields: {', '.join(CHANGEABLE)}",
        )
    action = (
        "move"
        if set(values) == {"parent_id"}
        else "rename"
        if set(values) == {"name"}
        else "change"
    )
    return _rewrite(
        session,
        actor,
        unit_id,
        action,
        lambda spans: apply_change(spans, on, values, until),
        expected_version=expected_version,
        clock=clock,
        codes=codes,
        details={"valid_from": on.isoformat(), "until": until.isoformat() if until else None},
    )


def close_unit(
    session: Session,
    actor: Principal,
    unit_id: int,
    on: date,
    *,
    expected_version: Expected = None,
    clock: Clock = utc_now,
) -> UnitRecord:
    """Close the unit: ``on`` is the first day it is no longer valid. Its id stays; units
    under it must be closed or moved first. Closing again moves the date. The right is
    checked over every day whose validity changes, and the unit's last day (as the tree was
    before the edit): closing from 2020 a unit that moved to another HF in 2022 needs a
    right on both."""
    record = get_unit(session, unit_id)
    ends = [day for day in (on, record.closed) if day is not None]
    first = max(min(ends) - timedelta(days=1), record.opened)
    last = None if record.closed is None else max(ends)
    require_scope_over(session, actor, unit_id, first, last, verb="close")
    return _rewrite(
        session,
        actor,
        unit_id,
        "close",
        lambda spans: set_end(spans, on),
        expected_version=expected_version,
        clock=clock,
        codes=None,
        details={"closed": on.isoformat()},
    )


def reopen_unit(
    session: Session,
    actor: Principal,
    unit_id: int,
    *,
    expected_version: Expected = None,
    clock: Clock = utc_now,
) -> UnitRecord:
    """Undo a closure: the last version becomes open-ended again (a right on the unit from
    its last day on)."""
    record = get_unit(session, unit_id)
    if record.closed is not None:
        last_day = max(record.closed - timedelta(days=1), record.opened)
        require_scope_over(session, actor, unit_id, last_day, None, verb="reopen")
    else:  # nothing to reopen; the right on the unit as it is today still comes first
        today = max(clock().date(), record.opened)
        require_scope_over(session, actor, unit_id, today, None, verb="reopen")
    return _rewrite(
        session,
        actor,
        unit_id,
        "reopen",
        lambda spans: set_end(spans, None),
        expected_version=expected_version,
        clock=clock,
        codes=None,
        details={},
    )


def _identifier_json(identifier: Identifier) -> dict[str, Any]:
    return {
        "scheme": identifier.scheme,
        "value": identifier.value,
        "valid_from": identifier.valid_from.isoformat(),
        "valid_to": identifier.valid_to.isoformat() if identifier.valid_to else None,
    }


def _store_identifiers(
    session: Session,
    unit_id: int,
    removed: Sequence[Identifier],
    added: Sequence[Identifier],
    actor: Principal,
    when: datetime,
) -> None:
    if removed:
        rows = session.execute(
            select(
                UnitIdentifierRow.id,
                UnitIdentifierRow.scheme,
                UnitIdentifierRow.value,
                UnitIdentifierRow.valid_from,
                UnitIdentifierRow.valid_to,
            ).where(UnitIdentifierRow.unit_id == unit_id, UnitIdentifierRow.superseded_at.is_(None))
        ).all()
        ids = [
            r.id for r in rows if Identifier(r.scheme, r.value, r.valid_from, r.valid_to) in removed
        ]
        session.execute(
            update(UnitIdentifierRow)
            .where(UnitIdentifierRow.id.in_(ids))
            .values(superseded_at=when)
            .execution_options(synchronize_session=False)
        )
    if added:
        session.execute(
            insert(UnitIdentifierRow),
            [
                {
                    "unit_id": unit_id,
                    "scheme": i.scheme,
                    "value": i.value,
                    "valid_from": i.valid_from,
                    "valid_to": i.valid_to,
                    "recorded_at": when,
                    "superseded_at": None,
                    "recorded_by": actor.name,
                }
                for i in added
            ],
        )


def set_identifier(
    session: Session,
    actor: Principal,
    unit_id: int,
    identifier: Identifier,
    *,
    expected_version: Expected = None,
    clock: Clock = utc_now,
) -> UnitRecord:
    """Add an identifier (HER-id, HSA-id) with its validity, or — when the unit already has
    one with the same scheme, value and start — replace its validity (e.g. to end it). The
    right is checked over the whole validity, the old one's too: a HER-id from 2020 on a
    unit that has belonged to another HF since 2021 needs a right on both."""
    when = clock()
    record = get_unit(session, unit_id)
    same = [
        i
        for i in record.identifiers
        if (i.scheme, i.value, i.valid_from)
        == (identifier.scheme, identifier.value, identifier.valid_from)
    ]
    ends = [identifier.valid_to, *(i.valid_to for i in same)]
    last = None if None in ends else max(end for end in ends if end is not None)
    require_scope_over(session, actor, unit_id, identifier.valid_from, last)
    version = _expected(expected_version, unit_id)
    if same == [identifier]:
        return record
    unit = session.get(Unit, unit_id)
    assert unit is not None
    with _atomic(session, f"setting {identifier.scheme} of unit {unit_id}"):
        _claim(session, unit, version)
        check_identifier(DbView(session), unit_id, record.country, identifier)
        _store_identifiers(session, unit_id, same, [identifier], actor, when)
        record_audit(
            session,
            actor.name,
            "unit",
            unit_id,
            "identifier",
            {"identifiers": [_identifier_json(i) for i in same]},
            {"identifiers": [_identifier_json(identifier)]},
            at=when,
        )
    return get_unit(session, unit_id)


__all__ = [
    "Clock",
    "DbView",
    "allocate_unit_id",
    "change_unit",
    "close_unit",
    "create_unit",
    "get_unit",
    "reopen_unit",
    "service_codes",
    "set_identifier",
    "utc_now",
]
