"""The reference database: engines, migrations, sessions and a small typed repository.

A SQLite file by default, PostgreSQL in production (``postgresql+psycopg://``). Engines do no
I/O until used; :func:`migrate` brings a database to the newest schema and is safe to run at
every start. Repository functions take a :class:`~sqlalchemy.orm.Session`, write inside a
SAVEPOINT (all or nothing, and the session stays usable after an error) and leave the commit
to the caller::

    engine = create_engine_for(settings.resolved_database_url)
    migrate(engine)
    with session_factory(engine).begin() as session:  # commits at the end of the block
        load_classification(session, data)
        record_audit(session, "klass-import", "classification", data.id, "load", None, {...})

A database that cannot be reached is ``store.database_unreachable``, with a hint naming
HELSESTAT_DATABASE_URL; the password of a URL never appears in a message (:func:`mask_url`).

>>> engine = create_engine_for("sqlite://")
>>> migrate(engine)
>>> kommuner = ClassificationData(131, "Kommuner", versions=(
...     VersionData(1, "Kommuner 2024", date(2024, 1, 1), None,
...                 levels=(LevelData(1, "Kommune"),), codes=(CodeData("0301", "Oslo"),)),))
>>> with session_factory(engine).begin() as session:
...     load_classification(session, kommuner)
>>> with session_factory(engine)() as session:
...     [c.name for c in codes_at(session, 131, date(2025, 6, 1))]
['Oslo']
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, delete, event, insert, or_, select, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helsestat.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    ReferenceError_,
    StoreError,
)
from helsestat.store.schema import (
    CODE_LENGTH,
    AuditLog,
    Classification,
    ClassificationCode,
    ClassificationLevel,
    ClassificationVersion,
    Correspondence,
    CorrespondenceMap,
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


def _alembic(target: str | Engine, verb: str, revision: str) -> None:
    engine = create_engine_for(target) if isinstance(target, str) else target
    try:
        _ensure_sqlite_dir(engine.url)
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
                    "(files in helsestat/store/migrations/versions)",
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


def head_revision() -> str:
    """The newest Alembic revision shipped with helsestat.

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
def _atomic(session: Session, what: str) -> Iterator[None]:
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
            "(helsestat.store.database.migrate)",
        ) from exc


# -- classifications -------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelData:
    """A level of a classification version: 1 is the top."""

    number: int
    name: str


@dataclass(frozen=True)
class CodeData:
    """A code to load. ``valid_from`` None: valid from the start of its version."""

    code: str
    name: str
    level: int = 1
    parent_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class VersionData:
    """A version to load, valid on ``[valid_from, valid_to)``; ``valid_to`` None: still valid."""

    id: int
    name: str
    valid_from: date
    valid_to: date | None
    levels: tuple[LevelData, ...]
    codes: tuple[CodeData, ...]


@dataclass(frozen=True)
class ClassificationData:
    """A classification with the versions to insert or replace (others stay as they are)."""

    id: int
    name: str
    versions: tuple[VersionData, ...]
    description: str = ""
    owner: str = ""


@dataclass(frozen=True)
class CodeRow:
    """A code as read back from the database."""

    code: str
    name: str
    level: int
    parent_code: str | None
    valid_from: date
    valid_to: date | None


def _span(valid_from: date, valid_to: date | None) -> str:
    return f"{valid_from} to {valid_to}" if valid_to else f"{valid_from} onwards"


def _check_version(cid: int, version: VersionData) -> None:
    where = f"classification {cid} version {version.id}"

    def bad(problem: str, hint: str) -> InputError:
        return InputError("input.invalid_classification", f"{where}: {problem}", hint=hint)

    if version.valid_to is not None and version.valid_to <= version.valid_from:
        raise bad(
            f"valid_to {version.valid_to} is not after valid_from {version.valid_from}",
            "valid_to is the first day the version no longer applies (as in KLASS)",
        )
    levels = [level.number for level in version.levels]
    if len(set(levels)) != len(levels):
        raise bad("a level number appears twice", "number the levels 1, 2, 3 … once each")
    codes = [c.code for c in version.codes]
    seen: set[str] = set()
    for item in version.codes:
        if item.code in seen:
            raise bad(f"code {item.code!r} appears twice", "a code is unique within a version")
        seen.add(item.code)
        if not item.code or len(item.code) > CODE_LENGTH:
            raise bad(f"code {item.code[:20]!r} is empty or longer than {CODE_LENGTH}", "")
        if item.level not in levels:
            raise bad(
                f"code {item.code!r} is on level {item.level}, which the version does not have",
                f"declare the level in VersionData.levels (it has {sorted(levels)})",
            )
        if item.parent_code is not None and (
            item.parent_code == item.code or item.parent_code not in codes
        ):
            raise bad(
                f"code {item.code!r} has parent {item.parent_code!r}, which is not another "
                "code of this version",
                "a parent must be a code of the same version",
            )
        start = item.valid_from or version.valid_from
        end = item.valid_to
        if (
            start < version.valid_from
            or (end is not None and end <= start)
            or (end is not None and version.valid_to is not None and end > version.valid_to)
        ):
            raise bad(
                f"code {item.code!r} is valid {_span(start, end)}, outside the version's "
                f"{_span(version.valid_from, version.valid_to)}",
                "a code's validity must lie within its version's",
            )


def _replace_version(session: Session, cid: int, version: VersionData) -> None:
    row = session.get(ClassificationVersion, version.id)
    if row is None:
        row = ClassificationVersion(id=version.id, classification_id=cid)
        session.add(row)
    elif row.classification_id != cid:
        raise ConflictError(
            "classification.conflict",
            f"classification {cid}: version {version.id} already belongs to "
            f"classification {row.classification_id}",
            hint="version ids are unique across all classifications (as in KLASS); "
            "use the publisher's own version id",
        )
    else:
        session.execute(delete(ClassificationCode).where(ClassificationCode.version_id == row.id))
        session.execute(delete(ClassificationLevel).where(ClassificationLevel.version_id == row.id))
    row.name, row.valid_from, row.valid_to = version.name, version.valid_from, version.valid_to
    session.flush()
    if version.levels:
        session.execute(
            insert(ClassificationLevel),
            [
                {"version_id": row.id, "level_number": lv.number, "name": lv.name}
                for lv in version.levels
            ],
        )
    if version.codes:
        # Parents sit on a lower level than their children: insert top-down.
        ordered = sorted(version.codes, key=lambda c: c.level)
        session.execute(
            insert(ClassificationCode),
            [
                {
                    "version_id": row.id,
                    "code": c.code,
                    "parent_code": c.parent_code,
                    "level": c.level,
                    "name": c.name,
                    "valid_from": c.valid_from or version.valid_from,
                    "valid_to": c.valid_to,
                }
                for c in ordered
            ],
        )
    session.flush()


def _check_no_overlap(session: Session, cid: int) -> None:
    rows = session.execute(
        select(
            ClassificationVersion.id,
            ClassificationVersion.valid_from,
            ClassificationVersion.valid_to,
        )
        .where(ClassificationVersion.classification_id == cid)
        .order_by(ClassificationVersion.valid_from)
    ).all()
    for before, after in itertools.pairwise(rows):
        if before.valid_to is None or before.valid_to > after.valid_from:
            raise InputError(
                "input.invalid_classification",
                f"classification {cid}: versions {before.id} "
                f"({_span(before.valid_from, before.valid_to)}) and {after.id} "
                f"({_span(after.valid_from, after.valid_to)}) overlap",
                hint="end the older version (valid_to) on the day the newer one starts",
            )


def load_classification(session: Session, data: ClassificationData) -> None:
    """Insert the classification, or update it, and insert or replace each of its versions
    (with their levels and codes). All or nothing: on any error no row is changed.

    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> data = ClassificationData(7, "Fylker", versions=(VersionData(
    ...     70, "Fylker 2024", date(2024, 1, 1), None, levels=(LevelData(1, "Fylke"),),
    ...     codes=(CodeData("03", "Oslo"), CodeData("46", "Vestland"))),))
    >>> with session_factory(engine).begin() as session:
    ...     load_classification(session, data)
    """
    for version in data.versions:
        _check_version(data.id, version)
    ids = [v.id for v in data.versions]
    if len(set(ids)) != len(ids):
        raise InputError(
            "input.invalid_classification",
            f"classification {data.id}: a version id appears twice",
            hint="give each version its own id",
        )
    with _atomic(session, f"loading classification {data.id}"):
        row = session.get(Classification, data.id)
        if row is None:
            row = Classification(id=data.id)
            session.add(row)
        row.name, row.description, row.owner = data.name, data.description, data.owner
        session.flush()
        for version in data.versions:
            _replace_version(session, data.id, version)
        _check_no_overlap(session, data.id)


def _version_at(session: Session, classification_id: int, at: date) -> ClassificationVersion:
    if session.get(Classification, classification_id) is None:
        raise NotFoundError(
            "classification.not_found",
            f"classification {classification_id} is not in the reference database",
            hint="load it first (load_classification), or check the id against KLASS",
        )
    versions = session.scalars(
        select(ClassificationVersion)
        .where(ClassificationVersion.classification_id == classification_id)
        .order_by(ClassificationVersion.valid_from)
    ).all()
    for version in versions:
        if version.valid_from <= at and (version.valid_to is None or at < version.valid_to):
            return version
    spans = "; ".join(_span(v.valid_from, v.valid_to) for v in versions) or "none"
    raise NotFoundError(
        "classification_version.not_found",
        f"classification {classification_id} has no version valid on {at}",
        hint=f"its versions cover: {spans}; ask for a date inside one of them, "
        "or load the version that covers this date",
    )


def codes_at(session: Session, classification_id: int, at: date) -> list[CodeRow]:
    """The codes valid on ``at`` in the version of the classification valid on ``at``,
    ordered by level and code. ``NotFoundError`` when no version covers the date.

    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     codes_at(session, 131, date(2024, 1, 1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    helsestat.errors.NotFoundError: classification 131 is not in the reference database ...
    """
    day = at.date() if isinstance(at, datetime) else at
    version = _version_at(session, classification_id, day)
    rows = session.scalars(
        select(ClassificationCode)
        .where(
            ClassificationCode.version_id == version.id,
            ClassificationCode.valid_from <= day,
            or_(ClassificationCode.valid_to.is_(None), ClassificationCode.valid_to > day),
        )
        .order_by(ClassificationCode.level, ClassificationCode.code)
    ).all()
    return [CodeRow(r.code, r.name, r.level, r.parent_code, r.valid_from, r.valid_to) for r in rows]


# -- correspondences -------------------------------------------------------------------------


@dataclass(frozen=True)
class MapRow:
    """One pair of a correspondence; ``weight`` is the share of the source code that goes to
    the target (1 unless the code is split)."""

    source_code: str
    target_code: str
    weight: float = 1.0


@dataclass(frozen=True)
class CorrespondenceData:
    """A correspondence table from one version to another, to insert or replace."""

    id: int
    name: str
    source_version_id: int
    target_version_id: int
    pairs: tuple[MapRow, ...]


def _version_codes(session: Session, version_id: int, where: str) -> set[str]:
    if session.get(ClassificationVersion, version_id) is None:
        raise NotFoundError(
            "classification_version.not_found",
            f"{where}: version {version_id} is not in the reference database",
            hint="load the classification with that version first (load_classification)",
        )
    return set(
        session.scalars(
            select(ClassificationCode.code).where(ClassificationCode.version_id == version_id)
        )
    )


def load_correspondence(session: Session, data: CorrespondenceData) -> None:
    """Insert or replace a correspondence and all its pairs; every code must exist in its
    version. All or nothing.

    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> data = CorrespondenceData(1, "Kommuner 2020-2024", 10, 20, pairs=())
    >>> with session_factory(engine).begin() as session:
    ...     load_correspondence(session, data)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    helsestat.errors.NotFoundError: correspondence 1: version 10 is not in the reference ...
    """
    where = f"correspondence {data.id}"
    seen: set[tuple[str, str]] = set()
    for pair in data.pairs:
        key = (pair.source_code, pair.target_code)
        if key in seen:
            raise InputError(
                "input.invalid_correspondence",
                f"{where}: pair {key[0]!r} → {key[1]!r} appears twice",
                hint="list each pair once; split codes carry a weight below 1",
            )
        seen.add(key)
        if not 0 < pair.weight <= 1:
            raise InputError(
                "input.invalid_correspondence",
                f"{where}: pair {key[0]!r} → {key[1]!r} has weight {pair.weight}",
                hint="a weight is the share of the source code, above 0 and at most 1",
            )
    with _atomic(session, f"loading {where}"):
        sides = (
            ("source", data.source_version_id, [p.source_code for p in data.pairs]),
            ("target", data.target_version_id, [p.target_code for p in data.pairs]),
        )
        for side, version_id, wanted in sides:
            known = _version_codes(session, version_id, where)
            for code in wanted:
                if code not in known:
                    raise ReferenceError_(
                        "reference.unknown_code",
                        f"{where}: {side} code {code!r} is not a code of version {version_id}",
                        hint=f"pairs map codes of version {data.source_version_id} to codes "
                        f"of version {data.target_version_id}",
                    )
        row = session.get(Correspondence, data.id)
        if row is None:
            row = Correspondence(id=data.id)
            session.add(row)
        else:
            session.execute(
                delete(CorrespondenceMap).where(CorrespondenceMap.correspondence_id == data.id)
            )
        row.name = data.name
        row.source_version_id, row.target_version_id = (
            data.source_version_id,
            data.target_version_id,
        )
        session.flush()
        if data.pairs:
            session.execute(
                insert(CorrespondenceMap),
                [
                    {
                        "correspondence_id": data.id,
                        "source_code": p.source_code,
                        "target_code": p.target_code,
                        "weight": p.weight,
                    }
                    for p in data.pairs
                ],
            )


def correspondence_map(session: Session, correspondence_id: int) -> list[MapRow]:
    """The pairs of a correspondence, ordered by source and target code.

    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     correspondence_map(session, 1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    helsestat.errors.NotFoundError: correspondence 1 is not in the reference database ...
    """
    if session.get(Correspondence, correspondence_id) is None:
        raise NotFoundError(
            "correspondence.not_found",
            f"correspondence {correspondence_id} is not in the reference database",
            hint="load it first (load_correspondence)",
        )
    rows = session.scalars(
        select(CorrespondenceMap)
        .where(CorrespondenceMap.correspondence_id == correspondence_id)
        .order_by(CorrespondenceMap.source_code, CorrespondenceMap.target_code)
    ).all()
    return [MapRow(r.source_code, r.target_code, r.weight) for r in rows]


# -- audit -----------------------------------------------------------------------------------

JsonObject = Mapping[str, Any]


@dataclass(frozen=True)
class AuditEntry:
    """One change of a reference entity, as recorded."""

    id: int
    at: datetime
    actor: str
    entity: str
    entity_id: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _as_json(label: str, where: str, value: JsonObject | None) -> dict[str, Any] | None:
    """``value`` as it will read back from the database (tuples become lists, …)."""
    if value is None:
        return None
    try:
        loaded: dict[str, Any] = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InputError(
            "input.audit_not_json",
            f"{where}: '{label}' cannot be stored as JSON ({exc})",
            hint="pass plain dicts, lists, strings, finite numbers, booleans and None; "
            "write dates as ISO strings",
        ) from None
    return loaded


def record_audit(
    session: Session,
    actor: str,
    entity: str,
    entity_id: str | int,
    action: str,
    before: JsonObject | None,
    after: JsonObject | None,
    *,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry to the audit log (``at`` defaults to now, UTC) and return it.

    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine).begin() as session:
    ...     entry = record_audit(session, "kari", "unit", 4001, "rename",
    ...                          {"name": "Kir. avd."}, {"name": "Kirurgisk avdeling"})
    >>> entry.entity_id, entry.after
    ('4001', {'name': 'Kirurgisk avdeling'})
    """
    where = f"audit of {entity} {entity_id}"
    when = at if at is not None else datetime.now(UTC)
    if when.tzinfo is None:
        raise InputError(
            "input.naive_timestamp",
            f"{where}: the time {when.isoformat()} has no timezone",
            hint="pass an aware datetime, e.g. datetime.now(UTC)",
        )
    if not actor:
        raise InputError("input.missing_actor", f"{where}: no actor", hint="name who changed it")
    row = AuditLog(
        at=when,
        actor=actor,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        before=_as_json("before", where, before),
        after=_as_json("after", where, after),
    )
    with _atomic(session, f"recording {where}"):
        session.add(row)
    return AuditEntry(
        row.id, when.astimezone(UTC), actor, entity, row.entity_id, action, row.before, row.after
    )


def audit_trail(session: Session, entity: str, entity_id: str | int) -> list[AuditEntry]:
    """Every audit entry of one entity, oldest first.

    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     audit_trail(session, "unit", 4001)
    []
    """
    rows = session.scalars(
        select(AuditLog)
        .where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
        .order_by(AuditLog.at, AuditLog.id)
    ).all()
    return [
        AuditEntry(r.id, r.at, r.actor, r.entity, r.entity_id, r.action, r.before, r.after)
        for r in rows
    ]


__all__ = [
    "AuditEntry",
    "ClassificationData",
    "CodeData",
    "CodeRow",
    "CorrespondenceData",
    "JsonObject",
    "LevelData",
    "MapRow",
    "VersionData",
    "audit_trail",
    "codes_at",
    "correspondence_map",
    "create_engine_for",
    "downgrade",
    "load_classification",
    "load_correspondence",
    "mask_url",
    "migrate",
    "ping",
    "record_audit",
    "session_factory",
]
