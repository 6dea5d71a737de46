"""Primary suppression rules: which cells may not be published on their own.

A rule looks at a finished table and returns a mask of the cells (rows) it suppresses. Rules
are plain values so a statistic can list them and the docs can print them.

>>> import pyarrow as pa
>>> rule = FrequencyRule("antall", 3)
>>> rule.apply(pa.table({"antall": [1, 3, 4, 0]})).tolist()
[True, True, False, False]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa


class Rule(Protocol):
    """A primary rule: a short label for the status column and a mask of suppressed cells."""

    @property
    def label(self) -> str: ...

    def apply(self, table: pa.Table) -> np.ndarray: ...


@dataclass(frozen=True)
class FrequencyRule:
    """Suppress cells whose count ``measure`` is between 1 and ``threshold``. Zeros are
    structural (nothing happened) and published; a statistic that must hide zeros says so."""

    measure: str
    threshold: int

    @property
    def label(self) -> str:
        return f"{self.measure}<={self.threshold}"

    def apply(self, table: pa.Table) -> np.ndarray:
        values = np.asarray(
            table.column(self.measure).to_numpy(zero_copy_only=False), dtype=np.float64
        )
        values = np.nan_to_num(values, nan=0.0)
        return (values > 0) & (values <= self.threshold)


@dataclass(frozen=True)
class MinimumPopulationRule:
    """Suppress cells of areas whose population is at most ``minimum`` (Helfo: kommune/måned
    only for kommuner with more than 10 000 inhabitants). ``population(area, year)`` gives the
    figure; ``year_column`` holds the cell's year."""

    area_column: str
    year_column: str
    minimum: int
    population: Callable[[str, int], int]

    @property
    def label(self) -> str:
        return f"population<={self.minimum}"

    def apply(self, table: pa.Table) -> np.ndarray:
        areas = table.column(self.area_column).to_pylist()
        years = table.column(self.year_column).to_pylist()
        cache: dict[tuple[str, int], bool] = {}
        out = np.zeros(table.num_rows, dtype=bool)
        for i, (area, year) in enumerate(zip(areas, years, strict=True)):
            key = (str(area), int(str(year)[:4]))
            if key not in cache:
                cache[key] = self.population(*key) <= self.minimum
            out[i] = cache[key]
        return out
