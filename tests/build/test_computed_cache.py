"""The data of a statistic computed per query (1177 SOB's range cube) is built once for the
same inputs: a build with unchanged events and reference data links the last build's files,
a new batch of events builds them again (SYNTHETIC DATA, through the CLI in-process)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from helsestat.cli import main
from helsestat.store.lake import Lake
from helsestat.store.lake.extracts import committed_files


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HELSESTAT_PSEUDONYM_KEY", "k" * 40)
    monkeypatch.setenv("HELSESTAT_SEED", "5")
    return tmp_path


def _data(lake: Lake, release: str) -> dict[str, tuple[int, bytes]]:
    folder = lake.releases_dir / release / "data"
    return {
        p.name: (p.stat().st_ino, pq.read_table(p).to_pandas().to_csv().encode())
        for p in sorted(folder.glob("sob__*.parquet"))
    }


@pytest.mark.slow
def test_unchanged_events_are_a_cache_hit_and_new_events_are_not(env: Path) -> None:
    assert main(["units", "load-demo"]) == 0
    first, second = env / "sob1.csv", env / "sob2.parquet"
    assert main(["synth", "sob", "--rows", "3000", "--out", str(first)]) == 0
    assert main(["ingest", "sob", str(first)]) == 0
    assert main(["build", "--release", "R1"]) == 0
    assert main(["build", "--release", "R2"]) == 0
    lake = Lake(env / "var")
    one, two = _data(lake, "R1"), _data(lake, "R2")
    assert one and one.keys() == two.keys()
    # the same files: hard links of one cache entry, read back as they were written
    assert all(one[name] == two[name] for name in one)
    assert main(["synth", "sob", "--rows", "6000", "--out", str(second)]) == 0
    files = committed_files(lake, "sob")
    assert main(["ingest", "sob", str(second)]) == 0
    assert committed_files(lake, "sob") != files  # more events stored
    assert main(["build", "--release", "R3"]) == 0
    three = _data(lake, "R3")
    assert three.keys() == one.keys()
    assert all(three[name][0] != one[name][0] for name in one)  # built again
    assert three["sob__nodes.parquet"][1] != one["sob__nodes.parquet"][1]
