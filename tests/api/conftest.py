"""Fixtures of the API tests: a lake in ``tmp_path``, releases built from hand-made
protected tables, and ``TestClient(create_app(settings))``."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence

import pyarrow as pa
import pytest
from starlette.exceptions import StarletteDeprecationWarning

# Starlette >= 1.x wants the httpx2 package for its TestClient and warns (an error under
# filterwarnings=error) when it falls back to httpx. Until httpx2 is a dev dependency, the
# one import that warns is made here, before any test module imports TestClient.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from helsestat.api import create_app
from helsestat.model import ProtectedTable
from helsestat.settings import Settings
from lakes import publish_tables

TAKSTBRUK = "takstbruk/kommune/aar"
SOB = "sob/lan"


def takstbruk(antall_0301_2024: int = 1500) -> ProtectedTable:
    """Claims by kommune and year: two published, one primary and one secondary cell."""
    return ProtectedTable(
        name=TAKSTBRUK,
        title="Takstbruk by kommune and year",
        dimensions=("kommune", "aar"),
        measures=("antall", "refusjon"),
        table=pa.table(
            {
                "kommune": ["0301", "0301", "1103", "1103", "4601"],
                "aar": ["2023", "2024", "2023", "2024", "2024"],
                "antall": pa.array([1234, antall_0301_2024, None, None, 880], pa.int64()),
                "refusjon": pa.array([56789.5, 61000.25, None, None, 40100.0], pa.float64()),
                "status": ["published", "published", "primary", "secondary", "published"],
                "status_rule": ["", "", "antall <= 5", "protects 1103/2023", ""],
            }
        ),
        notes=("Helfo compatibility rules",),
    )


def sob() -> ProtectedTable:
    """Treatment programme cases by län: one dimension, one measure."""
    return ProtectedTable(
        name=SOB,
        title="Stöd och behandling by län",
        dimensions=("lan",),
        measures=("personer",),
        table=pa.table(
            {
                "lan": ["01", "12", "14"],
                "personer": pa.array([420, None, 77], pa.int64()),
                "status": ["published", "primary", "published"],
                "status_rule": ["", "personer <= 10", ""],
            }
        ),
    )


@pytest.fixture
def empty_client(settings: Settings) -> Iterator[TestClient]:
    """A client of an app whose lake has no release yet."""
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def published(settings: Settings) -> Settings:
    """The settings of a lake whose current release ``r1`` holds both sample tables."""
    publish_tables(settings.data_dir, "r1", [takstbruk(), sob()])
    return settings


@pytest.fixture
def client(published: Settings) -> Iterator[TestClient]:
    """A client of an app serving release ``r1`` (both sample tables)."""
    with TestClient(create_app(published)) as client:
        yield client


@pytest.fixture
def build(settings: Settings) -> Callable[[str, Sequence[ProtectedTable]], None]:
    """``build(release_id, tables)`` publishes a release into the test lake."""
    return lambda release_id, tables: publish_tables(settings.data_dir, release_id, tables)


@pytest.fixture(scope="session")
def make_takstbruk() -> Callable[..., ProtectedTable]:
    return takstbruk
