"""A statistic defined in one module, as a new contributor would write one: claims per
fagområde by fylke and year, from the claims extract kind that already exists (SYNTHETIC
DATA in the tests). Nothing else is written for it: the API routes, the fast query path,
the six formats, the dashboard page and the catalogue entry come from this declaration
(docs/architecture.md, "Adding a statistic")."""

from __future__ import annotations

from helsestat.model.cube import CubeSpec, Filter, Hierarchy, Level, Measure, Prefix, Total
from helsestat.protect.rules import FrequencyRule
from helsestat.publish.index import Key, Range
from helsestat.statistics import Statistic, TableDef
from helsestat.statistics.serving import Chart, Choice, Dashboard, Serving

GEO = Hierarchy(
    "geo",
    (
        Level("kommune", column="behandler_kommunenr"),
        Level("fylke", rollup=Prefix(2)),
        Level("landet", rollup=Total()),
    ),
)
TID = Hierarchy("tid", (Level("maned", column="maned"), Level("ar", rollup=Prefix(4))))
FAG = Hierarchy("fag", (Level("fagomraade", column="fagomraade"),))

TABLES = (
    TableDef(
        "fagbruk/fylke/ar",
        "Regninger per fagområde, fylke og år",
        ("fylke", "ar", "fagomraade"),
        (FrequencyRule("regninger", 5),),
        "regninger ≤ 5 suppressed",
    ),
    TableDef(
        "fagbruk/landet/ar",
        "Regninger per fagområde og år",
        ("landet", "ar", "fagomraade"),
        (FrequencyRule("regninger", 5),),
        "regninger ≤ 5 suppressed",
    ),
)

FAGBRUK = Statistic(
    name="fagbruk",
    title="Regninger per fagområde",
    description="Approved bills per fagområde by the treater's fylke and year.",
    source_kind="claims",
    spec=CubeSpec(
        name="fagbruk",
        hierarchies=(GEO, TID, FAG),
        measures=(
            Measure("regninger", "sum", "regning_teller"),
            Measure("takster", "sum", "antall"),
        ),
        filters=(Filter("resultat", "in", ("godkjent",)),),
        groupings=tuple(t.grouping for t in TABLES),
    ),
    tables=TABLES,
    measures=("regninger", "takster"),
    count_measure="regninger",
    serving=Serving(
        key=lambda table: Key(
            ("fagomraade", "fylke", "ar"), ("ar", "fylke", "fagomraade"), Range("ar", ("ar",))
        ),
        dashboard=Dashboard(
            title="Regninger per fagområde",
            link="Explore fagbruk",
            intro="Approved bills per fagområde (SYNTHETIC DATA in the tests).",
            choices=(
                Choice("niva", "Level", {"fylke": "Fylke", "landet": "Hele landet"}, "landet"),
            ),
            table=lambda choices: f"fagbruk/{choices['niva']}/ar",
            chart=Chart("regninger", "ar", ("fagomraade",), kind="bar"),
            labels={"fagomraade": "Fagområde", "fylke": "Fylke", "ar": "År"},
        ),
    ),
)
