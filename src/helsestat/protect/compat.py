"""The documented rules of the public APIs helsestat replaces, as primary rules.

Compatibility mode applies exactly these, table by table, so a published table matches the
API it replaces; full mode adds the frequency rule everywhere and protects linked tables
together.

>>> helfo_kommune_ar("sum_antall_takst").label
'sum_antall_takst<=5'
>>> inera_persons("antal_personer").label
'antal_personer<=10'
"""

from __future__ import annotations

from collections.abc import Callable

from helsestat.protect.rules import FrequencyRule, MinimumPopulationRule

#: Helfo open data, aggregert takstbruk, kommune/år: "only takster with count > 5".
HELFO_MIN_COUNT = 5
#: Helfo open data, kommune/måned: "only kommuner with more than 10 000 inhabitants".
HELFO_MIN_POPULATION = 10_000
#: Inera (1177 Stöd och behandling): "visas bara antal som överstiger 10".
INERA_MIN_PERSONS = 10


def helfo_kommune_ar(measure: str) -> FrequencyRule:
    """Helfo kommune/år: a takst is shown only when its count is greater than 5.

    >>> helfo_kommune_ar("n").threshold
    5
    """
    return FrequencyRule(measure, HELFO_MIN_COUNT)


def helfo_kommune_maned(
    area_column: str, year_column: str, population: Callable[[str, int], int]
) -> MinimumPopulationRule:
    """Helfo kommune/måned: only kommuner with more than 10 000 inhabitants.

    >>> helfo_kommune_maned("kommune", "ar", lambda k, y: 5_000).label
    'population<=10000'
    """
    return MinimumPopulationRule(area_column, year_column, HELFO_MIN_POPULATION, population)


def inera_persons(measure: str) -> FrequencyRule:
    """Inera: a number of persons is shown only when it is greater than 10.

    >>> inera_persons("personer").threshold
    10
    """
    return FrequencyRule(measure, INERA_MIN_PERSONS)


__all__ = [
    "HELFO_MIN_COUNT",
    "HELFO_MIN_POPULATION",
    "INERA_MIN_PERSONS",
    "helfo_kommune_ar",
    "helfo_kommune_maned",
    "inera_persons",
]
