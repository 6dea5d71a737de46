"""What the 1177 Stöd och behandling statistic counts, as Inera defines it (seed 003): the
range cube behind the twelve tables, the weekdays, kön and the age groups.

An ärende of type ``Process`` is *startat* in the month (and on the weekday) of its first
``Inprogress`` event and *avslutat* at its first ``Done`` after that; it is *pågående* at a
month end when started on or before that day and not finished by then (a pause changes
nothing; one started and finished in the same month is never pågående at a month end).
Re-opening: events after the first ``Done`` change nothing — the ärende stays counted as
started once and finished once.

The cube's paths: geography (län of the vårdgivare as the unit registry states it *now*,
vårdgivare, vårdenhet) and service (process, moment). Flows per month: started and finished
ärenden, both per weekday (Monday = 1), and finished per avslutningsorsak (one flow per
reason, ``avslutade_orsak_<i>``, the reasons listed with the release). Distinct measures:

- ``invanare``: known vardtagare of the ärenden started in the month;
- ``behandlare``: treaters (HSA-ids of staff) on the ärenden started or finished in the
  month — the ärenden a row counts;
- ``vardtagare``: vardtagare with any ``Process`` event in the month, per kön as recorded;
  ``vardtagare_alla`` the same whatever their kön (a person recorded with two kön in a
  range counts once there, once in each kön);
- ``vardtagare_alder``: the same per kön and age group (:data:`AGE_GROUPS`) as recorded (a
  person whose age group changed within a range counts in each).

>>> SPEC.paths
(('lan', 'vardgivare', 'vardenhet'), ('process', 'moment'))
>>> age_group(17), age_group(18), age_group(None)
('0-17', '18-24', 'okänd')
"""

from __future__ import annotations

from typing import Final

from helsestat.aggregate.ranges import Distinct, RangeSpec

GEO: Final = ("lan", "vardgivare", "vardenhet")
SERVICE: Final = ("process", "moment")
WEEKDAYS: Final = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
#: Age groups of care recipients, as recorded (whole years); a missing age is ``okänd``.
AGE_GROUPS: Final = (
    (0, 17, "0-17"),
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, 74, "65-74"),
    (75, 200, "75+"),
)
UNKNOWN_AGE: Final = "okänd"
#: kön as recorded in SOB (``K``, ``M``); empty is ``okänt``.
KON: Final = {"K": "kvinna", "M": "man", "": "okänt"}
#: avslutningsorsak before it was recorded (March 2022), or left empty.
UNKNOWN_REASON: Final = "Okänd"
#: Persons are shown only when more than this many (seed 003: "visas bara antal som
#: överstiger 10st").
PERSON_THRESHOLD: Final = 10
FLOWS: Final = (
    "startade",
    "avslutade",
    *(f"startade_dag{d}" for d in range(1, 8)),
    *(f"avslutade_dag{d}" for d in range(1, 8)),
)
DISTINCT: Final = (
    Distinct("invanare"),
    Distinct("behandlare"),
    Distinct("vardtagare", ("kon",)),
    Distinct("vardtagare_alla"),
    Distinct("vardtagare_alder", ("kon", "aldersgrupp")),
)


def reason_flow(index: int) -> str:
    """The flow counting ärenden finished for the ``index``-th avslutningsorsak.

    >>> reason_flow(2)
    'avslutade_orsak_2'
    """
    return f"avslutade_orsak_{index}"


def spec_for(reasons: int) -> RangeSpec:
    """The range cube of a release with ``reasons`` avslutningsorsaker."""
    return RangeSpec(
        "sob",
        (GEO, SERVICE),
        (*FLOWS, *(reason_flow(i) for i in range(reasons))),
        DISTINCT,
    )


SPEC: Final = spec_for(0)


def age_group(age: int | None) -> str:
    """The age group of an age in whole years (:data:`AGE_GROUPS`)."""
    if age is None or age < 0:
        return UNKNOWN_AGE
    return next(label for low, high, label in AGE_GROUPS if low <= age <= high)


__all__ = [
    "AGE_GROUPS",
    "DISTINCT",
    "FLOWS",
    "GEO",
    "KON",
    "PERSON_THRESHOLD",
    "SERVICE",
    "SPEC",
    "UNKNOWN_AGE",
    "UNKNOWN_REASON",
    "WEEKDAYS",
    "age_group",
    "reason_flow",
    "spec_for",
]
