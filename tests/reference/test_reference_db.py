"""``helsestat reference load``: the registries in the reference database, on SQLite and on a
real PostgreSQL (fixtures of tests/store), read back unchanged."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from helsestat.reference.classification_store import read_registry
from helsestat.reference.klass_data import packaged_registry
from helsestat.reference.klass_json import bundle_document
from helsestat.reference.seed import load_reference
from helsestat.store.db import reference_schema
from helsestat.store.db.database import session_factory
from helsestat.store.db.reference_schema import DataSource, Population, TariffRecord
from helsestat.store.db.schema import AuditLog, metadata


def test_migrations_create_the_reference_tables(engine: Engine) -> None:
    assert set(reference_schema.REFERENCE_TABLES) <= set(metadata.tables)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, metadata)
    # Other revisions (e.g. the unit registry's) add tables of their own: only ours count.
    ours = [d for d in diffs if _table_of(d) in reference_schema.REFERENCE_TABLES]
    assert ours == []
    columns = {c["name"] for c in inspect(engine).get_columns("tariff_record")}
    assert columns == {c.name for c in metadata.tables["tariff_record"].columns}


def _table_of(diff: Any) -> str:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        table = getattr(part, "table", None)
        name = getattr(table, "name", None) or getattr(part, "name", None)
        if isinstance(part, str):
            return part
        if name:
            return str(name)
    return ""


def test_load_and_read_back(engine: Engine) -> None:
    counts = load_reference(engine, actor="test")
    again = load_reference(engine, actor="test")  # a second load replaces, never duplicates
    assert counts == again
    shipped = packaged_registry()
    with session_factory(engine)() as session:
        stored = read_registry(session)
        for cid in shipped.classifications:
            assert bundle_document(stored, cid, "x") == bundle_document(shipped, cid, "x")
        assert _count(session, TariffRecord) == counts["tariff records"]
        assert _count(session, DataSource) == 14
        norway = select(func.count()).select_from(Population).where(Population.country == "NO")
        # Norwegian kommuner: 357 in 2024-2026, and since issue 14 every kommune as coded in
        # each year 2015-2023 (SSB 2015-2020: 2 458 rows; estimates 2021-2023 and Vestfold
        # 2015-2017: 1 092 rows)
        assert session.scalar(norway) == 357 * 3 + 2_458 + 1_092
        takst = session.scalars(
            select(TariffRecord).where(
                TariffRecord.list_name == "takstkoder", TariffRecord.code == "2ad"
            )
        ).all()
        assert len(takst) == 13 and all(t.record["takstkode"] == "2ad" for t in takst)
        assert _count(session, AuditLog) == 2


def _count(session: Session, table: type) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)
