"""Tables of the reference registries beyond KLASS classifications: classification metadata,
the Helfo tariff code lists, the data source catalogue, the geography the statistics read
(kommune history, recoding to the 2024 structure, population per region) and the version
of it all.

They live on the same :class:`~sqlalchemy.MetaData` as :mod:`helsestat.store.db.schema` (so one
Alembic history and one comparison cover them all); revision ``0002_reference`` creates the
first four, ``0004_reference_snapshot`` the others and the ``position`` columns.

::

    classification 1──1 classification_meta   KLASS fields the core table has no column for
    tariff_record        one row of a Helfo list (takstkoder, nlkkoder, refusjonskategorisatser,
                         apatkombinasjoner, bandasjister, fagomraader, praksistyper); the
                         searchable fields are columns, the whole published record is ``record``,
                         ``position`` its place in the list
    data_source          one entry of the data source catalogue (seed 001), in ``position`` order
    catalog_info         the catalogue's publisher and contact (one row)
    population           residents per region and year (SSB 07459 for Norwegian kommuner)
    kommune_history      every kommune with its years of validity (csdata), before KLASS 131
    kommune_recoding     per year, each kommune code valid then → its 2024 kommuner, weighted
    reference_state      one row: ``version``, bumped in the same transaction as every write
                         to the tables above (readers reload when it moved), and when the
                         packaged files seeded the database

Tariff validity follows Helfo: ``valid_to`` is the last day the row is valid (inclusive),
NULL while it still is. Classification validity stays half-open, as in KLASS.

>>> sorted(t for t in metadata.tables if t in REFERENCE_TABLES)[:4]
['catalog_info', 'classification_meta', 'data_source', 'kommune_history']
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from helsestat.store.db.schema import CODE_LENGTH, Base, JsonType, UtcDateTime, metadata

#: The id of the one row of ``reference_state`` and ``catalog_info``.
SINGLE_ROW = 1


class ClassificationMeta(Base):
    """KLASS classification fields the core ``classification`` table does not hold."""

    __tablename__ = "classification_meta"

    classification_id: Mapped[int] = mapped_column(
        ForeignKey("classification.id", ondelete="CASCADE"), primary_key=True
    )
    classification_type: Mapped[str] = mapped_column(String(50))
    synthetic: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonType)


class TariffRecord(Base):
    """One row of a Helfo tariff list, as published, with its searchable fields as columns."""

    __tablename__ = "tariff_record"
    __table_args__ = (Index(None, "list_name", "code"),)

    list_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH))
    scope: Mapped[str | None] = mapped_column(String(20))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    record: Mapped[dict[str, Any]] = mapped_column(JsonType)
    position: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class DataSource(Base):
    """One data source of the catalogue (identifier such as SOMATIKK, KPR, KUHR)."""

    __tablename__ = "data_source"

    identifier: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JsonType)
    position: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class CatalogInfo(Base):
    """The publisher and contact of the data source catalogue (one row)."""

    __tablename__ = "catalog_info"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    publisher: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(Text)


class Population(Base):
    """Residents of a region (``country`` NO/SE, region code) in a year (1 January)."""

    __tablename__ = "population"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    population: Mapped[int] = mapped_column(Integer)


class KommuneHistory(Base):
    """A Norwegian kommune valid from ``valid_from_year`` to ``valid_to_year`` (inclusive;
    NULL: still valid), by year as csdata's history table has it."""

    __tablename__ = "kommune_history"

    kommunenr: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    valid_from_year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    navn: Mapped[str] = mapped_column(Text)
    valid_to_year: Mapped[int | None] = mapped_column(Integer)


class KommuneRecoding(Base):
    """A kommune code valid in ``year`` and one 2024-structure kommune it became, with the
    share (``weight``) of it that went there."""

    __tablename__ = "kommune_recoding"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kommunenr: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    kommunenr_2024: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)


class ReferenceState(Base):
    """The version of the reference content (one row). Every write to the reference tables
    bumps ``version`` in its own transaction, so a reader that holds a snapshot of version
    n knows it is still current while the row says n. ``seeded_at``: when the packaged files
    were written into the database (NULL: never)."""

    __tablename__ = "reference_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    seeded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


#: The tables this module adds to :data:`helsestat.store.db.schema.metadata`.
REFERENCE_TABLES = (
    "classification_meta",
    "tariff_record",
    "data_source",
    "catalog_info",
    "population",
    "kommune_history",
    "kommune_recoding",
    "reference_state",
)

__all__ = [
    "REFERENCE_TABLES",
    "SINGLE_ROW",
    "CatalogInfo",
    "ClassificationMeta",
    "DataSource",
    "KommuneHistory",
    "KommuneRecoding",
    "Population",
    "ReferenceState",
    "TariffRecord",
    "metadata",
]
