"""The input the magnitude rules need: per published cell, its total, its largest
contributions and its number of contributors.

A contributor is whoever could recognise their own share in a cell: for refund sums the
treater (or practice), for counts of patients the patient. The largest contributions of a
coarser cell cannot be computed from those of its finer cells (one treater may work in two
kommuner), so the aggregate stage computes them for every grouping from contributor-level
sums, the way ``top_contributions`` does here:

>>> import pyarrow as pa
>>> rows = pa.table({"kommune": ["0301", "0301", "0301", "1103"],
...                  "treater": ["a", "a", "b", "c"], "kr": [50.0, 40.0, 10.0, 7.0]})
>>> top_contributions(rows, ("kommune",), "kr", "treater").to_pylist()[0]
{'kommune': '0301', 'kr': 100.0, 'kr_top1': 90.0, 'kr_top2': 10.0, 'kr_contributors': 2}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def top_contributions(
    rows: pa.Table, dimensions: Sequence[str], measure: str, contributor: str, k: int = 2
) -> pa.Table:
    """One row per cell of ``dimensions``: the total of ``measure``, the ``k`` largest
    contributor sums (``<measure>_top1`` …, 0 when there are fewer contributors) and the
    number of contributors (``<measure>_contributors``).

    >>> import pyarrow as pa
    >>> t = pa.table({"d": ["x", "x"], "c": ["p", "q"], "v": [3.0, 5.0]})
    >>> top_contributions(t, ("d",), "v", "c", k=1).column("v_top1").to_pylist()
    [5.0]
    """
    dims = list(dimensions)
    per = rows.group_by([*dims, contributor]).aggregate([(measure, "sum")])
    per = per.rename_columns([*dims, contributor, measure])
    per = per.append_column("_abs", pc.abs(per.column(measure)))
    order = [(d, "ascending") for d in dims] + [("_abs", "descending")]
    per = per.sort_by(order)
    cells = per.group_by(dims, use_threads=False).aggregate(
        [(measure, "sum"), (contributor, "count")]
    )
    cells = cells.rename_columns([*dims, measure, f"{measure}_contributors"])
    cells = cells.sort_by([(d, "ascending") for d in dims])
    # Rows of ``per`` are grouped by cell in the same order as ``cells``.
    sizes = np.asarray(cells.column(f"{measure}_contributors").to_numpy(), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    values = np.asarray(per.column("_abs").to_numpy(zero_copy_only=False), dtype=np.float64)
    out = {d: cells.column(d) for d in dims}
    out[measure] = cells.column(measure)
    for i in range(k):
        top = np.where(sizes > i, values[np.minimum(starts + i, len(values) - 1)], 0.0)
        out[f"{measure}_top{i + 1}"] = pa.array(top)
    out[f"{measure}_contributors"] = pc.cast(cells.column(f"{measure}_contributors"), pa.int64())
    return pa.table(out)


__all__ = ["top_contributions"]
