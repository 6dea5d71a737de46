"""Tables of the unit registry (RESH / HSA-katalogen-like), on the same
:class:`~sqlalchemy.MetaData` as :mod:`helsestat.store.db.schema`; revision ``0003_units``
creates them.

::

    unit_id_counter   the next permanent unit id (one row per counter, only ever increases)
    unit 1──* unit_version      the unit's fields over valid time [valid_from, valid_to),
         │                      each row recorded at ``recorded_at`` and, once a later edit
         │                      replaced it, ``superseded_at`` (bitemporal: nothing is updated
         │                      in place except that stamp)
         1──* unit_identifier   HER-id, HSA-id … with their own validity, same stamps
    unit_user 1──* unit_api_token   administrators scoped to a subtree; tokens stored hashed

A unit is never deleted: it is closed (its last version gets a ``valid_to``). The migration
also installs a trigger on each backend that refuses ``DELETE FROM unit``, and the id counter
never goes back, so an id is never handed out twice.

Validity is half-open like everywhere in helsestat: ``valid_to`` is the first day a version
no longer applies; NULL means "still valid".

>>> sorted(t for t in metadata.tables if t in UNIT_TABLES)[:3]
['unit', 'unit_api_token', 'unit_id_counter']
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from helsestat.store.db.schema import Base, JsonType, UtcDateTime, metadata

#: Every kind of unit: the Norwegian specialist-care tree, then the Swedish HSA tree.
UNIT_KINDS = (
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
)
#: NPR/SSB sectors of clinical units (seed 001: the split follows the kind of department);
#: ``rehab`` (revision 0006): the rehabilitation institutions, an NPR dataset of their own.
SECTORS = ("somatikk", "phv", "phbu", "tsb", "rehab")
COUNTRIES = ("NO", "SE")
ROLES = ("owner", "admin", "editor")
#: The counter that hands out unit ids; it starts where RESH-like ids look plausible.
UNIT_ID_COUNTER = "unit"
FIRST_UNIT_ID = 100_000


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


KIND_CHECK = _in("kind", UNIT_KINDS)
SECTOR_CHECK = f"sector IS NULL OR {_in('sector', SECTORS)}"
COUNTRY_CHECK = _in("country", COUNTRIES)
ROLE_CHECK = _in("role", ROLES)
VALID_RANGE = "valid_to IS NULL OR valid_to > valid_from"


class UnitIdCounter(Base):
    """The next id to hand out; allocation is one atomic ``UPDATE … RETURNING``."""

    __tablename__ = "unit_id_counter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger)


class Unit(Base):
    """A unit's identity: its permanent id, country and the version its ETag is made of."""

    __tablename__ = "unit"
    __table_args__ = (CheckConstraint(COUNTRY_CHECK, name="country"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    country: Mapped[str] = mapped_column(String(2))
    row_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class UnitVersionRow(Base):
    """The fields of a unit over ``[valid_from, valid_to)``, as recorded at ``recorded_at``
    (and replaced at ``superseded_at``; NULL: the current knowledge)."""

    __tablename__ = "unit_version"
    __table_args__ = (
        CheckConstraint(VALID_RANGE, name="valid_range"),
        CheckConstraint(KIND_CHECK, name="kind"),
        CheckConstraint(SECTOR_CHECK, name="sector"),
        Index(None, "unit_id", "superseded_at"),
        Index(None, "parent_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    orgnr: Mapped[str | None] = mapped_column(String(12))
    kommune: Mapped[str | None] = mapped_column(String(4))
    lan: Mapped[str | None] = mapped_column(String(2))
    sector: Mapped[str | None] = mapped_column(String(10))
    service_classification: Mapped[int | None] = mapped_column(Integer)
    services: Mapped[list[str]] = mapped_column(JsonType)
    # Revision 0005_unit_list_fields: what SSB's Institusjonslister and Dropplister need.
    naeringskode: Mapped[str | None] = mapped_column(String(10))
    postnummer: Mapped[str | None] = mapped_column(String(4))
    poststed: Mapped[str | None] = mapped_column(String(100))
    reporting_number: Mapped[str | None] = mapped_column(String(20))
    foretakstype: Mapped[str | None] = mapped_column(String(20))
    helseregion: Mapped[str | None] = mapped_column(String(2))


class UnitIdentifierRow(Base):
    """Another identifier of a unit (``scheme`` her, hsa …) over ``[valid_from, valid_to)``."""

    __tablename__ = "unit_identifier"
    __table_args__ = (
        CheckConstraint(VALID_RANGE, name="valid_range"),
        Index(None, "scheme", "value"),
        Index(None, "unit_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    scheme: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))


class UnitUser(Base):
    """An administrator of the registry: ``role`` owner (everything), admin or editor of the
    subtree under ``scope_unit_id``. ``identity_provider``/``subject`` are for OpenID Connect
    logins (HelseID) later; API tokens work without them."""

    __tablename__ = "unit_user"
    __table_args__ = (
        CheckConstraint(ROLE_CHECK, name="role"),
        CheckConstraint("role = 'owner' OR scope_unit_id IS NOT NULL", name="scoped"),
        # Unique indexes rather than constraints: they reflect the same on both backends.
        Index(None, "name", unique=True),
        Index(None, "identity_provider", "subject", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(10))
    scope_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    identity_provider: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(200))


class UnitApiToken(Base):
    """An API token: ``lookup`` is its public prefix, ``secret_hash`` a salted scrypt hash of
    the rest (``scrypt$<log2 n>$<r>$<p>$<salt hex>$<hash hex>``); the token itself is shown
    once, when it is issued, and never stored."""

    __tablename__ = "unit_api_token"
    __table_args__ = (Index(None, "lookup", unique=True), Index(None, "user_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("unit_user.id"))
    lookup: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(300))
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


#: The tables this module adds to :data:`helsestat.store.db.schema.metadata`.
UNIT_TABLES = (
    "unit_id_counter",
    "unit",
    "unit_version",
    "unit_identifier",
    "unit_user",
    "unit_api_token",
)

__all__ = [
    "COUNTRIES",
    "FIRST_UNIT_ID",
    "ROLES",
    "SECTORS",
    "UNIT_ID_COUNTER",
    "UNIT_KINDS",
    "UNIT_TABLES",
    "Unit",
    "UnitApiToken",
    "UnitIdCounter",
    "UnitIdentifierRow",
    "UnitUser",
    "UnitVersionRow",
    "metadata",
]
