"""The catalogue with every published table: the data sources of
:mod:`helsestat.reference.catalog` and one entry per table of every statistic, generated from
the statistics' declarations.

>>> cat = load_catalog()
>>> cat.tables[0].identifier, cat.tables[0].source
('takstbruk/kommune/maned', 'KUHR')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache

from helsestat.reference.catalog import (
    SOURCE_OF_KIND,
    Catalog,
    PublishedTable,
    load_data_sources,
)
from helsestat.statistics import STATISTICS, Statistic


def published_tables(statistics: Sequence[Statistic] = STATISTICS) -> tuple[PublishedTable, ...]:
    """Every table of every statistic, from the statistics' definitions."""
    return tuple(
        PublishedTable(
            identifier=t.name,
            title=t.title,
            statistic=s.name,
            statistic_title=s.title,
            description=s.description,
            source=SOURCE_OF_KIND.get(s.source_kind),
            dimensions=tuple(s.dimensions(t)),
            measures=tuple(s.measures),
            rules_note=t.rules_note,
        )
        for s in statistics
        for t in s.tables
    )


def load_catalog(statistics: Sequence[Statistic] = STATISTICS) -> Catalog:
    """The shipped catalogue and the tables of ``statistics``."""
    if tuple(statistics) == STATISTICS:
        return _default_catalog()
    return replace(load_data_sources(), tables=published_tables(statistics))


@cache
def _default_catalog() -> Catalog:
    return replace(load_data_sources(), tables=published_tables())


__all__ = ["load_catalog", "published_tables"]
