"""The promise behind every format: for any protected table, the published bytes read back
to the same values and the same status and rule for every cell."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from publish_tables import READERS, Row, expected_rows, protected_tables, typed

from helsestat.model import ProtectedTable
from helsestat.publish import publish

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("fmt", ["json", "csv", "xml", "parquet"])
@SETTINGS
@given(source=protected_tables())
def test_exact_formats_round_trip(fmt: str, source: ProtectedTable) -> None:
    rows = READERS[fmt](publish(source, fmt), source)
    assert typed(rows) == typed(expected_rows(source))


@settings(max_examples=60, deadline=None)
@given(source=protected_tables())
def test_xlsx_round_trips(source: ProtectedTable) -> None:
    rows = READERS["xlsx"](publish(source, "xlsx"), source)
    assert len(rows) == len(expected_rows(source))
    for got, want in zip(rows, expected_rows(source), strict=True):
        assert _close(got, want)


@SETTINGS
@given(source=protected_tables())
def test_jsonstat_round_trips_through_pyjstat(source: ProtectedTable) -> None:
    data = publish(source, "jsonstat")
    doc = json.loads(data)
    want = {tuple(r[d] for d in source.dimensions): r for r in expected_rows(source)}
    if not source.measures:
        assert doc["size"][-1] == 0 and not doc["value"]
        return
    got = {tuple(r[d] for d in source.dimensions): r for r in READERS["jsonstat"](data, source)}
    assert got.keys() == want.keys()
    for key, row in want.items():
        assert _close(got[key], row)
    # Integers stay integers in the document itself (pyjstat reads them into floats).
    values = doc["value"].values() if isinstance(doc["value"], dict) else doc["value"]
    kinds = {type(v).__name__ for v in values if v is not None}
    assert kinds <= {"int", "float"}


def _close(got: Row, want: Row) -> bool:
    """Equal, numbers within Excel's 16 significant digits (exact for pyjstat)."""
    if got.keys() != want.keys():
        return False
    return all(_same(got[k], want[k]) for k in want)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=1e-15, abs_tol=0.0)
    return bool(a == b)
