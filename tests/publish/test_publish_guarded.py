"""A table whose status guards some measures only (persons counted beside ärenden): a
suppressed row keeps its other measures in every format, the status marks only the guarded
cells, a guarded measure with a value in a suppressed row is refused, and a release keeps
which measures are guarded."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helsestat.errors import ProtectionError
from helsestat.model import ProtectedTable
from helsestat.publish import publish
from helsestat.store.lake import Lake


def region(invanare: list[int | None]) -> ProtectedTable:
    status = ["published" if v is not None else "primary" for v in invanare]
    return ProtectedTable(
        "sob/region",
        "Startade och invånare",
        ("lan",),
        ("startade", "invanare"),
        pa.table(
            {
                "lan": ["01", "03"],
                "startade": pa.array([120, 40], pa.int64()),
                "invanare": pa.array(invanare, pa.int64()),
                "status": status,
                "status_rule": ["" if s == "published" else "invanare<=10" for s in status],
            }
        ),
        guarded=("invanare",),
    )


def test_a_suppressed_row_keeps_its_unguarded_measures() -> None:
    rows = json.loads(publish(region([85, None]), "json"))
    assert rows[1] == {
        "lan": "03",
        "startade": 40,
        "invanare": None,
        "status": "primary",
        "status_rule": "invanare<=10",
    }
    csv_text = publish(region([85, None]), "csv").decode()
    assert csv_text.splitlines()[2] == "03,40,,primary,invanare<=10"
    parquet = pq.read_table(io.BytesIO(publish(region([85, None]), "parquet")))
    assert parquet.column("startade").to_pylist() == [120, 40]


def test_jsonstat_marks_only_the_guarded_cells() -> None:
    doc = orjson.loads(publish(region([85, None]), "jsonstat"))
    assert doc["value"] == [120, 85, 40, None]
    assert doc["status"] == {"3": "primary"}
    assert doc["extension"]["status_rule"] == {"3": "invanare<=10"}


def test_excel_greys_and_notes_only_the_guarded_cells() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(publish(region([85, None]), "xlsx")))["data"]
    assert sheet["B3"].value == 40 and sheet["B3"].comment is None
    assert sheet["C3"].value is None and sheet["C3"].comment.text == "primary: invanare<=10"
    assert sheet["C3"].fill.fgColor.rgb == "FFD9D9D9"


def test_a_value_in_a_guarded_suppressed_cell_is_refused() -> None:
    leaky = region([85, None])
    data = leaky.table.set_column(2, "invanare", pa.array([85, 7], pa.int64()))
    with pytest.raises(ProtectionError, match="'invanare' has a value in 1 suppressed"):
        publish(ProtectedTable(**{**leaky.__dict__, "table": data}), "json")


def test_a_release_keeps_the_guarded_measures(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    with lake.release("r1") as release:
        release.add(region([85, None]))
    back = lake.read_table(lake.get("r1"), "sob/region")
    assert back.guarded == ("invanare",)
    assert publish(back, "json") == publish(region([85, None]), "json")
