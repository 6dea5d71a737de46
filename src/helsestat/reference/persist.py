"""The reference registries in the reference database: write a
:class:`~helsestat.reference.snapshot.Reference` (or one part of it) and read one back.

Classifications and correspondences go through their repository
(:mod:`helsestat.reference.classification_store`); tariff lists, the data-source catalogue
and the geography (kommune history, recoding to the 2024 structure, population) are written
here. Every write bumps the reference version in the caller's transaction
(:func:`helsestat.reference.state.bump`), so a running server's
:class:`~helsestat.reference.holder.ReferenceHolder` reads the new content on its next check.

>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> from helsestat.reference.seed import packaged_reference
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> with session_factory(engine).begin() as session:
...     counts = write_reference(session, packaged_reference())
>>> counts["classifications"], counts["tariff records"] > 1000
(22, True)
>>> with session_factory(engine)() as session:
...     read_reference(session).tariffs.praksistyper["FALE"]
'LE'
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from helsestat.reference import state
from helsestat.reference.catalog import Catalog, data_sources_from_json
from helsestat.reference.classification_store import read_registry, save_registry
from helsestat.reference.classifications import Registry
from helsestat.reference.geography import Geography, collector_paused
from helsestat.reference.snapshot import Reference
from helsestat.reference.tariffs import LISTS, Record, TariffLists, in_field_order
from helsestat.reference.units.directory import hsa_directory
from helsestat.store.db.reference_schema import (
    SINGLE_ROW,
    CatalogInfo,
    DataSource,
    KommuneHistory,
    KommuneRecoding,
    Population,
    TariffRecord,
)
from helsestat.store.db.schema import Base, core
from helsestat.store.db.schema import Classification as ClassificationRow
from helsestat.store.db.schema import Correspondence as CorrespondenceRow

#: Norwegian kommuner: the ``country`` of their population rows.
NORWAY = "NO"
#: Swedish län: the ``country`` of their population rows.
SWEDEN = "SE"

# -- tariff lists ----------------------------------------------------------------------------

#: Per list: the fields that become the record's id, code, scope, valid_from and valid_to
#: columns (None: the row's position, or no value).
_COLUMNS: dict[str, tuple[str | None, str, str | None, str | None, str | None]] = {
    "takstkoder": ("takst_id", "takstkode", "fagomraade", "fradato", "tildato"),
    "nlkkoder": ("nlkKodeid", "nlkKode", "fagomraadeNlk", "fradato", "tildato"),
    "refusjonskategorisatser": (
        "refusjonskategoriid",
        "refusjonskategori",
        "samhandlertype",
        "fradato",
        "tildato",
    ),
    "apatkombinasjoner": (None, "t_kode", "samhandler_type", "fradato", "tildato"),
    "bandasjister": ("sar_id", "sar_orgnr", "status", "gyldig_fra", "gyldig_til"),
    "fagomraader": ("kode", "kode", None, None, None),
    "praksistyper": ("kode", "kode", "fagomraade", None, None),
}


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _tariff_row(name: str, position: int, r: Record) -> dict[str, Any]:
    rid, code, scope, start, end = _COLUMNS[name]
    code_value = f"{r['t_kode']}/{r['p_kode']}" if name == "apatkombinasjoner" else r[code]
    return {
        "list_name": name,
        "record_id": str(r[rid] if rid else position),
        "code": str(code_value),
        "scope": (r[scope] or None) if scope else None,
        "valid_from": _day(r[start]) if start else None,
        "valid_to": _day(r[end]) if end else None,
        "record": r,
        "position": position,
    }


def save_tariff_list(session: Session, name: str, rows: tuple[Record, ...] | list[Record]) -> int:
    """Replace tariff list ``name`` (one of :data:`~helsestat.reference.tariffs.LISTS`) by
    ``rows``; the number written."""
    session.execute(delete(TariffRecord).where(TariffRecord.list_name == name))
    if rows:
        session.execute(
            insert(core(TariffRecord)), [_tariff_row(name, i, r) for i, r in enumerate(rows, 1)]
        )
    state.bump(session)
    return len(rows)


def save_tariffs(session: Session, lists: TariffLists) -> int:
    """Replace every tariff list; the number of rows written."""
    return sum(save_tariff_list(session, name, lists.rows(name)) for name in LISTS)


def read_tariffs(session: Session) -> TariffLists:
    """The tariff lists, each in its order and with its fields in their published order."""
    rows: dict[str, list[Record]] = {name: [] for name in LISTS}
    for name, record in session.execute(
        select(TariffRecord.list_name, TariffRecord.record).order_by(
            TariffRecord.list_name, TariffRecord.position
        )
    ):
        if name in rows:
            rows[name].append(in_field_order(name, record))
    return TariffLists.of(**rows)


# -- catalogue -------------------------------------------------------------------------------


def save_catalog(session: Session, catalog: Catalog) -> int:
    """Replace the data sources of the catalogue and its publisher; the number written."""
    doc = catalog.to_json()
    session.execute(delete(DataSource))
    session.add_all(
        DataSource(
            identifier=d["identifier"], title=d["title"], owner=d["owner"], record=d, position=i
        )
        for i, d in enumerate(doc["data_sources"], 1)
    )
    info = session.get(CatalogInfo, SINGLE_ROW) or CatalogInfo(id=SINGLE_ROW)
    info.publisher, info.contact = catalog.publisher, catalog.contact
    session.add(info)
    session.flush()
    state.bump(session)
    return len(doc["data_sources"])


def read_catalog(session: Session) -> Catalog:
    """The data sources and the catalogue's publisher (no published tables: those come from
    the statistics' definitions)."""
    info = session.get(CatalogInfo, SINGLE_ROW)
    records = session.scalars(select(DataSource.record).order_by(DataSource.position)).all()
    publisher, contact, sources = data_sources_from_json(
        {
            "publisher": info.publisher if info else "",
            "contact": info.contact if info else "",
            "data_sources": list(records),
        },
        "the reference database (table data_source)",
    )
    return Catalog(publisher, contact, sources, ())


# -- geography -------------------------------------------------------------------------------


def save_geography(session: Session, geography: Geography) -> dict[str, int]:
    """Replace the kommune history, the recoding to the 2024 structure and the population
    of Norwegian kommuner (the kommune structures are KLASS 131, written with the
    classifications); the number of rows of each."""
    session.execute(delete(KommuneHistory))
    session.execute(delete(KommuneRecoding))
    session.execute(delete(Population).where(Population.country == NORWAY))
    history = {(k, start): (navn, end) for k, navn, start, end in geography.history}
    rows: dict[str, list[dict[str, Any]]] = {
        "kommune history rows": [
            {"kommunenr": k, "valid_from_year": start, "navn": navn, "valid_to_year": end}
            for (k, start), (navn, end) in sorted(history.items())
        ],
        "kommune recoding rows": [
            {"year": year, "kommunenr": code, "kommunenr_2024": successor, "weight": weight}
            for year, code, successor, weight in geography.recoding
        ],
        "population rows": [
            {"country": NORWAY, "region_code": k, "year": y, "population": p}
            for (k, y), p in sorted(geography.population_2024.items())
        ],
    }
    tables: dict[str, type[Base]] = {
        "kommune history rows": KommuneHistory,
        "kommune recoding rows": KommuneRecoding,
        "population rows": Population,
    }
    for kind, values in rows.items():
        if values:
            session.execute(insert(core(tables[kind])), values)
    state.bump(session)
    return {kind: len(values) for kind, values in rows.items()}


def read_geography(session: Session, registry: Registry) -> Geography:
    """The geography: structures from KLASS 131 in ``registry``, and the history, recoding
    and population tables."""
    history = [
        (r.kommunenr, r.navn, r.valid_from_year, r.valid_to_year)
        for r in session.execute(
            select(
                KommuneHistory.kommunenr,
                KommuneHistory.navn,
                KommuneHistory.valid_from_year,
                KommuneHistory.valid_to_year,
            ).order_by(KommuneHistory.valid_from_year, KommuneHistory.kommunenr)
        )
    ]
    recoding = [
        (year, code, successor, weight)
        for year, code, successor, weight in session.execute(
            select(
                KommuneRecoding.year,
                KommuneRecoding.kommunenr,
                KommuneRecoding.kommunenr_2024,
                KommuneRecoding.weight,
            ).order_by(
                KommuneRecoding.year, KommuneRecoding.kommunenr, KommuneRecoding.kommunenr_2024
            )
        )
    ]
    population = {
        (code, year): people
        for code, year, people in session.execute(
            select(Population.region_code, Population.year, Population.population).where(
                Population.country == NORWAY
            )
        )
    }
    return Geography.from_registry(registry, history, population, recoding)


# -- everything ------------------------------------------------------------------------------


def holdings(session: Session) -> dict[str, int]:
    """How much reference data the database holds, per kind (the names
    :func:`write_reference` reports).

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     holdings(session)["classifications"]
    0
    """
    tables: dict[str, Any] = {
        "classifications": ClassificationRow,
        "correspondence tables": CorrespondenceRow,
        "tariff records": TariffRecord,
        "data sources": DataSource,
        "kommune history rows": KommuneHistory,
        "kommune recoding rows": KommuneRecoding,
        "population rows": Population,
    }
    return {
        kind: int(session.scalar(select(func.count()).select_from(table)) or 0)
        for kind, table in tables.items()
    }


def write_reference(session: Session, reference: Reference) -> dict[str, int]:
    """Write every part of ``reference`` (classifications insert-or-replace, the other parts
    replace what is there), in the caller's transaction; what was written, per kind."""
    save_registry(session, reference.registry)
    return {
        "classifications": len(reference.registry.classifications),
        "correspondence tables": len(reference.registry.correspondences),
        "tariff records": save_tariffs(session, reference.tariffs),
        "data sources": save_catalog(session, reference.catalog),
        **save_geography(session, reference.geography),
        "Swedish population rows": save_lan_population(session, reference.lan_population),
    }


def save_lan_population(session: Session, figures: Mapping[tuple[str, int], int]) -> int:
    """Replace the population of Swedish län; the number of rows written."""
    session.execute(delete(Population).where(Population.country == SWEDEN))
    rows = [
        {"country": SWEDEN, "region_code": lan, "year": year, "population": people}
        for (lan, year), people in sorted(figures.items())
    ]
    if rows:
        session.execute(insert(core(Population)), rows)
    state.bump(session)
    return len(rows)


def read_lan_population(session: Session) -> dict[tuple[str, int], int]:
    """The population of Swedish län per (län, year)."""
    return {
        (code, year): people
        for code, year, people in session.execute(
            select(Population.region_code, Population.year, Population.population).where(
                Population.country == SWEDEN
            )
        )
    }


def read_reference(session: Session) -> Reference:
    """A snapshot of everything the database holds, at the version it was read at. The
    version is read before and after: a write that lands in between is read again, so the
    parts always belong together."""
    with collector_paused():
        while True:
            before = state.version(session)
            registry = read_registry(session)
            snapshot = Reference(
                registry,
                read_tariffs(session),
                read_geography(session, registry),
                read_catalog(session),
                before,
                read_lan_population(session),
                hsa_directory(session),
            )
            if state.version(session) == before:
                return snapshot
            session.rollback()  # a new transaction sees the newer content


__all__ = [
    "NORWAY",
    "SWEDEN",
    "holdings",
    "read_catalog",
    "read_geography",
    "read_lan_population",
    "read_reference",
    "read_tariffs",
    "save_catalog",
    "save_geography",
    "save_lan_population",
    "save_tariff_list",
    "save_tariffs",
    "write_reference",
]
