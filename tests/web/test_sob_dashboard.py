"""The 1177 Stöd och behandling dashboard, "Översikt" and "Invånare", over a release built
from SYNTHETIC events against the demo unit registry: rendered on the server (TestClient),
compared with what the API answers for the same query, and used in a real headless Chromium
(marker ``browser``)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from panel_html import Cell, PageHtml, PanelHtml, read_page
from playwright.sync_api import Page, sync_playwright
from test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, refuse_the_internet

from helsestat.api import create_app
from helsestat.publish.formats import FORMATS
from helsestat.settings import Settings
from helsestat.statistics.serving import Panel
from helsestat.statistics.sob.dashboard import INVANARE, LABELS, OVERSIKT
from sob_release import sob_release

PAGE = "/dashboard/sob"
INVANARE_PAGE = "/dashboard/sob/invanare"
SHOTS = {"oversikt": Path("/tmp/sob-oversikt.png"), "invanare": Path("/tmp/sob-invanare.png")}
CHARTED = ("bar", "hbar", "line", "pyramid")


@pytest.fixture(scope="module")
def sob_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return sob_release(tmp_path_factory.mktemp("sob-web"))


@pytest.fixture(scope="module")
def sob(sob_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(sob_settings)) as client:
        yield client


def api(client: TestClient, table: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/tables/sob/{table}", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def page(client: TestClient, path: str = PAGE, **params: str) -> PageHtml:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return read_page(response.text)


def follow(client: TestClient, href: str) -> PageHtml:
    response = client.get(href)
    assert response.status_code == 200, response.text
    return read_page(response.text)


def declared(table: str) -> Panel:
    return next(p for p in (*OVERSIKT.panels, *INVANARE.panels) if p.table == table)


def panel_id(panel: Panel) -> str:
    return "panel-" + panel.table.replace("/", "-")


def shown(value: object, percent: bool = False) -> str:
    """A number as the Swedish pages write it."""
    if isinstance(value, float):
        text = f"{value * 100 if percent else value:,.1f}"
        text = text.replace(",", "\u202f").replace(".", ",")
        return text + "\u202f%" if percent else text
    return f"{value:,}".replace(",", "\u202f")


def column_of(label: str, panel: Panel) -> str:
    """The column a header names (the page's Swedish label)."""
    names = panel.columns or (*panel.measures, *(panel.drill.names.values() if panel.drill else ()))
    return next(n for n in (*names, *LABELS) if LABELS.get(n) == label)


def assert_cell(cell: Cell, row: dict[str, Any], column: str, panel: Panel) -> None:
    value = row[column]
    if value is None and row["status"] == "published":
        assert cell.text == "", (column, row)  # no value (a share of nothing started)
    elif value is None:
        assert cell.text == "·" and "suppressed" in cell.classes and row["status"] in cell.classes
        assert row["status_rule"] in cell.title
        assert ("primärt skydd" if row["status"] == "primary" else "sekundärt skydd") in cell.title
    elif isinstance(value, (int, float)):
        assert cell.text == shown(value, column in panel.percent), (column, row)
    else:
        assert cell.text == LABELS.get(f"{column}={value}", value), (column, row)


def assert_panel_is_its_download(client: TestClient, view: PanelHtml, panel: Panel) -> None:
    """The panel's rows, marks and chart are those of the JSON its download link answers."""
    rows = client.get(view.downloads["json"]).json()
    assert len(view.rows) == len(rows) > 0
    for cells, row in zip(view.rows, rows, strict=True):
        for label, cell in zip(view.header, cells, strict=True):
            if panel.kind == "drill" and label == view.header[0]:
                continue  # the name of the row's level
            assert_cell(cell, row, column_of(label, panel), panel)
    if panel.kind in ("bar", "hbar", "line") and not panel.series:
        assert view.figure is not None
        charted = [r for r in rows if all(r[d] not in v for d, v in panel.skip.items())]
        axis = "x" if panel.kind == "hbar" else "y"
        for trace, measure in zip(view.figure["data"], panel.measures, strict=False):
            assert trace[axis] == [r[measure] for r in charted]  # gaps, never zeros


def test_both_pages_render_in_swedish(sob: TestClient) -> None:
    for path, declared in ((PAGE, OVERSIKT), (INVANARE_PAGE, INVANARE)):
        response = sob.get(path)
        html = response.text
        found = read_page(html)
        assert found.lang == "sv" and found.alerts == []
        assert [(t, a) for t, _, a in found.tabs] == [
            ("Översikt", declared is OVERSIKT),
            ("Invånare", declared is INVANARE),
        ]
        assert list(found.panels) == [panel_id(p) for p in declared.panels]
        for panel in declared.panels:
            view = found.panels[panel_id(panel)]
            assert view.title == panel.title
            assert sorted(view.downloads) == sorted(FORMATS)
            assert (view.figure is not None) == (panel.kind in CHARTED)
        assert '<button type="submit">Visa</button>' in html
        labels = re.findall(r'<label class="field \w+">(\w+)', html)
        assert labels == ["Från", "Till", "Län", "Vårdgivare", "Vårdenhet", "Process", "Moment"]
        assert "Ladda ner:" in html and "Visa tabell" in html
    first = read_page(sob.get(f"{PAGE}/oversikt").text)  # the first page under its own name too
    assert list(first.panels) == [panel_id(p) for p in OVERSIKT.panels]


def test_the_default_range_is_the_last_twelve_months(sob: TestClient) -> None:
    fields = page(sob).fields
    months = [r["manad"] for r in api(sob, "pagaende")]
    assert (fields["fom"].value, fields["tom"].value) == (months[0], months[-1])
    assert (fields["fom"].low, fields["tom"].high) == ("2015-10", months[-1])
    assert len(months) == 12


@pytest.mark.parametrize("params", [{}, {"fom": "2019-01", "tom": "2020-06", "lan": "01"}])
def test_every_panel_shows_what_its_download_holds(sob: TestClient, params: dict[str, str]) -> None:
    for path, declared in ((PAGE, OVERSIKT), (INVANARE_PAGE, INVANARE)):
        found = page(sob, path, **params)
        for panel in declared.panels:
            view = found.panels[panel_id(panel)]
            query = dict(parse_qsl(urlsplit(view.downloads["json"]).query))
            assert query == {"fom": found.fields["fom"].value, "tom": found.fields["tom"].value,
                             **params}  # fmt: skip
            assert_panel_is_its_download(sob, view, panel)


def test_suppressed_cells_are_marked_in_rows_and_charts(sob: TestClient) -> None:
    found = page(sob, INVANARE_PAGE)
    view = found.panels["panel-sob-vardtagare_kon"]
    rows = api(sob, "vardtagare_kon")
    hidden = [r for r in rows if r["status"] != "published"]
    assert hidden, "the release should hide some persons"
    marked = [c for c in view.column("Vårdtagare") if "suppressed" in c.classes]
    assert len(marked) == len(hidden)
    assert "dolt värde (färre än 11 personer)" in view.legend
    assert view.figure is not None
    charted = [r for r in rows if r["kon"] != "totalt"]
    bars = next(t for t in view.figure["data"] if t["type"] == "bar")
    assert bars["y"] == [r["vardtagare"] for r in charted]  # a gap, never a zero
    gaps = {t["name"]: t for t in view.figure["data"] if t.get("mode") == "markers"}
    primary = gaps["dolt värde (färre än 11 personer)"]
    assert all("vardtagare<=10" in tip for tip in primary["hovertext"])
    marked_x = sorted(x for t in gaps.values() for x in t["x"])
    assert marked_x == sorted(LABELS[f"kon={r['kon']}"] for r in charted if r["vardtagare"] is None)


def test_the_pyramid_puts_women_left_and_men_right(sob: TestClient) -> None:
    view = page(sob, INVANARE_PAGE).panels["panel-sob-vardtagare_kon_alder"]
    assert view.figure is not None
    women, men = (t for t in view.figure["data"] if t["type"] == "bar")
    assert (women["name"], men["name"]) == ("Kvinnor", "Män")
    assert women["orientation"] == men["orientation"] == "h"
    groups = ["0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+", "Okänd ålder"]
    assert women["y"] == men["y"] == groups
    rows = api(sob, "vardtagare_kon_alder")
    expected = [
        r["vardtagare"] for r in rows if r["kon"] == "kvinna" and r["aldersgrupp"] != "totalt"
    ]
    assert women["customdata"] == expected
    assert women["x"] == [None if v is None else -v for v in expected]
    assert all(v is None or v >= 0 for v in men["x"]) and any(v for v in men["x"])


def test_a_range_change_changes_the_numbers(sob: TestClient) -> None:
    before = page(sob).panels["panel-sob-region"].rows[0]
    found = page(sob, fom="2019-01", tom="2019-12")
    after = found.panels["panel-sob-region"].rows[0]
    top = api(sob, "region", fom="2019-01", tom="2019-12")[0]
    assert after[1].text == shown(top["startade"]) and after[1].text != before[1].text
    figure = found.panels["panel-sob-pagaende"].figure
    assert figure is not None
    assert figure["data"][0]["x"] == [f"2019-{m:02d}" for m in range(1, 13)]


def test_drill_down_narrows_the_page_and_the_breadcrumb_goes_back(sob: TestClient) -> None:
    top = page(sob)
    region = top.panels["panel-sob-region"]
    assert region.header[0] == "Län" and region.row_classes[0] == "current"
    assert region.rows[0][0].text == "Riket" and region.rows[0][0].href == ""
    assert region.crumbs == []
    lan_row = region.rows[1][0]
    lan = dict(parse_qsl(urlsplit(lan_row.href).query))["lan"]

    one = follow(sob, lan_row.href)
    region = one.panels["panel-sob-region"]
    assert region.header[0] == "Vårdgivare"
    assert region.crumbs == [("Riket", top.tabs[0][1]), (lan_row.link, "")]
    assert one.fields["lan"].value == lan
    lan_chart = one.panels["panel-sob-lan"].figure
    assert lan_chart is not None and lan_chart["data"][0]["x"] == [lan_row.link]
    assert_panel_is_its_download(sob, one.panels["panel-sob-veckodag"], declared("sob/veckodag"))
    children = api(sob, "region", lan=lan)[1:]
    assert [c.link for c in (r[0] for r in region.rows[1:])] == [
        r["vardgivare_namn"] for r in children
    ]

    giver_row = region.rows[1][0]
    two = follow(sob, giver_row.href)
    region = two.panels["panel-sob-region"]
    assert region.header[0] == "Vårdenhet"
    assert [t for t, _ in region.crumbs] == ["Riket", lan_row.link, giver_row.link]
    back = follow(sob, region.crumbs[1][1])
    assert back.panels["panel-sob-region"].header[0] == "Vårdgivare"
    assert back.fields["vardgivare"].value == ""

    three = follow(sob, region.rows[1][0].href)
    region = three.panels["panel-sob-region"]
    assert region.header[0] == "Moment"
    moment_row = region.rows[1][0]
    query = dict(parse_qsl(urlsplit(moment_row.href).query))
    assert {"lan", "vardgivare", "vardenhet", "process", "moment"} <= set(query)
    four = follow(sob, moment_row.href)
    assert four.fields["moment"].value == query["moment"]
    assert not four.fields["moment"].disabled
    assert len(four.panels["panel-sob-region"].rows) == 1  # the finest level: the node alone


def test_the_lists_offer_the_values_of_the_data(sob: TestClient) -> None:
    fields = page(sob).fields
    assert fields["lan"].options == [(r["lan"], r["lan_namn"]) for r in api(sob, "lan")]
    assert fields["moment"].disabled and fields["moment"].options == []
    lan = fields["lan"].options[0][0]
    fields = page(sob, lan=lan).fields
    givers = api(sob, "region", lan=lan)[1:]
    assert sorted(fields["vardgivare"].options) == sorted(
        (r["vardgivare"], r["vardgivare_namn"]) for r in givers
    )
    process = fields["process"].options[0][0]
    fields = page(sob, process=process).fields
    moments = api(sob, "moment", process=process)[1:]
    assert sorted(v for v, _ in fields["moment"].options) == sorted(r["moment"] for r in moments)


def test_a_filter_outside_the_chosen_branch_is_dropped(sob: TestClient) -> None:
    lans = [code for code, _ in page(sob).fields["lan"].options]
    giver = page(sob, lan=lans[0]).fields["vardgivare"].options[0][0]
    found = page(sob, lan=lans[1], vardgivare=giver)
    assert found.fields["lan"].value == lans[1] and found.fields["vardgivare"].value == ""
    assert "vardgivare" not in found.panels["panel-sob-lan"].downloads["csv"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"fom": "2020-01", "tom": "2019-01"}, "Från-månaden ligger efter till-månaden."),
        ({"fom": "2014-01", "tom": "2015-12"}, "Välj månader inom den period som har data."),
        ({"fom": "2019-13"}, "Ange månaderna som ÅÅÅÅ-MM, till exempel 2024-01."),
    ],
)
def test_a_bad_range_is_explained_in_swedish(
    sob: TestClient, params: dict[str, str], message: str
) -> None:
    found = page(sob, **params)
    assert len(found.alerts) == 1 and found.alerts[0].startswith(message)
    assert found.panels == {} and found.fields["fom"].value == params["fom"]


def test_downloads_answer_in_every_format(sob: TestClient) -> None:
    view = page(sob, lan="01").panels["panel-sob-region"]
    for fmt, href in view.downloads.items():
        response = sob.get(href)
        assert response.status_code == 200 and response.headers["content-type"] == (
            FORMATS[fmt].media_type
        )


def test_the_rest_of_the_site_stays_english(sob: TestClient) -> None:
    home = sob.get("/").text
    assert '<html lang="en">' in home and f'href="{PAGE}"' in home
    table = sob.get("/dashboard/tables/sob/vardtagare_kon")
    assert table.status_code == 200 and '<html lang="en">' in table.text
    assert "Download:" in table.text and 'class="num suppressed primary"' in table.text


# -- in a browser ---------------------------------------------------------------------------


def _charts_drawn(page: Page, count: int) -> None:
    page.wait_for_function(
        f"document.querySelectorAll('.panel .chart.js-plotly-plot').length === {count}",
        timeout=20_000,
    )


def _chart(page: Page, panel: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = page.evaluate(
        f"() => document.querySelector('#{panel} .chart').data"
    )
    return data


def _numbers(page: Page, panel: str) -> list[str]:
    return page.locator(f"#{panel} table.data tbody tr").first.locator("td").all_inner_texts()


@pytest.mark.browser
def test_sob_dashboard_in_chromium(
    sob_settings: Settings, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("run make system-deps (apt-get install chromium)")
    oversikt_charts = sum(p.kind in CHARTED for p in OVERSIKT.panels)
    invanare_charts = sum(p.kind in CHARTED for p in INVANARE.panels)
    with serve(create_app(sob_settings)) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            outside = refuse_the_internet(page, base_url)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(f"{base_url}/")
            page.get_by_role("link", name="Explore 1177 Stöd och behandling").click()
            page.wait_for_url(f"{base_url}{PAGE}")
            _charts_drawn(page, oversikt_charts)
            assert page.locator("html").get_attribute("lang") == "sv"
            page.screenshot(path=str(SHOTS["oversikt"]), full_page=True)
            whole = _numbers(page, "panel-sob-region")

            # a range change: the numbers and the months drawn follow
            page.fill("#fom", "2019-01")
            page.fill("#tom", "2019-12")
            page.get_by_role("button", name="Visa", exact=True).click()
            page.wait_for_url("**fom=2019-01**")
            _charts_drawn(page, oversikt_charts)
            in_2019 = _numbers(page, "panel-sob-region")
            assert in_2019[0] == "Riket" and in_2019 != whole
            top = httpx.get(f"{base_url}/api/v1/tables/sob/region?fom=2019-01&tom=2019-12")
            assert in_2019[1] == shown(top.json()[0]["startade"])
            months = _chart(page, "panel-sob-pagaende")[0]["x"]
            assert months == [f"2019-{m:02d}" for m in range(1, 13)]

            # a drill-down: a län, then a vårdgivare, narrow the table and the charts
            region = page.locator("#panel-sob-region")
            lan_name = region.locator("tbody tr").nth(1).locator("a").inner_text()
            region.locator("tbody tr").nth(1).locator("a").click()
            page.wait_for_url("**lan=**")
            _charts_drawn(page, oversikt_charts)
            assert _chart(page, "panel-sob-lan")[0]["x"] == [lan_name]
            assert page.locator("#lan option:checked").inner_text() == lan_name
            crumbs = page.locator("#panel-sob-region .drill-crumbs li").all_inner_texts()
            assert [c.strip() for c in crumbs] == ["Riket", lan_name]
            lan = dict(parse_qsl(urlsplit(page.url).query))["lan"]

            giver = region.locator("tbody tr").nth(1).locator("a")
            giver_name = giver.inner_text()
            giver.click()
            page.wait_for_url("**vardgivare=**")
            _charts_drawn(page, oversikt_charts)
            query = dict(parse_qsl(urlsplit(page.url).query))
            assert query["lan"] == lan and query["fom"] == "2019-01"
            heading = page.locator("#panel-sob-region thead th").first.inner_text()
            assert heading == "Vårdenhet"
            rows = httpx.get(f"{base_url}/api/v1/tables/sob/region", params=query).json()
            assert region.locator("tbody tr").count() == len(rows)
            week = httpx.get(f"{base_url}/api/v1/tables/sob/veckodag", params=query).json()
            drawn = [t["y"] for t in _chart(page, "panel-sob-veckodag")]
            assert drawn == [[r["startade"] for r in week], [r["avslutade"] for r in week]]
            assert page.locator("#vardgivare option:checked").inner_text() == giver_name

            # the downloads of a panel answer the same query
            href = page.locator("#panel-sob-process a.download", has_text="csv").get_attribute(
                "href"
            )
            assert href is not None
            download = httpx.get(base_url + href)
            assert download.status_code == 200
            records = list(csv.DictReader(io.StringIO(download.text)))
            table_rows = page.locator("#panel-sob-process tbody tr").count()
            assert len(records) == table_rows and {"process", "status"} <= set(records[0])

            # back up the breadcrumb, then the Invånare page keeps the query
            page.locator("#panel-sob-region .drill-crumbs a", has_text="Riket").click()
            page.wait_for_url(lambda url: "lan=" not in url)
            assert "fom=2019-01" in page.url
            page.get_by_role("link", name="Invånare", exact=True).click()
            page.wait_for_url("**/dashboard/sob/invanare?**")
            _charts_drawn(page, invanare_charts)
            assert "fom=2019-01" in page.url
            pyramid = _chart(page, "panel-sob-vardtagare_kon_alder")
            assert [t["name"] for t in pyramid][:2] == ["Kvinnor", "Män"]
            bars = page.locator("#panel-sob-vardtagare_kon_alder .barlayer .point")
            assert bars.count() > 0
            # suppressed: a gap marked in the chart's legend, a '·' with its reason in the rows
            legend = page.locator("#panel-sob-vardtagare_kon .legendtext").all_text_contents()
            assert "dolt värde (färre än 11 personer)" in legend
            page.locator("#panel-sob-vardtagare_kon summary").click()
            mark = page.locator("#panel-sob-vardtagare_kon td.suppressed.primary").first
            assert mark.is_visible() and mark.inner_text() == "·"
            title = mark.get_attribute("title") or ""
            assert "primärt skydd" in title and "vardtagare<=10" in title

            page.goto(f"{base_url}{INVANARE_PAGE}")
            _charts_drawn(page, invanare_charts)
            page.screenshot(path=str(SHOTS["invanare"]), full_page=True)
            assert errors == []
            assert outside == []
        finally:
            browser.close()
