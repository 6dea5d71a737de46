"""A unit plan: units to create and events to apply in date order, loaded into the registry
by :func:`helsestat.reference.units.loader.load_plan` (the demo tree of
:mod:`helsestat.synth.units` is one).

The service code list here is a SYNTHETIC stand-in for KLASS 610 (tjenesteområder), whose
real codes are not in the reference data.

>>> UnitPlan((), ()).services[0]
('S10', 'Indremedisin', 'somatikk')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

#: Classification id of the SYNTHETIC stand-in for KLASS 610 (tjenesteområder); KLASS ids
#: stay below 10 000, so it cannot be mistaken for a real one.
SERVICE_CLASSIFICATION_ID = 99_610
SERVICE_CLASSIFICATION_NAME = "SYNTHETIC tjenesteområder (demo stand-in for KLASS 610)"
#: (code, name, sector) of the stand-in code list.
SERVICES: tuple[tuple[str, str, str], ...] = (
    ("S10", "Indremedisin", "somatikk"),
    ("S20", "Generell kirurgi", "somatikk"),
    ("S30", "Ortopedi", "somatikk"),
    ("S40", "Fødselshjelp og kvinnesykdommer", "somatikk"),
    ("S50", "Barnesykdommer", "somatikk"),
    ("S60", "Nevrologi", "somatikk"),
    ("S70", "Kreftbehandling", "somatikk"),
    ("S80", "Akuttmottak", "somatikk"),
    ("S90", "Rehabilitering", "somatikk"),
    ("S41", "Fødestue", "somatikk"),
    ("H10", "Rehabilitering, døgnopphold", "rehab"),
    ("P10", "Døgnbehandling, voksne", "phv"),
    ("P20", "Poliklinikk, voksne", "phv"),
    ("P30", "Ambulant akutteam", "phv"),
    ("B10", "Poliklinikk, barn og unge", "phbu"),
    ("B20", "Døgnbehandling, barn og unge", "phbu"),
    ("R10", "Avrusning", "tsb"),
    ("R20", "Døgnbehandling, rus", "tsb"),
    ("R30", "Poliklinikk, rus", "tsb"),
    ("R40", "Legemiddelassistert rehabilitering", "tsb"),
)


@dataclass(frozen=True)
class PlannedUnit:
    """A unit of the plan; ``parent`` and event targets are plan keys, not ids."""

    key: str
    country: str
    kind: str
    name: str
    parent: str | None
    opened: date
    orgnr: str | None = None
    kommune: str | None = None
    lan: str | None = None
    sector: str | None = None
    services: tuple[str, ...] = ()
    identifiers: tuple[tuple[str, str], ...] = ()
    synthetic: bool = True
    #: The fields of the institution lists (see :class:`~.model.UnitFields`).
    naeringskode: str | None = None
    postnummer: str | None = None
    poststed: str | None = None
    reporting_number: str | None = None
    foretakstype: str | None = None
    helseregion: str | None = None
    #: Added to the plan after its other units (a later release of the demo tree): it gets
    #: its id after every unit that is not, so adding it changes no other unit's id.
    appended: bool = False


@dataclass(frozen=True)
class PlannedEvent:
    """A change from ``on`` (``changes``: field → value, ``parent`` → a plan key), a closure
    (``close``), or an identifier that ends and is replaced (``identifier``:
    scheme, old value, new value)."""

    on: date
    key: str
    what: str
    changes: tuple[tuple[str, object], ...] = ()
    identifier: tuple[str, str, str] | None = None
    order: int = 0


@dataclass(frozen=True)
class UnitPlan:
    """The demo tree: units to create, then events to apply in date order."""

    units: tuple[PlannedUnit, ...]
    events: tuple[PlannedEvent, ...]
    services: tuple[tuple[str, str, str], ...] = SERVICES

    def depth(self, key: str) -> int:
        """How far below a root the unit starts."""
        by_key = {u.key: u for u in self.units}
        depth, parent = 0, by_key[key].parent
        while parent is not None:
            depth, parent = depth + 1, by_key[parent].parent
        return depth


__all__ = [
    "SERVICES",
    "SERVICE_CLASSIFICATION_ID",
    "SERVICE_CLASSIFICATION_NAME",
    "PlannedEvent",
    "PlannedUnit",
    "UnitPlan",
]
