"""The build lock cleans up after a killed build without scanning every release when the
last build ended: the marker ``.build.running`` says whether it did."""

from __future__ import annotations

from pathlib import Path

import pytest

from helsestat.store.lake import Lake


def _stray(lake: Lake) -> list[Path]:
    """Temporary files as a killed writer leaves them: in a kept release and in the cache."""
    kept = lake.releases_dir / "R0"
    cached = lake.root / "cache" / "takstbruk" / "period=202401"
    for folder in (kept, cached):
        folder.mkdir(parents=True, exist_ok=True)
    files = [kept / ".a.parquet.0a1b.tmp", cached / ".k.arrow.2c3d.tmp"]
    for file in files:
        file.write_text("half")
    return files


def test_the_marker_is_there_while_a_build_runs_and_gone_after(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    marker = lake.root / ".build.running"
    with lake.build_lock():
        assert marker.is_file()
    assert not marker.exists()
    with pytest.raises(RuntimeError), lake.build_lock():
        raise RuntimeError("a build that fails still ends")
    assert not marker.exists()


def test_a_killed_build_leaves_the_marker_and_the_next_lock_removes_its_temporary_files(
    tmp_path: Path,
) -> None:
    lake = Lake(tmp_path / "var")
    with lake.build_lock():
        pass
    files = _stray(lake)
    (lake.root / ".build.running").touch()  # what a build killed while writing leaves
    with lake.build_lock():
        assert [f for f in files if f.exists()] == []
        assert (lake.root / ".build.running").is_file()  # still vouching for this build
    assert not (lake.root / ".build.running").exists()


def test_after_a_build_that_ended_nothing_is_scanned(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    with lake.build_lock():
        pass
    files = _stray(lake)  # not left by a build of this lake: no build was killed
    with lake.build_lock():
        pass
    assert all(f.exists() for f in files)
