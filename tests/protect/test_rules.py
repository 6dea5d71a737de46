from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.protect import (
    ContributorsRule,
    DominanceRule,
    FrequencyRule,
    MinimumPopulationRule,
    PPercentRule,
    Protection,
    Requirement,
    TableToProtect,
    protect_tables,
)
from helsestat.protect.compat import helfo_kommune_ar, helfo_kommune_maned, inera_persons
from helsestat.protect.gauss import gauss_suppress, sub2sum
from helsestat.protect.magnitude import top_contributions
from helsestat.protect.rules import requirement_of


def test_frequency_rule_handles_zeros_explicitly() -> None:
    t = pa.table({"n": [0, 1, 5, 6, None]})
    assert FrequencyRule("n", 5).apply(t).tolist() == [False, True, True, False, False]
    assert FrequencyRule("n", 5, zeros=True).apply(t).tolist() == [True, True, True, False, True]


def test_population_rule_reads_the_year_of_month_or_year_columns() -> None:
    pop = {("0301", 2024): 717_710, ("1111", 2024): 3_300, ("1111", 2023): 3_400}
    rule = MinimumPopulationRule("k", "ar", 10_000, lambda k, y: pop[(k, y)])
    t = pa.table({"k": ["0301", "1111", "1111"], "ar": ["2024", "202401", "2023"]})
    assert rule.apply(t).tolist() == [False, True, True]
    assert requirement_of(rule, Requirement(range_min=5)) == Requirement()


def test_magnitude_rules() -> None:
    t = pa.table(
        {
            "kr": [100.0, 100.0, 100.0, 0.0],
            "a": [85.0, 50.0, 60.0, 0.0],
            "b": [10.0, 46.0, 5.0, 0.0],
            "treaters": [3, 2, 9, 0],
        }
    )
    assert DominanceRule("kr", 1, 80, ("a", "b")).apply(t).tolist() == [True, False, False, False]
    assert DominanceRule("kr", 2, 90, ("a", "b")).apply(t).tolist() == [True, True, False, False]
    assert PPercentRule("kr", 10, "a", "b").apply(t).tolist() == [True, True, False, False]
    assert ContributorsRule("treaters", 2).apply(t).tolist() == [False, True, False, False]
    assert DominanceRule("kr", 1, 80, ("a",)).label == "dominance(1,80)"
    assert PPercentRule("kr", 10, "a", "b").requirement == Requirement(range_percent=10)


def test_compat_rules_are_the_documented_ones() -> None:
    assert helfo_kommune_ar("sum_antall_takst") == FrequencyRule("sum_antall_takst", 5)
    assert helfo_kommune_maned("k", "ar", lambda k, y: 1).minimum == 10_000
    assert inera_persons("personer").apply(pa.table({"personer": [10, 11]})).tolist() == [
        True,
        False,
    ]


def test_top_contributions_sum_per_contributor_first() -> None:
    rows = pa.table(
        {
            "kommune": ["0301"] * 4 + ["1103"],
            "treater": ["a", "a", "b", "c", "a"],
            "kr": [50.0, 40.0, 10.0, 5.0, 7.0],
        }
    )
    out = top_contributions(rows, ("kommune",), "kr", "treater").to_pylist()
    assert out == [
        {"kommune": "0301", "kr": 105.0, "kr_top1": 90.0, "kr_top2": 10.0, "kr_contributors": 3},
        {"kommune": "1103", "kr": 7.0, "kr_top1": 7.0, "kr_top2": 0.0, "kr_contributors": 1},
    ]


def test_sub2sum_protects_the_sum_of_two_cells_of_one_contributor() -> None:
    # total, a, b, c: a and b primary, one contributor each; c published.
    from scipy import sparse

    x = sparse.csc_matrix(np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 1]]))
    primary = np.array([False, True, True, False])
    extra = sub2sum(x, primary, np.array([True, True, False]))
    assert extra.toarray().ravel().tolist() == [1, 1, 0]
    # with the virtual cell a + b, the total and c cannot both be published
    result = gauss_suppress(x, [0, 3], primary, singleton_method="none", extra_primary=extra)
    assert result.secondary.tolist() == [False, False, False, True]
    # the same contributor in both cells counts once: still a pair to protect
    same = sub2sum(x, primary, np.array([True, True, False]), contributor=np.array([7, 7, 0]))
    assert same.shape[1] == 1


def test_refund_sums_dominated_by_one_treater_are_protected_together() -> None:
    rng = np.random.default_rng(4)
    rows = []
    for kommune in ("1101", "1103", "1108", "1111"):
        for treater in range(int(rng.integers(1, 5))):
            rows.append(
                {
                    "kommune": kommune,
                    "fylke": "11",
                    "treater": f"{kommune}-{treater}",
                    "kr": float(rng.integers(100, 5000)),
                }
            )
    claims = pa.Table.from_pylist(rows)
    k = top_contributions(claims, ("kommune", "fylke"), "kr", "treater")
    f = top_contributions(claims, ("fylke",), "kr", "treater")
    rule = (DominanceRule("kr", 1, 80, ("kr_top1", "kr_top2")),)
    report = protect_tables(
        [
            TableToProtect("k", "K", k, ("kommune", "fylke"), rule),
            TableToProtect("f", "F", f, ("fylke",), rule),
        ],
        ("kr",),
        Protection("kr", magnitude=True, singletons=False, audit="exact"),
    )
    status = report.tables[0].table.column("status").to_pylist()
    dominated = pc.greater(k.column("kr_top1"), pc.multiply(k.column("kr"), 0.8)).to_pylist()
    assert [s == "primary" for s in status] == dominated
    for row in report.intervals["k"].to_pylist():
        assert row["up"] - row["lo"] >= row["required"] - 1e-9
