"""A cube table by period: which period a partition's rows fall in at a grouping's time
level, and which columns put per-period pieces back together as the whole table.

A grouping's table (rows sorted by its dimension columns, nulls last) can be computed one
period at a time when the partitions of the data are periods: the cells of 2024-01, or of
2024, come only from the partitions in that period. Concatenated in period order, the pieces
are sorted by (period, the other columns); a stable sort on the columns *before* the time
column (:func:`leading_columns`) restores the table's own order
(:func:`helsestat.store.lake.parts.merge_parts`).
"""

from __future__ import annotations

from helsestat import model
from helsestat.model.cube import CubeSpec, Hierarchy, Lookup, Prefix


def level_index(spec: CubeSpec, hierarchy: int, grouping: model.Grouping) -> int | None:
    """The index of ``grouping``'s level in the ``hierarchy``-th hierarchy; None for its
    total (the grouping is not split by that hierarchy).

    >>> from helsestat.model.cube import Level, Measure, Total
    >>> tid = Hierarchy("tid", (Level("maned", column="maned"), Level("ar", rollup=Prefix(4)),
    ...                         Level("alle", rollup=Total())))
    >>> spec = CubeSpec("demo", (tid,), (Measure("n", "count"),))
    >>> level_index(spec, 0, ("ar",)), level_index(spec, 0, ("alle",))
    (1, None)
    """
    levels = spec.hierarchies[hierarchy].levels
    index = [level.name for level in levels].index(grouping[hierarchy])
    return None if levels[index].is_total else index


def roll_value(hierarchy: Hierarchy, level: int, value: str | None) -> str | None:
    """A finest-level ``value`` rolled up to the ``level``-th level of ``hierarchy`` (a
    value a lookup does not map rolls up to its default, and null stays null).

    >>> from helsestat.model.cube import Level
    >>> tid = Hierarchy("tid", (Level("maned", column="maned"), Level("ar", rollup=Prefix(4))))
    >>> roll_value(tid, 1, "202401"), roll_value(tid, 0, "202401")
    ('2024', '202401')
    """
    for step in hierarchy.levels[1 : level + 1]:
        if value is None:
            return None
        if isinstance(step.rollup, Prefix):
            value = value[: step.rollup.length]
        elif isinstance(step.rollup, Lookup):
            value = dict(step.rollup.pairs).get(value, step.rollup.default)
    return value


def leading_columns(spec: CubeSpec, hierarchy: int, grouping: model.Grouping) -> tuple[str, ...]:
    """The dimension columns of ``grouping``'s table that come before the ``hierarchy``-th
    hierarchy's column: the ones a table of per-period pieces is merged on.

    >>> from helsestat.model.cube import Level, Measure
    >>> geo = Hierarchy("geo", (Level("kommune", column="k"),))
    >>> tid = Hierarchy("tid", (Level("maned", column="m"),))
    >>> spec = CubeSpec("demo", (geo, tid), (Measure("n", "count"),))
    >>> leading_columns(spec, 1, ("kommune", "maned"))
    ('kommune',)
    """
    before = CubeSpec(spec.name, spec.hierarchies[:hierarchy], ())
    return before.output_columns(grouping[:hierarchy])


__all__ = [
    "leading_columns",
    "level_index",
    "roll_value",
]
