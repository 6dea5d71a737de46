import json
import re
from pathlib import Path

import plotly
from fastapi.testclient import TestClient
from plotly.offline import get_plotlyjs

from helsestat.api import create_app
from helsestat.publish.formats import FORMATS
from helsestat.settings import Settings
from helsestat.store.lake import Lake


def test_home_lists_the_tables_of_the_current_release(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert 'href="/dashboard/tables/takstbruk/fylke/maned"' in html
    assert "Takstbruk by fylke and month" in html
    assert "Cases by regional health authority" in html
    assert "Release <code>r1</code>" in html


def test_home_before_the_first_build(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        html = client.get("/").text
    assert "No release has been published yet" in html


def test_dashboard_redirects_home(client: TestClient) -> None:
    response = client.get("/dashboard", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, "/")


def test_synthetic_data_banner_only_in_demo_mode(tmp_path: Path) -> None:
    demo = Settings(demo_mode=True, data_dir=tmp_path)
    real = Settings(data_dir=tmp_path, pseudonym_key="k" * 40)
    with TestClient(create_app(demo)) as client:
        assert "Synthetic data" in client.get("/").text
    with TestClient(create_app(real)) as client:
        assert "Synthetic data" not in client.get("/").text


def test_table_page_shows_suppressed_cells_with_status_and_rule(client: TestClient) -> None:
    html = client.get("/dashboard/tables/takstbruk/fylke/maned").text
    assert '<td class="num">5\u202f120</td>' in html
    assert (
        '<td class="num suppressed primary" title="suppressed (primary): antall &lt;= 5">·</td>'
        in html
    )
    assert (
        '<td class="num suppressed secondary" '
        'title="suppressed (secondary): protects 46/202402">·</td>'
    ) in html
    assert 'class="legend"' in html and "<strong>secondary</strong>" in html
    assert "2 suppressed" in html


def test_table_page_chart_is_the_first_measure_over_the_first_dimension(
    client: TestClient,
) -> None:
    html = client.get("/dashboard/tables/takstbruk/fylke/maned").text
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html)
    assert found is not None
    figure = json.loads(found.group(1))
    assert [(t["type"], t["name"], t["x"], t["y"]) for t in figure["data"]] == [
        ("scatter", "03", ["202401", "202402", "202403"], [5120, 4980, 5230]),
        ("scatter", "46", ["202401", "202402", "202403"], [2210, None, None]),
    ]
    assert figure["layout"]["title"]["text"] == "antall by maned"
    bars = client.get("/dashboard/tables/speshelse/rhf").text
    assert '"type": "bar"' in bars


def test_table_page_links_every_format_and_each_link_works(client: TestClient) -> None:
    html = client.get("/dashboard/tables/speshelse/rhf").text
    links = re.findall(r'<a class="download" href="([^"]+)"', html)
    assert links == [
        f"/api/v1/tables/speshelse/rhf?release=r1&amp;format={name}" for name in sorted(FORMATS)
    ]
    for link in links:
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200
        assert response.headers["x-helsestat-release"] == "r1"


def test_pages_load_nothing_from_the_internet(client: TestClient) -> None:
    for url in ("/", "/dashboard/tables/speshelse/rhf", "/docs"):
        html = client.get(url).text
        assert re.findall(r'(?:src|href)="(https?:)?//', html) == [], url
    assert 'src="/static/plotly.min.js?v=' in client.get("/dashboard/tables/speshelse/rhf").text


def test_plotly_js_is_served_from_the_wheel_with_long_cache_headers(client: TestClient) -> None:
    response = client.get("/static/plotly.min.js", params={"v": plotly.__version__})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.content == get_plotlyjs().encode()
    again = client.get("/static/plotly.min.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_static_assets(client: TestClient) -> None:
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
    assert "Plotly.newPlot" in client.get("/static/dashboard.js").text
    icon = client.get("/static/favicon.svg")  # linked by every page: no 404 per page view
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/").text


def test_an_earlier_release_can_be_shown(client: TestClient, published: Settings) -> None:
    with Lake(published.data_dir).release("r2"):
        pass
    assert "This release has no tables" in client.get("/").text
    older = client.get("/", params={"release": "r1"}).text
    assert 'href="/dashboard/tables/speshelse/rhf?release=r1"' in older
    page = client.get("/dashboard/tables/speshelse/rhf", params={"release": "r1"})
    assert page.status_code == 200
    assert client.get("/dashboard/tables/speshelse/rhf").json()["code"] == "table.not_found"
