"""Primary suppression rules: which cells may not be published on their own.

A rule looks at a finished table and returns a mask of the cells (rows) it suppresses. Rules
are plain values so a statistic can list them and the docs can print them. A rule may carry
a ``requirement``: how wide the attacker's interval around its cells must stay (full mode).

* counts: :class:`FrequencyRule` (``0 < count <= k``; zeros too when ``zeros=True``);
* magnitudes (amounts summed over contributors, e.g. refunds per treater), which need the
  largest contributions per cell (see :mod:`helsestat.protect.magnitude`):
  :class:`DominanceRule` ((n, k): the n largest exceed k % of the total),
  :class:`PPercentRule` (the runner-up could estimate the largest within p %) and
  :class:`ContributorsRule` (too few contributors);
* table design: :class:`MinimumPopulationRule` (areas with few inhabitants).

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
import pyarrow.compute as pc

from helsestat.protect.engine import Requirement


class Rule(Protocol):
    """A primary rule: a short label for the status column and a mask of suppressed cells."""

    @property
    def label(self) -> str: ...

    def apply(self, table: pa.Table) -> np.ndarray: ...


def _numbers(table: pa.Table, column: str) -> np.ndarray:
    values = np.asarray(table.column(column).to_numpy(zero_copy_only=False), dtype=np.float64)
    return np.nan_to_num(values, nan=0.0)


@dataclass(frozen=True)
class FrequencyRule:
    """Suppress cells whose count ``measure`` is between 1 and ``threshold``. Zeros are
    structural (nothing happened) and published, unless ``zeros=True``: then an empty cell
    is suppressed too (it would tell that nobody in the group had the attribute)."""

    measure: str
    threshold: int
    zeros: bool = False

    @property
    def label(self) -> str:
        return f"{self.measure}<={self.threshold}"

    def apply(self, table: pa.Table) -> np.ndarray:
        values = _numbers(table, self.measure)
        low = values >= 0 if self.zeros else values > 0
        return low & (values <= self.threshold)


@dataclass(frozen=True)
class MinimumPopulationRule:
    """Suppress cells of areas whose population is at most ``minimum`` (Helfo: kommune/måned
    only for kommuner with more than 10 000 inhabitants). ``population(area, year)`` gives the
    figure; ``year_column`` holds the cell's year. A table-design rule: its cells only need
    to be not exactly derivable, whatever the full-mode requirement."""

    area_column: str
    year_column: str
    minimum: int
    population: Callable[[str, int], int]

    requirement = Requirement()

    @property
    def label(self) -> str:
        return f"population<={self.minimum}"

    def apply(self, table: pa.Table) -> np.ndarray:
        areas = pc.cast(table.column(self.area_column), pa.string())
        years = pc.utf8_slice_codeunits(pc.cast(table.column(self.year_column), pa.string()), 0, 4)
        pairs = pa.table({"a": areas, "y": years})
        unique = pairs.group_by(["a", "y"]).aggregate([])
        small = {
            (a, y): self.population(str(a), int(str(y))) <= self.minimum
            for a, y in zip(
                unique.column("a").to_pylist(), unique.column("y").to_pylist(), strict=True
            )
        }
        return np.array(
            [small[(a, y)] for a, y in zip(areas.to_pylist(), years.to_pylist(), strict=True)],
            dtype=bool,
        )


@dataclass(frozen=True)
class DominanceRule:
    """The (n, k) dominance rule for magnitude tables: suppress a cell when its ``n`` largest
    contributions make up more than ``k`` % of its total. ``top`` names the columns holding
    the largest, second largest, … contribution of each cell (at least ``n`` of them).

    >>> import pyarrow as pa
    >>> t = pa.table({"kr": [100.0, 100.0], "kr_top1": [90.0, 50.0]})
    >>> DominanceRule("kr", 1, 80, ("kr_top1",)).apply(t).tolist()
    [True, False]
    """

    measure: str
    n: int
    k: float
    top: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"dominance({self.n},{self.k:g})"

    @property
    def requirement(self) -> Requirement:
        """The attacker must stay at least (100 − k) % of the value away (tau-Argus)."""
        return Requirement(range_percent=100.0 - self.k)

    def apply(self, table: pa.Table) -> np.ndarray:
        if len(self.top) < self.n:
            raise ValueError(f"dominance({self.n},{self.k}) needs {self.n} top columns")
        total = np.abs(_numbers(table, self.measure))
        largest = sum(
            (np.abs(_numbers(table, c)) for c in self.top[: self.n]), np.zeros(len(total))
        )
        return np.asarray((total > 0) & (largest > self.k / 100.0 * total), dtype=bool)


@dataclass(frozen=True)
class PPercentRule:
    """The p % rule: suppress a cell when the second largest contributor could estimate the
    largest contribution to within ``p`` % (``total − top1 − top2 < p/100 · top1``).

    >>> import pyarrow as pa
    >>> t = pa.table({"kr": [100.0, 100.0], "a": [60.0, 40.0], "b": [35.0, 30.0]})
    >>> PPercentRule("kr", 10, "a", "b").apply(t).tolist()
    [True, False]
    """

    measure: str
    p: float
    top1: str
    top2: str

    @property
    def label(self) -> str:
        return f"p%({self.p:g})"

    @property
    def requirement(self) -> Requirement:
        """The interval must be at least p % of the value wide."""
        return Requirement(range_percent=self.p)

    def apply(self, table: pa.Table) -> np.ndarray:
        total = np.abs(_numbers(table, self.measure))
        x1 = np.abs(_numbers(table, self.top1))
        x2 = np.abs(_numbers(table, self.top2))
        return np.asarray((x1 > 0) & (total - x1 - x2 < self.p / 100.0 * x1), dtype=bool)


@dataclass(frozen=True)
class ContributorsRule:
    """Suppress cells with between 1 and ``maximum`` contributors (GaussSuppression's
    ``SuppressFewContributors``); ``column`` holds the number of distinct contributors.

    >>> import pyarrow as pa
    >>> ContributorsRule("treaters", 2).apply(pa.table({"treaters": [1, 2, 3, 0]})).tolist()
    [True, True, False, False]
    """

    column: str
    maximum: int

    @property
    def label(self) -> str:
        return f"contributors<={self.maximum}"

    def apply(self, table: pa.Table) -> np.ndarray:
        n = _numbers(table, self.column)
        return (n > 0) & (n <= self.maximum)


def requirement_of(rule: Rule, default: Requirement) -> Requirement:
    """The interval requirement of a rule's cells: its own, or ``default``.

    >>> requirement_of(FrequencyRule("n", 5), Requirement(range_min=2)).range_min
    2
    """
    own = getattr(rule, "requirement", None)
    return own if isinstance(own, Requirement) else default


__all__ = [
    "ContributorsRule",
    "DominanceRule",
    "FrequencyRule",
    "MinimumPopulationRule",
    "PPercentRule",
    "Rule",
    "requirement_of",
]
