"""The edge of the server: requests too long to be worth reading, and requests the HTTP
parser refuses, are answered with a problem+json document like every other error.

Two places, because the second never reaches the app:

- :class:`RequestLimits` (ASGI middleware, outermost): a request target (path and query)
  over :data:`MAX_TARGET_BYTES` is 414 ``request.target_too_long``, request headers over
  :data:`MAX_HEADER_BYTES` (or more than :data:`MAX_HEADER_COUNT` of them) are 431
  ``request.headers_too_large`` — before any routing, parsing or database work;
- :class:`ProblemHttpToolsProtocol` / :class:`ProblemH11Protocol` (what ``helsestat serve``
  gives uvicorn as its HTTP protocol): uvicorn answers a request its parser cannot read
  with a plain-text "Invalid HTTP request received." — for example a target over 64 KiB,
  which httptools' URL parser cannot hold. These answer 414 (target too long) or 400
  ``request.malformed`` as problem+json instead.

Neither echoes the request target: it is too long to be useful and may hold an identifier.

>>> too_long_target()[0]
414
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from helsestat.api.problems import PROBLEM_MEDIA_TYPE, problem_body
from helsestat.errors import HelsestatError, InputError

#: Path plus query string, in bytes. The longest legitimate query (every kommune, hundreds
#: of takstkoder) is a few KiB; nginx's default is 8 KiB.
MAX_TARGET_BYTES = 16 * 1024
#: All request headers together, names and values, in bytes.
MAX_HEADER_BYTES = 32 * 1024
#: Request headers, counted.
MAX_HEADER_COUNT = 100
#: A path longer than this is left out of a problem's ``instance``.
MAX_INSTANCE = 1024

_TITLES = {400: "Bad Request", 414: "URI Too Long", 431: "Request Header Fields Too Large"}
_TARGET_HINT = (
    f"keep the path and query under {MAX_TARGET_BYTES // 1024} KiB: ask for fewer codes per "
    "request, or split the request"
)
_HEADERS_HINT = (
    f"send at most {MAX_HEADER_COUNT} headers of at most {MAX_HEADER_BYTES // 1024} KiB in all"
)


def problem_bytes(error: HelsestatError, instance: str = "") -> bytes:
    """The JSON body of a problem answered outside the app's handlers."""
    title = _TITLES.get(error.status, HTTPStatus(error.status).phrase)
    return orjson.dumps(
        problem_body(
            error.status, title, error.message, code=error.code, hint=error.hint, instance=instance
        )
    )


def too_long_target(instance: str = "") -> tuple[int, bytes]:
    """(status, body) of a request target over :data:`MAX_TARGET_BYTES`."""
    error = InputError(
        "request.target_too_long",
        f"the request target (path and query) is longer than {MAX_TARGET_BYTES} bytes",
        hint=_TARGET_HINT,
        status=414,
    )
    return 414, problem_bytes(error, instance)


class RequestLimits:
    """ASGI middleware refusing over-long requests before anything else reads them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self.refusal(scope)
            if refusal is not None:
                status, body = refusal
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [
                            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    @staticmethod
    def refusal(scope: Scope) -> tuple[int, bytes] | None:
        """(status, body) of the refusal of an over-long request; None for the others.

        >>> RequestLimits.refusal({"path": "/health", "headers": [(b"host", b"x")]}) is None
        True
        """
        path: str = scope["path"]
        raw_path: bytes = scope.get("raw_path") or path.encode("utf-8", "replace")
        instance = path if len(raw_path) <= MAX_INSTANCE else ""
        if len(raw_path) + len(scope.get("query_string", b"")) > MAX_TARGET_BYTES:
            return too_long_target(instance)
        headers = scope.get("headers", [])
        size = sum(len(name) + len(value) for name, value in headers)
        if len(headers) > MAX_HEADER_COUNT or size > MAX_HEADER_BYTES:
            error = InputError(
                "request.headers_too_large",
                f"the request has {len(headers)} headers of {size} bytes in all",
                hint=_HEADERS_HINT,
                status=431,
            )
            return 431, problem_bytes(error, instance)
        return None


def _malformed(target_length: int) -> tuple[int, bytes]:
    if target_length > MAX_TARGET_BYTES:
        return too_long_target()
    error = InputError(
        "request.malformed",
        "the server could not read this HTTP request",
        hint="send HTTP/1.1 with a request line, headers (at most "
        f"{MAX_HEADER_BYTES // 1024} KiB) and a request target under "
        f"{MAX_TARGET_BYTES // 1024} KiB",
    )
    return 400, problem_bytes(error)


def _response(status: int, body: bytes, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_TITLES.get(status, 'Bad Request')}\r\n".encode()]
    lines += [name + b": " + value + b"\r\n" for name, value in default_headers]
    lines += [
        b"content-type: " + PROBLEM_MEDIA_TYPE.encode() + b"\r\n",
        b"content-length: " + str(len(body)).encode() + b"\r\n",
        b"connection: close\r\n\r\n",
        body,
    ]
    return b"".join(lines)


class ProblemH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering a request it cannot parse with a problem."""

    def send_400_response(self, msg: str) -> None:
        status, body = _malformed(0)
        self.transport.write(_response(status, body, self.server_state.default_headers))
        self.transport.close()


try:  # httptools is part of uvicorn[standard]; without it, h11 serves
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - an install without httptools
    ProblemHttpToolsProtocol: Any = None
else:

    class ProblemHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[no-redef]
        """uvicorn's httptools protocol, answering a request it cannot parse with a
        problem (414 when the target it was reading is too long)."""

        def send_400_response(self, msg: str) -> None:
            status, body = _malformed(len(getattr(self, "url", b"")))
            self.transport.write(_response(status, body, self.server_state.default_headers))
            self.transport.close()


def http_protocol() -> str:
    """The ``http`` setting to give uvicorn: an import string, so worker processes started
    by the supervisor load the same class.

    >>> http_protocol()
    'helsestat.api.edge:ProblemHttpToolsProtocol'
    """
    fast = ProblemHttpToolsProtocol is not None
    return f"helsestat.api.edge:{'ProblemHttpToolsProtocol' if fast else 'ProblemH11Protocol'}"


__all__ = [
    "MAX_HEADER_BYTES",
    "MAX_HEADER_COUNT",
    "MAX_TARGET_BYTES",
    "ProblemH11Protocol",
    "ProblemHttpToolsProtocol",
    "RequestLimits",
    "http_protocol",
    "problem_bytes",
]
