"""The Swedish side of the registry by HSA-id (what SOB events are checked against), on SQLite
and PostgreSQL: the as-of table agrees with the one-unit-at-a-time placing on random days,
its generation moves with every change of a Swedish unit, and a reference holder reads the
units again when they changed — and only them (SYNTHETIC units)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from helsestat.reference.holder import ReferenceHolder
from helsestat.reference.units import SYSTEM, Identifier, change_unit, close_unit
from helsestat.reference.units.directory import hsa_directory
from helsestat.reference.units.history import unit_identifiers
from helsestat.reference.units.hsa import hsa_generation, read_hsa_units
from helsestat.reference.units.loader import load_plan
from helsestat.reference.units.placing import place_one
from helsestat.store.db.database import create_engine_for, session_factory
from helsestat.store.db.units_schema import Unit
from helsestat.synth.units import generate_unit_plan

#: one hospital trust and three län; this seed's Swedish units move and close
PLAN = generate_unit_plan(8, hf_limit=1, lan_limit=3)


def _swedish(session: Session) -> list[int]:
    return list(session.scalars(select(Unit.id).where(Unit.country == "SE").order_by(Unit.id)))


def _hsa_on(identifiers: list[Identifier], day: date) -> list[str]:
    return [
        i.value
        for i in identifiers
        if i.scheme == "hsa" and i.valid_from <= day and (i.valid_to is None or day < i.valid_to)
    ]


def _open_enhet(session: Session) -> tuple[int, str]:
    """A vårdenhet open today: its unit id and HSA-id."""
    rows = read_hsa_units(session).table.to_pylist()
    hsa = next(r["hsa_id"] for r in rows if r["kind"] == "vardenhet" and r["valid_to"] is None)
    uid = next(
        uid
        for uid in _swedish(session)
        if any(i.value == hsa for i in unit_identifiers(session, uid))
    )
    return uid, hsa


def test_the_hsa_table_agrees_with_placing_one_unit_at_a_time(session: Session) -> None:
    load_plan(session, PLAN)
    units = read_hsa_units(session)
    rows = units.table.to_pylist()
    assert {r["kind"] for r in rows} == {"vardgivare", "vardenhet"}
    rng = random.Random(3)
    ids = _swedish(session)
    hsa = {uid: unit_identifiers(session, uid) for uid in ids}
    checked = 0
    for _ in range(300):
        uid = rng.choice(ids)
        day = date(2014, 6, 1) + timedelta(days=rng.randrange(4500))
        placed = place_one(session, uid, day)
        held = _hsa_on(hsa[uid], day)
        found = {
            (r["kind"], r["vardgivare_hsaid"], r["lan"])
            for r in rows
            if r["hsa_id"] in held
            and r["valid_from"] <= day
            and (r["valid_to"] is None or day < r["valid_to"])
        }
        if placed.placement is None or not held:
            assert found == set(), (uid, day)
            continue
        vg = placed.placement.vardgivare_id
        assert vg is not None
        kind = "vardgivare" if vg == uid else "vardenhet"
        if kind == "vardenhet" and placed.placement.vardenhet_id != uid:
            assert found == set()  # a unit of another kind holds no SOB HSA-id
            continue
        vg_hsa = _hsa_on(hsa[vg], day)
        assert found == {(kind, v, placed.placement.lan) for v in vg_hsa}, (uid, day)
        checked += 1
    assert checked > 100
    # the periods still open agree with the directory of the registry as it is now
    now = {
        (r["hsaid"], r["kind"]): (r["vardgivare_hsaid"], r["lan"])
        for r in hsa_directory(session).to_pylist()
        if r["hsaid"] == r["current_hsaid"]
    }
    open_ = {
        (r["hsa_id"], r["kind"]): (r["vardgivare_hsaid"], r["lan"])
        for r in rows
        if r["valid_to"] is None
    }
    assert open_ and open_.items() <= now.items()


def test_the_generation_moves_with_every_change_of_a_swedish_unit(session: Session) -> None:
    load_plan(session, PLAN)
    seen = [hsa_generation(session)]
    enhet, hsa = _open_enhet(session)
    change_unit(session, SYSTEM, enhet, date(2025, 1, 1), {"name": "Hälsocentralen Ny"})
    seen.append(hsa_generation(session))
    close_unit(session, SYSTEM, enhet, date(2026, 1, 1))
    seen.append(hsa_generation(session))
    assert seen == sorted(set(seen)), seen
    held = read_hsa_units(session)
    assert held.generation == seen[-1]
    last = max(
        (r for r in held.table.to_pylist() if r["hsa_id"] == hsa), key=lambda r: r["valid_from"]
    )
    assert last["valid_to"] == date(2026, 1, 1)


def test_a_holder_reads_the_units_again_and_only_them(database_url: str) -> None:
    engine = create_engine_for(database_url)
    holder = ReferenceHolder(database_url)
    try:
        before = holder.get()  # migrated and seeded: no units yet
        assert before.hsa_as_of.table.num_rows == 0
        with session_factory(engine).begin() as session:
            load_plan(session, PLAN)
        loaded = holder.get()
        assert loaded is not before and loaded.hsa_as_of.table.num_rows > 0
        # the plan's service code list moved the reference version: everything read again
        assert loaded.version > before.version
        assert holder.get() is loaded  # nothing changed: the same snapshot
        with session_factory(engine).begin() as session:
            uid, enhet = _open_enhet(session)
            close_unit(session, SYSTEM, uid, date(2026, 6, 1))
        closed = holder.get()  # a unit edit leaves the version: only the units read again
        assert closed is not loaded and closed.version == loaded.version
        assert closed.registry is loaded.registry and closed.tariffs is loaded.tariffs
        assert closed.hsa_as_of.generation > loaded.hsa_as_of.generation
        ends = [r["valid_to"] for r in closed.hsa_as_of.table.to_pylist() if r["hsa_id"] == enhet]
        assert date(2026, 6, 1) in ends
    finally:
        holder.dispose()
        engine.dispose()


@pytest.mark.parametrize("day", [date(2015, 1, 1), date(2020, 6, 30)])
def test_no_hsa_id_is_held_by_two_units_of_one_kind_at_once(session: Session, day: date) -> None:
    load_plan(session, PLAN)
    rows = [
        (r["hsa_id"], r["kind"])
        for r in read_hsa_units(session).table.to_pylist()
        if r["valid_from"] <= day and (r["valid_to"] is None or day < r["valid_to"])
    ]
    assert len(rows) == len(set(rows))
