"""A demo unit tree: the real RHF/HF list above a SYNTHETIC tree (SYNTHETIC DATA below HF).

Real, from ``data/refdata`` (see its PROVENANCE.md):

- the 4 RHF and the 20 hospital trusts (HF) with their organisation numbers, from SSB's
  list (S6, names as of 2020; all-caps names shown in title case). RHF membership follows
  the order of that list (each RHF row is followed by its HFs); the ten support and jointly
  owned enterprises at its end (Sykehuspartner, Sykehusinnkjøp, Helse Vest IKT …) report no
  patient activity and are left out;
- kommune codes from SKDE's catchment areas (S5, adult psychiatry, 2024 codes), recoded back
  through the kommune history (S1) so each unit carries the code valid at the time, with a
  change recorded at each reform (2018, 2020, 2024 …);
- the 21 Swedish län (S10) and their kommuner.

SYNTHETIC, invented here: every unit below HF and every Swedish vårdgivare and vårdenhet
(names, organisation numbers with valid check digits that were not looked up, HER-/HSA-ids),
opening dates (the RHF/HF open on 2002-01-01, when the health enterprise reform took effect —
not each HF's own founding date), and every move, rename and closure. Services are coded in
a SYNTHETIC stand-in for KLASS 610 (:data:`SERVICE_CLASSIFICATION_ID`), whose real codes are
not in the reference data.

>>> plan = generate_unit_plan(seed=7, hf_limit=2, lan_limit=1)
>>> sorted({u.kind for u in plan.units if not u.synthetic})
['hf', 'rhf']
>>> any(e.what == "close" for e in plan.events) and any(e.what == "change" for e in plan.events)
True
"""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum import luhn
from stdnum.no import orgnr as no_orgnr

from helsestat.errors import ConflictError
from helsestat.reference.geography import packaged_geography
from helsestat.reference.refdata import refdata_rows
from helsestat.reference.units.loader import LoadReport, load_plan
from helsestat.reference.units.plan import (
    SERVICE_CLASSIFICATION_ID,
    SERVICE_CLASSIFICATION_NAME,
    SERVICES,
    PlannedEvent,
    PlannedUnit,
    UnitPlan,
)
from helsestat.reference.units.repository import Clock, utc_now
from helsestat.store.db.units_schema import Unit
from helsestat.synth.npr_units import add_npr_units
from helsestat.synth.unit_lists import add_list_fields, support_companies

REFORM = date(2002, 1, 1)
SE_START = date(2015, 1, 1)
LAST_EVENT = date(2025, 12, 1)

#: The hospital trusts, by organisation number, with the SKDE catchment area their units'
#: kommuner are drawn from (Sunnaas, a national hospital, has none).
HOSPITAL_TRUST_AREAS: dict[str, str | None] = {
    "983974724": "Bergen",
    "983974732": "Førde",
    "983974678": "Stavanger",
    "983974694": "Fonna",
    "883974832": "St. Olav",
    "997005562": "Møre og Romsdal",
    "983974791": "Nord-Trøndelag",
    "983974910": "Nordland",
    "983974929": "Helgeland",
    "983974880": "Finnmark",
    "983974899": "UNN",
    "983975267": "Telemark",
    "883971752": None,
    "983971636": "Akershus",
    "983975240": "Sørlandet",
    "983975259": "Vestfold",
    "983971709": "Innlandet",
    "983971768": "Østfold",
    "894166762": "Vestre Viken",
    "993467049": "OUS",
}

#: Somatic clinics and their departments: (department, service codes).
_SOMATIC: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "Medisinsk klinikk": (
        ("Medisinsk avdeling", ("S10",)),
        ("Hjerteavdelingen", ("S10",)),
        ("Nevrologisk avdeling", ("S60",)),
    ),
    "Kirurgisk klinikk": (
        ("Kirurgisk avdeling", ("S20",)),
        ("Ortopedisk avdeling", ("S30",)),
        ("Gastrokirurgisk avdeling", ("S20",)),
    ),
    "Kvinne-barn-klinikken": (
        ("Kvinneklinikken", ("S40",)),
        ("Barne- og ungdomsavdelingen", ("S50",)),
    ),
    "Akuttklinikken": (("Akuttmottaket", ("S80",)), ("Intensivavdelingen", ("S10", "S20"))),
    "Kreftklinikken": (("Kreftavdelingen", ("S70",)), ("Palliativ enhet", ("S70",))),
}
_RENAMES = {
    "Medisinsk avdeling": "Avdeling for indremedisin",
    "Kirurgisk avdeling": "Avdeling for generell kirurgi",
    "Akuttklinikken": "Akutt- og beredskapsklinikken",
    "Kvinneklinikken": "Kvinne- og fødeavdelingen",
    "Hjerteavdelingen": "Hjertemedisinsk avdeling",
}
_SECTIONS = ("sengepost", "poliklinikk", "dagbehandling")


def display_name(source: str) -> str:
    """All-caps source names in title case, keeping RHF/HF/AS/IKT and a lower-case 'og'.

    >>> display_name("HELSE MØRE OG ROMSDAL HF"), display_name("Helse Bergen HF")
    ('Helse Møre og Romsdal HF', 'Helse Bergen HF')
    """
    if source != source.upper():
        return source
    keep = {"RHF", "HF", "AS", "IKT"}
    words = [w if w in keep else "og" if w == "OG" else w.title() for w in source.split()]
    return " ".join(words)


@dataclass(frozen=True)
class Helseforetak:
    """A real RHF or hospital trust from the reference data (S6)."""

    orgnr: str
    name: str
    kind: str
    rhf_orgnr: str | None


@cache
def helseforetak() -> tuple[Helseforetak, ...]:
    """The 4 RHF and 20 hospital trusts; an HF's RHF is the RHF row above it in the list."""
    out: list[Helseforetak] = []
    rhf: str | None = None
    for row in refdata_rows("no_helseforetak_orgnr_ssb_kostra2020.csv"):
        if row["type_etter_navn"] == "RHF":
            rhf = row["orgnr"]
            out.append(Helseforetak(row["orgnr"], display_name(row["navn_kilde"]), "rhf", None))
        elif row["orgnr"] in HOSPITAL_TRUST_AREAS:
            out.append(Helseforetak(row["orgnr"], display_name(row["navn_kilde"]), "hf", rhf))
    return tuple(out)


@cache
def area_kommuner() -> dict[str, tuple[str, ...]]:
    """Catchment area name → its 2024 kommune codes (Oslo bydeler count as 0301)."""
    out: dict[str, list[str]] = defaultdict(list)
    for row in refdata_rows("no_opptaksomrader_skde_voksenpsykiatri_koder2024.csv"):
        code = row["kode"][:4]
        if code not in out[row["opptaksomrade"]]:
            out[row["opptaksomrade"]].append(code)
    return {area: tuple(codes) for area, codes in out.items()}


@cache
def _largest(area: tuple[str, ...], count: int = 5) -> tuple[str, ...]:
    """The ``count`` most populous kommuner of an area (2024 population): where the demo's
    hospitals and centres are placed."""
    geo = packaged_geography()
    return tuple(sorted(area, key=lambda k: -(geo.population(k, 2024) or 0))[:count])


@cache
def _kommune_names() -> dict[str, str]:
    names = {}
    for row in refdata_rows("no_kommuner_2024.csv"):
        klass = row["navn_klass_noapi"]
        names[row["kommunenr"]] = klass if "?" not in klass else row["navn"]
    for row in refdata_rows("no_kommuner_2020_2023.csv"):
        names[row["kommunenr"]] = row["navn_norsk_geonorge"]
    return names


def kommune_label(code: str) -> str:
    """A readable name for a 2024 kommune code (the 2020–2023 Norwegian name where the code
    existed then, else the 2024 name).

    >>> kommune_label("4601")
    'Bergen'
    """
    return _kommune_names()[code]


@cache
def _originals() -> dict[tuple[int, str], tuple[str, ...]]:
    """(year, 2024 code) → codes valid in that year that became it, heaviest share first."""
    found: dict[tuple[int, str], list[tuple[float, str]]] = defaultdict(list)
    for (year, original), successors in packaged_geography().to_2024.items():
        for successor, weight in successors:
            found[(year, successor)].append((-weight, original))
    return {key: tuple(code for _, code in sorted(values)) for key, values in found.items()}


def kommune_history(code_2024: str, first_year: int) -> dict[int, str] | None:
    """The code a place had in each year from ``first_year`` to 2024 (None when the history
    has a gap)."""
    geo = packaged_geography()
    out: dict[int, str] = {}
    for year in range(first_year, 2025):
        if year >= 2024:
            out[year] = code_2024
            continue
        valid = geo.kommuner_valid_in(year)
        code = next((c for c in _originals().get((year, code_2024), ()) if c in valid), None)
        if code is None:
            return None
        out[year] = code
    return out


def synthetic_no_orgnr(rng: random.Random) -> str:
    """Nine digits with a valid mod-11 check digit (SYNTHETIC, not looked up)."""
    while True:
        body = "9" + "".join(str(rng.randrange(10)) for _ in range(7))
        remainder = sum(w * int(d) for w, d in zip((3, 2, 7, 6, 5, 4, 3, 2), body, strict=True))
        check = (11 - remainder % 11) % 11
        if check != 10:  # no valid check digit: draw again
            number = body + str(check)
            assert no_orgnr.is_valid(number)
            return number


def synthetic_se_orgnr(rng: random.Random) -> str:
    """Ten digits with a valid Luhn check digit (SYNTHETIC, not looked up). The third digit
    is 2 or more, as in every real Swedish organisation number, so that it never reads as a
    personnummer (month 20–99)."""
    body = "55" + str(rng.randrange(2, 10)) + "".join(str(rng.randrange(10)) for _ in range(6))
    return body + luhn.calc_check_digit(body)


def _month(rng: random.Random, start: date, end: date) -> date:
    """A random first-of-month in ``(start, end]``."""
    first = start.year * 12 + start.month  # the month after start's month
    last = end.year * 12 + end.month - 1
    pick = rng.randint(first, max(first, last))
    return date(pick // 12, pick % 12 + 1, 1)


@dataclass
class _Builder:
    rng: random.Random
    units: list[PlannedUnit] = field(default_factory=list)
    events: list[PlannedEvent] = field(default_factory=list)
    closed: dict[str, date] = field(default_factory=dict)
    her: int = 90_000_000

    def add(self, unit: PlannedUnit) -> PlannedUnit:
        self.units.append(unit)
        return unit

    def her_id(self) -> tuple[str, str]:
        self.her += self.rng.randint(1, 40)
        return ("her", str(self.her))

    def event(
        self,
        on: date,
        key: str,
        what: str,
        *,
        changes: tuple[tuple[str, object], ...] = (),
        identifier: tuple[str, str, str] | None = None,
        order: int | None = None,
    ) -> None:
        rank = len(self.events) if order is None else order
        self.events.append(PlannedEvent(on, key, what, changes, identifier, rank))


def _place_kommune(b: _Builder, unit: PlannedUnit, code_2024: str | None) -> PlannedUnit:
    """The unit with the kommune code valid when it opened, and change events at reforms."""
    if code_2024 is None:
        return unit
    history = kommune_history(code_2024, unit.opened.year)
    if history is None:
        return unit
    for year in range(unit.opened.year + 1, 2025):
        if history[year] != history[year - 1]:
            b.event(date(year, 1, 1), unit.key, "change", changes=(("kommune", history[year]),))
    return dataclasses.replace(unit, kommune=history[unit.opened.year])


def _somatic(b: _Builder, hf: Helseforetak, area: tuple[str, ...]) -> None:
    rng = b.rng
    short = hf.name.removesuffix(" HF")
    inst = b.add(
        PlannedUnit(
            f"{hf.orgnr}/som",
            "NO",
            "institusjon",
            f"{short} somatikk",
            hf.orgnr,
            _month(rng, REFORM, date(2004, 1, 1)),
            orgnr=synthetic_no_orgnr(rng),
        )
    )
    big = _largest(area)
    sites = rng.sample(big, k=min(len(big), rng.randint(1, 3))) if big else [None]
    clinics: list[PlannedUnit] = []
    for n, code in enumerate(sites):
        label = kommune_label(code) if code else short
        site = PlannedUnit(
            f"{inst.key}/{n}",
            "NO",
            "behandlingssted",
            f"{label} sykehus",
            inst.key,
            _month(rng, inst.opened, date(2006, 1, 1)),
            orgnr=synthetic_no_orgnr(rng),
            identifiers=(b.her_id(),),
        )
        site = b.add(_place_kommune(b, site, code))
        names = rng.sample(sorted(_SOMATIC), k=rng.randint(2, 4))
        for m, clinic_name in enumerate(names):
            clinic = b.add(
                PlannedUnit(
                    f"{site.key}/{m}",
                    "NO",
                    "klinikk",
                    clinic_name,
                    site.key,
                    _month(rng, site.opened, date(2010, 1, 1)),
                    orgnr=site.orgnr,
                    sector="somatikk",
                )
            )
            clinics.append(clinic)
            for k, (dept_name, services) in enumerate(_SOMATIC[clinic_name]):
                if rng.random() < 0.25:
                    continue
                dept = b.add(
                    PlannedUnit(
                        f"{clinic.key}/{k}",
                        "NO",
                        "avdeling",
                        dept_name,
                        clinic.key,
                        _month(rng, clinic.opened, date(2014, 1, 1)),
                        orgnr=site.orgnr,
                        services=services,
                        identifiers=(b.her_id(),),
                    )
                )
                for s in rng.sample(_SECTIONS, k=rng.randint(0, 3)):
                    b.add(
                        PlannedUnit(
                            f"{dept.key}/{s}",
                            "NO",
                            "seksjon",
                            f"{dept_name}, {s}",
                            dept.key,
                            _month(rng, dept.opened, date(2016, 1, 1)),
                            orgnr=site.orgnr,
                        )
                    )
    _reorganise(b, clinics)


def _mental_health(b: _Builder, hf: Helseforetak, area: tuple[str, ...]) -> None:
    """A DPS (adult), a BUP (children) and a TSB centre; in some HFs the rus outpatient
    clinic starts inside the DPS and moves to the TSB centre, so its sector changes with its
    place in the tree (seed 001: the split follows the kind of department)."""
    rng = b.rng
    if not area:
        return
    short = hf.name.removesuffix(" HF")
    inst = b.add(
        PlannedUnit(
            f"{hf.orgnr}/psyk",
            "NO",
            "institusjon",
            f"{short} psykisk helsevern og rus",
            hf.orgnr,
            _month(rng, REFORM, date(2005, 1, 1)),
            orgnr=synthetic_no_orgnr(rng),
        )
    )
    code = rng.choice(_largest(area, 3))
    label = kommune_label(code)
    made: dict[str, PlannedUnit] = {}
    for tag, name, sector, depts in (
        (
            "dps",
            f"{label} DPS",
            "phv",
            (
                ("Døgnavdeling", ("P10",)),
                ("Allmennpoliklinikk", ("P20",)),
                ("Ambulant akutteam", ("P30",)),
            ),
        ),
        (
            "bup",
            f"BUP {label}",
            "phbu",
            (("BUP poliklinikk", ("B10",)), ("Ungdomsavdelingen", ("B20",))),
        ),
        (
            "tsb",
            f"{label} rusbehandlingssenter",
            "tsb",
            (
                ("Avrusningsavdeling", ("R10",)),
                ("Døgnavdeling rus", ("R20",)),
                ("LAR-poliklinikk", ("R40",)),
            ),
        ),
    ):
        site = PlannedUnit(
            f"{inst.key}/{tag}",
            "NO",
            "behandlingssted",
            name,
            inst.key,
            _month(rng, inst.opened, date(2008, 1, 1)),
            orgnr=synthetic_no_orgnr(rng),
            sector=sector,
            identifiers=(b.her_id(),),
        )
        site = made[tag] = b.add(_place_kommune(b, site, code))
        for k, (dept_name, services) in enumerate(depts):
            b.add(
                PlannedUnit(
                    f"{site.key}/{k}",
                    "NO",
                    "avdeling",
                    dept_name,
                    site.key,
                    _month(rng, site.opened, date(2012, 1, 1)),
                    orgnr=site.orgnr,
                    services=services,
                )
            )
    # Rus outpatients organised with adult psychiatry first, then moved to the TSB centre.
    rus = b.add(
        PlannedUnit(
            f"{made['dps'].key}/rus",
            "NO",
            "avdeling",
            "Rus-poliklinikk",
            made["dps"].key,
            _month(rng, made["dps"].opened, date(2010, 1, 1)),
            orgnr=made["dps"].orgnr,
            services=("R30",),
            identifiers=(b.her_id(),),
        )
    )
    if rng.random() < 0.6:
        on = _month(rng, max(rus.opened, made["tsb"].opened), date(2019, 1, 1))
        b.event(on, rus.key, "change", changes=(("parent", made["tsb"].key),))


def _reorganise(b: _Builder, clinics: list[PlannedUnit]) -> None:
    """Renames, moves between clinics, a merger of two clinics, closed sections and
    departments — never touching a unit after it closed, never moving into one that closes."""
    rng = b.rng
    children: dict[str, list[PlannedUnit]] = defaultdict(list)
    for unit in b.units:
        if unit.parent is not None:
            children[unit.parent].append(unit)
    clinic_keys = {c.key for c in clinics}
    # A merger: the second clinic's departments move to the first, then it closes.
    if len(clinics) >= 3 and rng.random() < 0.5:
        keep, gone = clinics[0], clinics[1]
        on = _month(
            rng,
            max(keep.opened, gone.opened, *(d.opened for d in children[gone.key])),
            date(2020, 1, 1),
        )
        for dept in children[gone.key]:
            b.event(on, dept.key, "change", changes=(("parent", keep.key),))
        b.event(on, gone.key, "close")
        b.closed[gone.key] = on
    stable = [c for c in clinics if c.key not in b.closed]
    for clinic in clinics:
        if clinic.key in b.closed:
            continue
        if clinic.name in _RENAMES and rng.random() < 0.5:
            b.event(
                _month(rng, clinic.opened, LAST_EVENT),
                clinic.key,
                "change",
                changes=(("name", _RENAMES[clinic.name]),),
            )
        for dept in children[clinic.key]:
            sections = children[dept.key]
            roll = rng.random()
            # Closing first, so every other event of the department can come before it.
            end = LAST_EVENT
            if roll < 0.06:
                end = _month(rng, max([dept.opened, *(s.opened for s in sections)]), LAST_EVENT)
                for section in sections:
                    b.event(end, section.key, "close", order=-1)
                b.event(end, dept.key, "close")
            if dept.name in _RENAMES and rng.random() < 0.4:
                on = _month(rng, dept.opened, end)
                if on < end:
                    b.event(on, dept.key, "change", changes=(("name", _RENAMES[dept.name]),))
            targets = [c for c in stable if c.key != clinic.key and c.key in clinic_keys]
            if 0.06 <= roll < 0.14 and targets:
                target = rng.choice(targets)
                on = _month(rng, max(dept.opened, target.opened), LAST_EVENT)
                b.event(on, dept.key, "change", changes=(("parent", target.key),))
            if roll >= 0.06:
                for section in sections:
                    if rng.random() < 0.1:
                        b.event(_month(rng, section.opened, LAST_EVENT), section.key, "close")
            if dept.identifiers and roll >= 0.06 and rng.random() < 0.1:
                old = dept.identifiers[0][1]
                b.event(
                    _month(rng, dept.opened, LAST_EVENT),
                    dept.key,
                    "identifier",
                    identifier=("her", old, b.her_id()[1]),
                )


def _norway(b: _Builder, hf_limit: int | None) -> None:
    trusts = [h for h in helseforetak() if h.kind == "hf"]
    if hf_limit is not None:
        trusts = trusts[:hf_limit]
    rhfs = {h.rhf_orgnr for h in trusts}
    for h in helseforetak():
        if h.kind == "rhf" and h.orgnr in rhfs:
            b.add(
                PlannedUnit(
                    h.orgnr, "NO", "rhf", h.name, None, REFORM, orgnr=h.orgnr, synthetic=False
                )
            )
    areas = area_kommuner()
    for h in trusts:
        b.add(
            PlannedUnit(
                h.orgnr, "NO", "hf", h.name, h.rhf_orgnr, REFORM, orgnr=h.orgnr, synthetic=False
            )
        )
        area_name = HOSPITAL_TRUST_AREAS[h.orgnr]
        area = areas.get(area_name, ()) if area_name else ()
        _somatic(b, h, area)
        _mental_health(b, h, area)


def _sweden(b: _Builder, lan_limit: int | None) -> None:
    rng = b.rng
    lan = list(refdata_rows("se_lan.csv"))[:lan_limit]
    kommuner: dict[str, list[str]] = defaultdict(list)
    for row in refdata_rows("se_kommuner.csv"):
        kommuner[row["lanskod"]].append(row["kommun_namn_kort"])
    for row in lan:
        code, short = row["lanskod"], row["lan_namn_kort"]
        orgnr = synthetic_se_orgnr(rng)
        region = b.add(
            PlannedUnit(
                f"se/{code}",
                "SE",
                "vardgivare",
                f"Region {short}",
                None,
                SE_START,
                orgnr=orgnr,
                lan=code,
                identifiers=(("hsa", f"SE{orgnr}-VG"),),
            )
        )
        private_orgnr = synthetic_se_orgnr(rng)
        private = b.add(
            PlannedUnit(
                f"se/{code}/p",
                "SE",
                "vardgivare",
                f"{short} Psykologpartner AB",
                None,
                _month(rng, SE_START, date(2018, 1, 1)),
                orgnr=private_orgnr,
                lan=code,
                identifiers=(("hsa", f"SE{private_orgnr}-VG"),),
            )
        )
        places = rng.sample(kommuner[code], k=min(len(kommuner[code]), rng.randint(3, 6)))
        units: list[PlannedUnit] = []
        for n, place in enumerate(places):
            units.append(
                b.add(
                    PlannedUnit(
                        f"{region.key}/{n}",
                        "SE",
                        "vardenhet",
                        f"Vårdcentralen {place}",
                        region.key,
                        _month(rng, SE_START, date(2019, 1, 1)),
                        orgnr=region.orgnr,
                        lan=code,
                        identifiers=(("hsa", f"SE{region.orgnr}-E{n:03d}"),),
                    )
                )
            )
        for tag, name in (
            ("psy", f"Psykiatrimottagning {short}"),
            ("ibt", f"Internetbehandling {short} (1177 Stöd och behandling)"),
        ):
            b.add(
                PlannedUnit(
                    f"{region.key}/{tag}",
                    "SE",
                    "vardenhet",
                    name,
                    region.key,
                    _month(rng, SE_START, date(2018, 1, 1)),
                    orgnr=region.orgnr,
                    lan=code,
                    identifiers=(("hsa", f"SE{region.orgnr}-{tag.upper()}"),),
                )
            )
        b.add(
            PlannedUnit(
                f"{private.key}/0",
                "SE",
                "vardenhet",
                f"Psykologpartner {short}",
                private.key,
                _month(rng, private.opened, date(2020, 1, 1)),
                orgnr=private.orgnr,
                lan=code,
                identifiers=(("hsa", f"SE{private.orgnr}-E000"),),
            )
        )
        for unit in units:
            roll = rng.random()
            if roll < 0.2:
                b.event(
                    _month(rng, unit.opened, LAST_EVENT),
                    unit.key,
                    "change",
                    changes=(("name", unit.name.replace("Vårdcentralen", "Hälsocentralen")),),
                )
            elif roll < 0.3:
                b.event(_month(rng, unit.opened, LAST_EVENT), unit.key, "close")
            elif roll < 0.4:  # taken over by the private vårdgivare (vårdval)
                on = _month(rng, max(unit.opened, private.opened), LAST_EVENT)
                b.event(
                    on,
                    unit.key,
                    "change",
                    changes=(("parent", private.key), ("orgnr", private.orgnr)),
                )


def _place(unit: PlannedUnit) -> str:
    """A readable place of a unit for its poststed: its kommune's name in the year it
    opened, else its name (an RHF's name, for units without a kommune)."""
    if unit.kommune is not None:
        geo = packaged_geography()
        year = unit.opened.year
        if unit.kommune in geo.kommuner_valid_in(year):
            return display_name(geo.name(unit.kommune, year).split(" - ")[0].split("-")[0])
    return unit.name.removesuffix(" RHF")


def _support_rows() -> list[dict[str, str]]:
    """The entries of SSB's list (S6) that are neither an RHF nor a hospital trust."""
    return [
        row
        for row in refdata_rows("no_helseforetak_orgnr_ssb_kostra2020.csv")
        if row["type_etter_navn"] != "RHF" and row["orgnr"] not in HOSPITAL_TRUST_AREAS
    ]


def generate_unit_plan(
    seed: int = 2026,
    *,
    hf_limit: int | None = None,
    lan_limit: int | None = None,
    institutions: bool = False,
) -> UnitPlan:
    """The demo tree for ``seed``: every hospital trust (or the first ``hf_limit``) with its
    RHF and a synthetic tree below, and a synthetic vårdgivare tree for every Swedish län
    (or the first ``lan_limit``). The same seed gives the same plan. Every behandlingssted
    carries the fields of SSB's institution lists (:mod:`helsestat.synth.unit_lists`);
    ``institutions`` adds the support companies and SYNTHETIC private institutions those
    lists have besides the hospital trusts. Then the units the NPR-like episodes need
    (:mod:`helsestat.synth.npr_units`), appended after all others so they change no id."""
    b = _Builder(random.Random(seed))
    _norway(b, hf_limit)
    _sweden(b, lan_limit)
    events = sorted(b.events, key=lambda e: (e.on, e.what == "close", e.order))
    plan = UnitPlan(tuple(b.units), tuple(events))
    plan = add_list_fields(
        plan,
        seed=seed,
        place_of=_place,
        support=support_companies(_support_rows(), display_name) if institutions else (),
        private=institutions,
        orgnr=synthetic_no_orgnr,
    )
    return add_npr_units(
        plan, seed, orgnr=synthetic_no_orgnr, kommune_of=_hf_kommuner, history=kommune_history
    )


def _hf_kommuner(hf_key: str) -> tuple[str, ...]:
    """The kommuner (2024 codes) of a hospital trust's catchment area, most populous first
    (an HF's plan key is its organisation number)."""
    area = HOSPITAL_TRUST_AREAS.get(hf_key)
    return _largest(area_kommuner().get(area, ()), 1000) if area else ()


__all__ = [
    "HOSPITAL_TRUST_AREAS",
    "SERVICES",
    "SERVICE_CLASSIFICATION_ID",
    "SERVICE_CLASSIFICATION_NAME",
    "Helseforetak",
    "PlannedEvent",
    "PlannedUnit",
    "UnitPlan",
    "area_kommuner",
    "display_name",
    "generate_unit_plan",
    "helseforetak",
    "kommune_history",
    "kommune_label",
]


def load_demo(
    session: Session,
    *,
    seed: int = 2026,
    hf_limit: int | None = None,
    lan_limit: int | None = None,
    institutions: bool = False,
    clock: Clock = utc_now,
) -> LoadReport:
    """Load the demo tree into an empty registry (SYNTHETIC below the real RHF/HF;
    ``institutions``: with the support companies and private institutions of the lists)."""
    existing = session.scalar(select(func.count()).select_from(Unit)) or 0
    if existing:
        raise ConflictError(
            "unit.registry_not_empty",
            f"the unit registry has {existing} units already; the demo tree loads into an "
            "empty one",
            hint="point HELSESTAT_DATABASE_URL (or HELSESTAT_DATA_DIR) at a new database",
        )
    plan = generate_unit_plan(
        seed, hf_limit=hf_limit, lan_limit=lan_limit, institutions=institutions
    )
    return load_plan(session, plan, clock=clock)
