"""What the validation tests of the ``sob`` kind share: a demo unit registry (its Swedish
side) loaded into a real SQLite database and read back as the reference snapshot, and
synthetic SOB extracts placed at its units (SYNTHETIC DATA)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from helsestat.reference.holder import ReferenceHolder
from helsestat.reference.snapshot import Reference
from helsestat.reference.units.loader import load_plan
from helsestat.reference.units.plan import UnitPlan
from helsestat.store.db.database import create_engine_for, migrate, session_factory
from helsestat.synth.core import write_csv
from helsestat.synth.sob import generate_sob
from helsestat.synth.units import generate_unit_plan

#: The day of ingest in these tests: after the generator's last day (2026-11-30).
TODAY = date(2026, 12, 1)
KEY = b"sob-test-key-" + b"x" * 32


@dataclass(frozen=True)
class SobWorld:
    """A demo unit plan (one hospital trust, three län), the SQLite reference database it
    is loaded into, and that database's reference snapshot."""

    seed: int
    plan: UnitPlan
    url: str
    reference: Reference

    def extract(
        self, path: Path, events: int, *, seed: int | None = None, bad_share: float = 0.01
    ) -> tuple[pa.Table, list[str]]:
        """Write a synthetic extract of about ``events`` rows at this world's units to
        ``path`` (CSV, without the labels); returns its rows and each row's defect label."""
        table = pa.Table.from_batches(
            generate_sob(
                events,
                self.seed if seed is None else seed,
                plan=self.plan,
                bad_share=bad_share,
                labels=True,
            )
        )
        rows = table.drop_columns(["defect"])
        write_csv(rows.to_batches(), path)
        return rows, table.column("defect").to_pylist()


def world_maker(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], SobWorld]:
    """``make(seed)``: the world of a plan seed, made once."""
    made: dict[int, SobWorld] = {}

    def make(seed: int) -> SobWorld:
        if seed not in made:
            plan = generate_unit_plan(seed, hf_limit=1, lan_limit=3)
            path = tmp_path_factory.mktemp(f"sob-registry-{seed}") / "reference.db"
            url = f"sqlite:///{path.as_posix()}"
            engine = create_engine_for(url)
            migrate(engine)
            with session_factory(engine).begin() as session:
                load_plan(session, plan)
            engine.dispose()
            holder = ReferenceHolder(url)
            try:
                made[seed] = SobWorld(seed, plan, url, holder.get())
            finally:
                holder.dispose()
        return made[seed]

    return make
