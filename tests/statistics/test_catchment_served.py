"""Opptaksområder served over real HTTP: a release built from a SYNTHETIC population by
grunnkrets (2019 and 2024, two kommune structures) answers its tables in all six formats,
the totals are the real kommune populations, the drill-down walks RHF → HF → area →
kommune, and a bad parameter is a problem."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import orjson
import pyarrow.parquet as pq
import pytest

from catchment_release import YEARS, catchment_release
from helsestat.aggregate import DuckDBEngine
from helsestat.api import create_app
from helsestat.errors import ReferenceError_
from helsestat.publish.formats import FORMATS
from helsestat.reference.grunnkrets import kommune_population
from helsestat.reference.seed import packaged_reference
from helsestat.settings import Settings
from helsestat.statistics.catchment import build_data
from helsestat.synth.catchment import generate_population, population_table

TABLE = "/api/v1/tables/opptak/befolkning"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return catchment_release(tmp_path_factory.mktemp("opptak"))


@pytest.fixture(scope="module")
def base(settings: Settings) -> Iterator[str]:
    from serve_process import serving  # the same server the ``serve`` fixture starts

    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=60) as client:
        yield client


def test_the_country_is_the_real_population(http: httpx.Client) -> None:
    for year in YEARS:
        rows = http.get(
            TABLE,
            params={"fom": f"{year}-01", "tom": f"{year}-12", "tjeneste": "SOM", "niva": "LANDET"},
        ).json()
        (total,) = [r for r in rows if r["kjonn"] == "0" and r["alder"] == "999"]
        assert total["personer"] == sum(kommune_population(year).figures.values())
        assert all(r["status"] == "published" for r in rows)
        assert len(rows) == 3 * 107  # kjønn (both, menn, kvinner) × 0-104, 105+, all ages


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_over_http(http: httpx.Client, fmt: str) -> None:
    params = {"fom": "2024-01", "tom": "2024-12", "tjeneste": "DPS", "niva": "HF"}
    rows = http.get(TABLE, params={**params, "format": "json"}).json()
    response = http.get(TABLE, params={**params, "format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == FORMATS[fmt].media_type
    counts = [r["personer"] for r in rows]
    if fmt == "parquet":
        assert pq.read_table(io.BytesIO(response.content))["personer"].to_pylist() == counts
    elif fmt == "csv":
        text = response.content.decode("utf-8-sig")
        dialect = csv.Sniffer().sniff(text.splitlines()[0])
        back = list(csv.DictReader(io.StringIO(text), dialect=dialect))
        assert [int(r["personer"]) for r in back] == counts
    elif fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(response.content))["data"]
        header = [c.value for c in next(sheet.iter_rows())]
        at = header.index("personer")
        values = [row[at].value for row in sheet.iter_rows(min_row=2)]
        assert values == counts
    elif fmt == "jsonstat":
        doc = orjson.loads(response.content)
        assert doc["id"][-1] == "measure" and doc["id"][:2] == ["tjeneste", "aar"]
        value = doc["value"]  # sparse (index → value) when most combinations are absent
        values = value.values() if isinstance(value, dict) else value
        assert sum(v for v in values if v) == sum(counts)
    elif fmt == "xml":
        root = ET.fromstring(response.content)
        found = [int(e.text or 0) for e in root.iter() if e.tag.endswith("personer")]
        assert found == counts
    else:
        assert orjson.loads(response.content) == rows


def test_drill_down_rhf_hf_area_kommune(http: httpx.Client) -> None:
    def drill(**filters: str) -> list[dict[str, object]]:
        params = {"fom": "2024-01", "tom": "2024-12", "tjeneste": "SOM", **filters}
        rows: list[dict[str, object]] = http.get(
            "/api/v1/tables/opptak/omrader", params=params
        ).json()
        return rows

    country, *rhfs = drill()
    assert len(rhfs) == 4 and sum(int(str(r["personer"])) for r in rhfs) == country["personer"]
    nord = next(r for r in rhfs if r["navn"] == "Helse Nord RHF")
    node, *hfs = drill(rhf=str(nord["rhf"]))
    assert node["personer"] == nord["personer"] and len(hfs) == 4
    unn = next(r for r in hfs if "Nord-Norge" in str(r["navn"]))
    node, *areas = drill(rhf=str(nord["rhf"]), hf=str(unn["hf"]))
    assert [a["navn"] for a in areas] == ["UNN"]
    node, *kommuner = drill(omrade=str(areas[0]["omrade"]))
    assert "1806" in {k["kommune"] for k in kommuner}  # Narvik
    assert sum(int(str(k["personer"])) for k in kommuner) == node["personer"]


def test_a_split_kommune_counts_once(http: httpx.Client) -> None:
    """2019: Tysfjord lies partly in UNN and partly in Nordland (by grunnkrets); its two
    parts add up to its population."""
    rows = http.get(
        "/api/v1/tables/opptak/kommuner",
        params={"fom": "2019-01", "tom": "2019-12", "tjeneste": "SOM"},
    ).json()
    parts = [r for r in rows if r["kommune"] == "1850"]
    assert len(parts) == 2
    assert sum(r["personer"] for r in parts) == kommune_population(2019).figures["1850"]


def test_a_bad_service_is_a_problem(http: httpx.Client) -> None:
    response = http.get(TABLE, params={"tjeneste": "XYZ"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "query.invalid_value"


def test_an_unknown_grunnkrets_stops_the_build(tmp_path: Path) -> None:
    import pyarrow as pa

    table = population_table(generate_population((2024,), seed=1)).slice(0, 10)
    table = table.set_column(0, "grunnkrets", pa.array(["99990001"] * 10))
    path = tmp_path / "b.parquet"
    pq.write_table(table, path)
    with DuckDBEngine(threads=1) as duck, pytest.raises(ReferenceError_) as raised:
        build_data([path], packaged_reference(), duck)
    assert raised.value.code == "reference.catchment_gap" and "99990001" in raised.value.message
