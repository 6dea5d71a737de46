"""The table page's chart: the first measure over the first dimension, as a plotly.js
figure (plain JSON; the browser draws it with the locally served plotly.js).

Each combination of the other dimensions becomes one series (the first
:data:`MAX_SERIES`). Suppressed cells are gaps, never zeros or estimates.

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
    """A plotly figure (``{"data": [...], "layout": {...}}``) of the first measure over the
    first dimension, or None when the table has no dimension or no measure."""
    if not table.dimensions or not table.measures:
        return None
    x_dim, measure = table.dimensions[0], table.measures[0]
    others = table.dimensions[1:]
    data = table.table.slice(0, MAX_POINTS).to_pydict()
    count = len(data[x_dim])
    statuses = data.get(STATUS_COLUMN, ["published"] * count)
    series: dict[str, tuple[list[str], list[Any]]] = {}
    for i in range(count):
        label = " · ".join(str(data[d][i]) for d in others) or measure
        if label not in series:
            if len(series) == MAX_SERIES:
                continue
            series[label] = ([], [])
        xs, ys = series[label]
        xs.append(str(data[x_dim][i]))
        ys.append(data[measure][i] if statuses[i] in (None, "published") else None)
    line = _looks_like_time([x for xs, _ in series.values() for x in xs])
    traces = [
        {"type": "scatter", "mode": "lines+markers", "x": xs, "y": ys, "name": label}
        if line
        else {"type": "bar", "x": xs, "y": ys, "name": label}
        for label, (xs, ys) in series.items()
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
