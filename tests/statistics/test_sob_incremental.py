"""A new month of 1177 Stöd och behandling events added to the data of the months before
(``extend_data``) equals the data built from every month (``build_data``), table for table
and answer for answer (SYNTHETIC DATA), and what cannot be added month-wise is refused."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from helsestat.aggregate import DuckDBEngine
from helsestat.aggregate.ranges import month_index, month_text
from helsestat.reference.seed import packaged_reference
from helsestat.reference.snapshot import Reference
from helsestat.statistics.serving import CARRIED, RangeQuery
from helsestat.statistics.sob import build_data, extend_data, load_data
from helsestat.statistics.sob.answers import TABLES, answer
from sob_release import typed_events

LAST = month_index(2026, 9)
#: The months added one by one; the test data's events end with the last of them.
ADDED = (LAST - 2, LAST - 1, LAST)


def _event(arende: str, status: str, at: dt.datetime, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "arende_id": arende,
        "arendetyp": "Process",
        "status": status,
        "tidpunkt": at,
        "process_namn": "Sömn",
        "moment_namn": "Steg 1",
        "vardgivare_hsaid": "SE2321000016-A1",
        "vardenhet_hsaid": "SE2321000016-A1E",
        "vardtagare_id": "p-hand",
        "kon": "K",
        "alder": 41,
        "behandlare_hsaid": "t-hand",
        "avslutningsorsak": None,
    }
    return row | extra


def _at(month: int, day: int, hour: int = 10) -> dt.datetime:
    year, m = divmod(month, 12)
    return dt.datetime(year, m + 1, day, hour)


def _hand_made() -> list[dict[str, Any]]:
    """The ärenden the month boundary is about, around the added months."""
    a, b, c = ADDED
    before = a - 1
    return [
        # open across every boundary, finished in the last month
        _event("open", "Inprogress", _at(before - 3, 5)),
        _event("open", "Paused", _at(a, 2)),
        _event("open", "Inprogress", _at(b, 7)),
        _event("open", "Done", _at(c, 9), avslutningsorsak="Genomförd"),
        # finished before, re-opened and finished again in the added months
        _event("reopened", "Inprogress", _at(before, 3), vardtagare_id="p-re"),
        _event("reopened", "Done", _at(before, 20), avslutningsorsak="Genomförd"),
        _event("reopened", "Inprogress", _at(a, 4), vardtagare_id="p-re"),
        _event("reopened", "Done", _at(b, 1), avslutningsorsak="Genomförd"),
        # paused before its start: its treaters are carried until it starts
        _event("late", "Paused", _at(before, 8), behandlare_hsaid="t-early"),
        _event("late", "Inprogress", _at(b, 8), behandlare_hsaid=None),
        # a Done before any start: counted nowhere, in any month
        _event("orphan", "Done", _at(a, 11), avslutningsorsak="Genomförd"),
        _event("orphan", "Inprogress", _at(b, 11)),
        # a new cell (process, moment) and a new kön and age group in an added month: the
        # cube's nodes and splits are renumbered
        _event("new", "Inprogress", _at(b, 12), process_namn="Ny", moment_namn="Steg 9"),
        _event("new", "Paused", _at(b, 13), kon="A", alder=130, vardtagare_id="p-x"),
        # started and finished within one added month
        _event("quick", "Inprogress", _at(c, 2), vardtagare_id="p-quick", kon="M"),
        _event("quick", "Done", _at(c, 3), avslutningsorsak="Genomförd"),
    ]


def _write_months(events: pa.Table, folder: Path) -> dict[int, Path]:
    """One file per month of ``events`` (as the lake partitions them)."""
    month = pc.add(pc.multiply(pc.year(events["tidpunkt"]), 12), pc.month(events["tidpunkt"]))
    month = pc.subtract(month, 1)
    files = {}
    for m in sorted(set(month.to_pylist())):
        path = folder / f"period={month_text(m)}" / "events.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(events.filter(pc.equal(month, m)), path)
        files[m] = path
    return files


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    generated = typed_events(30_000, seed=11)
    stamp = pc.cast(generated["tidpunkt"], pa.timestamp("us"))
    generated = generated.set_column(3, "tidpunkt", stamp)
    end = pa.scalar(_at(LAST + 1, 1, hour=0), pa.timestamp("us"))
    generated = generated.filter(pc.less(stamp, end))
    hand = pa.Table.from_pylist(_hand_made()).select(generated.column_names)
    events = pa.concat_tables([generated, hand.cast(generated.schema)])
    return _write_months(events, tmp_path_factory.mktemp("sob_months"))


@pytest.fixture(scope="module")
def reference() -> Reference:
    return packaged_reference()


def _published(data: dict[str, pa.Table]) -> dict[str, pa.Table]:
    return {name: t for name, t in data.items() if not name.startswith(CARRIED)}


def _ranges(first: int, last: int) -> list[tuple[int, int]]:
    rng = random.Random(3)
    out = [(first, last), (last, last), (last - 2, last), (first, first)]
    for _ in range(8):
        a = rng.randrange(first, last + 1)
        out.append((a, rng.randrange(a, last + 1)))
    return out


def test_months_added_one_by_one_equal_the_build_over_every_month(
    months: dict[int, Path], reference: Reference
) -> None:
    every = [months[m] for m in sorted(months)]
    with DuckDBEngine(threads=2) as engine:
        whole = build_data(every, reference, engine)
        data = build_data([months[m] for m in sorted(months) if m < ADDED[0]], reference, engine)
        for m in ADDED:
            extended = extend_data(data, [months[m]], reference, engine)
            assert extended is not None, month_text(m)
            data = extended
    assert sorted(data) == sorted(whole)
    assert "Ny" in whole["nodes"]["process"].to_pylist()
    assert "A" in whole["splits_vardtagare"]["kon"].to_pylist()
    for name, table in _published(whole).items():
        assert data[name].equals(table), name
    # what is carried on equals too (the next month starts from the same state)
    for name in (n for n in whole if n.startswith(CARRIED)):
        keys = [(c, "ascending") for c in whole[name].column_names]
        assert data[name].sort_by(keys).equals(whole[name].sort_by(keys)), name
    # and so does every answer, cell for cell, of every table over many ranges and filters
    cube, built = load_data(data), load_data(whole)
    for first, last in _ranges(cube.first, cube.last):
        for filters in ({}, {"process": "Sömn"}, {"lan": "00"}):
            query = RangeQuery(first, last, filters)
            for table in TABLES:
                got = answer(cube, table.name, query).table
                assert got.equals(answer(built, table.name, query).table), (table.name, first)


def test_the_boundary_arenden_are_counted_as_the_events_say(
    months: dict[int, Path], reference: Reference
) -> None:
    with DuckDBEngine(threads=2) as engine:
        data = build_data([months[m] for m in sorted(months) if m < ADDED[0]], reference, engine)
        for m in ADDED:
            extended = extend_data(data, [months[m]], reference, engine)
            assert extended is not None
            data = extended
    carried = {r["arende_id"]: r for r in data[f"{CARRIED}arenden"].to_pylist()}
    assert carried["open"]["start_month"] == ADDED[0] - 4
    assert carried["open"]["finish_month"] == ADDED[2]
    assert carried["reopened"]["finish_month"] == ADDED[0] - 1  # its first finish
    assert carried["late"]["start_month"] == ADDED[1]
    assert carried["late"]["behandlare"] == "t-early"  # carried from before its start
    assert carried["orphan"]["finish"] is None  # the Done before its start is no finish
    assert carried["quick"]["start_month"] == carried["quick"]["finish_month"] == ADDED[2]


def test_a_correction_a_new_reason_or_a_new_treater_of_an_earlier_start_is_refused(
    months: dict[int, Path], reference: Reference, tmp_path: Path
) -> None:
    before = [months[m] for m in sorted(months) if m < ADDED[0]]
    month = pq.read_table(months[ADDED[0]])
    with DuckDBEngine(threads=2) as engine:
        data = build_data(before, reference, engine)
        # an earlier month again
        assert extend_data(data, [months[ADDED[0] - 1]], reference, engine) is None
        # two months at once
        assert extend_data(data, [months[ADDED[0]], months[ADDED[1]]], reference, engine) is None
        cases = [
            _event("open", "Paused", _at(ADDED[0], 9), behandlare_hsaid="t-new"),
            _event("x", "Inprogress", _at(ADDED[0], 9)),
            _event("x", "Done", _at(ADDED[0], 10), avslutningsorsak="Ny orsak"),
        ]
        for i, rows in enumerate((cases[:1], cases[1:])):
            extra = pa.Table.from_pylist(rows).select(month.column_names).cast(month.schema)
            path = tmp_path / f"m{i}.parquet"
            pq.write_table(pa.concat_tables([month, extra]), path)
            assert extend_data(data, [path], reference, engine) is None, i
        # the month as delivered is added
        assert extend_data(data, [months[ADDED[0]]], reference, engine) is not None
