"""What each format promises about the small and the empty table, read back with a real
parser: csv, ElementTree, openpyxl, pyjstat, pyarrow."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from decimal import Decimal

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from publish_tables import (
    READERS,
    empty_table,
    expected_rows,
    read_csv,
    read_jsonstat,
    small_table,
    table,
    typed,
)

from helsestat.errors import HelsestatError, NotFoundError, ProtectionError, QueryError
from helsestat.model import ProtectedTable
from helsestat.publish import publish
from helsestat.publish.formats import STATUS_LEGEND, publishable
from helsestat.publish.formats.csv_ import render_csv
from helsestat.publish.formats.json_ import rows_as_json
from helsestat.publish.formats.jsonstat import ABSENT, DENSE_LIMIT
from helsestat.publish.formats.parquet_ import METADATA_KEY
from helsestat.publish.formats.xml_ import XSI

EXACT = ("json", "csv", "xml", "parquet")  # formats that keep int vs float


@pytest.mark.parametrize("fmt", EXACT)
@pytest.mark.parametrize("make", [small_table, empty_table])
def test_exact_formats_read_back_with_types(fmt: str, make: Callable[[], ProtectedTable]) -> None:
    source = make()
    assert typed(READERS[fmt](publish(source, fmt), source)) == typed(expected_rows(source))


@pytest.mark.parametrize("fmt", ["xlsx", "jsonstat"])
def test_cube_and_sheet_formats_read_back(fmt: str) -> None:
    source = small_table()
    rows = READERS[fmt](publish(source, fmt), source)
    assert sorted(map(repr, rows)) == sorted(map(repr, expected_rows(source)))


# json -----------------------------------------------------------------------------------------


def test_json_keeps_int_and_float_and_key_order() -> None:
    first = json.loads(publish(small_table(), "json"))[1]
    assert list(first) == [
        "aar",
        "kommune",
        "behandler",
        "antall",
        "refusjon_kr",
        "status",
        "status_rule",
    ]
    assert b'"antall":1520,"refusjon_kr":4756525.0' in publish(small_table(), "json")


def test_rows_as_json_without_status() -> None:
    rows = json.loads(rows_as_json(small_table(), include_status=False))
    assert rows[4] == {
        "aar": "2024",
        "kommune": "5501",
        "behandler": "Helsesøster",
        "antall": None,
        "refusjon_kr": None,
    }


def test_empty_json_is_an_empty_array() -> None:
    assert publish(empty_table(), "json") == b"[]"


# csv -------------------------------------------------------------------------------------------


def test_csv_is_rfc4180_utf8_without_bom() -> None:
    data = publish(small_table(), "csv")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == 7 and b"\n" not in data.replace(b"\r\n", b"")
    assert b'"Fysioterapeut, privat"' in data
    assert "2024,5501,Helsesøster,,,primary,count<=5\r\n".encode() in data


def test_csv_with_semicolon_reads_back() -> None:
    source = small_table()
    data = render_csv(source, sep=";")
    assert data.splitlines()[0] == b"aar;kommune;behandler;antall;refusjon_kr;status;status_rule"
    assert typed(read_csv(data, source, sep=";")) == typed(expected_rows(source))


def test_csv_refuses_an_unusable_separator() -> None:
    with pytest.raises(QueryError) as caught:
        render_csv(small_table(), sep=".")
    assert caught.value.code == "query.csv_separator"


# xml -------------------------------------------------------------------------------------------


def test_xml_document_shape() -> None:
    data = publish(small_table(), "xml")
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(data)
    assert (root.tag, root.get("table"), root.get("release")) == (
        "rows",
        "refusjon_kommune",
        "2024-06-01T0800",
    )
    assert root.get("title") == small_table().title  # '&' escaped and read back
    suppressed = root.findall("row")[4]
    assert suppressed.find("antall").get(f"{{{XSI}}}nil") == "true"  # type: ignore[union-attr]
    assert suppressed.findtext("status_rule") == "count<=5"


def test_xml_escapes_markup_and_carriage_returns() -> None:
    source = table(
        [("<a & b>\r\n", 1, "published", "")],
        dimensions=("kode",),
        measures={"n": pa.int64()},
        title='"x"\t\n',
    )
    root = ET.fromstring(publish(source, "xml"))
    assert root.findtext("row/kode") == "<a & b>\r\n"
    assert root.get("title") == '"x"\t\n'


@pytest.mark.parametrize(
    ("column", "code"), [("2aar", "publish.xml_name"), ("a b", "publish.xml_name")]
)
def test_xml_refuses_column_names_that_are_not_element_names(column: str, code: str) -> None:
    source = table([("x", "published", "")], dimensions=(column,), measures={})
    with pytest.raises(HelsestatError) as caught:
        publish(source, "xml")
    assert caught.value.code == code


def test_xml_refuses_control_characters() -> None:
    source = table([("a\x01", "published", "")], dimensions=("kode",), measures={})
    with pytest.raises(HelsestatError) as caught:
        publish(source, "xml")
    assert caught.value.code == "publish.xml_character"


def test_xml_100k_rows() -> None:
    rows = [(f"{i:06d}", i, i * 0.5, "published", "") for i in range(100_000)]
    source = table(rows, dimensions=("kode",), measures={"n": pa.int64(), "x": pa.float64()})
    root = ET.fromstring(publish(source, "xml"))
    assert len(root) == 100_000
    assert root[-1].findtext("kode") == "099999"


# xlsx ------------------------------------------------------------------------------------------


def test_xlsx_data_sheet() -> None:
    book = openpyxl.load_workbook(io.BytesIO(publish(small_table(), "xlsx")))
    assert book.sheetnames == ["data", "about"]
    sheet = book["data"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == [
        "aar",
        "kommune",
        "behandler",
        "antall",
        "refusjon_kr",
        "status",
        "status_rule",
    ]
    assert all(c.font.b for c in sheet[1])
    assert (sheet["B2"].value, sheet["B2"].data_type) == ("0301", "s")  # leading zero kept
    assert (sheet["D3"].value, sheet["D3"].data_type) == (1520, "n")
    assert sheet["E3"].value == 4756525


@pytest.mark.parametrize(("row", "note"), [(6, "primary: count<=5"), (7, "secondary: margin")])
def test_xlsx_suppressed_cells_are_grey_and_carry_a_note(row: int, note: str) -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(publish(small_table(), "xlsx")))["data"]
    for cell in (sheet[f"D{row}"], sheet[f"E{row}"]):
        assert cell.value is None
        assert cell.comment is not None and cell.comment.text == note
        assert cell.fill.fgColor.rgb == "FFD9D9D9"
    assert sheet[f"F{row}"].value == note.split(":")[0]
    assert sheet["D2"].comment is None and sheet["D2"].fill.fill_type is None


def test_xlsx_about_sheet() -> None:
    source = small_table()
    sheet = openpyxl.load_workbook(io.BytesIO(publish(source, "xlsx")))["about"]
    rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[:5] == [
        ("title", source.title),
        ("table", "refusjon_kommune"),
        ("release", "2024-06-01T0800"),
        ("note", source.notes[0]),
        ("note", source.notes[1]),
    ]
    assert rows[6:] == [("status", "meaning"), *STATUS_LEGEND.items()]


def test_xlsx_created_date_comes_from_the_release() -> None:
    book = openpyxl.load_workbook(io.BytesIO(publish(small_table(), "xlsx")))
    assert book.properties.created.isoformat() == "2024-06-01T00:00:00"


def test_xlsx_refuses_more_rows_than_excel_holds() -> None:
    rows = 1_048_576
    columns = {"k": ["x"] * rows, "status": ["published"] * rows, "status_rule": [""] * rows}
    source = ProtectedTable("t", "T", ("k",), (), pa.table(columns))
    with pytest.raises(HelsestatError) as caught:
        publish(source, "xlsx")
    assert (caught.value.code, caught.value.status) == ("publish.too_many_rows", 413)


# jsonstat --------------------------------------------------------------------------------------


def test_jsonstat_dataset_structure() -> None:
    doc = json.loads(publish(small_table(), "jsonstat"))
    assert (doc["version"], doc["class"]) == ("2.0", "dataset")
    assert doc["id"] == ["aar", "kommune", "behandler", "measure"]
    assert doc["size"] == [2, 3, 3, 2]
    assert doc["role"] == {"metric": ["measure"]}
    assert doc["dimension"]["kommune"]["category"]["index"] == ["0301", "3024", "5501"]
    assert len(doc["value"]) == 36
    # 2024 / 5501 / Helsesøster is cell ((1*3 + 2)*3 + 1)*2 = 32, its two measures 32 and 33.
    assert doc["status"]["32"] == doc["status"]["33"] == "primary"
    assert doc["extension"]["status_rule"]["32"] == "count<=5"
    assert doc["status"]["2"] == ABSENT
    assert doc["note"] == list(small_table().notes)
    assert doc["label"] == small_table().title


def test_jsonstat_reads_back_with_pyjstat_value_by_value() -> None:
    source = small_table()
    rows = read_jsonstat(publish(source, "jsonstat"), source)
    expected = {tuple(r.values())[:3]: r for r in expected_rows(source)}
    assert {tuple(r.values())[:3]: r for r in rows} == expected


def test_jsonstat_metric_id_avoids_a_dimension_called_measure() -> None:
    source = table([("x", 1, "published", "")], dimensions=("measure",), measures={"n": pa.int64()})
    doc = json.loads(publish(source, "jsonstat"))
    assert doc["id"] == ["measure", "measure_"]


def test_jsonstat_sparse_cube_uses_the_object_form() -> None:
    # A diagonal: n rows in an n x n cube, far more than half empty.
    n = 120
    rows = [(f"{i:03d}", f"{i:03d}", i, "published", "") for i in range(n)]
    source = table(rows, dimensions=("a", "b"), measures={"n": pa.int64()})
    assert n * n > DENSE_LIMIT
    doc = json.loads(publish(source, "jsonstat"))
    assert isinstance(doc["value"], dict) and len(doc["value"]) == n
    assert doc["value"][str(5 * n + 5)] == 5
    assert "status" not in doc
    assert read_jsonstat(publish(source, "jsonstat"), source) == expected_rows(source)


def test_jsonstat_refuses_duplicate_cells() -> None:
    source = table(
        [("x", 1, "published", ""), ("x", 2, "published", "")],
        dimensions=("k",),
        measures={"n": pa.int64()},
    )
    with pytest.raises(HelsestatError) as caught:
        publish(source, "jsonstat")
    assert caught.value.code == "publish.duplicate_cell"


def test_empty_jsonstat() -> None:
    doc = json.loads(publish(empty_table(), "jsonstat"))
    assert (doc["size"], doc["value"]) == ([0, 0, 0, 2], [])


# parquet ---------------------------------------------------------------------------------------


def test_parquet_round_trip_and_metadata() -> None:
    source = small_table()
    back = pq.read_table(io.BytesIO(publish(source, "parquet")))
    assert back.to_pylist() == expected_rows(source)
    assert back.schema.field("antall").type == pa.int64()
    assert back.schema.field("refusjon_kr").type == pa.float64()
    assert json.loads(back.schema.metadata[METADATA_KEY]) == {
        "name": "refusjon_kommune",
        "title": source.title,
        "release": "2024-06-01T0800",
        "dimensions": ["aar", "kommune", "behandler"],
        "measures": ["antall", "refusjon_kr"],
        "notes": list(source.notes),
    }


# the published view ----------------------------------------------------------------------------


def test_publishable_normalises_types_and_drops_undeclared_columns() -> None:
    source = ProtectedTable(
        "t",
        "T",
        ("aar",),
        ("antall", "sum_kr", "andel"),
        pa.table(
            {
                "aar": pa.array(["2024"]).dictionary_encode(),
                "intern": ["not published"],
                "antall": pa.array([7], pa.int32()),
                "sum_kr": pa.array([Decimal("12")], pa.decimal128(38, 0)),
                "andel": pa.array([Decimal("0.25")], pa.decimal128(5, 2)),
                "status": ["published"],
                "status_rule": pa.array([None], pa.string()),
            }
        ),
    )
    data = publishable(source)
    assert data.column_names == ["aar", "antall", "sum_kr", "andel", "status", "status_rule"]
    assert [f.type for f in data.schema] == [
        pa.string(),
        pa.int64(),
        pa.int64(),
        pa.float64(),
        pa.string(),
        pa.string(),
    ]
    assert data.to_pylist() == [
        {
            "aar": "2024",
            "antall": 7,
            "sum_kr": 12,
            "andel": 0.25,
            "status": "published",
            "status_rule": "",
        }
    ]


def _one_row(status: str | None, value: int | None, **extra: object) -> ProtectedTable:
    columns = {"k": ["x"], "n": pa.array([value], pa.int64()), "status": [status]}
    columns = {**columns, "status_rule": ["r"], **extra}
    return ProtectedTable("t", "T", ("k",), ("n",), pa.table(columns))


@pytest.mark.parametrize(
    ("source", "error", "code"),
    [
        (_one_row("primary", 3), ProtectionError, "publish.unsuppressed_value"),
        (_one_row("secondary", 3), ProtectionError, "publish.unsuppressed_value"),
        (_one_row("hidden", None), ProtectionError, "publish.unknown_status"),
        (_one_row(None, None), ProtectionError, "publish.unknown_status"),
        (
            _one_row("published", 1, k=pa.array([None], pa.string())),
            HelsestatError,
            "publish.null_dimension",
        ),
        (_one_row("published", 1, n=[True]), HelsestatError, "publish.column_type"),
        (
            ProtectedTable("t", "T", ("k", "status"), (), pa.table({"k": ["x"]})),
            HelsestatError,
            "publish.reserved_column",
        ),
        (
            ProtectedTable(
                "t", "T", ("k",), ("n",), pa.table({"k": ["x"], "status": ["published"]})
            ),
            HelsestatError,
            "publish.missing_column",
        ),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_every_format_refuses_an_unsafe_or_malformed_table(
    source: ProtectedTable, error: type[HelsestatError], code: str, fmt: str
) -> None:
    with pytest.raises(error) as caught:
        publish(source, fmt)
    assert caught.value.code == code
    assert "3" not in caught.value.message.replace(source.name, "")  # no cell value echoed


def test_unknown_format_name() -> None:
    with pytest.raises(NotFoundError) as caught:
        publish(small_table(), "pdf")
    assert "csv, json, jsonstat, parquet, xlsx, xml" in caught.value.hint


@pytest.mark.parametrize(
    "rows", [3, 300]
)  # a short table is checked in Python, a long one by Arrow
@pytest.mark.parametrize(
    ("status", "value", "code"),
    [
        ("primary", 3, "publish.unsuppressed_value"),
        ("hidden", None, "publish.unknown_status"),
        (None, None, "publish.unknown_status"),
    ],
)
def test_a_bad_last_row_is_refused_in_a_short_and_a_long_table(
    rows: int, status: str | None, value: int | None, code: str
) -> None:
    table = ProtectedTable(
        "t",
        "T",
        ("k",),
        ("n",),
        pa.table(
            {
                "k": [f"{i:04d}" for i in range(rows)],
                "n": pa.array([*range(rows - 1), value], pa.int64()),
                "status": ["published"] * (rows - 1) + [status],
                "status_rule": [""] * rows,
            }
        ),
    )
    with pytest.raises(ProtectionError) as caught:
        publishable(table)
    assert caught.value.code == code
    assert "1 row" in caught.value.message or "1 suppressed" in caught.value.message
