"""SYNTHETIC population by grunnkrets, kjønn and single year of age, 1 January of each
year, that sums exactly to the kommune populations of the reference data
(:func:`helsestat.reference.grunnkrets.kommune_population`: SSB table 07459 where the figure
is there, estimated where not) in the kommune structure of each year.

Statistics Norway does not publish population by grunnkrets and single year of age, so
helsestat makes one: every grunnkrets of the SYNTHETIC register gets a size and an age tilt
(younger or older than the kommune) from the seed; each year, each kommune's real total is
drawn (multinomial) over its grunnkretser × kjønn × age with probabilities from a smooth
Norwegian-like age profile (:func:`age_profile`) times the unit's size and tilt. Only the
kommune totals are real; everything below them is invented.

>>> pop = generate_population((2024,), seed=1)
>>> from helsestat.reference.grunnkrets import kommune_population
>>> int(pop.counts.sum()) == sum(kommune_population(2024).figures.values())
True
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from helsestat.reference.grunnkrets import (
    GrunnkretsRegister,
    grunnkrets_register,
    kommune_population,
    structure_of,
)
from helsestat.statistics.catchment.population import AGES, GrunnkretsPopulation

#: The years the catchment statistic covers by default.
YEARS: tuple[int, ...] = tuple(range(2015, 2026))
#: The years ``helsestat demo`` ingests: one in the 2018-2019 structure (before the 2020
#: reform; Tysfjord split by grunnkrets), the first of the 2020-2023 structure and two of the
#: current one (about 2 million rows a year: every year would slow the demo by minutes).
DEMO_YEARS: tuple[int, ...] = (2019, 2020, 2024, 2025)


def age_profile() -> np.ndarray:
    """A smooth share per kjønn (menn, kvinner) and age 0–104, 105+ (sums to 1): flat to
    about 60, then falling, women living longer (shape only, not SSB's figures).

    >>> p = age_profile()
    >>> p.shape, round(float(p.sum()), 6)
    ((2, 106), 1.0)
    """
    age = np.arange(AGES, dtype=float)
    men = np.where(age < 60, 1.0, np.exp(-(((age - 60) / 17.0) ** 2)))
    women = np.where(age < 62, 0.97, 0.97 * np.exp(-(((age - 62) / 19.0) ** 2)))
    profile = np.stack([men, women])
    shares: np.ndarray = profile / profile.sum()
    return shares


def generate_population(
    years: Sequence[int] = YEARS,
    seed: int = 42,
    register: GrunnkretsRegister | None = None,
) -> GrunnkretsPopulation:
    """The SYNTHETIC population of ``years`` over the units of ``register`` (default: the
    packaged SYNTHETIC grunnkrets register), the same for the same seed."""
    reg = register or grunnkrets_register()
    n = len(reg.units)
    units_rng = np.random.default_rng([seed, 0])
    size = units_rng.gamma(4.0, 0.25, n)
    tilt = units_rng.uniform(-1.0, 1.0, n)
    age = np.arange(AGES, dtype=float)
    base = age_profile()
    # an older or a younger unit: weight ×(1 ± 0.4) at the ends of working age
    shape = np.exp(np.outer(tilt, (age - 40.0) / 40.0) * 0.4)  # (n, AGES)
    weights = size[:, None, None] * base[None, :, :] * shape[:, None, :]
    counts = np.zeros((len(years), n, 2, AGES), np.int32)
    for y, year in enumerate(years):
        structure = structure_of(year)
        members: dict[str, list[int]] = defaultdict(list)
        for i, u in enumerate(reg.units):
            members[u.kommune[structure]].append(i)
        rng = np.random.default_rng([seed, year])
        figures = kommune_population(year).figures
        for kommune in sorted(members):
            idx = np.asarray(members[kommune])
            w = weights[idx].ravel()
            drawn = rng.multinomial(figures.get(kommune, 0), w / w.sum())
            counts[y, idx] = drawn.reshape(len(idx), 2, AGES)
    return GrunnkretsPopulation(tuple(years), reg, counts)


def population_table(population: GrunnkretsPopulation) -> pa.Table:
    """The population as rows (grunnkrets, aar, kjonn 1/2, alder 0–105 where 105 is 105+,
    personer), cells with nobody left out: the ``folkemengde`` extract the demo ingests."""
    years, units, sexes, ages = np.nonzero(population.counts)
    codes = pa.array([u.code for u in population.register.units], pa.string())
    return pa.table(
        {
            "grunnkrets": codes.take(pa.array(units)),
            "aar": pa.array(np.asarray(population.years, np.int32)[years]),
            "kjonn": pa.array((sexes + 1).astype(np.int8)),
            "alder": pa.array(ages.astype(np.int16)),
            "personer": pa.array(population.counts[years, units, sexes, ages]),
        }
    )


def write_population(path: Path, seed: int, years: Sequence[int] = DEMO_YEARS) -> int:
    """Write the SYNTHETIC ``folkemengde`` extract of ``years`` as Parquet (text columns, as
    a file from outside arrives); the number of rows."""
    table = population_table(generate_population(years, seed))
    table = table.cast(pa.schema([(name, pa.string()) for name in table.column_names]))
    pq.write_table(table, path)
    rows: int = table.num_rows
    return rows


__all__ = [
    "DEMO_YEARS",
    "YEARS",
    "age_profile",
    "generate_population",
    "population_table",
    "write_population",
]
