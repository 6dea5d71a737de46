"""The documented data operations of every statistic, generated from its declaration:

- one operation per published table, ``GET /api/v1/tables/<table>``, with the table's
  dimensions as filter parameters (``?<dimension>=v1,v2``), ``format`` and ``release``;
- one operation per route of the API the statistic stays compatible with (e.g. Helfo's
  ``/v1/takstbruk/…``), under each of its paths, with the route's parameters.

The checking and the answer are :class:`~helsestat.api.service.TableService`'s, which the
ASGI fast path (:mod:`helsestat.api.fastpath`) also calls for GET; these routes are what
OpenAPI and ``/docs`` describe, and they answer whatever the fast path lets through.

>>> from helsestat.statistics import STATISTICS
>>> router = make_router(STATISTICS)
>>> sorted(r.path for r in router.routes)[0]
'/api/opne-data/v1/takstbruk/agtakst/fylke/ar'
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from helsestat.api.deps import ReleaseParam
from helsestat.api.parameters import accepted
from helsestat.api.problems import PROBLEM_RESPONSES
from helsestat.api.service import SUPPRESSED_HEADER, TABLES_PREFIX, TableService
from helsestat.publish.formats import FORMATS
from helsestat.statistics import Statistic, TableDef
from helsestat.statistics.serving import CompatibleApi, Route

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: If-None-Match matched the ETag"}
}
_FORMAT_TEXT = "json, xml, csv, xlsx, jsonstat or parquet; default: by the Accept header, else json"
_RELEASE_TEXT = "Serve this earlier release as published; default: the current one"


def _signature(names: Sequence[str], descriptions: dict[str, str]) -> inspect.Signature:
    parameters = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)
    ]
    for name in names:
        annotation: Any = Annotated[
            str | None, Query(alias=name, description=descriptions.get(name, ""))
        ]
        if name == "release":  # checked as every release parameter is
            annotation = ReleaseParam
        parameters.append(
            inspect.Parameter(
                name.replace("-", "_"),
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=annotation,
            )
        )
    return inspect.Signature(parameters, return_annotation=Response)


def _route_operation(path: str) -> Callable[..., Response]:
    def operation(request: Request, **_: Any) -> Response:
        service: TableService = request.app.state.tables
        answer = service.answer(
            service.prepare_route(
                path,
                request.query_params.multi_items(),
                request.headers.get("accept"),
                request.headers.get("if-none-match"),
            )
        )
        return Response(answer.body, status_code=answer.status, headers=answer.headers)

    return operation


def _route_responses(route: Route) -> dict[int | str, dict[str, Any]]:
    names = [route.fixed_format] if route.fixed_format else list(FORMATS)
    content: dict[str, dict[str, Any]] = {FORMATS[n].media_type: {} for n in names}
    return {
        200: {
            "description": f"The rows; `{SUPPRESSED_HEADER}` counts the suppressed cells left out",
            "content": content,
        },
        **NOT_MODIFIED,
        **PROBLEM_RESPONSES,
    }


def _add_compatible(router: APIRouter, api: CompatibleApi) -> None:
    for route in api.routes:
        descriptions = {p.name: p.description for p in route.parameters}
        if route.period:
            descriptions[route.period.first] = route.period.description[0]
            descriptions[route.period.last] = route.period.description[1]
        descriptions.update(api.parameter_descriptions)
        names = accepted(route, api)
        for path in (route.path, *route.aliases):
            old = path != route.path
            operation = _route_operation(path)
            operation.__signature__ = _signature(names, descriptions)  # type: ignore[attr-defined]
            operation.__doc__ = route.description
            router.add_api_route(
                path,
                operation,
                methods=["GET"],
                name=route.name + ("_old" if old else ""),
                response_class=Response,
                responses=_route_responses(route),
                include_in_schema=not old,
                summary=route.summary,
                tags=[api.tag],
            )


def _table_operation(name: str) -> Callable[..., Response]:
    def operation(request: Request, **_: Any) -> Response:
        service: TableService = request.app.state.tables
        params = request.query_params
        answer = service.answer(
            service.prepare_table(
                name,
                params.multi_items(),
                params.get("format"),
                params.get("release"),
                request.headers.get("accept"),
                request.headers.get("if-none-match"),
            )
        )
        return Response(answer.body, status_code=answer.status, headers=answer.headers)

    return operation


def data_responses() -> dict[int | str, dict[str, Any]]:
    """The documented responses of a table's data."""
    return {
        200: {
            "description": "The table in the format asked for by ?format= or Accept",
            "content": {fmt.media_type: {} for fmt in FORMATS.values()},
        },
        **NOT_MODIFIED,
        **PROBLEM_RESPONSES,
    }


def _add_table(router: APIRouter, statistic: Statistic, table: TableDef) -> None:
    dimensions = statistic.dimensions(table)
    descriptions = {
        d: f"Comma-separated values of `{d}` to keep (repeat to add more)" for d in dimensions
    }
    ranged = statistic.serving.ranged
    if ranged is not None:  # computed per query: a month range and one value per filter
        dimensions = (ranged.first, ranged.last, *ranged.filters)
        descriptions = {
            ranged.first: "First month, `YYYY-MM` (default: 11 months before the last)",
            ranged.last: "Last month, `YYYY-MM` (default: the latest month with data)",
            **{f: f"Only this `{f}` (one value)" for f in ranged.filters},
        }
    descriptions |= {"format": _FORMAT_TEXT, "release": _RELEASE_TEXT}
    operation = _table_operation(table.name)
    operation.__signature__ = _signature(  # type: ignore[attr-defined]
        (*dimensions, "format", "release"), descriptions
    )
    operation.__doc__ = (
        f"{table.title}. Filter rows with `?<dimension>=v1,v2` on its dimensions (an unknown "
        "parameter is a 400 problem). Suppressed cells carry their status and rule in every "
        "format." + (f" {table.rules_note}." if table.rules_note else "")
    )
    router.add_api_route(
        TABLES_PREFIX + table.name,
        operation,
        methods=["GET"],
        name=f"table_{table.name.replace('/', '_')}",
        response_class=Response,
        responses=data_responses(),
        summary=table.title,
        tags=[f"{statistic.name}: tables"],
    )


def make_router(statistics: Sequence[Statistic]) -> APIRouter:
    """The data operations of ``statistics``."""
    router = APIRouter()
    for statistic in statistics:
        for table in statistic.tables:
            _add_table(router, statistic, table)
        if statistic.serving.compatible is not None:
            _add_compatible(router, statistic.serving.compatible)
    return router


__all__ = ["NOT_MODIFIED", "data_responses", "make_router"]
