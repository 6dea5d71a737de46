"""The reference database is the single source of truth: the packaged files written into it
read back as the same registries (SQLite and a real PostgreSQL), a snapshot is reused while
the database's version stands and read again once a write moved it, and a new database is
seeded once, however many processes open it together."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select

from helsestat.errors import ProtectionError, StoreError
from helsestat.reference import state
from helsestat.reference.files import load_files
from helsestat.reference.holder import ReferenceHolder
from helsestat.reference.klass_json import bundle_document
from helsestat.reference.persist import read_reference, save_tariff_list, write_reference
from helsestat.reference.seed import packaged_reference, seed_if_new
from helsestat.reference.tariffs import LISTS
from helsestat.statistics.takstbruk import TAKSTBRUK
from helsestat.store.db.database import create_engine_for, migrate, session_factory
from helsestat.store.db.reference_schema import ReferenceState
from helsestat.store.db.schema import AuditLog


def test_the_packaged_files_read_back_unchanged(engine: Engine) -> None:
    packaged = packaged_reference()
    with session_factory(engine).begin() as session:
        write_reference(session, packaged)
    with session_factory(engine)() as session:
        stored = read_reference(session)
    for cid in packaged.registry.classifications:
        assert bundle_document(stored.registry, cid, "x") == bundle_document(
            packaged.registry, cid, "x"
        )
    for name in LISTS:  # every record, in order, with its fields in the published order
        rows = stored.tariffs.rows(name)
        assert rows == packaged.tariffs.rows(name), name
        assert [list(r) for r in rows] == [list(r) for r in packaged.tariffs.rows(name)], name
    assert stored.catalog == packaged.catalog
    assert stored.geography.digest == packaged.geography.digest
    # Halden 2023: since issue 14 its own (estimated) 1 January figure, no longer the 2024 one
    assert stored.geography.population_if_known("3001", 2023) == 31_794
    assert stored.geography.population_if_known("3001", 2020) == 31_373  # SSB 07459
    assert stored.code_names() == packaged.code_names()
    assert stored.version > 0


def test_a_snapshot_is_kept_until_the_version_moves(tmp_path: Path) -> None:
    holder = ReferenceHolder(f"sqlite:///{(tmp_path / 'reference.db').as_posix()}")
    try:
        first = holder.get()
        assert holder.seeded is not None and holder.seeded["classifications"] == 22
        assert holder.get() is first  # nothing changed: the same snapshot, not read again
        with session_factory(holder.engine()).begin() as session:
            rows = [r | {"beskrivelse": "Lege (endret)"} if r["kode"] == "LE" else r
                    for r in first.tariffs.rows("fagomraader")]  # fmt: skip
            save_tariff_list(session, "fagomraader", rows)
        second = holder.get()
        assert second is not first and second.version > first.version
        assert second.tariffs.fagomraader["LE"] == "Lege (endret)"
        assert first.tariffs.fagomraader["LE"] == "Lege"  # a snapshot never changes
    finally:
        holder.dispose()


def test_with_an_interval_the_version_is_checked_only_that_often(tmp_path: Path) -> None:
    now = [0.0]
    url = f"sqlite:///{(tmp_path / 'reference.db').as_posix()}"
    holder = ReferenceHolder(url, refresh_seconds=5, clock=lambda: now[0])
    try:
        first = holder.get()
        path = tmp_path / "no_kuhr_fagomrader.csv"
        path.write_text("fagomrade_kode,beskrivelse\nLE,Lege\n", encoding="utf-8")
        load_files(holder.engine(), [path])
        now[0] = 4.0
        assert holder.get() is first  # within the interval: served without asking
        now[0] = 5.0
        assert list(holder.get().tariffs.fagomraader) == ["LE"]
        holder.invalidate()
        assert holder.get().version == holder.get().version  # checked again, unchanged
    finally:
        holder.dispose()


def test_a_database_that_may_not_be_seeded_stays_empty(tmp_path: Path) -> None:
    holder = ReferenceHolder(f"sqlite:///{(tmp_path / 'reference.db').as_posix()}", seed=False)
    try:
        empty = holder.get()
    finally:
        holder.dispose()
    assert holder.seeded is None
    assert empty.registry.classifications == {} and empty.tariffs.takst_rows == ()


def test_processes_starting_together_seed_once(database_url: str) -> None:
    migrate(database_url)
    seeded: list[object] = []
    errors: list[BaseException] = []

    def start() -> None:
        engine = create_engine_for(database_url)
        try:
            seeded.append(seed_if_new(engine))
        except BaseException as exc:  # the assertion below names it
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(s is not None for s in seeded) == 1
    engine = create_engine_for(database_url)
    try:
        with session_factory(engine)() as session:
            assert state.seeded(session)
            assert session.scalar(select(func.count()).select_from(AuditLog)) == 1
    finally:
        engine.dispose()


def test_a_database_without_the_state_row_is_not_migrated(engine: Engine) -> None:
    with session_factory(engine)() as session:
        session.execute(delete(ReferenceState))
        with pytest.raises(StoreError) as caught:
            state.version(session)
    assert caught.value.code == "store.not_migrated"


def test_protecting_without_the_reference_is_refused() -> None:
    maned = next(t for t in TAKSTBRUK.tables if t.name == "takstbruk/kommune/maned")
    with pytest.raises(ProtectionError) as caught:
        maned.rules()
    assert caught.value.code == "protect.reference_missing"
    bound = maned.with_reference(packaged_reference())
    (rule,) = bound.rules()
    assert rule.label == "population<=10000"
    assert packaged_reference().geography.digest in repr(rule)  # a new population: new pieces


def test_rules_read_the_population_of_the_snapshot_they_are_made_from() -> None:
    packaged = packaged_reference()
    geo = packaged.geography
    fewer = type(geo).of(
        {first: (last, geo.by_structure[first]) for first, last in geo.structures},
        geo.history,
        {key: 10 for key in geo.population_2024},
        geo.recoding,
    )
    small = type(packaged)(packaged.registry, packaged.tariffs, fewer, packaged.catalog)
    maned = next(t for t in TAKSTBRUK.tables if t.name == "takstbruk/kommune/maned")
    (big_rule,) = maned.with_reference(packaged).rules()
    (small_rule,) = maned.with_reference(small).rules()
    assert big_rule.population("0301", 2025) == 724_290  # type: ignore[attr-defined]
    assert small_rule.population("0301", 2025) == 10  # type: ignore[attr-defined]


def test_swedish_lan_population_is_read_back_from_the_database(tmp_path: Path) -> None:
    from helsestat.reference.persist import read_reference
    from helsestat.reference.seed import load_reference
    from helsestat.store.db.database import create_engine_for, migrate, session_factory

    engine = create_engine_for(f"sqlite:///{tmp_path / 'reference.db'}")
    migrate(engine)
    load_reference(engine)
    with session_factory(engine)() as session:
        snapshot = read_reference(session)
    lan = snapshot.lan()
    assert lan.names["01"] == "Stockholms län" and len(lan.names) == 21
    assert lan.population("01", 2024) == 2_473_307
    assert lan.population_for("03", 2022) == (lan.population("03", 2019), 2019)
    assert sum(p for (code, year), p in snapshot.lan_population.items() if year == 2024) == (
        10_587_710
    )
