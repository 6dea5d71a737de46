"""Population per catchment area (opptaksområde) per year by kjønn and single year of age —
the shape of SSB's table 13982 — for the four services of KLASS 629–632, computed from the
population of the finest units the areas are drawn on (grunnkretser).

Every unit lies in exactly one area per service and year (the area tables of
:mod:`helsestat.reference.klass_catchment`, in the kommune structure of the year): a unit in
no area or in two stops the computation with the list of codes (``reference.catchment_gap``
/ ``reference.catchment_overlap``), so nothing is published with a person lost or counted
twice.

Services (:data:`SERVICES`): ``SOM`` (somatikk, 629), ``BUP`` (0–17) and ``VOP`` (18+) of
psykisk helsevern (630) and ``PHV``, their sum per HF and RHF; ``TSB`` (631, derived) and
``DPS`` (632). Levels: ``RHF`` → ``HF`` → ``OMRADE``; ``LANDET`` is the whole country.

>>> import numpy as np
>>> from helsestat.reference.grunnkrets import grunnkrets_register
>>> reg = grunnkrets_register()
>>> counts = np.ones((1, len(reg.units), 2, AGES), np.int32)
>>> result = area_population(GrunnkretsPopulation((2024,), reg, counts))
>>> int(result.cells("SOM", 2024, "LANDET").sum()) == len(reg.units) * 2 * AGES
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from helsestat.errors import ReferenceError_
from helsestat.reference.grunnkrets import GrunnkretsRegister, structure_of
from helsestat.reference.klass_catchment import AreaTable, area_table

if TYPE_CHECKING:
    from scipy import sparse

#: Single years of age 0–104 and 105+ (the last column).
AGES = 106
#: BUP serves ages 0–17, VOP 18 and over.
ADULT = 18
SERVICES: tuple[str, ...] = ("SOM", "PHV", "BUP", "VOP", "TSB", "DPS")
#: service → the area table it is computed from (PHV: from BUP and VOP)
TABLE_OF: Mapping[str, str] = {
    "SOM": "som",
    "BUP": "bup",
    "VOP": "vop",
    "TSB": "tsb",
    "DPS": "dps",
}
LEVELS: tuple[str, ...] = ("LANDET", "RHF", "HF", "OMRADE")


@dataclass(frozen=True, eq=False)
class GrunnkretsPopulation:
    """Inhabitants on 1 January per year, grunnkrets, kjønn (0 = menn, 1 = kvinner) and
    single year of age: ``counts[year index, unit index, kjønn, alder]`` over the units of
    ``register`` (SYNTHETIC in helsestat: :mod:`helsestat.synth.catchment`)."""

    years: tuple[int, ...]
    register: GrunnkretsRegister
    counts: np.ndarray
    synthetic: bool = True


@dataclass(frozen=True, eq=False)
class AreaPopulation:
    """Population per service, year, level and region: ``values[(service, year, level)]`` is
    an array (regions × 2 × AGES) in the order of ``codes[(service, year, level)]``;
    ``parents`` maps a region to the region above it (area → HF → RHF); ``names`` (service,
    area code) → the area's name (area codes are per list)."""

    values: Mapping[tuple[str, int, str], np.ndarray]
    codes: Mapping[tuple[str, int, str], tuple[str, ...]]
    parents: Mapping[tuple[str, int], Mapping[str, str]]
    names: Mapping[tuple[str, str], str]

    def cells(self, service: str, year: int, level: str) -> np.ndarray:
        """The array of one service, year and level (regions × kjønn × alder)."""
        return self.values[(service, year, level)]


@dataclass(frozen=True, eq=False)
class Assignment:
    """The area index of every unit of a register for one area table (``areas`` in order)."""

    areas: tuple[str, ...]
    index: np.ndarray
    hf: Mapping[str, str]
    rhf: Mapping[str, str]
    names: Mapping[str, str]

    @cached_property
    def matrix(self) -> sparse.csr_matrix:
        """Areas × units, 1 where the unit lies in the area: the sums are one product."""
        from scipy import sparse  # here: a process that never sums does not pay its import

        n = len(self.index)
        ones = np.ones(n, np.int64)
        return sparse.csr_matrix((ones, (self.index, np.arange(n))), shape=(len(self.areas), n))


def assign(table: AreaTable, register: GrunnkretsRegister, year: int) -> Assignment:
    """Every unit's area in ``table`` in ``year``; an error naming the units in no area or in
    two, or the areas without an HF or RHF.

    >>> from helsestat.reference.grunnkrets import grunnkrets_register
    >>> a = assign(area_table("dps", 2024), grunnkrets_register(), 2024)
    >>> len(a.areas), int(a.index.min()) >= 0
    (69, True)
    """
    where = f"{table.service} areas in {year}"
    orphans = [f"{a.code} ({a.name})" for a in table.areas if not a.hf or not a.rhf]
    if orphans:
        raise ReferenceError_(
            "reference.catchment_no_hf",
            f"{where}: {len(orphans)} area(s) have no HF or RHF: {_listed(orphans)}",
            hint="place each area under its HF and that HF under its RHF in the service's "
            "KLASS list (629-632) for the year; nothing was published",
        )
    codes = tuple(a.code for a in table.areas)
    position = {c: i for i, c in enumerate(codes)}
    index = np.empty(len(register.units), np.int32)
    gaps: list[str] = []
    overlaps: list[str] = []
    for i, u in enumerate(register.units):
        kommune, bydel = u.kommune_in(year), u.bydel_in(year)
        found = [
            a
            for a in (
                table.grunnkretser.get(u.code),
                table.bydeler.get(bydel) if bydel else None,
                table.kommuner.get(kommune),
            )
            if a
        ]
        if not found:
            gaps.append(f"{u.code} (kommune {kommune})")
        elif len(set(found)) > 1:
            overlaps.append(f"{u.code} (kommune {kommune}: areas {', '.join(sorted(set(found)))})")
        else:
            index[i] = position[found[0]]
    if gaps:
        raise ReferenceError_(
            "reference.catchment_gap",
            f"{where}: {len(gaps)} grunnkretser lie in no area: {_listed(gaps)}",
            hint="add their kommune, bydel or grunnkrets to the service's KLASS list "
            "(629-632) for the year; nothing was published",
        )
    if overlaps:
        raise ReferenceError_(
            "reference.catchment_overlap",
            f"{where}: {len(overlaps)} grunnkretser lie in two areas: {_listed(overlaps)}",
            hint="list each kommune, bydel or grunnkrets in one area of the service's KLASS "
            "list (629-632) for the year; nothing was published",
        )
    return Assignment(
        codes,
        index,
        {a.code: a.hf for a in table.areas},
        {a.code: a.rhf for a in table.areas},
        {a.code: a.name for a in table.areas},
    )


def _listed(items: Sequence[str]) -> str:
    return ", ".join(items[:20]) + (f" … ({len(items) - 20} more)" if len(items) > 20 else "")


def _sum_by(index: np.ndarray, n: int, data: np.ndarray) -> np.ndarray:
    """Rows of ``data`` summed by ``index`` (0…n-1) into n rows (int64)."""
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    starts = np.searchsorted(sorted_index, np.arange(n))
    out = np.zeros((n, *data.shape[1:]), np.int64)
    present = np.unique(sorted_index)
    if len(present):
        sums = np.add.reduceat(data[order].astype(np.int64, copy=False), starts[present], axis=0)
        out[present] = sums
    return out


def _group(keys: Sequence[str], values: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """Sum ``values`` rows by ``keys`` (sorted keys)."""
    uniq = tuple(sorted(set(keys)))
    pos = {k: i for i, k in enumerate(uniq)}
    idx = np.fromiter((pos[k] for k in keys), np.int64, len(keys))
    return uniq, _sum_by(idx, len(uniq), values)


def area_population(
    population: GrunnkretsPopulation,
    services: Sequence[str] = SERVICES,
    assignments: Mapping[tuple[str, int], Assignment] | None = None,
) -> AreaPopulation:
    """Population per service, year and level from the grunnkrets population. The area
    tables are those of the kommune structure of each year (``assignments`` overrides them:
    (table, first year of the structure) → :class:`Assignment`)."""
    register = population.register
    values: dict[tuple[str, int, str], np.ndarray] = {}
    codes: dict[tuple[str, int, str], tuple[str, ...]] = {}
    parents: dict[tuple[str, int], dict[str, str]] = {}
    names: dict[tuple[str, str], str] = {}
    age_mask = np.zeros(AGES, bool)
    age_mask[:ADULT] = True
    for y, year in enumerate(population.years):
        counts = population.counts[y].reshape(len(register.units), 2 * AGES)
        structure = structure_of(year)
        for service in services:
            parts = ("BUP", "VOP") if service == "PHV" else (service,)
            area_codes: list[str] = []
            blocks: list[np.ndarray] = []
            hf: dict[str, str] = {}
            rhf: dict[str, str] = {}
            for part in parts:
                if assignments is not None and (TABLE_OF[part], structure) in assignments:
                    a = assignments[(TABLE_OF[part], structure)]
                else:
                    a = _assignment_for(TABLE_OF[part], structure, register)
                sums = np.asarray(a.matrix @ counts).reshape(len(a.areas), 2, AGES)
                if part == "BUP":
                    sums[:, :, ~age_mask] = 0
                elif part == "VOP":
                    sums[:, :, age_mask] = 0
                area_codes += a.areas
                blocks.append(sums)
                hf |= a.hf
                rhf |= a.rhf
                names |= {(service, code): name for code, name in a.names.items()}
            areas = np.concatenate(blocks)
            parent = {c: hf[c] for c in area_codes}
            if service != "PHV":
                values[(service, year, "OMRADE")] = areas
                codes[(service, year, "OMRADE")] = tuple(area_codes)
            hf_codes, hf_values = _group([hf[c] for c in area_codes], areas)
            hf_rhf = {hf[c]: rhf[c] for c in area_codes}
            rhf_codes, rhf_values = _group([hf_rhf[h] for h in hf_codes], hf_values)
            values[(service, year, "HF")] = hf_values
            codes[(service, year, "HF")] = hf_codes
            values[(service, year, "RHF")] = rhf_values
            codes[(service, year, "RHF")] = rhf_codes
            values[(service, year, "LANDET")] = rhf_values.sum(axis=0, keepdims=True)
            codes[(service, year, "LANDET")] = ("0",)
            parents[(service, year)] = parent | hf_rhf | dict.fromkeys(rhf_codes, "0")
    return AreaPopulation(values, codes, parents, names)


#: (table, structure, id of the register) → (the register, its assignment): the register is
#: kept so its id is not reused while the entry lives
_CACHE: dict[tuple[str, int, int], tuple[GrunnkretsRegister, Assignment]] = {}


def _assignment_for(table: str, structure: int, register: GrunnkretsRegister) -> Assignment:
    key = (table, structure, id(register))
    if key not in _CACHE:
        made = assign(area_table(table, structure, register), register, structure)
        _CACHE[key] = (register, made)
    return _CACHE[key][1]


__all__ = [
    "ADULT",
    "AGES",
    "LEVELS",
    "SERVICES",
    "AreaPopulation",
    "Assignment",
    "GrunnkretsPopulation",
    "area_population",
    "assign",
]
