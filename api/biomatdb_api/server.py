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
- A request head longer than ``REQUEST_HEAD_MAX_BYTES`` is answered by ``BoundedH11Protocol``
  itself, before h11 gives up on it: 414 problem+json when the request line is what runs over
  (a query string of megabytes), 431 when the headers do. The rest of the head is read and
  dropped (up to ``DRAIN_MAX_BYTES``, for ``DRAIN_SECONDS``) before the connection closes, so
  a client that sent only the head reads the answer instead of a reset (a body or pipelined
  requests behind it are not read, so such a client may see a reset after the answer).
- At most ``MAX_CONNECTIONS`` connections and requests at once; past it, 503.

Behind a reverse proxy, set the same bounds there (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol

from biomatdb_api import params
from biomatdb_api.problems import MEDIA_TYPE, type_uri

KEEP_ALIVE_SECONDS = 5
HEAD_SECONDS = 10.0
BODY_WINDOW_SECONDS = 20.0
BODY_MIN_BYTES_PER_WINDOW = 20 * 1024  # 1 KiB/s, averaged over the window
MAX_CONNECTIONS = 1000
DRAIN_SECONDS = 10.0  # after a too-long head is answered, how long the rest of it is read and dropped
DRAIN_MAX_BYTES = 64 * 1024 * 1024
_HEAD_END = b"\r\n\r\n"


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the request head and a floor on the body's rate."""

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_bytes = 0
        self._draining: bytes | None = None  # a refused head's last bytes, while the rest of it is dropped
        self._drained = 0
        self._drain_timer: asyncio.TimerHandle | None = None
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._draining is not None:
            self._drain(data)
            return
        if self.conn.their_state is h11.IDLE and self._head_too_long(data):
            return
        if self.conn.their_state is h11.SEND_BODY:
            self._body_bytes += len(data)
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    # --- a request head past the limit ------------------------------------------------

    def _head_too_long(self, data: bytes) -> bool:
        """Answer 414 or 431 when the head being read runs past the limit, and start dropping the
        rest of it; False (h11 reads on) while it fits."""
        limit = params.REQUEST_HEAD_MAX_BYTES
        pending = self.conn.trailing_data[0]
        if len(pending) + len(data) <= limit:
            return False
        head = pending + data
        if _HEAD_END in head[: limit + len(_HEAD_END)]:  # a whole head within the limit, a next one behind it
            return False
        line_ends = head.find(b"\r\n", 0, limit)
        status, title, code, what = (
            (414, "URI too long", "query-too-long", "request line runs")
            if line_ends < 0
            else (431, "Request header fields too large", "headers-too-long", "request's headers run")
        )
        target = head.split(b" ", 2)[1] if head.count(b" ", 0, 8200) else b""
        body = {
            "type": type_uri(code),
            "title": title,
            "status": status,
            "detail": f"the {what} past {limit:,} bytes; a query string may be at most "
            f"{params.QUERY_STRING_MAX_BYTES:,} bytes",
            "instance": target.split(b"?", 1)[0][:300].decode("latin-1") or None,
            "limit": limit,
        }
        payload = orjson.dumps({key: value for key, value in body.items() if value is not None})
        self.logger.info("answering %s to a request head of over %s bytes", status, limit)
        self.transport.write(
            f"HTTP/1.1 {status} {title}\r\ncontent-type: {MEDIA_TYPE}\r\ncontent-length: {len(payload)}\r\n"
            "connection: close\r\n\r\n".encode("latin-1")
            + payload
        )
        self._cancel_timers()
        self._draining = b""
        self._drain_timer = self.loop.call_later(DRAIN_SECONDS, self.transport.close)
        self._drain(head)
        return True

    def _drain(self, data: bytes) -> None:
        """Drop what arrives of a refused head; close once it has ended (or too much came)."""
        assert self._draining is not None
        self._drained += len(data)
        joined = self._draining + data
        if _HEAD_END in joined or self._drained > DRAIN_MAX_BYTES:
            self.transport.close()
        else:
            self._draining = joined[-(len(_HEAD_END) - 1) :]

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
        for timer in (self._head_timer, self._body_timer, self._drain_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = self._drain_timer = None


def uvicorn_options(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config`` or ``uvicorn.run``; ``overrides`` win."""
    return {
        "http": BoundedH11Protocol,
        "h11_max_incomplete_event_size": params.REQUEST_HEAD_MAX_BYTES,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "limit_concurrency": MAX_CONNECTIONS,
        **overrides,
    }
