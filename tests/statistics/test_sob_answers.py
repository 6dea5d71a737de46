"""The twelve 1177 Stöd och behandling tables against a brute-force reading of the events
(SYNTHETIC DATA): for random events and random ranges and filters, every count of ärenden,
stock, distinct person and distinct treater equals a plain Python count over the events, and
the protection hides exactly the person counts of 10 or fewer plus what the relations
require."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

from helsestat.aggregate import DuckDBEngine
from helsestat.aggregate.ranges import RangeCube, build_ranges, month_index
from helsestat.publish.formats import FORMATS
from helsestat.publish.index import Selection, TableIndex
from helsestat.publish.views import DEFAULT
from helsestat.statistics.sob.answers import TABLES, SobData, SobQuery, answer, answer_columns
from helsestat.statistics.sob.cases import range_facts, units_table
from helsestat.statistics.sob.measures import PERSON_THRESHOLD, age_group, spec_for

UNITS = {
    "SE1-a": ("SE1", "01"),
    "SE1-b": ("SE1", "01"),
    "SE2-a": ("SE2", "03"),
    "SE3-a": ("SE3", "03"),
}
MOMENTS = [("Sömn", "Steg 1"), ("Sömn", "Steg 2"), ("Oro", "Steg 1")]
START = dt.datetime(2021, 11, 1)


def _events(seed: int, cases: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for n in range(cases):
        enhet = rng.choice(list(UNITS))
        process, moment = rng.choice(MOMENTS)
        person = f"p{rng.randrange(60)}" if rng.random() > 0.1 else None
        kon = rng.choice(["K", "M", "K", ""])
        age = rng.choice([None, 16, 30, 44, 70])
        at = START + dt.timedelta(days=rng.randrange(300), hours=rng.randrange(24))
        base = {
            "arende_id": f"a{n}",
            "arendetyp": "Process" if rng.random() > 0.05 else "Annat",
            "process_namn": process,
            "moment_namn": moment,
            "vardgivare_hsaid": UNITS[enhet][0],
            "vardenhet_hsaid": enhet,
            "vardtagare_id": person,
            "kon": kon,
            "alder": age,
        }
        treaters = ";".join(f"t{rng.randrange(15)}" for _ in range(rng.randrange(3)))
        rows.append(
            {
                **base,
                "status": "Inprogress",
                "tidpunkt": at,
                "behandlare_hsaid": treaters or None,
                "avslutningsorsak": None,
            }
        )
        if rng.random() < 0.4:
            at += dt.timedelta(days=rng.randrange(40))
            rows.append(
                {
                    **base,
                    "status": "Paused",
                    "tidpunkt": at,
                    "behandlare_hsaid": None,
                    "avslutningsorsak": None,
                }
            )
        if rng.random() < 0.7:
            at += dt.timedelta(days=rng.randrange(120))
            reason = rng.choice(["Klar", "Avbruten", ""]) if at >= dt.datetime(2022, 3, 1) else ""
            rows.append(
                {
                    **base,
                    "status": "Done",
                    "tidpunkt": at,
                    "behandlare_hsaid": f"t{rng.randrange(15)}",
                    "avslutningsorsak": reason or None,
                }
            )
    return rows


def _month(at: dt.datetime) -> int:
    return month_index(at.year, at.month)


def _cases(events: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        if e["arendetyp"] == "Process":
            by_case[e["arende_id"]].append(e)
    for rows in by_case.values():
        rows.sort(key=lambda e: e["tidpunkt"])
        start = next((e for e in rows if e["status"] == "Inprogress"), None)
        if start is None:
            continue
        done = next(
            (e for e in rows if e["status"] == "Done" and e["tidpunkt"] >= start["tidpunkt"]), None
        )
        treaters = {t for e in rows for t in (e["behandlare_hsaid"] or "").split(";") if t}
        yield {
            **start,
            "lan": UNITS[start["vardenhet_hsaid"]][1],
            "done": done,
            "treaters": treaters,
        }


def _inside(row: dict[str, Any], filters: dict[str, str]) -> bool:
    names = {
        "lan": "lan",
        "vardgivare": "vardgivare_hsaid",
        "vardenhet": "vardenhet_hsaid",
        "process": "process_namn",
        "moment": "moment_namn",
    }
    lan = UNITS[row["vardenhet_hsaid"]][1]
    return all((lan if k == "lan" else row[names[k]]) == v for k, v in filters.items())


@pytest.fixture(scope="module")
def data_and_events() -> tuple[SobData, list[dict[str, Any]]]:
    events = _events(5, 700)
    table = pa.Table.from_pylist(events)
    lan_of = {v[0]: v[1] for v in UNITS.values()}
    with DuckDBEngine(threads=1) as engine:
        facts = range_facts(table, units_table(lan_of), engine)
        spec = spec_for(len(facts.reasons))
        cube = RangeCube(spec, build_ranges(spec, facts.facts))
    population = {("01", 2022): (2_400_000, 2022), ("03", 2022): (390_000, 2019)}
    data = SobData(
        cube,
        facts.reasons,
        {"01": "Stockholms län", "03": "Uppsala län"},
        population,
        month_index(2021, 11),
        month_index(2022, 12),
    )
    return data, events


FILTERS = [
    {},
    {"lan": "03"},
    {"vardgivare": "SE1"},
    {"vardenhet": "SE2-a"},
    {"process": "Sömn"},
    {"lan": "01", "moment": "Steg 1", "process": "Oro"},
]


def _ranges(seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    first = month_index(2021, 11)
    out = [(first, first + 13)]
    for _ in range(6):
        a = first + rng.randrange(14)
        out.append((a, min(first + 14, a + rng.randrange(6))))
    return out


def _rows(table: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items()} for r in table.table.to_pylist()]


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_counts_of_arenden_equal_the_events(
    data_and_events: tuple[SobData, list[dict[str, Any]]], filters: dict[str, str]
) -> None:
    data, events = data_and_events
    cases = [c for c in _cases(events) if _inside(c, filters)]
    for first, last in _ranges(len(filters)):
        query = SobQuery(first, last, filters)

        def started(c: dict[str, Any], first: int = first, last: int = last) -> bool:
            return first <= _month(c["tidpunkt"]) <= last

        def finished(c: dict[str, Any], first: int = first, last: int = last) -> bool:
            return c["done"] is not None and first <= _month(c["done"]["tidpunkt"]) <= last

        manad = _rows(answer(data, "manad", query))
        assert sum(r["startade"] for r in manad) == sum(map(started, cases))
        assert sum(r["avslutade"] for r in manad) == sum(map(finished, cases))
        days = {r["veckodag"]: r for r in _rows(answer(data, "veckodag", query))}
        if days:
            monday = [c for c in cases if started(c) and c["tidpunkt"].isoweekday() == 1]
            assert days["måndag"]["startade"] == len(monday)
        for row in _rows(answer(data, "pagaende", query)):
            year, month = map(int, row["manad"].split("-"))
            end = month_index(year, month)
            ongoing = [
                c
                for c in cases
                if _month(c["tidpunkt"]) <= end
                and (c["done"] is None or _month(c["done"]["tidpunkt"]) > end)
            ]
            assert row["pagaende"] == len(ongoing), row
        reasons = {
            r["avslutningsorsak"]: r["avslutade"]
            for r in _rows(answer(data, "avslutningsorsak", query))
        }
        for reason, count in reasons.items():
            expected = [
                c
                for c in cases
                if finished(c) and (c["done"]["avslutningsorsak"] or "Okänd") == reason
            ]
            assert count == len(expected), reason
        for row in _rows(answer(data, "process", query)):
            mine = [c for c in cases if c["process_namn"] == row["process"]]
            assert row["startade"] == sum(map(started, mine))


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_persons_and_treaters_are_distinct_over_the_range(
    data_and_events: tuple[SobData, list[dict[str, Any]]], filters: dict[str, str]
) -> None:
    data, events = data_and_events
    cases = [c for c in _cases(events) if _inside(c, filters)]
    for first, last in _ranges(len(filters) + 10):
        query = SobQuery(first, last, filters)
        region = _rows(answer(data, "region", query))
        if not region:
            continue
        top = region[0]
        persons = {
            c["vardtagare_id"]
            for c in cases
            if c["vardtagare_id"] and first <= _month(c["tidpunkt"]) <= last
        }
        assert top["invanare"] == (len(persons) if len(persons) > PERSON_THRESHOLD else None)
        counted = [
            c
            for c in cases
            if first <= _month(c["tidpunkt"]) <= last
            or (c["done"] is not None and first <= _month(c["done"]["tidpunkt"]) <= last)
        ]
        assert top["behandlare"] == len({t for c in counted for t in c["treaters"]})
        seen = [
            e
            for e in events
            if e["arendetyp"] == "Process"
            and e["vardtagare_id"]
            and _inside(e, filters)
            and first <= _month(e["tidpunkt"]) <= last
        ]
        kon = {r["kon"]: r for r in _rows(answer(data, "vardtagare_kon", query))}
        total = len({e["vardtagare_id"] for e in seen})
        shown = total if total > PERSON_THRESHOLD else None
        assert kon["totalt"]["vardtagare"] == shown or kon["totalt"]["status"] == "secondary"
        women = len({e["vardtagare_id"] for e in seen if e["kon"] == "K"})
        assert kon["kvinna"]["vardtagare"] in (women, None)
        for row in _rows(answer(data, "vardtagare_kon_alder", query)):
            if row["aldersgrupp"] == "totalt" or row["vardtagare"] is None:
                continue
            code = {"kvinna": "K", "man": "M", "okänt": ""}[row["kon"]]
            people = {
                e["vardtagare_id"]
                for e in seen
                if e["kon"] == code and age_group(e["alder"]) == row["aldersgrupp"]
            }
            assert row["vardtagare"] == len(people)


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_tables_by_month_equal_the_events_month_by_month(
    data_and_events: tuple[SobData, list[dict[str, Any]]], filters: dict[str, str]
) -> None:
    data, events = data_and_events
    cases = [c for c in _cases(events) if _inside(c, filters)]
    seen = [
        e
        for e in events
        if e["arendetyp"] == "Process" and e["vardtagare_id"] and _inside(e, filters)
    ]
    for first, last in _ranges(len(filters) + 20):
        query = SobQuery(first, last, filters)
        manad = _rows(answer(data, "manad", query))
        assert len(manad) in (0, last - first + 1)
        for row in manad:
            year, month = map(int, row["manad"].split("-"))
            at = month_index(year, month)
            counted = [
                c
                for c in cases
                if _month(c["tidpunkt"]) == at
                or (c["done"] is not None and _month(c["done"]["tidpunkt"]) == at)
            ]
            assert row["behandlare"] == len({t for c in counted for t in c["treaters"]}), row
        for row in _rows(answer(data, "vardtagare_kon_manad", query)):
            year, month = map(int, row["manad"].split("-"))
            at = month_index(year, month)
            code = {"kvinna": "K", "man": "M", "okänt": "", "totalt": None}[row["kon"]]
            people = {
                e["vardtagare_id"]
                for e in seen
                if _month(e["tidpunkt"]) == at and (code is None or e["kon"] == code)
            }
            if row["status"] == "published":
                assert row["vardtagare"] == len(people), row
            else:
                assert row["vardtagare"] is None
                assert row["status"] == "secondary" or len(people) <= PERSON_THRESHOLD, row
        for row in _rows(answer(data, "pagaende_moment", query)):
            year, month = map(int, row["manad"].split("-"))
            end = month_index(year, month)
            ongoing = [
                c
                for c in cases
                if c["process_namn"] == row["process"]
                and c["moment_namn"] == row["moment"]
                and _month(c["tidpunkt"]) <= end
                and (c["done"] is None or _month(c["done"]["tidpunkt"]) > end)
            ]
            assert row["pagaende"] == len(ongoing), row


def test_every_person_count_of_10_or_fewer_is_hidden_and_no_part_stands_alone(
    data_and_events: tuple[SobData, list[dict[str, Any]]],
) -> None:
    data, _ = data_and_events
    for filters in FILTERS:
        for first, last in _ranges(3):
            query = SobQuery(first, last, filters)
            for table in (
                "region",
                "moment",
                "vardtagare_kon",
                "vardtagare_kon_alder",
                "vardtagare_kon_manad",
            ):
                protected = answer(data, table, query)
                rows = _rows(protected)
                measure = protected.guarded[0]
                for r in rows:
                    if r["status"] == "published":
                        assert r[measure] > PERSON_THRESHOLD
                    else:
                        assert r[measure] is None
                if table.startswith("vardtagare_kon"):
                    key = {
                        "vardtagare_kon": None,
                        "vardtagare_kon_alder": "kon",
                        "vardtagare_kon_manad": "manad",
                    }[table]
                    part = "aldersgrupp" if table == "vardtagare_kon_alder" else "kon"
                    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
                    for r in rows:
                        groups[r[key] if key else None].append(r)
                    for members in groups.values():
                        total = next(r for r in members if r[part] == "totalt")
                        parts = [r for r in members if r[part] != "totalt"]
                        hidden = [r for r in parts if r["status"] != "published"]
                        if total["status"] == "published":
                            assert len(hidden) != 1, (table, filters, members)


def test_a_kon_hidden_in_one_table_is_not_derivable_from_another(
    data_and_events: tuple[SobData, list[dict[str, Any]]],
) -> None:
    """The kön totals of vardtagare_kon_alder are the persons of vardtagare_kon: a kön hidden
    there is hidden here too, and its age groups are never all shown (they would add up to
    it); in the drill-downs a hidden child never stands alone beside shown siblings."""
    data, _ = data_and_events
    checked = 0
    for filters in FILTERS:
        for first, last in _ranges(7) + [(m, m) for m in range(24262, 24275)]:
            query = SobQuery(first, last, filters)
            kon = {r["kon"]: r for r in _rows(answer(data, "vardtagare_kon", query))}
            by_kon: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for r in _rows(answer(data, "vardtagare_kon_alder", query)):
                by_kon[r["kon"]].append(r)
            for label, members in by_kon.items():
                total = next(r for r in members if r["aldersgrupp"] == "totalt")
                parts = [r for r in members if r["aldersgrupp"] != "totalt"]
                if kon[label]["status"] != "published":
                    checked += 1
                    assert total["status"] != "published", (filters, first, last, label)
                    assert any(r["status"] != "published" for r in parts), (filters, label)
            for table in ("region", "moment"):
                rows = _rows(answer(data, table, query))
                if len(rows) > 2 and rows[0]["status"] == "published":
                    hidden = [r for r in rows[1:] if r["status"] != "published"]
                    assert len(hidden) != 1, (table, filters, first, last)
    assert checked  # the data has such cases


def test_startade_are_published_beside_hidden_persons(
    data_and_events: tuple[SobData, list[dict[str, Any]]],
) -> None:
    data, _ = data_and_events
    first = month_index(2021, 11)
    rows = _rows(answer(data, "region", SobQuery(first, first, {"vardenhet": "SE3-a"})))
    hidden = [r for r in rows if r["status"] != "published"]
    assert hidden and all(r["startade"] is not None for r in hidden)


def test_a_moment_named_alike_in_two_processes_needs_its_process(
    data_and_events: tuple[SobData, list[dict[str, Any]]],
) -> None:
    from helsestat.errors import QueryError

    data, _ = data_and_events
    first = month_index(2021, 11)
    with pytest.raises(QueryError, match="add process="):
        answer(data, "manad", SobQuery(first, first + 3, {"moment": "Steg 1"}))
    alone = answer(data, "manad", SobQuery(first, first + 3, {"moment": "Steg 2"}))
    assert alone.table.num_rows == 4  # Steg 2 is only in Sömn


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_the_served_columns_are_the_protected_table(
    data_and_events: tuple[SobData, list[dict[str, Any]]], filters: dict[str, str]
) -> None:
    """What the server indexes (the answer's columns) renders as the protected table does,
    in every format, for every table."""
    data, _ = data_and_events
    for first, last in _ranges(11):
        query = SobQuery(first, last, filters)
        for spec in TABLES:
            served = TableIndex.of_columns(answer_columns(data, spec.name, query, "r1"))
            table = answer(data, spec.name, query, "r1")
            assert served.source.table.equals(table.table)
            again = TableIndex.of_answer(table)
            for fmt in ("json", "csv", "xml", "jsonstat"):
                render = FORMATS[fmt].render_selection
                assert render(Selection.everything(served), DEFAULT) == render(
                    Selection.everything(again), DEFAULT
                ), (spec.name, fmt)
