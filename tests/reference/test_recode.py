"""Recoding kommuner and fylker across the 2020 and 2024 reforms."""

from __future__ import annotations

from datetime import date

import pytest

from helsestat.errors import QueryError, ReferenceError_
from helsestat.reference.recode import Recoded, RecodedCell, recode, recode_values
from helsestat.reference.snapshot import Reference


@pytest.mark.parametrize(
    ("code", "level", "at", "to", "expected"),
    [
        ("0219", "kommune", date(2019, 5, 1), date(2022, 1, 1), [("3024", 1.0)]),  # Bærum
        ("0219", "kommune", date(2019, 5, 1), date(2025, 1, 1), [("3201", 1.0)]),
        ("1507", "kommune", date(2023, 5, 1), date(2025, 1, 1), [("1508", 0.5), ("1580", 0.5)]),
        ("1508", "kommune", date(2025, 1, 1), date(2022, 1, 1), [("1507", 1.0)]),
        ("0301", "kommune", date(2019, 1, 1), date(2025, 1, 1), [("0301", 1.0)]),
        ("0219", "kommune", date(2010, 6, 1), date(2025, 1, 1), [("3201", 1.0)]),  # csdata
        ("31", "fylke", date(2024, 1, 1), date(2019, 1, 1), [("01", 1.0)]),
        ("03", "fylke", date(2019, 1, 1), date(2025, 1, 1), [("03", 1.0)]),
    ],
)
def test_recode(
    code: str,
    level: str,
    at: date,
    to: date,
    expected: list[tuple[str, float]],
    reference: Reference,
) -> None:
    assert recode(code, level, at, to, reference) == [Recoded(c, w) for c, w in expected]


def test_viken_splits_by_population(reference: Reference) -> None:
    parts = recode("30", "fylke", date(2021, 1, 1), date(2024, 1, 1), reference)
    assert [p.code for p in parts] == ["31", "32", "33"]
    assert sum(p.weight for p in parts) == pytest.approx(1.0)
    assert parts[1].weight > parts[0].weight > parts[2].weight  # Akershus is the biggest


def test_a_series_across_both_reforms_in_one_structure(reference: Reference) -> None:
    series = {
        ("0219", 2019): 100.0,
        ("3024", 2022): 120.0,
        ("3201", 2024): 130.0,
        ("1507", 2023): 50.0,
    }
    cells = recode_values(series, "kommune", date(2025, 1, 1), reference)
    assert cells == {
        ("1508", 2023): RecodedCell(25.0, True),
        ("1580", 2023): RecodedCell(25.0, True),
        ("3201", 2019): RecodedCell(100.0, True),
        ("3201", 2022): RecodedCell(120.0, True),
        ("3201", 2024): RecodedCell(130.0, False),
    }


def test_unknown_code_and_level(reference: Reference) -> None:
    with pytest.raises(
        ReferenceError_, match="kommune '3201' is not a code of Kommuneinndeling 2019"
    ):
        recode("3201", "kommune", date(2019, 1, 1), date(2025, 1, 1), reference)
    with pytest.raises(ReferenceError_, match="has no version valid on 1990-01-01"):
        recode("03", "fylke", date(1990, 1, 1), date(2025, 1, 1), reference)
    with pytest.raises(QueryError, match="level 'bydel' cannot be recoded"):
        recode("030101", "bydel", date(2025, 1, 1), date(2025, 1, 1), reference)
