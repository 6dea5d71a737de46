"""1177 Stöd och behandling served: a release holding the statistic's range cube (built from
SYNTHETIC events against the demo unit registry) answers every table for any month range
in all six formats, with ETags, parameter errors as problems, and each table an operation
of the API."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import orjson
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from helsestat.api import create_app
from helsestat.publish.formats import FORMATS
from helsestat.settings import Settings
from helsestat.statistics.sob.answers import TABLES
from helsestat.store.lake import Lake
from sob_release import sob_release


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return sob_release(tmp_path_factory.mktemp("sob"))


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def test_every_table_is_listed_and_documented(client: TestClient) -> None:
    listed = {t["name"] for t in client.get("/api/v1/tables").json()["tables"]}
    assert {f"sob/{t.name}" for t in TABLES} <= listed
    paths = client.get("/openapi.json").json()["paths"]
    parameters = {p["name"] for p in paths["/api/v1/tables/sob/region"]["get"]["parameters"]}
    assert {"fom", "tom", "lan", "vardgivare", "vardenhet", "process", "moment"} <= parameters


@pytest.mark.parametrize("table", [t.name for t in TABLES])
def test_every_table_answers_a_range(client: TestClient, table: str) -> None:
    response = client.get(
        f"/api/v1/tables/sob/{table}", params={"fom": "2019-01", "tom": "2020-06"}
    )
    assert response.status_code == 200, response.text
    rows = response.json()
    assert rows, table
    assert all(r["status"] in ("published", "primary", "secondary") for r in rows)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format(client: TestClient, fmt: str) -> None:
    params = {"fom": "2018-01", "tom": "2019-12", "format": fmt}
    response = client.get("/api/v1/tables/sob/lan", params=params)
    assert response.status_code == 200 and response.headers["content-type"] == (
        FORMATS[fmt].media_type
    )
    rows = client.get("/api/v1/tables/sob/lan", params={**params, "format": "json"}).json()
    if fmt == "parquet":
        back = pq.read_table(io.BytesIO(response.content)).to_pylist()
        assert [r["startade"] for r in back] == [r["startade"] for r in rows]
    elif fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(response.content))["data"]
        assert [c.value for c in next(sheet.iter_rows())][:2] == ["lan", "lan_namn"]
    elif fmt == "jsonstat":
        assert orjson.loads(response.content)["id"][:2] == ["lan", "lan_namn"]


def test_a_wider_range_counts_persons_once(client: TestClient) -> None:
    def region(fom: str, tom: str) -> dict[str, object]:
        rows: list[dict[str, object]] = client.get(
            "/api/v1/tables/sob/region", params={"fom": fom, "tom": tom}
        ).json()
        return rows[0]

    one, two, both = (
        region("2019-01", "2019-06"),
        region("2019-07", "2019-12"),
        region("2019-01", "2019-12"),
    )
    assert both["startade"] == one["startade"] + two["startade"]  # ärenden add up
    if all(isinstance(r["invanare"], int) for r in (one, two, both)):
        assert both["invanare"] <= one["invanare"] + two["invanare"]  # persons are distinct
        assert both["invanare"] >= max(one["invanare"], two["invanare"])


def test_drill_down_by_filters(client: TestClient) -> None:
    top = client.get("/api/v1/tables/sob/region", params={"fom": "2016-01", "tom": "2024-12"})
    rows = top.json()
    assert rows[0]["niva"] == "totalt" and {r["niva"] for r in rows[1:]} == {"lan"}
    lan = rows[1]["lan"]
    down = client.get(
        "/api/v1/tables/sob/region", params={"fom": "2016-01", "tom": "2024-12", "lan": lan}
    ).json()
    assert down[0]["lan"] == lan and {r["niva"] for r in down[1:]} == {"vardgivare"}
    assert sum(r["startade"] for r in down[1:]) == down[0]["startade"]


def test_etag_and_304(client: TestClient) -> None:
    url = "/api/v1/tables/sob/manad?fom=2020-01&tom=2020-12"
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    other = client.get(url + "&lan=01")
    assert other.headers["etag"] != first.headers["etag"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"fom": "2019-13"}, "query.malformed_period"),
        ({"fom": "201901"}, "query.malformed_period"),
        ({"fom": "2020-01", "tom": "2019-01"}, "query.period_reversed"),
        ({"fom": "2014-01", "tom": "2015-12"}, "query.period_out_of_range"),
        ({"lan": "01,03"}, "query.one_value"),
        ({"kommun": "0180"}, "query.unknown_parameter"),
        ({"lan": "1"}, "query.unknown_code"),
        ({"vardgivare": "SE000-nope"}, "query.unknown_code"),
    ],
)
def test_bad_parameters_are_problems(client: TestClient, params: dict[str, str], code: str) -> None:
    response = client.get("/api/v1/tables/sob/lan", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code and response.json()["hint"]


def test_the_default_range_is_the_last_twelve_months(client: TestClient) -> None:
    rows = client.get("/api/v1/tables/sob/manad").json()
    assert len(rows) == 12


def test_a_computed_table_is_not_read_as_a_stored_one(settings: Settings) -> None:
    from helsestat.errors import StoreError

    lake = Lake(settings.data_dir)
    release = lake.current()
    assert release is not None
    with pytest.raises(StoreError, match="computed per query"):
        lake.read_table(release, "sob/lan")
    assert Path(release.path / "data").is_dir()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_repeated_query_gets_the_kept_answer(
    client: TestClient, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer of a computed table is kept whole per query and format: asked again, the
    same bytes come from the kept body; the kept bodies stay within their budget."""
    from helsestat.api import service as module

    service = client.app.state.tables  # type: ignore[attr-defined]
    params = {"fom": "2017-03", "tom": "2019-08", "format": fmt}
    first = client.get("/api/v1/tables/sob/process", params=params)
    kept = dict(service._bodies)
    second = client.get("/api/v1/tables/sob/process", params=params)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert first.content in kept.values() and dict(service._bodies).keys() == kept.keys()
    budget = 16 * len(first.content)  # room for about 16 such answers (one at most 1/8)
    monkeypatch.setattr(module, "KEEP_BODY_BYTES", budget)
    months = [f"{y}-{m:02d}" for y in (2020, 2021) for m in range(1, 13)]
    for tom in months:
        assert client.get("/api/v1/tables/sob/process", params={**params, "tom": tom}).is_success
    assert service._body_bytes == sum(map(len, service._bodies.values())) <= budget
    kept_months = [k[2] for k in service._bodies if k[3] == fmt]
    assert 1 < len(kept_months) < len(months) and "2021-12" in kept_months[-1]


def test_filter_values_are_the_data_s(client: TestClient) -> None:
    """A value a filter's list lacks is refused (a mistyped code is no empty table), never
    echoed when it could be an identifier; a moment is known within its process, and
    without one the data cannot tell, so it is let through."""
    lists = client.app.state.tables  # type: ignore[attr-defined]
    ranged = lists.statistic_of("sob/lan").serving.ranged
    data = lists.computed_data(lists.release(None), lists.statistic_of("sob/lan"))
    lan, _ = ranged.options(data, "lan", {})[0]
    giver, _ = ranged.options(data, "vardgivare", {})[-1]
    unit, _ = ranged.options(data, "vardenhet", {"vardgivare": giver})[-1]
    process, _ = ranged.options(data, "process", {})[0]
    moment, _ = ranged.options(data, "moment", {"process": process})[0]
    params = {"fom": "2018-01", "tom": "2020-12"}
    for given in ({"lan": lan}, {"vardgivare": giver, "vardenhet": unit},
                  {"process": process, "moment": moment},
                  {"moment": "Inget sådant moment"}):  # fmt: skip
        response = client.get("/api/v1/tables/sob/region", params={**params, **given})
        assert response.status_code == 200, (given, response.text)
    own = {m for m, _ in ranged.options(data, "moment", {"process": process})}
    others = [
        m
        for p, _ in ranged.options(data, "process", {})
        for m, _ in ranged.options(data, "moment", {"process": p})
        if m not in own
    ]
    other = others[0]
    wrong = client.get(
        "/api/v1/tables/sob/region", params={**params, "process": process, "moment": other}
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "query.unknown_code"
    person = client.get("/api/v1/tables/sob/lan", params={**params, "vardenhet": "198001011234"})
    assert person.status_code == 400 and "198001011234" not in person.text


@pytest.mark.parametrize("table", [t.name for t in TABLES])
def test_a_filter_under_which_there_are_no_data_answers_no_rows(
    client: TestClient, table: str
) -> None:
    """A moment given without its process cannot be checked; where no ärende has it, every
    table answers (no rows or rows of zeros), never an error of the server."""
    params = {"fom": "2018-01", "tom": "2020-12", "moment": "Inget sådant moment"}
    response = client.get(f"/api/v1/tables/sob/{table}", params=params)
    assert response.status_code == 200, response.text
    assert all(not r.get("startade") for r in response.json())


def test_loaded_data_are_out_of_the_garbage_collector_s_reach(settings: Settings) -> None:
    """The cube's many long-lived objects are frozen once loaded: a full collection of the
    cyclic garbage collector (every few hundred answers) no longer walks them all, a pause
    of tenths of a second in which a worker answered nothing."""
    import gc

    with TestClient(create_app(settings)) as fresh:
        gc.unfreeze()
        assert gc.get_freeze_count() == 0
        assert fresh.get("/api/v1/tables/sob/lan").status_code == 200
        service = fresh.app.state.tables  # type: ignore[attr-defined]
        statistic = service.statistic_of("sob/lan")
        data = service.computed_data(service.release(None), statistic)
        frozen = gc.get_freeze_count()
        assert frozen >= len(data.cube._levels) > 0
        tracked = {id(o) for o in gc.get_objects()}
        assert id(data.cube._levels) not in tracked and id(data.cube._node_ids) not in tracked


def test_a_serving_worker_loads_the_range_cube_as_it_starts(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first dashboard view after a server starts does not wait for the cube: the
    worker loads the current release's computed data on start-up, and a request then
    reads nothing more from the release."""
    from helsestat.api.admission import serving

    app = serving(create_app(settings))
    with TestClient(app) as started:
        service = app.state.tables
        monkeypatch.setattr(
            service.lake, "read_data", lambda *_: pytest.fail("data read after start-up")
        )
        response = started.get("/api/v1/tables/sob/lan", params={"fom": "2019-01"})
        assert response.status_code == 200, response.text
    assert service.warm() == ("sob",)  # loaded: warming again reads nothing either


def test_warming_before_any_release_loads_nothing(tmp_path: Path) -> None:
    from helsestat.api.service import TableService
    from helsestat.reference.seed import packaged_reference
    from helsestat.statistics import STATISTICS

    service = TableService(Lake(tmp_path), STATISTICS, version="1", reference=packaged_reference)
    assert service.warm() == ()


@pytest.mark.parametrize("in_parts", [False, True])
def test_a_large_answer_is_rendered_off_the_loop_and_kept(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, in_parts: bool
) -> None:
    import helsestat.api.fastpath as fastpath

    params = {"fom": "2018-01", "tom": "2020-12"}
    small = client.get("/api/v1/tables/sob/pagaende_moment", params=params)
    assert small.status_code == 200, small.text
    rows = len(small.json())
    # every answer "large", and (in_parts) sent in parts: the same bytes, kept after once
    monkeypatch.setattr(fastpath, "LARGE", 1)
    monkeypatch.setattr(fastpath, "IN_PARTS", 1 if in_parts else 10**9)
    params |= {"format": "csv"}  # a body the small request above did not keep
    service = client.app.state.tables  # type: ignore[attr-defined]
    service._bodies.clear()
    service._body_bytes = 0
    before = 0
    first = client.get("/api/v1/tables/sob/pagaende_moment", params=params)
    assert first.status_code == 200 and len(service._bodies) == before + 1
    again = client.get("/api/v1/tables/sob/pagaende_moment", params=params)
    assert again.content == first.content and len(service._bodies) == before + 1
    monkeypatch.setattr(fastpath, "LARGE", 10**9)
    service._bodies.clear()
    service._body_bytes = 0
    whole = client.get("/api/v1/tables/sob/pagaende_moment", params=params)
    assert whole.content == first.content
    assert rows > 100  # months × moments
