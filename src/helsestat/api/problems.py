"""The API's one error boundary: every failure becomes an RFC 9457 problem document.

Every response with status >= 400 has ``Content-Type: application/problem+json`` and the
body::

    {"type": "https://helsestat.example/problems/<code>", "title": "...", "status": 404,
     "detail": "<the message>", "code": "<code>", "hint": "<what next>",
     "instance": "<request path>"}

``type`` is an identifier, not necessarily a page that resolves: one URI per stable error
``code`` (``docs/errors.md`` lists them). The handlers registered by
:func:`install_problem_handlers`:

- :class:`~helsestat.errors.HelsestatError` → its own status, code, message and hint;
- FastAPI's ``RequestValidationError`` → 400 ``query.invalid`` naming the parameter (never
  echoing the value, which could be a personal identifier);
- Starlette's ``HTTPException`` → 404 ``route.not_found``, 405 ``route.method_not_allowed``
  (with ``Allow`` listing every method of the path, from all its routes), other statuses
  ``http.<status>``;
- anything else → 500 ``internal``; the traceback goes to the server log, never the body.

Every problem has a hint: an error raised without one gets its status's general hint
(:func:`default_hint`), so a client always learns what to do next.

>>> problem_body(404, "Not found", "", code="table.not_found", hint="", instance="/")["type"]
'https://helsestat.example/problems/table.not_found'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from helsestat.errors import HelsestatError

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://helsestat.example/problems/"

logger = logging.getLogger("helsestat.api")


class Problem(BaseModel):
    """An RFC 9457 problem document, with helsestat's ``code`` and ``hint`` extensions."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    hint: str
    instance: str


#: OpenAPI ``responses=`` entry for routes, so the documented errors match the real ones.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text, "content": {PROBLEM_MEDIA_TYPE: {}}}
    for status, text in (
        (400, "Invalid query (problem+json)"),
        (404, "Unknown table, release or route (problem+json)"),
        (500, "Internal error (problem+json)"),
    )
}


_DEFAULT_HINTS: dict[int, str] = {
    400: "check the request against this operation's parameters at /docs",
    401: "send 'Authorization: Bearer <token>' with a valid token",
    403: "ask an administrator of the unit, or the registry owner, to do it",
    404: "see /docs for the operations; the collections list the ids they know",
    405: "see /docs for the methods of this path",
    406: "ask for a format this operation serves (see /docs)",
    409: "read the resource again and retry",
    412: "read the resource again and send its new ETag",
    413: "send a smaller request",
    414: "send a shorter request target",
    415: "send the body as application/json",
    428: "read the resource and send its ETag in If-Match",
    429: "wait for the time in Retry-After, then retry",
    431: "send fewer or smaller headers",
    503: "the server is busy: wait for the time in Retry-After, then retry",
}


def default_hint(status: int) -> str:
    """The general hint of a status, for an error raised without its own.

    >>> default_hint(404)
    'see /docs for the operations; the collections list the ids they know'
    >>> default_hint(502)
    'try again later; the error is logged on the server'
    """
    if status in _DEFAULT_HINTS:
        return _DEFAULT_HINTS[status]
    if status >= 500:
        return "try again later; the error is logged on the server"
    return "see /docs for this operation"


def problem_body(
    status: int, title: str, detail: str, *, code: str, hint: str, instance: str
) -> dict[str, Any]:
    """The JSON body of one problem.

    >>> problem_body(400, "Bad", "d", code="query.invalid", hint="h", instance="/p")["status"]
    400
    """
    return Problem(
        type=PROBLEM_TYPE_BASE + code,
        title=title,
        status=status,
        detail=detail,
        code=code,
        hint=hint,
        instance=instance,
    ).model_dump()


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    code: str,
    hint: str = "",
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A ``application/problem+json`` response for ``request``.

    >>> from starlette.requests import Request
    >>> req = Request({"type": "http", "path": "/x", "headers": []})
    >>> problem_response(req, 404, "Not found", "gone", code="x.not_found").media_type
    'application/problem+json'
    """
    body = problem_body(
        status,
        title,
        detail,
        code=code,
        hint=hint or default_hint(status),
        instance=request.url.path,
    )
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


async def _helsestat_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HelsestatError)
    if exc.status >= 500:
        logger.error("%s %s failed: %s (%s)", request.method, request.url.path, exc.code, exc)
    # an error raised with its own status (401, 406, 412 …) takes that status's title
    title = exc.title if exc.status == type(exc).status else HTTPStatus(exc.status).phrase
    headers: dict[str, str] = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="helsestat"'
    if "retry_after" in exc.details:  # 429, 503: when to try again
        headers["Retry-After"] = str(int(exc.details["retry_after"]))
    return problem_response(
        request,
        exc.status,
        title,
        exc.message,
        code=exc.code,
        hint=exc.hint,
        headers=headers or None,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Name the parameter and the rule, never the value: it could be a fødselsnummer.
    parts = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        where = f"{loc[0]} parameter {'.'.join(loc[1:])!r}" if len(loc) > 1 else "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return problem_response(
        request,
        400,
        "Invalid query",
        "; ".join(parts) or "invalid request",
        code="query.invalid",
        hint=f"see {request.app.docs_url or '/docs'} for the parameters of this operation",
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        code, title, hint = "route.not_found", "Not found", "see /docs for the operations"
        detail = f"no such route or file: {request.url.path}"
    elif exc.status_code == 405:
        code, title = "route.method_not_allowed", "Method not allowed"
        detail = f"{request.method} is not allowed on {request.url.path}"
        allow = allowed_methods(request.app, request.url.path) or (exc.headers or {}).get(
            "Allow", "GET"
        )
        hint = f"allowed: {allow}"
        return problem_response(
            request, 405, title, detail, code=code, hint=hint, headers={"Allow": allow}
        )
    else:
        code, title, hint = f"http.{exc.status_code}", "HTTP error", ""
        detail = str(exc.detail)
    return problem_response(
        request, exc.status_code, title, detail, code=code, hint=hint, headers=exc.headers
    )


@lru_cache(maxsize=512)
def _path_regex(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def _routes(app: FastAPI) -> Iterator[Any]:
    try:  # FastAPI >= 0.13x keeps an included router as one entry; this flattens them
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI lists every route in app.routes
        yield from app.routes
        return
    yield from iter_route_contexts(app.routes)


def allowed_methods(app: FastAPI, path: str) -> str:
    """The methods of ``path`` (``Allow`` of a 405). Starlette names only the first route
    whose path matches, so a path served by several routes (``GET`` and ``POST
    /api/v1/units``) would be answered with half of its methods; and routes whose ids may
    hold a slash (so that a malformed id is a 404 of that route) match more than the path
    they document. So: the routes whose documented path (each parameter one segment)
    matches — and, for a path no documented path matches, the routes that match at all.

    >>> from fastapi import FastAPI
    >>> app = FastAPI()
    >>> _ = app.get("/x")(lambda: None), app.post("/x")(lambda: None)
    >>> allowed_methods(app, "/x")
    'GET, POST'
    """
    documented: set[str] = set()
    matching: set[str] = set()
    for route in _routes(app):
        methods = getattr(route, "methods", None)
        route_path = getattr(route, "path", None)
        if not methods or not route_path or not _path_regex(route_path).match(path):
            continue
        matching |= set(methods)
        template = getattr(route, "path_format", None) or route_path
        if _path_regex(template).match(path):
            documented |= set(methods)
    return ", ".join(sorted((documented or matching) - {"HEAD"}))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        500,
        "Internal error",
        "the server could not answer this request",
        code="internal",
        hint="try again later; the error is logged on the server",
    )


#: What any operation may answer before it runs: a request too long to read
#: (:mod:`helsestat.api.edge`) or a lane that is full (:mod:`helsestat.api.admission`).
EDGE_RESPONSES: dict[str, dict[str, Any]] = {
    str(status): {
        "description": text,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, text in (
        (414, "The request target is too long (problem+json)"),
        (431, "The request headers are too large (problem+json)"),
        (429, "This client has too many requests running or waiting (problem+json)"),
        (503, "Too many requests are waiting (problem+json)"),
    )
}


def _document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Make the OpenAPI document say what the handlers do: FastAPI documents a 422
    ``HTTPValidationError`` for every route with parameters, but validation errors are 400
    problems here; error responses are problem+json only; and every operation but
    ``/health`` may be refused at the edge (:data:`EDGE_RESPONSES`)."""
    schema.setdefault("components", {}).setdefault("schemas", {}).setdefault(
        "Problem", Problem.model_json_schema()
    )
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            responses = operation.get("responses", {})
            responses.pop("422", None)
            for status, response in EDGE_RESPONSES.items():
                if path != "/health" or status in ("414", "431"):
                    responses.setdefault(status, response)
            for status, response in responses.items():
                content = response.get("content", {})
                if (
                    status[:1] in "45"
                    and PROBLEM_MEDIA_TYPE in content
                    and "application/json" in content
                ):
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")  # the schema
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)
    return schema


def install_problem_handlers(app: FastAPI) -> None:
    """Register every error handler of the API — the only place errors become responses.

    >>> from fastapi import FastAPI
    >>> app = FastAPI()
    >>> install_problem_handlers(app)
    >>> HelsestatError in app.exception_handlers
    True
    """
    app.add_exception_handler(HelsestatError, _helsestat_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)

    generate = app.openapi
    # FastAPI's documented way to adjust the schema ("Extending OpenAPI"); generate()
    # caches its result, and the adjustment is idempotent.
    app.openapi = lambda: _document_problems(generate())  # type: ignore[method-assign]
