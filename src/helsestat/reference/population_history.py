"""Population per kommune on 1 January for the years SSB's figures are not in the reference
data, estimated by documented rules (``data/refdata/no_befolkning_kommune_estimat.csv``).

The real figures (SSB table 07459) are in ``no_befolkning_kommune_2015_2023.csv`` (2015–2020,
codes as valid each year) and ``no_kommuner_2024.csv`` (2024–2026). Two gaps remain, and
this module fills them:

* **E1, Vestfold 2015–2017.** The public copy of 07459 lacks nine (2015–2016) and six (2017)
  Vestfold codes. Each merger group's total is exact: SSB's figure for the 2020 kommune it
  became (S18, 2020 borders) less the members that are in the copy. The total is split among
  the group's members in proportion to their populations on 1 January 2003 (SSB's quarterly
  population table for Vestfold, S19), the last year all of them were published together in
  the sources found. The group totals, and so the Vestfold and national totals, stay exact.
* **E2, 2021–2023.** No public copy of 07459 per kommune was found. Each kommune of the
  2020–2023 structure is interpolated linearly between its real 1 January 2020 figure and the
  real 2024 figure of what it became (1507 Ålesund: 1508 Ålesund + 1580 Haram). A kommune
  over 10 000 in both 2020 and 2024 is therefore over 10 000 in every estimated year.

``python -m helsestat.reference.population_history`` rewrites the file; a test checks that
the shipped file equals :func:`estimate_rows`.

>>> rows = estimate_rows()
>>> sorted({r.method for r in rows}), len({r.kommunenr for r in rows if r.year == 2022})
(['E1', 'E2'], 356)
"""

from __future__ import annotations

import csv
import io
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from helsestat.reference.refdata import refdata_rows

FILE = "no_befolkning_kommune_estimat.csv"

#: SSB 07459 in 2020 borders (S18: eirikgr/FHItest 26975.csv), 1 January 2015, 2016, 2017.
_GROUP_2020 = {
    "3802": (22924, 23201, 23533),  # Holmestrand = 0702 Holmestrand + 0714 Hof + 0713 Sande
    "3804": (62647, 63414, 62019),  # Sandefjord = 0706 + 0719 Andebu + 0720 Stokke (0710 2017-)
    "3805": (45969, 46341, 46557),  # Larvik = 0709 Larvik + 0728 Lardal
    "3811": (26445, 26592, 26676),  # Færder = 0722 Nøtterøy + 0723 Tjøme
}
#: The members missing from the 07459 copy, per 2020 kommune and year (S17's gap), and the
#: members present in the copy whose figures are subtracted from the group's total.
_MISSING: dict[str, dict[int, tuple[str, ...]]] = {
    "3802": {2015: ("0702", "0714"), 2016: ("0702", "0714"), 2017: ("0702", "0714")},
    "3804": {2015: ("0706", "0719", "0720"), 2016: ("0706", "0719", "0720")},
    "3805": {y: ("0709", "0728") for y in (2015, 2016, 2017)},
    "3811": {y: ("0722", "0723") for y in (2015, 2016, 2017)},
}
_PRESENT: dict[str, tuple[str, ...]] = {"3802": ("0713",)}
#: SSB, "Population per 1 January 2003 … Vestfold" (S19): the split weights of E1.
_SHARES_2003 = {
    "0702": 9486,
    "0714": 3040,
    "0706": 40704,
    "0719": 4893,
    "0720": 9971,
    "0709": 40852,
    "0728": 2405,
    "0722": 19923,
    "0723": 4539,
}


@dataclass(frozen=True)
class Estimate:
    """One estimated 1 January population: kommune (code valid that year), year, persons, and
    the rule that made it (``E1``/``E2``, see the module)."""

    kommunenr: str
    year: int
    population: int
    method: str


def _split(total: int, weights: dict[str, int]) -> dict[str, int]:
    """``total`` shared in proportion to ``weights``, rounded so the parts add up exactly
    (largest remainders get the leftover persons)."""
    whole = sum(weights.values())
    exact = {k: total * w / whole for k, w in weights.items()}
    parts = {k: int(v) for k, v in exact.items()}
    rest = total - sum(parts.values())
    for k in sorted(exact, key=lambda k: (parts[k] - exact[k], k))[:rest]:
        parts[k] += 1
    return parts


def _vestfold(real: dict[tuple[str, int], int]) -> list[Estimate]:
    out = []
    for group, by_year in _MISSING.items():
        for year, members in sorted(by_year.items()):
            total = _GROUP_2020[group][year - 2015]
            total -= sum(real[(k, year)] for k in _PRESENT.get(group, ()))
            parts = _split(total, {k: _SHARES_2003[k] for k in members})
            out += [Estimate(k, year, p, "E1") for k, p in sorted(parts.items())]
    return out


def _interpolated(real: dict[tuple[str, int], int]) -> list[Estimate]:
    p2024 = {r["kommunenr"]: int(r["folketall_2024"]) for r in refdata_rows("no_kommuner_2024.csv")}
    successors: dict[str, list[str]] = defaultdict(list)
    for r in refdata_rows("no_kommune_2020_2023_til_2024.csv"):
        successors[r["kommunenr_2020_2023"]].append(r["kommunenr_2024"])
    out = []
    for code in sorted(successors):
        start, end = real[(code, 2020)], sum(p2024[s] for s in successors[code])
        for year in (2021, 2022, 2023):
            value = round(start + (end - start) * (year - 2020) / 4)
            out.append(Estimate(code, year, value, "E2"))
    return out


def estimate_rows() -> list[Estimate]:
    """The estimated rows, from the real figures in ``data/refdata``."""
    real = {
        (r["kommunenr"], int(r["ar"])): int(r["folkemengde"])
        for r in refdata_rows("no_befolkning_kommune_2015_2023.csv")
    }
    rows = _vestfold(real) + _interpolated(real)
    return sorted(rows, key=lambda e: (e.year, e.kommunenr))


def estimate_text() -> str:
    """The CSV text of :func:`estimate_rows` (what the shipped file holds)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kommunenr", "ar", "folkemengde", "metode"])
    for e in estimate_rows():
        writer.writerow([e.kommunenr, e.year, e.population, e.method])
    return out.getvalue()


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    default = Path(__file__).parents[1] / "data/refdata" / FILE
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    target.write_text(estimate_text(), encoding="utf-8")
    print(target)


__all__ = ["FILE", "Estimate", "estimate_rows", "estimate_text"]
