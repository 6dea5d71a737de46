"""The SYNTHETIC NPR episode generator: deterministic, the shape its docstring promises
(sector shares, outpatient contacts per stay, lengths of stay by sector, returning patients,
the moving unit on both sides of its move, every defect in turn), and the demo units it
needs added without changing any earlier unit."""

from __future__ import annotations

import dataclasses
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from helsestat.errors import InputError
from helsestat.reference.units.loader import plan_histories
from helsestat.reference.units.resh import resh_units
from helsestat.synth.npr import DEFECTS, NPR_COLUMNS, SECTOR_SHARES, generate_npr
from helsestat.synth.npr_units import MOVE_DAY, REHAB_SERVICE
from helsestat.synth.units import generate_unit_plan

SEED = 2026


@pytest.fixture(scope="module")
def rows() -> pa.Table:
    return pa.Table.from_batches(generate_npr(40_000, SEED, labels=True))


def test_the_same_arguments_give_the_same_rows(rows: pa.Table) -> None:
    again = pa.Table.from_batches(generate_npr(40_000, SEED, labels=True, batch_rows=7_000))
    assert again.equals(rows)
    other = pa.Table.from_batches(generate_npr(40_000, SEED + 1, labels=True))
    assert not other.equals(rows)


def test_columns_rows_and_defects(rows: pa.Table) -> None:
    assert rows.schema.names == [*NPR_COLUMNS, "defect"]
    assert rows.num_rows == 40_000
    labels = [x for x in rows.column("defect").to_pylist() if x]
    assert len(labels) == 400 and set(labels) == {d.name for d in DEFECTS}
    good = rows.filter(pc.equal(rows.column("defect"), "")).column("ut").to_pylist()
    assert good == sorted(good)


def test_shape_of_the_good_rows(rows: pa.Table) -> None:
    plan = generate_unit_plan(SEED, institutions=True)
    ids, histories = plan_histories(plan)
    good = rows.filter(pc.equal(rows.column("defect"), ""))
    con = duckdb.connect()
    con.register("g", good)
    stays, visits = con.execute(
        "SELECT count(*) FILTER (WHERE kontakttype = 'dogn'), "
        "count(*) FILTER (WHERE kontakttype = 'poliklinisk') FROM g"
    ).fetchone()  # type: ignore[misc]
    assert 5 <= visits / stays <= 8  # about 6 outpatient contacts per stay
    patients, episodes = con.execute(
        "SELECT count(DISTINCT pasient_id), count(*) FROM g"
    ).fetchone()  # type: ignore[misc]
    assert patients < episodes * 0.6  # patients return
    mover = ids["npr/moving"]
    before, after = con.execute(
        f"SELECT count(*) FILTER (WHERE ut < '{MOVE_DAY}'), "
        f"count(*) FILTER (WHERE ut >= '{MOVE_DAY}') FROM g WHERE resh_id = '{mover}'"
    ).fetchone()  # type: ignore[misc]
    assert before > 0 and after > 0
    rehab = {str(ids[u.key]) for u in plan.units if REHAB_SERVICE in u.services}
    kinds = {
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT kontakttype FROM g WHERE resh_id IN ({', '.join(rehab)})"
        ).fetchall()
    }
    assert kinds == {"dogn"}
    # by the sector of the reporting unit on the day (its own or above it)
    flat = resh_units(
        {ids[u.key]: histories[ids[u.key]] for u in plan.units if u.country == "NO"}
    ).placing
    con.register("u", flat)
    medians = dict(
        con.execute(
            "SELECT u.sector, median(date_diff('day', g.inn::TIMESTAMP::DATE, "
            "g.ut::TIMESTAMP::DATE)) FROM g JOIN u ON u.unit_id = g.resh_id::BIGINT "
            "AND g.ut::TIMESTAMP::DATE >= u.valid_from "
            "AND g.ut::TIMESTAMP::DATE < coalesce(u.valid_to, DATE '9999-12-31') "
            "WHERE g.kontakttype = 'dogn' GROUP BY 1"
        ).fetchall()
    )
    assert 2 <= medians["somatikk"] <= 4 and 10 <= medians["phv"] <= 18
    assert 16 <= medians["rehab"] <= 26
    shares = dict(
        con.execute(
            "SELECT u.sector, count(*) / (SELECT count(*) FROM g) FROM g JOIN u "
            "ON u.unit_id = g.resh_id::BIGINT AND g.ut::TIMESTAMP::DATE >= u.valid_from "
            "AND g.ut::TIMESTAMP::DATE < coalesce(u.valid_to, DATE '9999-12-31') GROUP BY 1"
        ).fetchall()
    )
    for sector, share in SECTOR_SHARES.items():
        assert abs(shares[sector] - share) < 0.02, sector


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InputError):
        list(generate_npr(10, SEED, bad_share=0.6))
    with pytest.raises(InputError):
        list(generate_npr(10, SEED, first_year=2025, last_year=2024))
    assert list(generate_npr(0, SEED)) == []


def test_the_npr_units_change_no_earlier_unit() -> None:
    plan = generate_unit_plan(SEED, institutions=True)
    earlier = dataclasses.replace(
        plan,
        units=tuple(u for u in plan.units if not u.appended),
        events=tuple(e for e in plan.events if not e.key.startswith("npr/")),
    )
    ids, histories = plan_histories(plan)
    old_ids, old_histories = plan_histories(earlier)
    assert {k: ids[k] for k in old_ids} == old_ids
    assert all(histories[i] == old_histories[i] for i in old_ids.values())
    added = [u for u in plan.units if u.appended]
    rhfs = [u for u in plan.units if u.kind == "rhf" and u.country == "NO"]
    assert sum(u.sector == "rehab" for u in added) == len(rhfs)
    assert sum("fødestue" in u.name for u in added) == len(rhfs)
    mover = histories[ids["npr/moving"]]
    parents = [(s.valid_from, s.fields.parent_id) for s in mover]
    assert len({p for _, p in parents}) == 2
    assert any(day == MOVE_DAY for day, _ in parents) and date(2024, 1, 1) < MOVE_DAY


def test_patients_are_mostly_treated_in_their_own_catchment_areas_hf(rows: pa.Table) -> None:
    """Local patients come from the HF's catchment area by bydel in Oslo: Grorud's residents
    (Ahus's area) mostly at Ahus, Sagene's and the private ideelle hospitals' areas (no units
    in the demo registry) mostly at OUS; outside Oslo by kommune (Bergen at Helse Bergen)."""
    plan = generate_unit_plan(SEED, institutions=True)
    ids, histories = plan_histories(plan)
    flat = resh_units(
        {ids[u.key]: histories[ids[u.key]] for u in plan.units if u.country == "NO"}
    ).placing
    hf_orgnr = {ids[u.key]: u.orgnr for u in plan.units if u.country == "NO" and u.kind == "hf"}
    con = duckdb.connect()
    con.register("g", rows.filter(pc.equal(rows.column("defect"), "")))
    con.register("u", flat)
    placed = con.execute(
        "SELECT g.bostedskommune, g.bydel, u.hf_id FROM g JOIN u "
        "ON u.unit_id = g.resh_id::BIGINT AND g.ut::TIMESTAMP::DATE >= u.valid_from "
        "AND g.ut::TIMESTAMP::DATE < coalesce(u.valid_to, DATE '9999-12-31')"
    ).fetchall()

    def share_at(orgnr: str, kommune: str, bydeler: tuple[str, ...] = ()) -> float:
        mine = [h for k, b, h in placed if k == kommune and (not bydeler or b in bydeler)]
        assert len(mine) > 100
        return sum(hf_orgnr.get(h) == orgnr for h in mine) / len(mine)

    ahus, ous, bergen = "983971636", "993467049", "983974724"
    assert share_at(ahus, "0301", ("030110",)) > 0.6  # Grorud
    assert share_at(ous, "0301", ("030103",)) > 0.6  # Sagene
    assert share_at(ous, "0301", ("030105", "030101")) > 0.6  # Frogner, Gamle Oslo
    assert share_at(bergen, "4601") > 0.6
