"""SSB's own KLASS client (ssb-klass-python, imported as ``klass``) reads helsestat unchanged:
only its base URL — the module constant ``klass.config.BASE_URL`` it reads on every request —
points at helsestat served by uvicorn on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import klass
import klass.config
import pytest

from helsestat.reference.klass_data import packaged_registry


@pytest.fixture(autouse=True)
def _klass_base_url(served: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(klass.config, "BASE_URL", f"{served}/api/klass/v1/")
    yield


def test_codes_of_131_at_a_date() -> None:
    codes = klass.KlassClassification(131).get_codes("2025-01-01")
    mapping = codes.to_dict()
    assert len(mapping) == 357
    assert mapping["0301"] == "Oslo"
    assert mapping["4601"] == "Bergen"
    assert "1507" not in mapping  # split into 1508 and 1580 in 2024
    older = klass.KlassCodes(131, "2023-06-01").to_dict()
    assert older["1507"] == "Ålesund" and len(older) == 356


def test_codes_in_a_range_and_select_codes() -> None:
    codes = klass.KlassCodes(131, "2023-06-01", "2024-06-01", select_codes="15*")
    data = codes.data
    assert set(data["code"]) >= {"1507", "1508", "1580"}
    ended = data[data["code"] == "1507"].iloc[0]
    assert ended["validTo"] == "2024-01-01"
    assert ended["validToInRequestedRange"] == "2024-01-01"


def test_versions() -> None:
    cls = klass.KlassClassification(131)
    assert cls.name == "Standard for kommuneinndeling"
    assert sorted(v["validFrom"] for v in cls.versions) == [
        "2015-01-01",  # the structures before 2019 (issue 14)
        "2017-01-01",
        "2018-01-01",
        "2019-01-01",
        "2020-01-01",
        "2024-01-01",
    ]
    latest = cls.get_version()
    assert latest.validFrom == "2024-01-01"
    assert len(latest.data) == 357
    assert set(latest.data["levelName"]) == {"Kommune"}


def test_correspondence_629_to_131() -> None:
    corr = klass.KlassClassification(629).get_correspondence_to(131, "2025-01-01")
    # every code of 629 maps to its kommuner (kommune, area, HF, RHF): the areas' rows
    areas = corr.data[corr.data["sourceCode"].str.len() == 2]
    pairs = dict(zip(areas["targetCode"], areas["sourceName"], strict=True))
    assert pairs["3205"] == "Ahus"  # Lillestrøm belongs to Ahus (SKDE)
    reg = packaged_registry()
    by_id = klass.KlassCorrespondence(correspondence_id=1026)
    assert by_id.sourceId == reg.version_at(629, date(2025, 1, 1)).id
    assert len(by_id.data) == len(corr.data)


def test_changes() -> None:
    changes = klass.KlassClassification(131).get_changes("2024-01-01", "2024-01-02")
    split = changes[changes["oldCode"] == "1507"]
    assert sorted(split["newCode"]) == ["1508", "1580"]
    assert set(changes["changeOccurred"]) == {"2024-01-01"}


def test_search() -> None:
    found = klass.KlassSearchClassifications("kommuneinndeling")
    ids = [c["classification_id"] for c in found.classifications]
    assert ids[0] == 131
    assert klass.KlassSearchClassifications("opptaksområder").classifications
