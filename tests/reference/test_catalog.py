"""The data source catalogue (seed 001) and the published tables, as JSON and DCAT-AP-NO."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from helsestat.errors import ReferenceError_
from helsestat.reference.catalog import parse_data_sources
from helsestat.reference.snapshot import Reference
from helsestat.statistics import STATISTICS
from helsestat.statistics.catalog import catalog as full_catalog

SEED_001 = {
    "IPLOS",
    "KPR",
    "KUHR",
    "RSIT",
    "PHV",
    "SOMATIKK",
    "SKADEDATA",
    "REHAB",
    "BUP",
    "ASPSOM",
    "ASPPHV",
    "AMK",
    "VENTELISTE",
    "TSB",
}


def test_every_seed_source_with_its_fields(reference: Reference) -> None:
    catalog = full_catalog(reference)
    assert {s.identifier for s in catalog.data_sources} == SEED_001
    for s in catalog.data_sources:
        assert s.title and s.full_title and s.owner == "Helsedirektoratet"
        assert s.description and s.legal_basis and s.access
    npr = [s for s in catalog.data_sources if s.register.startswith("Norsk pasientregister")]
    assert {str(s.production_date) for s in npr} == {"2018-04-12"}


def test_tables_come_from_the_statistics(reference: Reference) -> None:
    expected = [t.name for s in STATISTICS for t in s.tables]
    assert [t.identifier for t in full_catalog(reference).tables] == expected
    assert {t.source for t in full_catalog(reference).tables if t.statistic == "takstbruk"} == {
        "KUHR"
    }


def test_npr_tables_name_the_five_npr_datasets(reference: Reference) -> None:
    """An npr_episode extract holds all five NPR datasets of specialist care (the unit's
    sector says which), so each npr table names every one of them, each in the catalogue."""
    full = full_catalog(reference)
    npr = [t for t in full.tables if t.statistic.startswith("npr")]
    assert npr
    for table in npr:
        assert table.sources == ("SOMATIKK", "PHV", "BUP", "TSB", "REHAB")
        assert table.source == "SOMATIKK"
        assert all(full.data_source(s) is not None for s in table.sources)
    takstbruk = next(t for t in full.tables if t.statistic == "takstbruk")
    assert takstbruk.sources == ("KUHR",)


def test_a_table_with_several_sources_in_json_and_dcat(client: TestClient) -> None:
    doc = client.get("/api/catalog").json()
    table = next(t for t in doc["tables"] if t["identifier"].startswith("npr/"))
    assert table["source"] == "SOMATIKK"
    assert table["sources"] == ["SOMATIKK", "PHV", "BUP", "TSB", "REHAB"]
    jsonld = json.loads(client.get("/api/catalog/dcat.jsonld").text)
    (root,) = jsonld["@graph"]
    node = next(d for d in root["dcat:dataset"] if d["@id"].endswith("/" + table["identifier"]))
    assert [s["@id"] for s in node["dct:source"]] == [
        f"http://testserver/api/catalog/datasets/{s}" for s in table["sources"]
    ]
    turtle = client.get("/api/catalog/dcat.ttl").text
    assert "<http://testserver/api/catalog/datasets/REHAB>" in turtle
    page = client.get("/dashboard/catalog").text
    assert "SOMATIKK, PHV, BUP, TSB, REHAB" in page


def test_json_turtle_and_jsonld(client: TestClient) -> None:
    doc = client.get("/api/catalog").json()
    assert len(doc["data_sources"]) == 14 and doc["tables"]
    turtle = client.get("/api/catalog", headers={"Accept": "text/turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert "<http://testserver/api/catalog/datasets/KUHR> a dcat:Dataset ;" in turtle.text
    assert 'dct:identifier "KUHR"' in turtle.text
    assert turtle.text.count(" a dcat:Dataset ;") == 14 + len(doc["tables"])
    jsonld = json.loads(client.get("/api/catalog/dcat.jsonld").text)
    (root,) = jsonld["@graph"]
    assert jsonld["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    assert len(root["dcat:dataset"]) == 14 + len(doc["tables"])
    assert client.get("/api/catalog/dcat.ttl").text == turtle.text
    kuhr = client.get("/api/catalog/datasets/KUHR").json()
    assert kuhr["full_title"].startswith("KONTROLL OG UTBETALING")
    assert client.get("/api/catalog/datasets/NOPE").status_code == 404


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[", "c.json: line 1: not JSON"),
        ('{"data_sources": {}}', "c.json: data_sources: missing or not a list"),
        (
            '{"data_sources": [{"identifier": "X", "title": "T"}]}',
            "c.json: data_sources[0] (X), field 'full_title': missing",
        ),
    ],
)
def test_bad_catalogue_files(text: str, message: str) -> None:
    with pytest.raises(ReferenceError_) as raised:
        parse_data_sources(text, "c.json")
    assert message in str(raised.value)
