"""``HEAD`` wherever ``GET`` is served (RFC 9110, section 9.3.2): the request is answered as its
``GET`` with the same status and headers (Content-Type, Content-Length where the ``GET`` has one,
ETag, Cache-Control, Vary…) and no body.

FastAPI's routes answer only the methods they are declared with, so every ``HEAD`` was 405. An
ASGI middleware runs the ``GET`` instead and keeps its body from the client; a body streamed
without a Content-Length (an export) is stopped at its first chunk, as when a client disconnects,
so that a ``HEAD`` of a large export does not build it. ``HEAD`` is not in the OpenAPI document: it is
implied by every ``GET`` there, and a generated client has no use for a second operation per
route whose answer has no body.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _BodyWithheld(OSError):
    """Raised from ``send`` once the ``HEAD``'s (empty) body is sent: Starlette's streamed
    responses stop on an OSError from ``send``, as on a client that went away."""


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False
        streamed = False  # no Content-Length: a body made as it is sent, stopped at its first chunk

        async def send_headers_only(message: Message) -> None:
            nonlocal ended, streamed
            if message["type"] == "http.response.start":
                streamed = not any(name.lower() == b"content-length" for name, _ in message.get("headers", ()))
                await send(message)
            elif message["type"] == "http.response.body":
                if not ended:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    ended = True
                # a body of known length is already made (a page, a file) and let run to its end,
                # so that what follows it (a temporary file's removal) runs too
                if streamed and message.get("more_body", False):
                    raise _BodyWithheld("HEAD: the rest of the body is not made")
            else:
                await send(message)

        try:
            await self.app({**scope, "method": "GET"}, receive, send_headers_only)
        except (_BodyWithheld, ClientDisconnect):
            if not ended:
                raise
