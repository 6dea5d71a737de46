"""The NPR-like activity statistic end to end, as a user runs it: ``helsestat demo`` ingests a
SYNTHETIC CSV extract of episodes at the demo registry's units (validation, placing on the
date of ``ut``, pseudonyms) and builds the release; a real ``helsestat serve`` answers the
tables over HTTP. No row of the extract is lost, and every published cell of the country
table equals a recount of the stored rows (exact distinct patients included)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helsestat.publish.formats import FORMATS
from helsestat.store.lake import Lake
from helsestat.store.lake.extracts import committed_files
from serve_process import helsestat_serve

EPISODES = 20_000


@pytest.mark.slow
def test_episodes_from_csv_to_http(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELSESTAT_")}
    env |= {"HELSESTAT_DATA_DIR": str(data_dir), "HELSESTAT_DEMO_MODE": "1", "COLUMNS": "200"}
    command = [sys.executable, "-m", "helsestat.cli", "demo", "--no-serve", "--rows", "2000"]
    command += ["--sob-events", "2000", "--npr-episodes", str(EPISODES)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr

    lake = Lake(data_dir)
    stored = pa.concat_tables(pq.read_table(f) for f in committed_files(lake, "npr_episode"))
    quarantined = sum(
        pq.read_metadata(p).num_rows
        for p in (data_dir / "quarantine").rglob("*.parquet")
        if "npr_episode" in p.parts
    )
    assert stored.num_rows > 0.9 * EPISODES
    assert stored.num_rows + quarantined == EPISODES
    assert "pasient_id" not in stored.column_names

    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    patients: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in stored.select(
        ["sektor", "maned", "dogn", "liggedogn", "dag", "poli", "pasient_pseudonym"]
    ).to_pylist():
        key = (row["sektor"], str(row["maned"])[:4])
        for i, measure in enumerate(("dogn", "liggedogn", "dag", "poli")):
            sums[key][i] += row[measure]
        sums[key][4] += 1
        patients[key].add(row["pasient_pseudonym"])

    with helsestat_serve(data_dir, workers=1) as (base, _):
        table = f"{base}/api/v1/tables/npr/landet/ar"
        rows = httpx.get(table, timeout=60).json()
        published = [r for r in rows if r["status"] == "published"]
        assert len(published) >= len(sums) // 2
        for r in published:
            key = (r["sektor"], str(r["ar"]))
            opphold, liggedogn, dag, poli, episoder = sums[key]
            assert (r["opphold"], r["liggedogn"]) == (opphold, liggedogn), key
            assert (r["dagbehandlinger"], r["polikliniske_kontakter"]) == (dag, poli), key
            assert (r["episoder"], r["pasienter"]) == (episoder, len(patients[key])), key
        for fmt in FORMATS:
            answer = httpx.get(table, params={"format": fmt}, timeout=60)
            assert answer.status_code == 200, (fmt, answer.text[:200])
            assert answer.headers["content-type"] == FORMATS[fmt].media_type
        # every behandlingssted by the name the demo registry gives it (the build read the
        # units from the reference snapshot), never by its bare id
        places = httpx.get(f"{base}/api/v1/tables/npr/behandlingssted/ar", timeout=60).json()
        assert places
        assert all(r["behandlingssted_navn"] != r["behandlingssted_id"] for r in places)
        assert len({r["behandlingssted_navn"] for r in places}) > 10
