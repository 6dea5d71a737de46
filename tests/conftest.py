"""Shared fixtures: demo-mode settings in a temporary data directory, the reference snapshot
and small synthetic extracts (SYNTHETIC DATA)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

from clear_text import scan_stored_rows
from helsestat.reference.holder import ReferenceHolder
from helsestat.reference.snapshot import Reference
from helsestat.settings import Settings
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_csv, write_parquet
from serve_process import serving

# A release a test builds is served from the test's next request on: the servers the suite
# starts look for a new release before every request (the default looks a tenth of a
# second later; tests/api/test_release_refresh.py tests that).
os.environ.setdefault("HELSESTAT_RELEASE_REFRESH_SECONDS", "0")

# Starlette >= 1.x wants the httpx2 package for its TestClient and warns (an error under
# filterwarnings=error) when it falls back to httpx: the one import that warns is made here,
# before any test module imports TestClient.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    import fastapi.testclient  # noqa: F401


@pytest.fixture(scope="session", autouse=True)
def no_identifier_stored_by_the_suite(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """After the session, every data directory the suite's ingests wrote (under the session's
    base temporary directory, one per pytest-xdist worker) holds no personal identifier in
    clear in its stored rows, quarantine, batch records and codebooks. A finding fails the
    session (an error at the teardown of its last test) and names file, column and rule."""
    yield
    findings = scan_stored_rows(tmp_path_factory.getbasetemp())
    assert findings == [], "identifiers in clear:\n" + "\n".join(findings[:50])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(demo_mode=True, data_dir=tmp_path / "var")


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """The reference snapshot tests validate and build with: the packaged files seeded into a
    new SQLite reference database and read back, as a first ``helsestat build`` does."""
    path = tmp_path_factory.mktemp("reference") / "reference.db"
    holder = ReferenceHolder(f"sqlite:///{path.as_posix()}")
    try:
        return holder.get()
    finally:
        holder.dispose()


@pytest.fixture(scope="session")
def claims_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("extracts") / "claims_small.csv"
    write_csv(generate_claims(6000, seed=7, bad_share=0.02), path)
    return path


@pytest.fixture(scope="session")
def claims_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("extracts") / "claims_small.parquet"
    write_parquet(generate_claims(6000, seed=7, bad_share=0.02), path)
    return path


@pytest.fixture
def serve() -> Callable[[FastAPI], AbstractContextManager[str]]:
    """``with serve(app) as base_url:`` runs ``app`` under uvicorn on a free loopback port in
    a thread (real HTTP for the API, browser and client tests)."""
    return serving
