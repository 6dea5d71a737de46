"""kill -9 at several points of ``helsestat ingest`` and ``helsestat build`` (real processes,
killed just before a chosen file, directory or link is committed): the same command run
again works, and the data directory is consistent — every stored batch whole, every release
complete, CURRENT on a complete release, nothing half-written left behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from helsestat.cli import main
from helsestat.store.lake import Lake
from helsestat.store.lake.extracts import committed_files
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_csv

KILL_AT = Path(__file__).parent / "kill_at.py"
KEY = "k" * 40


def _run(data_dir: Path, op: str, pattern: str, k: int, *argv: str) -> int:
    env = {**os.environ, "HELSESTAT_DATA_DIR": str(data_dir), "HELSESTAT_PSEUDONYM_KEY": KEY}
    done = subprocess.run(
        [sys.executable, str(KILL_AT), op, pattern, str(k), *argv],
        env=env,
        capture_output=True,
        check=False,
        timeout=300,
    )
    return done.returncode


def _consistent(lake: Lake) -> None:
    for checksum, record in lake.stored_batches("claims").items():
        files = [p for p in committed_files(lake, "claims") if p.stem == checksum]
        report = json.loads(record.read_text(encoding="utf-8"))["report"]
        assert sum(pq.read_metadata(p).num_rows for p in files) == report["accepted"]
    assert lake.current() is not None
    for release in lake.list_releases():
        for name in release.tables:
            lake.read_table(release, name, keep=False)
    assert [p.name for p in lake.releases_dir.iterdir() if p.name.startswith(".")] == []
    assert list(lake.root.rglob("*.tmp")) == []


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A data directory with one stored batch and the current release R0, and a second
    extract (another year) to ingest."""
    root = tmp_path_factory.mktemp("kill")
    first, second = root / "claims_2023.csv", root / "claims_2024.csv"
    write_csv(generate_claims(1500, seed=21, first_year=2023, last_year=2023), first)
    write_csv(generate_claims(1500, seed=22, first_year=2024, last_year=2024), second)
    data = root / "var"
    assert _run(data, "replace", "-", 0, "ingest", "claims", str(first)) == 0
    assert _run(data, "replace", "-", 0, "build", "--release", "R0") == 0
    return data, second


#: (os function, target pattern, k): before the codebooks, a month file, the quarantine and
#: the batch record (the commit marker) are renamed into place
INGEST_POINTS = [
    ("replace", "codebooks", 1),
    ("replace", "period=", 1),
    ("replace", "period=", 7),
    ("replace", "quarantine", 1),
    ("replace", "batches", 1),
]
#: a phase-1 piece, a protected piece, a table written into the release being built, its
#: manifest, the commit marker, the release renamed into place, CURRENT switched; a part
#: linked into the release
BUILD_POINTS = [
    ("replace", "cache", 1),
    ("replace", "tables", 5),
    ("replace", ".building-R1", 1),
    ("replace", "release.json", 1),
    ("replace", ".committing-R1", 1),
    ("replace", "releases/R1", 1),
    ("replace", "CURRENT", 1),
    ("link", ".building-R1", 3),
]


@pytest.mark.slow
@pytest.mark.parametrize(("op", "pattern", "k"), INGEST_POINTS)
def test_a_killed_ingest_then_the_same_ingest_and_a_build(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    base: tuple[Path, Path],
    op: str,
    pattern: str,
    k: int,
) -> None:
    data, extract = base
    here = tmp_path / "var"
    shutil.copytree(data, here)
    assert _run(here, op, pattern, k, "ingest", "claims", str(extract)) == -signal.SIGKILL
    lake = Lake(here)
    assert len(lake.stored_batches("claims")) == 1  # the killed batch is not committed
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(here))
    monkeypatch.setenv("HELSESTAT_PSEUDONYM_KEY", KEY)
    assert main(["ingest", "claims", str(extract)]) == 0
    assert main(["build", "--release", "R1"]) == 0
    assert len(lake.stored_batches("claims")) == 2
    _consistent(lake)


@pytest.fixture(scope="module")
def ingested(base: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    data, extract = base
    ready = tmp_path_factory.mktemp("ingested") / "var"
    shutil.copytree(data, ready)
    assert _run(ready, "replace", "-", 0, "ingest", "claims", str(extract)) == 0
    return ready


@pytest.mark.slow
@pytest.mark.parametrize(("op", "pattern", "k"), BUILD_POINTS)
def test_a_killed_build_then_the_same_build(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ingested: Path,
    op: str,
    pattern: str,
    k: int,
) -> None:
    here = tmp_path / "var"
    shutil.copytree(ingested, here)
    assert _run(here, op, pattern, k, "build", "--release", "R1") == -signal.SIGKILL
    lake = Lake(here)
    assert lake.current().id == "R0"  # type: ignore[union-attr]  # not switched
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(here))
    assert main(["build", "--release", "R1"]) == 0  # the same command again
    _consistent(lake)
    assert [r.id for r in lake.list_releases()] == ["R0", "R1"]
    assert lake.current().id == "R1"  # type: ignore[union-attr]
