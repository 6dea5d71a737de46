"""KLASS 603, 604 and 605 (issue 14): the levels SSB's lists have, one version per period in
which a list changed, support companies apart from the health trusts, and what is invented
said in the data and in the served classification."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from helsestat.reference.klass_data import packaged_registry
from helsestat.reference.klass_foretak import INVENTED

K = "/api/klass/v1"
REG = packaged_registry()
RHF = {"991324968", "983658725", "983658776", "883658752"}


def _codes(cid: int, year: int) -> dict[str, Any]:
    return {c.code: c for c in REG.version_at(cid, date(year, 1, 1)).codes}


@pytest.mark.parametrize("year", range(2015, 2026))
def test_603_is_helseregion_rhf_hf_every_year(year: int) -> None:
    codes = _codes(603, year)
    regions = {c for c, code in codes.items() if code.level == 1}
    rhf = {c: code for c, code in codes.items() if code.level == 2}
    hf = {c: code for c, code in codes.items() if code.level == 3}
    assert len(regions) == 4 and set(rhf) == RHF
    assert all(code.parent_code in regions for code in rhf.values())
    assert all(code.parent_code in RHF for code in hf.values())
    assert len(hf) == 20  # the health trusts that treat patients
    assert codes["983974880"].name == "Finnmarkssykehuset HF"
    assert codes["983974678"].name == "Helse Stavanger HF"
    # the support companies are in 605, not here (they were in the old flat 603)
    support = {c for c, code in _codes(605, year).items() if code.level == 2}
    assert support and not support & set(codes)


@pytest.mark.parametrize(
    ("year", "present", "absent"),
    [
        (2015, {"913454405", "X00000001", "X00000002"}, {"916879067", "918695079"}),
        (2016, {"916879067", "X00000001"}, {"918695079"}),
        (2017, {"916879067", "X00000002"}, {"X00000001", "918695079"}),
        (2018, {"918695079", "818711832", "913454405"}, {"X00000002", "X00000003"}),
        (2020, {"922307814"}, {"913454405"}),
        (2022, {"X00000004", "922307814"}, {"913454405"}),
        (2025, {"916879067", "918695079", "911912759"}, {"913454405"}),
    ],
)
def test_605_follows_the_support_companies_history(
    year: int, present: set[str], absent: set[str]
) -> None:
    codes = _codes(605, year)
    assert present <= set(codes) and not absent & set(codes)
    owners = {"01", "02", "03", "04", "05"}
    assert all(c.parent_code in owners for c in codes.values() if c.level == 2)


def test_605_versions_start_when_the_list_changed() -> None:
    versions = REG.classification(605).versions
    assert [v.valid_from.year for v in versions] == [2015, 2016, 2017, 2018, 2020, 2022]
    assert all(a.valid_to == b.valid_from for a, b in itertools.pairwise(versions))


def test_604_is_rhf_then_institution_and_synthetic() -> None:
    cls = REG.classification(604)
    assert cls.synthetic and [lv.name for lv in cls.versions[0].levels] == [
        "Regionalt helseforetak",
        "Privat institusjon",
    ]
    for v in cls.versions:
        regions = {c.code for c in v.codes if c.level == 1}
        assert regions == {"01", "02", "03", "04"}
        assert all(c.parent_code in regions for c in v.codes if c.level == 2)
    assert _codes(604, 2023)["903"].name != _codes(604, 2024)["903"].name


def test_invented_codes_are_marked_in_the_data() -> None:
    invented = {
        c.code for v in REG.classification(605).versions for c in v.codes if c.notes == INVENTED
    }
    assert invented == {f"X0000000{n}" for n in range(1, 9)}
    assert not any(c.notes == INVENTED for v in REG.classification(603).versions for c in v.codes)


def test_the_served_classification_says_what_is_invented(client: TestClient) -> None:
    def note(cid: int) -> Any:
        response = client.get(f"{K}/classifications/{cid}", headers={"Accept": "application/json"})
        assert response.status_code == 200
        return response.json()["helsestat"]

    assert note(605)["synthetic"] is False
    assert note(605)["inventedCodes"] == [f"X0000000{n}" for n in range(1, 9)]
    assert "INVENTED" in note(605)["source"]
    assert note(603) == {
        "synthetic": False,
        "source": "real: S6 organisation numbers and names; helseregion codes helsestat's",
        "inventedCodes": [],
    }
    assert note(610)["synthetic"] is True and "SYNTHETIC" in note(610)["source"]
