"""The catchment-area dashboard in headless Chromium (marker ``browser``): the tile-grid map
of each service's areas coloured by HF with the population on hover, saved as SVG by the
plot's download button, a service change redrawing it, and the drill-down RHF → HF → area →
kommune."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, sync_playwright
from test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, refuse_the_internet

from catchment_release import catchment_release
from helsestat.api import create_app
from helsestat.settings import Settings

MAP = "/dashboard/opptak"
PANEL = "#panel-opptak-kart"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    yield catchment_release(tmp_path_factory.mktemp("opptak-web"), years=(2024,))


def _tiles(page: Page) -> list[dict[str, Any]]:
    page.wait_for_function(
        f"document.querySelector('{PANEL} .chart.js-plotly-plot') !== null", timeout=20_000
    )
    data: list[dict[str, Any]] = page.evaluate(
        f"() => document.querySelector('{PANEL} .chart').data"
    )
    return data


@pytest.mark.browser
def test_map_and_drill_down_in_chromium(
    settings: Settings, serve: Callable[[FastAPI], AbstractContextManager[str]], tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("run make system-deps (apt-get install chromium)")
    with serve(create_app(settings)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100}, accept_downloads=True)
            outside = refuse_the_internet(page, base)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(f"{base}/")
            page.get_by_role("link", name="Explore the catchment areas (opptaksområder)").click()
            page.wait_for_url(f"{base}{MAP}")
            assert page.locator("html").get_attribute("lang") == "nb"
            traces = _tiles(page)
            api = httpx.get(f"{base}/api/v1/tables/opptak/kart", params={"tjeneste": "SOM"}).json()
            # one colour (trace) per HF, one tile per area, hover text = name and population
            assert len(traces) == len({r["hf"] for r in api}) == 21
            tiles = {c[0]: c[1] for t in traces for c in t["customdata"]}
            assert len(tiles) == len(api) == 21
            ous = next(r for r in api if r["navn"] == "OUS")
            assert tiles["OUS"] == f"{ous['personer']:,}".replace(",", "\u202f")
            colours = {t["marker"]["color"] for t in traces}
            assert len(colours) == 21
            page.locator(f"{PANEL} .scatterlayer .point").first.hover(force=True)
            hover = page.locator(".hoverlayer .hovertext").first
            hover.wait_for(timeout=5_000)
            text = hover.text_content() or ""
            assert re.search(r"\(.+\): [\d\u202f]+$", text), text  # area (HF): population

            # the map as SVG from the plot's download button
            page.locator(f"{PANEL} .chart").hover()
            with page.expect_download() as info:
                page.locator(f"{PANEL} .modebar-btn[data-title^='Download plot']").click()
            saved = tmp_path / "map.svg"
            info.value.save_as(saved)
            assert saved.read_text(encoding="utf-8").lstrip().startswith("<svg")

            # another service: the DPS areas (69) on the same grid
            page.select_option("#tjeneste", "DPS")
            page.get_by_role("button", name="Vis", exact=True).click()
            page.wait_for_url("**tjeneste=DPS**")
            dps = _tiles(page)
            assert sum(len(t["x"]) for t in dps) == 69

            # the drill-down: RHF → HF → area → kommune
            page.get_by_role("link", name="Opptaksområder", exact=True).click()
            page.wait_for_url("**/dashboard/opptak/omrader**")
            drill = page.locator("#panel-opptak-omrader")
            assert drill.locator("tbody tr").count() == 5  # the country and four RHF
            for level in ("rhf", "hf", "omrade"):
                drill.locator("tbody tr").nth(1).locator("a").click()
                page.wait_for_url(f"**{level}=**")
            crumbs = drill.locator(".drill-crumbs li").all_inner_texts()
            assert len(crumbs) == 4 and crumbs[0].strip() == "Hele landet"
            assert drill.locator("thead th").first.inner_text() == "Kommune"
            assert errors == [] and outside == []
        finally:
            browser.close()
