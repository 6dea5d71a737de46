"""The ASGI fast path of the takstbruk routes: GET on the 36 Helfo paths is
answered here, before FastAPI's routing, dependency injection and response classes.

It answers exactly what the FastAPI routes in :mod:`helsestat.api.routers.takstbruk` answer
— both call :class:`~helsestat.api.takstbruk.service.TakstbrukService` — so those routes
stay the documented operations (OpenAPI, ``/docs``) and serve any request the fast path
lets through. Every other method and path goes to FastAPI unchanged.

Errors: a :class:`~helsestat.errors.HelsestatError` is answered by the app's own
problem+json handler (:mod:`helsestat.api.problems`); anything else propagates to
Starlette's server-error middleware, whose handler is that module's 500 problem.

Loading a table's index and rendering a large selection run in a worker thread, so one
big export does not stall the other requests of the worker.

>>> # app.add_middleware(TakstbrukFastPath)  (done by install_takstbruk)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from helsestat.api.takstbruk.query import ENDPOINTS
from helsestat.api.takstbruk.service import LARGE, Answer, TakstbrukService
from helsestat.errors import HelsestatError


def query_items(raw: bytes) -> list[tuple[str, str]]:
    """The query string's (name, value) pairs, as Starlette parses them
    (``parse_qsl(..., keep_blank_values=True)``), without its cost for plain queries.

    >>> query_items(b"fagomraade=LE&kommuner=0301,1103&x")
    [('fagomraade', 'LE'), ('kommuner', '0301,1103'), ('x', '')]
    >>> query_items(b"takstkoder=H1%2C2ad")
    [('takstkoder', 'H1,2ad')]
    """
    text = raw.decode("latin-1")
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True)
    items = []
    for part in text.split("&"):
        if part:
            key, _, value = part.partition("=")
            items.append((key, value))
    return items


_HEADER_NAMES: dict[str, bytes] = {}


def _header_name(name: str) -> bytes:
    """A header name as ASGI wants it (lower case, bytes); the few names are kept."""
    found = _HEADER_NAMES.get(name)
    if found is None:
        found = name.lower().encode("latin-1")
        if len(_HEADER_NAMES) < 64:
            _HEADER_NAMES[name] = found
    return found


class TakstbrukFastPath:
    """ASGI middleware answering GET on the takstbruk paths directly (HEAD arrives as GET:
    :class:`helsestat.api.head.HeadAsGet` drops the body for every route)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        endpoint = ENDPOINTS.get(path)
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        app: Any = scope["app"]
        service: TakstbrukService = app.state.takstbruk
        accept = if_none_match = None
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        items = query_items(scope["query_string"])
        try:
            answer = await self._answer(service, endpoint, items, accept, if_none_match)
        except HelsestatError as exc:
            handler = app.exception_handlers[HelsestatError]
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, send)
            return
        body = answer.body
        headers = [(_header_name(k), v.encode("latin-1")) for k, v in answer.headers.items()]
        if answer.status != 304:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _answer(
        service: TakstbrukService,
        endpoint: Any,
        items: list[tuple[str, str]],
        accept: str | None,
        if_none_match: str | None,
    ) -> Answer:
        prepared = service.prepare(endpoint, items, accept, if_none_match)
        if isinstance(prepared, Answer):
            return prepared
        index = service.indexes.cached(prepared.release.id, prepared.endpoint.table)
        if index is None:
            index = await anyio.to_thread.run_sync(service.index, prepared)
        selection = service.select(prepared, index)
        if len(selection) > LARGE:
            return await anyio.to_thread.run_sync(service.respond, prepared, selection)
        return service.respond(prepared, selection)
