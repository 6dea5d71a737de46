"""The dashboard in a real browser: Debian's Chromium driven by Playwright, offline.

Needs /usr/bin/chromium (``make system-deps``); without it the test fails — never skips —
so a machine that cannot run it is noticed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, sync_playwright

from helsestat.api import create_app
from helsestat.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path("/tmp/dashboard.png")


def refuse_the_internet(page: Page, base_url: str) -> list[str]:
    """Abort every request that does not go to the test server; returns their URLs."""
    outside: list[str] = []

    def route(request_route: object) -> None:
        request = request_route.request  # type: ignore[attr-defined]
        if request.url.startswith(base_url):
            request_route.continue_()  # type: ignore[attr-defined]
        else:
            outside.append(request.url)
            request_route.abort()  # type: ignore[attr-defined]

    page.route("**/*", route)
    return outside


@pytest.mark.browser
def test_dashboard_in_chromium(
    published: Settings, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("run make system-deps (apt-get install chromium)")
    with (
        serve(create_app(published)) as base_url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            outside = refuse_the_internet(page, base_url)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(f"{base_url}/")
            assert page.locator(".banner").inner_text().startswith("Synthetic data")
            page.get_by_role("link", name="Takstbruk by fylke and month").click()
            page.wait_for_url(f"{base_url}/dashboard/tables/takstbruk/fylke/maned")

            rows = page.locator("table.data tbody tr")
            assert rows.count() == 6
            assert rows.nth(0).locator("td").all_inner_texts() == ["202401", "03", "5\u202f120"]
            suppressed = page.locator("td.suppressed.primary")
            assert suppressed.inner_text() == "·"
            assert suppressed.get_attribute("title") == "suppressed (primary): antall <= 5"

            page.wait_for_selector("#chart .plot-container svg.main-svg", timeout=15_000)
            assert page.locator("#chart .scatterlayer .trace").count() == 2

            href = page.locator("a.download", has_text="csv").get_attribute("href")
            assert href is not None
            download = httpx.get(base_url + href)
            assert download.status_code == 200
            assert download.text.startswith("maned,fylke,antall,status,status_rule")

            page.screenshot(path=str(SCREENSHOT), full_page=True)
            assert errors == []
            assert outside == []
        finally:
            browser.close()
