"""The public code lists a takstbruk query is checked against, with names for the dashboard.

Fagområder, praksistyper and takstkoder come from :mod:`helsestat.reference.tariffs`;
kommuner (every kommunenummer valid at some time since the oldest history row) and fylker
(their first two digits) from :mod:`helsestat.reference.geography` and the fylke lists in
``data/refdata``. All are public lists, so an unknown value may be echoed in an error.

>>> codes = code_lists()
>>> "LE" in codes.fagomraader, "0301" in codes.kommuner, codes.fylker["03"]
(True, True, 'Oslo')
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from helsestat.reference.geography import load_geography
from helsestat.reference.tariffs import load_tariffs

#: Fylke lists, oldest first, so a later structure's name wins for a reused number.
_FYLKE_FILES = ("no_fylker_2019.csv", "no_fylker_2020_2023.csv", "no_fylker_2024.csv")


@dataclass(frozen=True)
class CodeLists:
    """Code → name (fagområde, praksistype, kommune, fylke) or → fagområde (takstkode)."""

    fagomraader: dict[str, str]
    praksistyper: dict[str, str]
    takstkoder: dict[str, str]
    kommuner: dict[str, str]
    fylker: dict[str, str]


def _fylke_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for name in _FYLKE_FILES:
        path = resources.files("helsestat.data.refdata").joinpath(name)
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                names[row["fylkenr"]] = (
                    row.get("navn_klass_noapi") or row.get("fylkenavn") or row.get("navn") or ""
                )
    return names


@cache
def code_lists() -> CodeLists:
    """The code lists, read once per process."""
    tariffs = load_tariffs()
    geo = load_geography()
    kommuner: dict[str, str] = {}
    for code, navn, _, _ in sorted(geo.history, key=lambda h: h[2]):
        kommuner[code] = navn
    for first in sorted(geo.by_structure):
        for code, kommune in geo.by_structure[first].items():
            kommuner[code] = kommune.navn
    names = _fylke_names()
    fylker = {code[:2]: names.get(code[:2], code[:2]) for code in kommuner}
    fylker.update((code, name) for code, name in names.items() if code not in fylker)
    takstkoder = {t.takstkode: t.fagomraade for t in tariffs.takster}
    return CodeLists(
        fagomraader=dict(tariffs.fagomraader),
        praksistyper=dict(tariffs.praksistype_navn),
        takstkoder=dict(sorted(takstkoder.items())),
        kommuner=dict(sorted(kommuner.items())),
        fylker=dict(sorted(fylker.items())),
    )
