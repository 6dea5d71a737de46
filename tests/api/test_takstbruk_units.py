"""The takstbruk API on small hand-made releases: a new release swaps the indexes, HEAD,
the suppressed-cells header, and the JSON-stat document with suppressed and absent cells
equal to publish()'s."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from helsestat.api import create_app
from helsestat.model import ProtectedTable
from helsestat.publish import publish
from helsestat.settings import Settings
from helsestat.statistics.takstbruk import TAKSTBRUK
from lakes import publish_tables

MEASURES = TAKSTBRUK.measures
URL = "/v1/takstbruk/agtakst/kommune/ar?fagomraade=LE&fomar=2023&tomar=2024"


def kommune_ar(antall: Sequence[int | None]) -> ProtectedTable:
    """Four cells of 0301/1103 × 2023/2024 for takst 2ad; ``None`` is a suppressed cell."""
    n = len(antall)
    keys = [("2023", "0301"), ("2024", "0301"), ("2023", "1103"), ("2024", "1103")][:n]
    status = ["published" if a is not None else "primary" for a in antall]
    measures = {
        m: pa.array(
            [None if a is None else (a if i < 2 else a * 10.5) for a in antall],
            pa.int64() if i < 2 else pa.float64(),
        )
        for i, m in enumerate(MEASURES)
    }
    tdef = next(t for t in TAKSTBRUK.tables if t.name == "takstbruk/kommune/ar")
    return ProtectedTable(
        tdef.name,
        tdef.title,
        TAKSTBRUK.dimensions(tdef),
        MEASURES,
        pa.table(
            {
                "ar": [a for a, _ in keys],
                "takstkode": ["2ad"] * n,
                "fagomraade": ["LE"] * n,
                "praksis_type_kode": ["FALE"] * n,
                "behandler_kommunenr": [k for _, k in keys],
                "behandler_fylke": [k[:2] for _, k in keys],
                **measures,
                "status": status,
                "status_rule": ["" if s == "published" else "sum_antall_takst<=5" for s in status],
            }
        ),
        notes=(tdef.rules_note,),
    )


def publish_release(data_dir: Path) -> Callable[[str, ProtectedTable], None]:
    def add(release_id: str, table: ProtectedTable) -> None:
        publish_tables(data_dir, release_id, [table])

    return add


def test_a_new_release_swaps_the_served_data(tmp_path: Path) -> None:
    add = publish_release(tmp_path)
    add("r1", kommune_ar([10, 20, 30, 40]))
    with TestClient(create_app(Settings(demo_mode=True, data_dir=tmp_path))) as client:
        client.app.state.tables.recheck_seconds = 0  # type: ignore[attr-defined]
        first = client.get(URL)
        assert [r["sum_antall_takst"] for r in first.json()] == [10, 30, 20, 40]
        assert first.headers["x-helsestat-release"] == "r1"
        add("r2", kommune_ar([11, 21, 31, 41]))
        second = client.get(URL, headers={"If-None-Match": first.headers["etag"]})
        assert second.status_code == 200
        assert second.headers["x-helsestat-release"] == "r2"
        assert [r["sum_antall_takst"] for r in second.json()] == [11, 31, 21, 41]
        pinned = client.get(URL + "&release=r1")
        assert pinned.content == first.content


def test_head_and_the_suppressed_header(tmp_path: Path) -> None:
    publish_release(tmp_path)("r1", kommune_ar([10, None, 30, None]))
    with TestClient(create_app(Settings(demo_mode=True, data_dir=tmp_path))) as client:
        get = client.get(URL)
        assert [r["behandler_kommunenr"] for r in get.json()] == ["0301", "1103"]
        assert get.headers["x-helsestat-suppressed"] == "2"
        head = client.head(URL)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(get.content))
        shown = client.get(URL + "&medstatus=ja")
        assert shown.headers["x-helsestat-suppressed"] == "0"
        assert [(r["status"], r["sum_refusjon"]) for r in shown.json()] == [
            ("published", 105.0),  # 2023 0301
            ("published", 315.0),  # 2023 1103
            ("primary", None),  # 2024 0301
            ("primary", None),  # 2024 1103
        ]


def test_jsonstat_and_parquet_with_suppressed_and_absent_cells_equal_publish(
    tmp_path: Path,
) -> None:
    table = kommune_ar([10, None, 30])  # 1103/2024 is absent
    publish_release(tmp_path)("r1", table)
    with TestClient(create_app(Settings(demo_mode=True, data_dir=tmp_path))) as client:
        got = orjson.loads(client.get(URL + "&medstatus=ja&format=jsonstat").content)
        parquet = client.get(URL + "&medstatus=ja&format=parquet").content
    rows = table.table.take(pa.array([0, 2, 1]))  # the API's order: year, then kommune
    expected = publish(
        ProtectedTable(**{**table.__dict__, "table": rows, "release": "r1"}), "jsonstat"
    )
    assert got == orjson.loads(expected)
    assert "absent" in got["status"].values() and "primary" in got["status"].values()
    ours = pq.read_table(io.BytesIO(parquet))
    theirs = pq.read_table(
        io.BytesIO(
            publish(ProtectedTable(**{**table.__dict__, "table": rows, "release": "r1"}), "parquet")
        )
    )
    assert ours.equals(theirs)
    assert ours.schema.metadata[b"helsestat"] == theirs.schema.metadata[b"helsestat"]
    assert ours.column("sum_antall_takst").to_pylist() == [10, 30, None]


def test_no_release_is_a_404_problem(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(demo_mode=True, data_dir=tmp_path))) as client:
        response = client.get(URL)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "release.none"
