"""SOB events against the unit registry (Swedish side, HSA-katalogen-like): does a vårdgivare
and a vårdenhet hold the event's HSA-ids on its date, and is the vårdenhet under that
vårdgivare then?

The check is one DuckDB interval join of the event's distinct (date, vårdgivare, vårdenhet)
combinations — a few thousand in a month of events — against the registry's as-of table by
HSA-id (:class:`~helsestat.reference.units.hsa.HsaUnits`), then a lookup per row with numpy:
no query, and no Python, per row.

>>> import pyarrow as pa
>>> from datetime import date
>>> from helsestat.reference.units.hsa import SCHEMA, HsaUnits
>>> units = HsaUnits(pa.table({"hsa_id": ["VG1", "E1"], "kind": ["vardgivare", "vardenhet"],
...     "valid_from": [date(2015, 1, 1)] * 2, "valid_to": [None, date(2020, 1, 1)],
...     "vardgivare_hsaid": ["VG1", "VG1"], "lan": ["01", "01"]}, schema=SCHEMA))
>>> days = np.array([(date(2019, 5, 1) - date(1970, 1, 1)).days] * 3)
>>> found = check_units(days, np.ones(3, bool), pa.array(["VG1", "VG1", "VG2"]),
...                     pa.array(["E1", "E2", "E1"]), units)
>>> found.vardgivare_known.tolist(), found.vardenhet_known.tolist(), found.under.tolist()
([True, True, False], [True, False, True], [True, False, False])
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.reference.hsa_units import HsaUnits

#: the end of an open period, for the interval join
_OPEN = "DATE '9999-12-31'"


@dataclass(frozen=True)
class UnitFindings:
    """Per event: the vårdgivare holds its HSA-id on the date, the vårdenhet holds its
    HSA-id on the date, and the vårdenhet is under that vårdgivare on the date."""

    vardgivare_known: np.ndarray
    vardenhet_known: np.ndarray
    under: np.ndarray


def _codes(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = values if pa.types.is_dictionary(values.type) else pc.dictionary_encode(values)
    size = len(encoded.dictionary)
    codes = np.asarray(encoded.indices.fill_null(size).to_numpy(zero_copy_only=False), np.int64)
    return codes, pa.concat_arrays([encoded.dictionary.cast(pa.string()), pa.array([""])])


def check_units(
    days: np.ndarray,
    dated: np.ndarray,
    vardgivare: pa.Array | pa.ChunkedArray,
    vardenhet: pa.Array | pa.ChunkedArray,
    units: HsaUnits,
) -> UnitFindings:
    """Check each event (its date as days after 1970-01-01, where ``dated``) against
    ``units``; events without a date are neither known nor under (the caller reports them
    for their time)."""
    n = len(days)
    vg_code, vg_values = _codes(vardgivare)
    ve_code, ve_values = _codes(vardenhet)
    day = np.where(dated, days, 0).astype(np.int64)
    # one key per distinct (day, vårdgivare, vårdenhet): the join runs on those
    key = (day - int(day.min(initial=0))) * len(vg_values) + vg_code
    key = key * len(ve_values) + ve_code
    distinct, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    keys = pa.table(
        {
            "i": pa.array(np.arange(len(distinct), dtype=np.int64)),
            "day": pa.array(day[first].astype(np.int32), pa.int32()).cast(pa.date32()),
            "vg": vg_values.take(pa.array(vg_code[first])),
            "ve": ve_values.take(pa.array(ve_code[first])),
        }
    )
    table = units.table
    with duckdb.connect() as con:
        con.register("k", keys)
        con.register("u", table)
        found = con.sql(
            f"""WITH vg AS (
                    SELECT DISTINCT k.i FROM k JOIN u
                      ON u.kind = 'vardgivare' AND u.hsa_id = k.vg
                     AND k.day >= u.valid_from AND k.day < coalesce(u.valid_to, {_OPEN})),
                ve AS (
                    SELECT k.i, bool_or(u.vardgivare_hsaid = k.vg) AS under FROM k JOIN u
                      ON u.kind = 'vardenhet' AND u.hsa_id = k.ve
                     AND k.day >= u.valid_from AND k.day < coalesce(u.valid_to, {_OPEN})
                    GROUP BY k.i)
                SELECT k.i, vg.i IS NOT NULL AS vg_known, ve.i IS NOT NULL AS ve_known,
                       coalesce(ve.under, false) AS under
                FROM k LEFT JOIN vg USING (i) LEFT JOIN ve USING (i) ORDER BY k.i"""
        ).to_arrow_table()

    def per_row(column: str) -> np.ndarray:
        values = np.asarray(found.column(column).to_numpy(zero_copy_only=False), bool)
        return values[inverse] & dated if n else np.zeros(0, bool)

    return UnitFindings(per_row("vg_known"), per_row("ve_known"), per_row("under"))


__all__ = ["UnitFindings", "check_units"]
