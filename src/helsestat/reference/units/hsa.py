"""The Swedish side of the unit registry by HSA-id over time (as HSA-katalogen answers it):
which vårdgivare and vårdenheter hold an HSA-id on a date, the vårdgivare each vårdenhet is
under, and the vårdgivare's län then — what SOB events (seed 003) are checked against. (What
the registry states *now*, which SOB figures are placed by, is
:mod:`helsestat.reference.units.directory`.)

:func:`read_hsa_units` reads it from the database in three queries into an
:class:`HsaUnits`, an **as-of table** with one row per HSA-id and period over which it names
one unit of one kind, under one vårdgivare HSA-id and in one län:

=====================  ======================================================================
column                 content
=====================  ======================================================================
``hsa_id``             the HSA-id (scheme ``hsa`` of the unit's identifiers)
``kind``               ``vardgivare`` or ``vardenhet``
``valid_from``         first day (date)
``valid_to``           first day after (date; null: still valid) — half-open, as the registry
``vardgivare_hsaid``   the vårdgivare's HSA-id on those days (a vårdgivare: its own)
``lan``                the vårdgivare's län code on those days
=====================  ======================================================================

A period is where the unit is open, holds the HSA-id, and (for a vårdenhet) sits under a
vårdgivare that holds an HSA-id, all at once; it is cut where any of them changes. Checking
millions of events against it is one interval join (:mod:`helsestat.validate.sob`).

:func:`hsa_generation` is a number that grows with every committed change of a Swedish unit
(each write bumps the unit's ``row_version``, and units are never deleted), so a holder of a
snapshot knows when to read it again.

>>> from datetime import date
>>> from helsestat.reference.units.model import Span, UnitFields
>>> vg = [Span(date(2015, 1, 1), None, UnitFields("vardgivare", "Region X", lan="01"))]
>>> ve = [Span(date(2016, 1, 1), None, UnitFields("vardenhet", "VC", parent_id=1))]
>>> units = hsa_units({1: vg, 2: ve}, [(1, "SE2321000016-VG", date(2015, 1, 1), None),
...                                    (2, "SE2321000016-E000", date(2016, 1, 1), None)])
>>> units.table.column("vardgivare_hsaid").to_pylist(), units.table.column("lan").to_pylist()
(['SE2321000016-VG', 'SE2321000016-VG'], ['01', '01'])
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from helsestat.reference.hsa_units import NO_HSA_UNITS, SCHEMA, HsaUnits
from helsestat.reference.units.history import country_generation, country_histories
from helsestat.reference.units.model import Span
from helsestat.reference.units.placing import OPEN_END, flatten
from helsestat.store.db.units_schema import Unit, UnitIdentifierRow

SWEDEN = "SE"
HSA_SCHEME = "hsa"
KINDS = ("vardgivare", "vardenhet")

#: (unit id, HSA-id, valid from, valid to or None) of one identifier period
HsaPeriod = tuple[int, str, date, date | None]


def _overlap(a: date, b: date | None, c: date, d: date | None) -> tuple[date, date | None] | None:
    lo, hi = max(a, c), min(b or OPEN_END, d or OPEN_END)
    if lo >= hi:
        return None
    return lo, None if hi == OPEN_END else hi


def hsa_units(
    histories: dict[int, list[Span]], identifiers: Sequence[HsaPeriod], generation: int = -1
) -> HsaUnits:
    """The as-of table of Swedish units from their histories (unit id → spans) and HSA-id
    periods."""
    flat = flatten(histories, dict.fromkeys(histories, SWEDEN))
    held: dict[int, list[tuple[str, date, date | None]]] = defaultdict(list)
    for unit_id, value, start, end in identifiers:
        held[unit_id].append((value, start, end))
    columns: dict[str, list[object]] = {name: [] for name in SCHEMA.names}

    def add(hsa: str, kind: str, span: tuple[date, date | None], vg: str, lan: str | None) -> None:
        for name, value in zip(SCHEMA.names, (hsa, kind, *span, vg, lan), strict=True):
            columns[name].append(value)

    for piece in flat.to_pylist():
        unit, start, end = piece["unit_id"], piece["valid_from"], piece["valid_to"]
        vg_id = piece["vardgivare_id"]
        kind = (
            "vardgivare"
            if vg_id == unit
            else "vardenhet"
            if piece["vardenhet_id"] == unit
            else None
        )
        if kind is None or vg_id is None:
            continue
        for hsa, a, b in held.get(unit, ()):
            own = _overlap(start, end, a, b)
            if own is None:
                continue
            if kind == "vardgivare":
                add(hsa, kind, own, hsa, piece["lan"])
                continue
            for vg_hsa, c, d in held.get(vg_id, ()):
                both = _overlap(*own, c, d)
                if both is not None:
                    add(hsa, kind, both, vg_hsa, piece["lan"])
    table = pa.table(columns, schema=SCHEMA)
    order = [("hsa_id", "ascending"), ("valid_from", "ascending")]
    return HsaUnits(table.sort_by(order), generation)


def hsa_generation(session: Session) -> int:
    """A number that grows with every committed change of a Swedish unit: the number of
    Swedish units plus the sum of their ``row_version``.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     hsa_generation(session)
    0
    """
    return country_generation(session, SWEDEN)


def read_hsa_units(session: Session) -> HsaUnits:
    """The as-of table of the Swedish units as the registry holds them now (current
    knowledge), read in three queries.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     read_hsa_units(session).table.num_rows
    0
    """
    generation = hsa_generation(session)
    histories = country_histories(session, SWEDEN)
    periods: list[HsaPeriod] = [
        (r.unit_id, r.value, r.valid_from, r.valid_to)
        for r in session.execute(
            select(
                UnitIdentifierRow.unit_id,
                UnitIdentifierRow.value,
                UnitIdentifierRow.valid_from,
                UnitIdentifierRow.valid_to,
            )
            .where(
                UnitIdentifierRow.scheme == HSA_SCHEME,
                UnitIdentifierRow.superseded_at.is_(None),
                UnitIdentifierRow.unit_id.in_(select(Unit.id).where(Unit.country == SWEDEN)),
            )
            .order_by(UnitIdentifierRow.unit_id, UnitIdentifierRow.valid_from)
        )
    ]
    return hsa_units(histories, periods, generation)


__all__ = [
    "HSA_SCHEME",
    "KINDS",
    "NO_HSA_UNITS",
    "SCHEMA",
    "HsaPeriod",
    "HsaUnits",
    "hsa_generation",
    "hsa_units",
    "read_hsa_units",
]
