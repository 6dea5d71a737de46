"""The flow between HF areas: patients and episodes by the HF of the patient's own
catchment area (``bo_hf_orgnr``) × the HF that treated them (``hf_orgnr``) × sector × year
— a matrix, one row per non-empty cell — and per own-area HF the totals (the matrix's row
margins).

Every cell carries ``utenfor_eget_hf`` (``ja`` when the treating HF is not the own area's)
and ``andel_episoder``, the cell's share of the episodes of the patients of its own-area HF
in the sector and year: the share treated outside the own area's HF is the sum of the
shares of the ``ja`` cells of a row, or one minus the share of its diagonal cell. A share
reveals nothing a published count and its row's total do not: the row totals are published
(``…/flyt/bosted``) and protected together with the matrix in full mode.

>>> from helsestat.statistics.npr.cube import NPR
>>> [t.name for t in flow(NPR).tables]
['npr/flyt/matrise', 'npr/flyt/bosted']
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.protect import Protection, Requirement
from helsestat.statistics.base import Statistic, TableDef
from helsestat.statistics.npr.activity import RULE, RULE_NOTE
from helsestat.statistics.npr.cube import BO_HF, COUNTS, HF, KIND, SEKTOR, TID, Variant, spec
from helsestat.statistics.npr.names import UKJENT, hf_name, known, named

MEASURES: Final = (*COUNTS, "andel_episoder")


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
    """Names beside the HF codes; in the matrix, whether the cell is outside the own area's
    HF and its share of its row's episodes (the rows of a sector and year together)."""
    cols: dict[str, pa.Array | pa.ChunkedArray] = {
        "ar": cube_table["ar"],
        "sektor": known(cube_table["sektor"]),
        "bo_hf_orgnr": known(cube_table["bo_hf_orgnr"]),
    }
    cols["bo_hf_navn"] = named(cols["bo_hf_orgnr"], hf_name)
    episodes = np.asarray(cube_table["episoder"].to_numpy(zero_copy_only=False), np.float64)
    if "hf_orgnr" in cube_table.column_names:
        cols["hf_orgnr"] = known(cube_table["hf_orgnr"])
        cols["hf_navn"] = named(cols["hf_orgnr"], hf_name)
        # a patient whose own area is unknown is not counted as treated outside it
        same = pc.equal(cube_table["hf_orgnr"], cube_table["bo_hf_orgnr"])
        unknown = pc.is_null(cube_table["bo_hf_orgnr"])
        cols["utenfor_eget_hf"] = pc.if_else(
            unknown, UKJENT, pc.if_else(pc.fill_null(same, False), "nei", "ja")
        )
        keys = [
            "\0".join(str(v) for v in row)
            for row in zip(
                *(cube_table[c].to_pylist() for c in ("ar", "sektor", "bo_hf_orgnr")),
                strict=True,
            )
        ]
        _, group = np.unique(np.asarray(keys, dtype=object), return_inverse=True)
        totals = np.bincount(group, weights=episodes) if len(keys) else np.zeros(0)
        share = episodes / totals[group] if len(keys) else np.zeros(0)
    else:
        share = np.ones(cube_table.num_rows)
    for m in COUNTS:
        cols[m] = pc.cast(cube_table[m], pa.int64())
    cols["andel_episoder"] = pa.array(share, pa.float64())
    return pa.table(cols)


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
    )


__all__ = ["MEASURES", "dimensions", "finish", "flow"]
