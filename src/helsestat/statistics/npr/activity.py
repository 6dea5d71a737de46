"""Activity per sector × behandlingssted / HF / RHF / hele landet, per month and year: the
unit's table has one row per (behandlingssted, HF, RHF) it belonged to in the period (a unit
that moved keeps its earlier episodes with its earlier HF).

>>> from helsestat.statistics.npr.cube import NPR
>>> [t.name for t in activity(NPR).tables][:2]
['npr/behandlingssted/maned', 'npr/behandlingssted/ar']
>>> activity(NPR).dimensions(activity(NPR).tables[0])
('ar', 'maned', 'sektor', 'rhf_orgnr', 'rhf_navn', 'hf_orgnr', 'hf_navn', 'behandlingssted_id')
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from helsestat.protect import Protection, Requirement
from helsestat.protect.rules import FrequencyRule
from helsestat.statistics.base import Statistic, TableDef
from helsestat.statistics.npr.cube import (
    COUNTS,
    ENHET,
    HF,
    KIND,
    NEEDS,
    RHF,
    SEKTOR,
    TID,
    Variant,
    spec,
)
from helsestat.statistics.npr.names import hf_name, known, named, rhf_name
from helsestat.statistics.serving import Dashboard, Serving

#: Level of the table name → the levels of the unit hierarchies (RHF, HF, behandlingssted).
LEVELS: Final = {
    "behandlingssted": ("rhf_orgnr", "hf_orgnr", "behandlingssted_id"),
    "hf": ("rhf_orgnr", "hf_orgnr", "alle_enheter"),
    "rhf": ("rhf_orgnr", "alle_hf", "alle_enheter"),
    "landet": ("alle_rhf", "alle_hf", "alle_enheter"),
}
LEVEL_LABEL: Final = {
    "behandlingssted": "behandlingssted",
    "hf": "helseforetak",
    "rhf": "regionalt helseforetak",
    "landet": "hele landet",
}
PERIODS: Final = {"maned": "måned", "ar": "år"}
#: Cells with 1-4 distinct patients are suppressed (NPR's and SSB's practice of hiding
#: counts below 5).
MIN_PATIENTS: Final = 4
RULE: Final = FrequencyRule("pasienter", MIN_PATIENTS)
RULE_NOTE: Final = "cells with 1-4 distinct patients suppressed (all their figures)"


def _tables(variant: Variant) -> tuple[TableDef, ...]:
    out = []
    for level, units in LEVELS.items():
        for period, label in PERIODS.items():
            out.append(
                TableDef(
                    name=f"{variant.prefix}{level}/{period}",
                    title=f"Aktivitet i spesialisthelsetjenesten ({variant.label}) per sektor, "
                    f"{LEVEL_LABEL[level]} og {label}",
                    grouping=(period, "sektor", *units),
                    compat_rules=(RULE,),
                    rules_note=RULE_NOTE,
                )
            )
    return tuple(out)


def dimensions(table: TableDef) -> tuple[str, ...]:
    """The published dimension columns of an activity table: period, sector, then the unit
    path with names beside the HF and RHF codes."""
    period, _, rhf, hf, unit = table.grouping
    dims = ["ar"] + (["maned"] if period == "maned" else []) + ["sektor"]
    if rhf == "rhf_orgnr":
        dims += ["rhf_orgnr", "rhf_navn"]
    if hf == "hf_orgnr":
        dims += ["hf_orgnr", "hf_navn"]
    if unit == "behandlingssted_id":
        dims += ["behandlingssted_id"]
    return tuple(dims)


def finish(cube_table: pa.Table, table: TableDef) -> pa.Table:
    """The cube table in its published shape: ``ar`` beside ``maned``, names beside the
    HF and RHF codes, the counts as int64 (row by row: same rows, same order)."""
    cols: dict[str, pa.Array | pa.ChunkedArray] = {}
    if "maned" in cube_table.column_names:
        cols["ar"] = pc.utf8_slice_codeunits(cube_table["maned"], 0, 4)
        cols["maned"] = cube_table["maned"]
    else:
        cols["ar"] = cube_table["ar"]
    cols["sektor"] = known(cube_table["sektor"])
    if "rhf_orgnr" in cube_table.column_names:
        cols["rhf_orgnr"] = known(cube_table["rhf_orgnr"])
        cols["rhf_navn"] = named(cols["rhf_orgnr"], rhf_name)
    if "hf_orgnr" in cube_table.column_names:
        cols["hf_orgnr"] = known(cube_table["hf_orgnr"])
        cols["hf_navn"] = named(cols["hf_orgnr"], hf_name)
    if "behandlingssted_id" in cube_table.column_names:
        cols["behandlingssted_id"] = known(cube_table["behandlingssted_id"])
    for m in COUNTS:
        cols[m] = pc.cast(cube_table[m], pa.int64())
    return pa.table(cols)


def activity(variant: Variant, dashboard: Dashboard | None = None) -> Statistic:
    """The activity tables of one variant, protected together in full mode, with the
    ``dashboard`` given."""
    tables = _tables(variant)
    return Statistic(
        name=variant.statistic(""),
        title=f"Aktivitet i spesialisthelsetjenesten ({variant.label})",
        description="Døgnopphold, liggedøgn, dagbehandlinger, polikliniske kontakter and "
        "distinct patients per sector and behandlingssted, HF, RHF and the whole country, by "
        f"month and year ({variant.label}'s figure; NPR-like episodes placed on the units as "
        "the registry stood on the episode date).",
        source_kind=KIND,
        spec=spec(
            variant.statistic(""),
            (TID, SEKTOR, RHF, HF, ENHET),
            tuple(t.grouping for t in tables),
            variant,
        ),
        tables=tables,
        dimensions=dimensions,
        measures=COUNTS,
        count_measure="pasienter",
        finish=finish,
        # Full mode: the frequency rule on distinct patients picks the primary cells; the
        # secondary suppression and the audit work on the episodes, the additive count every
        # table is the sum of (distinct patients are not: a patient counts once per cell).
        protection=Protection("episoder", Requirement(range_min=1), listing="non_empty"),
        needs=NEEDS,
        serving=Serving(dashboard=dashboard),
    )


__all__ = ["MIN_PATIENTS", "RULE", "RULE_NOTE", "activity", "dimensions", "finish"]
