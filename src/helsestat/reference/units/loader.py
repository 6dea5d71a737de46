"""Load a :class:`~helsestat.reference.units.plan.UnitPlan` (such as the demo tree of
:mod:`helsestat.synth.units`: real RHF/HF, SYNTHETIC units below) into the registry: in bulk
(:func:`load_plan`, the same timeline functions and rules as an edit, a few statements in
all), or write by write as administrators would (:func:`replay_plan`, used by the tests to
prove both end in the same registry).

>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> from helsestat.reference.units.plan import PlannedUnit, UnitPlan
>>> hf = PlannedUnit("hf", "NO", "hf", "Helse Demo HF", None, date(2002, 1, 1), synthetic=False)
>>> with session_factory(engine).begin() as session:
...     report = load_plan(session, UnitPlan((hf,), ()))
>>> report.units
1
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from helsestat.errors import InputError, NotFoundError
from helsestat.reference.classification_store import codes_at, load_classification
from helsestat.reference.classifications import Classification, Code, Level, Version
from helsestat.reference.klass_data import packaged_registry
from helsestat.reference.units.bulk import ImportedUnit, allocate_unit_ids, import_histories
from helsestat.reference.units.model import (
    NAERINGSKODE_CLASSIFICATION,
    SYSTEM,
    Identifier,
    NewUnit,
    Principal,
    Span,
    UnitFields,
)
from helsestat.reference.units.plan import (
    SERVICE_CLASSIFICATION_ID,
    SERVICE_CLASSIFICATION_NAME,
    PlannedEvent,
    PlannedUnit,
    UnitPlan,
)
from helsestat.reference.units.repository import (
    Clock,
    change_unit,
    close_unit,
    create_unit,
    get_unit,
    service_codes,
    set_identifier,
    utc_now,
)
from helsestat.reference.units.timeline import TimelineError, apply_change, set_end
from helsestat.store.db.units_schema import FIRST_UNIT_ID

#: Validity of the stand-in code list (from before the health enterprise reform).
_SERVICES_FROM = date(2000, 1, 1)


@dataclass(frozen=True)
class LoadReport:
    """What a load created: units and applied events, and each plan key's unit id."""

    units: int
    events: int
    ids: dict[str, int]


def ensure_service_classification(session: Session, plan: UnitPlan) -> None:
    """Load the plan's SYNTHETIC service code list unless it is loaded already."""
    try:
        codes_at(session, SERVICE_CLASSIFICATION_ID, _SERVICES_FROM)
        return
    except NotFoundError:
        pass
    version = Version(
        SERVICE_CLASSIFICATION_ID * 100 + 1,
        SERVICE_CLASSIFICATION_NAME,
        _SERVICES_FROM,
        None,
        levels=(Level(1, "Tjenesteområde"),),
        codes=tuple(Code(code, f"{name} ({sector})") for code, name, sector in plan.services),
    )
    load_classification(
        session,
        Classification(
            SERVICE_CLASSIFICATION_ID,
            SERVICE_CLASSIFICATION_NAME,
            (version,),
            description="SYNTHETIC code list for the demo unit tree; not KLASS 610's codes",
            owning_section="helsestat demo",
        ),
    )


def ensure_naering_classification(session: Session) -> None:
    """Load the packaged KLASS 6 (SN2007), which næringskoder are checked against, unless
    the reference database holds it already (a registry loaded before the reference data
    was seeded, as the tests do)."""
    try:
        codes_at(session, NAERINGSKODE_CLASSIFICATION, _SERVICES_FROM)
        return
    except NotFoundError as exc:
        if exc.code != "classification.not_found":
            return  # loaded, only without a version that day
    load_classification(session, packaged_registry().classification(NAERINGSKODE_CLASSIFICATION))


def _fields(unit: PlannedUnit, ids: dict[str, int]) -> UnitFields:
    return UnitFields(
        kind=unit.kind,
        name=unit.name,
        parent_id=ids[unit.parent] if unit.parent is not None else None,
        orgnr=unit.orgnr,
        kommune=unit.kommune,
        lan=unit.lan,
        sector=unit.sector,
        services=unit.services,
        service_classification=SERVICE_CLASSIFICATION_ID if unit.services else None,
        naeringskode=unit.naeringskode,
        postnummer=unit.postnummer,
        poststed=unit.poststed,
        reporting_number=unit.reporting_number,
        foretakstype=unit.foretakstype,
        helseregion=unit.helseregion,
    )


def _changes(event: PlannedEvent, ids: dict[str, int]) -> dict[str, object]:
    return {
        ("parent_id" if name == "parent" else name): (
            ids[str(value)] if name == "parent" else value
        )
        for name, value in event.changes
    }


def _ordered(plan: UnitPlan) -> list[PlannedUnit]:
    """The plan's units in the order they get ids: parents before children, then by opening
    date; units ``appended`` to a plan after others come last, so that adding them changes
    no other unit's id."""
    depth = {u.key: 0 for u in plan.units}
    by_key = {u.key: u for u in plan.units}
    for unit in plan.units:
        parent, d = unit.parent, 0
        while parent is not None:
            d, parent = d + 1, by_key[parent].parent
        depth[unit.key] = d
    return sorted(plan.units, key=lambda u: (u.appended, depth[u.key], u.opened))


def _apply(
    plan: UnitPlan, units: list[PlannedUnit], ids: dict[str, int]
) -> tuple[dict[str, list[Span]], dict[str, list[Identifier]]]:
    """Every unit's history and identifiers after the plan's events."""
    spans = {u.key: [Span(u.opened, None, _fields(u, ids))] for u in units}
    identifiers = {u.key: [Identifier(s, v, u.opened) for s, v in u.identifiers] for u in units}
    for event in plan.events:
        try:
            if event.what == "close":
                spans[event.key] = set_end(spans[event.key], event.on)
            elif event.what == "identifier" and event.identifier is not None:
                scheme, old, new = event.identifier
                held = identifiers[event.key]
                i = next(n for n, x in enumerate(held) if (x.scheme, x.value) == (scheme, old))
                held[i] = Identifier(scheme, old, held[i].valid_from, event.on)
                held.append(Identifier(scheme, new, event.on))
            else:
                spans[event.key] = apply_change(spans[event.key], event.on, _changes(event, ids))
        except TimelineError as exc:
            raise InputError("unit.invalid_change", f"plan event {event}: {exc}") from None
    return spans, identifiers


def plan_histories(
    plan: UnitPlan, first_id: int = FIRST_UNIT_ID
) -> tuple[dict[str, int], dict[int, list[Span]]]:
    """Each plan key's unit id and each unit's history as :func:`load_plan` stores them in
    a registry whose id counter stands at ``first_id`` (an empty one: the demo's), without
    a database — what a generator of data placed at the plan's units reads.

    >>> from helsestat.reference.units.plan import PlannedUnit, UnitPlan
    >>> hf = PlannedUnit("hf", "NO", "hf", "Helse Demo HF", None, date(2002, 1, 1))
    >>> ids, histories = plan_histories(UnitPlan((hf,), ()))
    >>> ids, histories[100_000][0].fields.name
    ({'hf': 100000}, 'Helse Demo HF')
    """
    units = _ordered(plan)
    ids = {u.key: first_id + n for n, u in enumerate(units)}
    spans, _ = _apply(plan, units, ids)
    return ids, {ids[key]: history for key, history in spans.items()}


def load_plan(
    session: Session, plan: UnitPlan, *, actor: Principal = SYSTEM, clock: Clock = utc_now
) -> LoadReport:
    """Import the plan in bulk: every unit's history is computed with the same timeline
    functions an edit uses, checked with the same rules, then stored in a few statements
    (:mod:`.bulk`)."""
    ensure_service_classification(session, plan)
    if any(u.naeringskode for u in plan.units) or any(
        name == "naeringskode" for e in plan.events for name, _ in e.changes
    ):
        ensure_naering_classification(session)
    units = _ordered(plan)
    ids = dict(zip((u.key for u in units), allocate_unit_ids(session, len(units)), strict=True))
    spans, identifiers = _apply(plan, units, ids)
    count = import_histories(
        session,
        actor,
        [
            ImportedUnit(ids[u.key], u.country, tuple(spans[u.key]), tuple(identifiers[u.key]))
            for u in units
        ],
        clock=clock,
    )
    return LoadReport(count, len(plan.events), ids)


def replay_plan(
    session: Session, plan: UnitPlan, *, actor: Principal = SYSTEM, clock: Clock = utc_now
) -> LoadReport:
    """Apply the plan one write at a time, as administrators would (create, change, close,
    identifiers): slower than :func:`load_plan`, and it must end in the same histories."""
    ensure_service_classification(session, plan)
    ensure_naering_classification(session)
    codes = service_codes(session)
    ids: dict[str, int] = {}
    for unit in _ordered(plan):
        identifiers = tuple(Identifier(s, v, unit.opened) for s, v in unit.identifiers)
        record = create_unit(
            session,
            actor,
            NewUnit(unit.country, _fields(unit, ids), unit.opened, identifiers=identifiers),
            clock=clock,
            codes=codes,
        )
        ids[unit.key] = record.id
    for event in plan.events:
        uid = ids[event.key]
        if event.what == "close":
            close_unit(session, actor, uid, event.on, clock=clock)
        elif event.what == "identifier" and event.identifier is not None:
            scheme, old, new = event.identifier
            current = next(
                i
                for i in get_unit(session, uid).identifiers
                if (i.scheme, i.value) == (scheme, old)
            )
            ended = Identifier(scheme, old, current.valid_from, event.on)
            set_identifier(session, actor, uid, ended, clock=clock)
            set_identifier(session, actor, uid, Identifier(scheme, new, event.on), clock=clock)
        else:
            change_unit(
                session, actor, uid, event.on, _changes(event, ids), clock=clock, codes=codes
            )
    return LoadReport(len(ids), len(plan.events), ids)


__all__ = [
    "LoadReport",
    "ensure_naering_classification",
    "ensure_service_classification",
    "load_plan",
    "plan_histories",
    "replay_plan",
]
