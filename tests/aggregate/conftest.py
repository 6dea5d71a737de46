"""Fixtures of the aggregate tests: synthetic extracts written once per session, a DuckDB
engine per test and one Spark engine for the whole session (it takes seconds to start)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest

from helsestat.aggregate import DuckDBEngine

from ._data import claims, write

if TYPE_CHECKING:
    from helsestat.aggregate import SparkEngine


@pytest.fixture(scope="session")
def extract(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[pa.Table]]:
    """Three Parquet files of a few thousand claims each (2018 and 2019), and their rows."""
    root = tmp_path_factory.mktemp("extract")
    tables = [claims(1500, seed=1), claims(2000, seed=2), claims(1200, seed=3)]
    files = [write(t, root / f"part-{i}.parquet") for i, t in enumerate(tables)]
    return files, tables


@pytest.fixture
def duckdb_engine() -> Iterator[DuckDBEngine]:
    with DuckDBEngine(threads=2, memory_limit="1GB") as engine:
        yield engine


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[SparkEngine]:
    """One local Spark session for every Spark test (it takes seconds to start)."""
    from helsestat.aggregate import SparkEngine

    with SparkEngine(master="local[2]", shuffle_partitions=2) as engine:
        yield engine
