"""The kommune rows of the catchment areas: the population of each kommune (or bydel, in a
city whose areas are drawn by bydel) within each area, per service and year — the last step
of the drill-down RHF → HF → area → kommune. A kommune split between areas (by grunnkrets)
has a row in each, with the part in that area.

>>> import numpy as np
>>> from helsestat.reference.grunnkrets import grunnkrets_register
>>> from helsestat.statistics.catchment.population import AGES, GrunnkretsPopulation
>>> reg = grunnkrets_register()
>>> pop = GrunnkretsPopulation((2024,), reg, np.ones((1, len(reg.units), 2, AGES), np.int32))
>>> rows = kommune_rows(pop, {})
>>> sorted(set(rows["tjeneste"].to_pylist()))
['BUP', 'DPS', 'SOM', 'TSB', 'VOP']
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from helsestat.reference.grunnkrets import kommune_names, structure_of
from helsestat.reference.klass_catchment import area_table, bydel_name
from helsestat.statistics.catchment.population import ADULT, TABLE_OF, GrunnkretsPopulation

SERVICES = ("SOM", "BUP", "VOP", "TSB", "DPS")


def _places(
    population: GrunnkretsPopulation, table: str, year: int
) -> tuple[list[str], list[str], np.ndarray]:
    """(area codes, place codes, per unit the index of its (area, place) pair)."""
    structure = structure_of(year)
    t = area_table(table, structure, population.register)
    pairs: dict[tuple[str, str], int] = {}
    index = np.empty(len(population.register.units), np.int64)
    for i, u in enumerate(population.register.units):
        kommune, bydel = u.kommune_in(year), u.bydel_in(year)
        by_bydel = bool(bydel) and bydel in t.bydeler
        area = t.area_of(kommune, bydel, u.code) or ""
        key = (area, bydel if by_bydel else kommune)
        index[i] = pairs.setdefault(key, len(pairs))
    areas = [a for a, _ in pairs]
    places = [p for _, p in pairs]
    return areas, places, index


def kommune_rows(population: GrunnkretsPopulation, names: Mapping[str, str]) -> pa.Table:
    """Rows (tjeneste, aar, omrade, kommune, kommune_navn, personer) of every area's kommuner
    (bydeler) per service and year; BUP counts ages 0-17, VOP 18 and over."""
    knames = kommune_names()
    cols: dict[str, list[object]] = {k: [] for k in ("t", "y", "a", "k", "n", "p")}
    cache: dict[tuple[str, int], tuple[list[str], list[str], np.ndarray]] = {}
    for y, year in enumerate(population.years):
        structure = structure_of(year)
        young = population.counts[y, :, :, :ADULT].sum(axis=(1, 2), dtype=np.int64)
        everyone = population.counts[y].sum(axis=(1, 2), dtype=np.int64)
        for service in SERVICES:
            table = TABLE_OF[service]
            key = (table, structure)
            if key not in cache:
                cache[key] = _places(population, table, year)
            areas, places, index = cache[key]
            totals = (
                young if service == "BUP" else everyone - young if service == "VOP" else everyone
            )
            sums = np.bincount(index, weights=totals, minlength=len(areas)).astype(np.int64)
            for i, (area, place) in enumerate(zip(areas, places, strict=True)):
                cols["t"].append(service)
                cols["y"].append(str(year))
                cols["a"].append(area)
                cols["k"].append(place)
                named = bydel_name(place) if len(place) == 6 else knames.get((place, structure))
                cols["n"].append(named or names.get(place, place))
                cols["p"].append(int(sums[i]))
    return pa.table(
        {
            "tjeneste": pa.array(cols["t"], pa.string()),
            "aar": pa.array(cols["y"], pa.string()),
            "omrade": pa.array(cols["a"], pa.string()),
            "kommune": pa.array(cols["k"], pa.string()),
            "kommune_navn": pa.array(cols["n"], pa.string()),
            "personer": pa.array(cols["p"], pa.int64()),
        }
    )


__all__ = ["kommune_rows"]
