"""``/docs``: the API reference rendered on the server from ``/openapi.json``.

FastAPI's Swagger UI loads its JavaScript and CSS from a CDN, and no installed package ships
the swagger-ui files, so this page lists every operation — method, path, summary,
parameters, responses — as plain HTML that works without internet.

>>> operations({"paths": {"/health": {"get": {"summary": "Health"}}}})[0].path
'/health'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from helsestat.api.pages.render import TemplatesDep, render

router = APIRouter(include_in_schema=False)

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def inline_code(text: str) -> Markup:
    """Escaped ``text`` whose Markdown code spans (`x`) become ``<code>`` elements.

    >>> str(inline_code("filter with `?a=<b>`"))
    'filter with <code>?a=&lt;b&gt;</code>'
    """
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


@dataclass(frozen=True)
class Parameter:
    """One parameter of an operation."""

    name: str
    location: str
    required: bool
    description: str


@dataclass(frozen=True)
class Operation:
    """One operation of the OpenAPI document, as the docs page shows it."""

    method: str
    path: str
    summary: str
    description: Markup
    tag: str
    parameters: tuple[Parameter, ...]
    responses: tuple[tuple[str, str, tuple[str, ...]], ...]


def operations(openapi: dict[str, Any]) -> list[Operation]:
    """The operations of an OpenAPI document, in path order (see the module example)."""
    found = []
    for path, item in openapi.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = tuple(
                Parameter(
                    name=p.get("name", ""),
                    location=p.get("in", ""),
                    required=bool(p.get("required", False)),
                    description=p.get("description", "")
                    or p.get("schema", {}).get("description", ""),
                )
                for p in op.get("parameters", [])
            )
            responses = tuple(
                (str(code), r.get("description", ""), tuple(r.get("content", {})))
                for code, r in op.get("responses", {}).items()
            )
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=op.get("summary", ""),
                    description=inline_code(op.get("description", "")),
                    tag=(op.get("tags") or ["other"])[0],
                    parameters=params,
                    responses=responses,
                )
            )
    return found


@router.get("/docs", name="api_docs", response_class=HTMLResponse)
def api_docs(request: Request, templates: TemplatesDep) -> HTMLResponse:
    """The API reference page."""
    schema = request.app.openapi()
    return render(
        templates,
        request,
        "docs.html",
        info=schema.get("info", {}),
        operations=operations(schema),
        openapi_url=request.app.openapi_url,
        release=None,
    )
