"""The fields of SSB's institution and drop lists in the demo unit tree, and the foretak the
lists have besides the hospital trusts: support companies and private institutions.

Real, from ``data/refdata`` (S6, SSB's 2020 list of health enterprises): the support
companies' names and organisation numbers (the list's entries that are neither an RHF nor a
hospital trust). Their owner follows the name (Helse Vest IKT under Helse Vest RHF …;
Sykehuspartner under Helse Sør-Øst RHF, Helseplattformen under Helse Midt-Norge RHF); the
others are jointly owned by the four RHFs and stand on their own.

SYNTHETIC, invented here: every postnummer and reporting number, the poststed (the name of
the kommune the unit lies in, else its RHF's seat, Oslo for the jointly owned), the support
companies' opening dates, the private institutions (names, organisation numbers, sites,
agreements, openings, closures and renames) and each helseregion number (given in the order
of SSB's list). The næringskoder are codes of the packaged KLASS 6 (a SYNTHETIC stand-in
while its real codes are not in the reference data), chosen by their names: hospital
services for somatic sites, psychiatry (else hospital services) for mental-health sites, rus
for TSB sites, other health services for support companies; a unit gets each version's code
from the day that version starts, so a list can be made for every year a version covers.

>>> from datetime import date
>>> role_codes()[0][0] <= date(2020, 1, 1)
True
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from helsestat.reference.klass_data import packaged_registry
from helsestat.reference.units.model import NAERINGSKODE_CLASSIFICATION
from helsestat.reference.units.plan import PlannedEvent, PlannedUnit, UnitPlan

#: Roles a bedrift plays, each with the words its næringskode's name is matched by.
_ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "somatikk": ("somatisk", "sykehus"),
    "psykisk": ("psykiatri", "psykisk", "sykehus"),
    "rus": ("rus",),
    "annet": ("andre helse", "annen helse", "helsetjenester"),
}
#: The support companies' owners, by a word of their name (jointly owned otherwise).
_OWNER_WORDS: tuple[tuple[str, str], ...] = (
    ("Helse Vest", "Helse Vest RHF"),
    ("Helse Nord", "Helse Nord RHF"),
    ("Helse Midt", "Helse Midt-Norge RHF"),
    ("Helseplattformen", "Helse Midt-Norge RHF"),
    ("Sykehuspartner", "Helse Sør-Øst RHF"),
)
#: SYNTHETIC private institutions: (name, agreement, what they treat).
_PRIVATE: tuple[tuple[str, str, str], ...] = (
    ("Fjordly sykehus", "oppdragsdokument", "somatikk"),
    ("Solbakken behandlingssenter", "oppdragsdokument", "rus"),
    ("Lindheim psykiatriske senter", "oppdragsdokument", "psykisk"),
    ("Nordlys rehabilitering", "kjopsavtale", "somatikk"),
    ("Vesterli klinikk", "kjopsavtale", "somatikk"),
    ("Granly rusbehandling", "kjopsavtale", "rus"),
)
_FIRST_REPORTING_NUMBER = 880_000_000
#: The næringskode changes come after the day's other changes (a kommune reform on the same
#: 1 January): applied one at a time, each new version is checked with the day's kommune.
_LAST = 1_000_000
#: The poststed given to a foretak of an RHF's region that has no kommune in the demo: the
#: RHF's seat (jointly owned support companies: Oslo).
_SEATS: dict[str, str] = {
    "Helse Vest RHF": "Stavanger",
    "Helse Midt-Norge RHF": "Stjørdal",
    "Helse Nord RHF": "Bodø",
    "Helse Sør-Øst RHF": "Hamar",
}


@cache
def role_codes() -> tuple[tuple[date, dict[str, str]], ...]:
    """Per packaged KLASS 6 version, oldest first: its start and the code of each role."""
    cls = packaged_registry().classification(NAERINGSKODE_CLASSIFICATION)
    out: list[tuple[date, dict[str, str]]] = []
    for version in sorted(cls.versions, key=lambda v: v.valid_from):
        codes = [c for c in version.codes if c.valid_from is None or c.valid_to is None]
        fallback = next((c.code for c in codes if c.code.startswith("86")), codes[0].code)
        chosen: dict[str, str] = {}
        for role, words in _ROLE_WORDS.items():
            chosen[role] = next(
                (
                    c.code
                    for word in words
                    for c in sorted(codes, key=lambda c: (-c.level, c.code))
                    if word in c.name.lower()
                ),
                fallback,
            )
        out.append((version.valid_from, chosen))
    return tuple(out)


def naering_events(key: str, role: str, opened: date) -> tuple[str | None, list[PlannedEvent]]:
    """The næringskode a unit opening on ``opened`` starts with (None before KLASS 6 has a
    version) and the changes at each later version whose code for ``role`` differs."""
    first: str | None = None
    current: str | None = None
    events: list[PlannedEvent] = []
    for start, chosen in role_codes():
        code = chosen[role]
        if start <= opened:
            first = current = code
        elif code != current:
            events.append(
                PlannedEvent(start, key, "change", (("naeringskode", code),), order=_LAST)
            )
            current = code
    return first, events


@dataclass(frozen=True)
class SupportCompany:
    """A support company of SSB's health-enterprise list (S6): orgnr, name and the RHF
    that owns it (None: jointly owned)."""

    orgnr: str
    name: str
    owner: str | None


def support_companies(
    rows: Sequence[dict[str, str]], name: Callable[[str], str]
) -> list[SupportCompany]:
    """The entries of S6 that are neither an RHF nor one of ``rows``' hospital trusts; each
    row ``orgnr``, ``navn_kilde``, ``type_etter_navn`` (``name`` turns the source name into
    the display name)."""
    out = []
    for row in rows:
        title = name(row["navn_kilde"])
        owner = next((rhf for word, rhf in _OWNER_WORDS if word.lower() in title.lower()), None)
        out.append(SupportCompany(row["orgnr"], title, owner))
    return out


class _Numbers:
    """SYNTHETIC reporting numbers and postnumre."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next = _FIRST_REPORTING_NUMBER

    def reporting(self) -> str:
        self.next += self.rng.randint(1, 9)
        return str(self.next)

    def postnummer(self) -> str:
        return f"{self.rng.randint(1, 9999):04d}"


def _role(unit: PlannedUnit) -> str:
    if unit.sector == "tsb":
        return "rus"
    if unit.sector in ("phv", "phbu"):
        return "psykisk"
    return "somatikk"


def _with_list_fields(
    unit: PlannedUnit, role: str, numbers: _Numbers, place: str
) -> tuple[PlannedUnit, list[PlannedEvent]]:
    code, events = naering_events(unit.key, role, unit.opened)
    return (
        dataclasses.replace(
            unit,
            naeringskode=code,
            reporting_number=numbers.reporting(),
            postnummer=numbers.postnummer(),
            poststed=place,
        ),
        events,
    )


def add_list_fields(
    plan: UnitPlan,
    *,
    seed: int,
    place_of: Callable[[PlannedUnit], str],
    support: Sequence[SupportCompany] = (),
    private: bool = False,
    orgnr: Callable[[random.Random], str] | None = None,
) -> UnitPlan:
    """``plan`` with the fields of the institution lists: every Norwegian behandlingssted
    (a bedrift with its own organisation number) gets a reporting number, næringskode,
    postnummer and poststed (``place_of``: a readable place name); each RHF a helseregion
    number; with ``support``, those support companies (of RHFs in the plan, and the jointly
    owned ones); with ``private``, six SYNTHETIC private institutions (``orgnr`` draws their
    organisation numbers). A generator of its own (``seed``), so the rest of the plan is the
    same with or without them."""
    rng = random.Random(f"lists-{seed}")
    numbers = _Numbers(rng)
    units: list[PlannedUnit] = []
    events = list(plan.events)
    rhfs = [u for u in plan.units if u.country == "NO" and u.kind == "rhf"]
    region = {u.key: f"{n:02d}" for n, u in enumerate(rhfs, start=1)}
    for unit in plan.units:
        if unit.key in region:
            unit = dataclasses.replace(unit, helseregion=region[unit.key])
        elif unit.country == "NO" and unit.kind == "behandlingssted":
            unit, more = _with_list_fields(unit, _role(unit), numbers, place_of(unit))
            events += more
        units.append(unit)
    rhf_by_name = {u.name: u for u in rhfs}
    first_version = role_codes()[0][0]
    for company in support:
        owner = rhf_by_name.get(company.owner or "")
        if company.owner is not None and owner is None:
            continue  # its RHF is not in this (smaller) plan
        opened = date(rng.randint(2003, first_version.year), 1, 1)
        base = PlannedUnit(
            f"support/{company.orgnr}",
            "NO",
            "hf",
            company.name,
            owner.key if owner else None,
            opened,
            orgnr=company.orgnr,
            foretakstype="stotteforetak",
        )
        seat = _SEATS.get(owner.name, "Oslo") if owner else "Oslo"
        unit, more = _with_list_fields(base, "annet", numbers, seat)
        units.append(unit)
        events += more
    if private and orgnr is not None and rhfs:
        extra_units, extra_events = _private(rng, rhfs, numbers, orgnr)
        units += extra_units
        events += extra_events
    ordered = sorted(events, key=lambda e: (e.on, e.what == "close", e.order))
    return dataclasses.replace(plan, units=tuple(units), events=tuple(ordered))


def _private(
    rng: random.Random,
    rhfs: Sequence[PlannedUnit],
    numbers: _Numbers,
    orgnr: Callable[[random.Random], str],
) -> tuple[list[PlannedUnit], list[PlannedEvent]]:
    """The SYNTHETIC private institutions: a foretak (under its RHF when it has an
    oppdragsdokument, on its own with a purchase agreement) with one or two sites; some open
    late, one closes, one site is renamed, one agreement changes from purchase to
    oppdragsdokument."""
    units: list[PlannedUnit] = []
    events: list[PlannedEvent] = []
    for n, (name, agreement, role) in enumerate(_PRIVATE):
        rhf = rhfs[n % len(rhfs)]
        year = rng.choice((2004, 2010, 2016, 2021, 2023))
        # one has its oppdragsdokument from before every statistics year (2015 on)
        opened = date(2004 if n == 2 else year, 1, 1)
        foretak = PlannedUnit(
            f"private/{n}",
            "NO",
            "institusjon",
            f"{name} AS",
            rhf.key if agreement == "oppdragsdokument" else None,
            opened,
            orgnr=orgnr(rng),
            foretakstype=agreement,
        )
        units.append(foretak)
        for m in range(1 + (n % 2)):
            site_name = name if m == 0 else f"{name}, avdeling {m + 1}"
            site = PlannedUnit(
                f"{foretak.key}/{m}",
                "NO",
                "behandlingssted",
                site_name,
                foretak.key,
                opened,
                orgnr=orgnr(rng),
                sector={"rus": "tsb", "psykisk": "phv"}.get(role, "somatikk"),
            )
            site, more = _with_list_fields(site, role, numbers, _SEATS.get(rhf.name, "Oslo"))
            units.append(site)
            events += more
    # One site renamed, one private institution closed (its sites first), one agreement won.
    events.append(
        PlannedEvent(
            date(2024, 1, 1), "private/0/0", "change", (("name", "Fjordly sykehus Bergen"),)
        )
    )
    closing = date(2025, 1, 1)
    events = [e for e in events if not (e.key.startswith("private/4") and e.on >= closing)]
    events.append(PlannedEvent(closing, "private/4/0", "close", order=0))
    events.append(PlannedEvent(closing, "private/4", "close", order=1))
    events.append(
        PlannedEvent(
            date(2024, 1, 1),
            "private/3",
            "change",
            (("foretakstype", "oppdragsdokument"), ("parent", rhfs[3 % len(rhfs)].key)),
        )
    )
    return units, events


__all__ = [
    "SupportCompany",
    "add_list_fields",
    "naering_events",
    "role_codes",
    "support_companies",
]
