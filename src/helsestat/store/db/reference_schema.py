"""Tables of the reference registries beyond KLASS classifications: classification metadata,
the Helfo tariff code lists, the data source catalogue and population per region.

They live on the same :class:`~sqlalchemy.MetaData` as :mod:`helsestat.store.db.schema` (so one
Alembic history and one comparison cover them all); revision ``0002_reference`` creates them.

::

    classification 1──1 classification_meta   KLASS fields the core table has no column for
    tariff_record        one row of a Helfo list (takstkoder, nlkkoder, refusjonskategorisatser,
                         apatkombinasjoner, bandasjister, fagomraader, praksistyper); the
                         searchable fields are columns, the whole published record is ``record``
    data_source          one entry of the data source catalogue (seed 001)
    population           residents per region and year (SSB 07459 for Norwegian kommuner)

Tariff validity follows Helfo: ``valid_to`` is the last day the row is valid (inclusive),
NULL while it still is. Classification validity stays half-open, as in KLASS.

>>> sorted(t for t in metadata.tables if t in REFERENCE_TABLES)
['classification_meta', 'data_source', 'population', 'tariff_record']
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helsestat.store.db.schema import CODE_LENGTH, Base, JsonType, metadata


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


class DataSource(Base):
    """One data source of the catalogue (identifier such as SOMATIKK, KPR, KUHR)."""

    __tablename__ = "data_source"

    identifier: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JsonType)


class Population(Base):
    """Residents of a region (``country`` NO/SE, region code) in a year (1 January)."""

    __tablename__ = "population"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    population: Mapped[int] = mapped_column(Integer)


#: The tables this module adds to :data:`helsestat.store.db.schema.metadata`.
REFERENCE_TABLES = ("classification_meta", "tariff_record", "data_source", "population")

__all__ = [
    "REFERENCE_TABLES",
    "ClassificationMeta",
    "DataSource",
    "Population",
    "TariffRecord",
    "metadata",
]
