"""The value a reference snapshot holds of the Swedish units by HSA-id over time: the
as-of table (:class:`HsaUnits`) that :mod:`helsestat.reference.units.hsa` reads from the
database and describes column by column.

It lives apart from the unit registry's modules, which read and write the database, so that
a process that only holds a snapshot (a build) does not import the database layer.

>>> NO_HSA_UNITS.table.num_rows, NO_HSA_UNITS.table.column_names[:2]
(0, ['hsa_id', 'kind'])
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

#: Columns of the as-of table, in order.
SCHEMA = pa.schema(
    [
        ("hsa_id", pa.string()),
        ("kind", pa.string()),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),
        ("vardgivare_hsaid", pa.string()),
        ("lan", pa.string()),
    ]
)


@dataclass(frozen=True, eq=False)
class HsaUnits:
    """The as-of table of Swedish units by HSA-id (see :mod:`helsestat.reference.units.hsa`),
    read at ``generation`` (-1: not read from a database).

    >>> HsaUnits(NO_HSA_UNITS.table).generation
    -1
    """

    table: pa.Table
    generation: int = -1


#: No Swedish units (a snapshot made from the packaged files, which hold no unit registry).
#: Made from no batches, not ``SCHEMA.empty_table()``, which imports pandas.
NO_HSA_UNITS = HsaUnits(pa.Table.from_batches([], schema=SCHEMA))

__all__ = ["NO_HSA_UNITS", "SCHEMA", "HsaUnits"]
