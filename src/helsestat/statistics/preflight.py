"""Preflight of the production runs for a statistics year (seed 000: "Før noen av
produksjonsløpene kan kjøres må alle kodelistene … være oppdatert for statistikkåret"): what
each statistic declares it needs (:attr:`~helsestat.statistics.base.Statistic.needs`), and
SSB's specialist-health run of seed 000, checked by
:func:`helsestat.reference.preflight.check_runs` against the reference passed in (the
reference database's content).

>>> from helsestat.reference.seed import packaged_reference
>>> report = preflight(2025, packaged_reference())
>>> report.ok, len(report.failures)
(True, 0)
>>> [c.subject for c in preflight(2014, packaged_reference(), runs=("speshelse",)).failures][0]
'KLASS 603 Standard for offentlige helseforetak'
"""

from __future__ import annotations

from helsestat.errors import ReferenceError_
from helsestat.reference.preflight import Needs, PreflightReport, check_runs
from helsestat.reference.snapshot import Reference
from helsestat.statistics import STATISTICS

SPESHELSE = "speshelse"
#: SSB's specialist-health production (seed 000), whose code lists helsestat keeps even
#: before it publishes that statistic.
SPESHELSE_NEEDS = Needs(
    classifications=(603, 604, 605, 610, 602, 606, 612, 628, 639, 608, 609, 629, 630, 631, 632),
    correspondences=(
        (610, 6),
        (612, 610),
        (628, 7),
        (639, 207),
        (629, 131),
        (630, 131),
        (631, 131),
        (632, 131),
    ),
    # A catchment area made of bydeler (Oslo) maps to KLASS 103, not to a kommune of 131.
    covered_together=((629, 131, 103), (630, 131, 103), (631, 131, 103), (632, 131, 103)),
)
#: What each production run needs: every statistic's own declaration, then speshelse.
DEPENDENCIES: dict[str, Needs | None] = {
    **{s.name: s.needs for s in STATISTICS},
    SPESHELSE: SPESHELSE_NEEDS,
}


def preflight(
    year: int, reference: Reference, *, runs: tuple[str, ...] | None = None
) -> PreflightReport:
    """Check every dependency of the production runs (all, or ``runs``) for ``year``
    against ``reference``."""
    names = list(DEPENDENCIES)
    if runs:
        unknown = [r for r in runs if r not in DEPENDENCIES]
        if unknown:
            raise ReferenceError_(
                "reference.unknown_code",
                f"no production run named {', '.join(unknown)}",
                hint=f"runs: {', '.join(names)}",
            )
        names = list(runs)
    return check_runs(year, {run: DEPENDENCIES[run] for run in names}, reference)


__all__ = ["DEPENDENCIES", "SPESHELSE", "preflight"]
