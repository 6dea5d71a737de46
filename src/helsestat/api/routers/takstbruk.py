"""Helfo's aggregated tariff use (``/v1/takstbruk/…``), compatible with Helfo's open-data
API, and the same routes under the old prefix ``/api/opne-data/v1/takstbruk/…``.

One operation per (family, level, period) — JSON or XML by ``Accept`` (``agtakst``), CSV
(``eksport/agtakst``) or Excel (``eksport/msexcel/agtakst``) for kommune, fylke and hele
landet by month or year — registered under both prefixes. The routes declare their query
parameters for the OpenAPI document; the checking is done by
:mod:`helsestat.api.takstbruk.query`, the answer by
:class:`~helsestat.api.takstbruk.service.TakstbrukService`, which the ASGI fast path
(:mod:`helsestat.api.takstbruk.asgi`) also calls for GET (and HEAD, run as GET).

>>> # curl -s 'localhost:8000/v1/takstbruk/agtakst/landet/ar?fagomraade=LE&fomar=2015&tomar=2019'
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request, Response

from helsestat.api.problems import PROBLEM_RESPONSES
from helsestat.api.takstbruk.query import ENDPOINTS, OLD_PREFIX, Endpoint
from helsestat.api.takstbruk.service import SUPPRESSED_HEADER, TakstbrukService
from helsestat.publish.formats import FORMATS

router = APIRouter(tags=["takstbruk (Helfo)"])

DESCRIPTIONS: Final[dict[str, str]] = {
    "fagomraade": "Mandatory. Comma-separated fagområde codes, e.g. `LE` (lege)",
    "fommaned": "Mandatory. First month, `YYYYMM`; the period is at most 13 months",
    "tommaned": "Mandatory. Last month, `YYYYMM`; the period is at most 13 months",
    "fomar": "Mandatory. First year, `YYYY`",
    "tomar": "Mandatory. Last year, `YYYY`",
    "takstkoder": "Comma-separated takstkoder, e.g. `H1,2ad`",
    "kommuner": "Comma-separated kommunenummer (the treater's kommune), e.g. `0301`",
    "fylker": "Comma-separated fylkesnummer (the treater's fylke), e.g. `03,15`",
    "praksistyper": "Comma-separated praksistype codes, e.g. `FALE,LEVA`",
    "medstatus": "helsestat extension: `ja` includes the suppressed cells, with null "
    "measures and `status`/`status_rule` fields; default `nei` (omitted, as Helfo)",
    "release": "helsestat extension: serve this earlier release as published",
    "format": "helsestat extension: json, xml, csv, xlsx, jsonstat or parquet; default by "
    "the Accept header (application/json or application/xml), else json",
}
_RESULT: Final = {"agtakst": "JSON or XML (by Accept)", "eksport": "CSV", "msexcel": "Excel"}
_LEVEL: Final = {"kommune": "kommune", "fylke": "fylke", "landet": "hele landet"}
_PERIOD: Final = {"maned": "måned", "ar": "år"}
_RULE: Final = {
    ("kommune", "ar"): " Only takster whose count (sum_antall_takst) is greater than 5.",
    ("kommune", "maned"): " Only kommuner with more than 10 000 inhabitants (1 January "
    "population of the cell's year, see docs/api.md).",
}


def _responses(endpoint: Endpoint) -> dict[int | str, dict[str, Any]]:
    names = {"agtakst": list(FORMATS), "eksport": ["csv"], "msexcel": ["xlsx"]}
    content: dict[str, dict[str, Any]] = {
        FORMATS[n].media_type: {} for n in names[endpoint.family] if n in FORMATS
    }
    return {
        200: {
            "description": f"The rows, in Helfo's fields; `{SUPPRESSED_HEADER}` counts the "
            "suppressed cells left out",
            "content": content,
        },
        304: {"description": "Not modified: If-None-Match matched the ETag"},
        **PROBLEM_RESPONSES,
    }


def _operation(endpoint: Endpoint) -> Callable[..., Response]:
    def operation(request: Request, **_: Any) -> Response:
        service: TakstbrukService = request.app.state.takstbruk
        answer = service.answer(
            endpoint,
            request.query_params.multi_items(),
            request.headers.get("accept"),
            request.headers.get("if-none-match"),
        )
        return Response(answer.body, status_code=answer.status, headers=answer.headers)

    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    parameters[0] = parameters[0].replace(annotation=Request)
    for name in endpoint.parameters:
        parameters.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[str | None, Query(description=DESCRIPTIONS[name])],
            )
        )
    operation.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        parameters, return_annotation=Response
    )
    operation.__doc__ = (
        f"Aggregert takstbruk per {_LEVEL[endpoint.level]} og {_PERIOD[endpoint.period]} as "
        f"{_RESULT[endpoint.family]}. Geography is the treater's practice address."
        + _RULE.get((endpoint.level, endpoint.period), "")
        + " Suppressed cells are left out unless `medstatus=ja`."
    )
    return operation


for _path, _endpoint in ENDPOINTS.items():
    _old = _path.startswith(OLD_PREFIX)
    router.add_api_route(
        _path,
        _operation(_endpoint),
        methods=["GET"],
        name=f"takstbruk_{_endpoint.family}_{_endpoint.level}_{_endpoint.period}"
        + ("_old" if _old else ""),
        response_class=Response,
        responses=_responses(_endpoint),
        include_in_schema=not _old,
        summary=f"Takstbruk {_endpoint.level}/{_endpoint.period} ({_RESULT[_endpoint.family]})",
    )
