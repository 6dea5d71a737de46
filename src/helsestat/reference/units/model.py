"""The values of the unit registry: kinds, sectors, a unit's fields, its versions over valid
time, identifiers, and what a query returns. Frozen dataclasses, no I/O.

A unit's history is a list of :class:`Version` with contiguous half-open validity
``[valid_from, valid_to)``: the first ``valid_from`` is the day it opened, the last
``valid_to`` the day it closed (None while open).

>>> f = UnitFields(kind="avdeling", name="Ortopedisk avdeling", parent_id=100_021)
>>> f.replace(name="Avdeling for ortopedi").name
'Avdeling for ortopedi'
>>> KIND_LABELS["behandlingssted"]
'Behandlingssted'
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from helsestat.errors import ConflictError
from helsestat.store.db.units_schema import COUNTRIES, ROLES, SECTORS, UNIT_KINDS

Kind = Literal[
    "rhf",
    "hf",
    "institusjon",
    "behandlingssted",
    "klinikk",
    "avdeling",
    "seksjon",
    "enhet",
    "vardgivare",
    "vardenhet",
]
Sector = Literal["somatikk", "phv", "phbu", "tsb", "rehab"]
Country = Literal["NO", "SE"]
Role = Literal["owner", "admin", "editor"]

KIND_LABELS: dict[str, str] = {
    "rhf": "RHF",
    "hf": "HF",
    "institusjon": "Institusjon",
    "behandlingssted": "Behandlingssted",
    "klinikk": "Klinikk",
    "avdeling": "Avdeling",
    "seksjon": "Seksjon",
    "enhet": "Enhet",
    "vardgivare": "Vårdgivare",
    "vardenhet": "Vårdenhet",
}
#: seed 001: "somatikk, psykisk helsevern voksne, psykisk helsevern barn og unge og
#: tverrfaglig spesialisert rusbehandling (TSB)", and the rehabilitation institutions NPR
#: holds as a dataset of their own (private institutions with an agreement with an RHF).
SECTOR_LABELS: dict[str, str] = {
    "somatikk": "Somatikk",
    "phv": "Psykisk helsevern voksne",
    "phbu": "Psykisk helsevern barn og unge",
    "tsb": "Tverrfaglig spesialisert rusbehandling (TSB)",
    "rehab": "Rehabilitering",
}
#: The kinds of each country's tree; ``enhet`` (a generic unit) exists in both.
COUNTRY_KINDS: dict[str, frozenset[str]] = {
    "NO": frozenset(UNIT_KINDS) - {"vardgivare", "vardenhet"},
    "SE": frozenset({"vardgivare", "vardenhet", "enhet"}),
}
#: Which kinds may sit directly under which (None: a root, e.g. an RHF or a vårdgivare, or
#: an HF or private institution registered on its own).
ALLOWED_PARENTS: dict[str, frozenset[str | None]] = {
    "rhf": frozenset({None}),
    "hf": frozenset({"rhf", None}),
    "institusjon": frozenset({"hf", "rhf", None}),
    "behandlingssted": frozenset({"institusjon", "hf"}),
    "klinikk": frozenset({"behandlingssted", "institusjon", "hf"}),
    "avdeling": frozenset({"klinikk", "behandlingssted", "institusjon", "hf"}),
    "seksjon": frozenset({"avdeling", "klinikk"}),
    "enhet": frozenset({"seksjon", "avdeling", "klinikk", "behandlingssted", "vardenhet"}),
    "vardgivare": frozenset({None}),
    "vardenhet": frozenset({"vardgivare", "vardenhet"}),
}
#: Kinds that carry a sector (clinical units and the places they belong to).
CLINICAL_KINDS = frozenset(
    {"institusjon", "behandlingssted", "klinikk", "avdeling", "seksjon", "enhet"}
)
#: Identifier schemes besides the unit id, with the country they belong to.
IDENTIFIER_SCHEMES: dict[str, str] = {"her": "NO", "hsa": "SE"}
#: The fields a change may set.
CHANGEABLE = (
    "kind",
    "name",
    "parent_id",
    "orgnr",
    "kommune",
    "lan",
    "sector",
    "services",
    "service_classification",
    "naeringskode",
    "postnummer",
    "poststed",
    "reporting_number",
    "foretakstype",
    "helseregion",
)
#: KLASS 610 "Kodeliste for tjenesteområder i spesialisthelsetjenesten" (seed 002: services
#: are coded "ved hjelp av et kodeverk for spesialisthelsetjenesten").
DEFAULT_SERVICE_CLASSIFICATION = 610
#: KLASS 6 "Standard for næringsgruppering (SN2007)": a unit's næringskode is a code of its
#: version valid on the day (Institusjonslister: SSB's næringskode and næringsnavn).
NAERINGSKODE_CLASSIFICATION = 6
#: What kind of foretak an institution (or an HF) is besides an ordinary HF, in the words of
#: SSB's Institusjonslister: a support company (KLASS 605, public), a private institution
#: with oppdragsdokument (KLASS 604) or a private one with a purchase agreement (kjøpsavtale).
FORETAKSTYPE_LABELS: dict[str, str] = {
    "stotteforetak": "Støtteforetak",
    "oppdragsdokument": "Private med oppdragsdokument",
    "kjopsavtale": "Private med kjøpsavtale",
}
#: The kinds that may carry each foretakstype: a support company is an HF or an institution
#: (a company that is not an HF, e.g. an AS); private foretak are institutions.
FORETAKSTYPE_KINDS: dict[str, frozenset[str]] = {
    "stotteforetak": frozenset({"hf", "institusjon"}),
    "oppdragsdokument": frozenset({"institusjon"}),
    "kjopsavtale": frozenset({"institusjon"}),
}

assert set(KIND_LABELS) == set(UNIT_KINDS) == set(ALLOWED_PARENTS)
assert set(SECTOR_LABELS) == set(SECTORS)
assert set(COUNTRY_KINDS) == set(COUNTRIES) and set(ROLES) == {"owner", "admin", "editor"}


@dataclass(frozen=True)
class UnitFields:
    """What a unit is during one version: everything but its id and validity."""

    kind: str
    name: str
    parent_id: int | None = None
    orgnr: str | None = None
    kommune: str | None = None
    lan: str | None = None
    sector: str | None = None
    services: tuple[str, ...] = ()
    service_classification: int | None = None
    #: SN2007 code (KLASS 6) of the bedrift, e.g. ``86.101``.
    naeringskode: str | None = None
    #: Postnummer (four digits) and poststed of the bedrift's address.
    postnummer: str | None = None
    poststed: str | None = None
    #: Rapporteringsnummer: the number the unit reports to SSB's forms under.
    reporting_number: str | None = None
    #: See :data:`FORETAKSTYPE_LABELS` (None: an RHF, an HF or a unit inside a foretak).
    foretakstype: str | None = None
    #: Helseregion number of an RHF (two digits, e.g. ``01``).
    helseregion: str | None = None

    def replace(self, **changes: Any) -> UnitFields:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def as_json(self) -> dict[str, Any]:
        """The fields as JSON-ready values (for the audit log and the API)."""
        out = dataclasses.asdict(self)
        out["services"] = list(self.services)
        return out


@dataclass(frozen=True)
class Span:
    """Fields valid on ``[valid_from, valid_to)``; ``valid_to`` None: still valid."""

    valid_from: date
    valid_to: date | None
    fields: UnitFields

    def covers(self, day: date) -> bool:
        """True when ``day`` lies in the span."""
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class Version:
    """A stored version of a unit: a :class:`Span` plus when and by whom it was recorded."""

    unit_id: int
    valid_from: date
    valid_to: date | None
    fields: UnitFields
    recorded_at: datetime
    recorded_by: str

    @property
    def span(self) -> Span:
        return Span(self.valid_from, self.valid_to, self.fields)

    def covers(self, day: date) -> bool:
        """True when ``day`` lies in the version's validity."""
        return self.span.covers(day)


@dataclass(frozen=True)
class Identifier:
    """Another identifier of a unit (HER-id, HSA-id) valid on ``[valid_from, valid_to)``."""

    scheme: str
    value: str
    valid_from: date
    valid_to: date | None = None


@dataclass(frozen=True)
class UnitRecord:
    """A unit as stored now: id, country, its versions oldest first, identifiers, and the
    ``row_version`` its ETag is made of."""

    id: int
    country: str
    row_version: int
    created_at: datetime
    created_by: str
    versions: tuple[Version, ...]
    identifiers: tuple[Identifier, ...] = ()

    @property
    def opened(self) -> date:
        """The first day the unit was valid."""
        return self.versions[0].valid_from

    @property
    def closed(self) -> date | None:
        """The first day the unit was no longer valid (None while open)."""
        return self.versions[-1].valid_to

    @property
    def etag(self) -> str:
        """A strong, quoted ETag that changes with every edit of the unit."""
        return f'"unit-{self.id}-{self.row_version}"'

    def at(self, day: date) -> Version | None:
        """The version valid on ``day``, if any."""
        return next((v for v in self.versions if v.covers(day)), None)

    @property
    def latest(self) -> Version:
        """The newest version (the current one unless the unit is closed)."""
        return self.versions[-1]


_ETAG = re.compile(r'"unit-([0-9]{1,18})-([0-9]{1,18})"', re.ASCII)


@dataclass(frozen=True)
class IfMatch:
    """The ``If-Match`` header of a write as received (None: not sent). The registry reads
    it only after it has checked the writer's rights, so a caller without them learns 403,
    never whether its precondition held; and only a real ETag of the unit is a
    precondition — ``*`` would make the write unconditional, so it is refused like a
    missing header.

    >>> IfMatch('"unit-100012-3"').version(100012)
    3
    >>> IfMatch("*").version(100012)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    helsestat.errors.ConflictError: changing unit 100012 needs If-Match ... not '*' (hint: ...)
    """

    header: str | None

    def version(self, unit_id: int) -> int:
        """The ``row_version`` the header names: 428 when it is missing or ``*``, 412 when
        it is not a strong ETag of this unit."""
        tag = (self.header or "").strip()
        if not tag or tag == "*":
            raise ConflictError(
                "unit.precondition_required",
                f"changing unit {unit_id} needs If-Match with the unit's ETag"
                + (", not '*'" if tag == "*" else ""),
                hint=f"GET /api/v1/units/{unit_id}, then send its ETag header back in If-Match",
                status=428,
            )
        match = _ETAG.fullmatch(tag)
        if match is None or int(match.group(1)) != unit_id:
            raise ConflictError(
                "unit.precondition_failed",
                f"If-Match is not an ETag of unit {unit_id}",
                hint=f"use the ETag of GET /api/v1/units/{unit_id} (strong, quoted)",
                status=412,
            )
        return int(match.group(2))


#: What a write checks before it changes a unit: nothing (None, for loaders and the CLI), the
#: ``row_version`` the caller read, or an API request's ``If-Match``.
Expected = int | IfMatch | None


@dataclass(frozen=True)
class NewUnit:
    """A unit to create, valid from ``valid_from`` (to ``valid_to``, if it is already known
    to have closed), with its identifiers."""

    country: str
    fields: UnitFields
    valid_from: date
    valid_to: date | None = None
    identifiers: tuple[Identifier, ...] = ()


@dataclass(frozen=True)
class Node:
    """A unit in a tree as of a date."""

    id: int
    parent_id: int | None
    kind: str
    name: str
    depth: int
    country: str = "NO"
    sector: str | None = None
    children: tuple[int, ...] = ()


@dataclass(frozen=True)
class Change:
    """One change of a unit that took effect on ``on``: opened, closed, moved, renamed or
    another field changed (``field``, ``before``, ``after``)."""

    unit_id: int
    on: date
    what: str
    field: str | None = None
    before: Any = None
    after: Any = None
    name: str = ""


@dataclass(frozen=True)
class Principal:
    """Who is writing: a user of the registry (or the system, for loaders)."""

    name: str
    role: str
    scope_unit_id: int | None = None
    user_id: int | None = None


#: The actor of loaders and CLI commands run by whoever controls the database.
SYSTEM = Principal(name="system", role="owner")


@dataclass(frozen=True)
class UserRecord:
    """A registry user as stored (no token: only its hash is kept)."""

    id: int
    name: str
    role: str
    scope_unit_id: int | None
    created_at: datetime
    created_by: str
    disabled: bool = False
    tokens: int = 0

    @property
    def principal(self) -> Principal:
        return Principal(self.name, self.role, self.scope_unit_id, self.id)


@dataclass(frozen=True)
class IssuedToken:
    """A user and a freshly issued token: the only time the token is visible."""

    user: UserRecord
    token: str = field(repr=False)


__all__ = [
    "ALLOWED_PARENTS",
    "CHANGEABLE",
    "CLINICAL_KINDS",
    "COUNTRY_KINDS",
    "DEFAULT_SERVICE_CLASSIFICATION",
    "FORETAKSTYPE_KINDS",
    "FORETAKSTYPE_LABELS",
    "IDENTIFIER_SCHEMES",
    "KIND_LABELS",
    "NAERINGSKODE_CLASSIFICATION",
    "SECTOR_LABELS",
    "SYSTEM",
    "Change",
    "Country",
    "Expected",
    "Identifier",
    "IfMatch",
    "IssuedToken",
    "Kind",
    "NewUnit",
    "Node",
    "Principal",
    "Role",
    "Sector",
    "Span",
    "UnitFields",
    "UnitRecord",
    "UserRecord",
    "Version",
]
