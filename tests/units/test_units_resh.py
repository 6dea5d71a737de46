"""The Norwegian side of the unit registry by RESH-id, as the reference snapshot holds it
(SQLite and PostgreSQL): the same as-of table the plan gives without a database, a rehab
unit stored (the widened sector check), a generation that moves with every Norwegian edit,
and a holder and the on-disk snapshot that read it again (SYNTHETIC units)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from helsestat.reference.holder import ReferenceHolder
from helsestat.reference.snapshot_cache import load_cached, read_stamp, save_cached
from helsestat.reference.units import SYSTEM, change_unit
from helsestat.reference.units.loader import load_plan, plan_histories
from helsestat.reference.units.resh import read_resh_units, resh_generation, resh_units
from helsestat.store.db.database import create_engine_for, migrate, session_factory
from helsestat.synth.units import generate_unit_plan

PLAN = generate_unit_plan(8, hf_limit=2, lan_limit=1)


def test_the_database_holds_what_the_plan_gives(session: Session) -> None:
    report = load_plan(session, PLAN)
    ids, histories = plan_histories(PLAN, first_id=min(report.ids.values()))
    assert ids == report.ids
    stored = read_resh_units(session)
    norwegian = {ids[u.key]: histories[ids[u.key]] for u in PLAN.units if u.country == "NO"}
    ours = resh_units(norwegian)
    assert stored.placing.sort_by("unit_id").equals(ours.placing.sort_by("unit_id"))
    assert stored.fields.num_rows == ours.fields.num_rows
    rehab = [r for r in stored.placing.to_pylist() if r["sector"] == "rehab"]
    assert rehab and all(r["hf_id"] is None and r["rhf_id"] for r in rehab)
    seen = [resh_generation(session)]
    unit = ids["npr/moving"]
    change_unit(session, SYSTEM, unit, date(2025, 1, 1), {"name": "Nytt lokalsykehus"})
    seen.append(resh_generation(session))
    assert seen[1] > seen[0] == stored.generation


def test_a_holder_and_the_disk_snapshot_read_the_norwegian_units_again(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'reference.db').as_posix()}"
    engine = create_engine_for(url)
    migrate(engine)
    holder = ReferenceHolder(url)
    try:
        assert holder.get().resh_as_of.placing.num_rows == 0
        with session_factory(engine).begin() as session:
            report = load_plan(session, PLAN)
        loaded = holder.get()
        assert loaded.resh_as_of.placing.num_rows > 0
        assert save_cached(url, tmp_path / "cache", loaded)
        with session_factory(engine).begin() as session:
            change_unit(session, SYSTEM, report.ids["npr/moving"], date(2025, 1, 1), {"name": "X"})
        changed = holder.get()  # a Norwegian edit: only the units read again
        assert changed is not loaded and changed.registry is loaded.registry
        assert changed.resh_as_of.generation > loaded.resh_as_of.generation
        stamp = read_stamp(url)
        assert stamp is not None and stamp.resh_generation == changed.resh_as_of.generation
        assert load_cached(url, tmp_path / "cache") is None  # the kept one is stale now
    finally:
        holder.dispose()
        engine.dispose()
