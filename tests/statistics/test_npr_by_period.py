"""The npr statistics (distinct patients: not additive) aggregated year by year give the
cube of one pass over every file, keep each year's results in the lake's cache (a build
whose years did not change scans nothing; a changed year is scanned alone), and fall back
to one pass when a cell turns up in two years (SYNTHETIC stored episodes)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
from npr_lake import npr_lake

from helsestat.aggregate import DuckDBEngine, aggregate
from helsestat.aggregate.plan import Plan
from helsestat.build import aggregate_statistic
from helsestat.build.distinct import CACHE_SUFFIX, aggregate_by_period, periods_of
from helsestat.build.incremental import stored_spec
from helsestat.statistics.npr import NPR_STATISTICS
from helsestat.store.lake.extracts import committed_files


class Counting(DuckDBEngine):
    """A DuckDB engine that records the files of every pass it runs."""

    def __init__(self) -> None:
        super().__init__(threads=2, memory_limit="1GB")
        self.scanned: list[tuple[str, int]] = []

    def finest(self, files: Sequence[Path], plan: Plan) -> pa.Table:
        self.scanned.append(("finest", len(files)))
        return super().finest(files, plan)

    def distinct(self, files: Sequence[Path], plan: Plan) -> pa.Table:
        self.scanned.append(("distinct", len(files)))
        return super().distinct(files, plan)


def test_year_by_year_equals_one_pass_and_is_reused(tmp_path: Path) -> None:
    lake, _ = npr_lake(tmp_path, rows=1500)
    files = committed_files(lake, "npr_episode")
    population = {"folkemengde": committed_files(lake, "folkemengde")}
    statistics = [s.with_inputs(population) for s in NPR_STATISTICS]
    assert len(statistics) == 6
    with Counting() as engine:
        for statistic in statistics:
            spec = stored_spec(statistic.spec, lake, statistic.source_kind, files)
            periods = periods_of(statistic, spec, files)
            assert periods is not None and [p for p, _ in periods] == ["2023", "2024"]
            one_pass = aggregate(files, spec, engine)
            engine.scanned.clear()
            cube = aggregate_by_period(statistic, lake, engine, files, spec)
            assert cube is not None, statistic.name
            # both passes, once per year, each over that year's files only
            assert sorted(engine.scanned) == sorted(
                (kind, len(f)) for _, f in periods for kind in ("finest", "distinct")
            )
            assert set(cube.tables) == set(one_pass.tables)
            for grouping, table in one_pass.tables.items():
                assert table.num_rows > 0, (statistic.name, grouping)
                assert cube.tables[grouping].equals(table), (statistic.name, grouping)
            # a second build reads both years from the cache: no scan, the same cube
            engine.scanned.clear()
            again = aggregate_statistic(statistic, lake, engine)
            assert engine.scanned == []
            for grouping, table in one_pass.tables.items():
                assert again.tables[grouping].equals(table), (statistic.name, grouping)
        # one year's entries gone (as when its files change): that year alone is scanned
        statistic = statistics[0]
        root = lake.root / "cache" / f"{statistic.name}{CACHE_SUFFIX}"
        for entry in root.glob("2023.*"):
            shutil.rmtree(entry)
        engine.scanned.clear()
        aggregate_statistic(statistic, lake, engine)
        in_2023 = [f for f in files if f.parent.name.startswith("period=2023")]
        assert engine.scanned == [("finest", len(in_2023)), ("distinct", len(in_2023))]


def test_a_cell_in_two_years_falls_back_to_one_pass(tmp_path: Path) -> None:
    lake, _ = npr_lake(tmp_path, rows=600)
    files = committed_files(lake, "npr_episode")
    statistic = NPR_STATISTICS[0]
    spec = stored_spec(statistic.spec, lake, statistic.source_kind, files)
    # a file of 2023's rows stored under a 2024 partition: its cells would be in both years
    stray = tmp_path / "period=202401" / "stray.parquet"
    stray.parent.mkdir()
    first_2023 = next(f for f in files if f.parent.name == "period=202301")
    shutil.copy(first_2023, stray)
    with DuckDBEngine(threads=2, memory_limit="1GB") as engine:
        # None: the build aggregates such files in one pass over all of them
        assert aggregate_by_period(statistic, lake, engine, [*files, stray], spec) is None
        assert aggregate_by_period(statistic, lake, engine, files, spec) is not None


def test_periods_need_partitions_named_by_their_value(tmp_path: Path) -> None:
    statistic = NPR_STATISTICS[0]
    assert periods_of(statistic, statistic.spec, [tmp_path / "loose" / "a.parquet"]) is None
    named = [tmp_path / "period=202312" / "a.parquet", tmp_path / "period=202401" / "b.parquet"]
    assert periods_of(statistic, statistic.spec, named) == [
        ("2023", [named[0]]),
        ("2024", [named[1]]),
    ]
