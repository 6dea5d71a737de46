"""Tables of the reference database: versioned classifications and correspondences between
them, modelled on SSB KLASS, and the audit log.

::

    classification 1──* classification_version 1──* classification_level
                                               1──* classification_code  (key: version_id, code)
    classification_version (source, target) 1──* correspondence 1──* correspondence_map
    audit_log                                  who changed what, before/after as JSON

Validity intervals are half-open, as in KLASS: a version with ``valid_from`` 2020-01-01 and
``valid_to`` 2024-01-01 covers 2023-12-31 but not 2024-01-01; ``valid_to`` NULL means "still
valid". Classification, version and correspondence ids are the publisher's own (KLASS ids),
never generated here.

The Alembic revisions in ``store/migrations/versions`` create exactly these tables; a test
compares an upgraded database with :data:`metadata` on SQLite and PostgreSQL. Change a table
here only together with a new revision.

>>> sorted(t for t in metadata.tables if t.startswith(("audit", "classification")))[:2]
['audit_log', 'classification']
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: Constraint names are fixed by convention so that migrations can name them on every backend.
NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
}

CODE_LENGTH = 64


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp, stored in UTC and read back aware on every backend
    (SQLite keeps no offset, so naive values read from it are UTC by construction)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: audit and change timestamps must carry a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: JSON on SQLite, JSONB on PostgreSQL.
JsonType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of every reference table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Classification(Base):
    """A classification or code list (KLASS: ``classification``)."""

    __tablename__ = "classification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class ClassificationVersion(Base):
    """One version of a classification, valid on ``[valid_from, valid_to)``."""

    __tablename__ = "classification_version"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    classification_id: Mapped[int] = mapped_column(
        ForeignKey("classification.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class ClassificationLevel(Base):
    """A level of a version's hierarchy (1 = top), e.g. 1 Fylke, 2 Kommune."""

    __tablename__ = "classification_level"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("classification_version.id", ondelete="CASCADE"), primary_key=True
    )
    level_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text)


class ClassificationCode(Base):
    """A code of a version. ``(version_id, code)`` is the key, so a code is unique within
    its version; the parent is a code of the same version, the level one of its levels."""

    __tablename__ = "classification_code"
    __table_args__ = (
        ForeignKeyConstraint(
            ["version_id", "level"],
            ["classification_level.version_id", "classification_level.level_number"],
            name="fk_classification_code_level",
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["version_id", "parent_code"],
            ["classification_code.version_id", "classification_code.code"],
            name="fk_classification_code_parent",
        ),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
    )

    version_id: Mapped[int] = mapped_column(
        ForeignKey("classification_version.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    level: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class Correspondence(Base):
    """A correspondence table from one version to another (e.g. kommuner 2020 → 2024)."""

    __tablename__ = "correspondence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source_version_id: Mapped[int] = mapped_column(
        ForeignKey("classification_version.id", ondelete="CASCADE"), index=True
    )
    target_version_id: Mapped[int] = mapped_column(
        ForeignKey("classification_version.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)


class CorrespondenceMap(Base):
    """One pair of a correspondence; ``weight`` is the share of the source code that goes to
    the target (1 unless a code is split, e.g. by population)."""

    __tablename__ = "correspondence_map"
    __table_args__ = (CheckConstraint("weight > 0 AND weight <= 1", name="weight_share"),)

    correspondence_id: Mapped[int] = mapped_column(
        ForeignKey("correspondence.id", ondelete="CASCADE"), primary_key=True
    )
    source_code: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    target_code: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0, server_default=text("1"))


class AuditLog(Base):
    """One change of a reference entity: who, when, what, and the state before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "entity", "entity_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    entity: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


#: The metadata every migration is checked against.
metadata = Base.metadata


def core(model: type[Base]) -> Table:
    """The Core table of a mapped class, for bulk statements (an ``insert`` of many rows
    runs as one executemany, without the ORM's per-row bookkeeping).

    >>> core(Classification).name
    'classification'
    """
    return metadata.tables[model.__tablename__]


__all__ = [
    "CODE_LENGTH",
    "NAMING_CONVENTION",
    "AuditLog",
    "Base",
    "Classification",
    "ClassificationCode",
    "ClassificationLevel",
    "ClassificationVersion",
    "Correspondence",
    "CorrespondenceMap",
    "JsonType",
    "UtcDateTime",
    "core",
    "metadata",
]
