"""The Alembic migrations create exactly ``schema.metadata``, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, Engine, inspect, text

from helsestat.errors import StoreError
from helsestat.reference.classification_store import (
    codes_at,
    load_classification,
)
from helsestat.reference.classifications import Classification, Code, Level, Version
from helsestat.store.db.database import (
    create_engine_for,
    downgrade,
    head_revision,
    migrate,
    session_factory,
)
from helsestat.store.db.tables import metadata


def _reflected(engine: Engine) -> dict[str, dict[str, Any]]:
    inspector = inspect(engine)
    return {
        table: {
            "columns": [(c["name"], c["nullable"]) for c in inspector.get_columns(table)],
            "pk": (
                inspector.get_pk_constraint(table)["name"],
                inspector.get_pk_constraint(table)["constrained_columns"],
            ),
            "fks": sorted(
                (
                    fk["name"],
                    *fk["constrained_columns"],
                    "->",
                    fk["referred_table"],
                    *fk["referred_columns"],
                    (fk["options"] or {}).get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (ix["name"], *ix["column_names"]) for ix in inspector.get_indexes(table)
            ),
            "checks": sorted(ck["name"] for ck in inspector.get_check_constraints(table)),
        }
        for table in sorted(inspector.get_table_names())
        if table != "alembic_version"
    }


def _declared() -> dict[str, dict[str, Any]]:
    return {
        name: {
            "columns": [(c.name, c.nullable) for c in table.columns],
            "pk": (table.primary_key.name, [c.name for c in table.primary_key.columns]),
            "fks": sorted(
                (
                    fk.name,
                    *fk.column_keys,
                    "->",
                    fk.referred_table.name,
                    *(e.column.name for e in fk.elements),
                    fk.ondelete,
                )
                for fk in table.foreign_key_constraints
            ),
            "indexes": sorted((ix.name, *(c.name for c in ix.columns)) for ix in table.indexes),
            "checks": sorted(
                str(ck.name) for ck in table.constraints if isinstance(ck, CheckConstraint)
            ),
        }
        for name, table in sorted(metadata.tables.items())
    }


def test_upgrade_head_creates_exactly_the_metadata(engine: Engine) -> None:
    assert _reflected(engine) == _declared()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        assert context.get_current_revision() == head_revision()


def _kommuner(name: str) -> Classification:
    version = Version(
        1, "Kommuner", date(2024, 1, 1), None, (Level(1, "Kommune"),), (Code("0301", name),)
    )
    return Classification(131, "Kommuner", (version,))


def test_migrate_is_idempotent_and_keeps_data(database_url: str) -> None:
    migrate(database_url)
    engine = create_engine_for(database_url)
    try:
        with session_factory(engine).begin() as session:
            load_classification(session, _kommuner("Oslo"))
        migrate(database_url)
        migrate(engine)
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        with session_factory(engine)() as session:
            assert [c.name for c in codes_at(session, 131, date(2024, 6, 1))] == ["Oslo"]
    finally:
        engine.dispose()
    assert versions == [(head_revision(),)]


def test_downgrade_to_base_drops_everything_and_upgrades_again(engine: Engine) -> None:
    downgrade(engine, "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 0
    migrate(engine)
    assert _reflected(engine) == _declared()


def test_an_unknown_revision_is_a_store_error(engine: Engine) -> None:
    with pytest.raises(StoreError) as caught:
        migrate(engine, "9999")
    assert caught.value.code == "store.migration_failed"
    assert "'9999'" in caught.value.message
    assert "head" in caught.value.hint


def test_concurrent_migrations_wait_for_each_other(database_url: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate(database_url)
        except StoreError as exc:  # collected: an exception in a thread would be lost
            errors.append(exc)

    # Daemon threads with a deadline: without the lock they can block each other for good.
    threads = [threading.Thread(target=run, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [t for t in threads if t.is_alive()] == []
    assert errors == []
    engine = create_engine_for(database_url)
    try:
        assert _reflected(engine) == _declared()
    finally:
        engine.dispose()
