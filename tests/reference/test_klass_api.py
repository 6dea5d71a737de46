"""The KLASS-compatible API: paths, parameters and shapes of SSB's KLASS API v1."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

JSON = {"Accept": "application/json"}
K = "/api/klass/v1"


def get(client: TestClient, url: str, **params: Any) -> Any:
    response = client.get(url, params=params, headers=JSON)
    assert response.status_code == 200, response.text
    return response.json()


def test_codes_at_shape(client: TestClient) -> None:
    codes = get(client, f"{K}/classifications/131/codesAt", date="2025-01-01")["codes"]
    assert codes[0] == {
        "code": "0301",
        "parentCode": None,
        "level": "1",
        "name": "Oslo",
        "shortName": "",
        "presentationName": "",
        "validFrom": "2024-01-01",
        "validTo": None,
        "notes": "",
    }
    assert len(codes) == 357


@pytest.mark.parametrize(
    ("select", "expected"),
    [
        ("0301", ["0301"]),
        ("0301, 4601", ["0301", "4601"]),
        (
            "11*",
            [
                "1101",
                "1103",
                "1106",
                "1108",
                "1111",
                "1112",
                "1114",
                "1119",
                "1120",
                "1121",
                "1122",
                "1124",
                "1127",
                "1130",
                "1133",
                "1134",
                "1135",
                "1144",
                "1145",
                "1146",
                "1149",
                "1151",
                "1160",
            ],
        ),
        ("1101-1106", ["1101", "1103", "1106"]),
        ("5601-5603*", ["5601", "5603"]),
    ],
)
def test_select_codes(client: TestClient, select: str, expected: list[str]) -> None:
    codes = get(client, f"{K}/classifications/131/codesAt", date="2025-01-01", selectCodes=select)
    assert [c["code"] for c in codes["codes"]] == expected


def test_select_level_and_presentation_name(client: TestClient) -> None:
    codes = get(
        client,
        f"{K}/classifications/610/codesAt",
        date="2025-01-01",
        selectLevel=1,
        presentationNamePattern="{code} - {uppercase(name)}",
    )["codes"]
    assert {c["level"] for c in codes} == {"1"}
    assert codes[0]["presentationName"] == "1 - SOMATIKK"


def test_codes_in_a_range_merge_unchanged_codes(client: TestClient) -> None:
    codes = get(
        client, f"{K}/classifications/131/codes", **{"from": "2023-01-01", "to": "2025-01-01"}
    )
    by_code = {c["code"]: c for c in codes["codes"]}
    assert by_code["0301"]["validFrom"] == "2020-01-01"  # 2020-2023 and 2024 versions merged
    assert by_code["0301"]["validTo"] is None
    assert by_code["0301"]["validFromInRequestedRange"] == "2023-01-01"
    assert by_code["0301"]["validToInRequestedRange"] == "2025-01-01"
    assert by_code["1507"]["validTo"] == "2024-01-01"
    assert by_code["1580"]["validFrom"] == "2024-01-01"


def test_csv_with_separator_and_charset(client: TestClient) -> None:
    url = f"{K}/classifications/131/codesAt?date=2025-01-01&selectCodes=5001&csvSeparator=;"
    latin = client.get(url, headers={"Accept": "text/csv"})
    assert latin.headers["content-type"] == "text/csv; charset=ISO-8859-1"
    utf8 = client.get(url, headers={"Accept": "text/csv; charset=UTF-8"})
    rows = list(csv.reader(io.StringIO(utf8.content.decode("utf-8")), delimiter=";"))
    assert rows[0][:4] == ["code", "parentCode", "level", "name"]
    assert rows[1][0] == "5001" and "Tr" in rows[1][3]
    fields = client.get(url + "&csvFields=name,code", headers={"Accept": "text/csv"})
    assert fields.text.splitlines()[0] == '"name";"code"'


def test_xml(client: TestClient) -> None:
    response = client.get(f"{K}/classifications/104", headers={"Accept": "application/xml"})
    assert response.headers["content-type"] == "application/xml"
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?><classification>')


def test_classification_versions_and_links(client: TestClient) -> None:
    doc = get(client, f"{K}/classifications/131")
    assert doc["classificationType"] == "Klassifikasjon"
    assert [v["validFrom"] for v in doc["versions"]] == [
        "2024-01-01",
        "2020-01-01",
        "2019-01-01",
        "2018-01-01",  # the structures before 2019 (issue 14)
        "2017-01-01",
        "2015-01-01",
    ]
    assert "validTo" not in doc["versions"][0]
    assert doc["_links"]["codesAt"]["templated"] is True
    version_href = doc["versions"][0]["_links"]["self"]["href"]
    version = get(client, version_href.replace("http://testserver", ""))
    assert version["levels"][0]["levelName"] == "Kommune"
    assert len(version["classificationItems"]) == 357
    assert {t["changeTable"] for t in version["correspondenceTables"]} == {True, False}


def test_classifications_list_and_paging(client: TestClient) -> None:
    plain = get(client, f"{K}/classifications")
    with_lists = get(client, f"{K}/classifications", includeCodelists="true", size=5)
    assert plain["page"]["totalElements"] < with_lists["page"]["totalElements"]
    assert len(with_lists["_embedded"]["classifications"]) == 5
    names = [c["name"] for c in plain["_embedded"]["classifications"]]
    assert "Standard for kommuneinndeling" in names


def test_corresponds_both_directions_and_404(client: TestClient) -> None:
    forward = get(
        client,
        f"{K}/classifications/632/correspondsAt",
        targetClassificationId=131,
        date="2025-06-01",
    )["correspondenceItems"]
    backward = get(
        client,
        f"{K}/classifications/131/correspondsAt",
        targetClassificationId=632,
        date="2025-06-01",
    )["correspondenceItems"]
    assert {(i["sourceCode"], i["targetCode"]) for i in forward} == {
        (i["targetCode"], i["sourceCode"]) for i in backward
    }
    missing = client.get(
        f"{K}/classifications/632/corresponds",
        params={"targetClassificationId": 131, "from": "2014-01-01"},  # 632 starts in 2015
        headers=JSON,
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "correspondence.not_found"


def test_correspondence_table_by_id(client: TestClient) -> None:
    doc = get(client, f"{K}/correspondencetables/1026")
    assert doc["changeTable"] is False
    assert doc["correspondenceMaps"][0].keys() >= {"sourceCode", "sourceName", "targetCode"}


def test_changes_started_and_ended_codes(client: TestClient) -> None:
    changes = get(client, f"{K}/classifications/610/changes", **{"from": "2023-01-01"})
    started = [c for c in changes["codeChanges"] if "oldCode" not in c]
    renamed = [c for c in changes["codeChanges"] if c.get("oldCode") == "12"]
    assert [c["newCode"] for c in started] == ["62"]
    assert renamed[0]["newName"] != renamed[0]["oldName"]
    assert {c["changeOccurred"] for c in changes["codeChanges"]} == {"2024-01-01"}


def test_search(client: TestClient) -> None:
    found = get(client, f"{K}/classifications/search", query="fylkesinndeling")
    assert found["_embedded"]["searchResults"][0]["_links"]["self"]["href"].endswith("/104")
    nothing = get(client, f"{K}/classifications/search", query="zzzz")
    assert "_embedded" not in nothing


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        (f"{K}/classifications/131/codesAt?date=1990-01-01", 400, "reference.no_version"),
        (f"{K}/classifications/131/codesAt?date=2024-13-01", 400, "query.invalid_date"),
        (f"{K}/classifications/131/codesAt", 400, "query.missing_parameter"),
        (f"{K}/classifications/999/codesAt?date=2024-01-01", 404, "classification.not_found"),
        (
            f"{K}/classifications/131/codes?from=2024-01-01&to=2023-01-01",
            400,
            "query.invalid_range",
        ),
        (
            f"{K}/classifications/131/codesAt?date=2024-01-01&selectCodes=1-",
            400,
            "query.invalid_select_codes",
        ),
        (f"{K}/versions/1", 404, "classification_version.not_found"),
        (f"{K}/correspondencetables/1", 404, "correspondence.not_found"),
        (f"{K}/classifications/131/correspondsAt?date=2024-01-01", 400, "query.missing_parameter"),
    ],
)
def test_errors_are_problems(client: TestClient, url: str, status: int, code: str) -> None:
    response = client.get(url, headers=JSON)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
