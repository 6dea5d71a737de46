"""Population per catchment area: the synthetic grunnkrets population sums exactly to the
kommune populations, and the areas, HF, RHF and country sums equal a plain per-unit loop
(an independent oracle) for every service, in the kommune structure of each year."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from helsestat.reference.grunnkrets import kommune_population, structure_of
from helsestat.reference.klass_catchment import area_table
from helsestat.statistics.catchment.population import (
    ADULT,
    AGES,
    TABLE_OF,
    GrunnkretsPopulation,
    area_population,
)
from helsestat.synth.catchment import generate_population

YEARS = (2016, 2019, 2021, 2024)


@pytest.fixture(scope="module")
def population() -> GrunnkretsPopulation:
    return generate_population(YEARS, seed=11)


def test_synthetic_population_sums_to_every_kommune(population: GrunnkretsPopulation) -> None:
    for y, year in enumerate(population.years):
        per_kommune: dict[str, int] = defaultdict(int)
        totals = population.counts[y].sum(axis=(1, 2))
        for unit, total in zip(population.register.units, totals, strict=True):
            per_kommune[unit.kommune_in(year)] += int(total)
        assert per_kommune == kommune_population(year).figures, year


def test_same_seed_same_population() -> None:
    a, b = generate_population((2024,), seed=3), generate_population((2024,), seed=3)
    assert np.array_equal(a.counts, b.counts)
    assert not np.array_equal(a.counts, generate_population((2024,), seed=4).counts)


def _oracle(population: GrunnkretsPopulation, service: str, y: int) -> dict[str, np.ndarray]:
    year = population.years[y]
    table = area_table(TABLE_OF[service], structure_of(year))
    out: dict[str, np.ndarray] = defaultdict(lambda: np.zeros((2, AGES), np.int64))
    for i, unit in enumerate(population.register.units):
        area = table.area_of(unit.kommune_in(year), unit.bydel_in(year), unit.code)
        assert area is not None
        cells = population.counts[y, i].astype(np.int64)
        if service == "BUP":
            cells = cells * (np.arange(AGES) < ADULT)
        elif service == "VOP":
            cells = cells * (np.arange(AGES) >= ADULT)
        out[area] += cells
    return out


@pytest.mark.parametrize("service", ["SOM", "BUP", "VOP", "TSB", "DPS"])
def test_areas_equal_a_plain_loop(population: GrunnkretsPopulation, service: str) -> None:
    result = area_population(population)
    for y, year in enumerate(population.years):
        expected = _oracle(population, service, y)
        codes = result.codes[(service, year, "OMRADE")]
        values = result.cells(service, year, "OMRADE")
        got = {c: values[i] for i, c in enumerate(codes) if values[i].any()}
        assert got.keys() == expected.keys()
        for code, cells in expected.items():
            assert np.array_equal(got[code], cells), (service, year, code)


def test_levels_add_up(population: GrunnkretsPopulation) -> None:
    result = area_population(population)
    for year in population.years:
        national = sum(kommune_population(year).figures.values())
        for service in ("SOM", "TSB", "DPS", "PHV"):
            for level in ("LANDET", "RHF", "HF"):
                assert int(result.cells(service, year, level).sum()) == national, (service, level)
        phv = result.cells("PHV", year, "HF")
        bup = result.cells("BUP", year, "HF")
        vop = result.cells("VOP", year, "HF")
        assert result.codes[("PHV", year, "HF")] == result.codes[("BUP", year, "HF")]
        assert np.array_equal(phv, bup + vop)
        assert not bup[:, :, ADULT:].any() and not vop[:, :, :ADULT].any()
        hf_of = result.parents[("SOM", year)]
        areas = result.codes[("SOM", year, "OMRADE")]
        hf_codes = result.codes[("SOM", year, "HF")]
        som = result.cells("SOM", year, "OMRADE")
        for h, hf in enumerate(hf_codes):
            inside = [i for i, a in enumerate(areas) if hf_of[a] == hf]
            assert np.array_equal(som[inside].sum(axis=0), result.cells("SOM", year, "HF")[h])
