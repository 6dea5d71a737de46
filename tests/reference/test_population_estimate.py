"""The population rule before 2024: each 2024 kommune's population is shared among the codes
that became it, so no one is lost or counted twice (docs/statistics.md, kommune/måned)."""

from __future__ import annotations

import pytest

from helsestat.reference.snapshot import Reference


@pytest.mark.parametrize("year", range(2015, 2024))
def test_population_estimate_adds_up_to_the_2024_total(year: int, reference: Reference) -> None:
    geo = reference.geography
    total_2024 = sum(geo.population(k, 2024) or 0 for k in geo.kommuner_valid_in(2024))
    kommuner = geo.kommuner_valid_in(year)
    estimated = sum(geo.population_estimate(k, year) for k in kommuner)
    # each estimate is rounded to a whole person
    assert abs(estimated - total_2024) <= len(kommuner)


def test_merged_then_split_kommuner_share_both_successors(reference: Reference) -> None:
    # 2019's Ålesund, Ørskog, Skodje, Haram and Sandøy became Ålesund (1507) in 2020, which
    # was split into Ålesund (1508) and Haram (1580) in 2024 (weights 0.5/0.5 into each).
    geo = reference.geography
    successors = (geo.population("1508", 2024) or 0) + (geo.population("1580", 2024) or 0)
    codes = ("1504", "1523", "1529", "1534", "1546")
    estimates = [geo.population_estimate(k, 2019) for k in codes]
    assert estimates == [round(successors / 5)] * 5
    assert geo.population_estimate("1507", 2023) == successors


def test_2023_kommune_merged_in_2024_gets_the_whole_successor(reference: Reference) -> None:
    # Halden (3001 in 2020–2023, 3101 from 2024): the 2023 recoding rows also map 3101 to
    # itself, which must not take half of Halden's population.
    geo = reference.geography
    assert geo.population_estimate("3001", 2023) == geo.population("3101", 2024)
