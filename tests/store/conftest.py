"""Fixtures of the store tests: a real PostgreSQL server, and the two database backends.

``postgres_server`` (session scope) starts one PostgreSQL server per test process (so one per
pytest-xdist worker) from the binaries in /usr/lib/postgresql/<version>/bin, installed by
``make system-deps``. It never skips: when the binaries are missing, every test that needs
them fails and says so. initdb and postgres refuse to run as root, so as root they run as the
``postgres`` user, in a temp directory it owns. The server listens on 127.0.0.1 on a free port
(its unix socket stays in that directory), trusts local connections, runs without fsync, and
is stopped and deleted at the end of the session.

``postgres_url`` (function scope) creates a fresh database on that server for one test and
drops it afterwards. Tests that use it carry ``@pytest.mark.postgres``.

``database_url`` runs a test once on SQLite (a file under ``tmp_path``) and once on
PostgreSQL; ``engine`` and ``session`` build on it, on a migrated database.
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from helsestat.store.db.database import create_engine_for, migrate, session_factory

_INSTALL_HINT = "run `make system-deps` (Debian/Ubuntu: apt-get install postgresql)"
_START_ATTEMPTS = 5  # a free port can be taken by another worker between probe and bind

# Stops the server and deletes its directory once the test process is gone, even when it was
# killed (a CI timeout, kill -9) and the fixture's own teardown never ran.
_WATCHDOG = """
import os, shutil, subprocess, sys, time
pid, root, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
while True:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        break
    time.sleep(0.5)
subprocess.run(stop, capture_output=True, check=False)
shutil.rmtree(root, ignore_errors=True)
"""


def _bindir() -> Path:
    """The newest PostgreSQL bin directory on the machine (or the one on PATH)."""

    def usable(path: Path) -> bool:
        return all((path / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres"))

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in path.parent.name.split(".") if p.isdigit())

    found = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin") if usable(Path(p))]
    if found:
        return max(found, key=version)
    on_path = shutil.which("pg_ctl")
    if on_path and usable(Path(on_path).parent):
        return Path(on_path).parent
    pytest.fail(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
        f"/usr/lib/postgresql/*/bin or on PATH: {_INSTALL_HINT}",
        pytrace=False,
    )


def _as_postgres_user(argv: list[str]) -> list[str]:
    """``argv`` run as the ``postgres`` user when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return argv
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *argv]
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(argv)]


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _as_postgres_user(argv), cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class PostgresServer:
    """A running test server: trust authentication for the ``postgres`` superuser."""

    host: str
    port: int
    user: str = "postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for this test process; see the module docstring."""
    bindir = _bindir()
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail(
                "running as root, and there is no 'postgres' user to run the PostgreSQL "
                f"server as: {_INSTALL_HINT}",
                pytrace=False,
            )
    # Not pytest's tmp_path: its parent is private to root, and the server must reach it.
    root = Path(tempfile.mkdtemp(prefix="helsestat-pg-"))
    try:
        if os.geteuid() == 0:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        data, log = root / "data", root / "server.log"
        init = _run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            cwd=root,
        )  # fmt: skip
        if init.returncode != 0:
            pytest.fail(f"initdb failed in {root}:\n{init.stdout}{init.stderr}", pytrace=False)
        server: PostgresServer | None = None
        for _ in range(_START_ATTEMPTS):
            port = _free_port()
            options = (
                f"-h 127.0.0.1 -p {port} -k {root} -F "
                "-c full_page_writes=off -c synchronous_commit=off"
            )
            started = _run(
                [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                 "-w", "-t", "60", "start"],
                cwd=root,
            )  # fmt: skip
            if started.returncode == 0:
                server = PostgresServer("127.0.0.1", port)
                break
        if server is None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(
                f"PostgreSQL did not start ({bindir}):\n{started.stdout}{started.stderr}\n{tail}",
                pytrace=False,
            )
        stop = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
        watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(root),
             *_as_postgres_user(stop)],
            cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            yield server
        finally:
            _run(stop, cwd=root)
            watchdog.kill()
            watchdog.wait()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a fresh, empty database for this test on the session's server."""
    if request.node.get_closest_marker("postgres") is None:
        pytest.fail("a test that uses postgres_url must carry @pytest.mark.postgres")
    name = f"test_{uuid.uuid4().hex[:16]}"
    with postgres_server.admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield postgres_server.url(name)
    with postgres_server.admin() as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{(tmp_path / 'reference.db').as_posix()}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a migrated database of each backend."""
    engine = create_engine_for(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session
