"""A lake with one release of the catchment-area statistic (opptak), built from a SYNTHETIC
population by grunnkrets: the data behind the opptak API and dashboard tests."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from helsestat.aggregate import DuckDBEngine
from helsestat.reference.seed import packaged_reference
from helsestat.settings import Settings
from helsestat.statistics.catchment import CATCHMENT, build_data
from helsestat.store.lake import Lake
from helsestat.synth.catchment import generate_population, population_table

#: Two kommune structures: 2019 (Tysfjord split by grunnkrets) and 2024.
YEARS = (2019, 2024)


def catchment_release(root: Path, years: tuple[int, ...] = YEARS) -> Settings:
    """Demo-mode settings of a data directory under ``root`` whose current release holds
    the statistic built from the population of ``years``."""
    settings = Settings(demo_mode=True, data_dir=root / "var")
    settings.data_dir.mkdir(parents=True)
    extract = root / "befolkning.parquet"
    pq.write_table(population_table(generate_population(years, seed=9)), extract)
    lake = Lake(settings.data_dir)
    with DuckDBEngine(threads=2) as duck, lake.release("r1") as release:
        for name, table in build_data([extract], packaged_reference(), duck).items():
            release.add_data(f"opptak/{name}", table)
        for tdef in CATCHMENT.tables:
            release.register_computed(
                tdef.name, tdef.title, CATCHMENT.dimensions(tdef), CATCHMENT.measures
            )
    return settings
