"""The queries of Helfo's open-data tariff endpoints (seed 004) over
:class:`~helsestat.reference.tariffs.TariffLists`: validity on a day, codes with ``%``
wildcards, samhandlertype and fagområde. The wire parameters (``gyldigdato``,
``offisielle_ugyldige_takstkombinasjoner``) are parsed at the API edge
(:mod:`helsestat.api.routers.tariffs`); these functions take ``date`` values and raise
domain errors for codes that do not exist.

>>> from helsestat.reference.tariffs import TariffLists
>>> lists = TariffLists.of(fagomraader=[{"kode": "LE", "beskrivelse": "Lege"}])
>>> praksistyper(lists, fagomraade="XX")  # doctest: +ELLIPSIS
Traceback (most recent call last):
helsestat.errors.ReferenceError_: fagomraade 'XX' is not a fagområde (hint: ...)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from helsestat.errors import ReferenceError_
from helsestat.reference.tariffs import Record, TariffLists

SAMHANDLERTYPER = ("PO", "LR")


def _valid_on(record: Record, day: date, start: str = "fradato", end: str = "tildato") -> bool:
    return record[start] <= day.isoformat() and (
        record[end] is None or day.isoformat() <= record[end]
    )


def wildcard(pattern: str | None) -> Callable[[str | None], bool]:
    """Helfo's search: ``%`` (sent as ``%25``) matches any text, case-insensitively; without
    ``%`` the value must match exactly.

    >>> wildcard("%undersøkelse%")("Undersøkelse hos tannlege"), wildcard("2ad")("2ak")
    (True, False)
    """
    if not pattern:
        return lambda value: True
    regex = re.compile(
        "".join(".*" if ch == "%" else re.escape(ch) for ch in pattern), re.IGNORECASE
    )
    return lambda value: value is not None and regex.fullmatch(value) is not None


def _samhandlertype(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if value.upper() not in SAMHANDLERTYPER:
        raise ReferenceError_(
            "reference.unknown_code",
            f"samhandlertype {value[:10]!r} is not known",
            hint="PO - Poliklinikk, LR - Privat lab/radiologi",
        )
    return value.upper()


def _check_fagomraade(lists: TariffLists, fagomraade: str | None) -> None:
    if fagomraade and fagomraade.upper() not in lists.fagomraader:
        raise ReferenceError_(
            "reference.unknown_code",
            f"fagomraade {fagomraade[:10]!r} is not a fagområde",
            hint="GET /v1/fagomraader lists them (AP, FY, LE, PO, …)",
        )


def official_combinations(value: str | None, official: set[str]) -> str | None:
    """Keep only official takstkoder in an ``ugyldig_kombinasjon`` list; 'Alle unntatt'
    with nothing left becomes 'Alle'.

    >>> official_combinations("Alle unntatt Z91, Z92", {"2ad"})
    'Alle'
    >>> official_combinations("2ad, Z1", {"2ad"})
    '2ad'
    """
    if not value:
        return value
    prefix = "Alle unntatt"
    rest = value[len(prefix) :] if value.startswith(prefix) else value
    kept = [c.strip() for c in rest.split(",") if c.strip() in official]
    if value.startswith(prefix):
        return f"{prefix} {', '.join(kept)}" if kept else "Alle"
    return ", ".join(kept) or None


def takstkoder(
    lists: TariffLists,
    *,
    day: date | None = None,
    fagomraade: str | None = None,
    takstkode: str | None = None,
    beskrivelse: str | None = None,
    official_only: bool = False,
) -> list[Record]:
    """``/v1/takstkoder``: rows valid on ``day`` of a fagområde whose code and description
    match. ``official_only`` keeps only official takstkoder (those in the list) in
    ``ugyldig_kombinasjon``; a list 'Alle unntatt …' left empty becomes 'Alle'.

    >>> from helsestat.reference.tariff_files import packaged_tariffs
    >>> [r["takst_id"] for r in takstkoder(packaged_tariffs(), day=date(2018, 8, 9),
    ...                                    takstkode="2ad")]
    [57]
    """
    _check_fagomraade(lists, fagomraade)
    code_ok, text_ok = wildcard(takstkode), wildcard(beskrivelse)
    codes = {r["takstkode"] for r in lists.takst_rows}
    out = []
    for r in lists.takst_rows:
        if day is not None and not _valid_on(r, day):
            continue
        if fagomraade and r["fagomraade"] != fagomraade.upper():
            continue
        if not code_ok(r["takstkode"]) or not text_ok(r["beskrivelse"]):
            continue
        if official_only:
            r = r | {"ugyldig_kombinasjon": official_combinations(r["ugyldig_kombinasjon"], codes)}
        out.append(r)
    return out


def nlkkoder(
    lists: TariffLists,
    *,
    day: date | None = None,
    nlkkode: str | None = None,
    samhandlertype: str | None = None,
) -> list[Record]:
    """``/v1/nlkkoder``: codes valid on ``day``, their embedded satser limited to the day
    and to ``samhandlertype`` (codes with none left are dropped).

    >>> from helsestat.reference.tariff_files import packaged_tariffs
    >>> (row,) = nlkkoder(packaged_tariffs(), day=date(2025, 6, 4), nlkkode="NOR35342",
    ...                   samhandlertype="LR")
    >>> len(row["refusjonskategorisats"])
    1
    """
    kind, code_ok = _samhandlertype(samhandlertype), wildcard(nlkkode)
    out = []
    for r in lists.nlk_rows:
        if (day is not None and not _valid_on(r, day)) or not code_ok(r["nlkKode"]):
            continue
        satser = [
            {k: v for k, v in s.items() if k != "samhandlertype"}
            for s in r["refusjonskategorisats"]
            if (kind is None or s["samhandlertype"] == kind) and (day is None or _valid_on(s, day))
        ]
        if kind is not None and not satser:
            continue
        out.append(r | {"refusjonskategorisats": satser})
    return out


def refusjonskategorisatser(
    lists: TariffLists, *, day: date | None = None, samhandlertype: str | None = None
) -> list[Record]:
    """``/v1/refusjonskategorisatser``: the satser valid on ``day`` of a samhandlertype.

    >>> from helsestat.reference.tariff_files import packaged_tariffs
    >>> len(refusjonskategorisatser(packaged_tariffs(), day=date(2018, 8, 9),
    ...                             samhandlertype="PO")) > 0
    True
    """
    kind = _samhandlertype(samhandlertype)
    return [
        {k: v for k, v in r.items() if k != "samhandlertype"}
        for r in lists.sats_rows
        if (day is None or _valid_on(r, day)) and (kind is None or r["samhandlertype"] == kind)
    ]


def apatkombinasjoner(
    lists: TariffLists, *, day: date | None = None, samhandlertype: str | None = None
) -> list[Record]:
    """``/v1/apatkombinasjoner``: the combinations valid on ``day`` of a samhandlertype.

    >>> apatkombinasjoner(TariffLists(), samhandlertype="XX")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    helsestat.errors.ReferenceError_: samhandlertype 'XX' is not known (hint: ...)
    """
    kind = _samhandlertype(samhandlertype)
    return [
        r
        for r in lists.apat_rows
        if (day is None or _valid_on(r, day)) and (kind is None or r["samhandler_type"] == kind)
    ]


def bandasjister(lists: TariffLists) -> list[Record]:
    """``/v1/bandasjister``: the latest list.

    >>> bandasjister(TariffLists.of(bandasjister=[{"sar_id": 1}]))
    [{'sar_id': 1}]
    """
    return list(lists.bandasjist_rows)


def fagomraader(lists: TariffLists) -> list[Record]:
    """``/v1/fagomraader``: kode and beskrivelse.

    >>> fagomraader(TariffLists.of(fagomraader=[{"kode": "LE", "beskrivelse": "Lege"}]))
    [{'kode': 'LE', 'beskrivelse': 'Lege'}]
    """
    return list(lists.fagomraade_rows)


def praksistyper(lists: TariffLists, *, fagomraade: str | None = None) -> list[Record]:
    """Praksistyper (kode, beskrivelse, fagomraade), optionally of one fagområde.

    >>> from helsestat.reference.tariff_files import packaged_tariffs
    >>> [r["kode"] for r in praksistyper(packaged_tariffs(), fagomraade="ap")]
    ['AUDI']
    """
    _check_fagomraade(lists, fagomraade)
    return [
        r for r in lists.praksistype_rows if not fagomraade or r["fagomraade"] == fagomraade.upper()
    ]


__all__ = [
    "SAMHANDLERTYPER",
    "apatkombinasjoner",
    "bandasjister",
    "fagomraader",
    "nlkkoder",
    "official_combinations",
    "praksistyper",
    "refusjonskategorisatser",
    "takstkoder",
    "wildcard",
]
