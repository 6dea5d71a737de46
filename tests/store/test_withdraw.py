"""Withdrawing a stored batch: the next build publishes exactly what a lake that never held
it publishes, the batch's files go, the withdrawal is recorded with its reason, an
interrupted withdrawal finishes when run again, and the file can be ingested again
(SYNTHETIC DATA)."""

from __future__ import annotations

import calendar
import json
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

import helsestat.build.withdraw as withdraw_module
from helsestat.aggregate import DuckDBEngine
from helsestat.build import build, ingest_file
from helsestat.build.withdraw import list_batches, withdraw_batch
from helsestat.cli import commands as cli
from helsestat.cli import main
from helsestat.errors import HelsestatError, NotFoundError, StoreError
from helsestat.model import ReleaseInfo
from helsestat.reference.seed import packaged_reference
from helsestat.store.lake import Lake
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_csv

KEY = b"test-key-" + b"w" * 32
#: The reference data claims are checked against and rules read: the packaged files.
REFERENCE = packaged_reference()


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
    batches = [ingest_file(f, "claims", KEY, lake, REFERENCE) for f in files]
    before = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
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

    after = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    clean = Lake(tmp_path / "clean")  # a lake that never held the wrong delivery
    for f in files[:2]:
        ingest_file(f, "claims", KEY, clean, REFERENCE)
    assert _tables(lake, after) == _tables(
        clean, build(clean, engine, mode="compat", threshold=5, reference=REFERENCE)
    )
    assert _tables(lake, lake.get(before.id)) != _tables(lake, after)  # before: as published

    # the same file can be ingested again, and then the build is as before the withdrawal
    again = ingest_file(files[2], "claims", KEY, lake, REFERENCE)
    assert not again.already_stored
    assert _tables(
        lake, build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    ) == _tables(lake, before)
    # withdrawn a second time: the first withdrawal is kept in the record
    withdraw_batch(lake, "claims", wrong.checksum, "still wrong")
    record = json.loads((lake.root / "withdrawn/claims" / f"{wrong.checksum}.json").read_text())
    assert record["reason"] == "still wrong"
    assert [e["reason"] for e in record["earlier"]] == ["delivered twice"]


def _record(lake: Lake, checksum: str) -> dict[str, object]:
    path = lake.root / "withdrawn/claims" / f"{checksum}.json"
    record: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return record


def test_an_interrupted_withdrawal_finishes_when_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake(tmp_path / "var")
    batch = ingest_file(_extract(tmp_path, 3, 4), "claims", KEY, lake, REFERENCE)
    real_write = withdraw_module.write_text_atomic
    calls: list[Path] = []

    def crash_on_the_second_write(text: str, path: Path) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed after step 1, before the record is written
        real_write(text, path)

    monkeypatch.setattr(withdraw_module, "write_text_atomic", crash_on_the_second_write)
    with pytest.raises(KeyboardInterrupt):
        withdraw_batch(lake, "claims", batch.checksum, "wrong month")
    monkeypatch.undo()
    assert not lake.batch_path("claims", batch.checksum).exists()  # uncommitted already
    assert list((lake.root / "extracts").rglob(f"{batch.checksum}.parquet"))  # files left
    done = withdraw_batch(lake, "claims", batch.checksum, "another reason")
    assert done.reason == "wrong month" and not done.already_withdrawn  # the first one
    assert not list((lake.root / "extracts").rglob(f"{batch.checksum}.parquet"))
    assert not list((lake.root / "withdrawn/claims").glob("*.pending.json"))
    # killed after step 2, before the pending record went: nothing is recorded twice
    pending = lake.root / "withdrawn/claims" / f"{batch.checksum}.pending.json"
    pending.write_text(json.dumps(_record(lake, batch.checksum)), encoding="utf-8")
    withdraw_batch(lake, "claims", batch.checksum, "x")
    assert _record(lake, batch.checksum)["earlier"] == [] and not pending.exists()
    # run again on a batch withdrawn already: says so, records nothing new
    again = withdraw_batch(lake, "claims", batch.checksum, "yet another")
    assert again.already_withdrawn and again.reason == "wrong month"


def test_a_copied_data_directory_records_a_second_withdrawal(tmp_path: Path) -> None:
    # copies that do not keep file times (cp -r, rsync without -t) change nothing
    lake = Lake(tmp_path / "var")
    path = _extract(tmp_path, 6, 7)
    batch = ingest_file(path, "claims", KEY, lake, REFERENCE)
    withdraw_batch(lake, "claims", batch.checksum, "first reason")
    ingest_file(path, "claims", KEY, lake, REFERENCE)
    shutil.copytree(lake.root, tmp_path / "copy", copy_function=shutil.copy)
    copy = Lake(tmp_path / "copy")
    done = withdraw_batch(copy, "claims", batch.checksum, "second reason")
    assert done.reason == "second reason" and not done.already_withdrawn
    record = _record(copy, batch.checksum)
    assert [e["reason"] for e in record["earlier"]] == ["first reason"]  # type: ignore[attr-defined,index]


def test_withdraw_waits_for_a_running_build(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    batch = ingest_file(_extract(tmp_path, 7, 8), "claims", KEY, lake, REFERENCE)
    events: list[str] = []
    holding, finish = threading.Event(), threading.Event()

    def running_build() -> None:
        with lake.build_lock():
            holding.set()
            finish.wait(10)
            events.append("build done")

    builder = threading.Thread(target=running_build)
    builder.start()
    assert holding.wait(10)
    withdrawer = threading.Thread(
        target=lambda: events.append(
            withdraw_batch(
                Lake(lake.root),
                "claims",
                batch.checksum,
                "x",
                waiting=lambda: events.append("waiting"),
            ).source
        )
    )
    withdrawer.start()
    deadline = time.monotonic() + 10
    while "waiting" not in events and time.monotonic() < deadline:
        time.sleep(0.01)
    assert events == ["waiting"] and lake.batch_path("claims", batch.checksum).exists()
    finish.set()
    builder.join(10)
    withdrawer.join(10)
    assert events == ["waiting", "build done", batch.source]


def test_withdraw_refuses_bad_input_clearly(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    batch = ingest_file(_extract(tmp_path, 4, 5), "claims", KEY, lake, REFERENCE)
    with pytest.raises(StoreError) as caught:
        withdraw_batch(lake, "claims", batch.checksum[:4], "short")
    assert caught.value.code == "batch.bad_checksum"
    with pytest.raises(NotFoundError) as missing:
        withdraw_batch(lake, "claims", "0" * 12, "none")
    assert missing.value.code == "batch.not_found" and "helsestat batches" in str(missing.value)
    with pytest.raises(StoreError) as blank:
        withdraw_batch(lake, "claims", batch.checksum, "  ")
    assert blank.value.code == "batch.no_reason"
    with pytest.raises(HelsestatError) as kind:
        withdraw_batch(lake, "claim", batch.checksum, "typo in the kind")
    assert "unknown extract kind 'claim'" in str(kind.value) and "claims" in str(kind.value)
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
    assert main(["withdraw", "claims", checksum[:12], "--reason", "again"]) == 0
    assert "withdrawn already" in capsys.readouterr().out
    assert main(["batches", "claim"]) != 0  # a typo in the kind is an error, not an empty list
    assert "known kinds: claims" in capsys.readouterr().err
    assert main(["withdraw", "claims", "nothex!!", "--reason", "x"]) != 0
    err = capsys.readouterr().err
    assert "error:" in err and "hint: helsestat batches claims" in err and "Traceback" not in err
