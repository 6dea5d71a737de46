"""Fixtures of the unit-registry tests.

The store tests' real PostgreSQL server and the two database backends (``postgres_server``,
``postgres_url``, ``database_url``, ``engine``, ``session``) are reused from
``tests/store/conftest.py``, loaded by path under a module name of its own: ``tests`` is not
an importable package, and ``pytest_plugins`` is refused outside the top-level conftest. Each
pytest-xdist worker imports it once, so each worker starts its own server, as the store tests
do. Added here: a predictable clock, and a SQLite file with the demo tree for read-only tests.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy.engine import Engine
from starlette.exceptions import StarletteDeprecationWarning

# Starlette >= 1.x warns (an error here) when TestClient falls back to httpx; import it once,
# quietly, before the test modules do (as tests/api/conftest.py does).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient  # noqa: F401

from helsestat.store.db.database import create_engine_for, migrate, session_factory
from helsestat.synth.units import load_demo

_STORE_CONFTEST = Path(__file__).parents[1] / "store" / "conftest.py"
_NAME = "_helsestat_tests_store_conftest"


def _store_fixtures() -> ModuleType:
    if _NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(_NAME, _STORE_CONFTEST)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module
        spec.loader.exec_module(module)
    return sys.modules[_NAME]


_store = _store_fixtures()
postgres_server = _store.postgres_server
postgres_url = _store.postgres_url
database_url = _store.database_url
engine = _store.engine
session = _store.session

#: The demo tree the read-only tests share: five hospital trusts (two RHFs), two län.
DEMO = {"seed": 11, "hf_limit": 5, "lan_limit": 2}


class Clock:
    """A clock that moves one second per call from 2026-01-01 UTC: recorded_at values are
    distinct and predictable."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file with the demo tree loaded (shared by a module's tests; read-only)."""
    path = tmp_path_factory.mktemp("units") / "reference.db"
    url = f"sqlite:///{path.as_posix()}"
    demo = create_engine_for(url)
    migrate(demo)
    with session_factory(demo).begin() as s:
        load_demo(s, seed=DEMO["seed"], hf_limit=DEMO["hf_limit"], lan_limit=DEMO["lan_limit"])
    demo.dispose()
    return url


@pytest.fixture(scope="module")
def demo_engine(demo_url: str) -> Iterator[Engine]:
    shared = create_engine_for(demo_url)
    yield shared
    shared.dispose()
