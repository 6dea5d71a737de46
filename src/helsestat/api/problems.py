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
  (keeping ``Allow``), other statuses ``http.<status>``;
- anything else → 500 ``internal``; the traceback goes to the server log, never the body.

>>> problem_body(404, "Not found", "", code="table.not_found", hint="", instance="/")["type"]
'https://helsestat.example/problems/table.not_found'
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

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
    body = problem_body(status, title, detail, code=code, hint=hint, instance=request.url.path)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


async def _helsestat_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HelsestatError)
    if exc.status >= 500:
        logger.error("%s %s failed: %s (%s)", request.method, request.url.path, exc.code, exc)
    # an error raised with its own status (401, 406, 412 …) takes that status's title
    title = exc.title if exc.status == type(exc).status else HTTPStatus(exc.status).phrase
    headers = {"WWW-Authenticate": 'Bearer realm="helsestat"'} if exc.status == 401 else None
    return problem_response(
        request, exc.status, title, exc.message, code=exc.code, hint=exc.hint, headers=headers
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
        hint = f"allowed: {(exc.headers or {}).get('Allow', 'GET')}"
    else:
        code, title, hint = f"http.{exc.status_code}", "HTTP error", ""
        detail = str(exc.detail)
    return problem_response(
        request, exc.status_code, title, detail, code=code, hint=hint, headers=exc.headers
    )


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


def _document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Make the OpenAPI document say what the handlers do: FastAPI documents a 422
    ``HTTPValidationError`` for every route with parameters, but validation errors are 400
    problems here; and error responses are problem+json only."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {})
            responses.pop("422", None)
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
