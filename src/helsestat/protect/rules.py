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

import dataclasses
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
        # One population lookup per distinct (area, year) pair, then a take per row: the
        # pairs are few (kommuner × years) next to the cells.
        area_codes, areas = _encoded(table.column(self.area_column))
        year_codes, years = _encoded(table.column(self.year_column))
        pair = area_codes * len(years) + year_codes
        present = np.zeros(len(areas) * len(years), dtype=bool)
        present[pair] = True
        small = np.zeros(len(present), dtype=bool)
        for index in np.flatnonzero(present).tolist():
            area, year = areas[index // len(years)], years[index % len(years)]
            small[index] = self.population(str(area), int(str(year)[:4])) <= self.minimum
        return np.asarray(small[pair], dtype=bool)


def _encoded(column: pa.ChunkedArray) -> tuple[np.ndarray, list[object]]:
    """Codes of a column's values (int64) and the values they stand for (null included)."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    values = encoded.dictionary.to_pylist()
    codes = encoded.indices.fill_null(len(values)).to_numpy(zero_copy_only=False)
    return np.asarray(codes, dtype=np.int64), [*values, None]


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


#: Rules whose verdict on a cell depends on that cell's row alone (its values, and for the
#: population rule the reference data): a table's protection is then the union of the
#: protection of any split of its rows, which lets a build reuse protected pieces.
CELL_RULES = (FrequencyRule, MinimumPopulationRule, DominanceRule, PPercentRule, ContributorsRule)


def is_cell_local(rule: Rule) -> bool:
    """True when ``rule`` judges each cell by its own row (see :data:`CELL_RULES`).

    >>> is_cell_local(FrequencyRule("n", 3))
    True
    """
    return type(rule) in CELL_RULES


def rule_fingerprint(rule: Rule) -> str:
    """A text that changes when the rule would judge a cell differently: its class and
    fields, a function field named by its module and qualified name (the data a function
    reads is versioned by the caller, e.g. the reference data's checksum).

    >>> rule_fingerprint(FrequencyRule("n", 3))
    "FrequencyRule(measure='n', threshold=3, zeros=False)"
    """
    if not dataclasses.is_dataclass(rule):
        return repr(rule)
    parts = []
    for f in dataclasses.fields(rule):
        value = getattr(rule, f.name)
        shown = (
            f"{value.__module__}.{value.__qualname__}"
            if callable(value) and hasattr(value, "__qualname__")
            else repr(value)
        )
        parts.append(f"{f.name}={shown}")
    return f"{type(rule).__qualname__}({', '.join(parts)})"


__all__ = [
    "CELL_RULES",
    "ContributorsRule",
    "DominanceRule",
    "FrequencyRule",
    "MinimumPopulationRule",
    "PPercentRule",
    "Rule",
    "is_cell_local",
    "requirement_of",
    "rule_fingerprint",
]
