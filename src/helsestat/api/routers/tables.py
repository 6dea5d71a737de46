"""``/api/v1``: the releases, the tables of a release, and a table's data in any format.

Data responses are cacheable (see :mod:`helsestat.api.caching`): they carry a strong
``ETag``, ``Cache-Control: public, max-age=300`` and ``X-Helsestat-Release``, and a request
whose ``If-None-Match`` matches is answered 304 before the table is read.

>>> # curl -s 'localhost:8000/api/v1/tables/takstbruk/kommune/ar?format=csv&kommune=0301'
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response

from helsestat.api.caching import cache_headers, etag_for, if_none_match_matches
from helsestat.api.deps import LakeDep, ReleaseParam, VersionDep
from helsestat.api.links import dashboard_table_url, table_data_url
from helsestat.api.problems import PROBLEM_RESPONSES
from helsestat.api.queries import (
    TableSummary,
    current_release_id,
    find_release,
    table_summaries,
)
from helsestat.api.routers.statistics import NOT_MODIFIED, data_responses
from helsestat.api.schemas import ReleaseList, ReleaseOut, TableList, TableOut
from helsestat.api.service import TableService
from helsestat.publish.formats import FORMATS

router = APIRouter(prefix="/api/v1", tags=["tables"])


def _not_modified(request: Request, headers: dict[str, str]) -> Response | None:
    if if_none_match_matches(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return None


@router.get(
    "/releases", response_model=ReleaseList, responses={**NOT_MODIFIED, **PROBLEM_RESPONSES}
)
def list_releases(
    request: Request, response: Response, lake: LakeDep, version: VersionDep
) -> ReleaseList | Response:
    """Every release kept on disk, oldest first, marking the current one."""
    releases = lake.list_releases()
    tables_path = str(request.app.url_path_for("list_tables"))
    current = current_release_id(lake)
    state = ",".join(r.id for r in releases) + f"|{current}"
    headers = cache_headers(
        etag_for(state, request.url.path, {}, "json", version=version), current or ""
    )
    if (early := _not_modified(request, headers)) is not None:
        return early
    response.headers.update(headers)
    return ReleaseList(
        current=current,
        releases=[
            ReleaseOut(
                id=r.id,
                created=r.created,
                tables=len(r.tables),
                current=r.id == current,
                links={"tables": tables_path + "?" + urlencode({"release": r.id})},
            )
            for r in releases
        ],
    )


def _table_out(request: Request, summary: TableSummary, release: str | None) -> TableOut:
    links = {
        "data": table_data_url(request, summary.name, release=release),
        "dashboard": dashboard_table_url(request, summary.name, release=release),
    }
    for fmt in sorted(FORMATS):
        links[fmt] = table_data_url(request, summary.name, release=release, fmt=fmt)
    return TableOut(
        name=summary.name,
        title=summary.title,
        dimensions=list(summary.dimensions),
        measures=list(summary.measures),
        rows=summary.rows,
        notes=list(summary.notes),
        links=links,
    )


@router.get("/tables", response_model=TableList, responses={**NOT_MODIFIED, **PROBLEM_RESPONSES})
def list_tables(
    request: Request,
    response: Response,
    lake: LakeDep,
    version: VersionDep,
    release: ReleaseParam = None,
) -> TableList | Response:
    """The tables of the current release (or of `?release=`), with their dimensions,
    measures, row counts and links to every format. Empty before the first build."""
    found = find_release(lake, release)
    if found is None:
        return TableList(release=None, tables=[])
    headers = cache_headers(
        etag_for(found.id, request.url.path, {}, "json", version=version), found.id
    )
    if (early := _not_modified(request, headers)) is not None:
        return early
    response.headers.update(headers)
    return TableList(
        release=found.id,
        tables=[_table_out(request, s, release) for s in table_summaries(found)],
    )


@router.get(
    "/tables/{name:path}",
    name="table_data",
    response_class=Response,
    responses=data_responses(),
)
def table_data(
    name: str,
    request: Request,
    fmt: Annotated[
        str | None,
        Query(
            alias="format",
            description="json, xml, csv, xlsx, jsonstat or parquet; default: by the Accept "
            "header, else json",
        ),
    ] = None,
    release: ReleaseParam = None,
) -> Response:
    """A published table. Filter rows with `?<dimension>=v1,v2` on any dimension of the
    table (an unknown parameter is a 400 problem). Suppressed cells carry their status and
    rule in every format. Each statistic's tables are also documented one by one."""
    service: TableService = request.app.state.tables
    prepared = service.prepare_table(
        name,
        request.query_params.multi_items(),
        fmt,
        release,
        request.headers.get("accept"),
        request.headers.get("if-none-match"),
    )
    answer = service.answer(prepared)
    return Response(answer.body, status_code=answer.status, headers=answer.headers)
