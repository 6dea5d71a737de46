"""The registry on SQLite and PostgreSQL: permanent ids, history kept through moves, renames
and closures, as-of queries, the bitemporal record, audit, rules and concurrent edits."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from helsestat.errors import ConflictError, InputError, NotFoundError, ReferenceError_
from helsestat.reference.units import (
    SYSTEM,
    Identifier,
    NewUnit,
    UnitFields,
    change_unit,
    changes_between,
    close_unit,
    create_unit,
    get_unit,
    path_at,
    reopen_unit,
    search,
    set_identifier,
    subtree_at,
    tree_at,
)
from helsestat.reference.units.history import unit_versions
from helsestat.reference.units.loader import ensure_service_classification
from helsestat.reference.units.plan import SERVICE_CLASSIFICATION_ID, UnitPlan
from helsestat.store.db.audit import audit_trail
from helsestat.store.db.database import session_factory
from helsestat.store.db.units_schema import UnitIdCounter

D = date.fromisoformat
Clock = Callable[[], datetime]


def _tree(session: Session, clock: Clock) -> dict[str, int]:
    """RHF → two HFs → a behandlingssted each → a klinikk under the first."""
    rhf = create_unit(
        session,
        SYSTEM,
        NewUnit("NO", UnitFields("rhf", "Helse Vest RHF", orgnr="983658725"), D("2002-01-01")),
        clock=clock,
    )
    ids = {"rhf": rhf.id}
    for key, name, orgnr in (
        ("hf1", "Helse Bergen HF", "983974724"),
        ("hf2", "Helse Førde HF", "983974732"),
    ):
        ids[key] = create_unit(
            session,
            SYSTEM,
            NewUnit("NO", UnitFields("hf", name, parent_id=rhf.id, orgnr=orgnr), D("2002-01-01")),
            clock=clock,
        ).id
    ids["bs1"] = create_unit(
        session,
        SYSTEM,
        NewUnit(
            "NO",
            UnitFields("behandlingssted", "Haukeland", parent_id=ids["hf1"], kommune="1201"),
            D("2003-01-01"),
        ),
        clock=clock,
    ).id
    ids["bs2"] = create_unit(
        session,
        SYSTEM,
        NewUnit(
            "NO",
            UnitFields("behandlingssted", "Førde sentralsjukehus", parent_id=ids["hf2"]),
            D("2003-01-01"),
        ),
        clock=clock,
    ).id
    ids["kl"] = create_unit(
        session,
        SYSTEM,
        NewUnit(
            "NO",
            UnitFields("klinikk", "Kirurgisk klinikk", parent_id=ids["bs1"], sector="somatikk"),
            D("2005-01-01"),
        ),
        clock=clock,
    ).id
    return ids


def test_ids_come_from_the_counter_and_move_rename_close_keep_them(
    engine: Engine, clock: Clock
) -> None:
    with session_factory(engine).begin() as session:
        ids = _tree(session, clock)
        kl = ids["kl"]
        change_unit(session, SYSTEM, kl, D("2010-01-01"), {"parent_id": ids["bs2"]}, clock=clock)
        change_unit(
            session,
            SYSTEM,
            kl,
            D("2012-06-01"),
            {"name": "Kirurgisk og ortopedisk klinikk"},
            clock=clock,
        )
        closed = close_unit(session, SYSTEM, kl, D("2020-01-01"), clock=clock)
    assert sorted(ids.values()) == list(range(100_000, 100_006))
    assert closed.id == kl and closed.closed == D("2020-01-01")
    assert [(str(v.valid_from), v.fields.parent_id, v.fields.name) for v in closed.versions] == [
        ("2005-01-01", ids["bs1"], "Kirurgisk klinikk"),
        ("2010-01-01", ids["bs2"], "Kirurgisk klinikk"),
        ("2012-06-01", ids["bs2"], "Kirurgisk og ortopedisk klinikk"),
    ]
    with session_factory(engine)() as session:
        assert [v.unit_id for v in path_at(session, kl, D("2009-12-31"))] == [
            kl,
            ids["bs1"],
            ids["hf1"],
            ids["rhf"],
        ]
        assert [v.unit_id for v in path_at(session, kl, D("2010-01-01"))] == [
            kl,
            ids["bs2"],
            ids["hf2"],
            ids["rhf"],
        ]
        with pytest.raises(
            NotFoundError, match="not valid on 2020-01-01: it is valid 2005-01-01 to 2020-01-01"
        ):
            path_at(session, kl, D("2020-01-01"))
        assert [n.id for n in subtree_at(session, ids["hf1"], D("2008-01-01"))] == [ids["bs1"], kl]
        assert [n.id for n in subtree_at(session, ids["hf1"], D("2011-01-01"))] == [ids["bs1"]]
        nodes = tree_at(session, D("2011-01-01"))
        assert [(n.name, n.depth) for n in nodes] == [
            ("Helse Vest RHF", 0),
            ("Helse Bergen HF", 1),
            ("Haukeland", 2),
            ("Helse Førde HF", 1),
            ("Førde sentralsjukehus", 2),
            ("Kirurgisk klinikk", 3),
        ]
        found = changes_between(session, D("2009-06-01"), D("2020-01-01"))
        assert [(c.on.isoformat(), c.what, c.unit_id) for c in found] == [
            ("2010-01-01", "moved", kl),
            ("2012-06-01", "renamed", kl),
            ("2020-01-01", "closed", kl),
        ]
        assert [h.unit_id for h in search(session, "kirurgisk")] == [kl]
        assert next(h.unit_id for h in search(session, str(ids["hf2"]))) == ids["hf2"]


def test_an_id_is_never_handed_out_twice_even_after_a_delete_attempt(
    engine: Engine, clock: Clock
) -> None:
    with session_factory(engine).begin() as session:
        first = create_unit(
            session, SYSTEM, NewUnit("NO", UnitFields("rhf", "A RHF"), D("2002-01-01")), clock=clock
        )
    with engine.connect() as connection, pytest.raises(DBAPIError, match="never deleted"):
        connection.execute(text("DELETE FROM unit WHERE id = :id"), {"id": first.id})
    with engine.connect() as connection, pytest.raises(DBAPIError, match="never reused"):
        connection.execute(text("UPDATE unit_id_counter SET next_value = 1"))
    # A creation that fails after taking an id does not give that id back either.
    with session_factory(engine)() as session:
        with pytest.raises(InputError):
            create_unit(
                session,
                SYSTEM,
                NewUnit("NO", UnitFields("avdeling", "Orphan"), D("2002-01-01")),
                clock=clock,
            )
        session.commit()
    with session_factory(engine).begin() as session:
        second = create_unit(
            session, SYSTEM, NewUnit("NO", UnitFields("rhf", "B RHF"), D("2002-01-01")), clock=clock
        )
        counter = session.scalar(select(UnitIdCounter.next_value))
    assert second.id > first.id and counter == second.id + 1


def test_the_record_is_bitemporal_and_audited(engine: Engine, clock: Clock) -> None:
    with session_factory(engine).begin() as session:
        ids = _tree(session, clock)
    before_rename = clock()
    with session_factory(engine).begin() as session:
        change_unit(
            session,
            SYSTEM,
            ids["bs1"],
            D("2003-01-01"),
            {"name": "Haukeland universitetssjukehus"},
            clock=clock,
        )
    with session_factory(engine)() as session:
        assert get_unit(session, ids["bs1"]).latest.fields.name == "Haukeland universitetssjukehus"
        then = get_unit(session, ids["bs1"], known_at=before_rename)
        assert [v.fields.name for v in then.versions] == ["Haukeland"]
        assert [
            n.name
            for n in tree_at(session, D("2010-01-01"), root=ids["hf1"], known_at=before_rename)
        ] == ["Helse Bergen HF", "Haukeland", "Kirurgisk klinikk"]
        trail = audit_trail(session, "unit", ids["bs1"])
    assert [e.action for e in trail] == ["create", "rename"]
    assert trail[1].actor == "system"
    assert trail[1].before["versions"][0]["name"] == "Haukeland"
    assert trail[1].after["versions"][0]["name"] == "Haukeland universitetssjukehus"
    assert trail[1].after["valid_from"] == "2003-01-01"


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda ids: NewUnit(
                "NO", UnitFields("seksjon", "S", parent_id=ids["hf1"]), D("2004-01-01")
            ),
            InputError,
            "cannot sit under HF",
        ),
        (
            lambda ids: NewUnit(
                "NO", UnitFields("avdeling", "A", parent_id=ids["kl"]), D("2004-01-01")
            ),
            InputError,
            "parent .* is valid 2005-01-01 onwards",
        ),
        (
            lambda ids: NewUnit(
                "NO",
                UnitFields("avdeling", "A", parent_id=ids["kl"], kommune="4601"),
                D("2010-01-01"),
            ),
            ReferenceError_,
            "not a kommunenummer valid in 2010",
        ),
        (
            lambda ids: NewUnit(
                "NO",
                UnitFields("avdeling", "A", parent_id=ids["kl"], orgnr="123456789"),
                D("2010-01-01"),
            ),
            InputError,
            "not a valid Norwegian",
        ),
        (
            lambda ids: NewUnit(
                "NO", UnitFields("hf", "H", parent_id=ids["rhf"], sector="phv"), D("2010-01-01")
            ),
            InputError,
            "a hf has no sector",
        ),
        (
            lambda ids: NewUnit(
                "NO",
                UnitFields(
                    "avdeling",
                    "A",
                    parent_id=ids["kl"],
                    services=("S10",),
                    service_classification=SERVICE_CLASSIFICATION_ID,
                ),
                D("2010-01-01"),
            ),
            ReferenceError_,
            "has no version in the reference database",
        ),
        (
            lambda ids: NewUnit(
                "NO", UnitFields("vardenhet", "V", parent_id=ids["rhf"]), D("2010-01-01")
            ),
            InputError,
            "not a unit kind of country 'NO'",
        ),
        (
            lambda ids: NewUnit("NO", UnitFields("avdeling", "A", parent_id=999), D("2010-01-01")),
            ReferenceError_,
            "parent 999 is not a unit",
        ),
    ],
    ids=[
        "kind-under-parent",
        "parent-not-yet-open",
        "kommune-of-another-year",
        "orgnr",
        "sector",
        "services-not-loaded",
        "country",
        "unknown-parent",
    ],
)
def test_invalid_units_are_refused_with_a_reason(
    engine: Engine,
    clock: Clock,
    make: Callable[[dict[str, int]], NewUnit],
    error: type[Exception],
    message: str,
) -> None:
    with session_factory(engine).begin() as session:
        ids = _tree(session, clock)
    with session_factory(engine)() as session, pytest.raises(error, match=message):
        create_unit(session, SYSTEM, make(ids), clock=clock)


def test_services_are_checked_against_the_loaded_code_list(engine: Engine, clock: Clock) -> None:
    with session_factory(engine).begin() as session:
        ids = _tree(session, clock)
        ensure_service_classification(session, UnitPlan((), ()))
        unit = create_unit(
            session,
            SYSTEM,
            NewUnit(
                "NO",
                UnitFields(
                    "avdeling",
                    "Ortopedi",
                    parent_id=ids["kl"],
                    services=("S30",),
                    service_classification=SERVICE_CLASSIFICATION_ID,
                ),
                D("2010-01-01"),
            ),
            clock=clock,
        )
        with pytest.raises(ReferenceError_, match="'X99' are not codes of classification 99610"):
            change_unit(
                session, SYSTEM, unit.id, D("2012-01-01"), {"services": ["S30", "X99"]}, clock=clock
            )


def test_moves_that_would_make_a_cycle_or_orphan_units_are_refused(
    engine: Engine, clock: Clock
) -> None:
    with session_factory(engine).begin() as session:
        ids = _tree(session, clock)
        sub = create_unit(
            session,
            SYSTEM,
            NewUnit("NO", UnitFields("avdeling", "Avd", parent_id=ids["kl"]), D("2006-01-01")),
            clock=clock,
        )
    with session_factory(engine)() as session:
        with pytest.raises(InputError, match=r"cannot close on 2008-01-01: .* is under it"):
            close_unit(session, SYSTEM, ids["kl"], D("2008-01-01"), clock=clock)
        with pytest.raises(InputError, match=r"cannot sit under klinikk|cannot sit under Avdeling"):
            change_unit(
                session, SYSTEM, ids["kl"], D("2007-01-01"), {"parent_id": sub.id}, clock=clock
            )
        with pytest.raises(InputError, match="is not after the unit opened"):
            close_unit(session, SYSTEM, sub.id, D("2006-01-01"), clock=clock)


def test_identifiers_name_one_unit_at_a_time(engine: Engine, clock: Clock) -> None:
    with session_factory(engine).begin() as session:
        ids = _tree(session, clock)
        her = Identifier("her", "81234", D("2003-01-01"))
        set_identifier(session, SYSTEM, ids["bs1"], her, clock=clock)
        with pytest.raises(InputError, match="her 81234 belongs to unit"):
            set_identifier(
                session,
                SYSTEM,
                ids["bs2"],
                Identifier("her", "81234", D("2010-01-01")),
                clock=clock,
            )
        ended = Identifier("her", "81234", D("2003-01-01"), D("2009-01-01"))
        set_identifier(session, SYSTEM, ids["bs1"], ended, clock=clock)
        record = set_identifier(
            session, SYSTEM, ids["bs2"], Identifier("her", "81234", D("2010-01-01")), clock=clock
        )
        assert record.identifiers == (Identifier("her", "81234", D("2010-01-01")),)
        assert get_unit(session, ids["bs1"]).identifiers == (ended,)
        assert [h.unit_id for h in search(session, "81234")] == [ids["bs1"], ids["bs2"]] or [
            h.unit_id for h in search(session, "81234")
        ] == [ids["bs2"], ids["bs1"]]
        with pytest.raises(InputError, match="malformed"):
            set_identifier(
                session,
                SYSTEM,
                ids["bs1"],
                Identifier("her", "12ab", D("2010-01-01")),
                clock=clock,
            )


def test_an_edit_against_an_old_version_is_refused_not_lost(engine: Engine, clock: Clock) -> None:
    with session_factory(engine).begin() as session:
        ids = _tree(session, clock)
        seen = get_unit(session, ids["bs1"]).row_version
        change_unit(
            session,
            SYSTEM,
            ids["bs1"],
            D("2004-01-01"),
            {"name": "First edit"},
            expected_version=seen,
            clock=clock,
        )
    with session_factory(engine)() as session, pytest.raises(ConflictError) as caught:
        change_unit(
            session,
            SYSTEM,
            ids["bs1"],
            D("2004-01-01"),
            {"name": "Second edit"},
            expected_version=seen,
            clock=clock,
        )
    assert (caught.value.status, caught.value.code) == (412, "unit.precondition_failed")
    with session_factory(engine)() as session:
        assert get_unit(session, ids["bs1"]).latest.fields.name == "First edit"


def test_concurrent_edits_one_wins_the_other_is_told(engine: Engine, clock: Clock) -> None:
    with session_factory(engine).begin() as session:
        ids = _tree(session, clock)
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def edit(name: str) -> None:
        with session_factory(engine)() as session:
            record = get_unit(session, ids["bs1"])
            session.commit()  # release the read; both have now seen the same version
            barrier.wait()
            try:
                change_unit(
                    session,
                    SYSTEM,
                    ids["bs1"],
                    D("2004-01-01"),
                    {"name": name},
                    expected_version=record.row_version,
                    clock=clock,
                )
                session.commit()
                outcomes.append("saved")
            except ConflictError as exc:  # 412 (PostgreSQL waits, then sees the new version)
                session.rollback()  # or 409 (SQLite refuses the second writer's stale snapshot)
                outcomes.append(f"refused {exc.code}")

    threads = [threading.Thread(target=edit, args=(n,)) for n in ("Left", "Right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == 2 and outcomes.count("saved") == 1, outcomes
    assert {o for o in outcomes if o != "saved"} <= {
        "refused unit.precondition_failed",
        "refused unit.concurrent_edit",
    }
    with session_factory(engine)() as session:
        record = get_unit(session, ids["bs1"])
    assert record.row_version == 2 and record.latest.fields.name in ("Left", "Right")


def test_reopen_and_close_again_move_the_end(engine: Engine, clock: Clock) -> None:
    with session_factory(engine).begin() as session:
        ids = _tree(session, clock)
        close_unit(session, SYSTEM, ids["kl"], D("2015-01-01"), clock=clock)
        assert reopen_unit(session, SYSTEM, ids["kl"], clock=clock).closed is None
        assert close_unit(session, SYSTEM, ids["kl"], D("2016-01-01"), clock=clock).closed == D(
            "2016-01-01"
        )
        rows = session.scalar(
            select(func.count()).select_from(
                select(text("1")).select_from(text("unit_version")).subquery()
            )
        )
    with session_factory(engine)() as session:
        assert len(unit_versions(session, ids["kl"])) == 1
        assert (
            len(unit_versions(session, ids["kl"], known_at=datetime(2026, 1, 1, tzinfo=UTC))) == 0
        )
    assert rows and rows > 6  # superseded versions are kept, never deleted
