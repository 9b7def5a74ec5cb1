"""Request limits: the length of the query string, the body size of every route but the
upload (which limits itself while streaming), and the rate limiter of the public routes (the ``limits`` package, the one
slowapi is built on, used as a FastAPI dependency so that it applies per router)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_plus

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from biomatdb_api.problems import ProblemError, problem_response


@dataclass
class RateLimiter:
    items: list[RateLimitItem]
    strategy: MovingWindowRateLimiter

    @classmethod
    def from_text(cls, text: str | None) -> RateLimiter | None:
        """``120/minute`` or ``10/second;1000/hour``; None when empty (no limit)."""
        if not text or not text.strip():
            return None
        return cls(items=parse_many(text), strategy=MovingWindowRateLimiter(MemoryStorage()))


class QueryStringLimit:
    """Refuses (414 problem+json) a query string longer than ``limit`` bytes before any route
    reads it; each parameter's own limit (``biomatdb_api.params``) is checked by its route."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = (scope.get("query_string") or b"") if scope["type"] == "http" else b""
        if len(query) > self.limit:
            parameter = longest_parameter(query)
            response = problem_response(
                None,
                414,
                f"the query string is longer than its limit of {self.limit:,} bytes "
                f"(the longest parameter is {parameter!r})",
                code="query-too-long",
                instance=scope.get("path"),
                parameter=parameter,
                limit=self.limit,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def longest_parameter(query: bytes) -> str:
    """The name of the longest ``name=value`` pair of a raw query string (at most 100 characters)."""
    pair = max(query.split(b"&"), key=len)
    return unquote_plus(pair.split(b"=", 1)[0][:300].decode("latin-1"))[:100]


class BodyLimit:
    """Refuses (413 problem+json) a request body larger than ``limit`` bytes, by its
    Content-Length at once or, without one, as soon as the bytes pass it."""

    def __init__(self, app: ASGIApp, *, limit: int, exempt: tuple[tuple[str, str], ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in self.exempt:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise ProblemError(413, f"the request body is larger than {self.limit:,} bytes", code="too-large")
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = problem_response(
            None,
            413,
            f"the request body is larger than {self.limit:,} bytes",
            code="too-large",
            instance=scope.get("path"),
        )
        await response(scope, None, send)  # type: ignore[arg-type]
