"""The ``sob`` extract kind (1177 Stöd och behandling) against a demo unit registry in a real
SQLite database: every deliberate defect of the generator is quarantined with its reason and
nothing else is, accepted + quarantined = input, identifiers become stable keyed pseudonyms
and are stored nowhere in clear, an ärende's start stored by an earlier batch counts, and a
re-delivery stores nothing twice (SYNTHETIC DATA)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from sob_world import KEY, TODAY, SobWorld
from stdnum import luhn

from clear_text import scan_stored_rows
from helsestat.aggregate import DuckDBEngine
from helsestat.build import check_file, committed_files, ingest_file
from helsestat.errors import ExtractError
from helsestat.model import CleanExtract
from helsestat.reference.seed import packaged_reference
from helsestat.statistics.sob.cases import cases, range_facts
from helsestat.store.lake import Lake
from helsestat.synth.core import write_csv
from helsestat.synth.sob import DEFECTS
from helsestat.validate import spec_for
from helsestat.validate.pseudonymise import pseudonymise_values
from helsestat.validate.sob import SOB

#: The rule each deliberate defect of the generator must be quarantined for, and only it.
EXPECTED = {
    "vardenhet_unknown": "vardenhet_hsaid.unknown",
    "vardenhet_not_under_vardgivare": "vardenhet_hsaid.not_under_vardgivare",
    "vardtagare_check_digit": "vardtagare_id.invalid",
    "tidpunkt_before_start": "tidpunkt.before_start",
    "tidpunkt_in_future": "tidpunkt.future",
    "done_without_start": "status.done_without_start",
    "duplicate": "row.duplicate",
    "out_of_order": "tidpunkt.out_of_order",
    "behandlare_malformed": "behandlare_hsaid.invalid",
    "kon_invalid": "kon.invalid",
    "alder_not_numeric": "alder.invalid",
}
#: the plan seed of the worlds most tests use (it has units that move and close)
SEED = 8


def _quarantined(clean: CleanExtract) -> dict[int, str]:
    q = clean.quarantined
    return dict(zip(q.column("linje").to_pylist(), q.column("arsaker").to_pylist(), strict=True))


def _expected(labels: list[str], first: int = 0) -> dict[int, str]:
    """File line → rule, for the labelled rows ``first`` … (line 2 is the first row)."""
    return {i - first + 2: EXPECTED[x] for i, x in enumerate(labels) if x and i >= first}


def test_every_defect_of_the_generator_names_a_rule() -> None:
    assert set(EXPECTED) == {d.name for d in DEFECTS}
    assert set(EXPECTED.values()) <= {rule for rule, _ in (*SOB.rules, *SOB.generic_rules())}


@pytest.mark.parametrize("seed", [SEED, 9])
def test_every_defect_is_quarantined_with_its_reason_and_nothing_else(
    tmp_path: Path, sob_world: Callable[[int], SobWorld], seed: int
) -> None:
    world = sob_world(seed)
    rows, labels = world.extract(tmp_path / "sob.csv", 15_000)
    clean = check_file(
        tmp_path / "sob.csv", "sob", KEY, Lake(tmp_path / "var"), world.reference, today=TODAY
    )
    expected = _expected(labels)
    assert {labels[line - 2] for line in expected} == set(EXPECTED)  # every kind is there
    assert _quarantined(clean) == expected
    report = clean.report
    assert report.rows_in == rows.num_rows == report.accepted + report.quarantined
    assert report.quarantined == len(expected)
    assert dict(report.by_rule) == {
        rule: sum(1 for r in expected.values() if r == rule) for rule in set(expected.values())
    }


def test_accepted_rows_are_typed_for_the_store(
    tmp_path: Path, sob_world: Callable[[int], SobWorld]
) -> None:
    world = sob_world(SEED)
    rows, labels = world.extract(tmp_path / "sob.csv", 4_000)
    clean = check_file(
        tmp_path / "sob.csv", "sob", KEY, Lake(tmp_path), world.reference, today=TODAY
    )
    accepted = clean.accepted
    assert accepted.schema.names == [
        "arende_id",
        "maned",
        "arendetyp",
        "status",
        "tidpunkt",
        "process_namn",
        "moment_namn",
        "vardgivare_hsaid",
        "vardenhet_hsaid",
        "vardtagare_id",
        "kon",
        "alder",
        "behandlare_hsaid",
        "avslutningsorsak",
    ]
    assert accepted.schema.field("tidpunkt").type == pa.timestamp("us")
    assert accepted.schema.field("maned").type == pa.int32()
    assert accepted.schema.field("alder").type == pa.int16()
    normal = rows.filter(pa.array([not x for x in labels]))
    assert accepted.num_rows == normal.num_rows
    stamps = [datetime.fromisoformat(t) for t in normal.column("tidpunkt").to_pylist()]
    assert accepted.column("tidpunkt").to_pylist() == stamps
    assert accepted.column("maned").to_pylist() == [t.year * 100 + t.month for t in stamps]
    ages = [int(a) if a else None for a in normal.column("alder").to_pylist()]
    assert accepted.column("alder").to_pylist() == ages and None in ages
    for name in ("arende_id", "status", "vardenhet_hsaid", "kon", "avslutningsorsak"):
        assert accepted.column(name).to_pylist() == normal.column(name).to_pylist()


def test_pseudonyms_are_stable_per_key_and_differ_across_keys(
    tmp_path: Path, sob_world: Callable[[int], SobWorld]
) -> None:
    world = sob_world(SEED)
    rows, labels = world.extract(tmp_path / "sob.csv", 4_000)
    path, lake = tmp_path / "sob.csv", Lake(tmp_path / "var")
    first = check_file(path, "sob", KEY, lake, world.reference, today=TODAY).accepted
    again = check_file(path, "sob", KEY, lake, world.reference, today=TODAY).accepted
    other = check_file(
        path, "sob", b"another-key-" + b"y" * 32, lake, world.reference, today=TODAY
    ).accepted
    normal = rows.filter(pa.array([not x for x in labels]))
    persons = normal.column("vardtagare_id").to_pylist()
    assert "" in persons  # unknown vårdtagare stay unknown
    assert (
        first.column("vardtagare_id").to_pylist()
        == [pseudonymise_values([p], KEY)[0] if p else "" for p in persons]
        == again.column("vardtagare_id").to_pylist()
    )
    pairs = zip(
        first.column("vardtagare_id").to_pylist(),
        other.column("vardtagare_id").to_pylist(),
        persons,
        strict=True,
    )
    assert all((a != b) if p else (a == b == "") for a, b, p in pairs)
    # each treater of an ärende is pseudonymised on its own, as a vårdtagare would be
    treaters = normal.column("behandlare_hsaid").to_pylist()
    assert any(";" in t for t in treaters)
    assert first.column("behandlare_hsaid").to_pylist() == [
        ";".join(pseudonymise_values(t.split(";"), KEY)) if t else "" for t in treaters
    ]
    assert first.column("behandlare_hsaid") == again.column("behandlare_hsaid")
    assert not set(first.column("behandlare_hsaid").to_pylist()) & set(
        other.column("behandlare_hsaid").to_pylist()
    )


def _stored_text(root: Path) -> str:
    """Every text value of every Parquet file and the text of every other file."""
    parts = []
    for path in sorted(root.rglob("*")):
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            for column in table.columns:
                if pa.types.is_string(column.type):
                    parts += [v for v in column.to_pylist() if v]
        elif path.is_file() and path.suffix in (".json", ".arrow", ""):
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


def test_stored_files_hold_no_personnummer_and_no_treater_in_clear(
    tmp_path: Path, sob_world: Callable[[int], SobWorld]
) -> None:
    world = sob_world(SEED)
    rows, _ = world.extract(tmp_path / "sob_2024.csv", 6_000)
    lake = Lake(tmp_path / "var")
    batch = ingest_file(tmp_path / "sob_2024.csv", "sob", KEY, lake, world.reference, today=TODAY)
    assert batch.report.accepted > 0 and batch.report.quarantined > 0
    assert scan_stored_rows(tmp_path / "var") == []
    text = _stored_text(tmp_path / "var")
    persons = {p for p in rows.column("vardtagare_id").to_pylist() if p}
    treaters = {t for v in rows.column("behandlare_hsaid").to_pylist() for t in v.split(";") if t}
    assert len(persons) > 100 and len(treaters) > 50
    assert [p for p in persons if p in text] == []
    assert [t for t in treaters if t in text] == []


def test_a_done_whose_start_an_earlier_batch_stored_is_accepted(
    tmp_path: Path, sob_world: Callable[[int], SobWorld]
) -> None:
    world = sob_world(SEED)
    rows, labels = world.extract(tmp_path / "all.csv", 8_000)
    cut = next(i for i in range(rows.num_rows // 2, rows.num_rows) if not labels[i])
    early, late = tmp_path / "sob_early.csv", tmp_path / "sob_late.csv"
    write_csv(rows.slice(0, cut).to_batches(), early)
    write_csv(rows.slice(cut).to_batches(), late)
    later = rows.slice(cut)

    def starts(part: pa.Table) -> set[str]:
        inprogress = pc.equal(part.column("status"), "Inprogress")
        return set(pc.filter(part.column("arende_id"), inprogress).to_pylist())

    # Dones in the second file whose ärende started in the first and not again in the second
    # (a pause ends with Inprogress too)
    started, restarted = starts(rows.slice(0, cut)), starts(later)
    ids, statuses = later.column("arende_id").to_pylist(), later.column("status").to_pylist()
    carried = [
        i
        for i, (a, s) in enumerate(zip(ids, statuses, strict=True))
        if s == "Done" and a in started and a not in restarted and not labels[cut + i]
    ]
    assert len(carried) > 10
    # alone, the second file has Dones without a start ...
    alone = check_file(late, "sob", KEY, Lake(tmp_path / "empty"), world.reference, today=TODAY)
    assert {i + 2 for i in carried} <= set(_quarantined(alone))
    # ... after the first is stored, they are accepted: the second file has only its defects
    lake = Lake(tmp_path / "var")
    ingest_file(early, "sob", KEY, lake, world.reference, today=TODAY)
    batch = ingest_file(late, "sob", KEY, lake, world.reference, today=TODAY)
    assert batch.report.quarantined == len(_expected(labels, cut))
    stored = pq.read_table(lake.quarantine_path("sob", batch.checksum))
    assert dict(
        zip(stored.column("linje").to_pylist(), stored.column("arsaker").to_pylist(), strict=True)
    ) == _expected(labels, cut)


def test_a_file_delivered_again_stores_nothing_twice(
    tmp_path: Path, sob_world: Callable[[int], SobWorld]
) -> None:
    world = sob_world(SEED)
    path = tmp_path / "sob.csv"
    rows, labels = world.extract(path, 3_000)
    lake = Lake(tmp_path / "var")
    first = ingest_file(path, "sob", KEY, lake, world.reference, today=TODAY)
    again = ingest_file(path, "sob", KEY, lake, world.reference, today=TODAY)
    assert not first.already_stored and again.already_stored
    assert again.checksum == first.checksum and len(lake.stored_batches("sob")) == 1
    # the same rows in other bytes (CRLF line ends): a new file, every stored row refused
    crlf = tmp_path / "sob_crlf.csv"
    crlf.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    third = ingest_file(crlf, "sob", KEY, lake, world.reference, today=TODAY)
    assert third.report.accepted == 0 and third.report.quarantined == rows.num_rows
    reasons = _quarantined_from(lake, third.checksum)
    normal = [i + 2 for i, x in enumerate(labels) if not x]
    assert {reasons[line] for line in normal} == {"row.already_stored"}


def _quarantined_from(lake: Lake, checksum: str) -> dict[int, str]:
    q = pq.read_table(lake.quarantine_path("sob", checksum))
    return dict(zip(q.column("linje").to_pylist(), q.column("arsaker").to_pylist(), strict=True))


def test_without_swedish_units_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sob.csv"
    write_csv([pa.RecordBatch.from_pylist([_good(_Units("SE1-VG", "SE1-E", "", "", ""))])], path)
    with pytest.raises(ExtractError) as info:
        check_file(path, "sob", KEY, Lake(tmp_path), packaged_reference(), today=TODAY)
    assert info.value.code == "ingest.no_swedish_units" and "load-demo" in info.value.hint


# -- the rules one by one, on rows written by hand --------------------------------------------


class _Units:
    """HSA-ids of the world's units for the hand-written rows."""

    def __init__(
        self,
        vg: str,
        ve: str,
        other_vg: str,
        moved: str,
        closed: str,
        move: date | None = None,
        old_vg: str = "",
        new_vg: str = "",
        closed_vg: str = "",
        closing: date | None = None,
    ) -> None:
        self.vg, self.ve, self.other_vg = vg, ve, other_vg
        self.moved, self.move, self.old_vg, self.new_vg = moved, move, old_vg, new_vg
        self.closed, self.closed_vg, self.closing = closed, closed_vg, closing


def _units(world: SobWorld) -> _Units:
    """A vårdenhet open from before October 2015 on, another vårdgivare, a vårdenhet that
    moved to another vårdgivare, and one that closed."""
    rows = world.reference.hsa_as_of.table.to_pylist()
    enheter: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["kind"] == "vardenhet":
            enheter.setdefault(r["hsa_id"], []).append(r)
    steady = next(
        h
        for h, rs in enheter.items()
        if len(rs) == 1 and rs[0]["valid_from"] <= date(2015, 9, 1) and rs[0]["valid_to"] is None
    )
    vg = enheter[steady][0]["vardgivare_hsaid"]
    other = next(r["hsa_id"] for r in rows if r["kind"] == "vardgivare" and r["hsa_id"] != vg)
    moved = next(h for h, rs in enheter.items() if len({r["vardgivare_hsaid"] for r in rs}) > 1)
    closed = next(
        h
        for h, rs in enheter.items()
        if rs[-1]["valid_to"] is not None and len({r["vardgivare_hsaid"] for r in rs}) == 1
    )
    m = enheter[moved]
    return _Units(
        vg,
        steady,
        other,
        moved,
        closed,
        move=m[1]["valid_from"],
        old_vg=m[0]["vardgivare_hsaid"],
        new_vg=m[1]["vardgivare_hsaid"],
        closed_vg=enheter[closed][-1]["vardgivare_hsaid"],
        closing=enheter[closed][-1]["valid_to"],
    )


def _good(u: _Units, **changes: str) -> dict[str, str]:
    row = {
        "arende_id": "A1",
        "arendetyp": "Process",
        "status": "Inprogress",
        "tidpunkt": "2024-03-18T10:15:00",
        "process_namn": "Sömnbesvär – KBT",
        "moment_namn": "Introduktion",
        "vardgivare_hsaid": u.vg,
        "vardenhet_hsaid": u.ve,
        "vardtagare_id": "191212121212",  # Skatteverket's published test personnummer
        "kon": "K",
        "alder": "34",
        "behandlare_hsaid": "SE2321000016-ab12;SE2321000016-CD34",
        "avslutningsorsak": "",
    }
    return {**row, **changes}


def _check(tmp_path: Path, world: SobWorld, rows: list[dict[str, str]]) -> dict[int, str]:
    path = tmp_path / "hand.csv"
    write_csv([pa.RecordBatch.from_pylist(rows)], path)
    clean = check_file(path, "sob", KEY, Lake(tmp_path / "var"), world.reference, today=TODAY)
    assert clean.report.balanced and clean.report.rows_in == len(rows)
    return _quarantined(clean)


def _day(d: date | None, days: int = 0) -> str:
    assert d is not None
    return date.fromordinal(d.toordinal() + days).isoformat() + "T10:00:00"


SAMORDNINGSNUMMER = "19121272121" + luhn.calc_check_digit("121272121")  # born 1912-12-12
NOT_A_DATE = "19130230123" + luhn.calc_check_digit("130230123")  # Luhn right, 30 February
#: (name, changes of the good row as a function of the units, the rule or None)
CASES: list[tuple[str, Callable[[_Units], dict[str, str]], str | None]] = [
    ("good", lambda u: {}, None),
    ("space between date and time", lambda u: {"tidpunkt": "2024-03-18 10:15:00"}, None),
    ("no seconds", lambda u: {"tidpunkt": "2024-03-18T10:15"}, None),
    ("decimals", lambda u: {"tidpunkt": "2024-03-18T10:15:00.250"}, None),
    ("UTC offset", lambda u: {"tidpunkt": "2024-03-18T09:15:00Z"}, None),
    ("rolled-over date", lambda u: {"tidpunkt": "2024-02-30T10:00:00"}, "tidpunkt.invalid"),
    ("not ISO 8601", lambda u: {"tidpunkt": "18.03.2024 10:15"}, "tidpunkt.invalid"),
    ("hour 24", lambda u: {"tidpunkt": "2024-03-18T24:00:00"}, "tidpunkt.invalid"),
    ("skipped by summer time", lambda u: {"tidpunkt": "2024-03-31T02:30:00"}, "tidpunkt.invalid"),
    ("twice at winter time", lambda u: {"tidpunkt": "2024-10-27T02:30:00"}, None),
    ("first day", lambda u: {"tidpunkt": "2015-10-01T00:00:00"}, None),
    ("before SOB", lambda u: {"tidpunkt": "2015-09-30T23:59:59"}, "tidpunkt.before_start"),
    ("today", lambda u: {"tidpunkt": "2026-12-01T23:59:59"}, None),
    ("tomorrow", lambda u: {"tidpunkt": "2026-12-02T00:00:00"}, "tidpunkt.future"),
    ("samordningsnummer", lambda u: {"vardtagare_id": SAMORDNINGSNUMMER}, None),
    ("unknown vårdtagare", lambda u: {"vardtagare_id": ""}, None),
    ("check digit", lambda u: {"vardtagare_id": "191212121213"}, "vardtagare_id.invalid"),
    ("ten digits", lambda u: {"vardtagare_id": "1212121212"}, "vardtagare_id.invalid"),
    ("hyphen", lambda u: {"vardtagare_id": "19121212-1212"}, "vardtagare_id.invalid"),
    ("no such date", lambda u: {"vardtagare_id": NOT_A_DATE}, "vardtagare_id.invalid"),
    ("kön unknown", lambda u: {"kon": ""}, None),
    ("kön lower case", lambda u: {"kon": "k"}, "kon.invalid"),
    ("age unknown", lambda u: {"alder": ""}, None),
    ("age 0", lambda u: {"alder": "0"}, None),
    ("age 130", lambda u: {"alder": "130"}, None),
    ("age 131", lambda u: {"alder": "131"}, "alder.invalid"),
    ("age with unit", lambda u: {"alder": "34 år"}, "alder.invalid"),
    ("no treater", lambda u: {"behandlare_hsaid": ""}, None),
    ("one treater", lambda u: {"behandlare_hsaid": "SE2321000016-1003"}, None),
    ("no hyphen", lambda u: {"behandlare_hsaid": "SE2321000016ab12"}, "behandlare_hsaid.invalid"),
    (
        "empty part",
        lambda u: {"behandlare_hsaid": "SE2321000016-ab12;"},
        "behandlare_hsaid.invalid",
    ),
    ("å", lambda u: {"behandlare_hsaid": "SE2321000016-åb12"}, "behandlare_hsaid.invalid"),
    (
        "32 characters",
        lambda u: {"behandlare_hsaid": "SE2321000016-" + "a" * 19},
        "behandlare_hsaid.invalid",
    ),
    ("no ärende", lambda u: {"arende_id": ""}, "arende_id.missing"),
    ("no type", lambda u: {"arendetyp": ""}, "arendetyp.missing"),
    ("another type", lambda u: {"arendetyp": "Meddelande"}, None),
    ("no status", lambda u: {"status": ""}, "status.missing"),
    ("a pause", lambda u: {"status": "Paused"}, None),
    ("a Done alone", lambda u: {"status": "Done"}, "status.done_without_start"),
    (
        "unknown vårdgivare",
        lambda u: {"vardgivare_hsaid": "SE2321000016-VG"},
        "vardgivare_hsaid.unknown",
    ),
    (
        "unknown vårdenhet",
        lambda u: {"vardenhet_hsaid": u.vg.replace("-VG", "-E999")},
        "vardenhet_hsaid.unknown",
    ),
    (
        "another vårdgivare's",
        lambda u: {"vardgivare_hsaid": u.other_vg},
        "vardenhet_hsaid.not_under_vardgivare",
    ),
    (
        "before the move",
        lambda u: {
            "vardenhet_hsaid": u.moved,
            "vardgivare_hsaid": u.old_vg,
            "tidpunkt": _day(u.move, -1),
        },
        None,
    ),
    (
        "old vårdgivare after the move",
        lambda u: {
            "vardenhet_hsaid": u.moved,
            "vardgivare_hsaid": u.old_vg,
            "tidpunkt": _day(u.move),
        },
        "vardenhet_hsaid.not_under_vardgivare",
    ),
    (
        "new vårdgivare after the move",
        lambda u: {
            "vardenhet_hsaid": u.moved,
            "vardgivare_hsaid": u.new_vg,
            "tidpunkt": _day(u.move),
        },
        None,
    ),
    (
        "last day open",
        lambda u: {
            "vardenhet_hsaid": u.closed,
            "vardgivare_hsaid": u.closed_vg,
            "tidpunkt": _day(u.closing, -1),
        },
        None,
    ),
    (
        "closed",
        lambda u: {
            "vardenhet_hsaid": u.closed,
            "vardgivare_hsaid": u.closed_vg,
            "tidpunkt": _day(u.closing),
        },
        "vardenhet_hsaid.unknown",
    ),
]


@pytest.mark.parametrize(("changes", "rule"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(
    tmp_path: Path,
    sob_world: Callable[[int], SobWorld],
    changes: Callable[[_Units], dict[str, str]],
    rule: str | None,
) -> None:
    world = sob_world(SEED)
    found = _check(tmp_path, world, [_good(_units(world), **changes(_units(world)))])
    assert found == ({} if rule is None else {2: rule})


def test_an_offset_is_converted_to_swedish_time_and_unknowns_stay_empty(
    tmp_path: Path, sob_world: Callable[[int], SobWorld]
) -> None:
    world = sob_world(SEED)
    u = _units(world)
    path = tmp_path / "x.csv"
    rows = [_good(u, tidpunkt="2024-06-18T08:15:00+00:00", vardtagare_id="", alder="", kon="")]
    write_csv([pa.RecordBatch.from_pylist(rows)], path)
    clean = check_file(path, "sob", KEY, Lake(tmp_path), world.reference, today=TODAY)
    row = clean.accepted.to_pylist()[0]
    assert row["tidpunkt"] == datetime(2024, 6, 18, 10, 15)  # summer time: UTC + 2
    assert (row["vardtagare_id"], row["alder"], row["kon"]) == ("", None, "")


@pytest.mark.parametrize(
    ("events", "quarantined"),
    [
        # (ärende, status, time): a pause timed before the ärende's latest event
        (
            [("A", "Inprogress", "10:00"), ("A", "Paused", "12:00"), ("A", "Paused", "11:00")],
            {4: "tidpunkt.out_of_order"},
        ),
        # another ärende's events between change nothing; equal times are in order
        ([("A", "Inprogress", "10:00"), ("B", "Inprogress", "09:00"), ("A", "Done", "10:00")], {}),
        # an event with no valid time is not a previous event
        (
            [("A", "Inprogress", "10:00"), ("A", "Paused", "99:00"), ("A", "Done", "11:00")],
            {3: "tidpunkt.invalid"},
        ),
        # re-opened: Inprogress, Done, Inprogress, Done
        (
            [
                ("A", "Inprogress", "10:00"),
                ("A", "Done", "11:00"),
                ("A", "Inprogress", "12:00"),
                ("A", "Done", "13:00"),
            ],
            {},
        ),
        # a Done before the ärende's first start has no start
        ([("A", "Done", "09:00"), ("A", "Inprogress", "10:00")], {2: "status.done_without_start"}),
        # a start quarantined for another reason is still the ärende's start
        ([("A", "Inprogress", "10:00", {"kon": "X"}), ("A", "Done", "11:00")], {2: "kon.invalid"}),
        # the second copy of a row is a duplicate; a row differing in one value is not
        (
            [
                ("A", "Inprogress", "10:00"),
                ("A", "Inprogress", "10:00"),
                ("A", "Inprogress", "10:00", {"avslutningsorsak": "x"}),
            ],
            {3: "row.duplicate"},
        ),
    ],
)
def test_rules_between_the_events_of_an_arende(
    tmp_path: Path,
    sob_world: Callable[[int], SobWorld],
    events: list[tuple[Any, ...]],
    quarantined: dict[int, str],
) -> None:
    world = sob_world(SEED)
    u = _units(world)
    rows = [
        _good(
            u,
            arende_id=e[0],
            status=e[1],
            tidpunkt=f"2024-03-18T{e[2]}:00",
            **(e[3] if len(e) > 3 else {}),
        )
        for e in events
    ]
    assert _check(tmp_path, world, rows) == quarantined


# -- vectorised: the Python that runs does not grow with the rows ----------------------------


@contextmanager
def _python_lines() -> Iterator[list[int]]:
    """Count the lines of Python executed inside the block, except in pseudonymise.py
    (one keyed hash per distinct identifier, by design)."""
    count = [0]

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        if frame.f_code.co_filename.endswith("pseudonymise.py"):
            return None
        if event == "line":
            count[0] += 1
        return tracer

    sys.settrace(tracer)
    try:
        yield count
    finally:
        sys.settrace(None)


def test_validation_runs_no_python_per_row(
    tmp_path: Path, sob_world: Callable[[int], SobWorld]
) -> None:
    world = sob_world(SEED)
    counts = []
    for events in (20_000, 200_000):
        path = tmp_path / f"sob_{events}.csv"
        world.extract(path, events, bad_share=0.0)
        lake = Lake(tmp_path / f"var{events}")
        with _python_lines() as lines:
            clean = check_file(path, "sob", KEY, lake, world.reference, today=TODAY)
        assert clean.report.rows_in > events * 0.9
        counts.append(lines[0])
    # ten times the rows: the same Python (give or take a branch), not ten times as much
    assert counts[1] < counts[0] * 1.2, counts


def test_spec_is_registered_and_lists_the_columns_of_issue_13() -> None:
    assert spec_for("sob") is SOB
    assert SOB.column_names == (
        "arende_id",
        "arendetyp",
        "status",
        "tidpunkt",
        "process_namn",
        "moment_namn",
        "vardgivare_hsaid",
        "vardenhet_hsaid",
        "vardtagare_id",
        "kon",
        "alder",
        "behandlare_hsaid",
        "avslutningsorsak",
    )


def test_the_statistic_reads_the_stored_events_as_it_reads_the_clear_ones(
    tmp_path: Path, sob_world: Callable[[int], SobWorld]
) -> None:
    """What the ingest stores (a timestamp, int16 ages, coded units beside their text,
    pseudonyms) is what statistics/sob reads: its ärenden from the stored files are those of
    the accepted rows in clear, persons and treaters one to one."""
    world = sob_world(SEED)
    rows, labels = world.extract(tmp_path / "sob.csv", 6_000)
    lake = Lake(tmp_path / "var")
    ingest_file(tmp_path / "sob.csv", "sob", KEY, lake, world.reference, today=TODAY)
    normal = rows.filter(pa.array([not x for x in labels]))
    clear = normal.set_column(
        3, "tidpunkt", pc.strptime(normal["tidpunkt"], "%Y-%m-%dT%H:%M:%S", "us")
    )
    index = clear.column_names.index("alder")
    alder = pc.if_else(pc.equal(clear["alder"], ""), None, clear["alder"]).cast(pa.int16())
    clear = clear.set_column(index, "alder", alder)
    units = world.reference.hsa_units
    assert units is not None and units.num_rows
    with DuckDBEngine(threads=1) as engine:
        stored = cases(committed_files(lake, "sob"), units, engine)
        expected = cases(clear, units, engine)
        facts = range_facts(committed_files(lake, "sob"), units, engine)
    assert stored.num_rows == expected.num_rows > 500
    assert stored.drop_columns(["vardtagare"]) == expected.drop_columns(["vardtagare"])
    assert "00" not in set(stored.column("lan").to_pylist())  # every vårdgivare placed
    pairs = zip(stored["vardtagare"].to_pylist(), expected["vardtagare"].to_pylist(), strict=True)
    persons = set(pairs)
    assert len({s for s, _ in persons}) == len({c for _, c in persons}) == len(persons)
    assert facts.facts.flows.num_rows > 0
