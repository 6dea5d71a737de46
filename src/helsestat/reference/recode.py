"""Recode kommune and fylke codes across the 2020 and 2024 reforms, so that a time series that
crosses a reform can be shown in one structure.

A code valid at one date is carried to the structure valid at another through the change
tables of KLASS 131 (kommuner): forwards along merges (weight 1) and splits (the table's
weights), backwards by inverting them — a merged code goes back to its parts in proportion to
their population (SSB 07459 via :func:`~helsestat.reference.geography.Geography.
population_estimate`). A fylke goes through its kommuner, weighted by population. Kommune
codes from before 2019 go to 2024 through csdata's per-year table first. Every value that was
moved is flagged ``recoded``.

Going back through a merge that was later undone (Ålesund 2020–2023) shares the value among
all the merged parts: the data has no finer split.

Everything is read from the :class:`~helsestat.reference.snapshot.Reference` passed in (the
reference database's classifications and geography).

>>> from helsestat.reference.seed import packaged_reference
>>> ref = packaged_reference()
>>> [(r.code, r.weight) for r in recode("1507", "kommune", date(2023, 5, 1), date(2025, 1, 1),
...                                     ref)]
[('1508', 0.5), ('1580', 0.5)]
>>> cells = recode_values({("0219", 2019): 100.0, ("3024", 2020): 110.0}, "kommune",
...                       date(2024, 1, 1), ref)
>>> cells[("3201", 2019)]
RecodedCell(value=100.0, recoded=True)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from helsestat.errors import QueryError, ReferenceError_
from helsestat.reference.classifications import MapItem, Registry, Version
from helsestat.reference.geography import Geography
from helsestat.reference.snapshot import Reference

Level = Literal["kommune", "fylke"]
CLASSIFICATION: dict[str, int] = {"kommune": 131, "fylke": 104}
FIRST_STRUCTURE = date(2019, 1, 1)


@dataclass(frozen=True)
class Recoded:
    """A target code and the share of the source code's value it receives."""

    code: str
    weight: float


@dataclass(frozen=True)
class RecodedCell:
    """A value in the target structure; ``recoded`` when any part of it was moved."""

    value: float
    recoded: bool


def _classification(level: str) -> int:
    if level not in CLASSIFICATION:
        raise QueryError(
            "query.invalid_level",
            f"level {level!r} cannot be recoded",
            hint="recode 'kommune' (KLASS 131) or 'fylke' (KLASS 104)",
        )
    return CLASSIFICATION[level]


def _table(reg: Registry, before: Version, after: Version) -> tuple[MapItem, ...]:
    for t in reg.correspondences.values():
        if t.source_version == before.id and t.target_version == after.id:
            return t.maps
    raise ReferenceError_(
        "reference.missing_correspondence",
        f"no change table from {before.name} to {after.name}",
        hint="load the change table between consecutive versions (helsestat reference load)",
    )


def _population(geo: Geography, level: str, code: str, version: Version) -> float:
    year = version.valid_from.year
    if level == "kommune":
        return float(max(geo.population_estimate(code, year), 0))
    return float(
        sum(max(geo.population_estimate(k, year), 0) for k in geo.kommuner(year) if k[:2] == code)
    )


def _step(
    ref: Reference,
    level: str,
    shares: dict[str, float],
    before: Version,
    after: Version,
    backwards: bool,
) -> dict[str, float]:
    reg = ref.registry
    maps = _table(reg, after, before) if backwards else _table(reg, before, after)
    out: dict[str, float] = defaultdict(float)
    if not backwards:
        for code, share in shares.items():
            for m in maps:
                if m.source_code == code:
                    out[m.target_code] += share * m.weight
        return dict(out)
    # Backwards: the value of a (newer) code goes to the older codes that flowed into it, in
    # proportion to what each contributed (its population times its forward weight).
    for code, share in shares.items():
        parts = [
            (m.source_code, m.weight * _population(ref.geography, level, m.source_code, after))
            for m in maps
            if m.target_code == code
        ]
        total = sum(w for _, w in parts)
        for old, w in parts:
            out[old] += share * (w / total if total else 1 / len(parts))
    return dict(out)


def recode(code: str, level: str, at: date, to: date, reference: Reference) -> list[Recoded]:
    """The codes valid on ``to`` that ``code`` (valid on ``at``) corresponds to, with the
    share of its value each receives. ``ReferenceError_`` for a code not valid on ``at``."""
    reg = reference.registry
    cid = _classification(level)
    target = reg.version_at(cid, to)
    if level == "fylke":
        return _recode_fylke(reference, code, at, to)
    if at < FIRST_STRUCTURE and level == "kommune":
        moved = reference.geography.recode_to_2024(code, at.year)
        if not moved:
            raise ReferenceError_(
                "reference.unknown_code",
                f"kommune {code!r} is not a kommune code in {at.year}",
                hint="before 2019 the codes of csdata's per-year table apply",
            )
        shares = {c: w for c, w in moved}
        source = reg.version_at(cid, date(2024, 1, 1))
    else:
        source = reg.version_at(cid, at)
        if code not in source.by_code:
            raise ReferenceError_(
                "reference.unknown_code",
                f"{level} {code!r} is not a code of {source.name} (valid on {at})",
                hint=f"GET /api/klass/v1/classifications/{cid}/codesAt?date={at} lists them",
            )
        shares = {code: 1.0}
    versions = list(reg.classification(cid).versions)
    i, j = versions.index(source), versions.index(target)
    step = 1 if j >= i else -1
    for k in range(i, j, step):
        shares = _step(reference, level, shares, versions[k], versions[k + step], step < 0)
    return [Recoded(c, round(w, 9)) for c, w in sorted(shares.items()) if w > 0]


def _recode_fylke(ref: Reference, code: str, at: date, to: date) -> list[Recoded]:
    """A fylke through its kommuner (kommune codes begin with their fylke's code): each
    kommune's population share is recoded, then summed by the fylke of the target kommune.
    Going through kommuner keeps 2024's split of Viken apart from 2019's parts of it."""
    reg = ref.registry
    source = reg.version_at(104, at)
    if code not in source.by_code:
        raise ReferenceError_(
            "reference.unknown_code",
            f"fylke {code!r} is not a code of {source.name} (valid on {at})",
            hint=f"GET /api/klass/v1/classifications/104/codesAt?date={at} lists them",
        )
    kommuner = [k for k in reg.version_at(131, at).by_code if k[:2] == code]
    version = reg.version_at(131, at)
    pops = {k: max(_population(ref.geography, "kommune", k, version), 1.0) for k in kommuner}
    total = sum(pops.values())
    shares: dict[str, float] = defaultdict(float)
    for k in kommuner:
        for r in recode(k, "kommune", at, to, ref):
            shares[r.code[:2]] += pops[k] / total * r.weight
    target = reg.version_at(104, to).by_code
    return [Recoded(c, round(w, 9)) for c, w in sorted(shares.items()) if w > 0 and c in target]


def recode_values(
    values: Mapping[tuple[str, int], float],
    level: str,
    to: date,
    reference: Reference,
) -> dict[tuple[str, int], RecodedCell]:
    """A series keyed by (code, year) — each code as valid in that year — in the structure
    valid on ``to``; values of split codes are shared by weight, merged ones summed. A cell
    is flagged ``recoded`` when any part of its value came from another code."""
    out: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (code, year), value in values.items():
        for r in recode(code, level, date(year, 7, 1), to, reference):
            cell = out[(r.code, year)]
            cell[0] += value * r.weight
            if r.code != code or r.weight != 1.0:
                cell[1] = 1.0
    return {key: RecodedCell(round(v, 6), bool(flag)) for key, (v, flag) in sorted(out.items())}


__all__ = ["CLASSIFICATION", "Recoded", "RecodedCell", "recode", "recode_values"]
