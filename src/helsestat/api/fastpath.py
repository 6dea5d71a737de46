"""The ASGI fast path of the data routes: GET on ``/api/v1/tables/{name}`` and on every
path of a statistic's compatible API is answered here, before FastAPI's routing,
dependency injection and response classes.

It answers exactly what the FastAPI routes answer — both call
:class:`~helsestat.api.service.TableService` — so those routes stay the documented operations
(OpenAPI, ``/docs``) and serve any request the fast path lets through (a malformed
``release`` id on a table route, which FastAPI's parameter validation words). Every other
method and path goes to FastAPI unchanged.

Errors: a :class:`~helsestat.errors.HelsestatError` is answered by the app's own
problem+json handler (:mod:`helsestat.api.problems`); anything else propagates to
Starlette's server-error middleware, whose handler is that module's 500 problem.

Loading a table's index and rendering a large selection run in a worker thread, so one big
export does not stall the other requests of the worker. A large answer is rendered in parts
(a piece of rows each, :meth:`~helsestat.publish.format.Format.render_parts`) and sent
part by part, so neither the thread nor the sending holds the event loop for long.

>>> # app.add_middleware(DataFastPath)  (done by create_app)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from helsestat.api.parameters import RELEASE_ID
from helsestat.api.service import IN_PARTS, LARGE, TABLES_PREFIX, Answer, Prepared, TableService
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


def _last(items: list[tuple[str, str]], name: str) -> str | None:
    value = None
    for key, found in items:
        if key == name:
            value = found
    return value


def get_path(scope: Scope) -> str | None:
    """The path of a GET request below the app's root path; None for anything else (a fast
    path passes it on).

    >>> get_path({"type": "http", "method": "GET", "path": "/x/a", "root_path": "/x"})
    '/a'
    """
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class DataFastPath:
    """ASGI middleware answering GET on the data paths directly (HEAD arrives as GET:
    :class:`helsestat.api.head.HeadAsGet` drops the body for every route)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = get_path(scope)
        if path is None:
            await self.app(scope, receive, send)
            return
        app: Any = scope["app"]
        service: TableService = app.state.tables
        route = service.route_for(path)
        table = path[len(TABLES_PREFIX) :] if path.startswith(TABLES_PREFIX) else ""
        if route is None and not table:
            await self.app(scope, receive, send)
            return
        items = query_items(scope["query_string"])
        release = _last(items, "release") if table else None
        if release is not None and not RELEASE_ID.fullmatch(release):
            await self.app(scope, receive, send)  # FastAPI's validation words this error
            return
        accept = if_none_match = None
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        try:
            if route is not None:
                prepared = service.prepare_route(path, items, accept, if_none_match)
            else:
                fmt = _last(items, "format")
                prepared = service.prepare_table(table, items, fmt, release, accept, if_none_match)
            answer = await self._answer(service, prepared)
        except HelsestatError as exc:
            handler = app.exception_handlers[HelsestatError]
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, send)
            return
        body = answer.body
        headers = [(_header_name(k), v.encode("latin-1")) for k, v in answer.headers.items()]
        if answer.status != 304:
            length = sum(map(len, answer.parts)) if answer.parts else len(body)
            headers.append((b"content-length", str(length).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        for part in answer.parts:  # a large answer: each part in turn (the server waits
            if part:  # while the client's socket is full, serving other requests meanwhile)
                await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _answer(service: TableService, prepared: Prepared | Answer) -> Answer:
        if isinstance(prepared, Answer):
            return prepared
        index = service.cached_index(prepared)
        if index is None:
            index = await anyio.to_thread.run_sync(service.index, prepared)
        selection = service.select(prepared, index)
        if len(selection) > LARGE:  # rendered off the event loop, kept on it
            kept = service.kept_body(prepared, selection)  # a computed table's answer
            if kept is not None:
                return service.respond_with(prepared, selection, kept)
            if len(selection) <= IN_PARTS:
                body = await anyio.to_thread.run_sync(service.render, prepared, selection)
                service.keep_body(prepared, selection, (body,))
                return service.respond_with(prepared, selection, body)
            answer = await anyio.to_thread.run_sync(service.respond_in_parts, prepared, selection)
            service.keep_body(prepared, selection, answer.parts)
            return answer
        return service.respond(prepared, selection)
