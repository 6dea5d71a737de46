"""Queries of the registry as of a date: a unit's history, the tree, a unit's path up to its
HF and RHF, the units under a node, what changed between two dates, search by name or id.

Every query reads the current knowledge by default; ``known_at`` asks what the registry said
at that moment instead (versions recorded by then and not yet superseded) — the second time
axis of the bitemporal tables.

>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> with session_factory(engine)() as session:
...     tree_at(session, date(2024, 1, 1))
[]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from helsestat.errors import NotFoundError
from helsestat.reference.units.model import (
    KIND_LABELS,
    Change,
    Identifier,
    Node,
    Span,
    UnitFields,
    Version,
)
from helsestat.reference.units.timeline import changes_of
from helsestat.store.db.units_schema import Unit, UnitIdentifierRow, UnitVersionRow


def current_rows(known_at: datetime | None = None) -> ColumnElement[bool]:
    """The versions in force at ``known_at`` (default: now, i.e. not superseded)."""
    if known_at is None:
        return UnitVersionRow.superseded_at.is_(None)
    return and_(
        UnitVersionRow.recorded_at <= known_at,
        or_(UnitVersionRow.superseded_at.is_(None), UnitVersionRow.superseded_at > known_at),
    )


def valid_on(day: date) -> ColumnElement[bool]:
    """Versions valid on ``day``."""
    return and_(
        UnitVersionRow.valid_from <= day,
        or_(UnitVersionRow.valid_to.is_(None), UnitVersionRow.valid_to > day),
    )


def fields_of(row: Any) -> UnitFields:
    """The :class:`UnitFields` of a stored version (an ORM row or a Core row)."""
    return UnitFields(
        kind=row.kind,
        name=row.name,
        parent_id=row.parent_id,
        orgnr=row.orgnr,
        kommune=row.kommune,
        lan=row.lan,
        sector=row.sector,
        services=tuple(row.services or ()),
        service_classification=row.service_classification,
        naeringskode=row.naeringskode,
        postnummer=row.postnummer,
        poststed=row.poststed,
        reporting_number=row.reporting_number,
        foretakstype=row.foretakstype,
        helseregion=row.helseregion,
    )


def version_of(row: Any) -> Version:
    """The :class:`Version` of a stored row (ORM or Core)."""
    return Version(
        row.unit_id, row.valid_from, row.valid_to, fields_of(row), row.recorded_at, row.recorded_by
    )


#: The columns a :class:`Version` is read from (Core selects skip the ORM's bookkeeping).
VERSION_COLUMNS = (
    UnitVersionRow.unit_id,
    UnitVersionRow.valid_from,
    UnitVersionRow.valid_to,
    UnitVersionRow.recorded_at,
    UnitVersionRow.recorded_by,
    UnitVersionRow.kind,
    UnitVersionRow.name,
    UnitVersionRow.parent_id,
    UnitVersionRow.orgnr,
    UnitVersionRow.kommune,
    UnitVersionRow.lan,
    UnitVersionRow.sector,
    UnitVersionRow.services,
    UnitVersionRow.service_classification,
    UnitVersionRow.naeringskode,
    UnitVersionRow.postnummer,
    UnitVersionRow.poststed,
    UnitVersionRow.reporting_number,
    UnitVersionRow.foretakstype,
    UnitVersionRow.helseregion,
)


def unit_versions(
    session: Session, unit_id: int, *, known_at: datetime | None = None
) -> list[Version]:
    """A unit's versions, oldest first (empty for an unknown id)."""
    rows = session.execute(
        select(*VERSION_COLUMNS)
        .where(UnitVersionRow.unit_id == unit_id, current_rows(known_at))
        .order_by(UnitVersionRow.valid_from)
    ).all()
    return [version_of(r) for r in rows]


def unit_spans(session: Session, unit_id: int, *, known_at: datetime | None = None) -> list[Span]:
    """A unit's history as spans, oldest first (empty for an unknown id)."""
    return [v.span for v in unit_versions(session, unit_id, known_at=known_at)]


def unit_identifiers(
    session: Session, unit_id: int, *, known_at: datetime | None = None
) -> list[Identifier]:
    """A unit's other identifiers (HER-id, HSA-id), oldest first."""
    clause = (
        UnitIdentifierRow.superseded_at.is_(None)
        if known_at is None
        else and_(
            UnitIdentifierRow.recorded_at <= known_at,
            or_(
                UnitIdentifierRow.superseded_at.is_(None),
                UnitIdentifierRow.superseded_at > known_at,
            ),
        )
    )
    rows = session.scalars(
        select(UnitIdentifierRow)
        .where(UnitIdentifierRow.unit_id == unit_id, clause)
        .order_by(UnitIdentifierRow.valid_from, UnitIdentifierRow.scheme)
    ).all()
    return [Identifier(r.scheme, r.value, r.valid_from, r.valid_to) for r in rows]


def versions_at(
    session: Session,
    day: date,
    *,
    country: str | None = None,
    known_at: datetime | None = None,
) -> dict[int, Version]:
    """Every unit valid on ``day`` with its version of that day."""
    query = select(*VERSION_COLUMNS).where(current_rows(known_at), valid_on(day))
    if country is not None:
        query = query.join(Unit, Unit.id == UnitVersionRow.unit_id).where(Unit.country == country)
    return {r.unit_id: version_of(r) for r in session.execute(query)}


def version_at(
    session: Session, unit_id: int, day: date, *, known_at: datetime | None = None
) -> Version | None:
    """The unit's version valid on ``day`` (None when it is unknown or not valid then)."""
    row = session.execute(
        select(*VERSION_COLUMNS).where(
            UnitVersionRow.unit_id == unit_id, current_rows(known_at), valid_on(day)
        )
    ).first()
    return version_of(row) if row is not None else None


def _not_valid(session: Session, unit_id: int, day: date) -> NotFoundError:
    return not_valid(unit_id, unit_versions(session, unit_id), day)


def not_valid(unit_id: int, versions: Sequence[Version], day: date) -> NotFoundError:
    """The 404 of a unit that is unknown (no ``versions``) or not valid on ``day``."""
    if not versions:
        return NotFoundError(
            "unit.not_found",
            f"unit {unit_id} is not in the registry",
            hint="unit ids are permanent numbers; search by name with GET /api/v1/units?q=…",
        )
    end = versions[-1].valid_to
    life = f"{versions[0].valid_from} to {end}" if end else f"{versions[0].valid_from} onwards"
    return NotFoundError(
        "unit.not_valid_on_date",
        f"unit {unit_id} ({versions[-1].fields.name}) is not valid on {day}: it is valid {life}",
        hint="ask for a date inside the unit's lifetime",
    )


def path_at(
    session: Session, unit_id: int, day: date, *, known_at: datetime | None = None
) -> list[Version]:
    """The unit and its ancestors on ``day``, the unit first and the root (RHF, vårdgivare)
    last. NotFoundError when the unit is unknown or not valid on ``day``."""
    path: list[Version] = []
    current: int | None = unit_id
    while current is not None and len(path) < 64:  # 64: far deeper than any real tree
        version = version_at(session, current, day, known_at=known_at)
        if version is None:
            if not path:
                raise _not_valid(session, unit_id, day)
            break  # a parent not valid that day: the path stops (rules prevent this)
        path.append(version)
        current = version.fields.parent_id
    return path


def describe(version: Version) -> str:
    """``HF 100012 (Helse Bergen HF)``: kind, id and name, for messages.

    >>> from datetime import datetime, UTC
    >>> describe(Version(7, date(2020, 1, 1), None, UnitFields("hf", "Helse Bergen HF"),
    ...                  datetime(2020, 1, 1, tzinfo=UTC), "x"))
    'HF 7 (Helse Bergen HF)'
    """
    kind = KIND_LABELS.get(version.fields.kind, version.fields.kind)
    return f"{kind} {version.unit_id} ({version.fields.name})"


def nodes_of(versions: Mapping[int, Version], roots: Iterable[int]) -> list[Node]:
    """The trees under ``roots`` among ``versions`` (the units valid on one day), depth-first,
    children by name, each node with its depth (country not set)."""
    children: dict[int, list[int]] = defaultdict(list)
    for v in versions.values():
        if v.fields.parent_id is not None and v.fields.parent_id in versions:
            children[v.fields.parent_id].append(v.unit_id)
    for ids in children.values():
        ids.sort(key=lambda i: (versions[i].fields.name.casefold(), i))
    out: list[Node] = []
    stack = [(r, 0) for r in sorted(roots, key=lambda i: (versions[i].fields.name.casefold(), i))]
    stack.reverse()
    seen: set[int] = set()
    while stack:
        uid, depth = stack.pop()
        if uid in seen:
            continue
        seen.add(uid)
        v = versions[uid]
        kids = tuple(children.get(uid, ()))
        out.append(
            Node(
                uid,
                v.fields.parent_id,
                v.fields.kind,
                v.fields.name,
                depth,
                sector=v.fields.sector,
                children=kids,
            )
        )
        stack.extend((k, depth + 1) for k in reversed(kids))
    return out


def tree_at(
    session: Session,
    day: date,
    *,
    root: int | None = None,
    country: str | None = None,
    known_at: datetime | None = None,
) -> list[Node]:
    """The tree on ``day`` in depth-first order (the whole registry, or the subtree under
    ``root`` including it), each node with its depth."""
    versions = versions_at(session, day, country=country, known_at=known_at)
    countries = {r.id: r.country for r in session.execute(select(Unit.id, Unit.country))}
    if root is not None:
        if root not in versions:
            raise _not_valid(session, root, day)
        roots: list[int] = [root]
    else:
        roots = [
            uid
            for uid, v in versions.items()
            if v.fields.parent_id is None or v.fields.parent_id not in versions
        ]
    nodes = nodes_of(versions, roots)
    return [
        Node(
            n.id,
            n.parent_id,
            n.kind,
            n.name,
            n.depth,
            countries.get(n.id, "NO"),
            n.sector,
            n.children,
        )
        for n in nodes
    ]


def subtree_at(
    session: Session, unit_id: int, day: date, *, known_at: datetime | None = None
) -> list[Node]:
    """The units under ``unit_id`` on ``day`` (not the unit itself), depth-first."""
    return tree_at(session, day, root=unit_id, known_at=known_at)[1:]


def changes_between(
    session: Session, start: date, end: date, *, root: int | None = None
) -> list[Change]:
    """What took effect after ``start`` up to and including ``end``: units opened, closed,
    moved, renamed or otherwise changed, ordered by date and unit. With ``root``, only the
    units under it (on ``start`` or on ``end``)."""
    if end < start:
        start, end = end, start
    boundary = or_(
        and_(UnitVersionRow.valid_from > start, UnitVersionRow.valid_from <= end),
        and_(UnitVersionRow.valid_to > start, UnitVersionRow.valid_to <= end),
    )
    ids = set(session.scalars(select(UnitVersionRow.unit_id).where(current_rows(), boundary)))
    if root is not None:
        under: set[int] = set()
        for day in (start, end):
            try:
                under |= {n.id for n in tree_at(session, day, root=root)}
            except NotFoundError:
                continue
        ids &= under
    out = []
    for uid in ids:
        for change in changes_of(uid, unit_spans(session, uid)):
            if start < change.on <= end:
                out.append(change)
    return sorted(out, key=lambda c: (c.on, c.unit_id, c.what, c.field or ""))


@dataclass(frozen=True)
class SearchHit:
    """A unit found by name or id: its id, the name matched, and its latest version."""

    unit_id: int
    matched: str
    latest: Version


def rank(needle: str, name: str) -> int:
    """How well ``name`` matches: 2 the whole name, 3 its start, 4 a word's start, 5
    elsewhere (both case-folded).

    >>> rank("helse", "helse bergen hf"), rank("bergen", "helse bergen hf")
    (3, 4)
    """
    if name == needle:
        return 2
    if name.startswith(needle):
        return 3
    return 4 if any(w.startswith(needle) for w in name.split()) else 5


def search(
    session: Session, text: str, *, day: date | None = None, limit: int = 50
) -> list[SearchHit]:
    """Units whose id, HER-/HSA-id or any name (current or former; with ``day``, the name on
    that day) contains ``text``, case-insensitively: exact ids first, then identifiers, whole
    names, names starting with the text, words starting with it, the rest; by name within."""
    needle = text.strip().casefold()
    if not needle:
        return []
    query = select(*VERSION_COLUMNS).where(current_rows())
    if day is not None:
        query = query.where(valid_on(day))
    by_unit: dict[int, list[Version]] = defaultdict(list)
    for row in session.execute(query.order_by(UnitVersionRow.unit_id, UnitVersionRow.valid_from)):
        by_unit[row.unit_id].append(version_of(row))
    holders = {
        uid: value
        for uid, value in session.execute(
            select(UnitIdentifierRow.unit_id, UnitIdentifierRow.value).where(
                UnitIdentifierRow.superseded_at.is_(None)
            )
        )
        if needle == value.casefold()
    }
    hits: list[tuple[int, SearchHit]] = []
    for uid, versions in by_unit.items():
        latest = versions[-1]
        if str(uid) == needle:
            hits.append((0, SearchHit(uid, str(uid), latest)))
        elif uid in holders:
            hits.append((1, SearchHit(uid, holders[uid], latest)))
        else:
            names = [v.fields.name for v in reversed(versions)]
            ranked = [(rank(needle, n.casefold()), n) for n in names if needle in n.casefold()]
            if ranked:
                best, found = min(ranked, key=lambda r: r[0])
                hits.append((best, SearchHit(uid, found, latest)))
    hits.sort(key=lambda h: (h[0], h[1].latest.fields.name.casefold(), h[1].unit_id))
    return [h for _, h in hits[:limit]]


def ancestors_for_scope(session: Session, unit_id: int, day: date) -> list[Version]:
    """The unit and its ancestors on ``day`` for a rights check; where a unit is not valid on
    that day, its version nearest to the day stands in (so a refused write still names the
    unit's place in the tree)."""
    path: list[Version] = []
    current: int | None = unit_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        seen.add(current)
        versions = unit_versions(session, current)
        if not versions:
            break
        version = next((v for v in versions if v.covers(day)), None)
        if version is None:
            before = [v for v in versions if v.valid_from <= day]
            version = before[-1] if before else versions[0]
        path.append(version)
        current = version.fields.parent_id
    return path


def latest_versions(session: Session, ids: Sequence[int]) -> dict[int, Version]:
    """The newest version of each unit in ``ids`` (for names in lists)."""
    if not ids:
        return {}
    out: dict[int, Version] = {}
    rows = session.execute(
        select(*VERSION_COLUMNS)
        .where(current_rows(), UnitVersionRow.unit_id.in_(list(ids)))
        .order_by(UnitVersionRow.valid_from)
    )
    for row in rows:
        out[row.unit_id] = version_of(row)
    return out


def country_histories(session: Session, country: str) -> dict[int, list[Span]]:
    """The spans of every unit of ``country`` as the registry holds them now (current
    knowledge), in time order per unit: one query (what the HSA and RESH readers of the
    reference snapshot build their as-of tables from)."""
    histories: dict[int, list[Span]] = defaultdict(list)
    rows = session.execute(
        select(*VERSION_COLUMNS)
        .where(
            current_rows(),
            UnitVersionRow.unit_id.in_(select(Unit.id).where(Unit.country == country)),
        )
        .order_by(UnitVersionRow.unit_id, UnitVersionRow.valid_from)
    )
    for row in rows:
        histories[row.unit_id].append(version_of(row).span)
    return dict(histories)


def country_generation(session: Session, country: str) -> int:
    """A number that grows with every committed change of a unit of ``country``: the number
    of its units plus the sum of their ``row_version`` (what a reference snapshot of the
    units is checked against before it is read again)."""
    count, total = session.execute(
        select(func.count(), func.sum(Unit.row_version)).where(Unit.country == country)
    ).one()
    return int(count or 0) + int(total or 0)


__all__ = [
    "SearchHit",
    "ancestors_for_scope",
    "changes_between",
    "country_generation",
    "country_histories",
    "current_rows",
    "describe",
    "latest_versions",
    "nodes_of",
    "not_valid",
    "path_at",
    "rank",
    "search",
    "subtree_at",
    "tree_at",
    "unit_identifiers",
    "unit_spans",
    "unit_versions",
    "valid_on",
    "version_at",
    "versions_at",
]
