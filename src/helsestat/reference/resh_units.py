"""The value a reference snapshot holds of the Norwegian units by RESH id (the registry's
unit id) over time: what NPR-like episodes are checked against and placed by at ingest —
the placing as-of table (:func:`~helsestat.reference.units.placing.flatten`) and each unit's
own fields over time (kind, organisation number, næringskode, services, and its name, which
the published tables show beside its id), which
:mod:`helsestat.reference.units.resh` reads from the database.

It lives apart from the unit registry's modules, which read and write the database, so that
a process that only holds a snapshot (a build) does not import the database layer.

>>> NO_RESH_UNITS.placing.num_rows, NO_RESH_UNITS.fields.column_names[:3]
(0, ['unit_id', 'valid_from', 'valid_to'])
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

_IDS = pa.int64()
#: Columns of the placing as-of table (:func:`~helsestat.reference.units.placing.flatten`).
PLACING_SCHEMA = pa.schema(
    [
        ("unit_id", _IDS),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),
        ("country", pa.string()),
        ("rhf_id", _IDS),
        ("hf_id", _IDS),
        ("behandlingssted_id", _IDS),
        ("sector", pa.string()),
        ("vardgivare_id", _IDS),
        ("vardenhet_id", _IDS),
        ("lan", pa.string()),
        ("kommune", pa.string()),
    ]
)
#: Columns of the fields table: one row per unit version (half-open ``[valid_from,
#: valid_to)``, null: still valid).
FIELDS_SCHEMA = pa.schema(
    [
        ("unit_id", _IDS),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),
        ("kind", pa.string()),
        ("orgnr", pa.string()),
        ("naeringskode", pa.string()),
        ("services", pa.list_(pa.string())),
        ("name", pa.string()),
    ]
)


@dataclass(frozen=True, eq=False)
class ReshUnits:
    """The Norwegian units over time, read at ``generation`` (-1: not read from a database):
    ``placing`` (where each unit sits on each day) and ``fields`` (what it is then).

    >>> ReshUnits(NO_RESH_UNITS.placing, NO_RESH_UNITS.fields).generation
    -1
    """

    placing: pa.Table
    fields: pa.Table
    generation: int = -1


#: No Norwegian units (a snapshot made from the packaged files, which hold no unit
#: registry). Made from no batches, not ``empty_table()``, which imports pandas.
NO_RESH_UNITS = ReshUnits(
    pa.Table.from_batches([], schema=PLACING_SCHEMA),
    pa.Table.from_batches([], schema=FIELDS_SCHEMA),
)

__all__ = ["FIELDS_SCHEMA", "NO_RESH_UNITS", "PLACING_SCHEMA", "ReshUnits"]
