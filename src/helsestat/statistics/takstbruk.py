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
  of the cell's year (SSB table 07459) of the kommune as coded that year: SSB's figures
  2015–2020 and 2024–2026, helsestat's documented estimates for 2021–2023 and nine Vestfold
  codes 2015–2017 (:mod:`helsestat.reference.population_history`). Before 2015 a kommune
  counts as its 2024 successor's population when it became it whole, else as not over
  10 000. The population is the reference database's, from the snapshot the build passes
  (:class:`KnownPopulation`).

>>> [t.name for t in TAKSTBRUK.tables][:2]
['takstbruk/kommune/maned', 'takstbruk/kommune/ar']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from helsestat.model.cube import CubeSpec, Filter, Hierarchy, Level, Measure, Prefix, Total
from helsestat.protect import Protection, Requirement
from helsestat.protect.compat import helfo_kommune_ar, helfo_kommune_maned
from helsestat.protect.rules import FrequencyRule, Rule
from helsestat.publish.index import Key, Range
from helsestat.publish.views import Field, View
from helsestat.reference.geography import Geography
from helsestat.reference.preflight import Needs
from helsestat.reference.snapshot import Reference
from helsestat.statistics.base import Statistic, TableDef
from helsestat.statistics.serving import (
    Chart,
    Choice,
    CodeParameter,
    CompatibleApi,
    Dashboard,
    PeriodParameters,
    Route,
    Serving,
)

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


@dataclass(frozen=True)
class KnownPopulation:
    """The population of a kommune in a year as far as the reference data tell it
    (:meth:`~helsestat.reference.geography.Geography.population_if_known`), else 0. Its repr
    names the geography's checksum, so a protected piece cached under one population is not
    reused under another (:func:`helsestat.protect.rules.rule_fingerprint`).

    >>> from helsestat.reference.seed import packaged_reference
    >>> geo = packaged_reference().geography
    >>> KnownPopulation(geo.digest, geo)("0301", 2025)
    724290
    """

    digest: str
    geography: Geography = field(repr=False, compare=False)

    def __call__(self, kommune: str, year: int) -> int:
        # Unknown (before 2015, a kommune that later merged or was split): not over 10 000,
        # so its monthly cells stay hidden rather than risk publishing a small kommune.
        return self.geography.population_if_known(kommune, year) or 0


def _population_rule(reference: Reference) -> tuple[Rule, ...]:
    geo = reference.geography
    return (helfo_kommune_maned("behandler_kommunenr", "ar", KnownPopulation(geo.digest, geo)),)


def _compat_rules(geo: str, period: str) -> tuple[tuple[FrequencyRule, ...], str]:
    if geo == "kommune" and period == "ar":
        return (
            helfo_kommune_ar("sum_antall_takst"),
        ), "Helfo: kommune/år only takster with count > 5"
    if geo == "kommune" and period == "maned":
        return (), "Helfo: kommune/måned only kommuner over 10 000 inhabitants"
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
                    reference_rules=(
                        _population_rule if (geo, period) == ("kommune", "maned") else None
                    ),
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


# -- serving: Helfo's API, the fields of its rows, the dashboard ------------------------------


def code_lists(reference: Reference) -> dict[str, dict[str, str]]:
    """The public code lists a takstbruk query is checked against, with names for the
    dashboard, from the reference snapshot (:meth:`~helsestat.reference.snapshot.Reference.
    code_names`): code → name (fagområder, praksistyper, kommuner, fylker) or → fagområde
    (takstkoder). Kommuner are every kommunenummer valid at some time since the oldest
    history row, fylker their first two digits. All are public lists, so an unknown value
    may be echoed in an error.

    >>> from helsestat.reference.seed import packaged_reference
    >>> codes = code_lists(packaged_reference())
    >>> "LE" in codes["fagomraader"], "0301" in codes["kommuner"], codes["fylker"]["03"]
    (True, True, 'Oslo')
    """
    names = reference.code_names()
    return {
        "fagomraader": names.fagomraader,
        "praksistyper": names.praksistyper,
        "takstkoder": names.takstkoder,
        "kommuner": names.kommuner,
        "fylker": names.fylker,
    }


PREFIX: Final = "/v1/takstbruk"
#: The old root's path prefix, kept as an alias (Helfo: "De gamle URLene vil fortsette å
#: fungere inntil ingen bruker de lenger").
OLD_PREFIX: Final = "/api/opne-data/v1/takstbruk"
#: Route families: Helfo's JSON/XML, CSV export and Excel export.
_FAMILIES: Final = {"agtakst": "", "eksport": "/eksport", "msexcel": "/eksport/msexcel"}
_RESULT: Final = {"agtakst": "JSON or XML (by Accept)", "eksport": "CSV", "msexcel": "Excel"}
_LEVEL_LABEL: Final = {"kommune": "kommune", "fylke": "fylke", "landet": "hele landet"}
_RULE: Final = {
    ("kommune", "ar"): " Only takster whose count (sum_antall_takst) is greater than 5.",
    ("kommune", "maned"): " Only kommuner with more than 10 000 inhabitants (1 January "
    "population of the cell's year, see docs/api.md).",
}
#: Helfo's twelve fields, in Helfo's order, on every route: ``ar`` and ``maned`` as
#: integers, codes as text, counts as integers, kroner as floating-point numbers; a field
#: the route has no value for (``maned`` on /ar, ``behandler_kommunenr`` on fylke and
#: landet) is null. The status fields only with ``medstatus=ja``.
HELFO_VIEW: Final = View(
    "helfo",
    (
        Field("ar", kind="integer"),
        Field("maned", kind="integer"),
        Field("takstkode"),
        Field("fagomraade"),
        Field("praksis_type_kode"),
        Field("behandler_kommunenr"),
        Field("behandler_fylke"),
        *(Field(m) for m in MEASURE_NAMES),
    ),
    status_always=False,
)
_PERIODS: Final = {
    "maned": PeriodParameters(
        "fommaned",
        "tommaned",
        6,
        ("201805", "201905"),
        max_months=13,
        description=(
            "Mandatory. First month, `YYYYMM`; the period is at most 13 months",
            "Mandatory. Last month, `YYYYMM`; the period is at most 13 months",
        ),
    ),
    "ar": PeriodParameters(
        "fomar",
        "tomar",
        4,
        ("2015", "2019"),
        description=("Mandatory. First year, `YYYY`", "Mandatory. Last year, `YYYY`"),
    ),
}
_FAG = CodeParameter(
    "fagomraade",
    "fagomraade",
    codes="fagomraader",
    what="fagområde",
    required=True,
    description="Mandatory. Comma-separated fagområde codes, e.g. `LE` (lege)",
    hint="add fagomraade=LE (comma-separated list; LE = lege)",
)
_TAKST = CodeParameter(
    "takstkoder",
    "takstkode",
    codes="takstkoder",
    what="takstkode",
    description="Comma-separated takstkoder, e.g. `H1,2ad`",
)
_GEO = {
    "kommune": CodeParameter(
        "kommuner",
        "behandler_kommunenr",
        codes="kommuner",
        what="kommunenummer",
        description="Comma-separated kommunenummer (the treater's kommune), e.g. `0301`",
    ),
    "fylke": CodeParameter(
        "fylker",
        "behandler_fylke",
        codes="fylker",
        what="fylkesnummer",
        description="Comma-separated fylkesnummer (the treater's fylke), e.g. `03,15`",
    ),
}
_PRAKSIS = CodeParameter(
    "praksistyper",
    "praksis_type_kode",
    codes="praksistyper",
    what="praksistype",
    description="Comma-separated praksistype codes, e.g. `FALE,LEVA`",
)


def _route(family: str, level: str, period: str) -> Route:
    suffix = f"{_FAMILIES[family]}/agtakst/{level}/{period}"
    geo = (_GEO[level],) if level in _GEO else ()
    return Route(
        path=PREFIX + suffix,
        name=f"takstbruk_{family}_{level}_{period}",
        table=f"takstbruk/{level}/{period}",
        summary=f"Takstbruk {level}/{period} ({_RESULT[family]})",
        description=(
            f"Aggregert takstbruk per {_LEVEL_LABEL[level]} og {_PERIOD_LABEL[period]} as "
            f"{_RESULT[family]}. Geography is the treater's practice address."
            + _RULE.get((level, period), "")
            + " Suppressed cells are left out unless `medstatus=ja`."
        ),
        parameters=(_FAG, _TAKST, *geo, _PRAKSIS),
        period=_PERIODS[period],
        fixed_format={"eksport": "csv", "msexcel": "xlsx"}.get(family),
        format_parameter=family == "agtakst",
        aliases=(OLD_PREFIX + suffix,),
        disposition="inline" if family == "agtakst" else "attachment",
        filename=f"takstbruk_{level}_{period}",
    )


#: Helfo's 18 routes (family × level × period), each also under the old prefix (seed 004).
HELFO_API: Final = CompatibleApi(
    tag="takstbruk (Helfo)",
    routes=tuple(
        _route(family, level, period)
        for family in _FAMILIES
        for level in _GEO_LEVELS
        for period in _TIME_LEVELS
    ),
    view=HELFO_VIEW,
    suppressed_parameter="medstatus",
    parameter_descriptions={
        "medstatus": "helsestat extension: `ja` includes the suppressed cells, with null "
        "measures and `status`/`status_rule` fields; default `nei` (omitted, as Helfo)",
        "release": "helsestat extension: serve this earlier release as published",
        "format": "helsestat extension: json, xml, csv, xlsx, jsonstat or parquet; default by "
        "the Accept header (application/json or application/xml), else json",
    },
)
#: Every table is indexed by (fagområde, geography, takstkode, period, praksistype) — a
#: Helfo query fixes a fagområde, usually a kommune or fylke and a few takster — and
#: published in Helfo's order (period, geography, takstkode, fagområde, praksistype).
KEY: Final = Key(
    ("fagomraade", "geo", "takstkode", "periode", "praksis_type_kode"),
    ("periode", "geo", "takstkode", "fagomraade", "praksis_type_kode"),
    Range("periode", ("ar", "maned")),
)


def _key(table: str) -> Key:
    geo = {"kommune": "behandler_kommunenr", "fylke": "behandler_fylke"}.get(
        table.split("/")[1], "geo"
    )

    def swap(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(geo if n == "geo" else n for n in names)

    return Key(swap(KEY.columns), swap(KEY.order), KEY.range)


DASHBOARD: Final = Dashboard(
    title="Aggregert takstbruk",
    link="Explore takstbruk",
    intro="Use of tariff codes by the treater's kommune or fylke, as Helfo's open-data API "
    "publishes it. Kommune/år shows only takster counted more than 5 times; kommune/måned "
    "only kommuner with more than 10 000 inhabitants.",
    choices=(
        Choice(
            "niva",
            "Level",
            {"kommune": "Kommune", "fylke": "Fylke", "landet": "Hele landet"},
            "fylke",
        ),
        Choice(
            "periode", "Period", {"ar": "År (YYYY)", "maned": "Måned (YYYYMM, at most 13)"}, "ar"
        ),
    ),
    route=lambda c: f"takstbruk_agtakst_{c['niva']}_{c['periode']}",
    periods=lambda c: _PERIODS[c["periode"]].example,
    chart=Chart(
        "sum_antall_takst",
        "periode",
        (("behandler_kommunenr", "behandler_fylke"), "takstkode"),
        named=("behandler_kommunenr", "behandler_fylke"),
    ),
    option_label={
        "fagomraader": "{code} – {label}",
        "praksistyper": "{code} – {label}",
        "takstkoder": "{code} ({label})",
    },
    single=("fagomraade",),
    defaults={"fagomraade": "LE"},
    labels={
        "fagomraade": "Fagområde",
        "kommuner": "Kommuner (level kommune)",
        "fylker": "Fylker (level fylke)",
        "takstkoder": "Takster",
        "praksistyper": "Praksistyper",
        "fra": "From",
        "til": "To",
        "total": "Hele landet",
    },
)


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
    # Full mode: the six tables are protected together on the bill count. They list only
    # non-empty cells (declared, and checked against the data), so an attacker knows each
    # listed cell holds at least one bill; counts are whole numbers, so an interval narrower
    # than 1 could pin a cell down.
    # Large releases are spread over one process per CPU core.
    # Every cell also publishes uses and amounts: refusjon is the tariff's refund times the
    # uses, the two egenandel fields add up to the tariff's copay times the uses, and the
    # tariffs are public (/v1/takstkoder). A year across a tariff change (1 July) gives an
    # attacker independent equations, so the audit bounds the uses over all of them too.
    protection=Protection(
        "antall_regninger",
        Requirement(range_min=1),
        listing="non_empty",
        workers=0,
        rate_count="sum_antall_takst",
        rate_amounts=(
            ("sum_refusjon",),
            ("sum_egenandel_betalt_av_pasient", "sum_egenandel_dekket_av_folketrygden"),
        ),
    ),
    needs=Needs(classifications=(131, 104), tariff_lists=("takstkoder",)),
    serving=Serving(
        key=_key,
        code_lists=code_lists,
        compatible=HELFO_API,
        dashboard=DASHBOARD,
    ),
)
