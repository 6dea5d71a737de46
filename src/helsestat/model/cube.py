"""Cube specs: what to aggregate, independent of the engine that executes it.

A spec names *hierarchies* (each a list of levels, finest first), *measures* and *filters*.
A coarser level is derived from the next finer one by a rollup: the first ``n`` characters
(:class:`Prefix`: kommunenr ``0301`` → fylke ``03``; måned ``201805`` → år ``2018``), a lookup
table (:class:`Lookup`: kommune → opptaksområde), or the total (:class:`Total`: hele landet).
Every engine returns the same :class:`~helsestat.model.Cube` for the same spec and data.

>>> geo = Hierarchy("geo", (Level("kommune", column="kommunenr"), Level("fylke", rollup=Prefix(2)),
...                         Level("landet", rollup=Total())))
>>> spec = CubeSpec("demo", (geo,), (Measure("antall", "count"),))
>>> [g for g in spec.all_groupings()]
[('kommune',), ('fylke',), ('landet',)]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Prefix:
    """Roll up by keeping the first ``length`` characters of the finer level's value."""

    length: int


@dataclass(frozen=True)
class Lookup:
    """Roll up through a table of (finer value, coarser value) pairs. A finer value missing
    from the table rolls up to ``default``; with ``default=None`` the engine raises."""

    pairs: tuple[tuple[str, str], ...]
    default: str | None = None


@dataclass(frozen=True)
class Total:
    """Roll up everything into one total; the level has no output column."""


Rollup = Prefix | Lookup | Total


@dataclass(frozen=True)
class Level:
    """One level of a hierarchy. The finest level reads ``column`` from the data (output
    under ``name``); coarser levels carry the ``rollup`` from the level before them."""

    name: str
    column: str | None = None
    rollup: Rollup | None = None

    @property
    def is_total(self) -> bool:
        """True when this level is a grand total with no output column."""
        return isinstance(self.rollup, Total)


@dataclass(frozen=True)
class Hierarchy:
    """Levels from finest to coarsest, e.g. kommune → fylke → landet."""

    name: str
    levels: tuple[Level, ...]

    def __post_init__(self) -> None:
        if not self.levels or self.levels[0].column is None or self.levels[0].rollup is not None:
            raise ValueError(f"hierarchy {self.name!r}: the first level must read a column")
        for level in self.levels[1:]:
            if level.rollup is None or level.column is not None:
                raise ValueError(f"hierarchy {self.name!r}: level {level.name!r} needs a rollup")

    def level(self, name: str) -> Level:
        """The level called ``name``."""
        for level in self.levels:
            if level.name == name:
                return level
        raise KeyError(f"hierarchy {self.name!r} has no level {name!r}")

    def path_to(self, name: str) -> tuple[Level, ...]:
        """The levels from the finest up to and including ``name``."""
        names = [lv.name for lv in self.levels]
        return self.levels[: names.index(name) + 1]


MeasureKind = Literal["count", "sum", "count_distinct"]


@dataclass(frozen=True)
class Measure:
    """``count`` counts rows; ``sum`` adds ``column``; ``count_distinct`` counts distinct
    non-null values of ``column`` (e.g. persons), which is not additive over rollups."""

    name: str
    kind: MeasureKind
    column: str | None = None

    def __post_init__(self) -> None:
        if (self.kind == "count") != (self.column is None):
            raise ValueError(f"measure {self.name!r}: only 'count' goes without a column")

    @property
    def additive(self) -> bool:
        """True when the measure of a coarser cell is the sum of its finer cells."""
        return self.kind != "count_distinct"


FilterOp = Literal["in", "not_in", "ge", "le"]


@dataclass(frozen=True)
class Filter:
    """Keep rows where ``column`` is in / not in ``values``, or ≥ / ≤ ``values[0]``."""

    column: str
    op: FilterOp
    values: tuple[str | int | float, ...]


@dataclass(frozen=True)
class CubeSpec:
    """An aggregation: hierarchies × measures over filtered rows, for each grouping.

    ``groupings`` lists the level combinations to produce (one level name per hierarchy, in
    hierarchy order); empty means every combination.
    """

    name: str
    hierarchies: tuple[Hierarchy, ...]
    measures: tuple[Measure, ...]
    filters: tuple[Filter, ...] = ()
    groupings: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        for grouping in self.groupings:
            if len(grouping) != len(self.hierarchies):
                raise ValueError(
                    f"cube {self.name!r}: grouping {grouping} needs one level per hierarchy"
                )
            for hierarchy, level in zip(self.hierarchies, grouping, strict=True):
                hierarchy.level(level)

    def all_groupings(self) -> Iterator[tuple[str, ...]]:
        """The groupings to produce, in a stable order."""
        if self.groupings:
            yield from self.groupings
            return
        yield from itertools.product(*[[lv.name for lv in h.levels] for h in self.hierarchies])

    def output_columns(self, grouping: tuple[str, ...]) -> tuple[str, ...]:
        """The dimension columns of a grouping's table (total levels have none)."""
        return tuple(
            level
            for hierarchy, level in zip(self.hierarchies, grouping, strict=True)
            if not hierarchy.level(level).is_total
        )

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Every column of the data that the spec reads."""
        cols = [h.levels[0].column for h in self.hierarchies]
        cols += [m.column for m in self.measures if m.column]
        cols += [f.column for f in self.filters]
        return tuple(dict.fromkeys(c for c in cols if c))


__all__ = [
    "CubeSpec",
    "Filter",
    "Hierarchy",
    "Level",
    "Lookup",
    "Measure",
    "Prefix",
    "Rollup",
    "Total",
]
