"""Withdrawing a stored batch: the next build publishes exactly what a lake that never held
it publishes, the batch's files go, the withdrawal is recorded with its reason, an
interrupted withdrawal finishes when run again, and the file can be ingested again
(SYNTHETIC DATA)."""

from __future__ import annotations

import calendar
import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from helsestat import cli
from helsestat.aggregate import DuckDBEngine
from helsestat.cli import main
from helsestat.errors import NotFoundError, StoreError
from helsestat.model import ReleaseInfo
from helsestat.pipeline import build, ingest_file
from helsestat.store.lake import Lake
from helsestat.store.withdraw import list_batches, withdraw_batch
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_csv

KEY = b"test-key-" + b"w" * 32


def _extract(tmp_path: Path, month: int, seed: int) -> Path:
    end = date(2024, month, calendar.monthrange(2024, month)[1])
    path = tmp_path / f"claims_2024{month:02d}_{seed}.csv"
    write_csv(generate_claims(600, seed, start=date(2024, month, 1), end=end), path)
    return path


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    with DuckDBEngine(threads=2, memory_limit="1GB") as engine:
        yield engine


def _tables(lake: Lake, release: ReleaseInfo) -> dict[str, object]:
    return {name: lake.read_table(release, name).table for name in release.tables}


def test_a_withdrawn_batch_is_left_out_of_the_next_build(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    files = [_extract(tmp_path, 1, 1), _extract(tmp_path, 2, 2), _extract(tmp_path, 2, 3)]
    lake = Lake(tmp_path / "var")
    batches = [ingest_file(f, "claims", KEY, lake) for f in files]
    before = build(lake, engine, mode="compat", threshold=5)
    wrong = batches[2]  # a second February delivery, found wrong

    done = withdraw_batch(lake, "claims", wrong.checksum[:10], "delivered twice")
    assert done.checksum == wrong.checksum and done.reason == "delivered twice"
    assert not list((lake.root / "extracts").rglob(f"{wrong.checksum}.parquet"))
    assert not lake.quarantine_path("claims", wrong.checksum).exists()
    record = json.loads((lake.root / "withdrawn/claims" / f"{wrong.checksum}.json").read_text())
    assert record["reason"] == "delivered twice" and record["withdrawn"]
    assert [b.checksum for b in list_batches(lake, "claims")] == sorted(
        [batches[0].checksum, batches[1].checksum],
        key=lambda c: next(b.source for b in batches if b.checksum == c),
    )
    assert list_batches(lake, "claims", withdrawn=True)[-1].withdrawn == record["withdrawn"]

    after = build(lake, engine, mode="compat", threshold=5)
    clean = Lake(tmp_path / "clean")  # a lake that never held the wrong delivery
    for f in files[:2]:
        ingest_file(f, "claims", KEY, clean)
    assert _tables(lake, after) == _tables(clean, build(clean, engine, mode="compat", threshold=5))
    assert _tables(lake, lake.get(before.id)) != _tables(lake, after)  # before: as published

    # the same file can be ingested again, and then the build is as before the withdrawal
    again = ingest_file(files[2], "claims", KEY, lake)
    assert not again.already_stored
    assert _tables(lake, build(lake, engine, mode="compat", threshold=5)) == _tables(lake, before)
    # withdrawn a second time: the first withdrawal is kept in the record
    withdraw_batch(lake, "claims", wrong.checksum, "still wrong")
    record = json.loads((lake.root / "withdrawn/claims" / f"{wrong.checksum}.json").read_text())
    assert record["reason"] == "still wrong"
    assert [e["reason"] for e in record["earlier"]] == ["delivered twice"]


def test_an_interrupted_withdrawal_finishes_when_run_again(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    batch = ingest_file(_extract(tmp_path, 3, 4), "claims", KEY, lake)
    withdraw_batch(lake, "claims", batch.checksum, "wrong month")
    record = json.loads((lake.root / "withdrawn/claims" / f"{batch.checksum}.json").read_text())
    # put the batch back as a crash after step 1 would have left it: recorded, still stored
    lake.batch_path("claims", batch.checksum).write_text(json.dumps({**record}), "utf-8")
    withdrawn = lake.root / "withdrawn/claims" / f"{batch.checksum}.json"
    stamp = withdrawn.stat().st_mtime_ns
    os.utime(lake.batch_path("claims", batch.checksum), ns=(stamp - 10**9, stamp - 10**9))
    done = withdraw_batch(lake, "claims", batch.checksum, "another reason")
    assert done.reason == "wrong month"  # the recorded withdrawal, not a new one
    assert not lake.batch_path("claims", batch.checksum).exists()
    assert withdraw_batch(lake, "claims", batch.checksum, "x").reason == "wrong month"  # no-op


def test_withdraw_refuses_bad_input_clearly(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    batch = ingest_file(_extract(tmp_path, 4, 5), "claims", KEY, lake)
    with pytest.raises(StoreError) as caught:
        withdraw_batch(lake, "claims", batch.checksum[:4], "short")
    assert caught.value.code == "batch.bad_checksum"
    with pytest.raises(NotFoundError) as missing:
        withdraw_batch(lake, "claims", "0" * 12, "none")
    assert missing.value.code == "batch.not_found" and "helsestat batches" in str(missing.value)
    with pytest.raises(StoreError) as blank:
        withdraw_batch(lake, "claims", batch.checksum, "  ")
    assert blank.value.code == "batch.no_reason"
    assert lake.batch_path("claims", batch.checksum).exists()  # nothing was withdrawn


def test_cli_lists_and_withdraws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HELSESTAT_PSEUDONYM_KEY", "k" * 40)
    monkeypatch.setattr(cli.console, "width", 200)  # rich tables: no column cut short
    path = _extract(tmp_path, 5, 6)
    assert main(["ingest", "claims", str(path)]) == 0
    checksum = next(iter(Lake(tmp_path / "var").stored_batches("claims")))
    capsys.readouterr()
    assert main(["batches", "claims"]) == 0
    out = capsys.readouterr().out
    assert checksum[:12] in out and path.name in out and "202405" in out
    assert main(["withdraw", "claims", checksum[:12], "--reason", "test delivery"]) == 0
    assert "helsestat build" in capsys.readouterr().out
    assert main(["batches", "claims", "--withdrawn"]) == 0
    assert "test delivery" in capsys.readouterr().out
    assert main(["withdraw", "claims", "nothex!!", "--reason", "x"]) != 0
    err = capsys.readouterr().err
    assert "error:" in err and "hint: helsestat batches claims" in err and "Traceback" not in err
