"""The catalogue with every published table: the data sources of the reference database
(:class:`~helsestat.reference.snapshot.Reference`) and one entry per table of every
statistic, generated from the statistics' declarations.

>>> from helsestat.reference.seed import packaged_reference
>>> cat = catalog(packaged_reference())
>>> cat.tables[0].identifier, cat.tables[0].source
('takstbruk/kommune/maned', 'KUHR')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from helsestat.reference.catalog import SOURCE_OF_KIND, Catalog, PublishedTable
from helsestat.reference.snapshot import Reference
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
            sources=SOURCE_OF_KIND.get(s.source_kind, ()),
            dimensions=tuple(s.dimensions(t)),
            measures=tuple(s.measures),
            rules_note=t.rules_note,
        )
        for s in statistics
        for t in s.tables
    )


def catalog(reference: Reference, statistics: Sequence[Statistic] = STATISTICS) -> Catalog:
    """The data sources of ``reference`` and the tables of ``statistics``."""
    return replace(reference.catalog, tables=published_tables(statistics))


__all__ = ["catalog", "published_tables"]
