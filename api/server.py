"""How the HTTP server runs the app: one set of uvicorn options for ``biomatdb serve``,
``biomatdb demo`` and the tests, so that each reads requests the same way.

- Request heads (request line and headers) up to ``api.params.REQUEST_HEAD_MAX_BYTES``
  are read, so that a query string within the API's limits is answered (414 beyond them)
  instead of the connection being dropped by h11's default of 16 KiB.
- An idle keep-alive connection is closed after ``KEEP_ALIVE_SECONDS``.
"""

from __future__ import annotations

from typing import Any

from api import params

KEEP_ALIVE_SECONDS = 5


def uvicorn_options(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config`` or ``uvicorn.run``; ``overrides`` win."""
    return {"h11_max_incomplete_event_size": params.REQUEST_HEAD_MAX_BYTES,
            "timeout_keep_alive": KEEP_ALIVE_SECONDS, **overrides}
