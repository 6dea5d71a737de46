"""The app's front door: a request of the data fast path goes to it in one call, past the
middleware chain in front of it.

A data request (GET on a path of a statistic's compatible API, or a filtered
``/api/v1/tables/{name}``) is most of what the server answers, in tens of microseconds; the
chain that every request passes otherwise — FastAPI's telemetry check (environment
variables read per request), the body-size and exception-telemetry layers, the request
limits, HEAD, the admission lane's whole-table gate, the units fast path — cost it as much
again as its own checking. :class:`HelsestatApp` is the FastAPI app with that shortcut:
such a request goes to :class:`~helsestat.api.fastpath.DataFastPath` behind Starlette's
server-error middleware with the app's own 500 handler, exactly what it meets in the chain.
Everything else — HEAD, a whole table (the admission lane takes it), a request over the
limits of :class:`~helsestat.api.edge.RequestLimits` (refused there), a request the fast
path lets through, every other path and method — goes through the whole chain unchanged.

FastAPI's OpenTelemetry instrumentation is looked for once, at the first request: when it
is configured, every request takes the whole chain (so is traced). A tracer provider is
set up before the server starts.

>>> from helsestat.settings import Settings
>>> from helsestat.api import create_app
>>> isinstance(create_app(Settings(demo_mode=True)), HelsestatApp)
True
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from helsestat.api.admission import whole_table
from helsestat.api.edge import RequestLimits
from helsestat.api.fastpath import DataFastPath, get_path
from helsestat.api.service import TABLES_PREFIX, TableService


class HelsestatApp(FastAPI):
    """FastAPI, with data requests sent straight to the fast path (see the module
    docstring). ``state.tables`` holds the :class:`~helsestat.api.service.TableService`."""

    _front: ASGIApp | None = None
    _front_built = False

    def _build_front(self) -> ASGIApp | None:
        """The fast path behind the server-error middleware the chain starts with (its
        handler and debug flag); it passes what it does not answer to the whole chain.
        None when FastAPI's telemetry is on (every request is then traced)."""
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        stack = self.middleware_stack
        telemetry: Any = getattr(self, "_native_telemetry", None)
        if not isinstance(stack, ServerErrorMiddleware) or (
            telemetry is not None and telemetry.enabled()
        ):
            return None
        return ServerErrorMiddleware(DataFastPath(stack), handler=stack.handler, debug=stack.debug)

    def _fast(self, scope: Scope) -> bool:
        """Whether ``scope`` (a GET) is a data request the fast path answers from its
        index: a compatible route or a filtered table, within the request limits."""
        path = get_path(scope)
        if path is None:
            return False
        service: TableService = self.state.tables
        if service.route_for(path) is None and (
            not path.startswith(TABLES_PREFIX)
            or whole_table("GET", scope["path"], scope["query_string"])
        ):
            return False
        return RequestLimits.refusal(scope) is None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            if not self._front_built:
                self._front, self._front_built = self._build_front(), True
            front = self._front
            if front is not None and "fastapi.telemetry" not in scope:
                if self.root_path:
                    scope["root_path"] = self.root_path
                if self._fast(scope):
                    scope["app"] = self
                    await front(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


__all__ = ["HelsestatApp"]
