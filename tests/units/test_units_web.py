"""The unit pages of the dashboard: the tree as of a chosen date, search by name or id, a
unit's history — server-rendered (TestClient) and in Chromium (Playwright, offline)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright
from sqlalchemy.engine import Engine

from helsestat.api import create_app
from helsestat.reference.units import unit_versions
from helsestat.settings import Settings
from helsestat.store.db.database import session_factory

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


@pytest.fixture(scope="module")
def settings(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(demo_mode=True, data_dir=tmp_path_factory.mktemp("lake"), database_url=demo_url)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def moved_unit(demo_engine: Engine) -> int:
    """A unit of the demo tree that moved once (two parents in its history)."""
    with session_factory(demo_engine)() as session:
        from helsestat.reference.units import search

        for hit in search(session, "avdeling", limit=500):
            versions = unit_versions(session, hit.unit_id)
            if len({v.fields.parent_id for v in versions}) == 2:
                return hit.unit_id
    raise AssertionError("the demo tree has a moved department")


def test_the_tree_page_on_a_date(client: TestClient) -> None:
    page = client.get("/dashboard/units", params={"date": "2003-06-01"})
    assert page.status_code == 200
    assert '<strong id="as-of">2003-06-01</strong>' in page.text
    assert "Helse Vest RHF" in page.text and "Helse Bergen HF" in page.text
    later = client.get("/dashboard/units", params={"date": "2024-06-01"})
    assert later.text.count("<li data-unit=") > page.text.count("<li data-unit=")
    sweden = client.get("/dashboard/units", params={"country": "SE", "date": "2024-06-01"})
    assert "Region Stockholm" in sweden.text and "Helse Vest RHF" not in sweden.text
    empty = client.get("/dashboard/units", params={"date": "1990-01-01"})
    assert "No unit is valid on 1990-01-01" in empty.text


def test_search_and_the_unit_page(client: TestClient, moved_unit: int) -> None:
    found = client.get("/dashboard/units", params={"q": str(moved_unit)})
    assert f'href="/dashboard/units/{moved_unit}?date=' in found.text
    page = client.get(f"/dashboard/units/{moved_unit}")
    assert page.status_code == 200
    versions = re.search(r'<table class="data" id="versions">(.*?)</table>', page.text, re.S)
    assert versions is not None and versions.group(1).count("<tr") >= 3  # header + 2 versions
    assert '<table class="data" id="audit">' in page.text and "import" in page.text
    assert "Placing on" in page.text
    problem = client.get("/dashboard/units/424242")
    assert problem.status_code == 404
    assert problem.headers["content-type"] == "application/problem+json"


def test_the_home_page_links_to_the_registry(client: TestClient) -> None:
    assert 'href="/dashboard/units"' in client.get("/").text


@pytest.mark.browser
@contextmanager
def _disposing(app: FastAPI) -> Iterator[None]:
    """Close the app's unit-registry engine when the served app stops."""
    try:
        yield
    finally:
        engine = getattr(app.state, "units_db", None)
        if engine is not None:
            engine.dispose()


def test_the_unit_pages_in_chromium(
    settings: Settings, moved_unit: int, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("run make system-deps (apt-get install chromium)")
    app = create_app(settings)
    with serve(app) as base, sync_playwright() as playwright, _disposing(app):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            outside: list[str] = []

            def route(request_route: object) -> None:
                request = request_route.request  # type: ignore[attr-defined]
                if request.url.startswith(base):
                    request_route.continue_()  # type: ignore[attr-defined]
                else:
                    outside.append(request.url)
                    request_route.abort()  # type: ignore[attr-defined]

            page.route("**/*", route)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(f"{base}/")
            page.get_by_role("link", name="Unit registry").click()
            page.wait_for_url(f"{base}/dashboard/units")
            assert page.locator(".banner").inner_text().startswith("Synthetic data")

            page.fill('input[name="date"]', "2004-01-01")
            page.get_by_role("button", name="Show").click()
            page.wait_for_url(re.compile(r".*date=2004-01-01.*"))
            assert page.locator("#as-of").inner_text() == "2004-01-01"
            hf = page.locator(
                "li[data-unit]", has=page.locator("summary", has_text="Helse Bergen HF")
            )
            inside = hf.last.locator("ul > li > details > summary > a").first
            assert not inside.is_visible()
            hf.last.locator("summary").first.click()  # unfold Helse Bergen HF
            assert inside.is_visible() and "Helse Bergen" in inside.inner_text()

            page.fill('input[name="q"]', str(moved_unit))
            page.get_by_role("button", name="Show").click()
            page.locator(f'.hits a[href^="/dashboard/units/{moved_unit}"]').click()
            page.wait_for_url(re.compile(rf".*/dashboard/units/{moved_unit}\?date=.*"))
            rows = page.locator("#versions tbody tr")
            assert rows.count() >= 2
            parents = {rows.nth(i).locator("td").nth(4).inner_text() for i in range(rows.count())}
            assert len(parents) >= 2  # it moved: two parents in its history
            assert page.locator("#audit tbody tr").count() >= 1
            page.screenshot(path="/tmp/units.png", full_page=False)
            assert errors == [] and outside == []
        finally:
            browser.close()
