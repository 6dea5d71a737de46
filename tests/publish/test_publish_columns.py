"""An answer handed over as the columns an index holds (``TableIndex.of_columns``) is served
exactly as the protected table they make (``TableIndex.of_answer``) in every format, and is
checked alike: no value in a suppressed cell of a guarded measure, known statuses only, no
empty dimension, every code naming a value."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from helsestat.errors import HelsestatError, ProtectionError
from helsestat.model import ProtectedTable
from helsestat.publish.formats import FORMATS
from helsestat.publish.index import Columns, Selection, TableIndex, Text, encode_text
from helsestat.publish.views import DEFAULT


def columns(
    invanare: list[int | None],
    status: list[str],
    *,
    lan: tuple[str, ...] = ("01", "03", "25"),
    share: list[float | None] | None = None,
    **changed: Any,
) -> Columns:
    n = len(invanare)
    values = {
        "startade": np.array([120, 40, 3][:n], np.int64),
        "invanare": np.array([0 if v is None else v for v in invanare], np.int64),
        "andel": np.array([0.0 if v is None else v for v in share or [0.5] * n], np.float64),
    }
    valid = {
        "startade": np.ones(n, bool),
        "invanare": np.array([v is not None for v in invanare], bool),
        "andel": np.array([v is not None for v in share or [0.5] * n], bool),
    }
    texts = {
        "lan": encode_text(list(lan[:n])),
        "status": encode_text(status),
        "status_rule": encode_text(["" if s == "published" else "invanare<=10" for s in status]),
    }
    made = {
        "name": "sob/region",
        "title": "Startade och invånare",
        "dimensions": ("lan",),
        "measures": ("startade", "invanare", "andel"),
        "texts": texts,
        "values": values,
        "valid": valid,
        "release": "r1",
        "notes": ("a note",),
        "guarded": ("invanare",),
    }
    return Columns(**{**made, **changed})


CASES = {
    "all shown": columns([85, 40, 12], ["published"] * 3),
    "one hidden": columns([85, None, 12], ["published", "primary", "published"]),
    "a share missing": columns(
        [85, None, None], ["published", "primary", "secondary"], share=[0.25, None, 1.0]
    ),
    "no rows": columns([], []),
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_columns_are_served_as_the_table_they_make(case: str, fmt: str) -> None:
    index = TableIndex.of_columns(CASES[case])
    again = TableIndex.of_answer(index.source)
    render = FORMATS[fmt].render_selection
    assert render(Selection.everything(index), DEFAULT) == render(
        Selection.everything(again), DEFAULT
    )


def test_the_table_they_make_is_the_protected_table() -> None:
    table = TableIndex.of_columns(CASES["a share missing"]).source
    assert isinstance(table, ProtectedTable)
    assert (table.name, table.release, table.notes, table.guarded) == (
        "sob/region",
        "r1",
        ("a note",),
        ("invanare",),
    )
    assert table.table.to_pylist() == [
        {
            "lan": "01",
            "startade": 120,
            "invanare": 85,
            "andel": 0.25,
            "status": "published",
            "status_rule": "",
        },
        {
            "lan": "03",
            "startade": 40,
            "invanare": None,
            "andel": None,
            "status": "primary",
            "status_rule": "invanare<=10",
        },
        {
            "lan": "25",
            "startade": 3,
            "invanare": None,
            "andel": 1.0,
            "status": "secondary",
            "status_rule": "invanare<=10",
        },
    ]
    assert table.table.schema.types == [
        pa.string(),
        pa.int64(),
        pa.int64(),
        pa.float64(),
        pa.string(),
        pa.string(),
    ]


def _leaky() -> Columns:
    made = columns([85, None, 12], ["published", "primary", "published"])
    valid = {**made.valid, "invanare": np.ones(3, bool)}
    return Columns(**{**made.__dict__, "valid": valid})


def _two_codes(text: Text, code: int) -> Text:
    return Text(text.values, np.array([0, code, 0], np.int32))


BAD = {
    "a value in a suppressed guarded cell": (_leaky, ProtectionError, "has a value in 1"),
    "an unknown status": (
        lambda: columns([85, 40, 12], ["published", "shown", "published"]),
        ProtectionError,
        "no known status",
    ),
    "an empty dimension": (
        lambda: columns(
            [85, 40, 12],
            ["published"] * 3,
            texts={
                **CASES["all shown"].texts,
                "lan": Text(np.array(["01", None], object), np.array([0, 1, 0], np.int32)),
            },
        ),
        HelsestatError,
        "dimension 'lan' is empty",
    ),
    "a code naming no value": (
        lambda: columns(
            [85, 40, 12],
            ["published"] * 3,
            texts={
                **CASES["all shown"].texts,
                "status": _two_codes(CASES["all shown"].texts["status"], 3),
            },
        ),
        HelsestatError,
        "a code without a value",
    ),
    "a negative code": (
        lambda: columns(
            [85, 40, 12],
            ["published"] * 3,
            texts={
                **CASES["all shown"].texts,
                "lan": _two_codes(CASES["all shown"].texts["lan"], -1),
            },
        ),
        HelsestatError,
        "a code without a value",
    ),
    "a short measure": (
        lambda: columns(
            [85, 40, 12],
            ["published"] * 3,
            values={**CASES["all shown"].values, "startade": np.array([1], np.int64)},
        ),
        HelsestatError,
        "another number of rows",
    ),
    "a measure of another type": (
        lambda: columns(
            [85, 40, 12],
            ["published"] * 3,
            values={**CASES["all shown"].values, "startade": np.array([1, 2, 3], np.int32)},
        ),
        HelsestatError,
        "not int64 or float64",
    ),
    "a missing column": (
        lambda: columns([85, 40, 12], ["published"] * 3, measures=("startade", "behandlare")),
        HelsestatError,
        "a column is missing",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_columns_are_checked_as_a_table_is(case: str) -> None:
    make, error, message = BAD[case]
    with pytest.raises(error, match=message):
        TableIndex.of_columns(make())
