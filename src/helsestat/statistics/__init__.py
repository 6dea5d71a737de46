"""The published statistics, one module each.

>>> [t.name for t in STATISTICS[0].tables][-1]
'takstbruk/landet/ar'
"""

from helsestat.statistics.base import Statistic, TableDef
from helsestat.statistics.catchment import CATCHMENT
from helsestat.statistics.npr import NPR_STATISTICS
from helsestat.statistics.sob import SOB
from helsestat.statistics.takstbruk import TAKSTBRUK

STATISTICS: tuple[Statistic, ...] = (TAKSTBRUK, SOB, CATCHMENT, *NPR_STATISTICS)

__all__ = ["STATISTICS", "Statistic", "TableDef"]
