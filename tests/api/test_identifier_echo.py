"""An identifier typed into the unit search is not echoed in the response (SYNTHETIC
identifiers), whatever its separator."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helsestat.api import create_app
from helsestat.settings import Settings


@pytest.mark.parametrize(
    "q", ["01018012371", "010180 12371", "520552.00823", "19121212-1212", "pas 41018012365"]
)
def test_the_unit_search_does_not_echo_an_identifier(tmp_path: Path, q: str) -> None:
    settings = Settings(demo_mode=True, data_dir=tmp_path / "var")
    with TestClient(create_app(settings)) as client:
        answer = client.get("/api/v1/units", params={"q": q})
        assert answer.status_code == 200
        digits = "".join(c for c in q if c.isdigit())
        assert digits[:6] not in answer.text and digits[-4:] not in answer.text
        assert answer.json()["query"].endswith("<redacted>")
        assert client.get("/api/v1/units", params={"q": "Ullevål"}).json()["query"] == "Ullevål"
