import logging

import pytest
from fastapi.testclient import TestClient

from helsestat.api import create_app
from helsestat.settings import Settings
from helsestat.store.lake import Lake


def test_an_unexpected_error_is_a_500_problem_without_internals(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    lake = Lake(settings.data_dir)
    (lake.get("r1").path / "sob__lan.parquet").write_bytes(b"not parquet at all")
    app = create_app(settings)
    with (
        TestClient(app, raise_server_exceptions=False) as broken,
        caplog.at_level(logging.ERROR, logger="helsestat.api"),
    ):
        response = broken.get("/api/v1/tables/sob/lan", params={"format": "csv"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://helsestat.example/problems/internal",
        "title": "Internal error",
        "status": 500,
        "detail": "the server could not answer this request",
        "code": "internal",
        "hint": "try again later; the error is logged on the server",
        "instance": "/api/v1/tables/sob/lan",
    }
    # the server log has the exception (with its traceback), the body does not; records, not
    # caplog.text, because another library in the same worker may install its own formatter
    failed = [r for r in caplog.records if r.getMessage() == "GET /api/v1/tables/sob/lan failed"]
    assert failed and failed[0].exc_info is not None


def test_validation_errors_name_the_parameter_not_the_value(client: TestClient) -> None:
    response = client.get("/api/v1/tables", params={"release": "01017012345/.."})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "query.invalid"
    assert body["detail"].startswith("query parameter 'release': String should match pattern")
    assert "01017012345" not in response.text


def test_openapi_document(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["info"]["title"] == "helsestat"
    assert {
        "/health",
        "/api/v1/releases",
        "/api/v1/tables",
        "/api/v1/tables/{name}",
    } <= set(schema["paths"])
    data = schema["paths"]["/api/v1/tables/{name}"]["get"]
    assert {p["name"] for p in data["parameters"]} == {"name", "format", "release"}
    assert "application/vnd.apache.parquet" in data["responses"]["200"]["content"]
    assert "application/problem+json" in data["responses"]["404"]["content"]


def test_docs_page_works_offline(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for operation in ("/api/v1/releases", "/api/v1/tables/{name}", "/health"):
        assert f"<code>{operation}</code>" in html
    assert 'href="/openapi.json"' in html
    assert "http://" not in html and "https://" not in html  # nothing from the internet
