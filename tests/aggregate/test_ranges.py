"""Range cubes against brute force: for random facts and appearances, every node's flows over
any month range equal the plain sum, stocks the plain cumulative sum, and distinct counts
the size of the plain set of entities seen in the range — per split too."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from helsestat.aggregate import DuckDBEngine
from helsestat.aggregate.ranges import Distinct, RangeCube, RangeSpec, build_ranges, code_levels
from helsestat.errors import HelsestatError

SPEC = RangeSpec(
    "test",
    (("lan", "enhet"), ("process", "moment")),
    ("started", "finished"),
    (Distinct("persons"), Distinct("by_kon", ("kon",))),
)
UNITS = {"a": "01", "b": "01", "c": "03", "d": "05"}
MOMENTS = {"m1": "P1", "m2": "P1", "m3": "P2"}
FIRST = 24189  # 2015-10


def _data(seed: int, rows: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    rng = random.Random(seed)
    flows, seen, kon = [], [], []
    for _ in range(rows):
        enhet, moment = rng.choice(list(UNITS)), rng.choice(list(MOMENTS))
        month = FIRST + rng.randrange(30)
        flows.append(
            (
                UNITS[enhet],
                enhet,
                MOMENTS[moment],
                moment,
                month,
                rng.randrange(4),
                rng.randrange(3),
            )
        )
        person = rng.randrange(40)
        seen.append((UNITS[enhet], enhet, MOMENTS[moment], moment, month, person))
        kon.append((UNITS[enhet], enhet, MOMENTS[moment], moment, month, person, rng.choice("KM")))
    names = ["lan", "enhet", "process", "moment", "month"]
    return (
        pa.table(dict(zip([*names, "started", "finished"], zip(*flows, strict=True), strict=True))),
        pa.table(dict(zip([*names, "entity"], zip(*seen, strict=True), strict=True))),
        pa.table(dict(zip([*names, "entity", "kon"], zip(*kon, strict=True), strict=True))),
    )


def _matches(row: dict[str, object], fixed: dict[str, str]) -> bool:
    return all(row[k] == v for k, v in fixed.items())


NODES = [
    {},
    {"lan": "01"},
    {"enhet": "c"},
    {"process": "P1"},
    {"lan": "01", "moment": "m2"},
    {"enhet": "a", "process": "P2"},
    {"enhet": "d", "moment": "m3"},
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_node_and_range_equals_brute_force(seed: int) -> None:
    flows, seen, kon = _data(seed, 400)
    with DuckDBEngine(threads=1) as engine:
        cube = RangeCube(
            SPEC,
            build_ranges(SPEC, code_levels(SPEC, flows, {"persons": seen, "by_kon": kon}, engine)),
        )
    flow_rows, seen_rows, kon_rows = flows.to_pylist(), seen.to_pylist(), kon.to_pylist()
    rng = random.Random(seed)
    for fixed in NODES:
        node = cube.node(fixed)
        assert node is not None, fixed
        assert cube.values(node) == {c: fixed.get(c, cube.values(node)[c]) for c in SPEC.levels}
        for _ in range(25):
            first = FIRST + rng.randrange(-2, 32)
            last = first + rng.randrange(0, 12)
            inside = [r for r in flow_rows if _matches(r, fixed) and first <= r["month"] <= last]
            got = cube.flows([node], first, last)[0].tolist()
            assert got == [sum(r["started"] for r in inside), sum(r["finished"] for r in inside)]
            upto = [r for r in flow_rows if _matches(r, fixed) and r["month"] <= last]
            assert cube.stock([node], last)[0, 0] == sum(r["started"] for r in upto)
            people = {
                r["entity"] for r in seen_rows if _matches(r, fixed) and first <= r["month"] <= last
            }
            assert cube.distinct("persons", [node], first, last)[0] == len(people)
            for value in "KM":
                (split,) = cube.split_ids("by_kon", kon=value)
                people = {
                    r["entity"]
                    for r in kon_rows
                    if _matches(r, fixed) and r["kon"] == value and first <= r["month"] <= last
                }
                assert cube.distinct("by_kon", [node], first, last, split)[0] == len(people)


def test_many_nodes_at_once_equal_one_at_a_time() -> None:
    flows, seen, kon = _data(9, 300)
    with DuckDBEngine(threads=1) as engine:
        cube = RangeCube(
            SPEC,
            build_ranges(SPEC, code_levels(SPEC, flows, {"persons": seen, "by_kon": kon}, engine)),
        )
    nodes = [n for n in (cube.node(f) for f in NODES) if n is not None]
    together = cube.distinct("persons", nodes, FIRST + 3, FIRST + 20).tolist()
    alone = [int(cube.distinct("persons", [n], FIRST + 3, FIRST + 20)[0]) for n in nodes]
    assert together == alone
    assert cube.flows(nodes, FIRST, FIRST + 40).tolist() == [
        cube.flows([n], FIRST, FIRST + 40)[0].tolist() for n in nodes
    ]


def test_the_flows_asked_for_are_those_columns_of_all_flows() -> None:
    """A table reads only the flows it publishes: the same numbers as those columns of
    every flow, for sums over a range, per month and stocks."""
    flows, seen, kon = _data(9, 300)
    with DuckDBEngine(threads=1) as engine:
        cube = RangeCube(
            SPEC,
            build_ranges(SPEC, code_levels(SPEC, flows, {"persons": seen, "by_kon": kon}, engine)),
        )
    nodes = [n for n in (cube.node(f) for f in NODES) if n is not None]
    months = list(range(FIRST - 2, FIRST + 45, 3))
    width = len(SPEC.flows)
    for columns in ([0], [width - 1, 0], list(range(width))):
        for a, b in ((FIRST, FIRST + 40), (FIRST + 5, FIRST + 5), (FIRST - 3, FIRST + 90)):
            whole = cube.flows(nodes, a, b)
            assert (cube.flows(nodes, a, b, columns) == whole[:, columns]).all()
        whole = cube.flows_by_month(nodes, months)
        assert (cube.flows_by_month(nodes, months, columns) == whole[..., columns]).all()
        whole = cube.stock_by_month(nodes, months)
        assert (cube.stock_by_month(nodes, months, columns) == whole[..., columns]).all()
        assert (
            cube.stock(nodes, FIRST + 7, columns) == cube.stock(nodes, FIRST + 7)[:, columns]
        ).all()
        assert cube.flows([], FIRST, FIRST + 3, columns).shape == (0, len(columns))


def test_children_and_contradicting_filters() -> None:
    flows, seen, kon = _data(4, 200)
    with DuckDBEngine(threads=1) as engine:
        cube = RangeCube(
            SPEC,
            build_ranges(SPEC, code_levels(SPEC, flows, {"persons": seen, "by_kon": kon}, engine)),
        )
    root = cube.node({})
    assert root is not None
    lans = sorted(str(cube.values(n)["lan"]) for n in cube.children(root, 0))
    assert lans == ["01", "03", "05"]
    lan01 = cube.node({"lan": "01"})
    assert lan01 is not None
    assert sorted(str(cube.values(n)["enhet"]) for n in cube.children(lan01, 0)) == ["a", "b"]
    assert cube.node({"lan": "03", "enhet": "a"}) is None  # a is in 01
    assert cube.node({"enhet": "zz"}) is None


def test_a_null_level_is_refused() -> None:
    flows = pa.table(
        {
            "lan": ["01", None],
            "enhet": ["a", "b"],
            "process": ["P1", "P1"],
            "moment": ["m1", "m1"],
            "month": [FIRST, FIRST],
            "started": [1, 1],
            "finished": [0, 0],
        }
    )
    with DuckDBEngine(threads=1) as engine, pytest.raises(HelsestatError, match="null values"):
        code_levels(SPEC, flows, {"persons": flows.select([0, 1, 2, 3, 4])}, engine)
