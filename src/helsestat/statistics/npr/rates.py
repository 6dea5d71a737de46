"""Rates per catchment area: the activity counts by the patient's catchment area
(``bo_omrade``, set at ingest from bostedskommune/bydel and the area lists of the year of
the episode) × kjønn × aldersgruppe × sector × year, beside the area's population of that
kjønn and age group on 1 January of the year and the rates per 1 000 inhabitants.

Which population a sector is divided by (the service whose areas ``bo_omrade`` is a code
of, :data:`SERVICE_OF`): somatikk and rehabilitering → SOM (KLASS 629); psykisk helsevern
for voksne (phv) → VOP, inhabitants 18 and over (630); psykisk helsevern for barn og unge
(phbu) → BUP, inhabitants 0-17 (630); TSB → TSB (631, areas derived from VOP). The
population is the catchment-area statistic's (:mod:`helsestat.statistics.catchment`),
computed from the stored ``folkemengde`` extract; an area, year or group it does not hold
(no population stored, a patient whose area could not be told) has a null population and
null rates, and a group the service does not serve (phv 0-17) has population 0 and null
rates.

>>> from helsestat.statistics.npr.cube import NPR
>>> [t.name for t in rates(NPR).tables]
['npr/rater/omrade', 'npr/rater/kjonn_alder']
>>> AGE_GROUPS["80+"]
(80, 106)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.protect import Protection, Requirement
from helsestat.statistics.base import Statistic, TableDef
from helsestat.statistics.catchment import read_population
from helsestat.statistics.catchment.population import AGES, area_population
from helsestat.statistics.catchment.tilemap import grid_positions
from helsestat.statistics.npr.activity import RULE, RULE_NOTE
from helsestat.statistics.npr.cube import (
    ALDER,
    COUNTS,
    KIND,
    KJONN,
    NEEDS,
    OMRADE,
    SEKTOR,
    TID,
    Variant,
)
from helsestat.statistics.npr.cube import spec as cube_spec
from helsestat.statistics.npr.names import UKJENT, known

#: Sector → the catchment-area service whose areas and population it is divided by.
SERVICE_OF: Final[Mapping[str, str]] = {
    "somatikk": "SOM",
    "rehab": "SOM",
    "phv": "VOP",
    "phbu": "BUP",
    "tsb": "TSB",
}
#: The stored age groups → the single years of age they cover (``[first, end)``; 105+ is
#: the last column of the population).
AGE_GROUPS: Final[Mapping[str, tuple[int, int]]] = {
    "0-17": (0, 18),
    "18-29": (18, 30),
    "30-49": (30, 50),
    "50-66": (50, 67),
    "67-79": (67, 80),
    "80+": (80, AGES),
}
#: The counts given per 1 000 inhabitants.
RATED: Final = ("opphold", "liggedogn", "dagbehandlinger", "polikliniske_kontakter", "pasienter")
RATES: Final = tuple(f"{m}_per_1000" for m in RATED)
MEASURES: Final = (*COUNTS, "befolkning", *RATES)
POPULATION_INPUT: Final = "folkemengde"
Finish = Callable[[pa.Table, TableDef], pa.Table]


@dataclass(frozen=True, eq=False)
class AreaPopulations:
    """The population per (service, year, area code): an array (kjønn 0 menn / 1 kvinner ×
    single year of age), and the areas' names per (service, code).

    >>> pop = AreaPopulations({("SOM", 2024, "01"): np.ones((2, AGES), np.int64)})
    >>> pop.persons("somatikk", "2024", "01", "1", "0-17"), pop.persons("phv", "2024", "01")
    (18, None)
    """

    values: Mapping[tuple[str, int, str], np.ndarray] = field(default_factory=dict)
    names: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: (service, year, area) → the area's tile on the dashboard's map (:mod:`.tilemap`)
    tiles: Mapping[tuple[str, int, str], tuple[int, int]] = field(default_factory=dict)

    def persons(
        self, sektor: str, year: str, area: str | None, kjonn: str = "", group: str = ""
    ) -> int | None:
        """Inhabitants of the sector's service area, of one kjønn (``1``/``2``; ``""``
        both) and age group (``""`` all); None when not known."""
        service = SERVICE_OF.get(sektor)
        if service is None or area is None or not year.isdigit():
            return None
        cells = self.values.get((service, int(year), area))
        if cells is None or kjonn not in ("", "1", "2") or (group and group not in AGE_GROUPS):
            return None
        rows = cells if not kjonn else cells[int(kjonn) - 1 : int(kjonn)]
        first, end = AGE_GROUPS[group] if group else (0, AGES)
        return int(rows[:, first:end].sum())

    def name(self, sektor: str, area: str | None) -> str:
        """The area's name in the sector's service list (codes repeat across lists)."""
        if area is None or area == UKJENT:
            return "Ukjent opptaksområde"
        return self.names.get((SERVICE_OF.get(sektor, ""), area), area)

    def tile(self, sektor: str, year: str, area: str | None) -> tuple[str, str]:
        """The area's tile (column, row) on the map of its service and year, as text;
        ``("", "")`` when not known."""
        service = SERVICE_OF.get(sektor, "")
        found = self.tiles.get((service, int(year), area or "")) if year.isdigit() else None
        return ("", "") if found is None else (str(found[0]), str(found[1]))


def area_populations(files: Sequence[Path]) -> AreaPopulations:
    """The population of every area of the services the sectors are divided by, from the
    stored ``folkemengde`` files (no files: nothing known)."""
    if not files:
        return AreaPopulations()
    result = area_population(read_population(files), tuple(sorted(set(SERVICE_OF.values()))))
    values: dict[tuple[str, int, str], np.ndarray] = {}
    tiles: dict[tuple[str, int, str], tuple[int, int]] = {}
    for (service, year, level), cells in result.values.items():
        if level == "OMRADE":
            codes = result.codes[(service, year, level)]
            for code, area in zip(codes, cells, strict=True):
                values[(service, year, code)] = area
            parents = result.parents[(service, year)]
            placed = grid_positions([(c, parents.get(c, "")) for c in sorted(codes)])
            tiles |= {(service, year, c): xy for c, xy in placed.items()}
    return AreaPopulations(values, dict(result.names), tiles)


def _tables(variant: Variant) -> tuple[TableDef, ...]:
    return (
        TableDef(
            f"{variant.prefix}rater/omrade",
            f"Aktivitet per 1 000 innbyggere ({variant.label}) per opptaksområde, sektor og år",
            ("ar", "sektor", "bo_omrade", "begge_kjonn", "alle_aldre"),
            (RULE,),
            RULE_NOTE,
        ),
        TableDef(
            f"{variant.prefix}rater/kjonn_alder",
            f"Aktivitet per 1 000 innbyggere ({variant.label}) per opptaksområde, kjønn, "
            "aldersgruppe, sektor og år",
            ("ar", "sektor", "bo_omrade", "kjonn", "aldersgruppe"),
            (RULE,),
            RULE_NOTE,
        ),
    )


def dimensions(table: TableDef) -> tuple[str, ...]:
    """Year, sector, the service whose population divides, the area with its name and its
    tile on the dashboard's map (``x``, ``y``), and kjønn and age group where the table
    has them."""
    dims = ["ar", "sektor", "tjeneste", "bo_omrade", "omrade_navn", "x", "y"]
    if "kjonn" in table.grouping:
        dims += ["kjonn", "aldersgruppe"]
    return tuple(dims)


def finisher(population: AreaPopulations) -> Finish:
    """The ``finish`` of the rate tables with ``population``: each row's counts, the
    population of its group and the rates (row by row)."""

    def finish(cube_table: pa.Table, table: TableDef) -> pa.Table:
        years = cube_table["ar"].to_pylist()
        sectors = cube_table["sektor"].to_pylist()
        areas = cube_table["bo_omrade"].to_pylist()
        detailed = "kjonn" in cube_table.column_names
        n = cube_table.num_rows
        kjonn = cube_table["kjonn"].to_pylist() if detailed else [""] * n
        # "?": a null group (not told) has no population
        groups = cube_table["aldersgruppe"].to_pylist() if detailed else [None] * n
        persons = [
            population.persons(
                s or "", y or "", a, "?" if k is None else k, (g or "?") if detailed else ""
            )
            for s, y, a, k, g in zip(sectors, years, areas, kjonn, groups, strict=True)
        ]
        cols: dict[str, pa.Array | pa.ChunkedArray] = {
            "ar": cube_table["ar"],
            "sektor": known(cube_table["sektor"]),
            "tjeneste": pa.array([SERVICE_OF.get(s or "", "") for s in sectors], pa.string()),
            "bo_omrade": known(cube_table["bo_omrade"]),
            "omrade_navn": pa.array(
                [population.name(s or "", a) for s, a in zip(sectors, areas, strict=True)],
                pa.string(),
            ),
        }
        tiles = [
            population.tile(s or "", y or "", a)
            for s, y, a in zip(sectors, years, areas, strict=True)
        ]
        cols["x"] = pa.array([t[0] for t in tiles], pa.string())
        cols["y"] = pa.array([t[1] for t in tiles], pa.string())
        if detailed:
            cols["kjonn"] = known(cube_table["kjonn"])
            cols["aldersgruppe"] = known(cube_table["aldersgruppe"])
        for m in COUNTS:
            cols[m] = pc.cast(cube_table[m], pa.int64())
        people = pa.array(persons, pa.int64())
        cols["befolkning"] = people
        divisor = pc.if_else(pc.greater(people, 0), pc.cast(people, pa.float64()), None)
        for m, rate in zip(RATED, RATES, strict=True):
            cols[rate] = pc.multiply(pc.divide(pc.cast(cols[m], pa.float64()), divisor), 1000.0)
        return pa.table(cols)

    return finish


def _prepare(statistic: Statistic, files: Mapping[str, Sequence[Path]]) -> Statistic:
    finish = finisher(area_populations(files.get(POPULATION_INPUT, ())))
    return dataclasses.replace(statistic, finish=finish, prepare=None)


def rates(variant: Variant) -> Statistic:
    """The rate tables of one variant; its population comes from the stored
    ``folkemengde`` files when built (:meth:`~helsestat.statistics.base.Statistic.
    with_inputs`), and is unknown (null rates) before."""
    tables = _tables(variant)
    return Statistic(
        name=variant.statistic("rater"),
        title=f"Aktivitet per 1 000 innbyggere i opptaksområdet ({variant.label})",
        description="Døgnopphold, liggedøgn, dagbehandlinger, polikliniske kontakter and "
        "distinct patients by the patient's catchment area, kjønn, age group, sector and "
        "year, with the area's population of the group and the rates per 1 000 inhabitants "
        f"({variant.label}'s figure).",
        source_kind=KIND,
        spec=cube_spec(
            variant.statistic("rater"),
            (TID, SEKTOR, OMRADE, KJONN, ALDER),
            tuple(t.grouping for t in tables),
            variant,
        ),
        tables=tables,
        dimensions=dimensions,
        measures=MEASURES,
        count_measure="pasienter",
        finish=finisher(AreaPopulations()),
        protection=Protection("episoder", Requirement(range_min=1), listing="non_empty"),
        needs=NEEDS,
        inputs=(POPULATION_INPUT,),
        prepare=_prepare,
    )


__all__ = [
    "AGE_GROUPS",
    "MEASURES",
    "RATED",
    "RATES",
    "SERVICE_OF",
    "AreaPopulations",
    "area_populations",
    "finisher",
    "rates",
]
