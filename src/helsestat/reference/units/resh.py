"""The Norwegian side of the unit registry by RESH id (the unit id) over time, as a
reference snapshot holds it (:class:`~helsestat.reference.resh_units.ReshUnits`): the
placing as-of table (:func:`~.placing.flatten`, what NPR-like episodes are placed by, seed
002: "Med RESH-id plasseres innrapporterte data til riktig foretak og behandlingssted") and
every unit's own fields over time (kind, orgnr, næringskode, services, name: an HF's
organisation number, whether a place is a hospital or a fødestue, what a behandlingssted
was called).

:func:`resh_generation` grows with every committed change of a Norwegian unit (each write
bumps the unit's ``row_version``; units are never deleted), so a holder of a snapshot knows
when to read it again.

>>> from datetime import date
>>> from helsestat.reference.units.model import Span, UnitFields
>>> units = resh_units({1: [Span(date(2002, 1, 1), None, UnitFields("rhf", "R", orgnr="9"))],
...     2: [Span(date(2002, 1, 1), None, UnitFields("hf", "H", parent_id=1, orgnr="8"))]})
>>> units.placing.column("hf_id").to_pylist(), units.fields.column("orgnr").to_pylist()
([None, 2], ['9', '8'])
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from helsestat.reference.resh_units import FIELDS_SCHEMA, PLACING_SCHEMA, ReshUnits
from helsestat.reference.units.history import country_generation, country_histories
from helsestat.reference.units.model import Span
from helsestat.reference.units.placing import flatten

NORWAY = "NO"


def resh_units(histories: dict[int, list[Span]], generation: int = -1) -> ReshUnits:
    """The Norwegian units' as-of tables from their histories (unit id → spans)."""
    placing = flatten(histories, dict.fromkeys(histories, NORWAY)).cast(PLACING_SCHEMA)
    columns: dict[str, list[Any]] = {name: [] for name in FIELDS_SCHEMA.names}
    for uid in sorted(histories):
        for span in histories[uid]:
            f = span.fields
            values = (uid, span.valid_from, span.valid_to, f.kind, f.orgnr, f.naeringskode)
            for name, value in zip(FIELDS_SCHEMA.names, values, strict=False):
                columns[name].append(value)
            columns["services"].append(list(f.services))
            columns["name"].append(f.name)
    return ReshUnits(placing, pa.table(columns, schema=FIELDS_SCHEMA), generation)


def resh_generation(session: Session) -> int:
    """A number that grows with every committed change of a Norwegian unit: the number of
    Norwegian units plus the sum of their ``row_version``.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     resh_generation(session)
    0
    """
    return country_generation(session, NORWAY)


def read_resh_units(session: Session) -> ReshUnits:
    """The Norwegian units as the registry holds them now (current knowledge), in two
    queries.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     read_resh_units(session).placing.num_rows
    0
    """
    generation = resh_generation(session)
    return resh_units(country_histories(session, NORWAY), generation)


__all__ = ["NORWAY", "read_resh_units", "resh_generation", "resh_units"]
