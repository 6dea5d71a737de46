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

from helsestat.api.pages.render import TemplatesDep, render
from helsestat.api.pages.views import format_number
from helsestat.api.service import Answer, TableService
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


def _parts(statistic: Statistic) -> tuple[Dashboard, dict[str, Route]]:
    dashboard = statistic.serving.dashboard
    api = statistic.serving.compatible
    if dashboard is None or api is None:
        raise NotFoundError(
            "page.not_found",
            f"statistic {statistic.name!r} declares no dashboard page",
            hint="GET / lists the published tables and their pages",
        )
    return dashboard, {r.name: r for r in api.routes}


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
        dashboard, _ = _parts(statistic)
        choices = {}
        for choice in dashboard.choices:
            value = params.get(choice.name) or choice.default
            choices[choice.name] = value if value in choice.options else choice.default
        first, last = dashboard.periods(choices)
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

    def route(self, statistic: Statistic) -> Route:
        """The API route of the chosen options."""
        dashboard, routes = _parts(statistic)
        return routes[dashboard.route(self.choices)]

    def api_items(self, route: Route) -> list[tuple[str, str]]:
        """The route's query for these choices (lists comma-separated)."""
        items = [(name, value) for name, value in self.singles.items() if value]
        if route.period:
            items += [(route.period.first, self.first), (route.period.last, self.last)]
        for parameter in route.parameters:
            values = self.lists.get(parameter.name, ())
            if parameter.name not in self.singles and values:
                items.append((parameter.name, ",".join(values)))
        return items


def list_parameters(statistic: Statistic) -> list[str]:
    """The code parameters the page offers as lists, in the order of the page's labels."""
    dashboard, routes = _parts(statistic)
    names = dict.fromkeys(
        p.name for r in routes.values() for p in r.parameters if p.name not in dashboard.single
    )
    order = list(dashboard.labels)
    return sorted(names, key=lambda n: order.index(n) if n in order else len(order))


def downloads(
    request: Request, statistic: Statistic, form: Form, route: Route
) -> list[tuple[str, str, str]]:
    """(format, media type, URL) of the query in every format, at the API's own URLs: a
    route that always answers the format where there is one, else ``?format=``."""
    _, routes = _parts(statistic)
    root = str(request.scope.get("root_path", ""))
    query = urlencode(form.api_items(route), safe=",")
    out = []
    for name in sorted(FORMATS):
        fixed = next(
            (r for r in routes.values() if r.table == route.table and r.fixed_format == name),
            None,
        )
        if fixed is not None:
            href = f"{root}{fixed.path}?{query}"
        else:
            extra = "" if name == "json" else f"&format={name}"
            href = f"{root}{route.path}?{query}{extra}"
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
    """Dimension → code → name, from the code lists of the API's parameters."""
    _, routes = _parts(statistic)
    return {
        p.dimension: codes.get(p.codes, {})
        for r in routes.values()
        for p in r.parameters
        if p.codes is not None
    }


def _result(service: TableService, statistic: Statistic, form: Form) -> Result:
    dashboard, _ = _parts(statistic)
    route = form.route(statistic)
    prepared = service.prepare_route(route.path, form.api_items(route), "application/json", None)
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
    chart = chart_figure(selection, dashboard.chart, _names(statistic, codes), total)
    return Result(columns, numeric, shown, len(selection), selection.suppressed, chart)


@dataclass(frozen=True)
class Field:
    """A field of the form as the template lays it out."""

    kind: str  # "select", "multiple" or "input"
    name: str
    label: str
    options: tuple[tuple[str, str, bool], ...] = ()  # value, text, selected
    value: str = ""


def form_fields(statistic: Statistic, form: Form, codes: CodeLists) -> list[Field]:
    """The form's fields in page order: the single-valued parameters, the choices, the
    period, the lists."""
    dashboard, routes = _parts(statistic)
    parameters = {p.name: p for r in routes.values() for p in r.parameters}

    def options(name: str, chosen: Iterable[str]) -> tuple[tuple[str, str, bool], ...]:
        parameter = parameters[name]
        entries = codes.get(parameter.codes or "", {})
        shape = dashboard.option_label.get(parameter.codes or "", "{code} {label}")
        wanted = set(chosen)
        return tuple(
            (code, shape.format(code=code, label=label), code in wanted)
            for code, label in entries.items()
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
    fields += [
        Field("input", "fra", labels.get("fra", "From"), value=form.first),
        Field("input", "til", labels.get("til", "To"), value=form.last),
    ]
    fields += [
        Field("multiple", name, labels.get(name, name), options(name, form.lists[name]))
        for name in list_parameters(statistic)
    ]
    return fields


def _page(statistic: Statistic) -> Any:
    def page(request: Request, templates: TemplatesDep) -> HTMLResponse:
        """The form, and once sent: the rows, the chart and the downloads."""
        dashboard, _ = _parts(statistic)
        service: TableService = request.app.state.tables
        codes = service.code_lists(statistic)
        form = Form.read(statistic, request.query_params)
        release: ReleaseInfo | None = None
        result: Result | None = None
        error = ""
        try:
            release = service.current_release()
            if form.submitted:
                result = _result(service, statistic, form)
        except (InputError, NotFoundError) as exc:  # shown on the page, in the API's words
            error = str(exc)
        route = form.route(statistic)
        return render(
            templates,
            request,
            "statistic.html",
            statistic=statistic,
            dashboard=dashboard,
            release=release,
            fields=form_fields(statistic, form, codes),
            result=result,
            error=error,
            downloads=downloads(request, statistic, form, route) if result is not None else [],
        )

    return page


def install_statistic_pages(app: FastAPI, statistics: Iterable[Statistic]) -> None:
    """One page per statistic that declares a dashboard: ``/dashboard/<name>``."""
    router = APIRouter(include_in_schema=False)
    for statistic in statistics:
        if statistic.serving.dashboard is None or statistic.serving.compatible is None:
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
