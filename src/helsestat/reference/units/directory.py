"""The Swedish side of the unit registry as it states things *now*: every HSA-id a vårdgivare
or vårdenhet has had, with the unit's current kind, name, län and vårdgivare. This is what
the 1177 Stöd och behandling statistic places its figures by (seed 003: "nuvarande angivet
geografiskt län … för den vårdgivare som är angiven för ärendet").

A unit's current state is its latest version in the registry's current knowledge; an
HSA-id the unit once had keeps pointing at the unit (ids are permanent), so an ärende
reported under an old HSA-id lands on the unit as it is now.

>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> with session_factory(engine)() as session:
...     hsa_directory(session).column_names
['hsaid', 'current_hsaid', 'kind', 'name', 'lan', 'vardgivare_hsaid']
"""

from __future__ import annotations

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from helsestat.store.db.units_schema import Unit, UnitIdentifierRow, UnitVersionRow

HSA = "hsa"
SCHEMA = pa.schema(
    [
        ("hsaid", pa.string()),
        ("current_hsaid", pa.string()),
        ("kind", pa.string()),
        ("name", pa.string()),
        ("lan", pa.string()),
        ("vardgivare_hsaid", pa.string()),
    ]
)


def hsa_directory(session: Session) -> pa.Table:
    """Every HSA-id of a Swedish unit (any time), with the unit's current HSA-id, kind, name,
    län and the current HSA-id of its vårdgivare (a vårdenhet's parent; a vårdgivare's own)."""
    latest: dict[int, UnitVersionRow] = {}
    versions = session.scalars(
        select(UnitVersionRow)
        .join(Unit, Unit.id == UnitVersionRow.unit_id)
        .where(Unit.country == "SE", UnitVersionRow.superseded_at.is_(None))
        .order_by(UnitVersionRow.unit_id, UnitVersionRow.valid_from)
    )
    for version in versions:
        latest[version.unit_id] = version  # ordered: the last is the latest
    ids: dict[int, list[tuple[str, bool]]] = {}
    identifiers = session.execute(
        select(UnitIdentifierRow.unit_id, UnitIdentifierRow.value, UnitIdentifierRow.valid_to)
        .where(UnitIdentifierRow.scheme == HSA, UnitIdentifierRow.superseded_at.is_(None))
        .order_by(UnitIdentifierRow.unit_id, UnitIdentifierRow.valid_from)
    )
    for unit_id, value, valid_to in identifiers:
        ids.setdefault(unit_id, []).append((value, valid_to is None))

    def current(unit_id: int | None) -> str | None:
        values = ids.get(unit_id or -1, [])
        chosen = [v for v, is_open in values if is_open] or [v for v, _ in values]
        return chosen[-1] if chosen else None

    rows: dict[str, list[str | None]] = {name: [] for name in SCHEMA.names}
    for unit_id, version in latest.items():
        vardgivare = unit_id if version.kind == "vardgivare" else version.parent_id
        parent = latest.get(vardgivare) if vardgivare is not None else None
        lan = version.lan or (parent.lan if parent is not None else None)
        for value, _ in ids.get(unit_id, []):
            rows["hsaid"].append(value)
            rows["current_hsaid"].append(current(unit_id))
            rows["kind"].append(version.kind)
            rows["name"].append(version.name)
            rows["lan"].append(lan)
            rows["vardgivare_hsaid"].append(current(vardgivare))
    return pa.table(rows, schema=SCHEMA)


__all__ = ["HSA", "SCHEMA", "hsa_directory"]
