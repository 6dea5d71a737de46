"""The data of a statistic computed per query (1177 SOB's range cube) is built once for the
same inputs: a build with unchanged events and reference data links the last build's files,
a new batch of events builds them again (SYNTHETIC DATA, through the CLI in-process)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from helsestat.aggregate import DuckDBEngine
from helsestat.build import build
from helsestat.cli import main
from helsestat.cli.context import reference_snapshot
from helsestat.settings import Settings
from helsestat.statistics.sob import SOB
from helsestat.store.lake import Lake
from helsestat.store.lake.extracts import committed_files
from helsestat.synth.sob import generate_sob


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


@pytest.mark.slow
def test_a_new_month_extends_the_last_data_and_equals_a_build_from_every_month(
    env: Path,
) -> None:
    assert main(["units", "load-demo"]) == 0
    events = pa.Table.from_batches(list(generate_sob(4000, 5, bad_share=0.0)))
    month = pc.utf8_slice_codeunits(events["tidpunkt"], 0, 7)
    *_, before, last = sorted(set(month.to_pylist()))
    earlier, latest = env / "earlier.parquet", env / "latest.parquet"
    pq.write_table(events.filter(pc.less(month, before)), earlier)
    # two new months in one file: added one after the other
    pq.write_table(events.filter(pc.greater_equal(month, before)), latest)
    settings = Settings()
    reference = reference_snapshot(settings)
    lake = Lake(env / "var")
    said: list[str] = []

    def build_sob(release: str, cache: bool = True) -> None:
        with DuckDBEngine(threads=2) as engine:
            build(
                lake,
                engine,
                mode="compat",
                threshold=5,
                reference=reference,
                statistics=[SOB],
                release_id=release,
                progress=said.append,
                cache=cache,
            )

    assert main(["ingest", "sob", str(earlier)]) == 0
    build_sob("R1")
    assert main(["ingest", "sob", str(latest)]) == 0
    build_sob("R2")
    added_months = [m for m in said if "added to the data of the months before" in m]
    assert added_months == [
        f"sob: period={m.replace('-', '')} added to the data of the months before"
        for m in (before, last)
    ]
    build_sob("R3", cache=False)
    added, whole = _data(lake, "R2"), _data(lake, "R3")
    assert added.keys() == whole.keys() and "sob__nodes.parquet" in added
    assert not any("carried" in name for name in added)  # carried, never published
    assert all(added[name][1] == whole[name][1] for name in added)
    # a correction of an earlier month: built from every month, and says so
    said.clear()
    again = env / "again.parquet"
    first = min(month.to_pylist())
    pq.write_table(events.filter(pc.equal(month, first)).slice(0, 1), again)
    table = pq.read_table(again)
    table = table.set_column(0, "arende_id", pa.array(["correction"] * table.num_rows))
    pq.write_table(table, again)
    assert main(["ingest", "sob", str(again)]) == 0
    build_sob("R4")
    assert "sob: built from every month (an earlier month's events changed)" in said
