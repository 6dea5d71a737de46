"""What placing a row by unit id adds to it, shared by the database side
(:mod:`.placing`) and the bulk placing on a snapshot (:mod:`.placing_bulk`), which must not
import the database layer.

>>> PLACEMENT_COLUMNS[:3]
('rhf_id', 'hf_id', 'behandlingssted_id')
"""

from __future__ import annotations

from datetime import date

#: Placement columns added to every placed row, in order.
PLACEMENT_COLUMNS = (
    "rhf_id",
    "hf_id",
    "behandlingssted_id",
    "sector",
    "vardgivare_id",
    "vardenhet_id",
    "lan",
    "kommune",
)
#: The end of a version that has none (open).
OPEN_END = date(9999, 12, 31)

__all__ = ["OPEN_END", "PLACEMENT_COLUMNS"]
