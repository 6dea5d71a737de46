"""Request and response bodies of ``/api/v1/units`` (pydantic at the edge; the registry works
on the dataclasses of :mod:`helsestat.reference.units.model`).

>>> UnitChangeIn(valid_from="2024-01-01", name="Ny avdeling").changes()
{'name': 'Ny avdeling'}
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from helsestat.api.params import BodySmallId, BodyUnitId, IsoDate
from helsestat.reference.units import Identifier, UnitFields, UnitRecord, Version

KindName = Literal[
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
SectorName = Literal["somatikk", "phv", "phbu", "tsb", "rehab"]


#: Lengths the database columns hold; the registry's rules check the content (check digits,
#: codes valid on the day).
Orgnr = Annotated[str, Field(min_length=1, max_length=12)]
Kommune = Annotated[str, Field(min_length=1, max_length=4)]
Lan = Annotated[str, Field(min_length=1, max_length=2)]
ServiceCode = Annotated[str, Field(min_length=1, max_length=40)]
Naeringskode = Annotated[str, Field(min_length=1, max_length=10)]
Postnummer = Annotated[str, Field(min_length=1, max_length=4)]
Poststed = Annotated[str, Field(min_length=1, max_length=100)]
ReportingNumber = Annotated[str, Field(min_length=1, max_length=20)]
ForetakstypeName = Literal["stotteforetak", "oppdragsdokument", "kjopsavtale"]
Helseregion = Annotated[str, Field(min_length=1, max_length=2)]
#: A user name's rule (lower-case letters, digits and . _ @ -) is checked after the rights,
#: so a caller without them learns nothing about the name.
UserName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        description="2-100 characters: lower-case letters, digits and . _ @ -",
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentifierIO(_Strict):
    """An identifier besides the unit id: ``her`` (HER-id, Norway) or ``hsa`` (HSA-id)."""

    scheme: Literal["her", "hsa"]
    value: str = Field(min_length=1, max_length=100)
    valid_from: IsoDate
    valid_to: IsoDate | None = Field(default=None, description="First day no longer valid")

    def to_model(self) -> Identifier:
        return Identifier(self.scheme, self.value, self.valid_from, self.valid_to)

    @classmethod
    def of(cls, identifier: Identifier) -> IdentifierIO:
        return cls(
            scheme=identifier.scheme,
            value=identifier.value,
            valid_from=identifier.valid_from,
            valid_to=identifier.valid_to,
        )


class FieldsIO(_Strict):
    """A unit's fields during one version."""

    kind: KindName
    name: str = Field(min_length=1, max_length=200)
    parent_id: BodyUnitId | None = None
    orgnr: Orgnr | None = Field(default=None, description="Organisation number of its bedrift")
    kommune: Kommune | None = Field(default=None, description="Kommunenummer (Norway)")
    lan: Lan | None = Field(default=None, description="Länskod (Sweden)")
    sector: SectorName | None = Field(default=None, description="NPR sector (clinical units)")
    services: list[ServiceCode] = Field(
        default_factory=list, max_length=500, description="Service codes"
    )
    service_classification: BodySmallId | None = Field(
        default=None, description="Classification the services are coded in (KLASS 610)"
    )
    naeringskode: Naeringskode | None = Field(default=None, description="SN2007 (KLASS 6)")
    postnummer: Postnummer | None = Field(default=None, description="Four digits")
    poststed: Poststed | None = None
    reporting_number: ReportingNumber | None = Field(
        default=None, description="Rapporteringsnummer in SSB's forms"
    )
    foretakstype: ForetakstypeName | None = Field(
        default=None, description="Support company or private institution (else RHF/HF)"
    )
    helseregion: Helseregion | None = Field(default=None, description="An RHF's region")

    def to_model(self) -> UnitFields:
        return UnitFields(
            kind=self.kind,
            name=self.name,
            parent_id=self.parent_id,
            orgnr=self.orgnr,
            kommune=self.kommune,
            lan=self.lan,
            sector=self.sector,
            services=tuple(self.services),
            service_classification=self.service_classification,
            naeringskode=self.naeringskode,
            postnummer=self.postnummer,
            poststed=self.poststed,
            reporting_number=self.reporting_number,
            foretakstype=self.foretakstype,
            helseregion=self.helseregion,
        )


class VersionOut(BaseModel):
    """One version: the fields valid on ``[valid_from, valid_to)``."""

    valid_from: date
    valid_to: date | None
    recorded_at: datetime
    recorded_by: str
    fields: FieldsIO

    @classmethod
    def of(cls, version: Version) -> VersionOut:
        data = version.fields.as_json()
        return cls(
            valid_from=version.valid_from,
            valid_to=version.valid_to,
            recorded_at=version.recorded_at,
            recorded_by=version.recorded_by,
            fields=FieldsIO(**data),
        )


class UnitOut(BaseModel):
    """A unit: permanent id, lifetime, every version and identifier, and links."""

    id: int
    country: Literal["NO", "SE"]
    etag: str = Field(description="Send it back in If-Match to change the unit")
    opened: date
    closed: date | None
    current: VersionOut = Field(description="The version valid today (else the latest)")
    versions: list[VersionOut]
    identifiers: list[IdentifierIO]
    links: dict[str, str]

    @classmethod
    def of(cls, record: UnitRecord, today: date, links: dict[str, str]) -> UnitOut:
        current = record.at(today) or record.latest
        return cls(
            id=record.id,
            country=record.country,
            etag=record.etag,
            opened=record.opened,
            closed=record.closed,
            current=VersionOut.of(current),
            versions=[VersionOut.of(v) for v in record.versions],
            identifiers=[IdentifierIO.of(i) for i in record.identifiers],
            links=links,
        )


class UnitCreate(_Strict):
    """A unit to create (its id comes from the registry's counter)."""

    country: Literal["NO", "SE"]
    valid_from: IsoDate
    valid_to: IsoDate | None = None
    fields: FieldsIO
    identifiers: list[IdentifierIO] = Field(default_factory=list, max_length=100)


class OrganisationCreate(UnitCreate):
    """An organisation to register (registry owner only), with its first administrator."""

    admin: UserName = Field(description="User name of the organisation's first administrator")


class UnitChangeIn(_Strict):
    """Fields to set from ``valid_from``; each new value lasts until that field's next
    recorded change, or until ``until``. Moving a unit is a new ``parent_id``; an explicit
    null clears a field."""

    valid_from: IsoDate
    until: IsoDate | None = None
    kind: KindName | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    parent_id: BodyUnitId | None = None
    orgnr: Orgnr | None = None
    kommune: Kommune | None = None
    lan: Lan | None = None
    sector: SectorName | None = None
    services: list[ServiceCode] | None = Field(default=None, max_length=500)
    service_classification: BodySmallId | None = None
    naeringskode: Naeringskode | None = None
    postnummer: Postnummer | None = None
    poststed: Poststed | None = None
    reporting_number: ReportingNumber | None = None
    foretakstype: ForetakstypeName | None = None
    helseregion: Helseregion | None = None

    def changes(self) -> dict[str, Any]:
        """The fields given (an explicit null clears a field from ``valid_from``)."""
        return self.model_dump(exclude_unset=True, exclude={"valid_from", "until"})


class CloseIn(_Strict):
    """Close a unit: ``date`` is the first day it is no longer valid."""

    date: IsoDate


class NodeOut(BaseModel):
    """A unit in a tree as of a date."""

    id: int
    parent_id: int | None
    kind: str
    name: str
    depth: int
    country: str
    sector: str | None
    children: list[int]


class TreeOut(BaseModel):
    """The tree (or a subtree) on ``date``, depth-first, children by name."""

    date: date
    nodes: list[NodeOut]


class PathOut(BaseModel):
    """A unit and its ancestors on ``date``, the unit first."""

    date: date
    path: list[NodeOut]


class ChangeOut(BaseModel):
    """A change that took effect on ``on``."""

    unit_id: int
    on: date
    what: Literal["opened", "closed", "moved", "renamed", "changed"]
    field: str | None
    before: Any
    after: Any
    name: str


class ChangesOut(BaseModel):
    """Changes taking effect after ``from`` up to and including ``to``."""

    from_: date = Field(alias="from")
    to: date
    changes: list[ChangeOut]

    model_config = ConfigDict(populate_by_name=True)


class SearchHitOut(BaseModel):
    """A unit found by id, identifier or name (current or former)."""

    id: int
    name: str
    kind: str
    matched: str
    opened: date | None = None
    closed: date | None = None
    links: dict[str, str]


class SearchOut(BaseModel):
    """Search results, exact id matches first."""

    query: str
    hits: list[SearchHitOut]


class PlacementOut(BaseModel):
    """Where a unit sits on a date — or why it cannot be placed."""

    unit_id: int
    date: date
    status: Literal["placed", "unknown_id", "not_valid_on_date"]
    rhf_id: int | None = None
    hf_id: int | None = None
    behandlingssted_id: int | None = None
    sector: str | None = None
    vardgivare_id: int | None = None
    vardenhet_id: int | None = None
    lan: str | None = None
    kommune: str | None = None
    names: dict[str, str] = Field(default_factory=dict)


class AuditOut(BaseModel):
    """One entry of a unit's audit trail: who changed what, when, before and after."""

    at: datetime
    actor: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class HistoryOut(BaseModel):
    """A unit's audit trail, oldest first."""

    unit_id: int
    entries: list[AuditOut]


class UserIn(_Strict):
    """A user to create: ``admin`` or ``editor`` of the subtree under ``scope_unit_id``."""

    name: UserName
    role: Literal["owner", "admin", "editor"]
    scope_unit_id: BodyUnitId | None = None


class UserOut(BaseModel):
    """A registry user (tokens are never shown again after they are issued)."""

    name: str
    role: str
    scope_unit_id: int | None
    created_at: datetime
    created_by: str
    disabled: bool
    tokens: int


class IssuedOut(BaseModel):
    """A user and a new token — shown once; only its hash is stored."""

    user: UserOut
    token: str


class TokenIn(_Strict):
    """Issue a token for, or revoke the tokens of, user ``name``."""

    name: UserName
    label: str = Field(default="", max_length=200)


class OrganisationOut(BaseModel):
    """A registered organisation and its first administrator's token."""

    unit: UnitOut
    admin: IssuedOut


class WhoAmI(BaseModel):
    """The caller, as the token identifies it."""

    name: str
    role: str
    scope_unit_id: int | None
