"""Every format's output for the small and the empty table, against tests/publish/golden/.

Text formats are compared byte for byte. Excel is compared cell by cell after reading both
workbooks back (value, cell type, bold, fill, note), Parquet by content and schema metadata,
since both embed their writer library's version.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow.parquet as pq
import pytest
from publish_tables import GOLDEN_DIR, TABLES

from helsestat.publish import publish
from helsestat.publish.formats import FORMATS

TEXT_FORMATS = ("json", "xml", "csv", "jsonstat")
CASES = [(t, f) for t in TABLES for f in sorted(FORMATS)]


def golden_path(table: str, fmt: str) -> Path:
    return GOLDEN_DIR / f"{table}.{FORMATS[fmt].extension}"


@pytest.mark.parametrize(("table", "fmt"), CASES)
def test_matches_golden(table: str, fmt: str, update_golden: bool) -> None:
    rendered = publish(TABLES[table](), fmt)
    path = golden_path(table, fmt)
    if update_golden:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(rendered)
    assert path.exists(), f"{path.name} missing: run pytest tests/publish --update-golden"
    golden = path.read_bytes()
    if fmt in TEXT_FORMATS:
        assert rendered.decode("utf-8") == golden.decode("utf-8")
    elif fmt == "xlsx":
        assert workbook_cells(rendered) == workbook_cells(golden)
    else:
        new, old = pq.read_table(io.BytesIO(rendered)), pq.read_table(io.BytesIO(golden))
        assert new.equals(old, check_metadata=True)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_output_is_deterministic(fmt: str) -> None:
    assert publish(TABLES["small"](), fmt) == publish(TABLES["small"](), fmt)


def workbook_cells(data: bytes) -> dict[str, Any]:
    """Everything a reader sees in a workbook, sheet by sheet."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheets: dict[str, Any] = {}
    for sheet in book.worksheets:
        cells = [
            (
                cell.coordinate,
                cell.value,
                cell.data_type,
                bool(cell.font.b),
                cell.fill.fgColor.rgb if cell.fill.fill_type else None,
                cell.comment.text if cell.comment else None,
            )
            for row in sheet.iter_rows()
            for cell in row
        ]
        sheets[sheet.title] = {
            "freeze": sheet.freeze_panes,
            "filter": sheet.auto_filter.ref,
            "cells": cells,
        }
    sheets["properties"] = (book.properties.title, book.properties.created)
    return sheets
