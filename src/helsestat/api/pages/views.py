"""What the table page shows: header, cells (suppressed ones as "·" with their status and
rule as a tooltip) and a legend — computed here, so the template only lays it out.

>>> import pyarrow as pa
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("kommune",), ("antall",), pa.table({
...     "kommune": ["0301", "1103"], "antall": [1234, None],
...     "status": ["published", "primary"], "status_rule": ["", "antall <= 5"]}))
>>> [c.text for c in table_view(t).rows[1]]
['1103', '·']
"""

from __future__ import annotations

from dataclasses import dataclass

from helsestat.model import RULE_COLUMN, STATUS_COLUMN, ProtectedTable

#: Rows shown on the page; the downloads carry the whole table.
MAX_ROWS = 500
SUPPRESSED_MARK = "·"

#: What each status means, shown in the legend and the tooltips.
STATUS_TEXT = {
    "primary": "primary suppression: the cell itself is too small to publish",
    "secondary": "secondary suppression: hidden so that another suppressed cell "
    "cannot be derived from the totals",
}


@dataclass(frozen=True)
class Cell:
    """One cell of the HTML table."""

    text: str
    numeric: bool = False
    status: str = "published"
    tooltip: str = ""


@dataclass(frozen=True)
class TableView:
    """The table page's table: column headers, at most :data:`MAX_ROWS` rows, the total."""

    columns: tuple[str, ...]
    measures: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    total_rows: int
    suppressed: int


def format_number(value: object) -> str:
    """A measure value for display: thousands separated by a thin space, floats to 2
    decimals, nothing for a missing value.

    >>> format_number(1234567), format_number(0.125), format_number(None)
    ('1\u202f234\u202f567', '0.12', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f")
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", "\u202f")
    return str(value)


def suppression_tooltip(status: str, rule: str) -> str:
    """The tooltip of a suppressed cell: its status and the rule that suppressed it.

    >>> suppression_tooltip("primary", "antall <= 5")
    'suppressed (primary): antall <= 5'
    """
    return f"suppressed ({status}): {rule or 'no rule recorded'}"


def table_view(table: ProtectedTable, max_rows: int = MAX_ROWS) -> TableView:
    """The HTML view of a protected table (its first ``max_rows`` rows)."""
    data = table.table
    names = set(data.column_names)
    head = data.slice(0, max_rows).to_pydict()
    count = min(max_rows, data.num_rows)
    statuses = head.get(STATUS_COLUMN, ["published"] * count)
    rules = head.get(RULE_COLUMN, [""] * count)
    dimensions = tuple(d for d in table.dimensions if d in names)
    measures = tuple(m for m in table.measures if m in names)
    rows = []
    for i in range(count):
        status = str(statuses[i] or "published")
        cells = [Cell(text=str(head[d][i] if head[d][i] is not None else "")) for d in dimensions]
        for m in measures:
            if status != "published":
                tooltip = suppression_tooltip(status, str(rules[i] or ""))
                cells.append(Cell(SUPPRESSED_MARK, numeric=True, status=status, tooltip=tooltip))
            else:
                cells.append(Cell(format_number(head[m][i]), numeric=True))
        rows.append(tuple(cells))
    suppressed = 0
    if STATUS_COLUMN in names:
        suppressed = sum(1 for s in data[STATUS_COLUMN].to_pylist() if s not in (None, "published"))
    return TableView(
        columns=dimensions + measures,
        measures=measures,
        rows=tuple(rows),
        total_rows=data.num_rows,
        suppressed=suppressed,
    )
