"""The dashboard's classification browser, tariff lists and catalogue pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("/dashboard/classifications", "Standard for kommuneinndeling"),
        ("/dashboard/classifications/131?date=2023-06-01", "Kommuneinndeling 2020-2023"),
        ("/dashboard/classifications/610", "SYNTHETIC"),
        ("/dashboard/tariffs?list=takstkoder&gyldigdato=2018-08-09", "2ad"),
        ("/dashboard/tariffs?list=fagomraader", "Audiopedagog"),
        ("/dashboard/catalog", "KONTROLL OG UTBETALING AV HELSEREFUSJONER"),
    ],
)
def test_pages(client: TestClient, url: str, text: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert text in response.text


def test_home_links_the_reference_pages(client: TestClient) -> None:
    home = client.get("/").text
    for href in ("/dashboard/classifications", "/dashboard/tariffs", "/dashboard/catalog"):
        assert f'href="{href}"' in home


def test_no_version_at_the_date(client: TestClient) -> None:
    page = client.get("/dashboard/classifications/630?date=2014-01-01")  # 630 starts in 2015
    assert page.status_code == 200 and "No version" in page.text


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/dashboard/classifications/999", 404),
        ("/dashboard/tariffs?list=x", 404),
        ("/dashboard/classifications/131?date=nope", 400),
    ],
)
def test_page_errors(client: TestClient, url: str, status: int) -> None:
    response = client.get(url)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
