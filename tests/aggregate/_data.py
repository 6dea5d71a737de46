"""Synthetic claim extracts, the specs the tests run, and a pure-Python reference engine.

Amounts are multiples of 0.25, so every float sum is exact in any order of addition and
engines can be compared cell for cell with ``==``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from helsestat.aggregate import (
    CubeSpec,
    Filter,
    Hierarchy,
    Level,
    Lookup,
    Measure,
    Prefix,
    Total,
)
from helsestat.model import Grouping

KOMMUNER = ["0301", "1103", "1108", "4601", "4602", "5001", "3401", "1506"]
TAKSTER = ["2ad", "2ae", "2cd", "11ad", "L1", "L2", "T", "145b"]
PRAKSIS = ["fastlege", "legevakt", "spesialist"]
MONTHS = [y * 100 + m for y in (2018, 2019) for m in range(1, 13)]

FYLKE_REGION = (("03", "Øst"), ("34", "Øst"), ("11", "Vest"), ("46", "Vest"), ("50", "Midt"))
TAKST_GRUPPE = tuple((t, "lab" if t.startswith("L") else "konsultasjon") for t in TAKSTER)


def claims(rows: int, seed: int, months: Sequence[int] = MONTHS) -> pa.Table:
    """A claims extract with nulls in every dimension and measure column."""
    rng = np.random.default_rng(seed)

    def pick(values: Sequence[Any], null_share: float) -> list[Any]:
        chosen = [values[i] for i in rng.integers(0, len(values), rows)]
        return [None if rng.random() < null_share else v for v in chosen]

    quarters = rng.integers(0, 4000, rows) / 4
    return pa.table(
        {
            "kommunenr": pa.array(pick(KOMMUNER, 0.03), pa.string()),
            "maaned": pa.array(pick(list(months), 0.02), pa.int32()),
            "takstkode": pa.array(pick(TAKSTER, 0.02), pa.string()),
            "praksistype": pa.array(pick(PRAKSIS, 0.0), pa.string()),
            "pid": pa.array(pick([f"p{i:03d}" for i in range(150)], 0.05), pa.string()),
            "antall": pa.array(pick([1, 2, 3], 0.05), pa.int64()),
            "belop": pa.array([None if rng.random() < 0.05 else q for q in quarters], pa.float64()),
            "tillegg": pa.array(
                [q if rng.random() < 0.05 else None for q in quarters], pa.float64()
            ),
        }
    )


def write(table: pa.Table, path: Path, row_group_size: int = 1000) -> Path:
    """Write ``table`` as Parquet with small row groups (several per file, like the lake)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def spec(*, distinct: bool = True, filters: bool = True) -> CubeSpec:
    """Three hierarchies with prefix, lookup (with and without default) and total rollups."""
    geo = Hierarchy(
        "geo",
        (
            Level("kommune", column="kommunenr"),
            Level("fylke", rollup=Prefix(2)),
            Level("region", rollup=Lookup(FYLKE_REGION, default="Ukjent")),
            Level("landet", rollup=Total()),
        ),
    )
    tid = Hierarchy(
        "tid",
        (
            Level("maaned", column="maaned"),
            Level("aar", rollup=Prefix(4)),
            Level("alle_aar", rollup=Total()),
        ),
    )
    takst = Hierarchy(
        "takst",
        (
            Level("takstkode", column="takstkode"),
            Level("takstgruppe", rollup=Lookup(TAKST_GRUPPE)),
            Level("alle_takster", rollup=Total()),
        ),
    )
    measures = [
        Measure("linjer", "count"),
        Measure("antall", "sum", "antall"),
        Measure("kroner", "sum", "belop"),
        Measure("tillegg", "sum", "tillegg"),
    ]
    if distinct:
        measures.insert(1, Measure("personer", "count_distinct", "pid"))
    filter_list = (
        Filter("praksistype", "in", ("fastlege", "legevakt")),
        Filter("takstkode", "not_in", ("T",)),
        Filter("maaned", "ge", (201803,)),
        Filter("belop", "le", (900.0,)),
    )
    return CubeSpec("testkube", (geo, tid, takst), tuple(measures), filter_list if filters else ())


# --- the reference: plain Python over rows, written from the semantics, not the engine ---


def _passes(row: dict[str, Any], f: Filter) -> bool:
    value, wanted = row[f.column], f.values
    if f.op == "in":
        return value is not None and value in wanted
    if f.op == "not_in":
        return value is None or value not in wanted
    if value is None:
        return False
    return bool(value >= wanted[0] if f.op == "ge" else value <= wanted[0])


def _level_value(hierarchy: Hierarchy, level: str, row: dict[str, Any]) -> str | None:
    raw = row[hierarchy.levels[0].column or ""]
    value = None if raw is None else str(raw)
    for lv in hierarchy.path_to(level)[1:]:
        if value is None:
            return None
        if isinstance(lv.rollup, Prefix):
            value = value[: lv.rollup.length]
        elif isinstance(lv.rollup, Lookup):
            table = dict(lv.rollup.pairs)
            if value not in table and lv.rollup.default is None:
                raise KeyError(value)
            value = table.get(value, lv.rollup.default)
    return value


def reference(tables: Iterable[pa.Table], cube: CubeSpec) -> dict[Grouping, pa.Table]:
    """Every grouping of ``cube`` computed row by row with dicts of sums."""
    rows = [r for t in tables for r in t.to_pylist() if all(_passes(r, f) for f in cube.filters)]
    schema_of = {f.name: f.type for t in tables for f in t.schema}
    out = {}
    for grouping in cube.all_groupings():
        dims = cube.output_columns(grouping)
        cells: dict[tuple[str | None, ...], list[Any]] = {}
        for row in rows:
            key = tuple(
                _level_value(h, level, row)
                for h, level in zip(cube.hierarchies, grouping, strict=True)
                if not h.level(level).is_total
            )
            acc = cells.setdefault(
                key,
                [
                    None if m.kind == "sum" else (set() if m.kind == "count_distinct" else 0)
                    for m in cube.measures
                ],
            )
            for i, m in enumerate(cube.measures):
                value = row[m.column] if m.column else None
                if m.kind == "count":
                    acc[i] += 1
                elif m.kind == "count_distinct":
                    if value is not None:
                        acc[i].add(value)
                elif value is not None:
                    acc[i] = value if acc[i] is None else acc[i] + value
        fields = [pa.field(d, pa.string()) for d in dims]
        for m in cube.measures:
            integer = m.kind != "sum" or pa.types.is_integer(schema_of[m.column or ""])
            fields.append(pa.field(m.name, pa.int64() if integer else pa.float64()))
        ordered = sorted(cells.items(), key=lambda kv: [(v is None, v or "") for v in kv[0]])
        records = [
            dict(zip(dims, key, strict=True))
            | {
                m.name: (len(v) if isinstance(v, set) else v)
                for m, v in zip(cube.measures, acc, strict=True)
            }
            for key, acc in ordered
        ]
        out[grouping] = pa.Table.from_pylist(records, schema=pa.schema(fields))
    return out
