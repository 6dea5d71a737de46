"""``/dashboard/<statistic>``: a statistic's page, generated from its declared
:class:`~helsestat.statistics.serving.Dashboard` — a form whose choices pick a route of the
API the statistic stays compatible with, its code parameters as lists (labelled from the
statistic's code lists), the period; once sent, the rows of the answer, a chart and download
links in every format, which point at the API's own URLs for the same query.

The page asks :class:`~helsestat.api.service.TableService` — the same code as the API — so
what it shows is what the downloads hold. A bad choice (a reversed period, a malformed month)
is shown on the page with the API's message.

>>> from helsestat.statistics.takstbruk import TAKSTBRUK
>>> form = Form.read(TAKSTBRUK, {"niva": "fylke", "fylker": "03,15"})
>>> form.lists["fylker"], form.choices["periode"]
(('03', '15'), 'ar')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from helsestat.api.pages.panel_pages import add_panel_pages
from helsestat.api.pages.render import TemplatesDep, render
from helsestat.api.pages.views import format_number
from helsestat.api.service import TABLES_PREFIX, Answer, TableService
from helsestat.errors import InputError, NotFoundError
from helsestat.model import ReleaseInfo
from helsestat.publish.formats import FORMATS
from helsestat.publish.index import Selection
from helsestat.publish.views import field_names, row_values
from helsestat.statistics import Statistic
from helsestat.statistics.serving import Chart, CodeLists, Dashboard, Route

#: Rows shown on the page; the downloads carry them all.
MAX_ROWS: Final = 500


def _many(params: Any, key: str) -> tuple[str, ...]:
    raw: Iterable[str] = (
        params.getlist(key) if hasattr(params, "getlist") else [params.get(key) or ""]
    )
    values = (v.strip() for item in raw for v in item.split(","))
    return tuple(dict.fromkeys(v for v in values if v))


@dataclass(frozen=True)
class Target:
    """What the form's choices picked: a route of the compatible API, or a table."""

    table: str
    route: Route | None
    dimensions: tuple[str, ...]


def _dashboard(statistic: Statistic) -> Dashboard:
    dashboard = statistic.serving.dashboard
    if dashboard is None:
        raise NotFoundError(
            "page.not_found",
            f"statistic {statistic.name!r} declares no dashboard page",
            hint="GET / lists the published tables and their pages",
        )
    return dashboard


def _routes(statistic: Statistic) -> dict[str, Route]:
    api = statistic.serving.compatible
    return {r.name: r for r in api.routes} if api is not None else {}


def target(statistic: Statistic, choices: Mapping[str, str]) -> Target:
    """The route or table the choices pick."""
    dashboard = _dashboard(statistic)
    if dashboard.route is not None:
        route = _routes(statistic)[dashboard.route(choices)]
        return Target(route.table, route, tuple(p.dimension for p in route.parameters))
    name = dashboard.table(choices) if dashboard.table else statistic.tables[0].name
    table = next(t for t in statistic.tables if t.name == name)
    return Target(name, None, statistic.dimensions(table))


def list_parameters(statistic: Statistic) -> list[str]:
    """The code parameters (or dimensions) the page offers as lists, in the order of the
    page's labels."""
    dashboard = _dashboard(statistic)
    routes = _routes(statistic)
    if routes:
        found = [p.name for r in routes.values() for p in r.parameters]
    else:
        found = [d for t in statistic.tables for d in statistic.dimensions(t)]
    names = dict.fromkeys(n for n in found if n not in dashboard.single)
    order = list(dashboard.labels)
    return sorted(names, key=lambda n: order.index(n) if n in order else len(order))


def _code_list(statistic: Statistic, name: str) -> str | None:
    """The code list a list parameter (or dimension) is labelled from."""
    for route in _routes(statistic).values():
        for parameter in route.parameters:
            if parameter.name == name:
                return parameter.codes
    return statistic.serving.dimension_codes.get(name)


def _dimension_of(statistic: Statistic, name: str) -> str:
    for route in _routes(statistic).values():
        for parameter in route.parameters:
            if parameter.name == name:
                return parameter.dimension
    return name


@dataclass(frozen=True)
class Form:
    """The page's choices; ``submitted`` once the form was sent."""

    choices: dict[str, str]
    singles: dict[str, str]
    lists: dict[str, tuple[str, ...]]
    first: str
    last: str
    submitted: bool

    @classmethod
    def read(cls, statistic: Statistic, params: Mapping[str, str]) -> Form:
        """The form as sent (an unknown choice falls back to its default)."""
        dashboard = _dashboard(statistic)
        choices = {}
        for choice in dashboard.choices:
            value = params.get(choice.name) or choice.default
            choices[choice.name] = value if value in choice.options else choice.default
        first, last = dashboard.periods(choices) if dashboard.periods else ("", "")
        names = list_parameters(statistic)
        singles = {
            name: (params.get(name) or dashboard.defaults.get(name, "")).strip()
            for name in dashboard.single
        }
        fields = {*dashboard.single, *names, *(c.name for c in dashboard.choices), "fra", "til"}
        return cls(
            choices=choices,
            singles=singles,
            lists={name: _many(params, name) for name in names},
            first=(params.get("fra") or first).strip(),
            last=(params.get("til") or last).strip(),
            submitted=any(name in params for name in fields),
        )

    def items(self, statistic: Statistic, chosen: Target) -> list[tuple[str, str]]:
        """The query of these choices for the picked route or table (lists
        comma-separated)."""
        items = [(name, value) for name, value in self.singles.items() if value]
        route = chosen.route
        if route is not None and route.period:
            items += [(route.period.first, self.first), (route.period.last, self.last)]
        names = [p.name for p in route.parameters] if route else list(chosen.dimensions)
        for name in names:
            values = self.lists.get(name, ())
            if name not in self.singles and values:
                items.append((name, ",".join(values)))
        return items


def downloads(
    request: Request, statistic: Statistic, form: Form, chosen: Target
) -> list[tuple[str, str, str]]:
    """(format, media type, URL) of the query in every format, at the API's own URLs: a
    route that always answers the format where there is one, else ``?format=``."""
    root = str(request.scope.get("root_path", ""))
    query = urlencode(form.items(statistic, chosen), safe=",")
    path = chosen.route.path if chosen.route else TABLES_PREFIX + chosen.table
    out = []
    for name in sorted(FORMATS):
        fixed = next(
            (
                r
                for r in _routes(statistic).values()
                if r.table == chosen.table and r.fixed_format == name
            ),
            None,
        )
        if fixed is not None:
            href = f"{root}{fixed.path}?{query}"
        else:
            extra = "" if name == "json" else ("&" if query else "") + f"format={name}"
            href = f"{root}{path}?{query}{extra}"
        out.append((name, FORMATS[name].media_type, href))
    return out


def _x_label(value: object) -> str:
    text = str(value)
    return f"{text[:4]}-{text[4:6]}" if len(text) == 6 and text.isdigit() else text


def chart_figure(
    selection: Selection, chart: Chart, names: Mapping[str, Mapping[str, str]], total: str
) -> dict[str, Any] | None:
    """``chart.measure`` summed over everything but ``chart.x`` and the series, one trace per
    series (the first ``chart.max_series``); suppressed cells are gaps, never zeros.
    ``names``: dimension → code → name, for the series shown with names."""
    index = selection.index
    rows = selection.rows
    if not len(rows) or chart.measure not in index.values:
        return None
    xs = index.column(chart.x, rows)
    measure = index.column(chart.measure, rows)
    parts: list[list[str]] = []
    for entry in chart.series:
        options = (entry,) if isinstance(entry, str) else entry
        present = next((o for o in options if o in index.texts), None)
        if present is None:
            parts.append([total] * len(rows))
            continue
        values = [str(v) for v in index.column(present, rows)]
        if present in chart.named:
            lookup = names.get(present, {})
            values = [f"{v} {lookup.get(v, '')}".strip() for v in values]
        parts.append(values)
    series: dict[str, dict[str, float]] = {}
    for i, (x, value) in enumerate(zip(xs, measure, strict=True)):
        if value is None:
            continue
        label = " · ".join(p[i] for p in parts) or chart.measure
        if label not in series and len(series) == chart.max_series:
            continue
        points = series.setdefault(label, {})
        key = _x_label(x)
        points[key] = points.get(key, 0) + value  # type: ignore[operator]
    if not series:
        return None
    kind = {"line": {"type": "scatter", "mode": "lines+markers"}, "bar": {"type": "bar"}}
    traces = [
        {
            **kind[chart.kind],
            "x": sorted(points),
            "y": [points[x] for x in sorted(points)],
            "name": label,
        }
        for label, points in series.items()
    ]
    return {
        "data": traces,
        "layout": {
            "title": {"text": f"{chart.measure} by {chart.x}"},
            "xaxis": {"type": "category", "automargin": True},
            "yaxis": {"rangemode": "tozero", "tickformat": ",", "automargin": True},
            "separators": ".\u202f",
            "barmode": "group",
            "showlegend": True,
            "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


@dataclass(frozen=True)
class Result:
    """What the query returned, ready for the template."""

    columns: tuple[str, ...]
    numeric: tuple[bool, ...]
    rows: list[list[str]]
    total: int
    suppressed: int
    chart: dict[str, Any] | None


def _names(statistic: Statistic, codes: CodeLists) -> dict[str, Mapping[str, str]]:
    """Dimension → code → name, from the code lists of the page's lists."""
    out: dict[str, Mapping[str, str]] = {}
    for name in list_parameters(statistic):
        code_list = _code_list(statistic, name)
        if code_list is not None:
            out[_dimension_of(statistic, name)] = codes.get(code_list, {})
    return out


def _result(service: TableService, statistic: Statistic, form: Form) -> Result:
    dashboard = _dashboard(statistic)
    chosen = target(statistic, form.choices)
    items = form.items(statistic, chosen)
    if chosen.route is not None:
        prepared = service.prepare_route(chosen.route.path, items, "application/json", None)
    else:
        prepared = service.prepare_table(chosen.table, items, "json", None, None, None)
    assert not isinstance(prepared, Answer)  # no If-None-Match was given
    selection = service.select(prepared, service.index(prepared))
    view = prepared.view
    columns = field_names(selection, view)
    measures = set(selection.index.measures)
    sources = [f.source for f in view.fields] if view.fields is not None else list(columns)
    numeric = tuple(s in measures for s in sources) + (False,) * (len(columns) - len(sources))
    shown = [
        [
            format_number(v) if is_number else ("" if v is None else str(v))
            for v, is_number in zip(row, numeric, strict=True)
        ]
        for row in row_values(selection, view, MAX_ROWS)
    ]
    codes = service.code_lists(statistic)
    total = dashboard.labels.get("total", "Total")
    chart = (
        chart_figure(selection, dashboard.chart, _names(statistic, codes), total)
        if dashboard.chart is not None
        else None
    )
    return Result(columns, numeric, shown, len(selection), selection.suppressed, chart)


@dataclass(frozen=True)
class Field:
    """A field of the form as the template lays it out."""

    kind: str  # "select", "multiple" or "input"
    name: str
    label: str
    options: tuple[tuple[str, str, bool], ...] = ()  # value, text, selected
    value: str = ""


def form_fields(
    statistic: Statistic, form: Form, codes: CodeLists, seen: Mapping[str, list[str]]
) -> list[Field]:
    """The form's fields in page order: the single-valued parameters, the choices, the
    period, the lists (labelled from their code lists, else the values ``seen`` in the
    table)."""
    dashboard = _dashboard(statistic)

    def options(name: str, chosen: Iterable[str]) -> tuple[tuple[str, str, bool], ...]:
        code_list = _code_list(statistic, name)
        wanted = set(chosen)
        if code_list is None:
            return tuple((v, v, v in wanted) for v in seen.get(name, ()))
        shape = dashboard.option_label.get(code_list, "{code} {label}")
        return tuple(
            (code, shape.format(code=code, label=label), code in wanted)
            for code, label in codes.get(code_list, {}).items()
        )

    labels = dashboard.labels
    fields = [
        Field("select", name, labels.get(name, name), options(name, [form.singles[name]]))
        for name in dashboard.single
    ]
    fields += [
        Field(
            "select",
            c.name,
            c.label,
            tuple((v, text, v == form.choices[c.name]) for v, text in c.options.items()),
        )
        for c in dashboard.choices
    ]
    if dashboard.periods is not None:
        fields += [
            Field("input", "fra", labels.get("fra", "From"), value=form.first),
            Field("input", "til", labels.get("til", "To"), value=form.last),
        ]
    fields += [
        Field("multiple", name, labels.get(name, name), options(name, form.lists[name]))
        for name in list_parameters(statistic)
    ]
    return fields


def _seen(
    service: TableService, release: ReleaseInfo, statistic: Statistic
) -> dict[str, list[str]]:
    """The values of the lists without a code list, from the tables of the release."""
    out: dict[str, list[str]] = {}
    for name in list_parameters(statistic):
        if _code_list(statistic, name) is not None:
            continue
        values: set[str] = set()
        for table in statistic.tables:
            if name in statistic.dimensions(table) and table.name in release.tables:
                values.update(service.indexes.get(release.id, table.name).distinct(name))
        out[name] = sorted(values)
    return out


def _page(statistic: Statistic) -> Any:
    def page(request: Request, templates: TemplatesDep) -> HTMLResponse:
        """The form, and once sent: the rows, the chart and the downloads."""
        dashboard = _dashboard(statistic)
        service: TableService = request.app.state.tables
        codes = service.code_lists(statistic)
        form = Form.read(statistic, request.query_params)
        release: ReleaseInfo | None = None
        result: Result | None = None
        seen: dict[str, list[str]] = {}
        error = ""
        try:
            release = service.current_release()
            seen = _seen(service, release, statistic)
            if form.submitted:
                result = _result(service, statistic, form)
        except (InputError, NotFoundError) as exc:  # shown on the page, in the API's words
            error = str(exc)
        chosen = target(statistic, form.choices)
        return render(
            templates,
            request,
            "statistic.html",
            statistic=statistic,
            dashboard=dashboard,
            lang=dashboard.lang,
            release=release,
            fields=form_fields(statistic, form, codes, seen),
            result=result,
            error=error,
            downloads=downloads(request, statistic, form, chosen) if result is not None else [],
        )

    return page


def install_statistic_pages(app: FastAPI, statistics: Iterable[Statistic]) -> None:
    """One page per statistic that declares a dashboard: ``/dashboard/<name>``; a dashboard
    of pages of panels gets one route per page (:mod:`.panel_pages`)."""
    router = APIRouter(include_in_schema=False)
    for statistic in statistics:
        dashboard = statistic.serving.dashboard
        if dashboard is None:
            continue
        if dashboard.pages:
            add_panel_pages(router, statistic, dashboard)
            continue
        router.add_api_route(
            f"/dashboard/{statistic.name}",
            _page(statistic),
            methods=["GET"],
            name=f"dashboard_{statistic.name}",
            response_class=HTMLResponse,
        )
    app.include_router(router)


__all__ = [
    "MAX_ROWS",
    "Form",
    "chart_figure",
    "downloads",
    "form_fields",
    "install_statistic_pages",
    "list_parameters",
]
