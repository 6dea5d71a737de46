"""The reference database: engines, migrations and sessions.

A SQLite file by default, PostgreSQL in production (``postgresql+psycopg://``). Engines do no
I/O until used; :func:`migrate` brings a database to the newest schema and is safe to run at
every start. The repositories (:mod:`helsestat.reference.classification_store`,
:mod:`helsestat.store.db.audit`, :mod:`helsestat.reference.units`) take a
:class:`~sqlalchemy.orm.Session`, write inside a SAVEPOINT (:func:`atomic`: all or nothing,
and the session stays usable after an error) and leave the commit to the caller::

    engine = create_engine_for(settings.resolved_database_url)
    migrate(engine)
    with session_factory(engine).begin() as session:  # commits at the end of the block
        load_classification(session, data)
        record_audit(session, "klass-import", "classification", data.id, "load", None, {...})

A database that cannot be reached is ``store.database_unreachable``, with a hint naming
HELSESTAT_DATABASE_URL; the password of a URL never appears in a message (:func:`mask_url`).

>>> engine = create_engine_for("sqlite://")
>>> migrate(engine)
>>> with session_factory(engine).begin() as session:
...     session.scalar(text("SELECT count(*) FROM classification"))
0
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helsestat.errors import (
    ConflictError,
    StoreError,
)

_MIGRATIONS = Path(__file__).with_name("migrations")
_URL_HINT = (
    "set HELSESTAT_DATABASE_URL to sqlite:///path/to/reference.db or "
    "postgresql+psycopg://user:password@host:5432/database"
)
_UNREACHABLE_HINT = (
    "check HELSESTAT_DATABASE_URL (driver, host, port, database name, user, password) "
    "and that the database server is running and reachable from here"
)
#: Key of the PostgreSQL advisory lock that serialises concurrent migrate() calls.
_MIGRATION_LOCK = 0x68656C73  # "hels"
#: Execution option that makes a SQLite transaction take the write lock when it begins.
_BEGIN_IMMEDIATE = "helsestat_begin_immediate"
#: How long a SQLite connection waits for another writer: the driver's default, and the
#: longer wait of :func:`exclusive_session` (a seed of the packaged files takes seconds).
_SQLITE_BUSY_MS = 5_000
_EXCLUSIVE_WAIT_MS = 120_000

# -- engines ---------------------------------------------------------------------------------


def mask_url(url: str | URL) -> str:
    """``url`` with its password replaced by ``***``, for messages and logs.

    >>> mask_url("postgresql+psycopg://stat:s3cret@db.example:5432/ref")
    'postgresql+psycopg://stat:***@db.example:5432/ref'
    """
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    # On the raw text, not a parsed URL: an unencoded "@" in a password would otherwise leave
    # its tail in the host part. Everything between "user:" and the last "@" goes.
    masked = re.sub(r"^([^:/?#]+://[^:/@?#]*:).*@", r"\1***@", url)
    return re.sub(r"(?i)(password=)[^&]*", r"\1***", masked)


def _reason(exc: BaseException, url: URL | None = None) -> str:
    """The first line of a driver error, with the URL's password blanked out if it shows."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(orig).strip().splitlines()
    first = lines[0].strip() if lines else type(orig).__name__
    if url is not None and url.password:
        first = first.replace(str(url.password), "***")
    return first


def _unreachable(url: URL, reason: str) -> StoreError:
    return StoreError(
        "store.database_unreachable",
        f"cannot connect to the reference database {mask_url(url)}: {reason}",
        hint=_UNREACHABLE_HINT,
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # sqlite3 (before Python 3.12) opens transactions itself, and not before DDL or SAVEPOINT;
    # hand that job to SQLAlchemy (see _sqlite_on_begin) so savepoints and migrations are
    # really transactional. SQLAlchemy docs: "Enabling Non-Legacy SQLite Transactional Modes".
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")  # off by default in SQLite
    cursor.execute("PRAGMA journal_mode = WAL")  # readers do not block the writer
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    # IMMEDIATE takes the write lock at once, so concurrent migrations queue up instead of
    # both creating the same tables.
    immediate = connection.get_execution_options().get(_BEGIN_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine_for(url: str) -> Engine:
    """An engine for a SQLite or PostgreSQL URL. It does not connect yet.

    SQLite connections enforce foreign keys and use write-ahead logging; ``postgresql://``
    URLs use the psycopg 3 driver.

    >>> create_engine_for("sqlite:///var/reference.db").dialect.name
    'sqlite'
    >>> create_engine_for("postgresql://stat:s3cret@db/ref").url.drivername
    'postgresql+psycopg'
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise StoreError(
            "store.bad_database_url",
            f"cannot read the database URL {mask_url(url)!r}",
            hint=_URL_HINT,
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres") and parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend not in ("sqlite", "postgresql", "postgres"):
        raise StoreError(
            "store.unsupported_database",
            f"database URL {mask_url(url)}: {backend!r} is not supported; "
            "helsestat runs on SQLite and PostgreSQL",
            hint=_URL_HINT,
        )
    try:
        if backend == "sqlite":
            engine = create_engine(parsed)
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
            return engine
        return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    except (ArgumentError, ImportError) as exc:
        raise StoreError(
            "store.bad_database_url",
            f"database URL {mask_url(url)}: {_reason(exc, parsed)}",
            hint=_URL_HINT,
        ) from None


def _connect(engine: Engine) -> Connection:
    try:
        return engine.connect()
    except DBAPIError as exc:
        raise _unreachable(engine.url, _reason(exc, engine.url)) from None


def ping(engine: Engine) -> None:
    """Connect once and run ``SELECT 1``; ``store.database_unreachable`` if that fails.

    >>> ping(create_engine_for("sqlite://"))
    """
    with _connect(engine) as connection:
        connection.execute(text("SELECT 1"))


def _ensure_sqlite_dir(url: URL) -> None:
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return
    if database.startswith("file:"):
        return
    try:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unreachable(url, exc.strerror or type(exc).__name__) from None


def _at_head(connection: Connection) -> bool:
    """True when the database says it is at the newest revision (one query; a database
    without Alembic's table is not)."""
    try:
        found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return False
    finally:
        connection.rollback()
    return [row[0] for row in found] == [head_revision()]


def _alembic(target: str | Engine, verb: str, revision: str) -> None:
    engine = create_engine_for(target) if isinstance(target, str) else target
    try:
        _ensure_sqlite_dir(engine.url)
        if verb == "upgrade" and revision == "head":
            # Most starts find the schema current: one query instead of Alembic's scripts.
            with _connect(engine) as connection:
                if _at_head(connection):
                    return
        with _connect(engine) as connection:
            try:
                connection.execution_options(**{_BEGIN_IMMEDIATE: True})
                with connection.begin():
                    if connection.dialect.name == "postgresql":
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                        )
                    config = Config()
                    config.set_main_option("script_location", str(_MIGRATIONS))
                    config.set_main_option("path_separator", "os")
                    config.attributes["connection"] = connection
                    if verb == "upgrade":
                        command.upgrade(config, revision)
                    else:
                        command.downgrade(config, revision)
            except CommandError as exc:
                raise StoreError(
                    "store.migration_failed",
                    f"cannot {verb} the reference database {mask_url(engine.url)} "
                    f"to {revision!r}: {exc}",
                    hint="revisions are 'head', 'base' or a number like '0001' "
                    "(files in helsestat/store/db/migrations/versions)",
                ) from None
            except DBAPIError as exc:
                raise StoreError(
                    "store.migration_failed",
                    f"cannot {verb} the reference database {mask_url(engine.url)} "
                    f"to {revision!r}: {_reason(exc, engine.url)}",
                    hint="the migration ran in one transaction and was rolled back; "
                    "fix the cause above and run it again",
                ) from exc
    finally:
        if isinstance(target, str):
            engine.dispose()


@cache
def head_revision() -> str:
    """The newest Alembic revision shipped with helsestat (read once per process).

    >>> head_revision() >= "0001"
    True
    """
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("path_separator", "os")
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def migrate(target: str | Engine, revision: str = "head") -> None:
    """Upgrade the database at ``target`` (a URL or an engine) to ``revision``.

    Idempotent: an up-to-date database is left as it is. The upgrade runs in one transaction
    that holds a lock (PostgreSQL: an advisory lock; SQLite: the write lock), so concurrent
    starts wait for each other instead of racing.

    >>> migrate("sqlite://")
    """
    _alembic(target, "upgrade", revision)


def downgrade(target: str | Engine, revision: str) -> None:
    """Downgrade the database at ``target`` to ``revision`` (``"base"``: drop every table).

    >>> downgrade("sqlite://", "base")
    """
    _alembic(target, "downgrade", revision)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit.

    >>> with session_factory(create_engine_for("sqlite://")).begin() as session:
    ...     session.scalar(text("SELECT 1"))
    1
    """
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def exclusive_session(engine: Engine, key: int) -> Iterator[Session]:
    """A session whose one transaction holds the database's write lock from its first
    statement (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock on ``key``), and
    commits when the block ends: concurrent callers run one after the other, each seeing what
    the one before wrote (e.g. worker processes that seed an empty database at start).

    >>> with exclusive_session(create_engine_for("sqlite://"), 1) as session:
    ...     session.scalar(text("SELECT 1"))
    1
    """
    with _connect(engine) as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # wait for the writer ahead (e.g. a worker seeding), not 5 s and fail
            _sqlite_busy_timeout(connection, _EXCLUSIVE_WAIT_MS)
        try:
            connection.execution_options(**{_BEGIN_IMMEDIATE: True})
            with connection.begin():
                if not sqlite:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
                with Session(bind=connection, expire_on_commit=False) as session:
                    yield session
                    session.flush()
        finally:
            if sqlite:
                _sqlite_busy_timeout(connection, _SQLITE_BUSY_MS)


def _sqlite_busy_timeout(connection: Connection, milliseconds: int) -> None:
    # On the driver's connection: through SQLAlchemy the statement would begin a transaction.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")
    finally:
        cursor.close()


@contextmanager
def atomic(session: Session, what: str) -> Iterator[None]:
    """Run a block of writes in a SAVEPOINT: on any error none of them stays."""
    try:
        with session.begin_nested():
            yield
    except IntegrityError as exc:
        raise ConflictError(
            "store.conflict",
            f"{what}: the database refused the change ({_reason(exc)})",
            hint="another change may have written the same rows; re-read and retry",
        ) from exc
    except DBAPIError as exc:
        bind = session.get_bind()
        raise StoreError(
            "store.database_error",
            f"{what}: {_reason(exc, bind.engine.url)}",
            hint="check that the reference database is reachable and migrated "
            "(helsestat.store.db.database.migrate)",
        ) from exc


__all__ = [
    "atomic",
    "create_engine_for",
    "downgrade",
    "exclusive_session",
    "head_revision",
    "mask_url",
    "migrate",
    "ping",
    "session_factory",
]
