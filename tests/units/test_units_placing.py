"""Placing reported rows by unit id and date: the bulk join agrees with the one-at-a-time
lookup, the sector follows the unit's place in the tree, and unknown ids, ids not valid on
the date and unusable rows are reported — never guessed."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from sqlalchemy.engine import Engine

from helsestat.errors import ExtractError, InputError
from helsestat.reference.units import search, unit_versions
from helsestat.reference.units.placing import PLACEMENT_COLUMNS, as_of_table, place_one
from helsestat.reference.units.placing_bulk import place, place_file
from helsestat.store.db.database import session_factory


@pytest.fixture(scope="module")
def flat(demo_engine: Engine) -> pa.Table:
    with session_factory(demo_engine)() as session:
        return as_of_table(session)


def test_the_as_of_table_has_one_interval_per_unit_and_day(flat: pa.Table) -> None:
    rows = sorted(
        zip(
            *(flat.column(c).to_pylist() for c in ("unit_id", "valid_from", "valid_to")),
            strict=True,
        )
    )
    for (u1, _, t1), (u2, f2, _) in itertools.pairwise(rows):
        if u1 == u2:
            assert t1 is not None and t1 <= f2, (u1, t1, f2)
    assert set(flat.column_names) >= {"unit_id", "valid_from", "valid_to", *PLACEMENT_COLUMNS}


def test_bulk_placing_agrees_with_the_single_lookup(demo_engine: Engine, flat: pa.Table) -> None:
    rng = random.Random(5)
    ids = sorted(set(flat.column("unit_id").to_pylist()))
    cases = [
        (rng.choice(ids), date(2001, 1, 1) + timedelta(days=rng.randrange(9500)))
        for _ in range(400)
    ] + [(1, date(2020, 1, 1)), (ids[0], date(1990, 1, 1))]
    placed = place(
        pa.table({"unit_id": [c[0] for c in cases], "date": [c[1] for c in cases]}), flat
    ).table.to_pylist()
    with session_factory(demo_engine)() as session:
        for (uid, day), row in zip(cases, placed, strict=True):
            one = place_one(session, uid, day)
            assert row["placement"] == one.status, (uid, day)
            if one.placement is not None:
                expected = {c: getattr(one.placement, c) for c in PLACEMENT_COLUMNS}
                assert {c: row[c] for c in PLACEMENT_COLUMNS} == expected, (uid, day)
            else:
                assert all(row[c] is None for c in PLACEMENT_COLUMNS)
    statuses = {r["placement"] for r in placed}
    assert statuses == {"placed", "unknown_id", "not_valid_on_date"}


def test_the_sector_follows_the_unit_into_the_tsb_centre(demo_engine: Engine) -> None:
    with session_factory(demo_engine)() as session:
        histories = [unit_versions(session, h.unit_id) for h in search(session, "Rus-poliklinikk")]
        moved = [v for v in histories if len({x.fields.parent_id for x in v}) == 2]
        assert moved, "the demo moves at least one rus outpatient clinic"
        before, after = moved[0][0], moved[0][-1]
        old = place_one(session, before.unit_id, before.valid_from)
        new = place_one(session, after.unit_id, after.valid_from)
    assert old.placement is not None and new.placement is not None
    assert (old.placement.sector, new.placement.sector) == ("phv", "tsb")
    assert old.placement.hf_id == new.placement.hf_id
    assert old.placement.behandlingssted_id != new.placement.behandlingssted_id


def test_unusable_rows_are_reported_and_the_input_kept_in_order(flat: pa.Table) -> None:
    some = flat.column("unit_id")[0].as_py()
    opened = flat.column("valid_from")[0].as_py()
    rows = pa.table(
        {
            "resh": ["abc", None, str(some), str(some), "42", "42", str(some)],
            "dato": [
                "2020-01-01",
                "2020-01-01",
                "2020-13-45",
                None,
                "2020-01-01",
                "2021-01-01",
                (opened - timedelta(days=1)).isoformat(),
            ],
            "antall": [1, 2, 3, 4, 5, 6, 7],
        }
    )
    out = place(rows, flat, id_column="resh", date_column="dato")
    assert out.table.column("antall").to_pylist() == [1, 2, 3, 4, 5, 6, 7]
    assert out.table.column("placement").to_pylist() == [
        "invalid_id",
        "invalid_id",
        "invalid_date",
        "invalid_date",
        "unknown_id",
        "unknown_id",
        "not_valid_on_date",
    ]
    assert out.report.by_status == {
        "unknown_id": 2,
        "not_valid_on_date": 1,
        "invalid_id": 2,
        "invalid_date": 2,
    }
    assert out.report.unknown_ids == ((42, 2),)
    assert out.report.not_valid[0][:3] == (some, 1, opened)
    assert out.report.lines()[1] == "unknown unit id 42: 2 rows"
    assert "abc" not in "\n".join(out.report.lines())  # ids only, never other row values


def test_bad_inputs_are_errors_with_hints(flat: pa.Table, tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="'unit_id' missing"):
        place(pa.table({"id": [1], "date": ["2020-01-01"]}), flat)
    with pytest.raises(InputError, match="already have column"):
        place(pa.table({"unit_id": [1], "date": ["2020-01-01"], "hf_id": [1]}), flat)
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(ExtractError, match=r"only \.parquet and \.csv"):
        place_file(tmp_path / "x.txt", tmp_path / "out.parquet", flat)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_files_are_placed_like_tables(flat: pa.Table, tmp_path: Path, suffix: str) -> None:
    rng = random.Random(9)
    ids = [*sorted(set(flat.column("unit_id").to_pylist())), 7]
    rows = pa.table(
        {
            "unit_id": [rng.choice(ids) for _ in range(2000)],
            "date": [date(2000, 1, 1) + timedelta(days=rng.randrange(9500)) for _ in range(2000)],
            "n": list(range(2000)),
        }
    )
    source = tmp_path / f"rows{suffix}"
    if suffix == ".csv":
        pacsv.write_csv(rows, source)
    else:
        pq.write_table(rows, source)
    report = place_file(source, tmp_path / "placed.parquet", flat)
    expected = place(rows, flat)
    assert report == expected.report
    written = pq.read_table(tmp_path / "placed.parquet").sort_by("n")
    for column in (*PLACEMENT_COLUMNS, "placement"):
        assert written.column(column).to_pylist() == expected.table.column(column).to_pylist()
