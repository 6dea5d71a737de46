"""Sweden's län with their population (SCB, 31 December), as the reference database holds
them: what the 1177 Stöd och behandling statistic labels and relates its figures to. The
names are the län level of the helsestat-local classification of Swedish län and kommuner
(:data:`SWEDISH_REGIONS`), the figures population rows of country ``SE``.

The packaged figures (``data/refdata/se_befolkning_lan.csv``, see PROVENANCE.md) are real
for 2015–2019 and 2024 (and for three län in 2020–2021); the years between are not in the
data. :meth:`Lan.population` never invents a figure: :meth:`Lan.population_for` answers a
year from the nearest published one and says which year that was.

>>> lan = Lan({"01": "Stockholms län"}, packaged_lan_population())
>>> lan.names["01"], lan.population("01", 2024)
('Stockholms län', 2473307)
>>> lan.population_for("01", 2022)
(2377081, 2019)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Lan:
    """Län code → name, and population per (län, year) on 31 December."""

    names: dict[str, str]
    figures: dict[tuple[str, int], int] = field(default_factory=dict)

    def population(self, code: str, year: int) -> int | None:
        """The published figure of that year, or None."""
        return self.figures.get((code, year))

    def population_for(self, code: str, year: int) -> tuple[int, int] | None:
        """(population, the year it is from) for ``year``: that year's figure, else the
        latest before it, else the earliest after it; None without any figure."""
        years = sorted(y for c, y in self.figures if c == code)
        if not years:
            return None
        before = [y for y in years if y <= year]
        chosen = before[-1] if before else years[0]
        return self.figures[(code, chosen)], chosen


#: The helsestat-local classification of Swedish län (level 1) and kommuner (level 2).
SWEDISH_REGIONS = 9000001


@cache
def packaged_lan_population() -> dict[tuple[str, int], int]:
    """The packaged population per (län, year), both sexes, read once per process. It seeds
    the reference database; the statistics read the database's."""
    path = resources.files("helsestat.data.refdata").joinpath("se_befolkning_lan.csv")
    with path.open(encoding="utf-8") as fh:
        return {
            (r["lanskod"], int(r["ar"])): int(r["folkmangd"])
            for r in csv.DictReader(fh)
            if r["kon"] == "T"
        }


__all__ = ["SWEDISH_REGIONS", "Lan", "packaged_lan_population"]
