"""Whether a table has one row per combination of its dimensions is known once per index, also
when the index key leaves a dimension out (JSON-stat answers rely on it instead of checking
every selection), and it agrees with a count of the distinct combinations."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from helsestat.model import ProtectedTable
from helsestat.publish.index import Key, Range, TableIndex

ROW = st.tuples(
    st.sampled_from(["0301", "1103", "4601"]),
    st.sampled_from(["2015", "2016"]),
    st.sampled_from(["01", "02", "12"]),
    st.sampled_from(["LE", "FT", "9999"]),
)
KEYS = [
    Key(("kommune", "periode"), ("periode", "kommune"), Range("periode", ("ar", "maned"))),
    Key(("kommune",), ("kommune",)),  # leaves ar, maned and fag out
    Key(),
]


@settings(max_examples=60, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=30), st.sampled_from(KEYS))
def test_unique_says_whether_no_two_rows_share_their_dimensions(
    rows: list[tuple[str, str, str, str]], key: Key
) -> None:
    columns = list(zip(*rows, strict=True))
    n = len(rows)
    table = ProtectedTable(
        "t",
        "T",
        ("kommune", "ar", "maned", "fag"),
        ("n",),
        pa.table(
            {
                "kommune": list(columns[0]),
                "ar": list(columns[1]),
                "maned": list(columns[2]),
                "fag": list(columns[3]),
                "n": list(range(n)),
                "status": ["published"] * n,
                "status_rule": [""] * n,
            }
        ),
    )
    index = TableIndex.build(table, key)
    assert index.one_row_per_cell() == (len(set(rows)) == n)
