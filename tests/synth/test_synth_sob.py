"""The synthetic 1177 Stöd och behandling extract (SYNTHETIC DATA): its columns, the demo
unit registry it is placed in, valid identifiers, the order of events, the life of an ärende
and of a programme, growth, reasons for finishing and every deliberate defect — each checked
against the unit plan, python-stdnum or a plain reading of the rows."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from itertools import pairwise
from typing import Any

import pyarrow as pa
import pytest
from stdnum import luhn
from stdnum.se import personnummer

from helsestat.errors import InputError
from helsestat.reference.units.plan import UnitPlan
from helsestat.synth.sob import (
    DEFECTS,
    REASONS,
    REASONS_FROM,
    SOB_COLUMNS,
    generate_sob,
)
from helsestat.synth.sob_programmes import PROGRAMMES
from helsestat.synth.units import generate_unit_plan
from helsestat.validate.identifier_scan import SHAPES, find_identifiers

SEED = 11
EVENTS = 8_000
Row = dict[str, Any]


@pytest.fixture(scope="module")
def plan() -> UnitPlan:
    return generate_unit_plan(SEED)


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    table = pa.Table.from_batches(list(generate_sob(EVENTS, SEED, labels=True)))
    return list(table.to_pylist())


def _normal(rows: list[Row]) -> list[Row]:
    return [r for r in rows if not r["defect"]]


def _hsa(unit: Any) -> str:
    return str(dict(unit.identifiers)["hsa"])


def _periods(plan: UnitPlan) -> dict[str, list[tuple[date, date, str]]]:
    """vårdenhet HSA-id → (from, to, vårdgivare HSA-id): a plain reading of the plan, with
    the registry's half-open validity (a unit closed on a date is not open that day)."""
    vg = {u.key: _hsa(u) for u in plan.units if u.country == "SE" and u.kind == "vardgivare"}
    out: dict[str, list[tuple[date, date, str]]] = {}
    for unit in plan.units:
        if unit.country != "SE" or unit.kind != "vardenhet":
            continue
        spans = []
        parent: str | None = unit.parent
        since = unit.opened
        for event in plan.events:
            if event.key != unit.key or parent is None:
                continue
            changes = dict(event.changes)
            if event.what == "close":
                spans.append((since, event.on, parent))
                parent = None
            elif event.what == "change" and "parent" in changes:
                spans.append((since, event.on, parent))
                parent, since = str(changes["parent"]), event.on
        if parent is not None:
            spans.append((since, date.max, parent))
        out[_hsa(unit)] = [(a, b, vg[p]) for a, b, p in spans if a < b]
    return out


def _vg_at(periods: list[tuple[date, date, str]], day: date) -> str | None:
    return next((vg for a, b, vg in periods if a <= day < b), None)


def _day(row: Row) -> date:
    return date.fromisoformat(row["tidpunkt"][:10])


def _valid_number(number: str) -> bool:
    """A personnummer (checked by python-stdnum) or a samordningsnummer (day of birth + 60,
    which stdnum's personnummer refuses: its Luhn digit over the last ten digits and a real
    birth date), 12 digits."""
    if len(number) != 12 or not number.isdigit():
        return False
    day = int(number[6:8])
    if day <= 60:
        return bool(personnummer.is_valid(number))
    try:
        date(int(number[:4]), int(number[4:6]), day - 60)
    except ValueError:
        return False
    return bool(luhn.is_valid(number[2:]))


def test_columns_are_the_extract_columns_in_order_all_text() -> None:
    batch = next(generate_sob(1_000, 2, lan_limit=1))
    assert batch.schema.names == list(SOB_COLUMNS)
    assert all(field.type == pa.string() for field in batch.schema)
    labelled = next(generate_sob(1_000, 2, lan_limit=1, labels=True))
    assert labelled.schema.names == [*SOB_COLUMNS, "defect"]


def test_the_same_seed_gives_the_same_rows_and_another_seed_others() -> None:
    def run(seed: int) -> pa.Table:
        return pa.Table.from_batches(list(generate_sob(1_500, seed, lan_limit=3)))

    first = run(5)
    assert first.equals(run(5))
    assert not first.equals(run(6))


@pytest.mark.parametrize("events", [5_000, 30_000])
def test_about_the_number_of_events_asked_for(events: int) -> None:
    made = sum(b.num_rows for b in generate_sob(events, 3))
    assert 0.9 * events <= made <= 1.1 * events


def test_batches_stay_bounded_and_do_not_change_the_rows() -> None:
    small = list(generate_sob(5_000, 4, lan_limit=4, batch_rows=700))
    sizes = [b.num_rows for b in small]
    assert len(sizes) > 5
    assert all(s == 700 for s in sizes[:-1]) and 0 < sizes[-1] <= 700
    whole = pa.Table.from_batches(list(generate_sob(5_000, 4, lan_limit=4)))
    assert pa.Table.from_batches(small).equals(whole)


def test_normal_rows_name_an_open_unit_under_its_vardgivare(
    rows: list[Row], plan: UnitPlan
) -> None:
    periods = _periods(plan)
    for row in _normal(rows):
        assert row["vardenhet_hsaid"] in periods, row
        vg = _vg_at(periods[row["vardenhet_hsaid"]], _day(row))
        assert vg == row["vardgivare_hsaid"], row


def test_units_of_every_region_and_their_closures_and_moves(plan: UnitPlan) -> None:
    rows = pa.Table.from_batches(list(generate_sob(60_000, SEED, bad_share=0)))
    lan_of = {_hsa(u): u.lan for u in plan.units if u.country == "SE"}
    seen = Counter(lan_of[vg] for vg in rows.column("vardgivare_hsaid").to_pylist())
    assert len(seen) == 21  # all Swedish regions
    assert seen["01"] > seen["09"] * 10  # Stockholm has ~40 times Gotland's population
    # a unit taken over by a private vårdgivare shows under both, at their own times
    periods = _periods(plan)
    pairs = set(
        zip(
            rows.column("vardenhet_hsaid").to_pylist(),
            rows.column("vardgivare_hsaid").to_pylist(),
            strict=True,
        )
    )
    moved = [u for u, spans in periods.items() if len({vg for _, _, vg in spans}) > 1]
    assert any(len({vg for unit, vg in pairs if unit == u}) > 1 for u in moved)


def test_lan_limit_keeps_to_the_first_regions(plan: UnitPlan) -> None:
    rows = pa.Table.from_batches(list(generate_sob(2_000, SEED, lan_limit=2, bad_share=0)))
    lan_of = {_hsa(u): u.lan for u in plan.units if u.country == "SE"}
    assert {lan_of[vg] for vg in rows.column("vardgivare_hsaid").to_pylist()} == {"01", "03"}


def test_identifiers_have_valid_check_digits_except_the_defect(rows: list[Row]) -> None:
    numbers = [r["vardtagare_id"] for r in _normal(rows) if r["vardtagare_id"]]
    assert all(_valid_number(n) for n in numbers)
    assert any(int(n[6:8]) > 60 for n in numbers)  # samordningsnummer occur
    assert any(r["vardtagare_id"] == "" for r in _normal(rows))  # unknown ones too
    spoiled = [r for r in rows if r["defect"] == "vardtagare_check_digit"]
    assert spoiled and not any(_valid_number(r["vardtagare_id"]) for r in spoiled)
    # the birth date (minus 60 for samordningsnummer) is real, so only the digit is wrong
    for r in spoiled:
        n = r["vardtagare_id"]
        assert luhn.is_valid(n[2:11] + luhn.calc_check_digit(n[2:11]))


def test_the_identifier_scan_finds_the_numbers_as_what_they_are(rows: list[Row]) -> None:
    normal = [r["vardtagare_id"] for r in _normal(rows) if r["vardtagare_id"]]
    found = find_identifiers(pa.array(normal))
    shapes = {int(v): SHAPES[s] for v, s in zip(found.value, found.shape, strict=True)}
    assert shapes == {
        i: "samordningsnummer" if int(n[6:8]) > 60 else "personnummer" for i, n in enumerate(normal)
    }
    spoiled = [r["vardtagare_id"] for r in rows if r["defect"] == "vardtagare_check_digit"]
    assert len(find_identifiers(pa.array(spoiled)).value) == 0


def test_person_attributes_are_consistent(rows: list[Row]) -> None:
    by_person: dict[str, set[str]] = defaultdict(set)
    for r in _normal(rows):
        if r["vardtagare_id"]:
            by_person[r["vardtagare_id"]].add(r["kon"])
            if r["alder"]:
                born = int(r["vardtagare_id"][:4])
                assert int(r["alder"]) in (_day(r).year - born - 1, _day(r).year - born)
            if r["kon"]:  # the third digit of the birth number is odd for men
                assert (int(r["vardtagare_id"][10]) % 2 == 1) == (r["kon"] == "M")
    assert all(len(kon) == 1 for kon in by_person.values())
    assert {r["kon"] for r in _normal(rows)} == {"K", "M", ""}
    staff = {h for r in _normal(rows) for h in r["behandlare_hsaid"].split(";")}
    assert all(h[:2] == "SE" and h[12] == "-" and len(h) == 17 for h in staff)


def test_events_are_in_time_order_except_the_defects(rows: list[Row]) -> None:
    misplaced = {"tidpunkt_before_start", "tidpunkt_in_future", "out_of_order"}
    stamps = [r["tidpunkt"] for r in rows if r["defect"] not in misplaced]
    assert stamps == sorted(stamps)
    assert stamps[0] >= "2015-10-01" and stamps[-1] <= "2026-11-30T23:59:59"
    last: dict[str, str] = {}
    for r in rows:
        if r["defect"] == "out_of_order":
            assert r["tidpunkt"] < last[r["arende_id"]]
        else:
            assert r["tidpunkt"] >= last.get(r["arende_id"], "")
        last[r["arende_id"]] = max(r["tidpunkt"], last.get(r["arende_id"], ""))


def test_an_arende_starts_pauses_finishes_and_is_rarely_reopened(rows: list[Row]) -> None:
    per: dict[str, list[Row]] = defaultdict(list)
    for r in _normal(rows):
        per[r["arende_id"]].append(r)
    kinds: Counter[str] = Counter()
    for events in per.values():
        statuses = [e["status"] for e in events]
        assert statuses[0] == "Inprogress"
        assert len({(e["arendetyp"], e["process_namn"], e["moment_namn"]) for e in events}) == 1
        assert len({(e["vardenhet_hsaid"], e["vardtagare_id"]) for e in events}) == 1
        for before, after in pairwise(statuses):
            assert (before, after) in {
                ("Inprogress", "Paused"),
                ("Paused", "Inprogress"),
                ("Inprogress", "Done"),
                ("Done", "Inprogress"),
            }, statuses
        if events[0]["arendetyp"] == "Process":
            kinds["paused"] += "Paused" in statuses
            kinds["finished"] += "Done" in statuses
            kinds["reopened"] += statuses.count("Done") > 1
            kinds["all"] += 1
    assert kinds["all"] * 0.05 < kinds["paused"] < kinds["all"] * 0.25
    assert 0 < kinds["reopened"] < kinds["all"] * 0.05
    assert kinds["all"] * 0.6 < kinds["finished"] < kinds["all"] * 0.99  # a tail never ends
    assert {r["arendetyp"] for r in rows} == {"Process", "Meddelande", "Formulär"}


def test_a_programme_is_done_moment_after_moment(rows: list[Row]) -> None:
    order = {(p.name, m): i for p in PROGRAMMES for i, m in enumerate(p.moments)}
    first: dict[str, Row] = {}
    done: dict[str, str] = {}
    for r in _normal(rows):
        if r["arendetyp"] == "Process":
            first.setdefault(r["arende_id"], r)
            if r["status"] == "Done":
                done.setdefault(r["arende_id"], r["tidpunkt"])
    finished_steps: dict[tuple[str, str, int], list[str]] = defaultdict(list)
    for arende, r in first.items():
        if arende in done and r["vardtagare_id"]:
            step = order[(r["process_namn"], r["moment_namn"])]
            finished_steps[(r["vardtagare_id"], r["process_namn"], step)].append(done[arende])
    later = 0
    for r in first.values():
        step = order[(r["process_namn"], r["moment_namn"])]
        if step and r["vardtagare_id"]:
            later += 1
            before = finished_steps[(r["vardtagare_id"], r["process_namn"], step - 1)]
            assert any(t <= r["tidpunkt"] for t in before), r
    assert later > len(first) / 3
    programmes = defaultdict(set)
    for r in first.values():
        if r["vardtagare_id"]:
            programmes[r["vardtagare_id"]].add(r["process_namn"])
    assert any(len(p) > 1 for p in programmes.values())  # some come back for another


def test_volumes_grow_strongly_over_the_years(rows: list[Row]) -> None:
    started = Counter(
        r["tidpunkt"][:4]
        for r in _normal(rows)
        if r["arendetyp"] == "Process" and r["status"] == "Inprogress"
    )
    assert started["2016"] < started["2018"] < started["2020"] < started["2022"]
    assert started["2024"] > 3 * started["2016"]


def test_reasons_for_finishing_are_recorded_from_march_2022(rows: list[Row]) -> None:
    reasons = {name for name, _ in REASONS}
    cut = REASONS_FROM.isoformat()
    for r in _normal(rows):
        finished = r["arendetyp"] == "Process" and r["status"] == "Done"
        if finished and r["tidpunkt"] >= cut:
            assert r["avslutningsorsak"] in reasons, r
        else:
            assert r["avslutningsorsak"] == "", r
    used = {r["avslutningsorsak"] for r in rows if r["avslutningsorsak"]}
    assert used == reasons


def test_every_defect_is_present_at_the_default_share(rows: list[Row]) -> None:
    found = Counter(r["defect"] for r in rows if r["defect"])
    assert set(found) == {d.name for d in DEFECTS}
    assert 0.007 * len(rows) < sum(found.values()) < 0.013 * len(rows)
    assert max(found.values()) - min(found.values()) <= 1  # they come in turn
    assert not any(
        r["defect"] for r in generate_sob(2_000, 1, bad_share=0, labels=True).__next__().to_pylist()
    )


def test_each_defect_row_holds_its_defect_and_only_it(rows: list[Row], plan: UnitPlan) -> None:
    periods = _periods(plan)
    vardgivare = {_hsa(u) for u in plan.units if u.country == "SE" and u.kind == "vardgivare"}
    ids = Counter(r["arende_id"] for r in rows)
    for i, r in enumerate(rows):
        kind = r["defect"]
        if not kind:
            continue
        unit, vg = r["vardenhet_hsaid"], r["vardgivare_hsaid"]
        day = date(2026, 12, 1) if kind == "tidpunkt_in_future" else _day(r)
        if kind == "vardenhet_unknown":
            assert unit not in periods and vg in vardgivare
        elif kind == "vardenhet_not_under_vardgivare":
            assert vg in vardgivare and _vg_at(periods[unit], day) not in (None, vg)
        else:
            assert _vg_at(periods[unit], day) == vg, r
        if kind in ("duplicate", "out_of_order"):
            assert ids[r["arende_id"]] > 1
        else:  # an ärende of its own
            assert ids[r["arende_id"]] == 1 and r["arendetyp"] == "Process"
            expected = "Done" if kind == "done_without_start" else "Inprogress"
            assert r["status"] == expected
        assert (r["vardtagare_id"] == "" or _valid_number(r["vardtagare_id"])) == (
            kind != "vardtagare_check_digit"
        )
        assert (r["kon"] in ("K", "M", "")) == (kind != "kon_invalid")
        assert (r["alder"] == "" or r["alder"].isdigit()) == (kind != "alder_not_numeric")
        staff = r["behandlare_hsaid"].split(";")
        assert all(h[12:13] == "-" for h in staff) == (kind != "behandlare_malformed")
        assert ("2015-10-01" <= r["tidpunkt"] <= "2026-11-30T23:59:59") == (
            kind not in ("tidpunkt_before_start", "tidpunkt_in_future")
        )
        if kind == "duplicate":
            assert {**rows[i - 1], "defect": kind} == r
        if kind == "out_of_order":
            assert r["status"] == "Paused"
        if kind == "tidpunkt_in_future":
            assert r["tidpunkt"] > "2100"


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InputError):
        next(generate_sob(-1, 1))
    with pytest.raises(InputError):
        next(generate_sob(100, 1, bad_share=0.7))
    with pytest.raises(InputError):
        next(generate_sob(100, 1, end=date(2015, 1, 1)))
    assert list(generate_sob(0, 1)) == []


@pytest.mark.parametrize("seed", [1, 2026, 7])
def test_no_demo_unit_identifier_reads_as_a_personnummer(seed: int) -> None:
    # Swedish organisation numbers have a third digit of 2 or more (a month of 20-99), so a
    # vårdgivare's HSA-id, stored in clear, never looks like a person's number
    from helsestat.synth.units import generate_unit_plan
    from helsestat.validate.identifier_scan import find_identifiers

    plan = generate_unit_plan(seed)
    texts = [value for unit in plan.units for _, value in unit.identifiers]
    texts += [unit.orgnr for unit in plan.units if unit.orgnr]
    assert len(find_identifiers(pa.array(texts, pa.string()))) == 0
