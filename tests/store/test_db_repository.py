"""The repository API on both backends: classifications, correspondences, audit log, and
all-or-nothing writes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from helsestat.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    ReferenceError_,
)
from helsestat.reference.classification_store import (
    codes_at,
    correspondence_map,
    load_classification,
    load_correspondence,
)
from helsestat.reference.classifications import (
    Classification,
    Code,
    CorrespondenceTable,
    Level,
    MapItem,
    Version,
)
from helsestat.store.db.audit import AuditEntry, audit_trail, record_audit
from helsestat.store.db.database import create_engine_for, migrate, session_factory

LEVELS = (Level(1, "Fylke"), Level(2, "Kommune"))
V2020 = Version(
    1158, "Kommuneinndeling 2020", date(2020, 1, 1), date(2024, 1, 1), LEVELS,
    (
        Code("03", "Oslo"),
        Code("0301", "Oslo", level=2, parent_code="03"),
        Code("30", "Viken"),
        Code("3001", "Halden", level=2, parent_code="30"),
        Code("3005", "Drammen", level=2, parent_code="30"),
    ),
)  # fmt: skip
V2024 = Version(
    1940, "Kommuneinndeling 2024", date(2024, 1, 1), None, LEVELS,
    (
        Code("03", "Oslo"),
        Code("0301", "Oslo", level=2, parent_code="03"),
        Code("31", "Østfold"),
        Code("3101", "Halden", level=2, parent_code="31"),
        Code("33", "Buskerud"),
        Code("3301", "Drammen", level=2, parent_code="33"),
    ),
)  # fmt: skip
KOMMUNER = Classification(
    131, "Standard for kommuneinndeling", (V2020, V2024), owning_section="SSB"
)


def names(rows: list[Code]) -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in rows]


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    with session_factory(engine).begin() as session:
        load_classification(session, KOMMUNER)
    return engine


# -- classifications -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2020, 1, 1), ["03", "30", "0301", "3001", "3005"]),
        (date(2023, 12, 31), ["03", "30", "0301", "3001", "3005"]),
        (date(2024, 1, 1), ["03", "31", "33", "0301", "3101", "3301"]),
        (date(2031, 5, 17), ["03", "31", "33", "0301", "3101", "3301"]),
    ],
)
def test_codes_at_reads_the_version_valid_on_the_date(
    loaded: Engine, day: date, expected: list[str]
) -> None:
    with session_factory(loaded)() as session:
        assert [r.code for r in codes_at(session, 131, day)] == expected


def test_codes_at_returns_whole_rows(loaded: Engine) -> None:
    with session_factory(loaded)() as session:
        rows = codes_at(session, 131, date(2024, 3, 1))
    assert rows[-1] == Code("3301", "Drammen", 2, "33", valid_from=date(2024, 1, 1), valid_to=None)


def test_codes_at_a_date_no_version_covers_is_not_found(loaded: Engine) -> None:
    with session_factory(loaded)() as session, pytest.raises(NotFoundError) as caught:
        codes_at(session, 131, date(2019, 12, 31))
    err = caught.value
    assert (err.code, err.status) == ("classification_version.not_found", 404)
    assert err.message == "classification 131 has no version valid on 2019-12-31"
    assert "2020-01-01 to 2024-01-01; 2024-01-01 onwards" in err.hint


def test_codes_at_an_unknown_classification_is_not_found(session: Session) -> None:
    with pytest.raises(NotFoundError) as caught:
        codes_at(session, 999, date(2024, 1, 1))
    assert caught.value.code == "classification.not_found"
    assert caught.value.hint


def test_codes_keep_their_own_validity_inside_a_version(engine: Engine) -> None:
    closing = Version(
        1, "Takster 2024", date(2024, 1, 1), None, (Level(1, "Takst"),),
        (Code("2ad", "Konsultasjon"), Code("2cd", "Tillegg", valid_to=date(2024, 7, 1))),
    )  # fmt: skip
    with session_factory(engine).begin() as session:
        load_classification(session, Classification(5, "Takstkoder", (closing,)))
    with session_factory(engine)() as session:
        assert [r.code for r in codes_at(session, 5, date(2024, 6, 30))] == ["2ad", "2cd"]
        assert [r.code for r in codes_at(session, 5, date(2024, 7, 1))] == ["2ad"]


def test_loading_again_replaces_the_given_versions_only(loaded: Engine) -> None:
    renamed = Version(
        1940, "Kommuneinndeling 2024 (rettet)", date(2024, 1, 1), None, LEVELS[:1],
        (Code("03", "Oslo kommune"),),
    )  # fmt: skip
    with session_factory(loaded).begin() as session:
        load_classification(session, Classification(131, "Kommuner", (renamed,)))
    with session_factory(loaded)() as session:
        assert names(codes_at(session, 131, date(2025, 1, 1))) == [("03", "Oslo kommune")]
        assert len(codes_at(session, 131, date(2021, 1, 1))) == 5


@pytest.mark.parametrize(
    ("version", "problem"),
    [
        (Version(1, "x", date(2024, 1, 1), date(2024, 1, 1), LEVELS, ()),
         "valid_to 2024-01-01 is not after valid_from 2024-01-01"),
        (Version(1, "x", date(2024, 1, 1), None, LEVELS,
                     (Code("03", "Oslo"), Code("03", "Oslo"))),
         "code '03' appears twice"),
        (Version(1, "x", date(2024, 1, 1), None, LEVELS, (Code("03", "Oslo", level=3),)),
         "code '03' is on level 3, which the version does not have"),
        (Version(1, "x", date(2024, 1, 1), None, LEVELS,
                     (Code("0301", "Oslo", level=2, parent_code="03"),)),
         "code '0301' has parent '03', which is not another code of this version"),
        (Version(1, "x", date(2024, 1, 1), date(2025, 1, 1), LEVELS,
                     (Code("03", "Oslo", valid_to=date(2026, 1, 1)),)),
         "code '03' is valid 2024-01-01 to 2026-01-01, outside the version's "
         "2024-01-01 to 2025-01-01"),
    ],
)  # fmt: skip
def test_invalid_versions_are_refused_before_any_write(
    session: Session, version: Version, problem: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_classification(session, Classification(7, "Fylker", (version,)))
    assert caught.value.code == "input.invalid_classification"
    assert caught.value.message == f"classification 7 version 1: {problem}"
    assert caught.value.hint


# -- all or nothing --------------------------------------------------------------------------


def test_a_failing_load_leaves_nothing_half_written(loaded: Engine) -> None:
    other = Classification(
        7, "Fylker", (Version(70, "Fylker 2024", date(2024, 1, 1), None, LEVELS[:1], ()),)
    )
    with session_factory(loaded).begin() as session:
        load_classification(session, other)
    # Version 1940 is replaced (its codes deleted and rewritten) before version 70 turns out
    # to belong to classification 7: everything of this load must be undone.
    broken = Classification(
        131, "Renamed", (
            Version(1940, "Ny", date(2024, 1, 1), None, LEVELS[:1], (Code("99", "Ny"),)),
            Version(70, "Feil", date(2030, 1, 1), None, LEVELS[:1], ()),
        ),
    )  # fmt: skip
    with session_factory(loaded)() as session:
        record_audit(session, "kari", "classification", 131, "edit", None, {"name": "Renamed"})
        with pytest.raises(ConflictError) as caught:
            load_classification(session, broken)
        # The session is still usable, and work done before the failing load survives.
        assert [r.code for r in codes_at(session, 131, date(2024, 6, 1))][:3] == ["03", "31", "33"]
        session.commit()
    assert caught.value.code == "classification.conflict"
    assert caught.value.message == (
        "classification 131: version 70 already belongs to classification 7"
    )
    with session_factory(loaded)() as session:
        unchanged = sorted((c.code, c.name) for c in V2024.codes)
        assert sorted(names(codes_at(session, 131, date(2024, 6, 1)))) == unchanged
        assert [e.action for e in audit_trail(session, "classification", 131)] == ["edit"]


def test_overlapping_versions_found_after_writing_roll_everything_back(loaded: Engine) -> None:
    overlapping = Version(
        2000, "Kommuner 2023", date(2023, 1, 1), None, LEVELS[:1], (Code("01", "Østfold"),)
    )
    with session_factory(loaded)() as session:
        with pytest.raises(InputError) as caught:
            load_classification(session, Classification(131, "Kommuner", (overlapping,)))
        session.commit()
    assert caught.value.message == (
        "classification 131: versions 1158 (2020-01-01 to 2024-01-01) and 2000 "
        "(2023-01-01 onwards) overlap"
    )
    with session_factory(loaded)() as session:
        assert len(codes_at(session, 131, date(2022, 6, 1))) == 5
        assert len(codes_at(session, 131, date(2024, 6, 1))) == 6


# -- correspondences -------------------------------------------------------------------------

KOMMUNER_2020_2024 = CorrespondenceTable(
    1, "Kommuneinndeling 2020 - 2024", source_version=1158, target_version=1940,
    maps=(
        MapItem("0301", "0301"),
        MapItem("3001", "3101"),
        MapItem("30", "31", weight=0.4),
        MapItem("30", "33", weight=0.6),
    ),
)  # fmt: skip


def test_correspondence_rows_round_trip(loaded: Engine) -> None:
    with session_factory(loaded).begin() as session:
        load_correspondence(session, KOMMUNER_2020_2024)
    with session_factory(loaded)() as session:
        assert correspondence_map(session, 1) == [
            MapItem("0301", "0301", 1.0),
            MapItem("30", "31", 0.4),
            MapItem("30", "33", 0.6),
            MapItem("3001", "3101", 1.0),
        ]


def test_loading_a_correspondence_again_replaces_its_pairs(loaded: Engine) -> None:
    with session_factory(loaded).begin() as session:
        load_correspondence(session, KOMMUNER_2020_2024)
    smaller = CorrespondenceTable(1, "2020-2024", 1158, 1940, (MapItem("3005", "3301"),))
    with session_factory(loaded).begin() as session:
        load_correspondence(session, smaller)
    with session_factory(loaded)() as session:
        assert correspondence_map(session, 1) == [MapItem("3005", "3301", 1.0)]


def test_a_correspondence_code_must_exist_in_its_version(loaded: Engine) -> None:
    bad = CorrespondenceTable(2, "x", 1158, 1940, (MapItem("0301", "0301"), MapItem("3001", "30")))
    with session_factory(loaded)() as session:
        with pytest.raises(ReferenceError_) as caught:
            load_correspondence(session, bad)
        assert caught.value.message == (
            "correspondence 2: target code '30' is not a code of version 1940"
        )
        with pytest.raises(NotFoundError):
            correspondence_map(session, 2)


@pytest.mark.parametrize(
    ("pairs", "problem"),
    [
        ((MapItem("30", "31"), MapItem("30", "31")), "pair '30' → '31' appears twice"),
        ((MapItem("30", "31", weight=0),), "pair '30' → '31' has weight 0"),
        ((MapItem("30", "31", weight=1.5),), "pair '30' → '31' has weight 1.5"),
    ],
)
def test_invalid_pairs_are_refused(
    session: Session, pairs: tuple[MapItem, ...], problem: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_correspondence(session, CorrespondenceTable(3, "x", 1158, 1940, pairs))
    assert caught.value.message == f"correspondence 3: {problem}"


def test_a_correspondence_needs_both_versions(session: Session) -> None:
    with pytest.raises(NotFoundError) as caught:
        load_correspondence(session, CorrespondenceTable(1, "x", 1158, 1940, ()))
    assert caught.value.code == "classification_version.not_found"


# -- audit log -------------------------------------------------------------------------------


def test_audit_entries_round_trip_with_json_and_utc_times(engine: Engine) -> None:
    oslo_time = timezone(timedelta(hours=1))
    before = {"name": "Kir. avd.", "parent": 4001, "tags": ["døgn", "poliklinikk"], "x": None}
    after = {"name": "Kirurgisk avdeling – Ålesund", "parent": 4001, "closed": False, "n": 2.5}
    with session_factory(engine).begin() as session:
        first = record_audit(
            session, "kari", "unit", 4002, "rename", before, after,
            at=datetime(2025, 3, 1, 12, 0, tzinfo=oslo_time),
        )  # fmt: skip
        record_audit(
            session, "ola", "unit", "4002", "close", after, None,
            at=datetime(2025, 3, 2, 9, 30, tzinfo=UTC),
        )  # fmt: skip
        record_audit(session, "ola", "unit", 9999, "create", None, {"name": "Annen"})
    with session_factory(engine)() as session:
        trail = audit_trail(session, "unit", 4002)
    assert trail == [
        AuditEntry(
            first.id, datetime(2025, 3, 1, 11, 0, tzinfo=UTC), "kari", "unit", "4002", "rename",
            before, after,
        ),
        AuditEntry(
            trail[1].id, datetime(2025, 3, 2, 9, 30, tzinfo=UTC), "ola", "unit", "4002", "close",
            after, None,
        ),
    ]  # fmt: skip
    assert first == trail[0]
    assert trail[0].at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("before", "at", "code"),
    [
        ({"day": date(2024, 1, 1)}, None, "input.audit_not_json"),
        ({"share": float("nan")}, None, "input.audit_not_json"),
        (None, datetime(2025, 1, 1, 12, 0), "input.naive_timestamp"),
    ],
)
def test_audit_refuses_what_it_cannot_store(
    session: Session, before: dict[str, object] | None, at: datetime | None, code: str
) -> None:
    with pytest.raises(InputError) as caught:
        record_audit(session, "kari", "unit", 1, "edit", before, None, at=at)
    assert caught.value.code == code


def test_in_memory_sqlite_works_for_examples() -> None:
    engine = create_engine_for("sqlite://")
    try:
        migrate(engine)
        with session_factory(engine).begin() as session:
            load_classification(session, KOMMUNER)
        with session_factory(engine)() as session:
            assert len(codes_at(session, 131, date(2024, 1, 1))) == 6
    finally:
        engine.dispose()
