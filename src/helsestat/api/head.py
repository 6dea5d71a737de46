"""HEAD for every GET route (RFC 9110 §9.3.2): FastAPI routes declare GET only, so a HEAD
request would get 405. This middleware answers HEAD by running the GET and sending its
status and headers (Content-Length, ETag, Content-Type as the GET would) without the body.

>>> import asyncio
>>> async def app(scope, receive, send):
...     await send({"type": "http.response.start", "status": 200, "headers": []})
...     await send({"type": "http.response.body", "body": scope["method"].encode()})
>>> sent = []
>>> async def send(message):
...     sent.append(message)
>>> asyncio.run(HeadAsGet(app)({"type": "http", "method": "HEAD"}, None, send))
>>> sent[-1]["body"]
b''
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Pure ASGI middleware: HEAD → GET with the body dropped; everything else unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
