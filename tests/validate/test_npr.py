"""The ``npr_episode`` extract kind against the demo unit registry (SYNTHETIC DATA): every
deliberate defect of the generator is quarantined with its rule and nothing else is,
accepted + quarantined = input, episodes are placed on the HF of the day (before and after
a unit's move), a unit closed on the date is refused, overlapping stays are caught across
files, and the patient is stored only as a keyed pseudonym."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from stdnum.no import fodselsnummer

from clear_text import scan_stored_rows, scan_tree
from helsestat.build import check_file, committed_files, ingest_file
from helsestat.cli import main
from helsestat.errors import ExtractError
from helsestat.model import CleanExtract, RawExtract
from helsestat.reference.holder import ReferenceHolder
from helsestat.reference.seed import packaged_reference
from helsestat.reference.snapshot import Reference
from helsestat.reference.units.loader import load_plan, plan_histories
from helsestat.reference.units.plan import UnitPlan
from helsestat.reference.units.resh import resh_units
from helsestat.store.db.database import create_engine_for, migrate, session_factory
from helsestat.store.lake import Lake
from helsestat.synth.core import write_csv
from helsestat.synth.npr import DEFECTS, generate_npr
from helsestat.synth.npr_units import MOVE_DAY
from helsestat.synth.units import generate_unit_plan
from helsestat.validate import spec_for, validate
from helsestat.validate.npr import NPR_EPISODE
from helsestat.validate.spec import fodselsnummer_ok

SEED = 2026
TODAY = date(2026, 12, 1)
KEY = b"npr-test-key-" + b"x" * 32
FNR, DNR = "01018012371", "41018012365"


@dataclasses.dataclass(frozen=True)
class World:
    plan: UnitPlan
    ids: dict[str, int]
    reference: Reference


@pytest.fixture(scope="module")
def world() -> World:
    """The demo plan of :data:`SEED` and a reference snapshot holding its Norwegian units
    as the registry stores them (the ids and histories ``load_plan`` gives)."""
    plan = generate_unit_plan(SEED, institutions=True)
    ids, histories = plan_histories(plan)
    norwegian = {ids[u.key]: histories[ids[u.key]] for u in plan.units if u.country == "NO"}
    reference = dataclasses.replace(packaged_reference(), resh_as_of=resh_units(norwegian))
    return World(plan, ids, reference)


def _row(resh: int, **changes: str) -> dict[str, str]:
    row = {
        "episode_id": "E1",
        "resh_id": str(resh),
        "inn": "2024-03-01T10:00",
        "ut": "2024-03-04T12:00",
        "kontakttype": "dogn",
        "pasient_id": FNR,
        "bostedskommune": "4601",
        "bydel": "",
        "kjonn": "1",
        "alder": "44",
        "hovedtilstand": "I21.0",
        "fagomrade": "MED",
        "finansiering": "ISF",
    }
    return row | changes


def _validate(rows: list[dict[str, str]], reference: Reference) -> CleanExtract:
    raw = RawExtract("npr_episode", "npr.csv", "c" * 16, pa.Table.from_pylist(rows))
    return validate(raw, NPR_EPISODE, KEY, reference, today=TODAY)


def _reasons(clean: CleanExtract) -> dict[int, str]:
    q = clean.quarantined
    return dict(zip(q.column("linje").to_pylist(), q.column("arsaker").to_pylist(), strict=True))


def test_the_kind_is_registered_and_every_defect_names_a_rule() -> None:
    assert spec_for("npr_episode") is NPR_EPISODE
    rules = {code for code, _ in (*NPR_EPISODE.rules, *NPR_EPISODE.generic_rules())}
    assert {r for d in DEFECTS for r in d.rules} <= rules
    # every rule of the kind's own is made by some defect
    assert {code for code, _ in NPR_EPISODE.rules} <= {r for d in DEFECTS for r in d.rules}


def test_every_defect_is_quarantined_with_its_rules_and_nothing_else(world: World) -> None:
    table = pa.Table.from_batches(generate_npr(30_000, SEED, labels=True, bad_share=0.02))
    labels = table.column("defect").to_pylist()
    clean = _validate(table.drop_columns(["defect"]).to_pylist(), world.reference)
    assert clean.report.accepted + clean.report.quarantined == table.num_rows
    assert clean.accepted.num_rows + clean.quarantined.num_rows == table.num_rows
    rules = {d.name: set(d.rules) for d in DEFECTS}
    found = _reasons(clean)
    wrong = {
        (label, found.get(i + 2, ""))
        for i, label in enumerate(labels)
        if set(filter(None, found.get(i + 2, "").split(";"))) != rules.get(label, set())
    }
    assert wrong == set()
    assert {label for label in labels if label} == set(rules)


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"episode_id": ""}, "episode_id.missing"),
        ({"resh_id": "x1"}, "resh_id.invalid"),
        ({"resh_id": "99999999"}, "resh_id.unknown"),
        ({"inn": "2024-03-31T02:30"}, "inn.invalid"),  # the hour the clocks skip
        ({"ut": "04.03.2024"}, "ut.invalid"),
        ({"ut": "2024-02-28T12:00"}, "ut.before_inn"),
        ({"kontakttype": "telefon"}, "kontakttype.invalid"),
        ({"kontakttype": "dag"}, "kontakttype.spans_days"),
        ({"pasient_id": FNR[:10] + "2"}, "pasient_id.invalid"),
        ({"bostedskommune": "1201"}, "bostedskommune.invalid"),  # Bergen's code before 2020
        ({"bydel": "030101"}, "bydel.invalid"),  # an Oslo bydel for a Bergen patient
        ({"kjonn": "M"}, "kjonn.invalid"),
        ({"alder": "131"}, "alder.invalid"),
        ({"hovedtilstand": "I2"}, "hovedtilstand.invalid"),
        ({"fagomrade": " "}, "fagomrade.missing"),
        ({"finansiering": "HELFO"}, "finansiering.invalid"),
        ({"ut": "2027-01-02T10:00", "inn": "2027-01-01T10:00"}, "inn.future;ut.future"),
    ],
)
def test_one_bad_value_breaks_its_rule_only(
    world: World, changes: dict[str, str], rule: str
) -> None:
    mover = world.ids["npr/moving"]
    second = _row(mover, **({"episode_id": "E2", "pasient_id": DNR} | changes))
    clean = _validate([_row(mover), second], world.reference)
    assert _reasons(clean) == {3: rule}
    assert clean.accepted.num_rows == 1


def test_a_unit_is_placed_on_the_hf_of_the_day_before_and_after_its_move(world: World) -> None:
    mover = world.ids["npr/moving"]
    unit = next(u for u in world.plan.units if u.key == "npr/moving")
    before_hf = world.ids[unit.parent.split("/")[0]]  # type: ignore[union-attr]
    after_key = next(
        dict(e.changes)["parent"]
        for e in world.plan.events
        if e.key == "npr/moving" and "parent" in dict(e.changes)
    )
    after_hf = world.ids[str(after_key).split("/")[0]]
    day = MOVE_DAY.isoformat()
    rows = [
        _row(mover, episode_id="A", inn="2024-06-28T10:00", ut="2024-06-30T12:00"),
        _row(mover, episode_id="B", inn="2024-06-29T10:00", ut=f"{day}T09:00", pasient_id=DNR),
        _row(
            mover, episode_id="C", kontakttype="poliklinisk", inn=f"{day}T10:00", ut=f"{day}T11:00"
        ),
    ]
    clean = _validate(rows, world.reference)
    assert clean.report.quarantined == 0
    placed = clean.accepted.to_pylist()
    # a stay belongs to the HF of its discharge day
    assert [r["hf_id"] for r in placed] == [before_hf, after_hf, after_hf]
    assert {r["behandlingssted_id"] for r in placed} == {mover}
    assert {r["sektor"] for r in placed} == {"somatikk"}
    assert placed[0]["hf_orgnr"] == unit.parent.split("/")[0]  # type: ignore[union-attr]
    assert [r["liggedogn"] for r in placed] == [2, 2, 0]
    assert [(r["dogn"], r["dag"], r["poli"]) for r in placed] == [(1, 0, 0), (1, 0, 0), (0, 0, 1)]
    assert {r["maned"] for r in placed} == {"202406", "202407"} and placed[0]["maned"] == "202406"


def test_a_unit_closed_on_the_date_and_one_without_sector_are_refused(world: World) -> None:
    placing = world.reference.resh_as_of.placing.to_pylist()
    closed = next(
        r
        for r in placing
        if r["valid_to"] is not None
        and r["valid_to"] < date(2024, 1, 1)
        and r["sector"] is not None
        and not any(
            o["unit_id"] == r["unit_id"] and o["valid_from"] >= r["valid_to"] for o in placing
        )
    )
    hf = world.ids[next(u.key for u in world.plan.units if u.kind == "hf")]
    clean = _validate(
        [
            _row(closed["unit_id"], inn="2024-05-01T10:00", ut="2024-05-02T10:00"),
            _row(hf, episode_id="E2"),
        ],
        world.reference,
    )
    assert _reasons(clean) == {2: "resh_id.not_open", 3: "resh_id.no_sector"}


def test_ssb_selection_sector_and_catchment_area(world: World) -> None:
    fodestue = world.ids["npr/fodestue/0"]
    rehab = world.ids["npr/rehab/0/0"]
    mover = world.ids["npr/moving"]
    rows = [
        _row(fodestue, episode_id="F", hovedtilstand="O80"),
        _row(rehab, episode_id="R", inn="2024-02-01T10:00"),
        _row(rehab, episode_id="P", kontakttype="poliklinisk", inn="2024-03-04T10:00"),
        _row(mover, episode_id="O", pasient_id=DNR, bostedskommune="0301", bydel=""),
        _row(
            mover,
            episode_id="B",
            pasient_id=DNR,
            bostedskommune="0301",
            bydel="030101",
            inn="2024-04-01T10:00",
            ut="2024-04-01T12:00",
            kontakttype="dag",
        ),
    ]
    clean = _validate(rows, world.reference)
    assert _reasons(clean) == {4: "kontakttype.rehab_not_stay"}
    by_id = {r["episode_id"]: r for r in clean.accepted.to_pylist()}
    assert by_id["F"]["ssb_utvalg"] is False and by_id["F"]["sektor"] == "somatikk"
    assert by_id["R"]["ssb_utvalg"] is False and by_id["R"]["sektor"] == "rehab"
    assert by_id["R"]["liggedogn"] == 32 and by_id["R"]["hf_id"] is None
    assert by_id["O"]["ssb_utvalg"] is True
    # Oslo without a bydel has no catchment area; with one it has
    assert by_id["O"]["bo_omrade"] is None and by_id["O"]["bo_hf_orgnr"] is None
    assert by_id["B"]["bo_omrade"] is not None and by_id["B"]["bo_rhf_orgnr"] == "991324968"
    assert by_id["F"]["bo_omrade"] is not None  # Bergen: a kommune of one area
    assert by_id["F"]["aldersgruppe"] == "30-49"


def test_an_overlapping_stay_is_quarantined_in_the_file_and_across_files(
    world: World, tmp_path: Path
) -> None:
    mover = world.ids["npr/moving"]
    lake = Lake(tmp_path / "var")
    first = tmp_path / "first.csv"
    write_csv([pa.RecordBatch.from_pylist([_row(mover)])], first)
    batch = ingest_file(first, "npr_episode", KEY, lake, world.reference, today=TODAY)
    assert batch.report.accepted == 1
    second = tmp_path / "second.csv"
    rows = [
        _row(mover, episode_id="E2", inn="2024-03-03T10:00", ut="2024-03-06T10:00"),
        _row(mover, episode_id="E3", inn="2024-03-04T12:00", ut="2024-03-08T10:00", pasient_id=DNR),
        _row(mover, episode_id="E4", inn="2024-03-05T12:00", ut="2024-03-09T10:00", pasient_id=DNR),
        _row(mover, episode_id="E1"),  # the first file's episode again
    ]
    write_csv([pa.RecordBatch.from_pylist(rows)], second)
    clean = check_file(second, "npr_episode", KEY, lake, world.reference, today=TODAY)
    assert _reasons(clean) == {
        2: "opphold.overlap",
        4: "opphold.overlap",
        5: "opphold.overlap;row.already_stored",  # delivered again, and so overlapping
    }


def test_the_patient_is_stored_only_as_a_pseudonym(world: World, tmp_path: Path) -> None:
    path = tmp_path / "npr.csv"
    write_csv(generate_npr(5_000, SEED), path)
    lake = Lake(tmp_path / "var")
    batch = ingest_file(path, "npr_episode", KEY, lake, world.reference, today=TODAY)
    assert batch.report.accepted > 4_900
    assert scan_stored_rows(tmp_path / "var") == []
    # every file the ingest wrote (extract, quarantine, batch record, codebooks)
    assert scan_tree(tmp_path / "var") == []
    stored = pa.concat_tables([pq.read_table(p) for p in committed_files(lake, "npr_episode")])
    assert "pasient_id" not in stored.column_names
    assert set(pc.utf8_length(stored.column("pasient_pseudonym")).to_pylist()) <= {32}


def test_no_norwegian_units_refuses_the_file() -> None:
    with pytest.raises(ExtractError) as caught:
        _validate([_row(100_000)], packaged_reference())
    assert caught.value.code == "ingest.no_norwegian_units"


def test_check_digits_agree_with_python_stdnum() -> None:
    rng = np.random.default_rng(5)
    rows = pa.Table.from_batches(generate_npr(3_000, SEED, bad_share=0.0))
    values = rows.column("pasient_id").to_pylist()
    values += [f"{v:011d}" for v in rng.integers(0, 10**11, 3_000)]
    values += [v[:10] + str((int(v[10]) + 1) % 10) for v in values[:300]]
    ours = fodselsnummer_ok(pa.array(values)).tolist()
    assert ours == [fodselsnummer.is_valid(v) for v in values]


@pytest.fixture(scope="module")
def stored_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    """The demo registry loaded into a real SQLite database, read back by a holder."""
    path = tmp_path_factory.mktemp("npr-registry") / "reference.db"
    url = f"sqlite:///{path.as_posix()}"
    engine = create_engine_for(url)
    migrate(engine)
    with session_factory(engine).begin() as session:
        load_plan(session, generate_unit_plan(SEED, institutions=True))
    engine.dispose()
    holder = ReferenceHolder(url)
    try:
        yield holder.get()
    finally:
        holder.dispose()


def test_the_database_holds_the_units_the_generator_reports_at(
    world: World, stored_world: Reference
) -> None:
    ours = world.reference.resh_as_of
    stored = stored_world.resh_as_of
    assert stored.generation > 0
    assert stored.placing.sort_by("unit_id").equals(ours.placing.sort_by("unit_id"))
    rows = pa.Table.from_batches(generate_npr(10_000, SEED, labels=True))
    clean = _validate(rows.drop_columns(["defect"]).to_pylist(), stored_world)
    assert clean.report.quarantined == sum(1 for x in rows.column("defect").to_pylist() if x)


def test_helsestat_spec_npr_episode_prints_the_columns_and_rules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The issue names the command: every column of the extract and every rule, from the spec."""
    assert main(["spec", "npr_episode"]) == 0
    out = capsys.readouterr().out
    for column in NPR_EPISODE.columns:
        assert f"\n  {column.name} " in out
    for code, _ in NPR_EPISODE.rules:
        assert code in out
    for rule in ("opphold.overlap", "kontakttype.rehab_not_stay", "row.duplicate"):
        assert rule in out
