"""The institution and drop lists through the API (JSON, CSV, Excel, dated file names,
problems), the dashboard page (TestClient and Chromium through Playwright, offline) and the
CLI command that writes a year's files."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import unquote

import click
import openpyxl
import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright

from helsestat.api import create_app
from helsestat.cli.institutions import institutions
from helsestat.errors import InputError
from helsestat.reference.units import SYSTEM, change_unit
from helsestat.settings import Settings
from helsestat.statistics.institutions import institution_lists
from helsestat.store.db.database import create_engine_for, migrate, session_factory
from helsestat.synth.units import load_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
YEAR = 2025


def _registry(path: Path) -> str:
    url = f"sqlite:///{path.as_posix()}"
    engine = create_engine_for(url)
    migrate(engine)
    with session_factory(engine).begin() as session:
        load_demo(session, seed=11, hf_limit=5, lan_limit=1, institutions=True)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("institutions")
    url = _registry(root / "reference.db")
    return Settings(demo_mode=True, data_dir=root / "var", database_url=url)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as client:
        yield client
    app.state.units_db.dispose()


def _lists(settings: Settings, year: int = YEAR):  # type: ignore[no-untyped-def]
    engine = create_engine_for(settings.resolved_database_url)
    try:
        with session_factory(engine)() as session:
            return institution_lists(session, year)
    finally:
        engine.dispose()


def test_the_lists_as_json_csv_and_excel(client: TestClient, settings: Settings) -> None:
    expected = _lists(settings)
    doc = client.get(f"/api/v1/institutions/{YEAR}").json()
    assert doc["date"] == f"{YEAR}-01-01"
    assert [r["enhet_id"] for r in doc["public"]] == [r.enhet_id for r in expected.public]
    assert [r["institusjonsnavn"] for r in doc["private"]] == [
        r.institusjonsnavn for r in expected.private
    ]
    made = datetime.now(UTC).date().strftime("%d%m%y")
    answer = client.get(f"/api/v1/institutions/{YEAR}?format=csv&list=private")
    assert answer.headers["content-type"].startswith("text/csv")
    name = unquote(answer.headers["content-disposition"].split("''", 1)[1])
    assert name == f"{YEAR} Private institusjoner spesialisthelsetjenesten ({made}).csv"
    rows = list(csv.DictReader(io.StringIO(answer.text), delimiter=";"))
    assert [r["foretakstype"] for r in rows] == [r.foretakstype for r in expected.private]
    book = client.get(f"/api/v1/institutions/{YEAR}?format=xlsx")
    sheets = openpyxl.load_workbook(io.BytesIO(book.content))
    assert sheets.sheetnames == ["Offentlige", "Private"]
    assert sheets["Offentlige"].max_row == 1 + len(expected.public)
    assert "Institusjoner spesialisthelsetjenesten" in unquote(book.headers["content-disposition"])


def test_changes_and_drop_lists(client: TestClient) -> None:
    changes = client.get(f"/api/v1/institutions/{YEAR}/changes").json()
    assert changes["previous_year"] == YEAR - 1
    closed = [c for c in changes["changes"] if c["endring"] == "nedlagt"]
    assert [c["institusjonsnavn_for"] for c in closed] == ["Vesterli klinikk"]
    assert closed[0]["institusjonsnavn"] == "" and closed[0]["aar_for"] == YEAR - 1
    drops = client.get(f"/api/v1/droplists/{YEAR}").json()
    first = drops["foretak"][0]["orgnr"]
    one = client.get(f"/api/v1/droplists/{YEAR}?foretak={first}&format=csv")
    rows = list(csv.DictReader(io.StringIO(one.text), delimiter=";"))
    assert rows and {r["foretaksorgnr"] for r in rows} == {first}
    assert len(rows) == sum(1 for e in drops["entries"] if e["foretaksorgnr"] == first)
    assert "fjernet" in {e["endring"] for e in drops["entries"]}  # Vesterli's site is gone
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/api/v1/droplists/{YEAR}?format=xlsx").content)
    )
    assert book.active.max_row == 1 + len(drops["entries"])
    missing = client.get(f"/api/v1/droplists/{YEAR}?foretak=999999999")
    assert missing.status_code == 404 and missing.json()["code"] == "lists.foretak_not_found"


def test_a_year_without_klass_6_is_a_problem(client: TestClient) -> None:
    answer = client.get("/api/v1/institutions/2005")
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "reference.classification_not_loaded"


def test_an_impossible_registry_is_a_422_naming_the_units_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    url = _registry(tmp_path / "broken.db")
    engine = create_engine_for(url)
    with session_factory(engine).begin() as session:
        lists = institution_lists(session, YEAR)
        broken = lists.public[0].enhet_id
        change_unit(session, SYSTEM, broken, date(2024, 3, 1), {"naeringskode": None})
    engine.dispose()
    settings = Settings(demo_mode=True, data_dir=tmp_path / "var", database_url=url)
    app = create_app(settings)
    with TestClient(app) as client:
        answer = client.get(f"/api/v1/institutions/{YEAR}")
        assert answer.status_code == 422
        problem = answer.json()
        assert problem["code"] == "lists.incomplete_registry"
        assert f"{broken}" in problem["detail"] and "no næringskode" in problem["detail"]
        page = client.get(f"/dashboard/institutions?year={YEAR}")
        assert page.status_code == 422 and 'id="list-error"' in page.text
        assert "no næringskode" in page.text and 'id="public"' not in page.text
    app.state.units_db.dispose()

    # The CLI writes nothing for the impossible year; last year's files stay.
    out = tmp_path / "lists"
    run = _cli(settings)
    assert run("write", "--year", str(YEAR - 1), "--out", str(out)).exit_code == 0
    before = sorted(p.name for p in (out / str(YEAR - 1)).rglob("*"))
    with pytest.raises(InputError, match="no næringskode"):
        run("write", "--year", str(YEAR), "--out", str(out))
    assert not (out / str(YEAR)).exists()
    assert sorted(p.name for p in (out / str(YEAR - 1)).rglob("*")) == before


def _cli(settings: Settings) -> Callable[..., click.testing.Result]:
    class Obj:
        def __init__(self) -> None:
            self.settings = settings

    def invoke(*args: str) -> click.testing.Result:
        result = CliRunner().invoke(institutions, list(args), obj=Obj(), catch_exceptions=True)
        if isinstance(result.exception, InputError):
            raise result.exception
        assert result.exit_code == 0, result.output
        return result

    return invoke


def test_the_cli_writes_a_years_files(settings: Settings, tmp_path: Path) -> None:
    result = _cli(settings)("write", "--year", str(YEAR), "--out", str(tmp_path))
    made = datetime.now(UTC).date().strftime("%d%m%y")
    folder = tmp_path / str(YEAR)
    names = {p.name for p in folder.iterdir() if p.is_file()}
    assert f"{YEAR} Institusjoner spesialisthelsetjenesten ({made}).xlsx" in names
    assert f"{YEAR} Endringer institusjoner ({made}).csv" in names
    assert {f"{YEAR} Dropplister ({made}).{ext}" for ext in ("csv", "json", "xlsx")} <= names
    per_foretak = list((folder / "dropplister").iterdir())
    assert per_foretak and f"in {folder}" in result.output


def test_the_page_lists_changes_and_drop_lists(client: TestClient) -> None:
    page = client.get(f"/dashboard/institutions?year={YEAR}")
    assert page.status_code == 200
    assert '<table class="data" id="public">' in page.text
    assert '<table class="data" id="private">' in page.text
    assert '<table class="data" id="changes">' in page.text and "nedlagt" in page.text
    assert f'href="/api/v1/institutions/{YEAR}?format=xlsx"' in page.text
    assert 'href="/dashboard/institutions"' in client.get("/dashboard/units").text


@pytest.mark.browser
def test_the_institution_page_in_chromium(
    settings: Settings, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("run make system-deps (apt-get install chromium)")
    app = create_app(settings)
    with serve(app) as base, sync_playwright() as playwright:
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
            page.goto(f"{base}/dashboard/units")
            page.get_by_role("link", name="Institutions").click()
            page.wait_for_url(re.compile(r".*/dashboard/institutions$"))
            page.fill('input[name="year"]', str(YEAR))
            page.get_by_role("button", name="Show").click()
            page.wait_for_url(re.compile(rf".*year={YEAR}.*"))
            assert page.locator("#as-of").inner_text() == f"{YEAR}-01-01"
            public = page.locator("#public tbody tr")
            assert public.count() > 10
            assert page.locator("#private tbody tr", has_text="oppdragsdokument").count() >= 1
            assert page.locator("#changes tbody tr", has_text="Vesterli klinikk").count() == 1
            second = page.locator("#foretak li a").nth(4)
            name = second.inner_text()
            second.click()
            page.wait_for_url(re.compile(r".*foretak=[0-9]{9}.*"))
            assert page.locator("#droplist tbody tr").count() >= 1
            assert page.locator("#drop-title").is_visible() and name
            with page.expect_download() as caught:
                page.get_by_role("link", name="Excel (public and private sheets)").click()
            assert caught.value.suggested_filename.startswith(
                f"{YEAR} Institusjoner spesialisthelsetjenesten ("
            )
            assert errors == [] and outside == []
        finally:
            browser.close()
            app.state.units_db.dispose()
