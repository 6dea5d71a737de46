"""kommune/måned publishes every kommune over 10 000 inhabitants in every year 2015–2025, in
the kommune structure of that year (issue 14): the population rule reads each year's own
1 January figures (SSB 07459, and the documented estimates where SSB's are not in the data).
SYNTHETIC claims: every kommune valid in the year has the same large counts."""

from __future__ import annotations

import pyarrow as pa
import pytest

from helsestat.build import protect_statistic
from helsestat.model import Cube
from helsestat.reference.seed import packaged_reference
from helsestat.statistics.takstbruk import MEASURE_NAMES, TAKSTBRUK

REFERENCE = packaged_reference()

#: kommuner the rule hid before each year had its own figures (issue 14), by year.
NAMED = {
    2019: {
        "5001": "Trondheim",
        "1103": "Stavanger",
        "1001": "Kristiansand",
        "0602": "Drammen",
        "1102": "Sandnes",
        "0220": "Asker",
        "0704": "Tønsberg",
        "0104": "Moss",
        "1504": "Ålesund",
        "0213": "Ski",
    },
    2020: {"1507": "Ålesund"},
    2021: {"1507": "Ålesund"},
    2022: {"1507": "Ålesund"},
    2023: {"1507": "Ålesund"},
    2015: {"0709": "Larvik", "0706": "Sandefjord", "0720": "Stokke", "0722": "Nøtterøy"},
}


def _cube(kommuner: list[str], year: int) -> Cube:
    rows = [
        {
            "behandler_kommunenr": k,
            "maned": f"{year}03",
            "takstkode": "2ad",
            "fagomraade": "LE",
            "praksis_type_kode": "F",
            "antall_regninger": 40,
            "sum_antall_takst": 41,
            "sum_refusjon": 600_000,
            "sum_egenandel_betalt_av_pasient": 160_000,
            "sum_egenandel_dekket_av_folketrygden": 0,
        }
        for k in kommuner
    ]
    finest = pa.Table.from_pylist(rows)
    finest = finest.append_column(
        "behandler_fylke", pa.array([k[:2] for k in kommuner])
    ).append_column("ar", pa.array([str(year)] * len(kommuner)))
    tables = {}
    for grouping in (t.grouping for t in TAKSTBRUK.tables):
        keys = [g for g in grouping if g != "landet"]
        agg = finest.group_by(keys).aggregate([(m, "sum") for m in MEASURE_NAMES])
        tables[grouping] = agg.rename_columns([*keys, *MEASURE_NAMES])
    return Cube(spec=TAKSTBRUK.spec, tables=tables)


@pytest.mark.parametrize("year", range(2015, 2026))
def test_every_kommune_over_10_000_is_in_kommune_maned(year: int) -> None:
    geo = REFERENCE.geography
    # csdata's history also holds non-kommune codes (notmainland…, missing9999) before 2019
    kommuner = sorted(k for k in geo.kommuner_valid_in(year) if k.isdigit())
    population = {k: geo.population(k, year) for k in kommuner}
    assert all(p is not None for p in population.values()), "a kommune has no figure"
    cube = _cube(kommuner, year)
    statistic = TAKSTBRUK.with_reference(REFERENCE)
    out = protect_statistic(statistic, [], None, "compat", 5, cube=cube)  # type: ignore[arg-type]
    (table,) = [t.table for t in out if t.name == "takstbruk/kommune/maned"]
    shown = {r["behandler_kommunenr"] for r in table.to_pylist() if r["status"] == "published"}
    over = {k for k, p in population.items() if p is not None and p > 10_000}
    assert over - shown == set()
    assert shown == over  # and no kommune at or under 10 000
    for code, name in NAMED.get(year, {}).items():
        assert code in shown, f"{name} ({code}) hidden in {year}"
