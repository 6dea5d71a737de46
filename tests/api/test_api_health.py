from fastapi.testclient import TestClient


def test_health_before_the_first_build_is_up_but_not_ready(empty_client: TestClient) -> None:
    response = empty_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "ready": False, "release": None}
    assert response.headers["cache-control"] == "no-store"


def test_health_names_the_current_release(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "ready": True, "release": "r1"}


def test_health_survives_a_pointer_to_a_missing_release(empty_client: TestClient) -> None:
    releases = empty_client.app.state.lake.releases_dir  # type: ignore[attr-defined]
    releases.mkdir(parents=True)
    (releases / "CURRENT").write_text("gone\n")
    assert empty_client.get("/health").json() == {"status": "ok", "ready": False, "release": None}
