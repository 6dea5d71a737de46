"""Norwegian kommuner and fylker across the 2020 and 2024 reforms, with population.

Real data from ``data/refdata`` (see its PROVENANCE.md): the kommune sets of the 2019,
2020–2023 and 2024– structures, csdata's kommune history for the years before 2019, the
recoding tables between structures and 1 January population 2024–2026 (SSB table 07459).

>>> geo = load_geography()
>>> "0301" in geo.kommuner_valid_in(2018), "1507" in geo.kommuner_valid_in(2024)
(True, False)
>>> geo.population("0301", 2025)
724290
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

import pyarrow as pa
import pyarrow.csv as pa_csv

#: The first year of each kommune structure whose full code list is in the reference data.
STRUCTURES: tuple[tuple[int, int | None, str], ...] = (
    (2019, 2019, "no_kommuner_2019.csv"),
    (2020, 2023, "no_kommuner_2020_2023.csv"),
    (2024, None, "no_kommuner_2024.csv"),
)
POPULATION_YEARS = (2024, 2025, 2026)


def _rows(name: str) -> Iterator[dict[str, str]]:
    with resources.files("helsestat.data.refdata").joinpath(name).open(encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def _columns(name: str, columns: tuple[str, ...]) -> list[list[str]]:
    """The ``columns`` of a reference file as text (a large file: read by Arrow's CSV reader,
    many times faster than :mod:`csv` row by row)."""
    with resources.files("helsestat.data.refdata").joinpath(name).open("rb") as fh:
        table = pa_csv.read_csv(
            fh,
            convert_options=pa_csv.ConvertOptions(
                include_columns=list(columns),
                column_types=dict.fromkeys(columns, pa.string()),
                strings_can_be_null=False,
            ),
        )
    return [table.column(c).to_pylist() for c in columns]


@dataclass(frozen=True)
class Kommune:
    """One kommune in one structure."""

    kommunenr: str
    navn: str
    fylkenr: str


@dataclass(frozen=True, eq=False)
class Geography:
    """Kommune sets per year, names, population and recoding to the 2024 structure."""

    by_structure: dict[int, dict[str, Kommune]]
    history: tuple[tuple[str, str, int, int | None], ...]  # kommunenr, navn, from, to
    population_2024: dict[tuple[str, int], int]
    to_2024: dict[tuple[int, str], tuple[tuple[str, float], ...]]
    #: (year, 2024 successor) -> sum of the recoding weights of the codes valid in ``year`` into it
    predecessor_weights: dict[tuple[int, str], float]

    def structure_year(self, year: int) -> int | None:
        """The first year of the structure in force in ``year`` (None before 2019)."""
        for first, last, _ in STRUCTURES:
            if year >= first and (last is None or year <= last):
                return first
        return None

    def kommuner_valid_in(self, year: int) -> frozenset[str]:
        """Kommunenummer valid at some time in ``year``.

        Before 2019 the codes come from csdata's history table (year resolution)."""
        first = self.structure_year(year)
        if first is not None:
            return frozenset(self.by_structure[first])
        return frozenset(
            k for k, _, start, end in self.history if start <= year and (end is None or year <= end)
        )

    def kommuner(self, year: int) -> dict[str, Kommune]:
        """Kommuner of the structure in force in ``year`` (2019's list before 2019)."""
        first = self.structure_year(year) or 2019
        return self.by_structure[first]

    def name(self, kommunenr: str, year: int) -> str:
        """The kommune's name in ``year``'s structure, else any known name."""
        k = self.kommuner(year).get(kommunenr)
        if k:
            return k.navn
        for code, navn, _, _ in self.history:
            if code == kommunenr:
                return navn
        return kommunenr

    def population(self, kommunenr: str, year: int) -> int | None:
        """1 January population of a 2024-structure kommune (years 2024–2026)."""
        return self.population_2024.get((kommunenr, year))

    def recode_to_2024(self, kommunenr: str, year: int) -> tuple[tuple[str, float], ...]:
        """The 2024-structure kommuner a code valid in ``year`` became, with weights."""
        return self.to_2024.get((year, kommunenr), ())

    def population_estimate(self, kommunenr: str, year: int) -> int:
        """Population of a kommune valid in ``year``: the 1 January figure where the data has
        it (2024–2026), otherwise the 2024 population of each 2024 successor shared among the
        codes that became it in proportion to their recoding weights into it (equally for a
        plain merge), so the kommuner of any year add up to the 2024 total. An approximation:
        SSB's earlier figures are not in the reference data.

        >>> geo = load_geography()
        >>> geo.population_estimate("3001", 2023) == geo.population("3101", 2024)  # Halden
        True
        >>> geo.population_estimate("1546", 2019)  # Sandøy: a fifth of Ålesund + Haram
        13573
        """
        pop_year = min(max(year, POPULATION_YEARS[0]), POPULATION_YEARS[-1])
        direct = self.population(kommunenr, pop_year) if year >= 2024 else None
        if direct is not None:
            return direct
        total = 0.0
        code_year = min(year, 2023)
        for successor, weight in self.recode_to_2024(kommunenr, code_year):
            # A share of the successor's population, not weight × population: when merged
            # kommuner were split again (Ålesund/Haram 2024) each of n predecessors has weight
            # 0.5 into each part, and dividing by the count would lose half the people.
            weights_in = self.predecessor_weights.get((code_year, successor)) or weight
            total += (self.population(successor, pop_year) or 0) * weight / weights_in
        return round(total)

    def population_if_known(self, kommunenr: str, year: int) -> int | None:
        """The population of a kommune valid in ``year`` where the reference data tell it:
        the 1 January figure (2024–2026), or, for earlier years, the 2024 population of the
        one 2024 kommune it became whole when no other kommune of that year became part of
        it. None for kommuner that merged or were split (their own population is not in the
        reference data; :meth:`population_estimate` only shares the total out).

        >>> geo = load_geography()
        >>> geo.population_if_known("3001", 2023) == geo.population("3101", 2024)  # Halden
        True
        >>> geo.population_if_known("1546", 2019) is None  # Sandøy, merged into Ålesund
        True
        """
        pop_year = min(max(year, POPULATION_YEARS[0]), POPULATION_YEARS[-1])
        if year >= 2024:
            return self.population(kommunenr, pop_year)
        code_year = min(year, 2023)
        successors = self.recode_to_2024(kommunenr, code_year)
        if len(successors) != 1:
            return None
        successor, weight = successors[0]
        if weight != 1.0 or self.predecessor_weights.get((code_year, successor), 1.0) != 1.0:
            return None
        return self.population(successor, pop_year)


@cache
def load_geography() -> Geography:
    """Read the package's reference data once per process."""
    by_structure: dict[int, dict[str, Kommune]] = {}
    for first, _, name in STRUCTURES:
        by_structure[first] = {
            r["kommunenr"]: Kommune(
                r["kommunenr"], r.get("navn_klass_noapi") or r["navn"], r["fylkenr"]
            )
            for r in _rows(name)
        }
    history = tuple(
        (
            r["kommunenr"],
            r["navn"],
            int(r["gyldig_fra_aar"]),
            int(float(r["gyldig_til_aar"])) if r["gyldig_til_aar"] else None,
        )
        for r in _rows("no_kommune_historikk_csdata.csv")
    )
    population = {
        (r["kommunenr"], y): int(r[f"folketall_{y}"])
        for r in _rows("no_kommuner_2024.csv")
        for y in POPULATION_YEARS
    }
    to_2024: dict[tuple[int, str], list[tuple[str, float]]] = defaultdict(list)
    recoding = ("aar", "kommunenr_original", "kommunenr_2024", "weighting")
    for aar, original, successor, weighting in zip(
        *_columns("no_kommune_omkoding_til_2024_per_aar.csv", recoding), strict=True
    ):
        to_2024[(int(aar), original)].append((successor, float(weighting)))
    geo = Geography(
        by_structure, history, population, {k: tuple(v) for k, v in to_2024.items()}, {}
    )
    # Only codes valid in the year share a successor: the table's 2023 rows also map the
    # 2024 codes to themselves, which would otherwise take a share of the population.
    predecessor_weights: dict[tuple[int, str], float] = defaultdict(float)
    valid: dict[int, frozenset[str]] = {}
    for (year, code), targets in to_2024.items():
        if year not in valid:
            valid[year] = geo.kommuner_valid_in(year)
        if code in valid[year]:
            for successor, weight in targets:
                predecessor_weights[(year, successor)] += weight
    return replace(geo, predecessor_weights=dict(predecessor_weights))
