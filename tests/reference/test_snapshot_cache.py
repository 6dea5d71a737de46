"""The reference snapshot kept between processes: read back while the database holds the
same content, never after a write of reference content or of a Swedish unit, never from a
damaged file."""

from __future__ import annotations

from pathlib import Path

from helsestat.reference import state
from helsestat.reference.holder import ReferenceHolder
from helsestat.reference.snapshot_cache import load_cached, read_stamp, save_cached
from helsestat.store.db.database import create_engine_for, session_factory


def _kept(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'reference.db'}"
    holder = ReferenceHolder(url)
    snapshot = holder.get()
    holder.dispose()
    assert save_cached(url, tmp_path / "cache", snapshot)
    return url, tmp_path / "cache"


def test_the_kept_snapshot_is_read_while_the_content_is_the_same(tmp_path: Path) -> None:
    url, kept = _kept(tmp_path)
    first = load_cached(url, kept)
    assert first is not None and first.version == read_stamp(url).version  # type: ignore[union-attr]
    assert first.registry.classification(131).name == "Standard for kommuneinndeling"
    assert "digest" in vars(first.geography)  # kept with it, not computed again
    fresh = ReferenceHolder(url)
    assert first.geography.digest == fresh.get().geography.digest
    fresh.dispose()
    engine = create_engine_for(url)
    with session_factory(engine).begin() as session:
        state.bump(session)  # what every write of reference content does
    engine.dispose()
    assert load_cached(url, kept) is None


def test_a_changed_swedish_unit_is_a_miss(tmp_path: Path) -> None:
    url, kept = _kept(tmp_path)
    engine = create_engine_for(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO unit (id, country, row_version, created_at, created_by) "
            "VALUES (990001, 'SE', 1, '2026-01-01 00:00:00', 'test')"
        )
    engine.dispose()
    assert load_cached(url, kept) is None


def test_a_damaged_file_is_a_miss_and_other_databases_have_none(tmp_path: Path) -> None:
    url, kept = _kept(tmp_path)
    (file,) = kept.glob("*.pickle")
    data = bytearray(file.read_bytes())
    data[-10] ^= 0xFF
    file.write_bytes(bytes(data))
    assert load_cached(url, kept) is None
    assert load_cached("sqlite://", kept) is None
    assert load_cached("postgresql+psycopg://u@localhost/x", kept) is None
    assert load_cached(f"sqlite:///{tmp_path / 'none.db'}", kept) is None
