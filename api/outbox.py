"""The API process drains the search outbox into Elasticsearch in the background, when one
is configured: every write to the core (an upload job, a retraction) records its materials
in ``search_outbox`` in the same transaction, and this thread carries them to the index.
While Elasticsearch is unreachable the rows wait and the thread keeps trying; nothing is
lost, and the core's writes never wait for the index."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

log = logging.getLogger("biomatdb.outbox")


class OutboxDrainer:
    def __init__(self, engine: Engine, client, alias: str, *, interval_s: float = 2.0) -> None:
        self.engine = engine
        self.client = client
        self.alias = alias
        self.interval_s = interval_s
        self.drained = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="biomatdb-outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def drain_once(self) -> int:
        """One sync; returns the outbox rows drained (0 while Elasticsearch is away)."""
        from biomatdb.errors import SearchUnavailable
        from search.backends.elastic import sync

        try:
            report = sync(self.engine, self.client, self.alias)
        except SearchUnavailable as exc:
            if self.last_error != exc.message:
                log.warning("search outbox waits: %s", exc.message)
            self.last_error = exc.message
            return 0
        self.last_error = None
        self.drained += report.outbox_rows
        return report.outbox_rows

    def _run(self) -> None:
        while not self._stop.is_set():
            self.drain_once()
            self._stop.wait(self.interval_s)
