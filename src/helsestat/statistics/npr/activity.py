"""Activity per sector × behandlingssted / HF / RHF / hele landet, per month and year: the
unit's table has one row per (behandlingssted, HF, RHF) it belonged to in the period (a unit
that moved keeps its earlier episodes with its earlier HF), named as the unit registry of
the build's reference snapshot named it at the end of the period (:class:`.names.UnitNames`).

>>> from helsestat.statistics.npr.cube import NPR
>>> [t.name for t in activity(NPR).tables][:2]
['npr/behandlingssted/maned', 'npr/behandlingssted/ar']
>>> activity(NPR).dimensions(activity(NPR).tables[0])[-4:]
('hf_orgnr', 'hf_navn', 'behandlingssted_id', 'behandlingssted_navn')
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from helsestat.protect import Protection, Requirement
from helsestat.protect.rules import FrequencyRule
from helsestat.reference.snapshot import Reference
from helsestat.statistics.base import Finish, Statistic, TableDef
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
from helsestat.statistics.npr.names import UnitNames, hf_name, known, named, rhf_name
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
#: Which name a behandlingssted is given, in the notes of its tables.
NAMES_NOTE: Final = (
    "behandlingssted_navn: the name the unit registry gave the behandlingssted on the last "
    "day of the period (or on its last day, if it closed before); an id the registry does "
    "not hold is shown as its own name, an unknown unit as 'Ukjent'"
)


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
                    rules_note=RULE_NOTE
                    if level != "behandlingssted"
                    else f"{RULE_NOTE}; {NAMES_NOTE}",
                )
            )
    return tuple(out)


def dimensions(table: TableDef) -> tuple[str, ...]:
    """The published dimension columns of an activity table: period, sector, then the unit
    path with names beside the RHF and HF codes and the behandlingssted id."""
    period, _, rhf, hf, unit = table.grouping
    dims = ["ar"] + (["maned"] if period == "maned" else []) + ["sektor"]
    if rhf == "rhf_orgnr":
        dims += ["rhf_orgnr", "rhf_navn"]
    if hf == "hf_orgnr":
        dims += ["hf_orgnr", "hf_navn"]
    if unit == "behandlingssted_id":
        dims += ["behandlingssted_id", "behandlingssted_navn"]
    return tuple(dims)


def finish(cube_table: pa.Table, table: TableDef, *, names: UnitNames) -> pa.Table:
    """The cube table in its published shape: ``ar`` beside ``maned``, names beside the
    RHF and HF codes and the behandlingssted id (``names``: the unit registry's, see
    :func:`reference_finish`), the counts as int64 (row by row: same rows, same order)."""
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
        period = cols["maned"] if "maned" in cols else cols["ar"]
        cols["behandlingssted_navn"] = names.column(cols["behandlingssted_id"], period)
    for m in COUNTS:
        cols[m] = pc.cast(cube_table[m], pa.int64())
    return pa.table(cols)


def reference_finish(reference: Reference) -> tuple[Finish, str]:
    """The finish of the activity tables with the behandlingssted names of ``reference``'s
    unit registry, and the digest of those names (what the tables' cached pieces are keyed
    on: a unit renamed in the registry is renamed in the tables on the next build).

    >>> from helsestat.reference.seed import packaged_reference
    >>> made, digest = reference_finish(packaged_reference())  # no unit registry in it
    >>> made.__module__, digest == UnitNames.of(packaged_reference().resh_as_of).digest
    ('helsestat.statistics.npr.activity', True)
    """
    names = UnitNames.of(reference.resh_as_of)

    # a function of this module (not a partial): the cached pieces are keyed on the source
    # of the finish's module
    def named_finish(cube_table: pa.Table, table: TableDef) -> pa.Table:
        return finish(cube_table, table, names=names)

    return named_finish, names.digest


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
        reference_finish=reference_finish,
        name_columns=("behandlingssted_navn",),
        # Full mode: the frequency rule on distinct patients picks the primary cells; the
        # secondary suppression and the audit work on the episodes, the additive count every
        # table is the sum of (distinct patients are not: a patient counts once per cell).
        protection=Protection("episoder", Requirement(range_min=1), listing="non_empty"),
        needs=NEEDS,
        serving=Serving(dashboard=dashboard),
    )


__all__ = [
    "MIN_PATIENTS",
    "NAMES_NOTE",
    "RULE",
    "RULE_NOTE",
    "activity",
    "dimensions",
    "finish",
    "reference_finish",
]
