"""Fixtures of the reference-registry tests: the store tests' PostgreSQL server and database
backends (loaded by path: ``tests`` is not a package), an app client, and the app served by
uvicorn on a free loopback port for clients that speak real HTTP (SSB's KLASS client)."""

from __future__ import annotations

import importlib.util
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

# Starlette >= 1.x warns (an error under filterwarnings=error) when its TestClient falls back
# to httpx; the one import that warns is made here (as in tests/api/conftest.py).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from helsestat.api import create_app
from helsestat.settings import Settings
from serve_process import serving

_STORE_CONFTEST = Path(__file__).parents[1] / "store" / "conftest.py"
_NAME = "_helsestat_tests_store_conftest"


def _load_store_fixtures():  # type: ignore[no-untyped-def]
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    spec = importlib.util.spec_from_file_location(_NAME, _STORE_CONFTEST)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


_store = _load_store_fixtures()
postgres_server = _store.postgres_server
postgres_url = _store.postgres_url
database_url = _store.database_url
engine = _store.engine
session = _store.session


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(demo_mode=True, data_dir=tmp_path_factory.mktemp("var"))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, in a thread; its base URL."""
    app = create_app(Settings(demo_mode=True, data_dir=tmp_path_factory.mktemp("var")))
    with serving(app) as base_url:
        yield base_url
