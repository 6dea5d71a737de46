"""The catchment areas' kommune populations are the reference data's: real where SSB's figure
is there, else the documented estimate the population rule reads — one source, and a
kommune with neither stops the computation naming it."""

from __future__ import annotations

import pytest

from helsestat.errors import ReferenceError_
from helsestat.reference import grunnkrets
from helsestat.reference.seed import packaged_reference


def test_every_year_has_the_population_the_rule_reads() -> None:
    geography = packaged_reference().geography
    for year in range(2015, 2027):
        figures = grunnkrets.kommune_population(year).figures
        rule = {code: geography.population(code, year) for code in figures}
        assert figures == rule, year


def test_a_kommune_without_figure_or_estimate_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grunnkrets, "_estimates", lambda: {})
    with pytest.raises(ReferenceError_, match="2022") as caught:
        grunnkrets.kommune_population.__wrapped__(2022)
    assert caught.value.code == "reference.population_missing"
    # 2021-2023 are estimates for every kommune: all 356 of the year's structure are named
    assert "for 356 kommune(r) of 2022: 0301, " in caught.value.message
