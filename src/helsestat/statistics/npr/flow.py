"""The flow between HF areas: patients and episodes by the HF of the patient's own
catchment area (``bo_hf_orgnr``) × the HF that treated them (``hf_orgnr``) × sector × year
— a matrix, one row per non-empty cell — and per own-area HF the totals (the matrix's row
margins).

Every matrix cell carries ``utenfor_eget_hf`` (``ja`` when the treating HF is not the own
area's) and ``andel_episoder``, its share of the episodes of its row (the patients of its
own-area HF in the sector and year); every row total carries ``andel_utenfor_eget_hf``, the
share of its episodes treated outside the own area's HF (one minus its diagonal cell's
share). Both shares are computed after protection from published values only (:func:`shares`:
a published cell and its published row total), so they reveal nothing the counts do not; a
share whose count or total is hidden is null.

>>> from helsestat.statistics.npr.cube import NPR
>>> [t.name for t in flow(NPR).tables]
['npr/flyt/matrise', 'npr/flyt/bosted']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from helsestat.model import ProtectedTable
from helsestat.protect import Protection, Requirement
from helsestat.statistics.base import Statistic, TableDef
from helsestat.statistics.npr.activity import RULE, RULE_NOTE
from helsestat.statistics.npr.cube import BO_HF, COUNTS, HF, KIND, NEEDS, SEKTOR, TID, Variant, spec
from helsestat.statistics.npr.names import UKJENT, hf_name, known, named

MEASURES: Final = (*COUNTS, "andel_episoder", "andel_utenfor_eget_hf")
SHARES: Final = ("andel_episoder", "andel_utenfor_eget_hf")


def _tables(variant: Variant) -> tuple[TableDef, ...]:
    return (
        TableDef(
            f"{variant.prefix}flyt/matrise",
            f"Pasientstrømmer ({variant.label}): pasientens eget HF-område × behandlende HF, "
            "sektor og år",
            ("ar", "sektor", "bo_hf_orgnr", "hf_orgnr"),
            (RULE,),
            RULE_NOTE,
        ),
        TableDef(
            f"{variant.prefix}flyt/bosted",
            f"Pasienter og episoder per eget HF-område ({variant.label}), sektor og år",
            ("ar", "sektor", "bo_hf_orgnr", "alle_hf"),
            (RULE,),
            RULE_NOTE,
        ),
    )


def dimensions(table: TableDef) -> tuple[str, ...]:
    """Year, sector, own-area HF (with name) and, in the matrix, the treating HF."""
    dims = ["ar", "sektor", "bo_hf_orgnr", "bo_hf_navn"]
    if "hf_orgnr" in table.grouping:
        dims += ["hf_orgnr", "hf_navn", "utenfor_eget_hf"]
    return tuple(dims)


def finish(cube_table: pa.Table, table: TableDef) -> pa.Table:
    """Names beside the HF codes and, in the matrix, whether the cell is outside the own
    area's HF; the shares are left null for :func:`shares` (row by row)."""
    cols: dict[str, pa.Array | pa.ChunkedArray] = {
        "ar": cube_table["ar"],
        "sektor": known(cube_table["sektor"]),
        "bo_hf_orgnr": known(cube_table["bo_hf_orgnr"]),
    }
    cols["bo_hf_navn"] = named(cols["bo_hf_orgnr"], hf_name)
    if "hf_orgnr" in cube_table.column_names:
        cols["hf_orgnr"] = known(cube_table["hf_orgnr"])
        cols["hf_navn"] = named(cols["hf_orgnr"], hf_name)
        # a patient whose own area is unknown is not counted as treated outside it
        same = pc.equal(cube_table["hf_orgnr"], cube_table["bo_hf_orgnr"])
        unknown = pc.is_null(cube_table["bo_hf_orgnr"])
        cols["utenfor_eget_hf"] = pc.if_else(
            unknown, UKJENT, pc.if_else(pc.fill_null(same, False), "nei", "ja")
        )
    for m in COUNTS:
        cols[m] = pc.cast(cube_table[m], pa.int64())
    for m in SHARES:
        cols[m] = pa.nulls(cube_table.num_rows, pa.float64())
    return pa.table(cols)


def _rows(table: pa.Table) -> list[tuple[str, str, str]]:
    """Each row's (year, sector, own-area HF)."""
    columns = (table[c].to_pylist() for c in ("ar", "sektor", "bo_hf_orgnr"))
    return list(zip(*columns, strict=True))


def shares(tables: Sequence[ProtectedTable]) -> list[ProtectedTable]:
    """The protected flow tables with their shares filled in from published values only:
    a matrix cell's share of its row's episodes where the cell and its row total
    (``…/flyt/bosted``) are published; a row total's share outside the own area's HF where
    it and its diagonal cell are published.

    >>> import pyarrow as pa
    >>> from helsestat.model import ProtectedTable
    >>> key = {"ar": ["2024"], "sektor": ["tsb"], "bo_hf_orgnr": ["1"]}
    >>> m = pa.table({**{k: v * 2 for k, v in key.items()}, "hf_orgnr": ["1", "2"],
    ...               "episoder": [30, 10], "andel_episoder": [None, None],
    ...               "andel_utenfor_eget_hf": [None, None], "status": ["published"] * 2})
    >>> b = pa.table({**key, "episoder": [40], "andel_episoder": [None],
    ...               "andel_utenfor_eget_hf": [None], "status": ["published"]})
    >>> out = shares([ProtectedTable("npr/flyt/matrise", "", (), (), m),
    ...               ProtectedTable("npr/flyt/bosted", "", (), (), b)])
    >>> out[0].table["andel_episoder"].to_pylist(), out[1].table["andel_utenfor_eget_hf"][0]
    ([0.75, 0.25], <pyarrow.DoubleScalar: 0.25>)
    """
    by_name = {t.name: t for t in tables}
    out = []
    for t in tables:
        if not t.name.endswith("flyt/matrise"):
            out.append(t)
            continue
        margin = by_name[t.name.removesuffix("matrise") + "bosted"]
        rows = _rows(margin.table)
        published = zip(
            rows,
            margin.table["episoder"].to_pylist(),
            margin.table["status"].to_pylist(),
            strict=True,
        )
        totals = {k: e for k, e, s in published if s == "published" and e}
        cells = t.table
        share: list[float | None] = []
        inside: dict[tuple[str, str, str], float] = {}
        for k, hf, e, s in zip(
            _rows(cells),
            cells["hf_orgnr"].to_pylist(),
            cells["episoder"].to_pylist(),
            cells["status"].to_pylist(),
            strict=True,
        ):
            total = totals.get(k)
            value = e / total if s == "published" and total and e is not None else None
            share.append(value)
            if value is not None and hf == k[2]:
                inside[k] = value
        out.append(_with(t, "andel_episoder", share))
        outside = [1.0 - inside[k] if k in inside else None for k in rows]
        by_name[margin.name] = _with(margin, "andel_utenfor_eget_hf", outside)
    return [by_name[t.name] if t.name.endswith("flyt/bosted") else t for t in out]


def _with(table: ProtectedTable, column: str, values: list[float | None]) -> ProtectedTable:
    t = table.table
    at = t.column_names.index(column)
    return dataclasses.replace(
        table, table=t.set_column(at, column, pa.array(values, pa.float64()))
    )


def flow(variant: Variant) -> Statistic:
    """The HF flow matrix and its row totals of one variant, protected together in full
    mode."""
    tables = _tables(variant)
    return Statistic(
        name=variant.statistic("flyt"),
        title=f"Pasientstrømmer mellom HF-områder ({variant.label})",
        description="Patients and episodes by the HF of the patient's own catchment area and "
        "the HF that treated them, per sector and year, with each cell's share of its "
        f"row's episodes ({variant.label}'s figure).",
        source_kind=KIND,
        spec=spec(
            variant.statistic("flyt"),
            (TID, SEKTOR, BO_HF, HF),
            tuple(t.grouping for t in tables),
            variant,
        ),
        tables=tables,
        dimensions=dimensions,
        measures=MEASURES,
        count_measure="pasienter",
        finish=finish,
        protection=Protection("episoder", Requirement(range_min=1), listing="non_empty"),
        needs=NEEDS,
        derive=shares,
    )


__all__ = ["MEASURES", "SHARES", "dimensions", "finish", "flow", "shares"]
