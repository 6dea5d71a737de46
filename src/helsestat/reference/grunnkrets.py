"""Kommune structures 2015 onward, the 1 January population of every kommune in the structure
of its year, and a SYNTHETIC register of grunnkretser: the finest units the catchment areas
(opptaksområder, KLASS 629–632) and their population are built from.

Structures (:data:`STRUCTURES`): 2015–2016 (428 kommuner), 2017 (426), 2018 and 2019 (422 each;
Rindal moved to Trøndelag in 2019), 2020–2023 (356) and 2024– (357), from csdata's recoding
table (S1 in ``data/refdata/PROVENANCE.md``).

Population (:func:`kommune_population`): the real figures of ``data/refdata`` (SSB table 07459:
2015–2020 and 2024–2026) where they are there; every other figure — the Vestfold kommuner
the source lacks for 2015–2017 and every kommune 2021–2023 — is the reference data's
documented estimate (E1, E2), the same the population rule reads, marked ``estimated``.

Grunnkretser (:func:`grunnkrets_register`): SYNTHETIC. Statistics Norway's grunnkrets
boundaries and population are not in the reference data, so helsestat makes a register of
about 14,000 units with the shape of the real one: every 2024 kommune gets about one
grunnkrets per 400 inhabitants (two at least), coded ``<2024 kommunenr><4 digits>``. Each
unit lies in one kommune of every structure (a kommune that was split — Tysfjord and
Snillfjord in 2020, Ålesund in 2024 — has units on both sides), and in the four cities with
bydeler (Oslo, Bergen, Stavanger, Trondheim) in one bydel. The codes stay the same in every
year; they are not SSB's codes.

>>> reg = grunnkrets_register()
>>> 13_000 < len(reg.units) < 15_000
True
>>> unit = reg.units[0]
>>> unit.code[:4] == unit.kommune[2024]
True
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from helsestat.errors import ReferenceError_
from helsestat.reference.refdata import refdata_rows

#: (first year, last year or None) of each kommune structure
STRUCTURES: tuple[tuple[int, int | None], ...] = (
    (2015, 2016),
    (2017, 2017),
    (2018, 2018),
    (2019, 2019),
    (2020, 2023),
    (2024, None),
)
#: Inhabitants per synthetic grunnkrets (Norway: about 5.5 million in about 14,000 kretser).
PER_UNIT = 400

#: The cities whose catchment areas are drawn by bydel: their kommunenr per first structure
#: year (Bergen 1201 → 4601 in 2020, Trondheim 1601 → 5001 in 2018).
CITIES: Mapping[str, Mapping[int, str]] = {
    "0301": {2015: "0301"},
    "4601": {2015: "1201", 2020: "4601"},
    "1103": {2015: "1103"},
    "5001": {2015: "1601", 2018: "5001"},
}
#: Kommuner merged into a city whose units lie in one bydel: Finnøy and Rennesøy joined
#: Stavanger in 2020 as bydeler of their own names (SKDE's tables, S5); Klæbu joined
#: Trondheim in 2020 and its units are put in Heimdal (helsestat's assumption: the bydel it
#: borders).
MERGED_BYDEL: Mapping[str, str] = {"1141": "08", "1142": "09", "1662": "04"}
#: Bydeler that are wholly a merged kommune (no unit of the city itself lies there).
ONLY_MERGED: Mapping[str, frozenset[str]] = {"1103": frozenset({"08", "09"})}


def structure_of(year: int) -> int:
    """The first year of the kommune structure in force in ``year`` (from 2015).

    >>> structure_of(2016), structure_of(2022), structure_of(2025)
    (2015, 2020, 2024)
    """
    found = [first for first, _ in STRUCTURES if first <= year]
    if not found:
        raise ValueError(f"no kommune structure before {STRUCTURES[0][0]}: {year}")
    return found[-1]


@cache
def recoding() -> dict[int, dict[str, tuple[tuple[str, float], ...]]]:
    """First year of each structure → kommunenr valid then → the 2024 kommuner it became,
    with csdata's weights (S1)."""
    firsts = {first for first, _ in STRUCTURES}
    out: dict[int, dict[str, list[tuple[str, float]]]] = {y: defaultdict(list) for y in firsts}
    for r in refdata_rows("no_kommune_omkoding_til_2024_per_aar.csv"):
        year = int(r["aar"])
        if year in firsts:
            out[year][r["kommunenr_original"]].append((r["kommunenr_2024"], float(r["weighting"])))
    # The 2023 rows also hold the 2024 codes; the 2020 rows are exactly the 356 of 2020–2023.
    return {y: {k: tuple(v) for k, v in codes.items()} for y, codes in out.items()}


@cache
def kommune_names() -> dict[tuple[str, int], str]:
    """(kommunenr, first structure year) → name (csdata's history, S1; KLASS forms for 2024)."""
    names: dict[tuple[str, int], str] = {}
    for r in refdata_rows("no_kommune_historikk_csdata.csv"):
        start = int(r["gyldig_fra_aar"])
        end = int(float(r["gyldig_til_aar"])) if r["gyldig_til_aar"] else 9999
        for first, _ in STRUCTURES:
            if start <= first <= end:
                names[(r["kommunenr"], first)] = r["navn"]
    for r in refdata_rows("no_kommuner_2024.csv"):
        name = r["navn_klass_noapi"]
        names[(r["kommunenr"], 2024)] = r["navn"] if not name or "?" in name else name
    return names


@dataclass(frozen=True)
class Population:
    """1 January population of the kommuner of one year, in the structure of that year:
    ``figures`` kommunenr → inhabitants, ``estimated`` the codes whose figure is estimated."""

    year: int
    figures: Mapping[str, int]
    estimated: frozenset[str]


@cache
def _real_population() -> dict[tuple[str, int], int]:
    out = {
        (r["kommunenr"], int(r["ar"])): int(r["folkemengde"])
        for r in refdata_rows("no_befolkning_kommune_2015_2023.csv")
    }
    for r in refdata_rows("no_kommuner_2024.csv"):
        for year in (2024, 2025, 2026):
            out[(r["kommunenr"], year)] = int(r[f"folketall_{year}"])
    return out


@cache
def _estimates() -> dict[tuple[str, int], int]:
    """The reference data's documented estimates (E1, E2 in PROVENANCE.md; made by
    :mod:`helsestat.reference.population_history`) of the figures SSB's source lacks."""
    return {
        (r["kommunenr"], int(r["ar"])): int(r["folkemengde"])
        for r in refdata_rows("no_befolkning_kommune_estimat.csv")
    }


@cache
def kommune_population(year: int) -> Population:
    """The population of every kommune of ``year``'s structure: real where the reference data
    has the figure (SSB 07459), else the reference data's documented estimate (the same
    figures the population rule of every statistic reads); a year after the last figure has
    the last figures. A kommune with neither stops here, naming it.

    >>> p = kommune_population(2019)
    >>> p.figures["0301"], len(p.figures), len(p.estimated)
    (681071, 422, 0)
    >>> sorted(kommune_population(2016).estimated)[:2]
    ['0702', '0706']
    """
    first = structure_of(year)
    codes = recoding()[first]
    real = _real_population()
    last_real = max(y for _, y in real)
    if year > last_real:
        return Population(year, kommune_population(last_real).figures, frozenset())
    estimates = _estimates()
    figures: dict[str, int] = {}
    estimated: set[str] = set()
    for code in codes:
        if (code, year) in real:
            figures[code] = real[(code, year)]
        elif (code, year) in estimates:
            figures[code] = estimates[(code, year)]
            estimated.add(code)
    missing = sorted(set(codes) - set(figures))
    if missing:
        raise ReferenceError_(
            "reference.population_missing",
            f"no population figure or estimate for {len(missing)} kommune(r) of {year}: "
            + ", ".join(missing[:20]),
            hint="add the figures to data/refdata (no_befolkning_kommune_*.csv) or run "
            "python -m helsestat.reference.population_history to remake the estimates",
        )
    return Population(year, figures, frozenset(estimated))


@cache
def _history() -> dict[str, list[tuple[int, int | None, str, float]]]:
    out: dict[str, list[tuple[int, int | None, str, float]]] = defaultdict(list)
    for r in refdata_rows("no_kommune_historikk_csdata.csv"):
        end = int(float(r["gyldig_til_aar"])) if r["gyldig_til_aar"] else None
        out[r["kommunenr"]].append(
            (int(r["gyldig_fra_aar"]), end, r["kommunenr_etterfolger"], float(r["vekt"] or 1))
        )
    return out


def _follow(code: str, start: int, year: int, target_2024: str) -> str:
    """The kommune that ``code`` (valid in ``start``) became by ``year``, on the way to the
    2024 kommune ``target_2024`` (a split kommune has several successors)."""
    current, cursor = code, start
    while True:
        rows = [
            r for r in _history()[current] if r[0] <= cursor and (r[1] is None or cursor <= r[1])
        ]
        if not rows or rows[0][1] is None or rows[0][1] >= year:
            return current
        end = rows[0][1]
        successors = [r[2] for r in rows]
        nxt = structure_of(end + 1) if end + 1 >= STRUCTURES[0][0] else end + 1
        if len(successors) > 1:
            reaching = [
                s for s in successors if target_2024 in {t for t, _ in recoding()[nxt].get(s, ())}
            ]
            successors = reaching or successors
        current, cursor = successors[0], end + 1


@dataclass(frozen=True)
class Grunnkrets:
    """One SYNTHETIC grunnkrets: its permanent code, the kommune it lies in per structure
    (first year → kommunenr) and its bydel (two digits, in a city of :data:`CITIES`)."""

    code: str
    kommune: Mapping[int, str]
    bydel: str = ""

    def kommune_in(self, year: int) -> str:
        """The kommune the unit lies in in ``year``."""
        return self.kommune[structure_of(year)]

    def bydel_in(self, year: int) -> str:
        """The unit's bydel code in ``year`` (the city's kommunenr then + two digits), or ''.

        >>> g = Grunnkrets("46010001", {2019: "1201", 2020: "4601", 2024: "4601"}, "03")
        >>> g.bydel_in(2019), g.bydel_in(2024)
        ('120103', '460103')
        """
        if not self.bydel:
            return ""
        city = self.code[:4]
        first = structure_of(year)
        here = [code for y, code in CITIES[city].items() if y <= first][-1]
        return here + self.bydel if self.kommune[first] == here else ""


@dataclass(frozen=True)
class GrunnkretsRegister:
    """The SYNTHETIC grunnkretser, ordered by code."""

    units: tuple[Grunnkrets, ...]

    @property
    def synthetic(self) -> bool:
        """Always True: the register is made by helsestat."""
        return True


def _city_bydeler() -> dict[str, list[str]]:
    """2024 city kommunenr → the two-digit bydeler SKDE's tables name (without 99 'uoppgitt',
    which has no place)."""
    out: dict[str, set[str]] = defaultdict(set)
    for name in (
        "no_opptaksomrader_skde_somatikk_koder2020.csv",
        "no_dps_omrader_skde_koder2024.csv",
    ):
        for r in refdata_rows(name):
            if r["nivaa"] == "bydel" and not r["kode"].endswith("99"):
                out[r["kode"][:4]].add(r["kode"][4:])
    return {city: sorted(b) for city, b in out.items()}


def _shares(total: int, weights: list[float]) -> list[int]:
    """``total`` split by ``weights`` (largest remainder), at least one each."""
    n = len(weights)
    rest = total - n
    s = sum(weights) or 1.0
    raw = [rest * w / s for w in weights]
    base = [int(x) for x in raw]
    order = sorted(range(n), key=lambda i: raw[i] - base[i], reverse=True)
    for i in order[: rest - sum(base)]:
        base[i] += 1
    return [b + 1 for b in base]


@cache
def grunnkrets_register() -> GrunnkretsRegister:
    """The SYNTHETIC grunnkrets register (deterministic: the same on every run)."""
    pop2024 = kommune_population(2024).figures
    first_structure = STRUCTURES[0][0]
    pop_first = kommune_population(first_structure).figures
    predecessors: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for code, targets in sorted(recoding()[first_structure].items()):
        for target, weight in targets:
            predecessors[target].append((code, weight * max(pop_first.get(code, 1), 1)))
    bydeler = _city_bydeler()
    units: list[Grunnkrets] = []
    for kommune in sorted(pop2024):
        preds = predecessors[kommune]
        n = max(2, round(pop2024[kommune] / PER_UNIT), len(preds))
        counts = _shares(n, [w for _, w in preds])
        index = 0
        only = ONLY_MERGED.get(kommune, frozenset())
        own = [b for b in bydeler.get(kommune, []) if b not in only]
        for (pred, _), count in zip(preds, counts, strict=True):
            for i in range(count):
                index += 1
                code = f"{kommune}{index:04d}"
                path = {
                    first: _follow(pred, first_structure, first, kommune) for first, _ in STRUCTURES
                }
                bydel = ""
                if kommune in bydeler:
                    bydel = MERGED_BYDEL.get(pred) or own[i % len(own)]
                units.append(Grunnkrets(code, path, bydel))
    return GrunnkretsRegister(tuple(units))


__all__ = [
    "CITIES",
    "STRUCTURES",
    "Grunnkrets",
    "GrunnkretsRegister",
    "Population",
    "grunnkrets_register",
    "kommune_names",
    "kommune_population",
    "recoding",
    "structure_of",
]
