"""Fixtures of the dashboard tests: a lake with one release, the app, and a live server."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from starlette.exceptions import StarletteDeprecationWarning

from helsestat.model import ProtectedTable
from helsestat.settings import Settings
from lakes import publish_tables

# Starlette >= 1.x wants httpx2 for its TestClient and warns (an error here) on httpx;
# import it once, quietly, before the test modules do (see tests/api/conftest.py).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from helsestat.api import create_app


def takstbruk_by_month() -> ProtectedTable:
    """Claims by month and fylke: a time series with one primary and one secondary cell."""
    months = ["202401", "202402", "202403"]
    return ProtectedTable(
        name="takstbruk/fylke/maned",
        title="Takstbruk by fylke and month",
        dimensions=("maned", "fylke"),
        measures=("antall",),
        table=pa.table(
            {
                "maned": months * 2,
                "fylke": ["03"] * 3 + ["46"] * 3,
                "antall": pa.array([5120, 4980, 5230, 2210, None, None], pa.int64()),
                "status": ["published"] * 4 + ["primary", "secondary"],
                "status_rule": ["", "", "", "", "antall <= 5", "protects 46/202402"],
            }
        ),
        notes=("Synthetic demo numbers",),
    )


def units() -> ProtectedTable:
    """Cases by health region: a categorical (bar chart) table."""
    return ProtectedTable(
        name="speshelse/rhf",
        title="Cases by regional health authority",
        dimensions=("rhf",),
        measures=("pasienter",),
        table=pa.table(
            {
                "rhf": ["Helse Nord", "Helse Midt-Norge", "Helse Vest", "Helse Sør-Øst"],
                "pasienter": pa.array([41000, 52000, 88000, 240000], pa.int64()),
                "status": ["published"] * 4,
                "status_rule": [""] * 4,
            }
        ),
    )


def publish_release(data_dir: Path, release_id: str = "r1") -> None:
    publish_tables(data_dir, release_id, [takstbruk_by_month(), units()])


@pytest.fixture
def published(settings: Settings) -> Settings:
    """Settings of a lake whose current release ``r1`` holds two tables."""
    publish_release(settings.data_dir)
    return settings


@pytest.fixture
def client(published: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(published)) as client:
        yield client
