"""The demo tree: the real RHF/HF list with organisation numbers from the reference data, a
SYNTHETIC tree below it, a SYNTHETIC Swedish tree for the 21 län; loaded in bulk it ends in
exactly the registry that one-at-a-time edits produce (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
from collections import Counter
from importlib import resources

import pytest
from sqlalchemy.engine import Engine
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr

from helsestat.errors import ConflictError
from helsestat.reference.units import get_unit
from helsestat.reference.units.loader import load_plan, replay_plan
from helsestat.reference.units.plan import SERVICES
from helsestat.store.db.database import create_engine_for, migrate, session_factory
from helsestat.synth.units import (
    display_name,
    generate_unit_plan,
    helseforetak,
    kommune_history,
    load_demo,
)


def _refdata() -> dict[str, dict[str, str]]:
    path = resources.files("helsestat.data.refdata").joinpath(
        "no_helseforetak_orgnr_ssb_kostra2020.csv"
    )
    with path.open(encoding="utf-8") as fh:
        return {row["orgnr"]: row for row in csv.DictReader(fh)}


def test_the_real_rhf_and_hospital_trusts_come_from_the_reference_data() -> None:
    source = _refdata()
    real = helseforetak()
    rhfs = {h.orgnr: h.name for h in real if h.kind == "rhf"}
    assert rhfs == {
        "983658725": "Helse Vest RHF",
        "983658776": "Helse Midt-Norge RHF",
        "883658752": "Helse Nord RHF",
        "991324968": "Helse Sør-Øst RHF",
    }
    per_rhf = Counter(rhfs[h.rhf_orgnr] for h in real if h.kind == "hf" and h.rhf_orgnr)
    assert per_rhf == {
        "Helse Vest RHF": 4,
        "Helse Midt-Norge RHF": 3,
        "Helse Nord RHF": 4,
        "Helse Sør-Øst RHF": 9,
    }
    for h in real:
        assert source[h.orgnr]["type_etter_navn"] == h.kind.upper()
        assert display_name(source[h.orgnr]["navn_kilde"]) == h.name
    plan = generate_unit_plan(seed=3)
    assert {u.orgnr for u in plan.units if not u.synthetic} == {h.orgnr for h in real}
    assert all(u.synthetic for u in plan.units if u.kind not in ("rhf", "hf"))


def test_the_synthetic_part_is_plausible_and_reproducible() -> None:
    plan = generate_unit_plan(seed=3)
    assert plan == generate_unit_plan(seed=3) and plan != generate_unit_plan(seed=4)
    kinds = Counter(u.kind for u in plan.units)
    assert kinds["vardgivare"] == 42 and len({u.lan for u in plan.units if u.lan}) == 21
    assert {"institusjon", "behandlingssted", "klinikk", "avdeling", "seksjon"} <= set(kinds)
    whats = Counter(e.what for e in plan.events)
    moves = [e for e in plan.events if any(name == "parent" for name, _ in e.changes)]
    renames = [e for e in plan.events if any(name == "name" for name, _ in e.changes)]
    reforms = [e for e in plan.events if any(name == "kommune" for name, _ in e.changes)]
    assert whats["close"] > 20 and len(moves) > 20 and len(renames) > 20 and len(reforms) > 20
    for u in plan.units:
        if u.orgnr:
            assert (no_orgnr if u.country == "NO" else se_orgnr).is_valid(u.orgnr), u
        assert set(u.services) <= {code for code, _, _ in SERVICES}


def test_kommune_codes_follow_the_reforms() -> None:
    history = kommune_history("4601", 2015)  # Bergen: 1201 until 2019, 4601 from 2020
    assert history is not None
    assert (history[2019], history[2020], history[2024]) == ("1201", "4601", "4601")


def test_bulk_load_and_replay_end_in_the_same_registry(engine: Engine) -> None:
    """Bulk import on each backend; the same plan replayed edit by edit on SQLite."""
    plan = generate_unit_plan(seed=8, hf_limit=2, lan_limit=1)
    with session_factory(engine).begin() as session:
        bulk = load_plan(session, plan)
    other = create_engine_for("sqlite://")
    migrate(other)
    with session_factory(other).begin() as session:
        replayed = replay_plan(session, plan)
    assert bulk.units == replayed.units == len(plan.units)

    def history(e: Engine, ids: dict[str, int]) -> dict[str, object]:
        keys = {uid: key for key, uid in ids.items()}
        out: dict[str, object] = {}
        with session_factory(e)() as session:
            for key, uid in ids.items():
                record = get_unit(session, uid)
                out[key] = (
                    [
                        (
                            v.valid_from,
                            v.valid_to,
                            v.fields.replace(parent_id=keys.get(v.fields.parent_id or 0)),
                        )
                        for v in record.versions
                    ],
                    record.identifiers,
                )
        return out

    assert history(engine, bulk.ids) == history(other, replayed.ids)
    other.dispose()
    with (
        session_factory(engine)() as session,
        pytest.raises(ConflictError, match=f"has {len(plan.units)} units already"),
    ):
        load_demo(session, hf_limit=1, lan_limit=1)
