"""The NPR dashboard in headless Chromium (marker ``browser``), in Norwegian: the rates per
catchment area on the tile-grid map (one tile per area, coloured by the rate), a sector
change redrawing it, the HF flow matrix as a heatmap whose cells are the API's shares, and
the time series per sector (SYNTHETIC stored episodes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from npr_lake import ABSENT_UNIT, NEW_NAME, OLD_NAME, RENAMED_UNIT
from npr_release import npr_release
from playwright.sync_api import Page, sync_playwright

from helsestat.api import create_app
from helsestat.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    yield npr_release(tmp_path_factory.mktemp("npr-web"))


def test_the_pages_answer_with_the_chosen_year_and_sector(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        page = client.get("/dashboard/npr")
        assert page.status_code == 200
        assert '<option value="2024" selected>2024</option>' in page.text  # the last year
        assert '<option value="somatikk" selected>Somatikk</option>' in page.text
        flow = client.get("/dashboard/npr/flyt", params={"ar": "2023", "sektor": "tsb"})
        assert "/api/v1/tables/npr/flyt/matrise?ar=2023&amp;sektor=tsb&amp;format=csv" in flow.text
        # a value the data do not hold falls back to the default
        odd = client.get("/dashboard/npr/tid", params={"ar": "1999"})
        assert '<option value="2024" selected>2024</option>' in odd.text


def _chart(page: Page, panel: str, n: int = 0) -> list[dict[str, Any]]:
    selector = f"{panel} .chart"
    page.wait_for_function(
        f"document.querySelectorAll('{selector}.js-plotly-plot').length > {n}", timeout=20_000
    )
    data: list[dict[str, Any]] = page.evaluate(
        f"() => document.querySelectorAll('{selector}')[{n}].data"
    )
    return data


def _lightness(css: str) -> float:
    """Relative lightness of a CSS ``rgb(r, g, b)`` colour (0 black … 1 white)."""
    r, g, b = (int(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


@pytest.mark.browser
def test_map_flow_and_series_in_chromium(
    settings: Settings, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("run make system-deps (apt-get install chromium)")
    with serve(create_app(settings)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{base}/")
            page.get_by_role("link", name="Explore specialist-care activity (NPR)").click()
            page.wait_for_url(f"{base}/dashboard/npr")
            assert page.locator("html").get_attribute("lang") == "nb"

            def rates(sektor: str) -> list[dict[str, Any]]:
                rows: list[dict[str, Any]] = httpx.get(
                    f"{base}/api/v1/tables/npr/rater/omrade",
                    params={"ar": "2024", "sektor": sektor},
                ).json()
                return [r for r in rows if r["bo_omrade"] != "ukjent"]

            (trace,) = _chart(page, "#panel-npr-rater-omrade")
            api = rates("somatikk")
            assert len(trace["x"]) == len(api) > 10
            names = [c[0] for c in trace["customdata"]]
            assert names == [r["omrade_navn"] for r in api]
            shown = [r["pasienter_per_1000"] for r in api if r["status"] == "published"]
            assert shown and set(shown) <= set(trace["marker"]["color"])
            # darker is more, as the description says: the tile of the highest rate is
            # drawn darker than the tile of the lowest
            fills: list[str] = page.evaluate(
                "() => Array.from(document.querySelectorAll("
                "'#panel-npr-rater-omrade .scatterlayer .point'), "
                "p => getComputedStyle(p).fill)"
            )
            assert len(fills) == len(api)
            values = [r["pasienter_per_1000"] if r["status"] == "published" else None for r in api]
            known = [i for i, v in enumerate(values) if v is not None]
            high = max(known, key=lambda i: values[i])
            low = min(known, key=lambda i: values[i])
            assert values[high] > values[low]
            assert _lightness(fills[high]) < _lightness(fills[low]), (fills[high], fills[low])
            page.locator("#panel-npr-rater-omrade .scatterlayer .point").first.hover(force=True)
            hover = page.locator(".hoverlayer .hovertext").first
            hover.wait_for(timeout=5_000)
            assert (hover.text_content() or "").startswith(names[0])

            page.select_option("#sektor", "phv")
            page.get_by_role("button", name="Vis", exact=True).click()
            page.wait_for_url("**sektor=phv**")
            (phv,) = _chart(page, "#panel-npr-rater-omrade")
            assert [c[0] for c in phv["customdata"]] == [r["omrade_navn"] for r in rates("phv")]

            page.get_by_role("link", name="Pasientstrømmer", exact=True).click()
            page.wait_for_url("**/dashboard/npr/flyt**sektor=phv**")
            (heat,) = _chart(page, "#panel-npr-flyt-matrise")
            assert heat["type"] == "heatmap"
            matrix = httpx.get(
                f"{base}/api/v1/tables/npr/flyt/matrise", params={"ar": "2024", "sektor": "phv"}
            ).json()
            cells = {(r["bo_hf_navn"], r["hf_navn"]): r["andel_episoder"] for r in matrix}
            for i, down in enumerate(heat["y"]):
                for j, across in enumerate(heat["x"]):
                    assert heat["z"][i][j] == cells.get((down, across)), (down, across)
            assert any(v is not None for row in heat["z"] for v in row)
            # the HF on both axes first, in the same order: the diagonal is own-area care
            shared = set(heat["x"]) & set(heat["y"])
            assert len(shared) > 10
            assert heat["x"][: len(shared)] == heat["y"][: len(shared)]

            page.get_by_role("link", name="Utvikling per sektor", exact=True).click()
            page.wait_for_url("**/dashboard/npr/tid**")
            series = _chart(page, "#panel-npr-landet-ar")
            assert {t["name"] for t in series if t.get("mode") != "markers"} >= {
                "Somatikk", "Psykisk helsevern for voksne"
            }  # fmt: skip

            # the behandlingssteder by the names the unit registry gave them, in the chart
            # and in the rows beside their RESH id
            page.get_by_role("link", name="Behandlingssteder", exact=True).click()
            page.wait_for_url("**/dashboard/npr/steder**sektor=phv**")
            places = httpx.get(
                f"{base}/api/v1/tables/npr/behandlingssted/ar",
                params={"ar": "2024", "sektor": "phv"},
            ).json()
            names = {r["behandlingssted_navn"] for r in places}
            assert NEW_NAME in names and OLD_NAME not in names
            (bars,) = [t for t in _chart(page, "#panel-npr-behandlingssted-ar")
                       if t.get("type") == "bar"]  # fmt: skip
            # a place that moved to another HF during the year: a bar per HF, by its name
            assert bars["orientation"] == "h" and {y.split(" · ")[0] for y in bars["y"]} == names
            assert len(bars["y"]) == len(places) == len(set(bars["y"]))
            assert all(" · " not in y or y.split(" · ")[1].endswith(" HF") for y in bars["y"])
            assert not any(y.isdigit() for y in bars["y"] if y != str(ABSENT_UNIT))
            rows = page.locator("#panel-npr-behandlingssted-ar table tbody tr")
            assert rows.count() == len(places)
            shown = rows.filter(has_text=NEW_NAME)
            assert shown.count() >= 1
            assert str(RENAMED_UNIT) in (shown.first.text_content() or "")
            assert errors == []
        finally:
            browser.close()
