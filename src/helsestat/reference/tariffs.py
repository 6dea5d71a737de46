"""Helfo's tariff code lists (seed 004), the one model every reader uses: takstkoder, NLK
codes, refusjonskategorisatser, APAT combinations, bandasjister, fagområder and praksistyper,
each a tuple of records as Helfo's open-data API publishes them, with the indexed views that
validation and the statistics need (``takster``, ``by_code``, ``fagomraader``,
``praksistyper``).

The lists are read from the reference database (:mod:`helsestat.reference.persist`); the
packaged files only seed it (:mod:`helsestat.reference.tariff_files`). The endpoints' filters
are in :mod:`helsestat.reference.tariff_queries`. Validity is Helfo's: ``fradato`` and
``tildato`` are both inclusive, ``tildato`` null while a row is in force.

>>> lists = TariffLists.of(takstkoder=[{"takst_id": 1, "takstkode": "2ad",
...     "fagomraade": "LE", "fradato": "2018-07-01", "tildato": None, "honorar": 160.0,
...     "refusjon": 0.0, "egenandel": 160.0, "beskrivelse": "Konsultasjon"}],
...     praksistyper=[{"kode": "FALE", "beskrivelse": "Fastlege", "fagomraade": "LE"}])
>>> lists.takst_at("2ad", date(2019, 1, 1)).fradato, lists.praksistyper["FALE"]
(datetime.date(2018, 7, 1), 'LE')
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

Record = dict[str, Any]

#: The lists, in the order the API and the dashboard name them.
LISTS = (
    "takstkoder",
    "nlkkoder",
    "refusjonskategorisatser",
    "apatkombinasjoner",
    "bandasjister",
    "fagomraader",
    "praksistyper",
)
#: Lists whose content is real (the others are SYNTHETIC, see data/tariffs/README.md).
REAL_LISTS = ("fagomraader", "praksistyper")

#: Field order and type of each list, as seed 004 lists the fields.
TAKST_FIELDS: dict[str, str] = {
    "takst_id": "int",
    "takstkode": "str",
    "fagomraade": "str",
    "fradato": "date",
    "tildato": "date",
    "honorar": "float",
    "refusjon": "float",
    "egenandel": "float",
    "pasient_egenbetaling": "float",
    "maks_repetisjoner": "int",
    "repetisjonsprosent": "int",
    "redusert_ref_fra_repetisjon": "int",
    "redusert_repetisjonsprosent": "int",
    "spesialisttakst": "str",
    "ugyldig_kombinasjon": "str",
    "krever_takst": "str",
    "krever_prosedyre": "str",
    "krever_diagnose": "str",
    "maks_antall_per_aar": "int",
    "maks_antall_per_kalender_aar": "int",
    "maks_antall_gjelder_pasient": "str",
    "minimum_tidsbruk": "int",
    "beskrivelse": "str",
    "resource_id": "str",
    "tidsbruk_per_rep": "int",
}
SATS_FIELDS = {
    "refusjonskategoriid": "int",
    "refusjonskategori": "str",
    "refusjonssats": "float",
    "fradato": "date",
    "tildato": "date",
    "samhandlertype": "str",
}
APAT_FIELDS = {
    "t_kode": "str",
    "p_kode": "str",
    "refusjonskategori": "str",
    "belop": "float",
    "samhandler_type": "str",
    "fradato": "date",
    "tildato": "date",
}
BANDASJIST_FIELDS = {
    "sar_id": "int",
    "sar_navn": "str",
    "sar_orgnr": "str",
    "hovedenhet_orgnr": "str",
    "underenhet_orgnr": "str",
    "gyldig_fra": "date",
    "gyldig_til": "date",
    "status": "str",
    "tidspunkt_registrert": "str",
    "tidspunkt_oppdatert": "str",
}
NLK_FIELDS = (
    "nlkKodeid",
    "nlkKode",
    "norsk_bruksnavn",
    "komponent",
    "system",
    "enhet",
    "egenskapsart",
    "spesifisertKomponent",
    "npuDefinisjon",
    "npuSpesialitet",
    "fagomraadeSekundaert",
    "fagomraadeNlk",
    "fradato",
    "tildato",
    "refusjonskategori",
    "erstattesAv",
    "hvaEndret",
    "sistEndretDato",
    "stjernekode",
    "ugyldigKombinasjon",
    "systemSpesifikasjon",
    "egenskapsartSpesifikasjon",
    "gruppering",
    "refusjonskategorisats",
)
FAGOMRAADE_FIELDS = ("kode", "beskrivelse")
PRAKSISTYPE_FIELDS = ("kode", "beskrivelse", "fagomraade")
#: The published field order of each list (a store that keeps no key order is read back
#: in it, see :func:`in_field_order`).
FIELD_ORDER: dict[str, tuple[str, ...]] = {
    "takstkoder": tuple(TAKST_FIELDS),
    "nlkkoder": NLK_FIELDS,
    "refusjonskategorisatser": tuple(SATS_FIELDS),
    "apatkombinasjoner": tuple(APAT_FIELDS),
    "bandasjister": tuple(BANDASJIST_FIELDS),
    "fagomraader": FAGOMRAADE_FIELDS,
    "praksistyper": PRAKSISTYPE_FIELDS,
}


def in_field_order(name: str, record: Record) -> Record:
    """``record`` with the fields of list ``name`` first, in their published order (the
    satser inside an NLK code too), then any others.

    >>> list(in_field_order("fagomraader", {"beskrivelse": "Lege", "kode": "LE"}))
    ['kode', 'beskrivelse']
    """
    order = FIELD_ORDER[name]
    out = {f: record[f] for f in order if f in record}
    out |= {k: v for k, v in record.items() if k not in out}
    if name == "nlkkoder" and isinstance(out.get("refusjonskategorisats"), list):
        out["refusjonskategorisats"] = [
            in_field_order("refusjonskategorisatser", s) for s in out["refusjonskategorisats"]
        ]
    return out


@dataclass(frozen=True)
class Takst:
    """One takstkode in one validity period, typed (a view of a ``takstkoder`` record);
    amounts in kroner."""

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


def _takst(r: Record) -> Takst:
    return Takst(
        int(r["takst_id"]),
        r["takstkode"],
        r["fagomraade"],
        date.fromisoformat(r["fradato"]),
        date.fromisoformat(r["tildato"]) if r["tildato"] else None,
        float(r["honorar"] or 0),
        float(r["refusjon"] or 0),
        float(r["egenandel"] or 0),
        r["beskrivelse"] or "",
    )


@dataclass(frozen=True, eq=False)
class TariffLists:
    """The seven lists as published, and views indexed once, on first use."""

    takst_rows: tuple[Record, ...] = ()
    nlk_rows: tuple[Record, ...] = ()
    sats_rows: tuple[Record, ...] = ()
    apat_rows: tuple[Record, ...] = ()
    bandasjist_rows: tuple[Record, ...] = ()
    fagomraade_rows: tuple[Record, ...] = ()
    praksistype_rows: tuple[Record, ...] = ()

    @classmethod
    def of(cls, **lists: Iterable[Record]) -> TariffLists:
        """The lists given by name (``takstkoder=…``); the others empty.

        >>> len(TariffLists.of(fagomraader=[{"kode": "LE", "beskrivelse": "Lege"}]).fagomraader)
        1
        """
        unknown = set(lists) - set(LISTS)
        if unknown:
            raise TypeError(f"unknown tariff list(s): {', '.join(sorted(unknown))}")
        return cls(*(tuple(lists.get(name, ())) for name in LISTS))

    def rows(self, name: str) -> tuple[Record, ...]:
        """The records of list ``name`` (one of :data:`LISTS`)."""
        return dict(zip(LISTS, self.as_tuple(), strict=True))[name]

    def as_tuple(self) -> tuple[tuple[Record, ...], ...]:
        """The records of every list, in the order of :data:`LISTS`."""
        return (
            self.takst_rows,
            self.nlk_rows,
            self.sats_rows,
            self.apat_rows,
            self.bandasjist_rows,
            self.fagomraade_rows,
            self.praksistype_rows,
        )

    def replace(self, name: str, rows: Iterable[Record]) -> TariffLists:
        """These lists with list ``name`` replaced by ``rows``.

        >>> TariffLists().replace("fagomraader", [{"kode": "LE", "beskrivelse": "Lege"}]
        ...     ).rows("fagomraader")
        ({'kode': 'LE', 'beskrivelse': 'Lege'},)
        """
        lists = dict(zip(LISTS, self.as_tuple(), strict=True))
        lists[name] = tuple(rows)
        return TariffLists.of(**lists)

    @cached_property
    def takster(self) -> tuple[Takst, ...]:
        """Every takstkode period, typed."""
        return tuple(_takst(r) for r in self.takst_rows)

    @cached_property
    def by_code(self) -> dict[str, list[Takst]]:
        """Periods per takstkode, in list order (oldest first)."""
        out: dict[str, list[Takst]] = defaultdict(list)
        for t in self.takster:
            out[t.takstkode].append(t)
        return dict(out)

    @cached_property
    def fagomraader(self) -> dict[str, str]:
        """Fagområde → its description."""
        return {r["kode"]: r["beskrivelse"] for r in self.fagomraade_rows}

    @cached_property
    def praksistyper(self) -> dict[str, str]:
        """Praksistype → its fagområde (praksistyper that have one)."""
        return {r["kode"]: r["fagomraade"] for r in self.praksistype_rows if r["fagomraade"]}

    @cached_property
    def praksistype_navn(self) -> dict[str, str]:
        """Praksistype → its description."""
        return {r["kode"]: r["beskrivelse"] for r in self.praksistype_rows}

    def takst_at(self, takstkode: str, day: date) -> Takst | None:
        """The period of ``takstkode`` valid on ``day``, if any."""
        for t in self.by_code.get(takstkode, ()):
            if t.valid_on(day):
                return t
        return None

    def valid_spans(self, name: str) -> list[tuple[date, date | None]]:
        """The validity of each row of a dated list, as half-open spans (for preflight).

        >>> TariffLists.of(takstkoder=[{"fradato": "2024-01-01", "tildato": "2024-12-31"}]
        ...     ).valid_spans("takstkoder")
        [(datetime.date(2024, 1, 1), datetime.date(2025, 1, 1))]
        """
        out = []
        for r in self.rows(name):
            til = r["tildato"]
            end = date.fromordinal(date.fromisoformat(til).toordinal() + 1) if til else None
            out.append((date.fromisoformat(r["fradato"]), end))
        return out


__all__ = [
    "APAT_FIELDS",
    "BANDASJIST_FIELDS",
    "FIELD_ORDER",
    "LISTS",
    "NLK_FIELDS",
    "REAL_LISTS",
    "SATS_FIELDS",
    "TAKST_FIELDS",
    "Record",
    "Takst",
    "TariffLists",
    "in_field_order",
]
