"""The one cube definition of the NPR-like activity statistic: hierarchies and measures over
the stored ``npr_episode`` columns, and the two variants (the NPR figure over every episode,
SSB's over the episodes with ``ssb_utvalg`` true) as a filter on the same definition.

>>> [m.name for m in MEASURES]
['episoder', 'opphold', 'liggedogn', 'dagbehandlinger', 'polikliniske_kontakter', 'pasienter']
>>> SSB.filters[0].column, NPR.prefix, SSB.prefix
('ssb_utvalg', 'npr/', 'npr/ssb/')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from helsestat.model.cube import CubeSpec, Filter, Hierarchy, Level, Measure, Prefix, Total
from helsestat.reference.preflight import Needs

#: The source kind: one stored row per episode (opphold or poliklinisk kontakt).
KIND: Final = "npr_episode"

TID: Final = Hierarchy("tid", (Level("maned", column="maned"), Level("ar", rollup=Prefix(4))))
SEKTOR: Final = Hierarchy("sektor", (Level("sektor", column="sektor"),))
# Units are placed on the date of the episode, so a behandlingssted that moved keeps its
# earlier episodes with its earlier HF: the unit, its HF and its RHF are three hierarchies
# read from the row (never a lookup from the unit), and a unit's table has one row per
# (unit, HF, RHF) it had in the period.
RHF: Final = Hierarchy(
    "rhf", (Level("rhf_orgnr", column="rhf_orgnr"), Level("alle_rhf", rollup=Total()))
)
HF: Final = Hierarchy(
    "hf", (Level("hf_orgnr", column="hf_orgnr"), Level("alle_hf", rollup=Total()))
)
ENHET: Final = Hierarchy(
    "enhet",
    (
        Level("behandlingssted_id", column="behandlingssted_id"),
        Level("alle_enheter", rollup=Total()),
    ),
)
OMRADE: Final = Hierarchy("omrade", (Level("bo_omrade", column="bo_omrade"),))
KJONN: Final = Hierarchy(
    "kjonn", (Level("kjonn", column="kjonn"), Level("begge_kjonn", rollup=Total()))
)
ALDER: Final = Hierarchy(
    "alder", (Level("aldersgruppe", column="aldersgruppe"), Level("alle_aldre", rollup=Total()))
)
BO_HF: Final = Hierarchy("bo_hf", (Level("bo_hf_orgnr", column="bo_hf_orgnr"),))

#: What a production run reads besides the episodes: the kommune list and the catchment
#: lists the patient's area is coded in at ingest (629 SOM, 630 BUP/VOP, 631 TSB), with the
#: tables from kommune (a city drawn by bydel: to KLASS 103), whose HF the flow and the rates
#: read.
NEEDS: Final = Needs(
    classifications=(131, 629, 630, 631),
    correspondences=((629, 131), (630, 131), (631, 131)),
    covered_together=((629, 131, 103), (630, 131, 103), (631, 131, 103)),
)

MEASURES: Final = (
    Measure("episoder", "count"),
    Measure("opphold", "sum", "dogn"),
    Measure("liggedogn", "sum", "liggedogn"),
    Measure("dagbehandlinger", "sum", "dag"),
    Measure("polikliniske_kontakter", "sum", "poli"),
    # exact distinct patients of the cell, never a sum over finer cells
    Measure("pasienter", "count_distinct", "pasient_pseudonym"),
)
COUNTS: Final = tuple(m.name for m in MEASURES)


@dataclass(frozen=True)
class Variant:
    """Which episodes a family of tables counts: ``name`` suffixes the statistics' names,
    ``prefix`` begins their tables' names, ``filters`` pick the rows."""

    key: str
    prefix: str
    label: str
    filters: tuple[Filter, ...] = ()

    def statistic(self, family: str) -> str:
        """The name of the statistic of ``family`` in this variant.

        >>> NPR.statistic("rater"), SSB.statistic("")
        ('npr_rater', 'npr_ssb')
        """
        return "_".join(p for p in ("npr", "ssb" if self.filters else "", family) if p)


#: NPR's figure: every episode.
NPR: Final = Variant("npr", "npr/", "NPR")
#: SSB's variant: leaves out fødestuer and units not defined as hospitals.
SSB: Final = Variant("ssb", "npr/ssb/", "SSB", (Filter("ssb_utvalg", "in", (True,)),))
VARIANTS: Final = (NPR, SSB)


def spec(
    name: str,
    hierarchies: tuple[Hierarchy, ...],
    groupings: tuple[tuple[str, ...], ...],
    variant: Variant,
) -> CubeSpec:
    """The cube of one family of tables in one variant (the same measures everywhere)."""
    return CubeSpec(name, hierarchies, MEASURES, variant.filters, groupings)


__all__ = [
    "ALDER",
    "BO_HF",
    "COUNTS",
    "ENHET",
    "HF",
    "KIND",
    "KJONN",
    "MEASURES",
    "NEEDS",
    "NPR",
    "OMRADE",
    "RHF",
    "SEKTOR",
    "SSB",
    "TID",
    "VARIANTS",
    "Variant",
    "spec",
]
