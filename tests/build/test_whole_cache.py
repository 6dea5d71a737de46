"""A statistic with no stored input: what its code makes of nothing is computed once and
linked by the next builds while the code, definition, threshold and reference data stay the
same (SYNTHETIC claims, so that the release holds one statistic with input and several
without)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from helsestat.aggregate import DuckDBEngine
from helsestat.build import build
from helsestat.cli.context import reference_snapshot
from helsestat.settings import Settings
from helsestat.statistics import STATISTICS, Statistic
from helsestat.store.lake import Lake
from helsestat.store.lake.cache import WholeCache

#: Statistics built whole from their stored input (not per query), with no input here.
WITHOUT_INPUT = [s for s in STATISTICS if s.serving.ranged is None and s.name != "takstbruk"]


@pytest.fixture
def lake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Lake:
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(tmp_path / "var"))
    return Lake(tmp_path / "var")


def _file(table: str) -> str:
    return table.replace("/", "__") + ".parquet"


def _tables(
    lake: Lake, release: str, statistics: list[Statistic] = WITHOUT_INPUT
) -> dict[str, tuple[int, str]]:
    """Table file name → (inode, content as CSV) of the tables of ``statistics``."""
    folder = lake.releases_dir / release
    return {
        _file(t.name): (
            (folder / _file(t.name)).stat().st_ino,
            pq.read_table(folder / _file(t.name)).to_pandas().to_csv(),
        )
        for s in statistics
        for t in s.tables
    }


def _build(lake: Lake, release: str, threshold: int = 5, *, cache: bool = True) -> None:
    reference = reference_snapshot(Settings())
    with DuckDBEngine(threads=1) as engine:
        build(
            lake,
            engine,
            mode="compat",
            threshold=threshold,
            reference=reference,
            release_id=release,
            cache=cache,
        )


def test_tables_without_input_are_linked_from_the_cache_and_equal_a_build_without_it(
    lake: Lake,
) -> None:
    assert WITHOUT_INPUT  # the NPR-like statistics
    _build(lake, "R1")
    _build(lake, "R2")
    _build(lake, "R0", cache=False)  # computed, neither read from nor written to the cache
    one, two, plain = _tables(lake, "R1"), _tables(lake, "R2"), _tables(lake, "R0")
    assert one and one.keys() == two.keys() == plain.keys()
    # the same files (hard links of one cache entry), with what a build without cache writes
    assert all(one[name][0] == two[name][0] for name in one)
    assert all(one[name][1] == plain[name][1] for name in one)
    assert all(one[name][0] != plain[name][0] for name in one)
    assert list(lake.get("R2").tables) == list(lake.get("R0").tables)  # manifest order
    # another threshold is another key: computed again, a new entry replaces the old one
    _build(lake, "R3", threshold=3)
    three = _tables(lake, "R3")
    assert all(three[name][0] != one[name][0] for name in one)
    for statistic in WITHOUT_INPUT:
        entries = list(WholeCache(lake, statistic.name).root.iterdir())
        assert len(entries) == 1


def test_a_damaged_entry_is_computed_again(lake: Lake) -> None:
    _build(lake, "R1")
    statistic = WITHOUT_INPUT[0]
    (entry,) = WholeCache(lake, statistic.name).root.iterdir()
    (entry / "done.json").write_text("{not json", encoding="utf-8")
    _build(lake, "R2")
    one, two = _tables(lake, "R1", [statistic]), _tables(lake, "R2", [statistic])
    assert one and all(one[n][0] != two[n][0] and one[n][1] == two[n][1] for n in one)
    others = WITHOUT_INPUT[1:]
    assert _tables(lake, "R1", others) == _tables(lake, "R2", others)  # still linked
