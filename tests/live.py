"""A real HTTP server for tests that need a socket: the app served by uvicorn, with the same
options as ``biomatdb serve`` (``biomatdb_api.server``), in a thread of the test process."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import pytest

from tests.postgres import free_port

__all__ = ["free_port", "serving"]


@contextlib.contextmanager
def serving(app, *, name: str = "test-server", **options) -> Iterator[int]:
    """Serve ``app`` on a free 127.0.0.1 port until the block ends; yields the port."""
    import uvicorn

    from biomatdb_api.server import uvicorn_options

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, **uvicorn_options(host="127.0.0.1", port=port, log_level="warning", **options))
    )
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 600  # a bound on a hang; a loaded machine is slow
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"{name} did not start")
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)
