from __future__ import annotations

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from helsestat.protect import protect_table
from helsestat.protect.rules import FrequencyRule, MinimumPopulationRule


def test_frequency_rule_nulls_measures_and_names_the_rule() -> None:
    table = pa.table(
        {
            "kommune": ["0301", "1103", "4601", "5001"],
            "n": [1, 5, 6, 0],
            "kr": [10.0, 50.0, 60.0, 0.0],
        }
    )
    out = protect_table("t", "T", table, ("kommune",), ("n", "kr"), (FrequencyRule("n", 5),))
    assert out.table.to_pylist() == [
        {"kommune": "0301", "n": None, "kr": None, "status": "primary", "status_rule": "n<=5"},
        {"kommune": "1103", "n": None, "kr": None, "status": "primary", "status_rule": "n<=5"},
        {"kommune": "4601", "n": 6, "kr": 60.0, "status": "published", "status_rule": ""},
        {"kommune": "5001", "n": 0, "kr": 0.0, "status": "published", "status_rule": ""},
    ]


def test_first_matching_rule_names_the_cell() -> None:
    table = pa.table({"k": ["0301", "1811"], "ar": ["2024", "2024"], "n": [2, 50]})
    pop = {"0301": 717_710, "1811": 1_300}
    rules = (MinimumPopulationRule("k", "ar", 10_000, lambda k, y: pop[k]), FrequencyRule("n", 3))
    out = protect_table("t", "T", table, ("k", "ar"), ("n",), rules)
    assert out.table.column("status_rule").to_pylist() == ["n<=3", "population<=10000"]


@given(
    st.lists(st.integers(min_value=0, max_value=50), min_size=0, max_size=60),
    st.integers(min_value=3, max_value=10),
)
def test_no_published_cell_breaks_its_primary_rule(counts: list[int], k: int) -> None:
    table = pa.table({"d": [str(i) for i in range(len(counts))], "n": pa.array(counts, pa.int64())})
    out = protect_table("t", "T", table, ("d",), ("n",), (FrequencyRule("n", k),)).table.to_pylist()
    for row, original in zip(out, counts, strict=True):
        if row["status"] == "published":
            assert row["n"] == original and not 0 < original <= k
        else:
            assert row["n"] is None and 0 < original <= k
