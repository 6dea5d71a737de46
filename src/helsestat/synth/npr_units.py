"""The units the NPR-like episodes need in the demo unit tree, added after every other unit
(SYNTHETIC DATA): per RHF one private rehabilitation institution with an agreement
(oppdragsdokument) and a fødestue, and one behandlingssted that moves from one HF to another
in mid-2024 and keeps its id (issue 15).

They come from a random generator of their own and are ``appended`` to the plan, so they
get ids after every other unit: the ids and histories of the units the tree had before stay
as they were.

How the registry tells what they are (what the SSB variant of the activity figures leaves
out, :mod:`helsestat.validate.npr`): a fødestue carries the service :data:`FODESTUE_SERVICE`
(of the SYNTHETIC stand-in for KLASS 610) and, like the rehabilitation institutions, the
næringskode of other health services (KLASS 6, not ``86.1`` hospital services).

>>> from helsestat.synth.units import generate_unit_plan
>>> plan = generate_unit_plan(seed=7, hf_limit=2, lan_limit=1)
>>> sorted(u.name for u in plan.units if u.appended and u.sector == "rehab")
['Fjellheim rehabiliteringssenter']
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import date

from helsestat.reference.units.plan import PlannedEvent, PlannedUnit, UnitPlan
from helsestat.synth.unit_lists import naering_events

#: The service code (SYNTHETIC stand-in for KLASS 610) that marks a fødestue.
FODESTUE_SERVICE = "S41"
#: The service code of a rehabilitation institution's stays.
REHAB_SERVICE = "H10"
#: The day the moving behandlingssted changes HF.
MOVE_DAY = date(2024, 7, 1)
#: SYNTHETIC names of the rehabilitation institutions, one per RHF in the order of the plan.
REHAB_NAMES = (
    "Fjellheim rehabiliteringssenter",
    "Kystlys rehabilitering",
    "Trollvik opptreningssenter",
    "Nordvang rehabiliteringssenter",
)
_FIRST_REPORTING_NUMBER = 889_000_000


def _reporting(n: int) -> str:
    return str(_FIRST_REPORTING_NUMBER + n)


def add_npr_units(
    plan: UnitPlan,
    seed: int,
    *,
    orgnr: Callable[[random.Random], str],
    kommune_of: Callable[[str], tuple[str, ...]],
    history: Callable[[str, int], dict[int, str] | None],
) -> UnitPlan:
    """``plan`` with the units of the module docstring appended. ``orgnr`` draws SYNTHETIC
    organisation numbers, ``kommune_of`` gives an HF's kommuner (2024 codes, by the HF's
    plan key), ``history`` the code of a 2024 kommune in each year from a first year (as
    :func:`helsestat.synth.units.kommune_history`)."""
    rng = random.Random(f"npr-units-{seed}")
    units: list[PlannedUnit] = []
    events: list[PlannedEvent] = []
    rhfs = [u for u in plan.units if u.country == "NO" and u.kind == "rhf"]
    keys = {u.key for u in plan.units}
    count = 0

    def add(unit: PlannedUnit, role: str | None, kommune: str | None = None) -> PlannedUnit:
        nonlocal count
        if kommune is not None:
            found = history(kommune, unit.opened.year)
            if found is not None:
                unit = dataclasses.replace(unit, kommune=found[unit.opened.year])
                for year in range(unit.opened.year + 1, 2025):
                    if found[year] != found[year - 1]:
                        events.append(
                            PlannedEvent(
                                date(year, 1, 1),
                                unit.key,
                                "change",
                                (("kommune", found[year]),),
                                order=len(events),
                            )
                        )
        if role is not None:
            code, more = naering_events(unit.key, role, unit.opened)
            unit = dataclasses.replace(
                unit,
                naeringskode=code,
                reporting_number=_reporting(count),
                postnummer=f"{rng.randint(1, 9999):04d}",
                poststed=unit.name.split()[0],
            )
            events.extend(more)
            count += 1
        units.append(unit)
        return unit

    for n, rhf in enumerate(rhfs):
        hfs = [u for u in plan.units if u.kind == "hf" and u.parent == rhf.key]
        trusts = [h for h in hfs if f"{h.key}/som" in keys]
        name = REHAB_NAMES[n % len(REHAB_NAMES)]
        opened = date(rng.choice((2004, 2008, 2012)), 1, 1)
        foretak = add(
            PlannedUnit(
                f"npr/rehab/{n}",
                "NO",
                "institusjon",
                f"{name} AS",
                rhf.key,
                opened,
                orgnr=orgnr(rng),
                foretakstype="oppdragsdokument",
                appended=True,
            ),
            None,
        )
        home = kommune_of(trusts[0].key) if trusts else ()
        add(
            PlannedUnit(
                f"{foretak.key}/0",
                "NO",
                "behandlingssted",
                name,
                foretak.key,
                opened,
                orgnr=orgnr(rng),
                sector="rehab",
                services=(REHAB_SERVICE,),
                appended=True,
            ),
            "annet",
            rng.choice(home) if home else None,
        )
        if not trusts:
            continue
        hf = trusts[-1]
        small = kommune_of(hf.key)[-3:]
        add(
            PlannedUnit(
                f"npr/fodestue/{n}",
                "NO",
                "behandlingssted",
                f"{hf.name.removesuffix(' HF')} fødestue",
                f"{hf.key}/som",
                date(2008, 1, 1),
                orgnr=orgnr(rng),
                sector="somatikk",
                services=(FODESTUE_SERVICE,),
                appended=True,
            ),
            "annet",
            rng.choice(small) if small else None,
        )
    movers = [
        hfs
        for rhf in rhfs
        if len(hfs := [u for u in plan.units if u.kind == "hf" and u.parent == rhf.key]) >= 2
        and all(f"{h.key}/som" in keys for h in hfs[:2])
    ]
    if movers:
        before, after = movers[0][0], movers[0][1]
        mover = add(
            PlannedUnit(
                "npr/moving",
                "NO",
                "behandlingssted",
                f"{after.name.removesuffix(' HF')} lokalsykehus",
                f"{before.key}/som",
                date(2010, 1, 1),
                orgnr=orgnr(rng),
                sector="somatikk",
                services=("S10", "S20"),
                appended=True,
            ),
            "somatikk",
            (kommune_of(after.key) or (None,))[0],
        )
        events.append(
            PlannedEvent(MOVE_DAY, mover.key, "change", (("parent", f"{after.key}/som"),))
        )
    ordered = sorted([*plan.events, *events], key=lambda e: (e.on, e.what == "close", e.order))
    return dataclasses.replace(plan, units=(*plan.units, *units), events=tuple(ordered))


def moving_unit(plan: UnitPlan) -> PlannedUnit | None:
    """The behandlingssted of the plan that changes HF on :data:`MOVE_DAY` (None in a plan
    with no RHF of two HFs)."""
    return next((u for u in plan.units if u.key == "npr/moving"), None)


__all__ = [
    "FODESTUE_SERVICE",
    "MOVE_DAY",
    "REHAB_NAMES",
    "REHAB_SERVICE",
    "add_npr_units",
    "moving_unit",
]
