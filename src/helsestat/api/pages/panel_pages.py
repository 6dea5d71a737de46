"""``/dashboard/<statistic>/<page>``: the pages of a statistic whose dashboard declares pages
of panels (:class:`~helsestat.statistics.serving.Page`,
:class:`~helsestat.statistics.serving.Panel`), generated from the declaration alone.

A page is one query — for a statistic computed per month range
(:class:`~helsestat.statistics.serving.Ranged`) its months and its filters, picked in the
page's form, the filters' values offered by the statistic's ``options`` — and its panels,
each a table of that query asked of :class:`~helsestat.api.service.TableService` (the code
behind the API, so a panel shows what its downloads hold) and drawn by
:mod:`helsestat.api.pages.panels`. The first page is also ``/dashboard/<statistic>``; the
tabs to the other pages keep the query. A bad month is explained on the page, in the page's
words where the dashboard gives them (``labels["error.<code>"]``), else the API's.

>>> from helsestat.statistics.sob import SOB
>>> query = PageQuery("2024-01", "2024-12", {"lan": "01"})
>>> query.items(SOB.serving.ranged)
[('fom', '2024-01'), ('tom', '2024-12'), ('lan', '01')]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from helsestat.aggregate.ranges import month_text
from helsestat.api.pages.panels import Answer, PanelView, Words, panel_view
from helsestat.api.pages.render import TemplatesDep, render
from helsestat.api.service import TABLES_PREFIX, TableService
from helsestat.api.service import Answer as HttpAnswer
from helsestat.errors import InputError, NotFoundError
from helsestat.model import ReleaseInfo
from helsestat.publish.formats import FORMATS
from helsestat.publish.views import field_names, row_values
from helsestat.statistics import Statistic
from helsestat.statistics.serving import Choice, Dashboard, Page, Panel, Ranged

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _month(text: str) -> int | None:
    found = _MONTH.fullmatch(text)
    if found is None or not 1 <= int(found.group(2)) <= 12:
        return None
    return int(found.group(1)) * 12 + int(found.group(2)) - 1


@dataclass(frozen=True)
class PageQuery:
    """What a page shows: the months (``YYYY-MM`` as given, else the last 12 months with
    data) and the filters kept (in the statistic's order)."""

    first: str = ""
    last: str = ""
    filters: dict[str, str] = field(default_factory=dict)

    def items(self, ranged: Ranged | None) -> list[tuple[str, str]]:
        """The query of the tables (the API's parameters; of stored tables, the choices)."""
        if ranged is None:
            return list(self.filters.items())
        return [(ranged.first, self.first), (ranged.last, self.last), *self.filters.items()]

    def href(self, path: str, ranged: Ranged | None, filters: Mapping[str, str]) -> str:
        """The page at ``path`` for these months and ``filters``."""
        query = PageQuery(self.first, self.last, dict(filters)).items(ranged)
        return f"{path}?{urlencode(query)}" if query else path


def read_query(ranged: Ranged | None, data: object, params: Mapping[str, str]) -> PageQuery:
    """The page's query from its URL: unknown parameters are ignored, and a filter whose
    value the statistic does not offer within the filters before it (a vårdgivare of
    another län) is dropped."""
    if ranged is None:
        return PageQuery()
    earliest, latest = ranged.months(data)
    earliest = max(earliest, ranged.earliest)
    last = (params.get(ranged.last) or "").strip() or month_text(latest)
    end = _month(last)
    first = (params.get(ranged.first) or "").strip() or month_text(
        max(earliest, (end if end is not None else latest) - 11)
    )
    kept: dict[str, str] = {}
    for name in ranged.filters:
        value = (params.get(name) or "").strip()
        if not value:
            continue
        offered = ranged.options(data, name, kept) if ranged.options else None
        if offered is None or value in {v for v, _ in offered}:
            kept[name] = value
    return PageQuery(first, last, kept)


@dataclass(frozen=True)
class FormField:
    """A field of a page's form: a month or a list of values (``""`` first: every value)."""

    kind: str  # "month", "select" or "text"
    name: str
    label: str
    value: str = ""
    options: tuple[tuple[str, str], ...] = ()
    low: str = ""
    high: str = ""
    hint: str = ""


def form_fields(
    ranged: Ranged | None, data: object, query: PageQuery, words: Words
) -> list[FormField]:
    """The months (bounded by the data) and one list per filter: the values the statistic
    offers within the other filters (the chosen value kept when it is not among them); a
    filter offered nothing yet is shown disabled with the page's hint
    (``labels["<filter>.none"]``)."""
    if ranged is None:
        return []
    earliest, latest = ranged.months(data)
    low, high = month_text(max(earliest, ranged.earliest)), month_text(latest)
    fields = [
        FormField("month", ranged.first, words(ranged.first, "From"), query.first, (), low, high),
        FormField("month", ranged.last, words(ranged.last, "To"), query.last, (), low, high),
    ]
    for name in ranged.filters:
        value = query.filters.get(name, "")
        if ranged.options is None:
            fields.append(FormField("text", name, words(name), value))
            continue
        others = {k: v for k, v in query.filters.items() if k != name}
        offered = ranged.options(data, name, others)
        if offered is None:
            hint = words(f"{name}.none", "")
            fields.append(FormField("select", name, words(name), value, (), hint=hint))
            continue
        options = tuple(offered)
        if value and value not in {v for v, _ in options}:
            options = ((value, value), *options)
        fields.append(FormField("select", name, words(name), value, options))
    return fields


def _uses(panel: Panel, name: str) -> bool:
    return panel.filters is None or name in panel.filters


def _offered(service: TableService, dashboard: Dashboard, choice: Choice) -> list[tuple[str, str]]:
    """The values a choice of a dashboard of stored tables offers: its options, else the
    values of its column in the first panel that uses it, the last first."""
    if choice.options:
        return list(choice.options.items())
    panel = next(
        (p for page in dashboard.pages for p in page.panels if _uses(p, choice.name)), None
    )
    if panel is None:
        return []
    rows = ask(service, panel.table, []).rows
    values = {str(r[choice.name]) for r in rows if r.get(choice.name) is not None}
    return [(v, v) for v in sorted(values, reverse=True)]


def read_choices(
    service: TableService, dashboard: Dashboard, params: Mapping[str, str], words: Words
) -> tuple[PageQuery, list[FormField]]:
    """The query and the form of a dashboard of stored tables: one value per choice, the
    one asked for when offered, else the choice's default or the first offered."""
    kept: dict[str, str] = {}
    fields: list[FormField] = []
    for choice in dashboard.choices:
        offered = _offered(service, dashboard, choice)
        values = {v for v, _ in offered}
        value = (params.get(choice.name) or "").strip()
        if value not in values:
            value = choice.default if choice.default in values else next(iter(offered), ("",))[0]
        if value:
            kept[choice.name] = value
        label = words(choice.name, choice.label)
        fields.append(FormField("select", choice.name, label, value, tuple(offered)))
    return PageQuery(filters=kept), fields


def ask(service: TableService, table: str, items: list[tuple[str, str]]) -> Answer:
    """The rows of ``table`` for the query, as the API answers them in JSON."""
    prepared = service.prepare_table(table, items, "json", None, None, None)
    assert not isinstance(prepared, HttpAnswer)  # no If-None-Match was given
    selection = service.select(prepared, service.index(prepared))
    names = field_names(selection, prepared.view)
    rows = [dict(zip(names, row, strict=True)) for row in row_values(selection, prepared.view)]
    source = selection.index.source
    return Answer(source.dimensions, selection.index.measures, rows, source.notes)


def downloads(root: str, table: str, items: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(format, media type, URL) of a table's query in every format: the API's own URLs.

    >>> downloads("", "sob/lan", [("fom", "2024-01")])[0]
    ('csv', 'text/csv; charset=utf-8', '/api/v1/tables/sob/lan?fom=2024-01&format=csv')
    """
    query = urlencode(items)
    out = []
    for name in sorted(FORMATS):
        extra = "" if name == "json" else ("&" if query else "") + f"format={name}"
        href = f"{root}{TABLES_PREFIX}{table}" + (f"?{query}{extra}" if query or extra else "")
        out.append((name, FORMATS[name].media_type, href))
    return out


def _view(
    request: Request,
    service: TableService,
    ranged: Ranged | None,
    path: str,
    panel: Panel,
    query: PageQuery,
    words: Words,
) -> PanelView:
    items = query.items(ranged)
    if ranged is None:  # stored tables: the choices the panel is asked with
        items = [(k, v) for k, v in items if _uses(panel, k)]
    answer = ask(service, panel.table, items)
    names = ranged.filters if ranged is not None else ()
    drill = panel.drill

    def link(row: Mapping[str, Any]) -> str:
        added = {n: str(row[n]) for n in names if row.get(n)}
        return query.href(path, ranged, {**query.filters, **added})

    def up(kept: tuple[str, ...]) -> str:
        levels = drill.levels if drill is not None else ()
        left = {k: v for k, v in query.filters.items() if k not in levels or k in kept}
        return query.href(path, ranged, left)

    root = str(request.scope.get("root_path", ""))
    return panel_view(
        panel,
        answer,
        words,
        filters=query.filters,
        link=link,
        up=up,
        downloads=downloads(root, panel.table, items),
    )


def _path(statistic: Statistic, page: Page, first: bool) -> str:
    return f"/dashboard/{statistic.name}" + ("" if first else f"/{page.name}")


def _page(statistic: Statistic, dashboard: Dashboard, page: Page) -> Any:
    ranged = statistic.serving.ranged
    words = Words(dashboard.labels, dashboard.lang)

    def show(request: Request, templates: TemplatesDep) -> HTMLResponse:
        """A page of the statistic's dashboard for the query of its URL."""
        service: TableService = request.app.state.tables
        path = request.url.path
        release: ReleaseInfo | None = None
        query = PageQuery()
        fields: list[FormField] = []
        views: list[PanelView] = []
        note = error = ""
        try:
            release = service.current_release()
            data = service.computed_data(release, statistic) if ranged else None
            if ranged is None and dashboard.choices:
                query, fields = read_choices(service, dashboard, request.query_params, words)
            else:
                query = read_query(ranged, data, request.query_params)
                fields = form_fields(ranged, data, query, words)
            if ranged is not None:
                low, high = ranged.months(data)
                note = words("period").format(
                    first=month_text(max(low, ranged.earliest)), last=month_text(high)
                )
            views = [_view(request, service, ranged, path, p, query, words) for p in page.panels]
        except (InputError, NotFoundError) as exc:  # shown on the page
            error = words(f"error.{exc.code}", str(exc))
            views = []
        tabs = [
            (p.title, query.href(_path(statistic, p, i == 0), ranged, query.filters), p is page)
            for i, p in enumerate(dashboard.pages)
        ]
        return render(
            templates,
            request,
            "panels.html",
            statistic=statistic,
            dashboard=dashboard,
            page=page,
            lang=dashboard.lang,
            words=words,
            release=release,
            action=path,
            fields=fields,
            note=note,
            tabs=tabs,
            panels=views,
            error=error,
        )

    return show


def add_panel_pages(router: APIRouter, statistic: Statistic, dashboard: Dashboard) -> None:
    """The routes of a dashboard's pages: the first at ``/dashboard/<statistic>`` and at
    its own name, every other at ``/dashboard/<statistic>/<page>``."""
    for i, page in enumerate(dashboard.pages):
        show = _page(statistic, dashboard, page)
        paths = [_path(statistic, page, False)]
        if i == 0:
            paths.insert(0, _path(statistic, page, True))
        for n, path in enumerate(paths):
            name = f"dashboard_{statistic.name}" + ("" if n == 0 and i == 0 else f"_{page.name}")
            router.add_api_route(
                path, show, methods=["GET"], name=name, response_class=HTMLResponse
            )


__all__ = [
    "FormField",
    "PageQuery",
    "add_panel_pages",
    "ask",
    "downloads",
    "form_fields",
    "read_choices",
    "read_query",
]
