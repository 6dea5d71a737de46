"""The NPR statistic served over real HTTP: a release built from SYNTHETIC stored episodes
answers every table under /api/v1/tables/npr/… in all six formats with the same cells, a
filter on a dimension selects rows, and a bad parameter is a problem."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import openpyxl
import orjson
import pyarrow.parquet as pq
import pytest
from npr_lake import ABSENT_UNIT, FODESTUE, NEW_NAME, OLD_NAME, RENAMED_UNIT, unit_name
from npr_release import npr_release

from helsestat.api import create_app
from helsestat.publish.formats import FORMATS
from helsestat.settings import Settings
from helsestat.statistics.npr import NPR_STATISTICS

TABLES = [t.name for s in NPR_STATISTICS for t in s.tables]
#: One table of each family, with a filter on a dimension.
QUERIES = {
    "npr/hf/ar": {"sektor": "somatikk"},
    "npr/ssb/rhf/maned": {"sektor": "phv", "ar": "2024"},
    "npr/rater/kjonn_alder": {"sektor": "phbu", "kjonn": "2"},
    "npr/flyt/matrise": {"sektor": "tsb", "ar": "2023"},
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return npr_release(tmp_path_factory.mktemp("npr"))


@pytest.fixture(scope="module")
def base(settings: Settings) -> Iterator[str]:
    from serve_process import serving

    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=60) as client:
        yield client


def test_every_table_is_listed_and_answers(http: httpx.Client) -> None:
    listed = {t["name"] for t in http.get("/api/v1/tables").json()["tables"]}
    assert set(TABLES) <= listed
    assert len(TABLES) == 24
    statuses = set()
    for name in TABLES:
        response = http.get(f"/api/v1/tables/{name}")
        assert response.status_code == 200, (name, response.text)
        rows = response.json()
        assert rows and {r["status"] for r in rows} <= {"published", "primary"}, name
        assert all(r["pasienter"] is None or r["pasienter"] > 4 for r in rows), name
        statuses |= {r["status"] for r in rows}
    assert statuses == {"published", "primary"}


def _measure(name: str) -> str:
    return "pasienter_per_1000" if "rater" in name else "episoder"


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_format_over_http(http: httpx.Client, name: str, fmt: str) -> None:
    params = QUERIES[name]
    rows = http.get(f"/api/v1/tables/{name}", params=params).json()
    assert rows and all(r[k] == v for r in rows for k, v in params.items())
    response = http.get(f"/api/v1/tables/{name}", params={**params, "format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == FORMATS[fmt].media_type
    measure = _measure(name)
    values = [r[measure] for r in rows]
    assert any(v is not None for v in values)
    if fmt == "parquet":
        back = pq.read_table(io.BytesIO(response.content))
        assert back[measure].to_pylist() == values
        assert back["status"].to_pylist() == [r["status"] for r in rows]
    elif fmt == "csv":
        text = response.content.decode("utf-8-sig")
        dialect = csv.Sniffer().sniff(text.splitlines()[0])
        got = [r[measure] for r in csv.DictReader(io.StringIO(text), dialect=dialect)]
        assert [float(v) if v else None for v in got] == values
    elif fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(response.content))["data"]
        header = [c.value for c in next(sheet.iter_rows())]
        at = header.index(measure)
        assert [row[at].value for row in sheet.iter_rows(min_row=2)] == values
    elif fmt == "jsonstat":
        doc = orjson.loads(response.content)
        assert doc["id"][-1] == "measure" and doc["id"][0] == "ar"
        value = doc["value"]
        cells = value.values() if isinstance(value, dict) else value
        shown = [v for v in cells if v is not None]
        assert sum(shown) == pytest.approx(
            sum(sum(v for k, v in r.items() if k in _numbers(r) and v is not None) for r in rows)
        )
    elif fmt == "xml":
        root = ET.fromstring(response.content)
        found = [e.text for e in root.iter() if e.tag.split("}")[-1] == measure]
        assert [float(v) if v else None for v in found] == values
    else:
        assert orjson.loads(response.content) == rows


def _numbers(row: dict[str, object]) -> set[str]:
    return {k for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def test_names_stand_beside_codes(http: httpx.Client) -> None:
    rows = http.get("/api/v1/tables/npr/behandlingssted/ar", params={"ar": "2024"}).json()
    assert all(r["hf_navn"].endswith("HF") or "Sykehus" in r["hf_navn"] for r in rows)
    assert all(r["behandlingssted_navn"] for r in rows)
    assert {r["rhf_navn"] for r in rows} <= {
        "Helse Sør-Øst RHF", "Helse Vest RHF", "Helse Midt-Norge RHF", "Helse Nord RHF"
    }  # fmt: skip


@pytest.mark.parametrize("table", ["npr/behandlingssted/maned", "npr/ssb/behandlingssted/ar"])
def test_the_behandlingssted_is_named_in_every_answer(http: httpx.Client, table: str) -> None:
    # the registry of npr_reference: one unit renamed on 15 March 2024, one not held
    params = {"ar": "2024", "behandlingssted_id": f"{RENAMED_UNIT},{ABSENT_UNIT},{FODESTUE}"}
    if table.endswith("maned"):
        params["maned"] = "202402,202406"
    rows = http.get(f"/api/v1/tables/{table}", params=params).json()
    named = {(r.get("maned", r["ar"]), r["behandlingssted_id"]): r["behandlingssted_navn"]
             for r in rows}  # fmt: skip
    if table.endswith("maned"):
        assert named[("202402", str(RENAMED_UNIT))] == OLD_NAME
        assert named[("202406", str(RENAMED_UNIT))] == NEW_NAME
        assert named[("202406", str(FODESTUE))] == unit_name(FODESTUE)
    else:  # SSB's figure leaves the fødestue out
        assert named == {("2024", str(RENAMED_UNIT)): NEW_NAME, ("2024", str(ABSENT_UNIT)): "3012"}
    keys = list(rows[0])
    assert keys.index("behandlingssted_navn") == keys.index("behandlingssted_id") + 1
    # CSV: the column beside the id, the same names row by row
    text = http.get(f"/api/v1/tables/{table}", params={**params, "format": "csv"}).text
    dialect = csv.Sniffer().sniff(text.lstrip("\ufeff").splitlines()[0])
    got = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), dialect=dialect))
    assert [r["behandlingssted_navn"] for r in got] == [r["behandlingssted_navn"] for r in rows]
    header = list(got[0])
    assert header.index("behandlingssted_navn") == header.index("behandlingssted_id") + 1
    # JSON-stat: a dimension of its own, its categories labelled by the names
    response = http.get(f"/api/v1/tables/{table}", params={**params, "format": "jsonstat"})
    doc = orjson.loads(response.content)
    assert doc["id"][doc["id"].index("behandlingssted_id") + 1] == "behandlingssted_navn"
    category = doc["dimension"]["behandlingssted_navn"]["category"]
    assert set(category["label"].values()) == {r["behandlingssted_navn"] for r in rows}


def test_a_bad_parameter_is_a_problem(http: httpx.Client) -> None:
    response = http.get("/api/v1/tables/npr/hf/ar", params={"kommune": "0301"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "query.unknown_dimension"
