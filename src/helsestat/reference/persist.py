"""The reference registries in the reference database: ``helsestat reference load`` writes the
shipped classifications, correspondences, tariff lists, catalogue and population; and the
classifications read back into a :class:`~helsestat.reference.classifications.Registry`.

Classifications and correspondences go through the store's repository
(:func:`~helsestat.reference.classification_store.load_classification`, ``load_correspondence``),
which checks them; what the core KLASS tables have no column for (type, provenance, short
names, notes, table descriptions, weights are in the map) goes into ``classification_meta``.
Everything is written in one transaction and recorded in the audit log.

>>> from helsestat.store.db.database import create_engine_for, migrate
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> counts = load_reference(engine, actor="doctest")
>>> counts["classifications"], counts["tariff records"] > 1000
(22, True)
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from helsestat.reference.catalog import Catalog, load_data_sources
from helsestat.reference.classification_store import (
    ClassificationData,
    CodeData,
    CorrespondenceData,
    LevelData,
    MapRow,
    VersionData,
    load_classification,
    load_correspondence,
)
from helsestat.reference.classifications import (
    Classification,
    Code,
    CorrespondenceTable,
    Level,
    MapItem,
    Registry,
    Version,
)
from helsestat.reference.geography import POPULATION_YEARS, load_geography
from helsestat.reference.klass_data import load_registry
from helsestat.reference.tariff_lists import TariffLists, load_tariff_lists
from helsestat.store.db.audit import record_audit
from helsestat.store.db.database import session_factory
from helsestat.store.db.reference_schema import (
    ClassificationMeta,
    DataSource,
    Population,
    TariffRecord,
)
from helsestat.store.db.schema import (
    Classification as ClassificationRow,
)
from helsestat.store.db.schema import (
    ClassificationCode,
    ClassificationLevel,
    ClassificationVersion,
    Correspondence,
    CorrespondenceMap,
)


def _version_data(v: Version) -> VersionData:
    return VersionData(
        v.id,
        v.name,
        v.valid_from,
        v.valid_to,
        tuple(LevelData(lv.number, lv.name) for lv in v.levels),
        tuple(
            CodeData(c.code, c.name, c.level, c.parent_code, c.valid_from, c.valid_to)
            for c in v.codes
        ),
    )


def save_registry(session: Session, reg: Registry) -> None:
    """Insert or replace every classification, then every correspondence table."""
    for cls in sorted(reg.classifications.values(), key=lambda c: c.id):
        load_classification(
            session,
            ClassificationData(
                cls.id,
                cls.name,
                tuple(_version_data(v) for v in cls.versions),
                description=cls.description,
                owner=cls.owning_section,
            ),
        )
        extras = {
            f"{v.id}/{c.code}": {"shortName": c.short_name, "notes": c.notes}
            for v in cls.versions
            for c in v.codes
            if c.short_name or c.notes
        }
        tables = {
            str(t.id): {"description": t.description}
            for t in reg.correspondences.values()
            if t.source_version in {v.id for v in cls.versions}
        }
        row = session.get(ClassificationMeta, cls.id) or ClassificationMeta(
            classification_id=cls.id
        )
        row.classification_type = cls.classification_type
        row.synthetic = cls.synthetic
        row.source = cls.source
        row.attributes = {
            "statisticalUnits": list(cls.statistical_units),
            "lastModified": cls.last_modified,
            "introductions": {str(v.id): v.introduction for v in cls.versions},
            "codes": extras,
            "correspondenceTables": tables,
        }
        session.add(row)
    session.flush()
    for t in sorted(reg.correspondences.values(), key=lambda t: t.id):
        load_correspondence(
            session,
            CorrespondenceData(
                t.id,
                t.name,
                t.source_version,
                t.target_version,
                tuple(MapRow(m.source_code, m.target_code, m.weight) for m in t.maps),
            ),
        )


def read_registry(session: Session) -> Registry:
    """The classifications and correspondences held by the database."""
    metas = {m.classification_id: m for m in session.scalars(select(ClassificationMeta))}
    levels: dict[int, list[Level]] = defaultdict(list)
    for lv in session.scalars(
        select(ClassificationLevel).order_by(
            ClassificationLevel.version_id, ClassificationLevel.level_number
        )
    ):
        levels[lv.version_id].append(Level(lv.level_number, lv.name))
    versions = list(session.scalars(select(ClassificationVersion)))
    starts = {v.id: v.valid_from for v in versions}
    owner_of = {v.id: v.classification_id for v in versions}
    codes: dict[int, list[Code]] = defaultdict(list)
    for c in session.scalars(
        select(ClassificationCode).order_by(
            ClassificationCode.version_id, ClassificationCode.level, ClassificationCode.code
        )
    ):
        attrs = metas[owner_of[c.version_id]].attributes if owner_of[c.version_id] in metas else {}
        extra = attrs.get("codes", {}).get(f"{c.version_id}/{c.code}", {})
        codes[c.version_id].append(
            Code(
                c.code,
                c.name,
                c.level,
                c.parent_code,
                extra.get("shortName", ""),
                extra.get("notes", ""),
                None if c.valid_from == starts[c.version_id] else c.valid_from,
                c.valid_to,
            )
        )
    by_cls: dict[int, list[Version]] = defaultdict(list)
    for v in versions:
        attrs = metas[v.classification_id].attributes if v.classification_id in metas else {}
        by_cls[v.classification_id].append(
            Version(
                v.id,
                v.name,
                v.valid_from,
                v.valid_to,
                tuple(levels[v.id]),
                tuple(codes[v.id]),
                attrs.get("introductions", {}).get(str(v.id), ""),
            )
        )
    classes = []
    descriptions: dict[str, str] = {}
    for row in session.scalars(select(ClassificationRow)):
        meta = metas.get(row.id)
        cattrs: dict[str, Any] = meta.attributes if meta else {}
        descriptions |= {
            k: v["description"] for k, v in cattrs.get("correspondenceTables", {}).items()
        }
        classes.append(
            Classification(
                row.id,
                row.name,
                tuple(by_cls[row.id]),
                description=row.description,
                classification_type=meta.classification_type if meta else "Klassifikasjon",
                owning_section=row.owner,
                statistical_units=tuple(cattrs.get("statisticalUnits", ())),
                synthetic=meta.synthetic if meta else False,
                source=meta.source if meta else "",
                last_modified=cattrs.get("lastModified", "2026-01-01T00:00:00.000+0000"),
            )
        )
    maps: dict[int, list[MapItem]] = defaultdict(list)
    for m in session.scalars(select(CorrespondenceMap)):
        maps[m.correspondence_id].append(MapItem(m.source_code, m.target_code, m.weight))
    tables = [
        CorrespondenceTable(
            t.id,
            t.name,
            t.source_version_id,
            t.target_version_id,
            tuple(sorted(maps[t.id], key=lambda m: (m.source_code, m.target_code))),
            descriptions.get(str(t.id), ""),
        )
        for t in session.scalars(select(Correspondence))
    ]
    return Registry.of(classes, tables)


def _tariff_rows(lists: TariffLists) -> list[dict[str, Any]]:
    def row(
        name: str,
        rid: Any,
        code: str,
        scope: str | None,
        fra: Any,
        til: Any,
        record: dict[str, Any],
    ) -> dict[str, Any]:
        return {
            "list_name": name,
            "record_id": str(rid),
            "code": code,
            "scope": scope,
            "valid_from": date.fromisoformat(fra) if fra else None,
            "valid_to": date.fromisoformat(til) if til else None,
            "record": record,
        }

    rows = [
        row(
            "takstkoder",
            r["takst_id"],
            r["takstkode"],
            r["fagomraade"],
            r["fradato"],
            r["tildato"],
            r,
        )
        for r in lists.takst_rows
    ]
    rows += [
        row(
            "nlkkoder",
            r["nlkKodeid"],
            r["nlkKode"],
            r["fagomraadeNlk"],
            r["fradato"],
            r["tildato"],
            r,
        )
        for r in lists.nlk_rows
    ]
    rows += [
        row(
            "refusjonskategorisatser",
            r["refusjonskategoriid"],
            r["refusjonskategori"],
            r["samhandlertype"],
            r["fradato"],
            r["tildato"],
            r,
        )
        for r in lists.sats_rows
    ]
    rows += [
        row(
            "apatkombinasjoner",
            i,
            f"{r['t_kode']}/{r['p_kode']}",
            r["samhandler_type"],
            r["fradato"],
            r["tildato"],
            r,
        )
        for i, r in enumerate(lists.apat_rows, 1)
    ]
    rows += [
        row(
            "bandasjister",
            r["sar_id"],
            r["sar_orgnr"],
            r["status"] or None,
            r["gyldig_fra"],
            r["gyldig_til"],
            r,
        )
        for r in lists.bandasjist_rows
    ]
    rows += [
        row("fagomraader", r["kode"], r["kode"], None, None, None, r) for r in lists.fagomraade_rows
    ]
    rows += [
        row("praksistyper", r["kode"], r["kode"], r["fagomraade"], None, None, r)
        for r in lists.praksistype_rows
    ]
    return rows


def save_tariffs(session: Session, lists: TariffLists) -> int:
    """Replace every tariff list; the number of rows written."""
    rows = _tariff_rows(lists)
    session.execute(delete(TariffRecord))
    session.add_all(TariffRecord(**r) for r in rows)
    session.flush()
    return len(rows)


def save_catalog(session: Session, catalog: Catalog) -> int:
    """Replace the data sources of the catalogue; the number written."""
    session.execute(delete(DataSource))
    doc = catalog.to_json()["data_sources"]
    session.add_all(
        DataSource(identifier=d["identifier"], title=d["title"], owner=d["owner"], record=d)
        for d in doc
    )
    session.flush()
    return len(doc)


def save_population(session: Session) -> int:
    """Replace the population per Norwegian kommune (1 January 2024–2026, SSB 07459)."""
    geo = load_geography()
    session.execute(delete(Population))
    rows = [
        Population(country="NO", region_code=k, year=y, population=p)
        for (k, y), p in sorted(geo.population_2024.items())
        if y in POPULATION_YEARS
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)


def load_reference(engine: Engine, *, actor: str = "helsestat reference load") -> dict[str, int]:
    """Write every shipped registry into a migrated database, in one transaction, and record
    it in the audit log. Returns what was written, per kind."""
    reg = load_registry()
    with session_factory(engine).begin() as session:
        save_registry(session, reg)
        counts = {
            "classifications": len(reg.classifications),
            "correspondence tables": len(reg.correspondences),
            "tariff records": save_tariffs(session, load_tariff_lists()),
            "data sources": save_catalog(session, load_data_sources()),
            "population rows": save_population(session),
        }
        record_audit(session, actor, "reference", "all", "load", None, counts)
    return counts


__all__ = [
    "load_reference",
    "read_registry",
    "save_catalog",
    "save_population",
    "save_registry",
    "save_tariffs",
]
