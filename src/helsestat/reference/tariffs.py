"""Tariff code lists: takstkoder with validity periods, fagområder and praksistyper.

Fagområder and praksistyper are real (Helfo's open-data documentation and KUHR's code list,
see ``data/refdata/PROVENANCE.md``); the takstkoder amounts are synthetic (see
``data/tariffs/README.md``).

>>> t = load_tariffs()
>>> t.praksistyper["FALE"], t.fagomraader["LE"]
('LE', 'Lege')
>>> t.takst_at("2ad", date(2018, 8, 9)).fradato
datetime.date(2018, 7, 1)
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources


def _rows(package: str, name: str) -> Iterator[dict[str, str]]:
    with resources.files(package).joinpath(name).open(encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


@dataclass(frozen=True)
class Takst:
    """One takstkode in one validity period; amounts in kroner."""

    takst_id: int
    takstkode: str
    fagomraade: str
    fradato: date
    tildato: date | None
    honorar: float
    refusjon: float
    egenandel: float
    beskrivelse: str

    def valid_on(self, day: date) -> bool:
        """True when the period covers ``day``."""
        return self.fradato <= day and (self.tildato is None or day <= self.tildato)


@dataclass(frozen=True, eq=False)
class Tariffs:
    """The tariff code lists, indexed for validation and lookup."""

    takster: tuple[Takst, ...]
    fagomraader: dict[str, str]
    praksistyper: dict[str, str]  # praksistype → fagområde
    praksistype_navn: dict[str, str]

    @property
    def by_code(self) -> dict[str, list[Takst]]:
        """Periods per takstkode, oldest first."""
        out: dict[str, list[Takst]] = defaultdict(list)
        for t in self.takster:
            out[t.takstkode].append(t)
        return dict(out)

    def takst_at(self, takstkode: str, day: date) -> Takst | None:
        """The period of ``takstkode`` valid on ``day``, if any."""
        for t in self.by_code.get(takstkode, ()):
            if t.valid_on(day):
                return t
        return None


@cache
def load_tariffs() -> Tariffs:
    """Read the package's tariff lists once per process."""
    takster = tuple(
        Takst(
            int(r["takst_id"]),
            r["takstkode"],
            r["fagomraade"],
            date.fromisoformat(r["fradato"]),
            date.fromisoformat(r["tildato"]) if r["tildato"] else None,
            float(r["honorar"]),
            float(r["refusjon"]),
            float(r["egenandel"]),
            r["beskrivelse"],
        )
        for r in _rows("helsestat.data.tariffs", "takstkoder.csv")
    )
    fag = {
        r["fagomrade_kode"]: r["beskrivelse"]
        for r in _rows("helsestat.data.refdata", "no_kuhr_fagomrader.csv")
    }
    prak_rows = list(_rows("helsestat.data.refdata", "no_kuhr_praksistyper.csv"))
    praksis = {r["praksistype_kode"]: r["fagomrade_kode"] for r in prak_rows if r["fagomrade_kode"]}
    navn = {r["praksistype_kode"]: r["beskrivelse"] for r in prak_rows}
    return Tariffs(takster, fag, praksis, navn)
