"""The reference registries as one immutable value: what the KLASS API, the tariff endpoints,
the catalogue, preflight, recoding, validation and the statistics read — and the Swedish side
of the unit registry by HSA-id: as the registry states it now
(:mod:`helsestat.reference.units.directory`, what SOB figures are placed by) and over time
(:mod:`helsestat.reference.units.hsa`, what SOB events are checked against) — and the
Norwegian side by RESH id over time (:mod:`helsestat.reference.units.resh`, what NPR
episodes are placed by).

A :class:`Reference` is a snapshot of the reference database at one version
(:mod:`helsestat.reference.state`), read by :func:`helsestat.reference.persist.read_reference`
and handed out by a :class:`~helsestat.reference.holder.ReferenceHolder`, which reads it again
only when the database's version has moved. Nothing in it changes after it is made, so any
number of requests and threads can read it at once.

>>> from helsestat.reference.seed import packaged_reference
>>> ref = packaged_reference()
>>> ref.registry.classification(131).name, ref.tariffs.praksistyper["FALE"]
('Standard for kommuneinndeling', 'LE')
>>> ref.code_names().fylker["03"]
'Oslo'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa

from helsestat.reference.catalog import Catalog
from helsestat.reference.classifications import Registry
from helsestat.reference.geography import Geography
from helsestat.reference.hsa_units import NO_HSA_UNITS, HsaUnits
from helsestat.reference.resh_units import NO_RESH_UNITS, ReshUnits
from helsestat.reference.sweden import SWEDISH_REGIONS, Lan
from helsestat.reference.tariffs import TariffLists

#: KLASS's classification of fylker.
FYLKER = 104


@dataclass(frozen=True)
class CodeNames:
    """Public code lists as code → name (fagområde, praksistype, kommune, fylke) or
    → fagområde (takstkode): what a query is checked against and the dashboard shows."""

    fagomraader: dict[str, str]
    praksistyper: dict[str, str]
    takstkoder: dict[str, str]
    kommuner: dict[str, str]
    fylker: dict[str, str]


@dataclass(frozen=True, eq=False)
class Reference:
    """The registry of classifications, the tariff lists, the geography with population and
    the data-source catalogue, as the reference database held them at ``version`` (0: not
    read from a database), the population of Swedish län, and the Swedish units by HSA-id,
    as they are now (``hsa_units``) and over time (``hsa_as_of``); neither in a snapshot of
    the packaged files, which hold no unit registry."""

    registry: Registry
    tariffs: TariffLists
    geography: Geography
    catalog: Catalog
    version: int = 0
    #: Population of Swedish län per (län, year), 31 December (SCB).
    lan_population: Mapping[tuple[str, int], int] = field(default_factory=dict)
    #: The Swedish units as the registry states them now, by every HSA-id they have had
    #: (:func:`~helsestat.reference.units.directory.hsa_directory`); None when not read.
    hsa_units: pa.Table | None = None
    #: The Swedish units by HSA-id over time: who held each HSA-id on each day, under which
    #: vårdgivare (:func:`~helsestat.reference.units.hsa.read_hsa_units`); what SOB events
    #: are checked against. Empty when not read from a database.
    hsa_as_of: HsaUnits = NO_HSA_UNITS
    #: The Norwegian units by RESH id (unit id) over time: where each sits and what it is
    #: on each day (:func:`~helsestat.reference.units.resh.read_resh_units`); what NPR
    #: episodes are checked against and placed by. Empty when not read from a database.
    resh_as_of: ReshUnits = NO_RESH_UNITS

    def lan(self) -> Lan:
        """Sweden's län: names from the classification of Swedish regions, population."""
        names: dict[str, str] = {}
        if SWEDISH_REGIONS in self.registry.classifications:
            for version in self.registry.classification(SWEDISH_REGIONS).versions:
                names |= {c.code: c.name for c in version.codes if c.level == 1}
        return Lan(names, dict(self.lan_population))

    def code_names(self) -> CodeNames:
        """The public code lists with their names: every kommunenummer valid at some time
        since the oldest history row (the newest name wins) and every fylke of KLASS 104's
        versions (fylker of kommuner no version lists keep their number as name)."""
        geo = self.geography
        kommuner: dict[str, str] = {}
        for code, navn, _, _ in sorted(geo.history, key=lambda h: h[2]):
            kommuner[code] = navn
        for first in sorted(geo.by_structure):
            for code, kommune in geo.by_structure[first].items():
                kommuner[code] = kommune.navn
        names: dict[str, str] = {}
        if FYLKER in self.registry.classifications:
            for version in self.registry.classification(FYLKER).versions:
                names |= {c.code: c.name for c in version.codes}
        fylker = {code[:2]: names.get(code[:2], code[:2]) for code in kommuner}
        fylker.update((code, name) for code, name in names.items() if code not in fylker)
        takstkoder = {t.takstkode: t.fagomraade for t in self.tariffs.takster}
        return CodeNames(
            fagomraader=dict(self.tariffs.fagomraader),
            praksistyper=dict(self.tariffs.praksistype_navn),
            takstkoder=dict(sorted(takstkoder.items())),
            kommuner=dict(sorted(kommuner.items())),
            fylker=dict(sorted(fylker.items())),
        )


__all__ = ["FYLKER", "CodeNames", "Reference"]
