"""KLASS 629-632 (catchment areas): one version per kommune structure from 2015 with the
levels RHF -> HF -> opptaksområde -> kommune/bydel/grunnkrets, every unit of population in
exactly one area per service and year, and an error naming the units otherwise."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date

import pytest

from helsestat.errors import ReferenceError_
from helsestat.reference.grunnkrets import (
    STRUCTURES,
    Grunnkrets,
    GrunnkretsRegister,
    grunnkrets_register,
    kommune_population,
)
from helsestat.reference.klass_catchment import LISTS, SOURCES, area_table
from helsestat.reference.klass_data import packaged_registry
from helsestat.statistics.catchment.population import assign


@pytest.mark.parametrize("cid", sorted(LISTS))
def test_versions_cover_2015_onward_with_four_levels(cid: int) -> None:
    cls = packaged_registry().classification(cid)
    versions = cls.versions
    assert versions[0].valid_from == date(2015, 1, 1) and versions[-1].valid_to is None
    for before, after in itertools.pairwise(versions):
        assert before.valid_to == after.valid_from
    assert [v.valid_from.year for v in versions] == [first for first, _ in STRUCTURES]
    for v in versions:
        assert [lv.number for lv in v.levels] == [1, 2, 3, 4]
        by_code = {c.code: c for c in v.codes}
        assert len(by_code) == len(v.codes), "a code twice in one version"
        for c in v.codes:
            if c.level > 1:
                assert c.parent_code is not None
                assert by_code[c.parent_code].level == c.level - 1, (v.name, c.code)


@pytest.mark.parametrize("table", sorted(SOURCES))
@pytest.mark.parametrize("first", [first for first, _ in STRUCTURES])
def test_every_unit_lies_in_exactly_one_area(table: str, first: int) -> None:
    register = grunnkrets_register()
    made = assign(area_table(table, first), register, first)
    assert len(made.index) == len(register.units)
    assert set(made.index.tolist()) <= set(range(len(made.areas)))


def test_every_kommune_of_a_structure_is_listed() -> None:
    """Each kommune of the structure appears at level 4 by itself, by its bydeler or by its
    grunnkretser (the 2019 version: Tysfjord by grunnkrets)."""
    reg = packaged_registry()
    version = reg.version_at(629, date(2019, 6, 1))
    level4 = [c for c in version.codes if c.level == 4]
    listed = {c.code[:4] for c in level4 if len(c.code) in (4, 6)}
    listed |= {c.notes.removeprefix("kommune ") for c in level4 if c.notes}
    assert listed == set(kommune_population(2019).figures)
    names = {c.code: c.name for c in version.codes if c.level == 3}
    tysfjord = {names[c.parent_code or ""] for c in level4 if c.notes == "kommune 1850"}
    assert tysfjord == {"UNN", "Nordland"}  # Narvik's part and Hamarøy's part (2020)


def test_631_is_derived_from_630s_adult_areas() -> None:
    reg = packaged_registry()
    tsb = reg.version_at(631, date(2025, 1, 1))
    vop = reg.version_at(630, date(2025, 1, 1))
    tsb_areas = [c.name for c in tsb.codes if c.level == 3]
    vop_areas = [c.name for c in vop.codes if c.level == 3 and c.code.startswith("V")]
    assert tsb_areas == vop_areas
    assert "Derived" in tsb.introduction and "TSB" in tsb.introduction


def test_correspondence_to_131_per_structure_with_a_131_version() -> None:
    """Every kommune is a target of the table to 131, except the cities drawn by bydel,
    which are in the table to 103."""
    reg = packaged_registry()
    for cid, to_131, to_103 in ((629, 1026, 2519), (632, 1098, 2522)):
        table = reg.correspondences[to_131]
        target = reg.version_at(131, date(2025, 1, 1))
        assert table.target_version == target.id
        kommuner = {c.code for c in target.codes}
        by_bydel = {m.target_code[:4] for m in reg.correspondences[to_103].maps}
        assert {m.target_code for m in table.maps} == kommuner - by_bydel, cid
    for first, _ in STRUCTURES:  # a table per kommune structure (131 has each)
        version = reg.version_at(629, date(first, 6, 1))
        assert any(t.source_version == version.id for t in reg.correspondences.values())


def test_a_unit_in_no_area_stops_naming_it() -> None:
    register = grunnkrets_register()
    stray = Grunnkrets("99990001", dict.fromkeys((f for f, _ in STRUCTURES), "9999"))
    bad = GrunnkretsRegister((*register.units, stray))
    with pytest.raises(ReferenceError_) as raised:
        area_table("dps", 2024, bad)
    assert raised.value.code == "reference.catchment_gap"
    assert "99990001 (kommune 9999)" in raised.value.message and raised.value.hint


def test_a_unit_in_two_areas_stops_naming_it() -> None:
    table = area_table("dps", 2024)
    oslo_unit = next(u for u in grunnkrets_register().units if u.bydel_in(2024))
    other = next(a.code for a in table.areas if a.code != table.bydeler[oslo_unit.bydel_in(2024)])
    doubled = replace(table, grunnkretser={**table.grunnkretser, oslo_unit.code: other})
    with pytest.raises(ReferenceError_) as raised:
        assign(doubled, grunnkrets_register(), 2024)
    assert raised.value.code == "reference.catchment_overlap"
    assert oslo_unit.code in raised.value.message


def test_an_area_without_an_hf_stops_naming_it() -> None:
    table = area_table("som", 2024)
    first = table.areas[0]
    orphaned = replace(table, areas=(replace(first, hf=""), *table.areas[1:]))
    with pytest.raises(ReferenceError_) as raised:
        assign(orphaned, grunnkrets_register(), 2024)
    assert raised.value.code == "reference.catchment_no_hf"
    assert f"{first.code} ({first.name})" in raised.value.message and raised.value.hint


@pytest.mark.parametrize("year", [2016, 2019, 2022, 2025])
def test_population_by_year_is_the_real_one_where_known(year: int) -> None:
    pop = kommune_population(year)
    if year in (2019, 2025):
        assert not pop.estimated
    if year == 2022:  # not in the reference data yet: every figure estimated and marked
        assert pop.estimated == frozenset(pop.figures)
    assert len(pop.figures) == {2016: 428, 2019: 422, 2022: 356, 2025: 357}[year]
