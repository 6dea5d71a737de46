"""Incremental refresh in compat mode: a build that reuses cached per-period pieces publishes
exactly what a build from scratch publishes, table for table, row for row, and recomputes
only the pieces whose inputs changed (SYNTHETIC DATA)."""

from __future__ import annotations

import calendar
import json
import os
import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pytest

from helsestat.aggregate import DuckDBEngine
from helsestat.build import build, ingest_file
from helsestat.errors import StoreError
from helsestat.model import ReleaseInfo
from helsestat.protect.rules import FrequencyRule, MinimumPopulationRule
from helsestat.reference.seed import packaged_reference
from helsestat.statistics import TableDef
from helsestat.statistics.takstbruk import TAKSTBRUK
from helsestat.store.lake import Lake
from helsestat.store.lake.cache import FinestCache
from helsestat.store.lake.parts import ORDER_PREFIX, merge_order
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_csv

KEY = b"test-key-" + b"x" * 32
#: The reference data claims are checked against and rules read: the packaged files.
REFERENCE = packaged_reference()


def _extract(tmp_path: Path, year: int, month: int, rows: int, seed: int) -> Path:
    end = date(year, month, calendar.monthrange(year, month)[1])
    path = tmp_path / f"claims_{year}{month:02d}_{seed}.csv"
    write_csv(generate_claims(rows, seed, start=date(year, month, 1), end=end), path)
    return path


def _ingest(tmp_path: Path, lake: Lake, year: int, month: int, seed: int, rows: int = 900) -> None:
    ingest_file(_extract(tmp_path, year, month, rows, seed), "claims", KEY, lake, REFERENCE)


def _lake(tmp_path: Path, months: tuple[int, ...] = (1, 2), year: int = 2024) -> Lake:
    """A lake holding one extract per month of ``year`` (seeded by the month)."""
    lake = Lake(tmp_path / "var")
    for month in months:
        _ingest(tmp_path, lake, year, month, seed=month)
    return lake


def _pieces(lake: Lake) -> dict[str, int]:
    """Every cached piece file and the time it was written."""
    root = lake.root / "cache" / "takstbruk" / "tables"
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*.parquet")}


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
    lake = _lake(tmp_path, (1, 2, 3))

    def check(mode: str = "compat", threshold: int = 5) -> ReleaseInfo:
        cached = build(lake, engine, mode=mode, threshold=threshold, reference=REFERENCE)  # type: ignore[arg-type]
        cold = build(lake, engine, mode=mode, threshold=threshold, reference=REFERENCE, cache=False)  # type: ignore[arg-type]
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
    lake = _lake(tmp_path)
    build(lake, engine, mode="full", threshold=5, reference=REFERENCE)
    assert _pieces(lake) == {}
    cached = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    assert len(_pieces(lake)) == 2 * 3 + 3
    _assert_same(
        lake,
        cached,
        build(lake, engine, mode="compat", threshold=5, reference=REFERENCE, cache=False),
    )


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
    lake = _lake(tmp_path)
    cached = build(
        lake, engine, mode="compat", threshold=5, reference=REFERENCE, statistics=[statistic]
    )
    assert _pieces(lake) == {}
    cold = build(
        lake,
        engine,
        mode="compat",
        threshold=5,
        reference=REFERENCE,
        statistics=[statistic],
        cache=False,
    )
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

    lake = _lake(tmp_path)
    build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    stricter = tuple(
        replace(t, compat_rules=(FrequencyRule("sum_antall_takst", 50),))
        if t.name == "takstbruk/kommune/ar"
        else t
        for t in TAKSTBRUK.tables
    )
    statistic = replace(TAKSTBRUK, tables=stricter)
    cached = build(
        lake, engine, mode="compat", threshold=5, reference=REFERENCE, statistics=[statistic]
    )
    cold = build(
        lake,
        engine,
        mode="compat",
        threshold=5,
        reference=REFERENCE,
        statistics=[statistic],
        cache=False,
    )
    _assert_same(lake, cached, cold)
    before = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE, cache=False)
    name = "takstbruk/kommune/ar"
    assert not lake.read_table(cached, name).table.equals(lake.read_table(before, name).table)


def _parts(lake: Lake, release: ReleaseInfo, name: str) -> dict[str | None, Path]:
    """Period → part file of a table published in parts."""
    manifest = json.loads((release.path / "release.json").read_text(encoding="utf-8"))
    return {p["period"]: release.path / p["file"] for p in manifest["tables"][name]["parts"]}


def test_a_refresh_links_the_unchanged_parts_of_the_previous_release(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    lake = _lake(tmp_path)
    first = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    _ingest(tmp_path, lake, 2024, 3, seed=3)
    second = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    for kind in ("kommune", "fylke", "landet"):
        months = "takstbruk/" + kind + "/maned"
        old, new = _parts(lake, first, months), _parts(lake, second, months)
        assert list(new) == ["202401", "202402", "202403"]
        # January and February are the very files of the first release: nothing rewritten
        for month in ("202401", "202402"):
            assert new[month].stat().st_ino == old[month].stat().st_ino
        # the year's part is new (March changed it) and so is March's
        years = "takstbruk/" + kind + "/ar"
        assert _parts(lake, second, years)["2024"].stat().st_ino != (
            _parts(lake, first, years)["2024"].stat().st_ino
        )
    manifest = json.loads((second.path / "release.json").read_text(encoding="utf-8"))
    for name, entry in manifest["tables"].items():
        if not name.startswith("takstbruk/"):
            continue  # the tables over the claims are built in parts; the NPR tables whole
        assert entry["rows"] == sum(p["rows"] for p in entry["parts"]) > 0, name
        assert entry["rows"] == lake.read_table(second, name).table.num_rows
    # a table read back has no merge columns, and deleting the cache loses no release
    shutil.rmtree(lake.root / "cache")
    fresh = Lake(lake.root)  # nothing kept in memory
    for release in (first, second):
        for name in release.tables:
            table = fresh.read_table(release, name).table
            assert not [c for c in table.column_names if c.startswith(ORDER_PREFIX)]
    _assert_same(
        fresh,
        second,
        build(lake, engine, mode="compat", threshold=5, reference=REFERENCE, cache=False),
    )


def test_a_refresh_reads_no_finest_table_of_another_year(
    tmp_path: Path, engine: DuckDBEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = _lake(tmp_path, (11, 12))
    build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    _ingest(tmp_path, lake, 2025, 1, seed=1)
    read: list[str] = []
    real_get = FinestCache.get

    def counting_get(self: FinestCache, partition: str, key: str) -> pa.Table | None:
        read.append(partition)
        return real_get(self, partition, key)

    monkeypatch.setattr(FinestCache, "get", counting_get)
    cached = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    assert read == []  # January 2025 was computed; 2024 was neither read nor recomputed
    monkeypatch.undo()
    _assert_same(
        lake,
        cached,
        build(lake, engine, mode="compat", threshold=5, reference=REFERENCE, cache=False),
    )


def test_phase1_entries_without_recorded_periods_are_computed_again(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    # entries written before the cache recorded each partition's periods
    lake = _lake(tmp_path)
    build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    entries = sorted((lake.root / "cache" / "takstbruk").glob("period=*/*.arrow"))
    assert len(entries) == 2
    for entry in entries:
        table = feather.read_table(entry)
        assert table.schema.metadata  # the periods are recorded …
        feather.write_feather(table.replace_schema_metadata(None), entry)  # … or were not
    _ingest(tmp_path, lake, 2024, 3, seed=3)
    cached = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    _assert_same(
        lake,
        cached,
        build(lake, engine, mode="compat", threshold=5, reference=REFERENCE, cache=False),
    )
    # the build computed them again with their periods, so the next one uses them
    for entry in entries:
        assert feather.read_table(entry).schema.metadata


def test_a_cached_piece_left_empty_is_computed_again_and_a_broken_one_is_named(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    lake = _lake(tmp_path)
    build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    root = lake.root / "cache" / "takstbruk" / "tables"
    piece = next(root.glob("takstbruk%2Fkommune%2Fmaned/value=202402/*.parquet"))
    os.truncate(piece, 0)  # what a power cut could leave of a piece written without fsync
    rebuilt = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    assert piece.stat().st_size > 0
    cold = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE, cache=False)
    _assert_same(lake, rebuilt, cold)
    # a file that is not Parquet under a piece's name: the build names it and says what next
    garbage = piece.with_name(".garbage")
    garbage.write_bytes(b"not parquet")
    os.replace(garbage, piece)
    with pytest.raises(StoreError) as caught:
        build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    assert caught.value.code == "store.bad_part" and str(piece) in str(caught.value)
    assert "delete the file" in (caught.value.hint or "")
    assert lake.current() == cold  # the failed build published nothing
