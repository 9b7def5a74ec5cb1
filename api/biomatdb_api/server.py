"""How the HTTP server runs the app: one set of uvicorn options for ``biomatdb serve``,
``biomatdb demo`` and the tests, so that each reads requests the same way.

- Request heads (request line and headers) up to ``biomatdb_api.params.REQUEST_HEAD_MAX_BYTES``
  are read, so that a query string within the API's limits is answered (414 beyond them)
  instead of the connection being dropped by h11's default of 16 KiB.
- An idle keep-alive connection is closed after ``KEEP_ALIVE_SECONDS``.
- ``BoundedH11Protocol`` closes a connection whose request head has not arrived whole within
  ``HEAD_SECONDS`` of its first byte (or of the connection), answering 408, and one whose body
  comes slower than ``BODY_MIN_BYTES_PER_WINDOW`` per ``BODY_WINDOW_SECONDS`` while the app is
  reading it (slowloris, a 1 byte/s upload). The app sees the client gone, and an upload in
  progress is removed (``biomatdb_api.uploads``).
- At most ``MAX_CONNECTIONS`` connections and requests at once; past it, 503.

Behind a reverse proxy, set the same bounds there (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from biomatdb_api import params

KEEP_ALIVE_SECONDS = 5
HEAD_SECONDS = 10.0
BODY_WINDOW_SECONDS = 20.0
BODY_MIN_BYTES_PER_WINDOW = 20 * 1024  # 1 KiB/s, averaged over the window
MAX_CONNECTIONS = 1000


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the request head and a floor on the body's rate."""

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_bytes = 0
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.SEND_BODY:
            self._body_bytes += len(data)
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    # --- timers ----------------------------------------------------------------------

    def _watch(self) -> None:
        state = self.conn.their_state
        if state is h11.IDLE and self.conn.trailing_data[0]:  # part of the next request head is here
            self._watch_head()
        elif state is not h11.IDLE and self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if state is h11.SEND_BODY and self._body_timer is None:
            self._body_bytes = 0
            self._body_timer = self.loop.call_later(BODY_WINDOW_SECONDS, self._check_body_rate)
        elif state is not h11.SEND_BODY and self._body_timer is not None:  # this request's body is in
            self._body_timer.cancel()
            self._body_timer = None

    def _watch_head(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(HEAD_SECONDS, self._head_too_slow)

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self.timeout_keep_alive_task is not None and not self.conn.trailing_data[0]:
                return  # an idle keep-alive connection: its own timer closes it
            self.logger.info("closing a connection whose request head took over %s s", HEAD_SECONDS)
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            self.transport.close()

    def _check_body_rate(self) -> None:
        self._body_timer = None
        if self.conn.their_state is not h11.SEND_BODY or self.transport.is_closing():
            return
        waiting = getattr(self.cycle, "waiting_for_100_continue", False)  # False too while cycle is None
        if self.flow.read_paused or waiting or self._body_bytes >= BODY_MIN_BYTES_PER_WINDOW:
            # the app is behind (or has not asked for the body of an "Expect: 100-continue"
            # request yet, so the client rightly waits), or the client keeps up: another window
            self._body_bytes = 0
            self._body_timer = self.loop.call_later(BODY_WINDOW_SECONDS, self._check_body_rate)
            return
        self.logger.info(
            "closing a connection whose body came at %s bytes in %s s", self._body_bytes, BODY_WINDOW_SECONDS
        )
        self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None


def uvicorn_options(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config`` or ``uvicorn.run``; ``overrides`` win."""
    return {
        "http": BoundedH11Protocol,
        "h11_max_incomplete_event_size": params.REQUEST_HEAD_MAX_BYTES,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "limit_concurrency": MAX_CONNECTIONS,
        **overrides,
    }
