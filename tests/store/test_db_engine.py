"""Engines and connection errors: SQLite settings, PostgreSQL driver, and URLs whose password
never reaches a message."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from helsestat.errors import StoreError
from helsestat.store.db.database import create_engine_for, mask_url, migrate, ping

PASSWORD = "S3cr3t-pa55"


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens on it once the probe is closed


def assert_masked(err: StoreError) -> None:
    shown = " ".join([str(err), repr(err), err.message, err.hint, repr(err.details)])
    assert PASSWORD not in shown
    # The driver's exception (whose text could hold the URL) is not chained either.
    assert err.__cause__ is None
    assert err.__context__ is None or err.__suppress_context__


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql+psycopg://stat:S3cr3t-pa55@db:5432/ref",
         "postgresql+psycopg://stat:***@db:5432/ref"),
        ("postgresql://stat:S3cr3t%40pa55@db/ref", "postgresql://stat:***@db/ref"),
        ("postgresql://stat:S3cr3t@pa55@db/ref", "postgresql://stat:***@db/ref"),
        ("postgresql://db/ref?user=stat&password=S3cr3t-pa55",
         "postgresql://db/ref?user=stat&password=***"),
        ("postgresql://stat@db/ref", "postgresql://stat@db/ref"),
        ("sqlite:///var/reference.db", "sqlite:///var/reference.db"),
    ],
)  # fmt: skip
def test_mask_url_hides_the_password(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_an_unreachable_server_names_the_setting_and_hides_the_password() -> None:
    url = f"postgresql+psycopg://stat:{PASSWORD}@127.0.0.1:{_closed_port()}/ref"
    engine = create_engine_for(url)
    attempts: list[Callable[[], None]] = [lambda: migrate(url), lambda: ping(engine)]
    for attempt in attempts:
        with pytest.raises(StoreError) as caught:
            attempt()
        err = caught.value
        assert err.code == "store.database_unreachable"
        assert err.message.startswith(
            "cannot connect to the reference database postgresql+psycopg://stat:***@127.0.0.1:"
        )
        assert "HELSESTAT_DATABASE_URL" in err.hint
        assert_masked(err)
    engine.dispose()


@pytest.mark.postgres
def test_an_unknown_database_on_a_real_server_is_unreachable(postgres_url: str) -> None:
    url = postgres_url.replace("postgres@", f"postgres:{PASSWORD}@").rsplit("/", 1)[0]
    with pytest.raises(StoreError) as caught:
        migrate(url + "/no_such_database")
    assert caught.value.code == "store.database_unreachable"
    assert 'database "no_such_database" does not exist' in caught.value.message
    assert_masked(caught.value)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        (f"mysql://stat:{PASSWORD}@db/ref", "store.unsupported_database"),
        (f"postgresql://stat:{PASSWORD}@db:port/ref", "store.bad_database_url"),
        (f"postgresql+nosuchdriver://stat:{PASSWORD}@db/ref", "store.bad_database_url"),
        ("not a url", "store.bad_database_url"),
    ],
)
def test_bad_urls_are_refused_without_the_password(url: str, code: str) -> None:
    with pytest.raises(StoreError) as caught:
        create_engine_for(url)
    assert caught.value.code == code
    assert "HELSESTAT_DATABASE_URL" in caught.value.hint
    assert_masked(caught.value)


def test_a_sqlite_file_that_cannot_be_created_is_unreachable(tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("")
    url = f"sqlite:///{tmp_path / 'plain-file' / 'reference.db'}"
    attempts: list[Callable[[], None]] = [
        lambda: migrate(url),
        lambda: ping(create_engine_for(url)),
    ]
    for attempt in attempts:
        with pytest.raises(StoreError) as caught:
            attempt()
        assert caught.value.code == "store.database_unreachable"


def test_migrate_creates_the_directory_of_a_sqlite_file(tmp_path: Path) -> None:
    migrate(f"sqlite:///{tmp_path / 'var' / 'reference.db'}")
    assert (tmp_path / "var" / "reference.db").is_file()


def test_sqlite_enforces_foreign_keys_and_uses_wal(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'reference.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        engine.dispose()


def test_postgresql_urls_use_psycopg() -> None:
    for url in ("postgresql://stat@db/ref", "postgres://stat@db/ref"):
        assert create_engine_for(url).url.drivername == "postgresql+psycopg"
