"""The dashboard's pages: ``/`` lists the tables of the current release,
``/dashboard/tables/{name}`` shows one table, its chart and its downloads.

Failures are problem+json like every other route (see :mod:`helsestat.api.problems`).

>>> # open http://localhost:8000/ after 'helsestat demo && helsestat serve'
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from helsestat.api.deps import LakeDep, ReleaseParam
from helsestat.api.links import dashboard_table_url, table_data_url
from helsestat.api.pages.charts import chart_figure
from helsestat.api.pages.render import TemplatesDep, render
from helsestat.api.pages.views import STATUS_TEXT, SUPPRESSED_MARK, table_view
from helsestat.api.queries import find_release, resolve_release, table_summaries, table_summary
from helsestat.api.service import Answer, TableService
from helsestat.publish.formats import FORMATS

router = APIRouter(include_in_schema=False)


@router.get("/", name="dashboard_home", response_class=HTMLResponse)
def home(
    request: Request, lake: LakeDep, templates: TemplatesDep, release: ReleaseParam = None
) -> HTMLResponse:
    """The published tables of the current release (or of ``?release=``)."""
    found = find_release(lake, release)
    tables = table_summaries(found) if found else []
    links = {t.name: dashboard_table_url(request, t.name, release=release) for t in tables}
    return render(
        templates,
        request,
        "home.html",
        release=found,
        tables=tables,
        links=links,
        releases=lake.list_releases(),
        statistics=request.app.state.statistics,
    )


@router.get("/dashboard", name="dashboard_index")
def dashboard_index(request: Request) -> RedirectResponse:
    """``/dashboard`` is the home page."""
    return RedirectResponse(str(request.app.url_path_for("dashboard_home")), status_code=307)


@router.get("/dashboard/tables/{name:path}", name="dashboard_table", response_class=HTMLResponse)
def table_page(
    name: str,
    request: Request,
    lake: LakeDep,
    templates: TemplatesDep,
    release: ReleaseParam = None,
) -> HTMLResponse:
    """One table: chart of the first measure, downloads in every format, the rows. A
    table computed per query shows the API's default query (its statistic's dashboard
    picks any other)."""
    found = resolve_release(lake, release)
    if table_summary(found, name).computed:
        service: TableService = request.app.state.tables
        prepared = service.prepare_table(name, [], "json", found.id, None, None)
        assert not isinstance(prepared, Answer)  # no If-None-Match was given
        table = service.index(prepared).source
    else:
        table = lake.read_table(found, name)
    downloads = [
        (fmt.name, fmt.media_type, table_data_url(request, name, release=found.id, fmt=fmt.name))
        for fmt in sorted(FORMATS.values(), key=lambda f: f.name)
    ]
    return render(
        templates,
        request,
        "table.html",
        release=found,
        table=table,
        view=table_view(table),
        chart=chart_figure(table),
        downloads=downloads,
        status_text=STATUS_TEXT,
        mark=SUPPRESSED_MARK,
    )
