"""The protect stage: every published table passes here and leaves as a ProtectedTable.

Two entry points:

* :func:`protect_table` applies the primary rules of one table (compatibility mode: the
  documented rules of the API being replaced, nothing more);
* :func:`protect_tables` protects a family of linked tables together (full mode): primary
  rules, secondary suppression by Gaussian elimination over one model matrix, an attacker
  audit by linear programming over everything published, and more suppression where the
  audit finds a cell too narrowly protected.

A suppressed cell keeps its dimension values, its measures become null, ``status`` says
``primary`` or ``secondary`` and ``status_rule`` names the rule (``secondary`` for secondary
cells).

>>> import pyarrow as pa
>>> from helsestat.protect.rules import FrequencyRule
>>> t = protect_table("demo", "Demo", pa.table({"k": ["a", "b"], "n": [2, 9]}), ("k",), ("n",),
...                   (FrequencyRule("n", 3),))
>>> t.table.column("n").to_pylist(), t.table.column("status").to_pylist()
([None, 9], ['primary', 'published'])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.model import RULE_COLUMN, STATUS_COLUMN, ProtectedTable
from helsestat.protect.engine import Requirement
from helsestat.protect.linked import Protection, ProtectionReport, TableToProtect, protect_tables
from helsestat.protect.rules import (
    ContributorsRule,
    DominanceRule,
    FrequencyRule,
    MinimumPopulationRule,
    PPercentRule,
    Rule,
)


def protect_table(
    name: str,
    title: str,
    table: pa.Table,
    dimensions: tuple[str, ...],
    measures: tuple[str, ...],
    rules: Sequence[Rule],
    notes: tuple[str, ...] = (),
) -> ProtectedTable:
    """Apply primary rules to one table; the first rule that hits a cell names it.

    >>> import pyarrow as pa
    >>> t = protect_table("t", "T", pa.table({"n": [1]}), (), ("n",), (FrequencyRule("n", 3),))
    >>> t.table.column("status_rule").to_pylist()
    ['n<=3']
    """
    n = table.num_rows
    suppressed = np.zeros(n, dtype=bool)
    # per cell, the index of the rule that suppressed it (0: none): labels are taken from a
    # small array, not written string by string
    hit_by = np.zeros(n, dtype=np.int8 if len(rules) < 127 else np.int32)
    for index, rule in enumerate(rules, start=1):
        hit = rule.apply(table) & ~suppressed
        hit_by[hit] = index
        suppressed |= hit
    mask = pa.array(suppressed)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {d: table.column(d) for d in dimensions}
    for m in measures:
        col = table.column(m)
        columns[m] = pc.if_else(mask, pa.scalar(None, col.type), col) if rules else col
    statuses = pa.array(["published", "primary"], pa.string())
    columns[STATUS_COLUMN] = statuses.take(pa.array(suppressed.view(np.int8)))
    labels = pa.array(["", *(rule.label for rule in rules)], pa.string())
    columns[RULE_COLUMN] = labels.take(pa.array(hit_by))
    return ProtectedTable(
        name=name,
        title=title,
        dimensions=dimensions,
        measures=measures,
        table=pa.table(columns),
        notes=notes,
    )


__all__ = [
    "ContributorsRule",
    "DominanceRule",
    "FrequencyRule",
    "MinimumPopulationRule",
    "PPercentRule",
    "Protection",
    "ProtectionReport",
    "Requirement",
    "Rule",
    "TableToProtect",
    "protect_table",
    "protect_tables",
]
