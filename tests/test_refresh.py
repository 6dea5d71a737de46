"""Incremental refresh in compat mode: a build that reuses cached per-period pieces publishes
exactly what a build from scratch publishes, table for table, row for row, and recomputes
only the pieces whose inputs changed (SYNTHETIC DATA)."""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from helsestat.aggregate import DuckDBEngine
from helsestat.aggregate.pieces import merge_order
from helsestat.model import ReleaseInfo
from helsestat.pipeline import build, ingest_file
from helsestat.protect.rules import FrequencyRule, MinimumPopulationRule
from helsestat.statistics import TableDef
from helsestat.statistics.takstbruk import TAKSTBRUK
from helsestat.store.lake import Lake
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_csv

KEY = b"test-key-" + b"x" * 32


def _extract(tmp_path: Path, year: int, month: int, rows: int, seed: int) -> Path:
    end = date(year, month, calendar.monthrange(year, month)[1])
    path = tmp_path / f"claims_{year}{month:02d}_{seed}.csv"
    write_csv(generate_claims(rows, seed, start=date(year, month, 1), end=end), path)
    return path


def _ingest(tmp_path: Path, lake: Lake, year: int, month: int, seed: int, rows: int = 900) -> None:
    ingest_file(_extract(tmp_path, year, month, rows, seed), "claims", KEY, lake)


def _pieces(lake: Lake) -> dict[str, int]:
    """Every cached piece file and the time it was written."""
    root = lake.root / "cache" / "takstbruk" / "tables"
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*.arrow")}


def _assert_same(lake: Lake, a: ReleaseInfo, b: ReleaseInfo) -> None:
    assert a.tables == b.tables
    for name in a.tables:
        left, right = lake.read_table(a, name), lake.read_table(b, name)
        assert left.table.schema == right.table.schema, name
        assert left.table.equals(right.table), name
        assert (left.title, left.dimensions, left.measures, left.notes) == (
            right.title,
            right.dimensions,
            right.measures,
            right.notes,
        )


@pytest.fixture
def engine() -> DuckDBEngine:
    with DuckDBEngine(threads=2, memory_limit="1GB") as engine:
        yield engine


def test_refresh_equals_a_cold_build_after_each_kind_of_change(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    lake = Lake(tmp_path / "var")
    for month in (1, 2, 3):
        _ingest(tmp_path, lake, 2024, month, seed=month)

    def check(mode: str = "compat", threshold: int = 5) -> ReleaseInfo:
        cached = build(lake, engine, mode=mode, threshold=threshold)  # type: ignore[arg-type]
        cold = build(lake, engine, mode=mode, threshold=threshold, cache=False)  # type: ignore[arg-type]
        _assert_same(lake, cached, cold)
        return cached

    check()  # the first build computes every piece (whole years, split for the cache)
    before = _pieces(lake)
    assert len(before) == 3 * 3 + 3  # three month tables × three months, three year tables
    # a new month: its own pieces and its year's are recomputed, the others reused
    _ingest(tmp_path, lake, 2024, 4, seed=4)
    check()
    after = _pieces(lake)
    changed = sorted(str(Path(p).parent) for p in after if before.get(p) != after[p])
    assert changed == sorted(
        [f"takstbruk%2F{g}%2Fmaned/value=202404" for g in ("kommune", "fylke", "landet")]
        + [f"takstbruk%2F{g}%2Far/value=2024" for g in ("kommune", "fylke", "landet")]
    )
    # a month delivered again (late claims for February): February and 2024 recomputed
    _ingest(tmp_path, lake, 2024, 2, seed=12)
    check()
    # a month of a new year: the 2024 pieces stay, a year piece for 2025 appears
    _ingest(tmp_path, lake, 2025, 1, seed=13)
    check()
    assert any("value=2025" in p for p in _pieces(lake))
    # another threshold, then the first one again
    check(threshold=3)
    check()


def test_compat_after_a_full_build_equals_a_cold_compat_build(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    # Full mode is never built from pieces (all tables together, with the history); it
    # fills the phase-1 cache, and the compat build after it computes its pieces from that.
    lake = Lake(tmp_path / "var")
    for month in (1, 2):
        _ingest(tmp_path, lake, 2024, month, seed=month)
    build(lake, engine, mode="full", threshold=5)
    assert _pieces(lake) == {}
    cached = build(lake, engine, mode="compat", threshold=5)
    assert len(_pieces(lake)) == 2 * 3 + 3
    _assert_same(lake, cached, build(lake, engine, mode="compat", threshold=5, cache=False))


def test_a_statistic_with_a_rule_that_is_not_cell_local_is_built_whole(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    class Ranked:
        """Suppresses the largest cell of the table: depends on every row."""

        label = "largest"

        def apply(self, table: pa.Table) -> object:
            import numpy as np

            values = np.asarray(table.column("antall_regninger").to_numpy(), dtype=float)
            return values == values.max()

    tables = tuple(
        TableDef(t.name, t.title, t.grouping, (*t.compat_rules, Ranked()), t.rules_note)
        for t in TAKSTBRUK.tables
    )
    from dataclasses import replace

    statistic = replace(TAKSTBRUK, tables=tables)
    lake = Lake(tmp_path / "var")
    for month in (1, 2):
        _ingest(tmp_path, lake, 2024, month, seed=month)
    cached = build(lake, engine, mode="compat", threshold=5, statistics=[statistic])
    assert _pieces(lake) == {}
    cold = build(lake, engine, mode="compat", threshold=5, statistics=[statistic], cache=False)
    _assert_same(lake, cached, cold)


def test_merge_order_is_stable_and_puts_nulls_last() -> None:
    keys = pa.chunked_array([["b", None, "a"], ["b", "a"]])
    assert merge_order([keys]).tolist() == [2, 4, 0, 3, 1]
    two = [pa.array(["x", "x", "w"]), pa.array(["2", "1", "9"])]
    assert merge_order(two).tolist() == [2, 1, 0]


def test_population_rule_looks_each_pair_up_once() -> None:
    calls: list[tuple[str, int]] = []

    def population(kommune: str, year: int) -> int:
        calls.append((kommune, year))
        return {"0301": 700_000}.get(kommune, 900)

    rule = MinimumPopulationRule("k", "ar", 10_000, population)
    table = pa.table({"k": ["0301", "1111", "0301", None, "1111"], "ar": ["2024"] * 5})
    assert rule.apply(table).tolist() == [False, True, False, True, True]
    assert sorted(calls, key=str) == [("0301", 2024), ("1111", 2024), ("None", 2024)]
    assert FrequencyRule("n", 3).apply(pa.table({"n": [3, 4]})).tolist() == [True, False]


def test_pieces_are_not_reused_when_a_rule_changes(tmp_path: Path, engine: DuckDBEngine) -> None:
    from dataclasses import replace

    lake = Lake(tmp_path / "var")
    for month in (1, 2):
        _ingest(tmp_path, lake, 2024, month, seed=month)
    build(lake, engine, mode="compat", threshold=5)
    stricter = tuple(
        replace(t, compat_rules=(FrequencyRule("sum_antall_takst", 50),))
        if t.name == "takstbruk/kommune/ar"
        else t
        for t in TAKSTBRUK.tables
    )
    statistic = replace(TAKSTBRUK, tables=stricter)
    cached = build(lake, engine, mode="compat", threshold=5, statistics=[statistic])
    cold = build(lake, engine, mode="compat", threshold=5, statistics=[statistic], cache=False)
    _assert_same(lake, cached, cold)
    before = build(lake, engine, mode="compat", threshold=5, cache=False)
    name = "takstbruk/kommune/ar"
    assert not lake.read_table(cached, name).table.equals(lake.read_table(before, name).table)
