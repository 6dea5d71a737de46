"""The table page's chart: the first measure over the table's time dimension (or its first
dimension), as a plotly.js figure (plain JSON; the browser draws it with the locally served
plotly.js).

Each combination of the other dimensions becomes one series; the :data:`MAX_SERIES` largest
by their published total are drawn. Suppressed cells are gaps, never zeros or estimates.

>>> import pyarrow as pa
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("aar",), ("antall",), pa.table({
...     "aar": ["2023", "2024"], "antall": [10, None],
...     "status": ["published", "primary"], "status_rule": ["", "n <= 5"]}))
>>> chart_figure(t)["data"][0]["y"]
[10, None]
"""

from __future__ import annotations

from typing import Any

from helsestat.model import STATUS_COLUMN, ProtectedTable

MAX_SERIES = 12
MAX_POINTS = 2000


def _looks_like_time(values: list[str]) -> bool:
    # Years (2024), months (202405) or ISO-like periods (2024-05): draw lines, not bars.
    return bool(values) and all(
        v.replace("-", "").isdigit() and len(v.replace("-", "")) in (4, 6, 8) for v in values
    )


def chart_figure(table: ProtectedTable) -> dict[str, Any] | None:
    """A plotly figure (``{"data": [...], "layout": {...}}``) of the first measure: over the
    table's time dimension (a year, month or period column) when it has one, else over its
    first dimension; one series per combination of the other dimensions — the
    :data:`MAX_SERIES` largest by their published total, not the first in sort order. None
    when the table has no dimension or no measure."""
    if not table.dimensions or not table.measures:
        return None
    measure = table.measures[0]
    data = table.table.to_pydict()
    count = len(data[table.dimensions[0]])
    x_dim = next(
        (d for d in table.dimensions if _looks_like_time([str(v) for v in data[d][:50]])),
        table.dimensions[0],
    )
    others = [d for d in table.dimensions if d != x_dim]
    statuses = data.get(STATUS_COLUMN, ["published"] * count)
    points: dict[str, dict[str, Any]] = {}
    totals: dict[str, float] = {}
    for i in range(count):
        label = " · ".join(str(data[d][i]) for d in others) or measure
        value = data[measure][i] if statuses[i] in (None, "published") else None
        points.setdefault(label, {})[str(data[x_dim][i])] = value
        totals[label] = totals.get(label, 0.0) + (value or 0)
    largest = sorted(totals, key=lambda label: -totals[label])[:MAX_SERIES]
    xs_all = sorted({x for label in largest for x in points[label]})[:MAX_POINTS]
    line = _looks_like_time(xs_all)
    series = {
        label: ([x for x in xs_all if x in points[label]], points[label]) for label in largest
    }
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": xs,
            "y": [values[x] for x in xs],
            "name": label,
        }
        if line
        else {"type": "bar", "x": xs, "y": [values[x] for x in xs], "name": label}
        for label, (xs, values) in series.items()
    ]
    return {
        "data": traces,
        "layout": {
            "title": {"text": f"{measure} by {x_dim}"},
            "xaxis": {"title": {"text": x_dim}, "type": "category", "automargin": True},
            "yaxis": {
                "title": {"text": measure, "standoff": 12},
                "rangemode": "tozero",
                "tickformat": ",",
                "automargin": True,
            },
            "separators": ".\u202f",  # thin-space thousands, as in the table
            "barmode": "group",
            "showlegend": len(traces) > 1,
            "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
            "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }
