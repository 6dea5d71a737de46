"""The registry as it is now, in memory: every unit with its current versions and identifiers,
read in three queries and then asked without the database — the tree, a path, the units
under one, changes between two dates, the search and a placement, each as
:mod:`.history` and :mod:`.placing` answer them from the database (a test compares the two
on the demo registry), in microseconds instead of a dozen queries.

A snapshot is immutable and names its :attr:`RegistrySnapshot.generation`
(:func:`registry_generation`): the sum of every unit's ``row_version`` and the number of
units. Every write bumps a ``row_version`` (the compare-and-set of
:mod:`.repository`) or adds a unit, and units are never deleted, so the generation grows with
every committed change and a reader knows when to load a new snapshot. What the registry
said at an earlier time (``known_at``) is still read from the database.

>>> from datetime import date
>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> from helsestat.reference.units.model import SYSTEM, NewUnit, UnitFields
>>> from helsestat.reference.units.repository import create_unit
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> with session_factory(engine).begin() as session:
...     rhf = create_unit(session, SYSTEM, NewUnit("NO", UnitFields("rhf", "Helse Vest RHF"),
...                       date(2002, 1, 1)))
...     snapshot = load_snapshot(session)
>>> [n.name for n in snapshot.tree_at(date(2024, 1, 1))], snapshot.generation
(['Helse Vest RHF'], 2)
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helsestat.errors import NotFoundError
from helsestat.reference.units.history import (
    VERSION_COLUMNS,
    SearchHit,
    current_rows,
    nodes_of,
    not_valid,
    rank,
    version_of,
)
from helsestat.reference.units.model import Change, Identifier, Node, UnitRecord, Version
from helsestat.reference.units.placing import PlacedOne, place_path, unplaced
from helsestat.reference.units.timeline import changes_of
from helsestat.store.db.units_schema import Unit, UnitIdentifierRow, UnitVersionRow

#: The longest path walked (far deeper than any real tree), as :func:`.history.path_at`.
MAX_DEPTH = 64


def registry_generation(session: Session) -> int:
    """A number that grows with every committed change of the registry (see the module
    docstring): one aggregate over the ``unit`` table."""
    count, total = session.execute(select(func.count(), func.sum(Unit.row_version))).one()
    return int(count or 0) + int(total or 0)


@dataclass(frozen=True)
class RegistrySnapshot:
    """Every unit as the registry holds it now (see the module docstring)."""

    generation: int
    units: Mapping[int, UnitRecord]
    #: Every change of every unit, by the day it took effect (for :meth:`changes_between`).
    changes: tuple[Change, ...] = field(repr=False)
    _change_days: tuple[date, ...] = field(repr=False)
    _search: tuple[SearchEntry, ...] = field(repr=False)

    # -- one unit ----------------------------------------------------------------------

    def get_unit(self, unit_id: int) -> UnitRecord:
        """A unit with its versions and identifiers; 404 ``unit.not_found``."""
        record = self.units.get(unit_id)
        if record is None:
            raise NotFoundError(
                "unit.not_found",
                f"unit {unit_id} is not in the registry",
                hint="unit ids are permanent numbers; search by name with GET /api/v1/units?q=…",
            )
        return record

    def version_at(self, unit_id: int, day: date) -> Version | None:
        """The unit's version valid on ``day`` (None when unknown or not valid then)."""
        record = self.units.get(unit_id)
        return record.at(day) if record is not None else None

    def path_at(self, unit_id: int, day: date) -> list[Version]:
        """The unit and its ancestors on ``day``, the unit first; 404 as
        :func:`.history.path_at`."""
        path: list[Version] = []
        current: int | None = unit_id
        while current is not None and len(path) < MAX_DEPTH:
            version = self.version_at(current, day)
            if version is None:
                if not path:
                    record = self.units.get(unit_id)
                    raise not_valid(unit_id, record.versions if record else (), day)
                break
            path.append(version)
            current = version.fields.parent_id
        return path

    def place_one(self, unit_id: int, day: date) -> PlacedOne:
        """Where reported data for ``unit_id`` on ``day`` belongs (:func:`.placing.place_one`)."""
        try:
            path = self.path_at(unit_id, day)
        except NotFoundError as exc:
            return unplaced(unit_id, day, exc)
        return place_path(unit_id, day, path)

    # -- the tree on a day ---------------------------------------------------------------

    def versions_at(self, day: date, *, country: str | None = None) -> dict[int, Version]:
        """Every unit valid on ``day`` (of ``country``) with its version of that day."""
        out = {}
        for uid, record in self.units.items():
            if country is None or record.country == country:
                version = record.at(day)
                if version is not None:
                    out[uid] = version
        return out

    def tree_at(
        self, day: date, *, root: int | None = None, country: str | None = None
    ) -> list[Node]:
        """The tree on ``day`` depth-first (:func:`.history.tree_at`)."""
        versions = self.versions_at(day, country=country)
        if root is not None:
            if root not in versions:
                record = self.units.get(root)
                raise not_valid(root, record.versions if record else (), day)
            roots: list[int] = [root]
        else:
            roots = [
                uid
                for uid, v in versions.items()
                if v.fields.parent_id is None or v.fields.parent_id not in versions
            ]
        return [
            Node(
                n.id,
                n.parent_id,
                n.kind,
                n.name,
                n.depth,
                self.units[n.id].country,
                n.sector,
                n.children,
            )
            for n in nodes_of(versions, roots)
        ]

    def subtree_at(self, unit_id: int, day: date) -> list[Node]:
        """The units under ``unit_id`` on ``day``, depth-first."""
        return self.tree_at(day, root=unit_id)[1:]

    def changes_between(self, start: date, end: date, *, root: int | None = None) -> list[Change]:
        """What took effect after ``start`` up to and including ``end``
        (:func:`.history.changes_between`)."""
        if end < start:
            start, end = end, start
        lo = bisect.bisect_right(self._change_days, start)
        hi = bisect.bisect_right(self._change_days, end)
        found = self.changes[lo:hi]
        if root is not None:
            under: set[int] = set()
            for day in (start, end):
                try:
                    under |= {n.id for n in self.tree_at(day, root=root)}
                except NotFoundError:
                    continue
            found = tuple(c for c in found if c.unit_id in under)
        return sorted(found, key=lambda c: (c.on, c.unit_id, c.what, c.field or ""))

    # -- search --------------------------------------------------------------------------

    def search(self, text: str, *, day: date | None = None, limit: int = 50) -> list[SearchHit]:
        """Units whose id, HER-/HSA-id or name contains ``text`` (:func:`.history.search`)."""
        needle = text.strip().casefold()
        if not needle:
            return []
        hits: list[tuple[int, SearchHit]] = []
        for uid, record, names, held in self._search:
            if day is None:
                latest = record.versions[-1]
            else:
                valid = record.at(day)
                if valid is None:
                    continue
                latest = valid
                names = ((valid.fields.name.casefold(), valid.fields.name),)
            if str(uid) == needle:
                hits.append((0, SearchHit(uid, str(uid), latest)))
            elif needle in held:
                hits.append((1, SearchHit(uid, held[needle], latest)))
            else:
                found = [(rank(needle, cf), name) for cf, name in names if needle in cf]
                if found:
                    best, name = min(found, key=lambda r: r[0])
                    hits.append((best, SearchHit(uid, name, latest)))
        hits.sort(key=lambda h: (h[0], h[1].latest.fields.name.casefold(), h[1].unit_id))
        return [h for _, h in hits[:limit]]


SearchEntry = tuple[int, UnitRecord, tuple[tuple[str, str], ...], dict[str, str]]


def _search_entry(record: UnitRecord) -> SearchEntry:
    """What the search reads of a unit: its names case-folded, newest first, and its
    identifiers by their case-folded value (the first one kept, as the oldest)."""
    names = tuple((v.fields.name.casefold(), v.fields.name) for v in reversed(record.versions))
    held: dict[str, str] = {}
    for identifier in record.identifiers:
        held.setdefault(identifier.value.casefold(), identifier.value)
    return record.id, record, names, held


def snapshot_of(generation: int, units: Mapping[int, UnitRecord]) -> RegistrySnapshot:
    """A snapshot of ``units`` (each unit's changes computed once, here)."""
    changes = sorted(
        (
            c
            for record in units.values()
            for c in changes_of(record.id, [v.span for v in record.versions])
        ),
        key=lambda c: c.on,
    )
    return RegistrySnapshot(
        generation,
        units,
        tuple(changes),
        tuple(c.on for c in changes),
        tuple(_search_entry(r) for r in units.values()),
    )


def load_snapshot(session: Session) -> RegistrySnapshot:
    """The registry as the database holds it now (current knowledge), in one transaction."""
    generation = registry_generation(session)
    versions: dict[int, list[Version]] = defaultdict(list)
    rows = session.execute(
        select(*VERSION_COLUMNS)
        .where(current_rows())
        .order_by(UnitVersionRow.unit_id, UnitVersionRow.valid_from)
    )
    for row in rows:
        versions[row.unit_id].append(version_of(row))
    identifiers: dict[int, list[Identifier]] = defaultdict(list)
    for ident in session.execute(
        select(
            UnitIdentifierRow.unit_id,
            UnitIdentifierRow.scheme,
            UnitIdentifierRow.value,
            UnitIdentifierRow.valid_from,
            UnitIdentifierRow.valid_to,
        )
        .where(UnitIdentifierRow.superseded_at.is_(None))
        .order_by(UnitIdentifierRow.unit_id, UnitIdentifierRow.valid_from, UnitIdentifierRow.scheme)
    ):
        identifiers[ident.unit_id].append(
            Identifier(ident.scheme, ident.value, ident.valid_from, ident.valid_to)
        )
    units = {}
    for unit in session.execute(
        select(Unit.id, Unit.country, Unit.row_version, Unit.created_at, Unit.created_by)
    ):
        if versions.get(unit.id):
            units[unit.id] = UnitRecord(
                unit.id,
                unit.country,
                unit.row_version,
                unit.created_at,
                unit.created_by,
                tuple(versions[unit.id]),
                tuple(identifiers.get(unit.id, ())),
            )
    return snapshot_of(generation, units)


__all__ = ["MAX_DEPTH", "RegistrySnapshot", "load_snapshot", "registry_generation", "snapshot_of"]
