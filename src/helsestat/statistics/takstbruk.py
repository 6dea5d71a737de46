"""Aggregert takstbruk: Helfo's aggregated tariff use, computed from claim lines.

Fields as Helfo's open-data API (seed 004): ar, maned, takstkode, fagomraade,
praksis_type_kode, behandler_kommunenr, behandler_fylke, antall_regninger, sum_antall_takst,
sum_refusjon, sum_egenandel_betalt_av_pasient, sum_egenandel_dekket_av_folketrygden — for
kommune / fylke / hele landet × måned / år. Geography is the treater's practice kommune as
coded on the claim date (fylke = its first two digits, the fylke of that time). Only approved
claims (resultat = godkjent) count.

``antall_regninger`` counts bills that used the takst (a bill with the takst on two lines
counts once); ``sum_antall_takst`` counts uses; amounts are kroner.

Protection: ``HELSESTAT_PROTECTION_MODE=compat`` applies exactly Helfo's documented rules
below, table by table. ``full`` protects the six tables together (kommune → fylke → landet
× måned → år, linked): Helfo's rules plus the frequency rule on ``antall_regninger`` on
every table, secondary suppression so that no suppressed cell of any table can be computed
from the others, and the attacker audit (every primary cell's interval at least 1 bill
wide). Only frequency rules are wired; the magnitude rules (dominance, p %) need per-treater
top contributions from the aggregate stage (see ``helsestat.protect.magnitude``).

Compatibility rules (Helfo's documentation), and the choices helsestat made where it is
silent:

* kommune/år: only takster whose count is greater than 5 — the count is
  ``sum_antall_takst`` (the number of times the takst was used in the cell).
* kommune/måned: only kommuner with more than 10 000 inhabitants — population on 1 January
  of the cell's year (SSB table 07459); for years before 2024, the 2024 population of the
  2024 kommune it became whole; a kommune that merged with others or was split counts as
  not over 10 000 (its own population is not in the reference data).

>>> [t.name for t in TAKSTBRUK.tables][:2]
['takstbruk/kommune/maned', 'takstbruk/kommune/ar']
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from helsestat.model.cube import CubeSpec, Filter, Hierarchy, Level, Measure, Prefix, Total
from helsestat.protect import Protection, Requirement
from helsestat.protect.compat import helfo_kommune_ar, helfo_kommune_maned
from helsestat.protect.rules import FrequencyRule, MinimumPopulationRule
from helsestat.reference.geography import load_geography
from helsestat.reference.preflight import Needs
from helsestat.statistics.base import Statistic, TableDef

GEO = Hierarchy(
    "geo",
    (
        Level("behandler_kommunenr", column="behandler_kommunenr"),
        Level("behandler_fylke", rollup=Prefix(2)),
        Level("landet", rollup=Total()),
    ),
)
TID = Hierarchy("tid", (Level("maned", column="maned"), Level("ar", rollup=Prefix(4))))
TAKST = Hierarchy("takst", (Level("takstkode", column="takstkode"),))
FAG = Hierarchy("fag", (Level("fagomraade", column="fagomraade"),))
PRAKSIS = Hierarchy("praksis", (Level("praksis_type_kode", column="praksistype"),))

MEASURES = (
    Measure("antall_regninger", "sum", "regning_teller"),
    Measure("sum_antall_takst", "sum", "antall"),
    Measure("sum_refusjon", "sum", "refusjon_ore"),
    Measure("sum_egenandel_betalt_av_pasient", "sum", "egenandel_pasient_ore"),
    Measure("sum_egenandel_dekket_av_folketrygden", "sum", "egenandel_folketrygd_ore"),
)
_KRONER = (
    "sum_refusjon",
    "sum_egenandel_betalt_av_pasient",
    "sum_egenandel_dekket_av_folketrygden",
)
MEASURE_NAMES = tuple(m.name for m in MEASURES)

_GEO_LEVELS = {"kommune": "behandler_kommunenr", "fylke": "behandler_fylke", "landet": "landet"}
_TIME_LEVELS = {"maned": "maned", "ar": "ar"}
_PERIOD_LABEL = {"maned": "måned", "ar": "år"}


def _population(kommune: str, year: int) -> int:
    # Unknown (a kommune that merged or was split before 2024): not over 10 000, so its
    # monthly cells stay hidden rather than risk publishing a small kommune.
    return load_geography().population_if_known(kommune, year) or 0


def _compat_rules(
    geo: str, period: str
) -> tuple[tuple[FrequencyRule | MinimumPopulationRule, ...], str]:
    if geo == "kommune" and period == "ar":
        return (
            helfo_kommune_ar("sum_antall_takst"),
        ), "Helfo: kommune/år only takster with count > 5"
    if geo == "kommune" and period == "maned":
        return (
            (helfo_kommune_maned("behandler_kommunenr", "ar", _population),),
            "Helfo: kommune/måned only kommuner over 10 000 inhabitants",
        )
    return (), ""


def _tables() -> tuple[TableDef, ...]:
    out = []
    for geo, geo_level in _GEO_LEVELS.items():
        for period, time_level in _TIME_LEVELS.items():
            rules, note = _compat_rules(geo, period)
            label = {"kommune": "kommune", "fylke": "fylke", "landet": "hele landet"}[geo]
            out.append(
                TableDef(
                    name=f"takstbruk/{geo}/{period}",
                    title=f"Aggregert takstbruk per {label} og {_PERIOD_LABEL[period]}",
                    grouping=(
                        geo_level,
                        time_level,
                        "takstkode",
                        "fagomraade",
                        "praksis_type_kode",
                    ),
                    compat_rules=rules,
                    rules_note=note,
                )
            )
    return tuple(out)


SPEC = CubeSpec(
    name="takstbruk",
    hierarchies=(GEO, TID, TAKST, FAG, PRAKSIS),
    measures=MEASURES,
    filters=(Filter("resultat", "in", ("godkjent",)),),
    groupings=tuple(t.grouping for t in _tables()),
)


def dimensions(table: TableDef) -> tuple[str, ...]:
    """The published dimension columns of a takstbruk table, in Helfo's field order."""
    geo, time = table.grouping[0], table.grouping[1]
    dims = (
        ["ar"]
        + (["maned"] if time == "maned" else [])
        + ["takstkode", "fagomraade", "praksis_type_kode"]
    )
    if geo == "behandler_kommunenr":
        dims += ["behandler_kommunenr", "behandler_fylke"]
    elif geo == "behandler_fylke":
        dims += ["behandler_fylke"]
    return tuple(dims)


def finish(cube_table: pa.Table, table: TableDef) -> pa.Table:
    """Shape a cube table as Helfo publishes it: ar and maned split, fylke beside kommune,
    øre turned into kroner."""
    cols: dict[str, pa.Array | pa.ChunkedArray] = {}
    if "maned" in cube_table.column_names:
        month = cube_table.column("maned")
        cols["ar"] = pc.utf8_slice_codeunits(month, 0, 4)
        cols["maned"] = pc.utf8_slice_codeunits(month, 4, 6)
    else:
        cols["ar"] = cube_table.column("ar")
    for name in ("takstkode", "fagomraade", "praksis_type_kode"):
        cols[name] = cube_table.column(name)
    if "behandler_kommunenr" in cube_table.column_names:
        cols["behandler_kommunenr"] = cube_table.column("behandler_kommunenr")
        cols["behandler_fylke"] = pc.utf8_slice_codeunits(
            cube_table.column("behandler_kommunenr"), 0, 2
        )
    elif "behandler_fylke" in cube_table.column_names:
        cols["behandler_fylke"] = cube_table.column("behandler_fylke")
    for m in MEASURE_NAMES:
        col = cube_table.column(m)
        cols[m] = (
            pc.divide(pc.cast(col, pa.float64()), 100.0)
            if m in _KRONER
            else pc.cast(col, pa.int64())
        )
    return pa.table(cols)


TAKSTBRUK = Statistic(
    name="takstbruk",
    title="Aggregert takstbruk",
    description="Use of tariff codes in reimbursement claims by treater geography, period, "
    "fagområde and praksistype (Helfo's open-data statistic, recomputed from claims).",
    source_kind="claims",
    spec=SPEC,
    tables=_tables(),
    dimensions=dimensions,
    measures=MEASURE_NAMES,
    count_measure="antall_regninger",
    finish=finish,
    # Full mode: the six tables are protected together on the bill count. The kommune/måned
    # table lists every non-empty cell, so an attacker knows each holds at least one bill;
    # counts are whole numbers, so an interval narrower than 1 could pin a cell down.
    # Large releases are spread over one process per CPU core.
    # Every cell also publishes uses and amounts: refusjon is the tariff's refund times the
    # uses, the two egenandel fields add up to the tariff's copay times the uses, and the
    # tariffs are public (/v1/takstkoder). A year across a tariff change (1 July) gives an
    # attacker independent equations, so the audit bounds the uses over all of them too.
    protection=Protection(
        "antall_regninger",
        Requirement(range_min=1),
        known_positive=True,
        workers=0,
        rate_count="sum_antall_takst",
        rate_amounts=(
            ("sum_refusjon",),
            ("sum_egenandel_betalt_av_pasient", "sum_egenandel_dekket_av_folketrygden"),
        ),
    ),
    needs=Needs(classifications=(131, 104), tariff_lists=("takstkoder",)),
)
