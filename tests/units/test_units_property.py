"""Properties of the stored registry under random edits (Hypothesis, SQLite): ids are never
reused, as-of queries match a day-by-day model of the accepted edits, and the rules keep the
tree well-formed on every date (no orphans, no cycles)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helsestat.errors import HelsestatError
from helsestat.reference.units import (
    SYSTEM,
    NewUnit,
    UnitFields,
    change_unit,
    close_unit,
    create_unit,
    tree_at,
)
from helsestat.reference.units.history import versions_at
from helsestat.store.db.database import create_engine_for, migrate, session_factory

D0 = date(2020, 1, 1)
HORIZON = 40
KINDS = ("hf", "klinikk", "avdeling")
NAMES = ("A", "B", "C")


def d(offset: int) -> date:
    return D0 + timedelta(days=offset)


operation = st.one_of(
    st.tuples(
        st.just("create"), st.sampled_from(KINDS), st.integers(0, 9), st.integers(0, HORIZON - 1)
    ),
    st.tuples(
        st.just("rename"), st.integers(0, 9), st.sampled_from(NAMES), st.integers(0, HORIZON - 1)
    ),
    st.tuples(st.just("move"), st.integers(0, 9), st.integers(0, 9), st.integers(0, HORIZON - 1)),
    st.tuples(st.just("close"), st.integers(0, 9), st.just(0), st.integers(0, HORIZON)),
)


class Model:
    """Each unit's (name, parent) per day, for the edits the registry accepted."""

    def __init__(self) -> None:
        self.days: dict[int, dict[int, dict[str, Any]]] = {}

    def create(self, uid: int, name: str, parent: int | None, on: int) -> None:
        self.days[uid] = {i: {"name": name, "parent_id": parent} for i in range(on, HORIZON + 1)}

    def change(self, uid: int, on: int, field: str, value: Any) -> None:
        days = self.days[uid]
        old = days[on][field]
        i = on
        while i in days and days[i][field] == old:
            days[i][field] = value
            i += 1

    def close(self, uid: int, end: int) -> None:
        days = self.days[uid]
        last = max(days)
        for i in range(end, last + 1):
            days.pop(i, None)
        for i in range(last + 1, end):  # closing later than before extends the last version
            days[i] = dict(days[last])

    def opened(self, uid: int) -> int:
        return min(self.days[uid], default=0)

    def on(self, day: int) -> dict[int, tuple[str, int | None]]:
        return {
            uid: (v[day]["name"], v[day]["parent_id"]) for uid, v in self.days.items() if day in v
        }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(operation, min_size=1, max_size=14))
def test_random_edits_keep_ids_unique_and_match_the_model(ops: list[tuple[Any, ...]]) -> None:
    engine = create_engine_for("sqlite://")
    migrate(engine)
    model = Model()
    created: list[int] = []
    kinds: dict[int, str] = {}
    tick = iter(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i) for i in range(10_000))
    clock = lambda: next(tick)  # noqa: E731
    try:
        with session_factory(engine)() as session:
            for kind, a, b, at in ops:
                try:
                    if kind == "create":
                        allowed = {"hf": (), "klinikk": ("hf",), "avdeling": ("klinikk", "hf")}[a]
                        parents = [u for u in created if kinds[u] in allowed]
                        parent = parents[b % len(parents)] if parents else None
                        start = model.opened(parent) if parent is not None else 0
                        on = start + at % max(1, HORIZON - start)
                        name = NAMES[b % len(NAMES)]
                        fields = UnitFields(a, name, parent_id=parent)
                        record = create_unit(
                            session, SYSTEM, NewUnit("NO", fields, d(on)), clock=clock
                        )
                        assert all(record.id > c for c in created), "ids only grow"
                        created.append(record.id)
                        kinds[record.id] = a
                        model.create(record.id, name, parent, on)
                    elif not created:
                        continue
                    else:
                        uid = created[a % len(created)]
                        start = model.opened(uid)
                        on = start + at % max(1, HORIZON + 1 - start)
                        if kind == "rename":
                            change_unit(session, SYSTEM, uid, d(on), {"name": b}, clock=clock)
                            model.change(uid, on, "name", b)
                        elif kind == "move":
                            parent = created[b % len(created)] if b >= 0 else None
                            change_unit(
                                session, SYSTEM, uid, d(on), {"parent_id": parent}, clock=clock
                            )
                            model.change(uid, on, "parent_id", parent)
                        else:
                            close_unit(session, SYSTEM, uid, d(on), clock=clock)
                            model.close(uid, on)
                    session.commit()
                except HelsestatError:
                    session.rollback()
            assert len(set(created)) == len(created)
            for day in range(HORIZON + 1):
                nodes = tree_at(session, d(day))
                stored = {n.id: (n.name, n.parent_id) for n in nodes}
                assert stored == model.on(day), f"day {day}"
                valid = set(stored)
                for uid, (_, parent) in stored.items():
                    assert parent is None or parent in valid, f"orphan {uid} on day {day}"
                # Every valid unit is reached from a root: no cycles.
                assert set(versions_at(session, d(day))) == valid
    finally:
        engine.dispose()
