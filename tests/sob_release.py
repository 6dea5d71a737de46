"""A lake with one release of 1177 Stöd och behandling, built from SYNTHETIC events against
the demo unit registry: the data behind the SOB API and dashboard tests.

The reference database (SQLite in the data directory) holds the packaged reference data and
the demo registry's units, so an app created with the returned settings names the units the
release counts."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helsestat.aggregate import DuckDBEngine
from helsestat.reference.persist import read_reference
from helsestat.reference.seed import load_reference
from helsestat.settings import Settings
from helsestat.statistics.sob import SOB, build_data
from helsestat.store.db.database import create_engine_for, migrate, session_factory
from helsestat.store.lake import Lake
from helsestat.synth.sob import generate_sob
from helsestat.synth.units import generate_unit_plan, load_demo

SEED = 5
#: Län of the demo registry the events are placed in (the first four).
LAN_LIMIT = 4
#: Norwegian health trusts of the demo registry (the fewest: the tests are about Sweden).
HF_LIMIT = 1
EVENTS = 40_000


def typed_events(rows: int, seed: int = SEED) -> pa.Table:
    """Clean synthetic events with the types the store keeps (no defects)."""
    # the units of the registry sob_release loads (the plan depends on hf_limit too)
    plan = generate_unit_plan(seed, hf_limit=HF_LIMIT, lan_limit=LAN_LIMIT)
    table = pa.Table.from_batches(list(generate_sob(rows, seed, bad_share=0.0, plan=plan)))
    tidpunkt = pc.strptime(table["tidpunkt"], "%Y-%m-%dT%H:%M:%S", "us")
    alder = pc.cast(pc.if_else(pc.equal(table["alder"], ""), None, table["alder"]), pa.int32())
    return table.set_column(3, "tidpunkt", tidpunkt).set_column(
        table.column_names.index("alder"), "alder", alder
    )


def sob_release(root: Path, rows: int = EVENTS, release_id: str = "r1") -> Settings:
    """Demo-mode settings of a data directory under ``root`` whose current release
    ``release_id`` holds the SOB statistic built from ``rows`` synthetic events."""
    settings = Settings(demo_mode=True, data_dir=root / "var")
    settings.data_dir.mkdir(parents=True)
    engine = create_engine_for(settings.resolved_database_url)
    migrate(engine)
    load_reference(engine)
    with session_factory(engine).begin() as session:
        load_demo(session, seed=SEED, lan_limit=LAN_LIMIT, hf_limit=HF_LIMIT)
    with session_factory(engine)() as session:
        reference = read_reference(session)
    engine.dispose()
    events = root / "events.parquet"
    pq.write_table(typed_events(rows), events)
    lake = Lake(settings.data_dir)
    with DuckDBEngine(threads=2) as duck, lake.release(release_id) as release:
        for name, table in build_data([events], reference, duck).items():
            release.add_data(f"sob/{name}", table)
        for tdef in SOB.tables:
            release.register_computed(tdef.name, tdef.title, SOB.dimensions(tdef), SOB.measures)
    return settings
