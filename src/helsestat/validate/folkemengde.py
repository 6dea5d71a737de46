"""The ``folkemengde`` extract kind (SSB's word for the population count): inhabitants on
1 January per grunnkrets, kjønn and single year of age — what the catchment-area statistic
(opptaksområder) is computed from.

One row is one cell: grunnkrets (8 digits), year, kjønn (1 menn, 2 kvinner), age (0–104;
105 means 105 or older) and the number of persons. The table holds counts, no person, so
there is no identifier column. In helsestat's demo the rows are SYNTHETIC
(:mod:`helsestat.synth.catchment`); Statistics Norway does not publish this table.

>>> print(FOLKEMENGDE.describe().splitlines()[0])  # doctest: +ELLIPSIS
Population by grunnkrets, kjønn and age (folkemengde): one row per line, ...
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from helsestat.reference.snapshot import Reference
from helsestat.validate.spec import Checked, Column, ExtractSpec, matches, parse_int

FIRST_YEAR, LAST_YEAR = 2015, 2100
#: 105 stands for 105 years or older (SSB's table 13982 has 105+)
OLDEST = 105

COLUMNS = (
    Column("grunnkrets", "grunnkrets number, 8 digits (kommunenr + 4)", "03010101"),
    Column("aar", "year; the population on 1 January", "2024"),
    Column("kjonn", "kjønn: 1 menn, 2 kvinner", "2"),
    Column("alder", "age in whole years 0-104, 105 for 105 or older", "34"),
    Column("personer", "inhabitants in the cell, 0 or more", "12"),
)

RULES = (
    ("grunnkrets.invalid", "grunnkrets is not 8 digits"),
    ("aar.invalid", f"aar is not a year from {FIRST_YEAR}"),
    ("kjonn.invalid", "kjonn is not 1 or 2"),
    ("alder.invalid", f"alder is not a whole number 0-{OLDEST}"),
    ("personer.invalid", "personer is not a whole number 0 or more"),
)


def _check(t: pa.Table, reference: Reference) -> Checked:
    fail: dict[str, np.ndarray] = {}
    fail["grunnkrets.invalid"] = ~matches(t["grunnkrets"], r"\d{8}")
    ok = matches(t["aar"], r"\d{4}")
    year = parse_int(t["aar"], ok)
    fail["aar.invalid"] = ~(ok & (year >= FIRST_YEAR) & (year <= LAST_YEAR))
    ok = matches(t["kjonn"], r"[12]")
    kjonn = parse_int(t["kjonn"], ok)
    fail["kjonn.invalid"] = ~ok
    ok = matches(t["alder"], r"\d{1,3}")
    alder = parse_int(t["alder"], ok)
    fail["alder.invalid"] = ~(ok & (alder <= OLDEST))
    ok = matches(t["personer"], r"\d{1,9}")
    personer = parse_int(t["personer"], ok)
    fail["personer.invalid"] = ~ok
    typed = pa.table(
        {
            "grunnkrets": t["grunnkrets"],
            "aar": pa.array(year.astype(np.int32)),
            "kjonn": pa.array(kjonn.astype(np.int8)),
            "alder": pa.array(alder.astype(np.int16)),
            "personer": pa.array(personer.astype(np.int32)),
        }
    )
    return Checked(typed, fail)


FOLKEMENGDE = ExtractSpec(
    kind="folkemengde",
    title="Population by grunnkrets, kjønn and age",
    columns=COLUMNS,
    identifiers=(),
    check=_check,
    partition_column="aar",
    rules=RULES,
    sort_by=("grunnkrets",),
    line_key=("grunnkrets", "kjonn", "alder"),
    reject_duplicates=True,
)

__all__ = ["FOLKEMENGDE"]
