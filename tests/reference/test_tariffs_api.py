"""Helfo's tariff endpoints (seed 004): every example URL, JSON and XML, the old prefix."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helsestat.errors import ReferenceError_
from helsestat.reference.snapshot import Reference
from helsestat.reference.tariff_files import read_csv_records
from helsestat.reference.tariffs import TAKST_FIELDS
from helsestat.synth.tariffs import tariff_files

DATA = Path(__file__).parents[2] / "src" / "helsestat" / "data" / "tariffs"
SEED_EXAMPLES = [
    "/v1/takstkoder?gyldigdato=2018-08-09&takstkode=2ad",
    "/v1/nlkkoder?gyldigdato=2025-06-04&nlkkode=NOR35342",
    "/v1/refusjonskategorisatser?gyldigdato=2018-08-09&samhandlertype=PO",
    "/v1/apatkombinasjoner?samhandlertype=PO",
    "/v1/bandasjister",
    "/v1/fagomraader",
]


@pytest.mark.parametrize("url", SEED_EXAMPLES)
@pytest.mark.parametrize("prefix", ["", "/api/opne-data"])
def test_seed_examples_return_rows(client: TestClient, url: str, prefix: str) -> None:
    response = client.get(prefix + url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert len(response.json()) >= 1
    xml = client.get(prefix + url, headers={"Accept": "application/xml"})
    assert xml.headers["content-type"] == "application/xml"
    root = ET.fromstring(xml.text)
    assert root.tag == "List" and len(root) == len(response.json())


def test_takst_fields_as_seed_004(client: TestClient) -> None:
    (row,) = client.get("/v1/takstkoder?gyldigdato=2018-08-09&takstkode=2ad").json()
    assert list(row) == list(TAKST_FIELDS)
    assert (row["fradato"], row["tildato"]) == ("2018-07-01", "2019-06-30")
    assert row["ugyldig_kombinasjon"].startswith("Alle unntatt ")


def test_nlk_shape(client: TestClient) -> None:
    (row,) = client.get(
        "/v1/nlkkoder?gyldigdato=2025-06-04&nlkkode=NOR35342&samhandlertype=LR"
    ).json()
    assert row["nlkKode"] == "NOR35342"
    (sats,) = row["refusjonskategorisats"]
    assert set(sats) == {
        "refusjonskategoriid",
        "refusjonskategori",
        "refusjonssats",
        "fradato",
        "tildato",
    }


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("takstkode=2a%25&gyldigdato=2018-08-09", ["2ad", "2ak"]),
        ("beskrivelse=%25legevakt%25&gyldigdato=2020-01-01", ["11ad", "11ak"]),
        ("fagomraade=KI&gyldigdato=2020-01-01", ["K1"]),
    ],
)
def test_takst_filters(client: TestClient, query: str, codes: list[str]) -> None:
    assert [r["takstkode"] for r in client.get(f"/v1/takstkoder?{query}").json()] == codes


def test_official_invalid_combinations(client: TestClient) -> None:
    url = (
        "/v1/takstkoder?gyldigdato=2020-01-01&takstkode={}"
        "&offisielle_ugyldige_takstkombinasjoner={}"
    )
    raw = client.get(url.format("2ad", "nei")).json()[0]["ugyldig_kombinasjon"]
    official = client.get(url.format("2ad", "ja")).json()[0]["ugyldig_kombinasjon"]
    assert raw == "Alle unntatt 2dd, 701a, H1, H11, Z91, Z92"
    assert official == "Alle unntatt 2dd, 701a, H1, H11"
    only_internal = client.get(url.format("301a", "ja")).json()[0]["ugyldig_kombinasjon"]
    assert only_internal == "Alle"  # 'Alle unntatt Z95' with Z95 filtered away


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/v1/takstkoder?gyldigdato=09.08.2018", "query.invalid_date"),
        ("/v1/takstkoder?fagomraade=XX", "reference.unknown_code"),
        ("/v1/refusjonskategorisatser?samhandlertype=ZZ", "reference.unknown_code"),
        (
            "/v1/takstkoder?offisielle_ugyldige_takstkombinasjoner=kanskje",
            "query.invalid_parameter",
        ),
    ],
)
def test_bad_parameters(client: TestClient, url: str, code: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_shipped_files_equal_the_generator() -> None:
    for name, text in tariff_files().items():
        assert (DATA / name).read_text(encoding="utf-8") == text, name


def test_claims_validation_view_still_works(reference: Reference) -> None:
    tariffs = reference.tariffs
    assert tariffs.takst_at("2ad", date(2018, 8, 9)) is not None
    assert tariffs.praksistyper["FALE"] == "LE"


def test_malformed_tariff_file_names_row_and_field() -> None:
    text = (DATA / "takstkoder.csv").read_text(encoding="utf-8").splitlines()
    text[3] = text[3].replace("2016-07-01", "2016-13-01", 1)
    bad = "\n".join(text)
    with pytest.raises(ReferenceError_, match=r"takstkoder.csv row 4, field 'fradato'"):
        read_csv_records(bad, "takstkoder.csv", TAKST_FIELDS)
