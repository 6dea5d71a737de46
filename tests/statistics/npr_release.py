"""A data directory whose current release holds the NPR statistic, built in compat mode from
the SYNTHETIC stored episodes of :mod:`npr_lake`: the data behind the API and dashboard
tests."""

from __future__ import annotations

from pathlib import Path

from npr_lake import npr_lake, npr_reference

from helsestat.aggregate import DuckDBEngine
from helsestat.build import build
from helsestat.settings import Settings
from helsestat.statistics.npr import NPR_STATISTICS


def npr_release(root: Path, rows: int = 4000) -> Settings:
    """Demo-mode settings of a data directory under ``root`` with one compat release of
    every NPR table, its behandlingssteder named by the unit registry of
    :func:`npr_lake.npr_reference`."""
    lake, episodes = npr_lake(root, rows)
    with DuckDBEngine(threads=2) as engine:
        build(
            lake,
            engine,
            mode="compat",
            threshold=3,
            reference=npr_reference(episodes),
            statistics=NPR_STATISTICS,
        )
    return Settings(demo_mode=True, data_dir=lake.root)
