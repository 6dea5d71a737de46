"""Placing reported data: given a unit id and a date, the RHF, HF, behandlingssted and sector
(Norway) or vårdgivare, vårdenhet and län (Sweden) valid on that date — seed 002: "Med
RESH-id plasseres innrapporterte data til riktig foretak og behandlingssted"; seed 001: the
NPR sector split follows the kind of department the activity took place in.

This module computes the **as-of table** — one row per unit and maximal period over which
its placement is unchanged, from the versions of the unit and of all its ancestors
(:func:`as_of_table`) — and places one unit at a time (:func:`place_one`, the API).
:mod:`.placing_bulk` places millions of rows with one DuckDB interval join against it.

How a placement is read off the tree on a date:

- ``rhf_id``, ``hf_id``, ``vardgivare_id``, ``vardenhet_id``: the nearest unit of that kind
  on the path from the unit up to its root (the unit itself included);
- ``behandlingssted_id``: the nearest ``behandlingssted``, else the nearest ``institusjon``
  (an institution with one site is its own behandlingssted);
- ``sector``: the unit's own sector, else the nearest ancestor's (a seksjon under a
  psychiatric clinic is psykisk helsevern);
- ``kommune``: the nearest kommune on the path; ``lan``: the vårdgivare's län (Inera
  distributes by "geografiskt län … för den vårdgivare", seed 003).

>>> from datetime import date
>>> from helsestat.reference.units.model import Span, UnitFields
>>> flat = flatten({1: [Span(date(2002, 1, 1), None, UnitFields("rhf", "R"))],
...                 2: [Span(date(2002, 1, 1), None, UnitFields("hf", "H", parent_id=1))]},
...                {1: "NO", 2: "NO"})
>>> flat.column("rhf_id").to_pylist(), flat.column("hf_id").to_pylist()
([1, 1], [None, 2])
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from helsestat.errors import NotFoundError, StoreError
from helsestat.reference.units.history import VERSION_COLUMNS, current_rows, path_at, version_of
from helsestat.reference.units.model import Span, UnitFields, Version
from helsestat.reference.units.placement import OPEN_END, PLACEMENT_COLUMNS
from helsestat.store.db.units_schema import Unit, UnitVersionRow


@dataclass(frozen=True)
class Placement:
    """Where a unit sits on a date (None where the path has no such unit)."""

    rhf_id: int | None = None
    hf_id: int | None = None
    behandlingssted_id: int | None = None
    sector: str | None = None
    vardgivare_id: int | None = None
    vardenhet_id: int | None = None
    lan: str | None = None
    kommune: str | None = None
    institusjon_id: int | None = None  # behandlingssted_id falls back to it

    def resolved(self) -> Placement:
        """The placement as published: an institution stands in for a missing site."""
        return replace(self, behandlingssted_id=self.behandlingssted_id or self.institusjon_id)


def derive(unit_id: int, unit: UnitFields, parent: Placement | None) -> Placement:
    """The placement of ``unit`` given its parent's (None for a root).

    >>> derive(5, UnitFields("avdeling", "A", parent_id=4),
    ...        Placement(rhf_id=1, hf_id=2, sector="phv")).sector
    'phv'
    """
    p = parent or Placement()
    kind = unit.kind
    return Placement(
        rhf_id=unit_id if kind == "rhf" else p.rhf_id,
        hf_id=unit_id if kind == "hf" else p.hf_id,
        behandlingssted_id=unit_id if kind == "behandlingssted" else p.behandlingssted_id,
        sector=unit.sector or p.sector,
        vardgivare_id=unit_id if kind == "vardgivare" else p.vardgivare_id,
        vardenhet_id=unit_id if kind == "vardenhet" else p.vardenhet_id,
        lan=unit.lan if kind == "vardgivare" else p.lan,
        kommune=unit.kommune or p.kommune,
        institusjon_id=unit_id if kind == "institusjon" else p.institusjon_id,
    )


Piece = tuple[date, date | None, Placement]


def _timelines(histories: dict[int, list[Span]]) -> dict[int, list[Piece]]:
    """Each unit's placement over time, merged where it does not change."""
    done: dict[int, list[Piece]] = {}
    visiting: set[int] = set()

    def timeline(uid: int) -> list[Piece]:
        if uid in done:
            return done[uid]
        if uid in visiting:
            raise StoreError(
                "store.unit_cycle",
                f"unit {uid} is its own ancestor in the stored tree",
                hint="the registry's rules prevent this; check edits made outside helsestat",
            )
        visiting.add(uid)
        pieces: list[Piece] = []
        for span in histories.get(uid, []):
            parent = span.fields.parent_id
            if parent is None or parent not in histories:
                pieces.append((span.valid_from, span.valid_to, derive(uid, span.fields, None)))
                continue
            for start, end, above in timeline(parent):
                lo = max(start, span.valid_from)
                hi = min(end or OPEN_END, span.valid_to or OPEN_END)
                if lo < hi:
                    pieces.append(
                        (lo, None if hi == OPEN_END else hi, derive(uid, span.fields, above))
                    )
        merged: list[Piece] = []
        for piece in pieces:
            if merged and merged[-1][1] == piece[0] and merged[-1][2] == piece[2]:
                merged[-1] = (merged[-1][0], piece[1], piece[2])
            else:
                merged.append(piece)
        visiting.discard(uid)
        done[uid] = merged
        return merged

    for uid in histories:
        timeline(uid)
    return done


def flatten(histories: dict[int, list[Span]], countries: dict[int, str]) -> pa.Table:
    """The as-of table of ``histories`` (unit id → spans): ``unit_id``, ``valid_from``,
    ``valid_to`` (null: open), ``country`` and the :data:`PLACEMENT_COLUMNS`."""
    columns: dict[str, list[Any]] = defaultdict(list)
    for uid, pieces in sorted(_timelines(histories).items()):
        for start, end, placement in pieces:
            columns["unit_id"].append(uid)
            columns["valid_from"].append(start)
            columns["valid_to"].append(end)
            columns["country"].append(countries.get(uid, "NO"))
            resolved = placement.resolved()
            for name in PLACEMENT_COLUMNS:
                columns[name].append(getattr(resolved, name))
    ids = pa.int64()
    schema = pa.schema(
        [
            ("unit_id", ids),
            ("valid_from", pa.date32()),
            ("valid_to", pa.date32()),
            ("country", pa.string()),
            ("rhf_id", ids),
            ("hf_id", ids),
            ("behandlingssted_id", ids),
            ("sector", pa.string()),
            ("vardgivare_id", ids),
            ("vardenhet_id", ids),
            ("lan", pa.string()),
            ("kommune", pa.string()),
        ]
    )
    return pa.table({name: columns[name] for name in schema.names}, schema=schema)


def as_of_table(session: Session) -> pa.Table:
    """The as-of table of the whole registry (current knowledge), for :func:`place`."""
    histories: dict[int, list[Span]] = defaultdict(list)
    rows = session.execute(
        select(*VERSION_COLUMNS).where(current_rows()).order_by(UnitVersionRow.valid_from)
    )
    for row in rows:
        histories[row.unit_id].append(version_of(row).span)
    countries = {r.id: r.country for r in session.execute(select(Unit.id, Unit.country))}
    return flatten(dict(histories), countries)


@dataclass(frozen=True)
class PlacedOne:
    """One unit on one date: ``status`` as in bulk, the placement when placed."""

    unit_id: int
    day: date
    status: str
    placement: Placement | None = None
    names: dict[str, str] | None = None


def place_one(session: Session, unit_id: int, day: date) -> PlacedOne:
    """The placement of one unit on one day (the API's single lookup), computed from the
    unit's path on that day with the same :func:`derive` as the bulk table.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     place_one(session, 123, date(2024, 1, 1)).status
    'unknown_id'
    """
    try:
        path = path_at(session, unit_id, day)
    except NotFoundError as exc:
        return unplaced(unit_id, day, exc)
    return place_path(unit_id, day, path)


def unplaced(unit_id: int, day: date, error: NotFoundError) -> PlacedOne:
    """The answer for a unit whose path on ``day`` could not be read (``error``)."""
    status = "not_valid_on_date" if error.code == "unit.not_valid_on_date" else "unknown_id"
    return PlacedOne(unit_id, day, status)


def place_path(unit_id: int, day: date, path: list[Version]) -> PlacedOne:
    """The placement of a unit whose ``path`` on ``day`` (the unit first) is known."""
    placement: Placement | None = None
    for version in reversed(path):
        placement = derive(version.unit_id, version.fields, placement)
    assert placement is not None
    resolved = placement.resolved()
    by_id = {v.unit_id: v.fields.name for v in path}
    names = {"unit": path[0].fields.name}
    for name in ("rhf_id", "hf_id", "behandlingssted_id", "vardgivare_id", "vardenhet_id"):
        value = getattr(resolved, name)
        if value in by_id:
            names[name] = by_id[value]
    return PlacedOne(unit_id, day, "placed", resolved, names)


__all__ = [
    "OPEN_END",
    "PLACEMENT_COLUMNS",
    "PlacedOne",
    "Placement",
    "as_of_table",
    "derive",
    "flatten",
    "place_one",
    "place_path",
    "unplaced",
]
