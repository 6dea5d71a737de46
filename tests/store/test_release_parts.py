"""Releases that hold a table in parts: linked (or copied) into the release, read back in the
table's order, kept in memory once read, and one build of a data directory at a time."""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import helsestat.store.lake as lake_module
from helsestat.errors import StoreError
from helsestat.model import PartedTable, ProtectedTable, TablePart
from helsestat.store.lake import Lake


def _part(path: Path, kommune: list[str], maned: str) -> TablePart:
    """A part of a kommune × måned table: rows in kommune order, with the merge columns."""
    table = pa.table(
        {
            "kommune": kommune,
            "maned": [maned] * len(kommune),
            "n": list(range(len(kommune))),
            "__order0": kommune,
            "__order1": [maned] * len(kommune),
        }
    )
    pq.write_table(table, path)
    return TablePart(path, maned)


def _parted(tmp_path: Path) -> PartedTable:
    parts = (
        _part(tmp_path / "jan.parquet", ["0301", "1103", "4601"], "202401"),
        _part(tmp_path / "feb.parquet", ["0301", "4601"], "202402"),
    )
    return PartedTable("t/kommune/maned", "T", ("kommune", "maned"), ("n",), parts, ("note",))


def test_a_table_in_parts_reads_back_whole_in_table_order(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    parted = _parted(tmp_path)
    with lake.release("r1") as release:
        release.link(release.register(parted))
    found = lake.read_table(lake.get("r1"), "t/kommune/maned")
    assert found.table.to_pydict() == {
        "kommune": ["0301", "0301", "1103", "4601", "4601"],
        "maned": ["202401", "202402", "202401", "202401", "202402"],
        "n": [0, 0, 1, 2, 1],
    }
    assert (found.title, found.dimensions, found.measures, found.notes) == (
        "T",
        ("kommune", "maned"),
        ("n",),
        ("note",),
    )
    files = lake.table_files(lake.get("r1"), "t/kommune/maned")
    assert [f.stat().st_ino for f in files] == [p.path.stat().st_ino for p in parted.parts]
    manifest = json.loads((tmp_path / "var/releases/r1/release.json").read_text("utf-8"))
    assert manifest["tables"]["t/kommune/maned"]["rows"] == 5
    assert [p["rows"] for p in manifest["tables"]["t/kommune/maned"]["parts"]] == [3, 2]


def test_parts_are_copied_where_the_file_system_cannot_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: object, target: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(lake_module.os, "link", refuse)
    lake = Lake(tmp_path / "var")
    parted = _parted(tmp_path)
    with lake.release("r1") as release:
        release.link(release.register(parted))
    files = lake.table_files(lake.get("r1"), "t/kommune/maned")
    assert [f.stat().st_ino for f in files] != [p.path.stat().st_ino for p in parted.parts]
    assert lake.read_table(lake.get("r1"), "t/kommune/maned").table.num_rows == 5


def test_a_missing_part_discards_the_release(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    parted = _parted(tmp_path)
    parted.parts[1].path.unlink()
    with pytest.raises(FileNotFoundError), lake.release("r1") as release:
        release.link(release.register(parted))
    assert lake.current() is None
    assert not (tmp_path / "var/releases/r1").exists()
    assert not list((tmp_path / "var/releases").glob(".building-*"))


def test_linking_an_unregistered_table_is_refused(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    with pytest.raises(StoreError) as caught, lake.release("r1") as release:
        release.link(_parted(tmp_path))
    assert caught.value.code == "store.not_registered"


def test_tables_read_are_kept_in_memory_within_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake(tmp_path / "var")
    with lake.release("r1") as release:
        for name in ("a", "b"):
            release.add(
                ProtectedTable(name, name, ("k",), ("n",), pa.table({"k": ["x"], "n": [1]}))
            )
    r1 = lake.get("r1")
    first = lake.read_table(r1, "a")
    assert lake.read_table(r1, "a") is first  # from memory
    size = first.table.nbytes
    monkeypatch.setattr(lake_module, "READ_CACHE_BYTES", size)  # room for one table
    lake.read_table(r1, "b")
    assert lake.read_table(r1, "b") is lake.read_table(r1, "b")
    assert lake.read_table(r1, "a") is not first  # evicted by b, read again
    # a caller that keeps its own copy leaves the memory to others
    monkeypatch.setattr(lake_module, "READ_CACHE_BYTES", 10 * size)
    other = Lake(tmp_path / "var")
    assert other.read_table(r1, "a", keep=False) is not other.read_table(r1, "a", keep=False)


def test_a_second_build_waits_for_the_first(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    events: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        with lake.build_lock():
            holding.set()
            release.wait(10)
            events.append("first done")

    def second() -> None:
        with Lake(tmp_path / "var").build_lock(lambda: events.append("waiting")):
            events.append("second runs")

    one = threading.Thread(target=first)
    one.start()
    assert holding.wait(10)
    two = threading.Thread(target=second)
    two.start()
    deadline = time.monotonic() + 10
    while "waiting" not in events and time.monotonic() < deadline:
        time.sleep(0.01)
    assert events == ["waiting"]  # the second build has not started
    release.set()
    one.join(10)
    two.join(10)
    assert events == ["waiting", "first done", "second runs"]
    assert os.path.exists(tmp_path / "var" / ".build.lock")


def test_a_part_linked_again_takes_its_rows_from_the_previous_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake(tmp_path / "var")
    parted = _parted(tmp_path)
    with lake.release("r1") as release:
        release.link(release.register(parted))
    changed = _part(tmp_path / "feb2.parquet", ["0301", "1103", "4601", "5001"], "202402")
    again = PartedTable(parted.name, "T", parted.dimensions, ("n",), (parted.parts[0], changed))
    footers: list[str] = []
    real = lake_module.pq.read_metadata

    def counting(path: object) -> object:
        footers.append(Path(str(path)).name)
        return real(path)

    monkeypatch.setattr(lake_module.pq, "read_metadata", counting)
    with lake.release("r2") as release:
        release.link(release.register(again))
    assert footers == ["0001.parquet"]  # only the new February part was opened
    manifest = json.loads((tmp_path / "var/releases/r2/release.json").read_text("utf-8"))
    entry = manifest["tables"]["t/kommune/maned"]
    assert [p["rows"] for p in entry["parts"]] == [3, 4]
    assert entry["rows"] == 7 == lake.read_table(lake.get("r2"), parted.name).table.num_rows


def test_a_release_with_a_table_registered_but_not_linked_is_discarded(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    with pytest.raises(StoreError) as caught, lake.release("r1") as release:
        release.register(_parted(tmp_path))
    assert caught.value.code == "store.incomplete_release"
    assert lake.current() is None and not (tmp_path / "var/releases/r1").exists()


def test_a_table_linked_twice_is_refused(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    parted = _parted(tmp_path)
    with pytest.raises(StoreError) as caught, lake.release("r1") as release:
        release.link(release.register(parted))
        release.link(parted)
    assert caught.value.code == "store.duplicate_table"
