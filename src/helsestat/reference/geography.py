"""Norwegian kommuner and fylker across the 2020 and 2024 reforms, with population: the model
the statistics, validation and recoding read.

In the reference database (:mod:`helsestat.reference.persist`) the kommune structures are
KLASS 131's versions (2019, 2020–2023, 2024–), and three tables hold the rest: csdata's
kommune history for the years before 2019, the per-year recoding to the 2024 structure and
1 January population 2024–2026 (SSB table 07459). The packaged files of ``data/refdata``
(see its PROVENANCE.md) seed them: :func:`packaged_geography` reads them.

>>> geo = packaged_geography()
>>> "0301" in geo.kommuner_valid_in(2018), "1507" in geo.kommuner_valid_in(2024)
(True, False)
>>> geo.population("0301", 2025)
724290
"""

from __future__ import annotations

import gc
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, cached_property
from importlib import resources

import pyarrow as pa
import pyarrow.csv as pa_csv

from helsestat.reference.classifications import Registry
from helsestat.reference.refdata import refdata_rows

#: The packaged kommune structures: first and last year, and the file with every code.
STRUCTURES: tuple[tuple[int, int | None, str], ...] = (
    (2019, 2019, "no_kommuner_2019.csv"),
    (2020, 2023, "no_kommuner_2020_2023.csv"),
    (2024, None, "no_kommuner_2024.csv"),
)
POPULATION_YEARS = (2024, 2025, 2026)
#: 1 January population per kommune before 2024, codes as valid each year: SSB's figures, and
#: the documented estimates of :mod:`helsestat.reference.population_history` for the gaps.
HISTORY_POPULATION_FILES = (
    "no_befolkning_kommune_2015_2023.csv",
    "no_befolkning_kommune_estimat.csv",
)
#: KLASS's classification of kommuner, whose versions are the structures.
KOMMUNER = 131

#: (kommunenr, navn, first year, last year or None): a row of the kommune history.
HistoryRow = tuple[str, str, int, int | None]
#: (year, kommunenr valid then, 2024 kommunenr, weight): a row of the recoding table.
RecodingRow = tuple[int, str, str, float]


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


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many small objects that are not garbage are
    made (a reference snapshot, the recoding index): the full collections their creation
    triggers, each walking every object of the process, would otherwise take most of the
    time.

    >>> with collector_paused():
    ...     rows = [(i, str(i)) for i in range(1000)]
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass(frozen=True)
class Kommune:
    """One kommune in one structure."""

    kommunenr: str
    navn: str
    fylkenr: str


@dataclass(frozen=True, eq=False)
class Geography:
    """Kommune sets per structure, names, population and recoding to the 2024 structure.
    Build it with :meth:`of` (or :meth:`from_registry`); the recoding is indexed on first
    use (validation needs only the kommune sets)."""

    #: (first year, last year or None) of each kommune structure, oldest first
    structures: tuple[tuple[int, int | None], ...]
    by_structure: dict[int, dict[str, Kommune]]
    history: tuple[HistoryRow, ...]
    population_2024: dict[tuple[str, int], int]
    #: every row of the recoding table
    recoding: tuple[RecodingRow, ...]

    @classmethod
    def of(
        cls,
        structures: Mapping[int, tuple[int | None, Mapping[str, Kommune]]],
        history: Iterable[HistoryRow],
        population: Mapping[tuple[str, int], int],
        recoding: Iterable[RecodingRow],
    ) -> Geography:
        """A geography of the structures (first year → last year, kommuner), the kommune
        history, the population per (kommune, year) and the recoding rows.

        >>> oslo = {"0301": Kommune("0301", "Oslo", "03")}
        >>> geo = Geography.of({2024: (None, oslo)}, [], {("0301", 2024): 717710},
        ...                    [(2023, "0301", "0301", 1.0)])
        >>> geo.population_estimate("0301", 2023)
        717710
        """
        firsts = sorted(structures)
        return cls(
            tuple((first, structures[first][0]) for first in firsts),
            {first: dict(structures[first][1]) for first in firsts},
            tuple(dict.fromkeys(history)),
            dict(population),
            tuple(recoding),
        )

    @cached_property
    def to_2024(self) -> dict[tuple[int, str], tuple[tuple[str, float], ...]]:
        """(year, code valid then) → the 2024 kommuner it became, with weights."""
        out: dict[tuple[int, str], list[tuple[str, float]]] = defaultdict(list)
        with collector_paused():
            for year, original, successor, weight in self.recoding:
                out[(year, original)].append((successor, weight))
            return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def predecessor_weights(self) -> dict[tuple[int, str], float]:
        """(year, 2024 successor) → the sum of the recoding weights of the codes valid in
        ``year`` into it."""
        # Only codes valid in the year share a successor: the table's 2023 rows also map the
        # 2024 codes to themselves, which would otherwise take a share of the population.
        weights: dict[tuple[int, str], float] = defaultdict(float)
        valid: dict[int, frozenset[str]] = {}
        for year, code, successor, weight in self.recoding:
            if year not in valid:
                valid[year] = self.kommuner_valid_in(year)
            if code in valid[year]:
                weights[(year, successor)] += weight
        return dict(weights)

    @classmethod
    def from_registry(
        cls,
        registry: Registry,
        history: Iterable[HistoryRow],
        population: Mapping[tuple[str, int], int],
        recoding: Iterable[RecodingRow],
    ) -> Geography:
        """A geography whose structures are the versions of KLASS 131 in ``registry`` (a
        version from 1 January of one year to 1 January of another; fylke = the code's first
        two digits), with the other parts as in :meth:`of`."""
        structures: dict[int, tuple[int | None, dict[str, Kommune]]] = {}
        if KOMMUNER in registry.classifications:
            for v in registry.classification(KOMMUNER).versions:
                last = (v.valid_to - timedelta(days=1)).year if v.valid_to else None
                kommuner = {c.code: Kommune(c.code, c.name, c.code[:2]) for c in v.codes}
                structures[v.valid_from.year] = (last, kommuner)
        return cls.of(structures, history, population, recoding)

    @cached_property
    def digest(self) -> str:
        """A checksum of everything the geography answers from: what a cached result that
        read it (e.g. a protected piece under the population rule) is keyed on."""
        h = hashlib.sha256()
        for first, last in self.structures:
            h.update(f"{first}/{last}:{sorted(self.by_structure[first].items())!r}".encode())
        h.update(repr(sorted(self.history, key=repr)).encode())
        h.update(repr(sorted(self.population_2024.items())).encode())
        rows = sorted(self.recoding)
        h.update("\n".join(f"{y} {k} {s} {w!r}" for y, k, s, w in rows).encode())
        return h.hexdigest()

    @cached_property
    def population_years(self) -> tuple[int, int]:
        """The first and last year with a population figure (:data:`POPULATION_YEARS` when
        there is none)."""
        # Figures before 2024 are in the codes of their own year, not the 2024 structure.
        years = {y for _, y in self.population_2024 if y >= POPULATION_YEARS[0]}
        years = years or set(POPULATION_YEARS)
        return min(years), max(years)

    def structure_year(self, year: int) -> int | None:
        """The first year of the structure in force in ``year`` (None before 2019)."""
        for first, last in self.structures:
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
        first = self.structure_year(year)
        if first is None:
            first = self.structures[0][0] if self.structures else None
        return self.by_structure.get(first, {}) if first is not None else {}

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
        """1 January population of a kommune valid in ``year`` (2024–2026: the 2024
        structure; 2015–2023: the codes of that year, real or estimated, see
        :mod:`helsestat.reference.population_history`)."""
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

        >>> geo = packaged_geography()
        >>> geo.population_estimate("3001", 2023) == geo.population("3101", 2024)  # Halden
        True
        >>> geo.population_estimate("1546", 2019)  # Sandøy: a fifth of Ålesund + Haram
        13573
        """
        pop_year = min(max(year, self.population_years[0]), self.population_years[1])
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
        its own 1 January figure for the year (2015–2026, see :meth:`population`); else, for
        earlier years, the 2024 population of the one 2024 kommune it became whole when no
        other kommune of that year became part of it. None for a kommune without a figure
        that merged or was split (:meth:`population_estimate` only shares the total out).

        >>> geo = packaged_geography()
        >>> geo.population_if_known("1546", 2019)  # Sandøy, merged into Ålesund in 2020
        1238
        >>> geo.population_if_known("1546", 2012) is None  # before the figures start
        True
        """
        own = self.population(kommunenr, year)
        if own is not None:
            return own
        pop_year = min(max(year, self.population_years[0]), self.population_years[1])
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
def packaged_geography() -> Geography:
    """The geography of the packaged files, read once per process. They seed the reference
    database; everything that serves, checks or computes data reads the database's
    (:class:`~helsestat.reference.snapshot.Reference`)."""
    structures = {
        first: (
            last,
            {
                r["kommunenr"]: Kommune(
                    r["kommunenr"], r.get("navn_klass_noapi") or r["navn"], r["fylkenr"]
                )
                for r in refdata_rows(name)
            },
        )
        for first, last, name in STRUCTURES
    }
    history = [
        (
            r["kommunenr"],
            r["navn"],
            int(r["gyldig_fra_aar"]),
            int(float(r["gyldig_til_aar"])) if r["gyldig_til_aar"] else None,
        )
        for r in refdata_rows("no_kommune_historikk_csdata.csv")
    ]
    population = {
        (r["kommunenr"], y): int(r[f"folketall_{y}"])
        for r in refdata_rows("no_kommuner_2024.csv")
        for y in POPULATION_YEARS
    }
    for name in HISTORY_POPULATION_FILES:
        population |= {
            (r["kommunenr"], int(r["ar"])): int(r["folkemengde"]) for r in refdata_rows(name)
        }
    columns = ("aar", "kommunenr_original", "kommunenr_2024", "weighting")
    recoding = [
        (int(aar), original, successor, float(weighting))
        for aar, original, successor, weighting in zip(
            *_columns("no_kommune_omkoding_til_2024_per_aar.csv", columns), strict=True
        )
    ]
    return Geography.of(structures, history, population, recoding)


__all__ = [
    "HISTORY_POPULATION_FILES",
    "KOMMUNER",
    "POPULATION_YEARS",
    "Geography",
    "HistoryRow",
    "Kommune",
    "RecodingRow",
    "collector_paused",
    "packaged_geography",
]
