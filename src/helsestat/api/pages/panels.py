"""What a dashboard panel (:class:`~helsestat.statistics.serving.Panel`) shows, made from the
rows of its table's answer: a plotly figure (bars, lines or a population pyramid), the rows
as cells, the legend of the suppressed cells and, for a drill-down table, the links down and
the breadcrumb back up — computed here, so the template only lays it out.

Suppressed cells are never drawn as zeros: a chart leaves a gap and marks it with a cross on
the axis (one legend entry per status, the status and the rule in its tooltip); the rows show
:data:`~helsestat.api.pages.views.SUPPRESSED_MARK` with the same tooltip.

>>> from helsestat.statistics.serving import Panel
>>> rows = [{"kon": "kvinna", "vardtagare": 398, "status": "published", "status_rule": ""},
...         {"kon": "man", "vardtagare": None, "status": "primary",
...          "status_rule": "vardtagare<=10"}]
>>> view = panel_view(Panel("s/kon", "Kön", "bar", x="kon", measures=("vardtagare",)),
...                   Answer(("kon",), ("vardtagare",), rows), Words({}, "sv"))
>>> [trace["name"] for trace in view.figure["data"]]
['vardtagare', 'suppressed value (fewer than the rule allows)']
>>> [c.text for c in view.rows[1]]
['man', '·']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from helsestat.api.pages.views import SUPPRESSED_MARK
from helsestat.model import RULE_COLUMN, STATUS_COLUMN
from helsestat.statistics.serving import Panel

#: The words of a panel page, in English; a dashboard's ``labels`` replace them.
ENGLISH: Final[Mapping[str, str]] = {
    "show": "Show",
    "all": "All",
    "total": "Total",
    "download": "Download",
    "table": "Show the table",
    "no_rows": "No rows for this query.",
    "suppressed.primary": "suppressed value (fewer than the rule allows)",
    "suppressed.secondary": "suppressed value (it would reveal another)",
    "status.primary": "primary suppression",
    "status.secondary": "secondary suppression",
    "period": "Data from {first} to {last}.",
    "crumbs": "Drill-down",
}
#: Colours of the series, in order (the site's accent first).
COLOURS: Final = ("#0b5cad", "#e07b39", "#2a9d8f", "#8e5ea2", "#c9a227", "#6c757d")
#: The two sides of a pyramid.
SIDE_COLOURS: Final = ("#c0507a", "#2b6cb0")
#: Marks of suppressed cells in charts, by status.
GAP_COLOURS: Final = {"primary": "#b4232a", "secondary": "#8a5a00"}
_FONT: Final = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


@dataclass(frozen=True)
class Words:
    """The words of a page (``labels`` over :data:`ENGLISH`) and its language, which also
    sets the decimal sign (a comma in Swedish and Norwegian)."""

    labels: Mapping[str, str]
    lang: str = "en"

    def __call__(self, key: str, default: str | None = None) -> str:
        """The word for ``key``: the page's, else English, else ``default`` or the key."""
        found = self.labels.get(key) or ENGLISH.get(key)
        return found if found is not None else (key if default is None else default)

    def value(self, column: str, value: str) -> str:
        """How a value of a column is shown (``labels["kon=kvinna"]``, else the value)."""
        return self.labels.get(f"{column}={value}", value)

    @property
    def decimal(self) -> str:
        return "," if self.lang in ("sv", "nb", "nn", "no") else "."

    def number(self, value: object, percent: bool = False) -> str:
        """A measure for display: thousands apart by a thin space, one decimal for a float,
        a share as a percentage.

        >>> Words({}, "sv").number(1234567), Words({}, "sv").number(0.9388, percent=True)
        ('1\u202f234\u202f567', '93,9\u202f%')
        """
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int):
            return f"{value:,}".replace(",", "\u202f")
        if isinstance(value, float):
            shown = value * 100 if percent else value
            text = f"{shown:,.1f}".replace(",", "\u202f").replace(".", self.decimal)
            return f"{text}\u202f%" if percent else text
        return str(value)


@dataclass(frozen=True)
class Answer:
    """The rows of a table's answer (dimensions as text, measures as numbers or None, each
    row's status and rule), with the table's dimensions and measures."""

    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    rows: Sequence[Mapping[str, Any]]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cell:
    """One cell of a panel's rows."""

    text: str
    numeric: bool = False
    status: str = "published"
    tooltip: str = ""
    href: str = ""
    code: str = ""  # a code shown beside a name
    share: float | None = None  # a share drawn as a bar behind the number (0…1)


@dataclass(frozen=True)
class Crumb:
    """One step of a drill-down's breadcrumb; the last has no link."""

    text: str
    href: str = ""


@dataclass(frozen=True)
class PanelView:
    """A panel ready for the template: its chart (None: rows only), header and rows (the
    first row of a drill-down is the node itself, ``current``), the suppressed statuses
    present, the notes, the breadcrumb and the downloads (format, media type, URL)."""

    panel: Panel
    figure: dict[str, Any] | None
    columns: tuple[tuple[str, bool], ...]  # label, numeric
    rows: tuple[tuple[Cell, ...], ...]
    suppressed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    crumbs: tuple[Crumb, ...] = ()
    current: bool = False
    downloads: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)


def _status(row: Mapping[str, Any]) -> str:
    return str(row.get(STATUS_COLUMN) or "published")


def _tooltip(row: Mapping[str, Any], words: Words) -> str:
    status = _status(row)
    rule = str(row.get(RULE_COLUMN) or "")
    text = words(f"status.{status}", status)
    return f"{words(f'suppressed.{status}')} · {text}: {rule}" if rule else text


def _hidden(row: Mapping[str, Any], measure: str) -> bool:
    return row.get(measure) is None and _status(row) != "published"


def _charted(panel: Panel, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in rows if all(r.get(d) not in v for d, v in panel.skip.items())]


def _measures(panel: Panel, answer: Answer) -> tuple[str, ...]:
    return tuple(m for m in panel.measures if m in answer.measures) or answer.measures[:1]


def _layout(words: Words, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "separators": words.decimal + "\u202f",
        "colorway": list(COLOURS),
        "font": {"family": _FONT, "size": 13, "color": "#1d2433"},
        "margin": {"l": 56, "r": 16, "t": 12, "b": 40},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": True,
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "hoverlabel": {"font": {"family": _FONT}},
        "barmode": "group",
        "bargap": 0.25,
    }
    return layout | extra


def _gaps(
    points: list[tuple[Any, Any, str]], words: Words, horizontal: bool
) -> list[dict[str, Any]]:
    """One trace per suppressed status: a cross on the axis at each gap, the tooltip as
    hover text; ``points`` are (x, y-or-None, tooltip) where the value is hidden."""
    traces = []
    for status, colour in GAP_COLOURS.items():
        found = [(a, b, tip) for a, b, tip in points if tip.startswith(status + "\t")]
        if not found:
            continue
        at = [a for a, _, _ in found]
        zeros = [0] * len(found)
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": zeros if horizontal else at,
                "y": at if horizontal else zeros,
                "name": words(f"suppressed.{status}"),
                "marker": {"symbol": "x", "size": 9, "color": colour},
                "hovertext": [tip.split("\t", 1)[1] for _, _, tip in found],
                "hoverinfo": "text",
                "cliponaxis": False,
            }
        )
    return traces


def _gap_tip(row: Mapping[str, Any], words: Words, where: str) -> str:
    return f"{_status(row)}\t{where}: {_tooltip(row, words)}"


def _x_text(panel: Panel, row: Mapping[str, Any], words: Words) -> str:
    column = panel.label or panel.x
    return words.value(column, str(row.get(column) or row.get(panel.x) or ""))


def _x_texts(
    panel: Panel, answer: Answer, rows: Sequence[Mapping[str, Any]], words: Words
) -> list[str]:
    """The category of each row on the chart's axis: its ``x`` text, and where several rows
    of one series share it (a behandlingssted that moved to another HF during the year has a
    row per HF under one name), the value of the finest name column (``…_navn``) they
    differ in, else of the first other dimension — so that every row gets its own bar (a line
    chart's axis is time, and keeps its periods).

    >>> rows = [{"id": "1", "navn": "A", "hf": "x", "hf_navn": "X"},
    ...         {"id": "1", "navn": "A", "hf": "y", "hf_navn": "Y"},
    ...         {"id": "2", "navn": "B", "hf": "y", "hf_navn": "Y"}]
    >>> panel = Panel("t", "T", "hbar", x="id", label="navn", measures=("n",))
    >>> _x_texts(panel, Answer(("hf", "hf_navn", "id", "navn"), ("n",), rows), rows, Words({}))
    ['A · X', 'A · Y', 'B']
    """
    texts = [_x_text(panel, r, words) for r in rows]
    if panel.kind == "line":  # an axis of time: its categories are the periods
        return texts
    shared: dict[tuple[str, str], list[int]] = {}
    for i, (row, text) in enumerate(zip(rows, texts, strict=True)):
        shared.setdefault((text, str(row.get(panel.series) or "")), []).append(i)
    others = [d for d in answer.dimensions if d not in (panel.x, panel.label, panel.series)]
    for (text, _), group in shared.items():
        if len(group) < 2:
            continue
        differing = [d for d in others if len({str(rows[i].get(d)) for i in group}) > 1]
        named = [d for d in differing if d.endswith("_navn")]
        # the finest name (hierarchies list their levels coarse to fine), else a code
        differ = named[-1] if named else (differing[0] if differing else None)
        if differ is not None:
            for i in group:
                texts[i] = f"{text} · {words.value(differ, str(rows[i].get(differ) or ''))}"
    return texts


def bars_or_lines(panel: Panel, answer: Answer, words: Words) -> dict[str, Any] | None:
    """The figure of a ``bar``, ``hbar`` or ``line`` panel: one trace per measure, or per
    value of ``series`` (of the first measure)."""
    rows = _charted(panel, answer.rows)
    if not rows:
        return None
    measures = _measures(panel, answer)
    texts = _x_texts(panel, answer, rows, words)
    xs = list(dict.fromkeys(texts))
    gaps: list[tuple[Any, Any, str]] = []
    groups: dict[str, dict[str, Any]] = {}
    for measure in measures[:1] if panel.series else measures:
        for row, x in zip(rows, texts, strict=True):
            name = (
                words.value(panel.series, str(row.get(panel.series) or ""))
                if panel.series
                else words(measure)
            )
            groups.setdefault(name, {})[x] = row.get(measure)
            if _hidden(row, measure):
                gaps.append((x, None, _gap_tip(row, words, f"{name}, {x}")))
    line = panel.kind == "line"
    across = panel.kind == "hbar"
    traces: list[dict[str, Any]] = []
    for name, values in groups.items():
        trace: dict[str, Any] = {"type": "scatter" if line else "bar", "name": name}
        ys = [values.get(x) for x in xs]
        if across:
            trace |= {"orientation": "h", "y": xs, "x": ys}
            trace["hovertemplate"] = "%{y}: %{x:,}<extra>" + name + "</extra>"
        else:
            trace |= {"x": xs, "y": ys}
            trace["hovertemplate"] = "%{x}: %{y:,}<extra>" + name + "</extra>"
        if line:
            trace |= {"mode": "lines+markers", "line": {"width": 2.5}, "marker": {"size": 5}}
        traces.append(trace)
    categories = {"type": "category", "automargin": True}
    values_axis = {"rangemode": "tozero", "tickformat": ",d", "automargin": True,
                   "gridcolor": "#e6e9ef"}  # fmt: skip
    if across:
        height = max(260, 70 + len(xs) * (14 + 12 * len(traces)))
        axes = {
            "yaxis": categories | {"autorange": "reversed"},
            "xaxis": values_axis,
            "height": height,
        }
    else:
        axes = {
            "xaxis": categories | {"tickangle": 0 if len(xs) < 9 else -45},
            "yaxis": values_axis,
        }
    layout = _layout(words, showlegend=len(traces) > 1 or bool(gaps), **axes)
    return {"data": traces + _gaps(gaps, words, horizontal=across), "layout": layout}


def _ticks(largest: float) -> list[int]:
    """Round ticks from 0 to about ``largest`` (at most 5 each side of a pyramid).

    >>> _ticks(123)
    [0, 50, 100]
    """
    if largest <= 0:
        return [0]
    raw = largest / 4
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * step:
            step = int(factor * step) or 1
            break
    return list(range(0, int(largest) + 1, step))


def pyramid(panel: Panel, answer: Answer, words: Words) -> dict[str, Any] | None:
    """The figure of a ``pyramid`` panel: ``x``'s values as rows, the first measure of the
    ``sides`` values of ``series`` drawn to the left and to the right."""
    if panel.sides is None or not panel.series:
        return None
    rows = _charted(panel, answer.rows)
    measure = _measures(panel, answer)[0]
    ys = list(dict.fromkeys(_x_text(panel, r, words) for r in rows))
    if not ys:
        return None
    traces: list[dict[str, Any]] = []
    gaps: list[tuple[Any, Any, str]] = []
    largest = 0.0
    for side, (value, colour) in enumerate(zip(panel.sides, SIDE_COLOURS, strict=True)):
        name = words.value(panel.series, value)
        shown: dict[str, Any] = {}
        for row in rows:
            if row.get(panel.series) != value:
                continue
            y = _x_text(panel, row, words)
            shown[y] = row.get(measure)
            if _hidden(row, measure):
                gaps.append((y, None, _gap_tip(row, words, f"{name}, {y}")))
        counts = [shown.get(y) for y in ys]
        largest = max([largest, *(float(c) for c in counts if c is not None)])
        sign = -1 if side == 0 else 1
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": name,
                "y": ys,
                "x": [None if c is None else sign * c for c in counts],
                "customdata": counts,
                "marker": {"color": colour},
                "hovertemplate": "%{y}: %{customdata:,}<extra>" + name + "</extra>",
            }
        )
    ticks = _ticks(largest)
    values = [-t for t in reversed(ticks[1:])] + ticks
    texts = [words.number(abs(v)) for v in values]
    layout = _layout(
        words,
        barmode="relative",
        bargap=0.12,
        xaxis={"tickvals": values, "ticktext": texts, "range": [-largest * 1.1, largest * 1.1],
               "zeroline": True, "zerolinecolor": "#9aa3b2", "gridcolor": "#e6e9ef"},
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": ys,
               "automargin": True},
    )  # fmt: skip
    return {"data": traces + _gaps(gaps, words, horizontal=True), "layout": layout}


#: Distinct colours of a ``tiles`` map's groups (21 HF and more: repeated after the last).
TILE_COLOURS: Final = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
    "#e6550d", "#31a354", "#756bb1", "#636363", "#b5cf6b", "#e7969c",
)  # fmt: skip


def tiles(panel: Panel, answer: Answer, words: Words) -> dict[str, Any] | None:
    """The figure of a ``tiles`` panel: a tile-grid map, one square per row at the grid
    position of the row's ``x`` and ``y`` columns (y downwards), coloured by ``series`` (one
    legend entry per value, named by the row's ``<series>_navn`` when there is one), hover
    naming the tile (``label``) and its first measure. The plot's download button saves SVG.

    >>> from helsestat.statistics.serving import Panel
    >>> p = Panel("t", "Map", "tiles", x="x", series="hf", label="navn", measures=("n",))
    >>> row = {"x": 0, "y": 1, "hf": "A", "navn": "a", "n": 5}
    >>> a = Answer(("x", "y", "hf", "navn"), ("n",), (row,))
    >>> fig = tiles(p, a, Words({}))
    >>> fig["data"][0]["x"], fig["data"][0]["y"], fig["config"]["toImageButtonOptions"]["format"]
    ([0], [-1], 'svg')
    """
    rows = _charted(panel, answer.rows)
    if not rows:
        return None
    measure = _measures(panel, answer)[0]
    hidden = {"visible": False, "showgrid": False, "zeroline": False}
    layout = _layout(words, xaxis=hidden, yaxis={**hidden, "scaleanchor": "x"}, height=720)
    config = {"toImageButtonOptions": {"format": "svg", "filename": panel.table.replace("/", "_")}}
    if not panel.series:
        return {"data": [_heat_tiles(panel, rows, measure, words)], "layout": layout,
                "config": config}  # fmt: skip
    groups = list(dict.fromkeys(str(r.get(panel.series)) for r in rows))
    traces = []
    for i, group in enumerate(groups):
        mine = [r for r in rows if str(r.get(panel.series)) == group]
        name = str(mine[0].get(f"{panel.series}_navn") or group)
        traces.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": name,
                "x": [r.get(panel.x) for r in mine],
                "y": [-int(r.get("y") or 0) for r in mine],
                "text": [str(r.get(panel.label) or "")[:3] for r in mine],
                "textfont": {"size": 9, "color": "#ffffff"},
                "customdata": [
                    [str(r.get(panel.label) or ""), words.number(r.get(measure)), name]
                    for r in mine
                ],
                "marker": {"symbol": "square", "size": 30,
                           "color": TILE_COLOURS[i % len(TILE_COLOURS)]},
                "hovertemplate": "%{customdata[0]} (%{customdata[2]}): %{customdata[1]}"
                "<extra></extra>",
            }
        )  # fmt: skip
    return {"data": traces, "layout": layout, "config": config}


#: The colour scale of values (light to dark), and of a suppressed tile.
HEAT_SCALE: Final = "Blues"
HIDDEN_TILE: Final = "#d9d9d9"


def _heat_tiles(
    panel: Panel, rows: Sequence[Mapping[str, Any]], measure: str, words: Words
) -> dict[str, Any]:
    """One trace of tiles coloured by ``measure`` on :data:`HEAT_SCALE`; a suppressed
    tile is grey and says so on hover."""
    values = [None if _hidden(r, measure) else r.get(measure) for r in rows]
    shown = [v for v in values if isinstance(v, (int, float))]
    colours: list[Any] = [v if v is not None else None for v in values]
    text = [
        words.number(v) if v is not None else words(f"status.{_status(r)}")
        for v, r in zip(values, rows, strict=True)
    ]
    return {
        "type": "scatter",
        "mode": "markers+text",
        "name": words(measure),
        "showlegend": False,  # the colour bar names the measure
        "x": [r.get(panel.x) for r in rows],
        "y": [-int(r.get("y") or 0) for r in rows],
        "text": [str(r.get(panel.label) or "")[:3] for r in rows],
        "textfont": {"size": 9, "color": "#000000"},
        "customdata": [[str(r.get(panel.label) or ""), t] for r, t in zip(rows, text, strict=True)],
        "marker": {
            "symbol": "square",
            "size": 30,
            "color": [c if c is not None else (min(shown) if shown else 0) for c in colours],
            "colorscale": HEAT_SCALE,
            "reversescale": True,  # plotly's Blues runs dark → light: darker is more
            "showscale": True,
            "colorbar": {"title": {"text": words(measure)}},
            "line": {"width": [3 if v is None else 0 for v in values], "color": HIDDEN_TILE},
        },
        "hovertemplate": "%{customdata[0]}: %{customdata[1]}<extra></extra>",
    }


def _matrix_order(
    across: Mapping[str, str], down: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Columns and rows of a matrix: the codes on both axes first, in the same order (by
    name) so that the diagonal is the diagonal, then each axis's own codes by name.

    >>> _matrix_order({"b": "B", "z": "Sunnaas", "a": "A"}, {"a": "A", "p": "P01", "b": "B"})
    (['a', 'b', 'z'], ['a', 'b', 'p'])
    """
    both = sorted(set(across) & set(down), key=lambda c: (across[c], c))

    def own(axis: Mapping[str, str]) -> list[str]:
        return sorted(
            (c for c in axis if c not in down or c not in across), key=lambda c: (axis[c], c)
        )

    return both + own(across), both + own(down)


def heatmap(panel: Panel, answer: Answer, words: Words) -> dict[str, Any] | None:
    """The figure of a ``heatmap`` panel: the first measure as a matrix, ``x`` across and
    ``series`` down, named by ``label`` and ``series_label``, the codes of both axes in the
    same order (:func:`_matrix_order`); a suppressed cell is empty (and named so on hover).

    >>> from helsestat.statistics.serving import Panel
    >>> p = Panel("t", "Flow", "heatmap", x="to", series="fra", measures=("n",))
    >>> rows = [{"fra": "a", "to": "a", "n": 5}, {"fra": "a", "to": "b", "n": None,
    ...          "status": "primary"}]
    >>> heatmap(p, Answer(("fra", "to"), ("n",), rows), Words({}))["data"][0]["z"]
    [[5, None]]
    """
    rows = _charted(panel, answer.rows)
    if not rows or not panel.series:
        return None
    measure = _measures(panel, answer)[0]

    def names(column: str, label: str) -> dict[str, str]:
        return {str(r.get(column)): str(r.get(label or column) or r.get(column)) for r in rows}

    across = names(panel.x, panel.label)
    down = names(panel.series, panel.series_label)
    xs, ys = _matrix_order(across, down)
    z: list[list[Any]] = [[None] * len(xs) for _ in ys]
    tips: list[list[str]] = [[""] * len(xs) for _ in ys]
    percent = measure in panel.percent
    for r in rows:
        i, j = ys.index(str(r.get(panel.series))), xs.index(str(r.get(panel.x)))
        hidden = _hidden(r, measure)
        z[i][j] = None if hidden else r.get(measure)
        tips[i][j] = (
            words(f"status.{_status(r)}") if hidden else words.number(r.get(measure), percent)
        )
    trace = {
        "type": "heatmap",
        "x": [across[x] for x in xs],
        "y": [down[y] for y in ys],
        "z": z,
        "customdata": tips,
        "colorscale": HEAT_SCALE,
        "reversescale": True,  # as the tiles: darker is more
        "hoverongaps": False,
        "hovertemplate": "%{y} → %{x}: %{customdata}<extra></extra>",
    }
    layout = _layout(words, height=max(420, 28 * len(ys) + 200), xaxis={"tickangle": -45},
                     yaxis={"autorange": "reversed"}, margin={"l": 220, "b": 200})  # fmt: skip
    return {"data": [trace], "layout": layout}


def _cells(
    panel: Panel, answer: Answer, words: Words, columns: Sequence[str], row: Mapping[str, Any]
) -> tuple[Cell, ...]:
    cells = []
    for column in columns:
        if column not in answer.measures:
            cells.append(Cell(words.value(column, str(row.get(column) or ""))))
        elif _hidden(row, column):
            tip = _tooltip(row, words)
            cells.append(Cell(SUPPRESSED_MARK, True, _status(row), tip))
        else:
            value = row.get(column)
            share = min(1.0, max(0.0, value)) if isinstance(value, float) else None
            if column in panel.percent:
                cells.append(Cell(words.number(value, percent=True), True, share=share))
            else:
                cells.append(Cell(words.number(value), True))
    return tuple(cells)


def _columns(panel: Panel, answer: Answer) -> tuple[str, ...]:
    if panel.columns:
        return panel.columns
    shown = tuple(d for d in answer.dimensions if d != panel.label)
    return (*shown, *(panel.measures or answer.measures))


def _drill_rows(
    panel: Panel, answer: Answer, words: Words, link: Callable[[Mapping[str, Any]], str]
) -> tuple[tuple[tuple[str, bool], ...], tuple[tuple[Cell, ...], ...], bool]:
    drill = panel.drill
    assert drill is not None
    measures = tuple(c for c in _columns(panel, answer) if c in answer.measures)
    rows = list(answer.rows)
    below = {str(r.get(drill.level)) for r in rows[1:]}
    if len(below) == 1:
        level = next(iter(below))
    else:  # the finest level: the node alone
        level = str(rows[0].get(drill.level) or "") if rows else ""
    header = (words(level) if level else words(drill.level), False)
    cells = []
    for i, row in enumerate(rows):
        at = str(row.get(drill.level) or "")
        name_column = drill.names.get(at, at)
        code = str(row.get(at) or "") if at in drill.levels else ""
        name = str(row.get(name_column) or code) if at in drill.levels else words("total")
        href = link(row) if i else ""
        first = Cell(name, href=href, code=code if code != name else "")
        cells.append((first, *_cells(panel, answer, words, measures, row)))
    columns = (header, *((words(m), True) for m in measures))
    return columns, tuple(cells), bool(rows)


def _crumbs(
    panel: Panel,
    answer: Answer,
    words: Words,
    filters: Mapping[str, str],
    up: Callable[[tuple[str, ...]], str],
) -> tuple[Crumb, ...]:
    """Back up the hierarchy: the whole (``total``), then each level the filters fix; a
    crumb keeps the filters of its level and those above it."""
    drill = panel.drill
    assert drill is not None
    fixed = [level for level in drill.levels if filters.get(level)]
    if not fixed:
        return ()
    node = answer.rows[0] if answer.rows else {}
    crumbs = [Crumb(words("total"), up(()))]
    for depth, level in enumerate(fixed):
        name = str(node.get(drill.names.get(level, level)) or filters[level])
        last = depth == len(fixed) - 1
        crumbs.append(Crumb(name, "" if last else up(tuple(fixed[: depth + 1]))))
    return tuple(crumbs)


def panel_view(
    panel: Panel,
    answer: Answer,
    words: Words,
    *,
    filters: Mapping[str, str] | None = None,
    link: Callable[[Mapping[str, Any]], str] = lambda row: "",
    up: Callable[[tuple[str, ...]], str] = lambda kept: "",
    downloads: Sequence[tuple[str, str, str]] = (),
) -> PanelView:
    """The view of ``panel`` over ``answer``. For a drill-down: ``link(row)`` is the URL of
    a row one level down, ``up(levels)`` the URL keeping only those drill levels of the
    ``filters``."""
    suppressed = tuple(s for s in GAP_COLOURS if any(_status(r) == s for r in answer.rows))
    if panel.kind == "drill" and panel.drill is not None:
        columns, rows, current = _drill_rows(panel, answer, words, link)
        crumbs = _crumbs(panel, answer, words, filters or {}, up)
        return PanelView(panel, None, columns, rows, suppressed, answer.notes, crumbs, current,
                         tuple(downloads))  # fmt: skip
    shown = _columns(panel, answer)
    header = tuple((words(c), c in answer.measures) for c in shown)
    cells = tuple(_cells(panel, answer, words, shown, r) for r in answer.rows)
    figure: dict[str, Any] | None = None
    if panel.kind in ("bar", "hbar", "line"):
        figure = bars_or_lines(panel, answer, words)
    elif panel.kind == "pyramid":
        figure = pyramid(panel, answer, words)
    elif panel.kind == "tiles":
        figure = tiles(panel, answer, words)
    elif panel.kind == "heatmap":
        figure = heatmap(panel, answer, words)
    return PanelView(panel, figure, header, cells, suppressed, answer.notes,
                     downloads=tuple(downloads))  # fmt: skip


__all__ = [
    "ENGLISH",
    "Answer",
    "Cell",
    "Crumb",
    "PanelView",
    "Words",
    "bars_or_lines",
    "heatmap",
    "panel_view",
    "pyramid",
]
