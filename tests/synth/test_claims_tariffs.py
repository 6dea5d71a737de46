"""The claims generator draws the takstkoder of the tariff list it is given, Zipf-skewed
within each fagområde (benchmarks use a list of the real one's size) (SYNTHETIC DATA)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from helsestat.reference.tariff_files import packaged_tariffs, parse_tariff_file
from helsestat.reference.tariffs import LISTS, TariffLists
from helsestat.synth.claims import generate_claims
from helsestat.synth.tariffs import BASE_TAKSTER, generate_takstkoder, render_csv


def _with_takstkoder(codes: int) -> TariffLists:
    packaged = packaged_tariffs()
    name, records = parse_tariff_file("takstkoder.csv", render_csv(generate_takstkoder(codes)))
    lists = {list_name: packaged.rows(list_name) for list_name in LISTS}
    return TariffLists.of(**{**lists, name: records})


def test_the_default_tariff_list_is_the_packaged_one() -> None:
    rows = generate_takstkoder()
    assert len({r["takstkode"] for r in rows}) == len(BASE_TAKSTER)
    assert generate_takstkoder(len(BASE_TAKSTER)) == rows


def test_more_takstkoder_keep_the_base_and_add_invented_codes_per_fagomraade() -> None:
    rows = generate_takstkoder(400)
    codes = {r["takstkode"]: r["fagomraade"] for r in rows}
    assert len(codes) == 400
    base = {k: f for k, f, *_ in BASE_TAKSTER}
    assert {k: codes[k] for k in base} == base
    added = {k: f for k, f in codes.items() if k not in base}
    assert all(k.startswith("X") for k in added)
    assert set(added.values()) == set(base.values())  # every fagområde gets some
    # every code has a period per tariff year, open-ended at the end
    assert len(rows) == 400 * len({r["fradato"] for r in rows if r["takstkode"] == "X1"})


def test_claims_use_the_given_takstkoder_zipf_skewed() -> None:
    tariffs = _with_takstkoder(300)
    known = {t.takstkode: t.fagomraade for t in tariffs.takster}
    table = pa.Table.from_batches(
        list(
            generate_claims(
                60_000, seed=4, bad_share=0.0, first_year=2024, last_year=2024, tariffs=tariffs
            )
        )
    )
    counts = {
        row["values"]: row["counts"] for row in pc.value_counts(table["takstkode"]).to_pylist()
    }
    assert set(counts) <= set(known) and len(counts) > 200
    codes, fags = table["takstkode"].to_pylist(), table["behandler_fagomraade"].to_pylist()
    pairs = set(zip(codes, fags, strict=True))
    assert all(known[k] == f for k, f in pairs)  # each code in its own fagområde
    ranked = sorted(counts.values(), reverse=True)
    assert ranked[0] > 20 * ranked[len(ranked) // 2]  # a few codes carry most lines


def test_without_a_list_the_packaged_takstkoder_are_used() -> None:
    table = pa.Table.from_batches(list(generate_claims(5000, seed=4, bad_share=0.0)))
    assert set(table["takstkode"].to_pylist()) <= {k for k, *_ in BASE_TAKSTER}
