"""The zip package of an Excel answer: a small entry written in one piece is stored, a large
one deflated, the parts made once always deflated; every one readable by zipfile (CRC checked)
and by openpyxl."""

from __future__ import annotations

import io
import zipfile

import openpyxl

from helsestat.publish.formats.xlsx_file import STORE_MAX, Sheet, workbook


def _rows(n: int) -> list[bytes]:
    return [f'<row r="{i + 2}"><c r="A{i + 2}"><v>{i}</v></c></row>'.encode() for i in range(n)]


def test_small_entries_are_stored_and_large_ones_deflated() -> None:
    for n, method in ((3, zipfile.ZIP_STORED), (2_000, zipfile.ZIP_DEFLATED)):
        body = workbook([Sheet("data", ("antall",), _rows(n))])
        package = zipfile.ZipFile(io.BytesIO(body))
        assert package.testzip() is None  # every entry's CRC and size are right
        info = {i.filename: i for i in package.infolist()}
        sheet = info["xl/worksheets/sheet1.xml"]
        assert sheet.compress_type == method
        assert (sheet.file_size <= STORE_MAX) == (method == zipfile.ZIP_STORED)
        # the package's parts are made once per table and kept: deflated whatever their size
        assert info["xl/styles.xml"].compress_type == zipfile.ZIP_DEFLATED
        book = openpyxl.load_workbook(io.BytesIO(body))
        assert [c.value for c in book["data"]["A"]] == ["antall", *range(n)]


def test_the_notes_of_a_few_suppressed_cells_are_stored_and_read_back() -> None:
    notes = ((1, 0, "skjult (primary)"), (2, 0, "skjult (secondary)"))
    body = workbook([Sheet("data", ("antall",), _rows(3), notes=notes)])
    package = zipfile.ZipFile(io.BytesIO(body))
    assert package.testzip() is None
    methods = {i.filename: i.compress_type for i in package.infolist()}
    assert methods["xl/comments1.xml"] == methods["xl/drawings/vmlDrawing1.vml"] == 0
    sheet = openpyxl.load_workbook(io.BytesIO(body))["data"]
    assert sheet["A2"].comment is not None and "primary" in sheet["A2"].comment.text
    many = tuple((r, 0, "skjult (primary)") for r in range(1, 400))
    body = workbook([Sheet("data", ("antall",), _rows(399), notes=many)])
    package = zipfile.ZipFile(io.BytesIO(body))
    assert package.testzip() is None
    assert package.getinfo("xl/comments1.xml").compress_type == zipfile.ZIP_DEFLATED
