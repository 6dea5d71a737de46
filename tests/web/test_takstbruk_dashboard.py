"""The takstbruk dashboard page, over a release built from SYNTHETIC claims: rendered on
the server (TestClient) and used in a real headless Chromium (marker ``browser``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright
from test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, refuse_the_internet

from helsestat.api import create_app
from helsestat.settings import Settings
from lakes import claims_release

SCREENSHOT = Path("/tmp/dashboard-takstbruk.png")
PAGE = "/dashboard/takstbruk"


@pytest.fixture(scope="module")
def lake_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A lake with one release built from 60 000 synthetic claim lines."""
    lake = claims_release(tmp_path_factory.mktemp("takstbruk-web"), 60_000, seed=11)
    return Settings(demo_mode=True, data_dir=lake.root)


@pytest.fixture(scope="module")
def client(lake_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(lake_settings)) as client:
        yield client


def test_home_links_to_the_takstbruk_page(client: TestClient) -> None:
    assert f'href="{PAGE}"' in client.get("/").text


def test_the_form_before_a_query(client: TestClient) -> None:
    page = client.get(PAGE)
    assert page.status_code == 200
    assert '<option value="LE" selected>LE – Lege</option>' in page.text
    assert '<option value="0301">0301 Oslo</option>' in page.text
    assert 'class="data"' not in page.text


def test_a_query_shows_rows_chart_and_every_download(client: TestClient) -> None:
    query = {"fagomraade": "LE", "niva": "fylke", "periode": "ar", "fra": "2015",
             "til": "2019", "fylker": ["03", "46"], "takstkoder": ["2ad", "H1"]}  # fmt: skip
    page = client.get(PAGE, params=query)
    assert page.status_code == 200
    assert page.text.count('class="download"') == 6
    assert 'id="chart-data"' in page.text
    csv_link = (
        "/v1/takstbruk/eksport/agtakst/fylke/ar?fagomraade=LE&amp;fomar=2015&amp;tomar=2019"
        "&amp;takstkoder=2ad,H1&amp;fylker=03,46"
    )
    assert csv_link in page.text
    rows = page.text.split("<tbody>")[1].split("</tbody>")[0].count("<tr>")
    api = client.get("/v1/takstbruk/agtakst/fylke/ar?fagomraade=LE&fomar=2015&tomar=2019"
                     "&takstkoder=2ad,H1&fylker=03,46")  # fmt: skip
    assert rows == len(api.json()) > 0


def test_a_bad_period_is_explained_on_the_page(client: TestClient) -> None:
    page = client.get(PAGE, params={"fagomraade": "LE", "periode": "maned", "fra": "201905",
                                    "til": "201805"})  # fmt: skip
    assert page.status_code == 200
    assert 'role="alert"' in page.text and "is after" in page.text


@pytest.mark.browser
def test_takstbruk_page_in_chromium(
    lake_settings: Settings, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("run make system-deps (apt-get install chromium)")
    with serve(create_app(lake_settings)) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            outside = refuse_the_internet(page, base_url)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(f"{base_url}/")
            page.get_by_role("link", name="Explore takstbruk").click()
            page.wait_for_url(f"{base_url}{PAGE}")
            page.select_option("#fagomraade", "LE")
            page.select_option("#niva", "kommune")
            page.select_option("#periode", "maned")
            page.fill("#fra", "201805")
            page.fill("#til", "201905")
            page.select_option("#kommuner", ["0301"])
            page.select_option("#takstkoder", ["2ad", "H1"])
            page.get_by_role("button", name="Show").click()
            page.wait_for_selector("table.data tbody tr")

            rows = page.locator("table.data tbody tr")
            assert rows.count() > 0
            first = rows.nth(0).locator("td").all_inner_texts()
            assert first[:2] == ["2018", "5"] and first[5:7] == ["0301", "03"]
            assert first[2] in ("2ad", "H1")
            page.wait_for_selector("#chart .plot-container svg.main-svg", timeout=15_000)
            assert page.locator("#chart .scatterlayer .trace").count() == 2

            href = page.locator("a.download", has_text="csv").get_attribute("href")
            assert href is not None and href.startswith("/v1/takstbruk/eksport/agtakst/")
            download = httpx.get(base_url + href)
            assert download.status_code == 200
            records = list(csv.DictReader(io.StringIO(download.text)))
            assert len(records) == rows.count()
            assert {r["behandler_kommunenr"] for r in records} == {"0301"}

            page.screenshot(path=str(SCREENSHOT), full_page=True)
            assert errors == []
            assert outside == []
        finally:
            browser.close()
