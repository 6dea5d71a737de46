"""The NPR-like activity statistic built from stored ``npr_episode`` rows (SYNTHETIC, written
in the stored schema by :mod:`npr_lake`): every published cell equals a plain recount of
the rows, distinct patients are exact per cell, a unit that moved keeps its episodes with
its HF of the time, SSB's variant leaves out the fødestue, rates divide by the right
service's population, the flow matrix's shares add up per row, and the protection hides
cells of 1-4 patients (compat) and adds secondary cells across the linked tables (full)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from npr_lake import FODESTUE, MOVING_UNIT, expected, npr_lake

from helsestat.aggregate import DuckDBEngine
from helsestat.build import build
from helsestat.model import ProtectedTable
from helsestat.reference.seed import packaged_reference
from helsestat.statistics.catchment import read_population
from helsestat.statistics.catchment.population import area_population
from helsestat.statistics.npr import NPR_STATISTICS
from helsestat.statistics.npr.rates import AGE_GROUPS, SERVICE_OF
from helsestat.store.lake import Lake
from helsestat.store.lake.extracts import committed_files

COUNTS = ("episoder", "opphold", "liggedogn", "dagbehandlinger", "polikliniske_kontakter",
          "pasienter")  # fmt: skip


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, pa.Table]:
    return npr_lake(tmp_path_factory.mktemp("npr"))


def _built(lake: Lake, mode: str) -> dict[str, ProtectedTable]:
    with DuckDBEngine(threads=2) as engine:
        release = build(
            lake,
            engine,
            mode=mode,  # type: ignore[arg-type]
            threshold=5 if mode == "full" else 3,
            reference=packaged_reference(),
            statistics=NPR_STATISTICS,
            release_id=f"r-{mode}",
            cache=False,
        )
    return {name: lake.read_table(release, name) for name in release.tables}


@pytest.fixture(scope="module")
def compat(made: tuple[Lake, pa.Table]) -> dict[str, ProtectedTable]:
    return _built(made[0], "compat")


def _check(
    table: ProtectedTable, want: dict[tuple[Any, ...], dict[str, int]], dims: tuple[str, ...]
) -> None:
    rows = table.table.to_pylist()
    got = {tuple(r[d] for d in dims): r for r in rows}
    assert set(got) == set(want), table.name
    for key, counts in want.items():
        row = got[key]
        if counts["pasienter"] <= 4:
            assert row["status"] == "primary" and all(row[m] is None for m in COUNTS), key
        else:
            assert row["status"] == "published", key
            assert {m: row[m] for m in COUNTS} == counts, key


def test_activity_cells_are_a_recount_of_the_rows(
    made: tuple[Lake, pa.Table], compat: dict[str, ProtectedTable]
) -> None:
    _, rows = made
    levels = {
        "behandlingssted": ("rhf_orgnr", "hf_orgnr", "behandlingssted_id"),
        "hf": ("rhf_orgnr", "hf_orgnr"),
        "rhf": ("rhf_orgnr",),
        "landet": (),
    }
    for level, units in levels.items():
        for period in ("ar", "maned"):
            time = ("ar", "maned") if period == "maned" else ("ar",)

            def key(
                r: dict[str, Any], units: tuple[str, ...] = units, time: tuple[str, ...] = time
            ) -> tuple[Any, ...]:
                t = {"ar": r["maned"][:4], "maned": r["maned"]}
                return (*(t[x] for x in time), r["sektor"], *(str(r[u]) for u in units))

            _check(compat[f"npr/{level}/{period}"], expected(rows, key), (*time, "sektor", *units))


def test_distinct_patients_are_exact_not_summed(compat: dict[str, ProtectedTable]) -> None:
    year = {(r["ar"], r["sektor"]): r for r in compat["npr/landet/ar"].table.to_pylist()}
    months: dict[tuple[str, str], int] = defaultdict(int)
    for r in compat["npr/landet/maned"].table.to_pylist():
        months[(r["ar"], r["sektor"])] += r["pasienter"] or 0
    # patients return: a year counts each once, the months once per month they came
    assert all(year[k]["pasienter"] < months[k] for k in year)


def test_a_moved_unit_keeps_its_earlier_episodes_with_its_earlier_hf(
    compat: dict[str, ProtectedTable],
) -> None:
    rows = [r for r in compat["npr/behandlingssted/ar"].table.to_pylist()
            if r["behandlingssted_id"] == str(MOVING_UNIT) and r["ar"] == "2024"]  # fmt: skip
    assert len({r["hf_orgnr"] for r in rows}) == 2
    assert all(r["hf_navn"] and r["rhf_navn"] for r in rows)


def test_ssb_leaves_out_the_fodestue(
    made: tuple[Lake, pa.Table], compat: dict[str, ProtectedTable]
) -> None:
    _, rows = made
    units = {
        r["behandlingssted_id"] for r in compat["npr/ssb/behandlingssted/ar"].table.to_pylist()
    }
    assert str(FODESTUE) not in units
    assert str(FODESTUE) in {
        r["behandlingssted_id"] for r in compat["npr/behandlingssted/ar"].table.to_pylist()
    }
    kept = rows.filter(rows["ssb_utvalg"])

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return (r["maned"][:4], r["sektor"], r["hf_orgnr"])

    npr = expected(rows, key)
    ssb = expected(kept, key)
    assert ssb != npr
    got = {
        (r["ar"], r["sektor"], r["hf_orgnr"]): r for r in compat["npr/ssb/hf/ar"].table.to_pylist()
    }
    assert set(got) == set(ssb)
    for k, counts in ssb.items():
        if counts["pasienter"] > 4:
            assert got[k]["episoder"] == counts["episoder"]


def _population(lake: Lake) -> dict[tuple[str, int, str], np.ndarray]:
    """Area population per (service, year, area), from the catchment statistic."""
    result = area_population(read_population(committed_files(lake, "folkemengde")))
    return {
        (s, y, code): cells
        for (s, y, level), values in result.values.items() if level == "OMRADE"
        for code, cells in zip(result.codes[(s, y, level)], values, strict=True)
    }  # fmt: skip


def test_rates_divide_by_the_sectors_service_population(
    made: tuple[Lake, pa.Table], compat: dict[str, ProtectedTable]
) -> None:
    lake, rows = made
    population = _population(lake)

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return (
            r["maned"][:4],
            r["sektor"],
            r["bo_omrade"] or "ukjent",
            r["kjonn"],
            r["aldersgruppe"],
        )

    table = compat["npr/rater/kjonn_alder"]
    _check(table, expected(rows, key), ("ar", "sektor", "bo_omrade", "kjonn", "aldersgruppe"))
    checked = 0
    for r in table.table.to_pylist():
        assert r["tjeneste"] == SERVICE_OF[r["sektor"]]
        if r["status"] != "published":
            assert r["befolkning"] is None and r["opphold_per_1000"] is None
            continue
        if r["bo_omrade"] == "ukjent":
            assert r["befolkning"] is None and r["pasienter_per_1000"] is None
            continue
        cells = population[(r["tjeneste"], int(r["ar"]), r["bo_omrade"])]
        first, end = AGE_GROUPS[r["aldersgruppe"]]
        people = int(cells[int(r["kjonn"]) - 1, first:end].sum())
        assert r["befolkning"] == people > 0
        assert r["opphold_per_1000"] == pytest.approx(r["opphold"] / people * 1000)
        assert r["pasienter_per_1000"] == pytest.approx(r["pasienter"] / people * 1000)
        checked += 1
    assert checked > 50
    # phbu divides by BUP (0-17 only), phv by VOP (18+ only)
    assert {r["aldersgruppe"] for r in table.table.to_pylist() if r["sektor"] == "phbu"} == {"0-17"}
    areas = compat["npr/rater/omrade"].table.to_pylist()
    som = next(r for r in areas if r["sektor"] == "somatikk" and r["status"] == "published"
               and r["bo_omrade"] != "ukjent")  # fmt: skip
    assert som["befolkning"] == int(population[("SOM", int(som["ar"]), som["bo_omrade"])].sum())
    assert som["omrade_navn"] and som["omrade_navn"] != som["bo_omrade"]


def test_flow_matrix_shares_add_up_per_row(
    made: tuple[Lake, pa.Table], compat: dict[str, ProtectedTable]
) -> None:
    _, rows = made

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return (r["maned"][:4], r["sektor"], r["bo_hf_orgnr"] or "ukjent", r["hf_orgnr"])

    want = expected(rows, key)
    matrix = compat["npr/flyt/matrise"]
    _check(matrix, want, ("ar", "sektor", "bo_hf_orgnr", "hf_orgnr"))
    totals: dict[tuple[Any, ...], int] = defaultdict(int)
    for k, c in want.items():
        totals[k[:3]] += c["episoder"]
    margins = {
        (r["ar"], r["sektor"], r["bo_hf_orgnr"]): r
        for r in compat["npr/flyt/bosted"].table.to_pylist()
    }
    assert set(margins) == set(totals)
    assert all(m["episoder"] == totals[k] for k, m in margins.items() if m["status"] == "published")
    _shares_from_published(matrix.table.to_pylist(), margins)


def _shares_from_published(
    matrix: list[dict[str, Any]], margins: dict[tuple[Any, ...], dict[str, Any]]
) -> None:
    """A share is a published cell over its published row total; else null."""
    seen = 0
    for r in matrix:
        outside = "nei" if r["hf_orgnr"] == r["bo_hf_orgnr"] else "ja"
        assert r["utenfor_eget_hf"] == ("ukjent" if r["bo_hf_orgnr"] == "ukjent" else outside)
        margin = margins[(r["ar"], r["sektor"], r["bo_hf_orgnr"])]
        if r["status"] == "published" and margin["status"] == "published":
            assert r["andel_episoder"] == pytest.approx(r["episoder"] / margin["episoder"])
            seen += 1
            if outside == "nei":
                assert margin["andel_utenfor_eget_hf"] == pytest.approx(1 - r["andel_episoder"])
        else:
            assert r["andel_episoder"] is None
            if outside == "nei":
                assert margin["andel_utenfor_eget_hf"] is None
        assert r["andel_utenfor_eget_hf"] is None
    assert seen > 10


def test_full_mode_adds_secondary_cells_across_the_linked_tables(tmp_path: Path) -> None:
    # a lake of its own: a full build protects against what earlier releases published
    full = _built(npr_lake(tmp_path)[0], "full")
    for name, table in full.items():
        rows = table.table.to_pylist()
        for r in rows:
            if r["status"] == "published":
                assert r["pasienter"] == 0 or r["pasienter"] >= 6, (name, r)
            else:
                assert all(r[m] is None for m in COUNTS)
    statuses = {r["status"] for t in full.values() for r in t.table.to_pylist()}
    assert "secondary" in statuses
    # one cell hidden alone in a published total would be its difference: never
    hf = full["npr/hf/ar"].table.to_pylist()
    rhf = {(r["ar"], r["sektor"], r["rhf_orgnr"]): r for r in full["npr/rhf/ar"].table.to_pylist()}
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in hf:
        groups[(r["ar"], r["sektor"], r["rhf_orgnr"])].append(r)
    for k, members in groups.items():
        hidden = [r for r in members if r["status"] != "published"]
        if rhf[k]["status"] == "published":
            assert len(hidden) != 1, k
    margins = {
        (r["ar"], r["sektor"], r["bo_hf_orgnr"]): r
        for r in full["npr/flyt/bosted"].table.to_pylist()
    }
    _shares_from_published(full["npr/flyt/matrise"].table.to_pylist(), margins)
