"""Aktivitet i spesialisthelsetjenesten: the NPR-like activity statistic, from the stored
``npr_episode`` rows (one per episode — døgnopphold, dagbehandling or poliklinisk kontakt —
placed at ingest on its behandlingssted, HF, RHF and sector as the unit registry stood on
the date of ``ut``, and given the patient's catchment area of that year).

One cube definition (:mod:`.cube`) runs on DuckDB and on Spark. It makes three families of
tables, each a statistic of its own so that full protection links the tables of a family:

* activity (:mod:`.activity`, ``npr/<niva>/<periode>``): per sector × behandlingssted / HF
  / RHF / hele landet, per month and year;
* rates (:mod:`.rates`, ``npr/rater/…``): by the patient's catchment area × kjønn ×
  aldersgruppe × sector × year, with the area's population and rates per 1 000
  inhabitants (SOM for somatikk and rehab, VOP 18+ for phv, BUP 0-17 for phbu, TSB);
* flow (:mod:`.flow`, ``npr/flyt/…``): own-area HF × treating HF × sector × year.

Measures: ``episoder`` (rows), ``opphold`` (sum of ``dogn``: stays, counted in the month
they end), ``liggedogn`` (days of those stays), ``dagbehandlinger``, ``polikliniske_kontakter``
and ``pasienter`` (distinct ``pasient_pseudonym`` of the cell, computed exactly for every
table — never summed over finer cells).

Two figures from the one definition: NPR's counts every episode; SSB's
(``npr/ssb/…``, the statistics ``npr_ssb…``) counts only episodes with ``ssb_utvalg`` true,
leaving out fødestuer and units not defined as hospitals — the same spec with one filter.

Protection (compat and full mode):

* Primary: a cell with 1-4 distinct patients is suppressed — every figure of the row, the
  population and the rates and shares included, since a rate or share with its published
  denominator gives the count back. Full mode adds the frequency rule on ``pasienter`` at
  the build's threshold as well.
* Secondary (full mode): the tables of a family are protected together
  (:func:`helsestat.protect.protect_tables`) on the episode count, the additive count
  every table of the family is a sum of: months add up to years, behandlingssteder to
  their HF, HF to RHF and RHF to the country; kjønn × aldersgruppe to the area; the flow
  matrix's cells to their own-area HF's totals. The attacker audit then checks that no
  suppressed cell's episodes can be computed (interval at least 1 wide). Distinct
  patients are not additive, so they are not modelled; a suppressed cell hides them with
  its episodes.
* Shares of the flow tables are computed after protection from published values only (a
  published cell over its published row total), so they reveal nothing the counts do not.

>>> [s.name for s in NPR_STATISTICS]
['npr', 'npr_rater', 'npr_flyt', 'npr_ssb', 'npr_ssb_rater', 'npr_ssb_flyt']
"""

from __future__ import annotations

from typing import Final

from helsestat.statistics.base import Statistic
from helsestat.statistics.npr.activity import activity
from helsestat.statistics.npr.cube import NPR, SSB, VARIANTS, Variant
from helsestat.statistics.npr.dashboard import DASHBOARD
from helsestat.statistics.npr.flow import flow
from helsestat.statistics.npr.rates import rates

#: NPR's figure carries the dashboard (its pages read the rate and flow tables too).
NPR_ACTIVITY: Final = activity(NPR, DASHBOARD)
NPR_RATES: Final = rates(NPR)
NPR_FLOW: Final = flow(NPR)
NPR_STATISTICS: Final[tuple[Statistic, ...]] = (
    NPR_ACTIVITY,
    NPR_RATES,
    NPR_FLOW,
    *(
        make(variant)
        for variant in VARIANTS
        if variant is not NPR
        for make in (activity, rates, flow)
    ),
)

__all__ = [
    "NPR",
    "NPR_ACTIVITY",
    "NPR_FLOW",
    "NPR_RATES",
    "NPR_STATISTICS",
    "SSB",
    "Variant",
    "activity",
    "flow",
    "rates",
]
