"""The in-memory snapshot answers every read as the database queries do, on the demo
registry (SYNTHETIC below the real RHF/HF), and its generation grows with every write."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import orjson
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from helsestat.errors import NotFoundError
from helsestat.reference.units import (
    SYSTEM,
    Identifier,
    NewUnit,
    UnitFields,
    change_unit,
    changes_between,
    create_unit,
    get_unit,
    path_at,
    search,
    set_identifier,
    subtree_at,
    tree_at,
)
from helsestat.reference.units.fhir import (
    OrganizationCache,
    export_bundle,
    snapshot_bundle_json,
)
from helsestat.reference.units.placing import place_one
from helsestat.reference.units.snapshot import (
    RegistrySnapshot,
    load_snapshot,
    registry_generation,
)
from helsestat.store.db.database import session_factory

DAYS = [date(1999, 6, 1), date(2002, 1, 1), date(2008, 3, 15), date(2016, 7, 1), date(2025, 1, 1)]


@pytest.fixture(scope="module")
def both(demo_engine: Engine) -> Iterator[tuple[Session, RegistrySnapshot]]:
    with session_factory(demo_engine)() as session:
        yield session, load_snapshot(session)


def outcome(call: Callable[..., Any], *args: Any) -> Any:
    """The value, or the error's code and message, of ``call(*args)``."""
    try:
        return call(*args)
    except NotFoundError as exc:
        return (exc.code, exc.message)


def test_the_tree_the_path_and_the_units_under_one(
    both: tuple[Session, RegistrySnapshot],
) -> None:
    session, snap = both
    rng = random.Random(5)
    ids = sorted(snap.units)
    for day in DAYS:
        assert snap.tree_at(day) == tree_at(session, day)
        for country in ("NO", "SE"):
            assert snap.tree_at(day, country=country) == tree_at(session, day, country=country)
        for uid in [*rng.sample(ids, 25), 1, max(ids) + 1]:
            assert outcome(snap.path_at, uid, day) == outcome(path_at, session, uid, day)
            assert outcome(snap.subtree_at, uid, day) == outcome(subtree_at, session, uid, day)
            assert snap.place_one(uid, day) == place_one(session, uid, day)


def test_changes_between_two_days(both: tuple[Session, RegistrySnapshot]) -> None:
    session, snap = both
    roots = [None, *sorted(snap.units)[:8]]
    for start, end in [(DAYS[0], DAYS[-1]), (DAYS[2], DAYS[3]), (DAYS[3], DAYS[1])]:
        for root in roots:
            assert snap.changes_between(start, end, root=root) == changes_between(
                session, start, end, root=root
            )


def test_search(both: tuple[Session, RegistrySnapshot]) -> None:
    session, snap = both
    some_id = str(sorted(snap.units)[10])
    held = next(i.value for r in snap.units.values() for i in r.identifiers)
    for text in ("helse", "HELSE BERGEN", "klinikk", "a", "  psyk ", some_id, held, "", "zzz"):
        for day in (None, DAYS[2], DAYS[4]):
            for limit in (5, 500):
                assert snap.search(text, day=day, limit=limit) == search(
                    session, text, day=day, limit=limit
                ), (text, day, limit)


def test_every_unit(both: tuple[Session, RegistrySnapshot]) -> None:
    session, snap = both
    for uid in snap.units:
        assert snap.get_unit(uid) == get_unit(session, uid)
    assert outcome(snap.get_unit, 1) == outcome(get_unit, session, 1)


def test_the_generation_grows_with_every_write(engine: Engine) -> None:
    with session_factory(engine).begin() as s:
        before = registry_generation(s)
        rhf = create_unit(s, SYSTEM, NewUnit("NO", UnitFields("rhf", "R"), date(2002, 1, 1)))
    seen = [before]
    steps: list[Callable[[Session], object]] = [
        lambda s: create_unit(
            s, SYSTEM, NewUnit("NO", UnitFields("hf", "H", rhf.id), date(2003, 1, 1))
        ),
        lambda s: change_unit(s, SYSTEM, rhf.id, date(2010, 1, 1), {"name": "R2"}),
        lambda s: set_identifier(s, SYSTEM, rhf.id, Identifier("her", "123", date(2010, 1, 1))),
        lambda s: set_identifier(
            s, SYSTEM, rhf.id, Identifier("her", "123", date(2010, 1, 1), date(2011, 1, 1))
        ),
    ]
    for step in steps:
        with session_factory(engine).begin() as s:
            seen.append(registry_generation(s))
            step(s)
    with session_factory(engine)() as s:
        seen.append(registry_generation(s))
        assert load_snapshot(s).generation == seen[-1]
    assert seen == sorted(set(seen)), seen  # strictly growing


def test_the_fhir_bundle(both: tuple[Session, RegistrySnapshot]) -> None:
    session, snap = both
    cache: OrganizationCache = {}
    for day in DAYS[1:]:
        for country in (None, "SE"):
            expected = export_bundle(session, day, country=country)
            for _ in range(2):  # validated, then from the cache
                made = orjson.loads(snapshot_bundle_json(snap, day, country=country, cache=cache))
                assert made["entry"] == expected["entry"]
                as_json = snapshot_bundle_json(snap, day, country=country, cache=cache)
                assert orjson.loads(as_json)["entry"] == expected["entry"]
    assert cache
