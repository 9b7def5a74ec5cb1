"""The API process drains the search outbox into Elasticsearch in the background, when one
is configured (and ``BIOMATDB_ELASTICSEARCH_SYNC_IN_API`` is on): every write to the core (an
upload job, a retraction) records its materials in ``search_outbox`` in the same transaction,
and this thread carries them to the index. While Elasticsearch is unreachable the rows wait and
the thread keeps trying, backing off; nothing is lost, and the core's writes never wait for the
index. The loop is ``biomatdb_search.backends.elastic_sync.Drainer``, the one ``biomatdb sync --watch``
runs: it never dies of what a round raises."""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from biomatdb_search.backends.elastic_sync import Drainer


class OutboxDrainer(Drainer):
    """A ``Drainer`` on a daemon thread of its own."""

    def __init__(
        self,
        engine: Engine,
        client,
        alias: str,
        *,
        interval_s: float = 2.0,
        max_backoff_s: float = 60.0,
        stale_after_s: float = 6 * 3600.0,
        bulk_backoff_s: float = 1.0,
    ) -> None:
        super().__init__(
            engine,
            client,
            alias,
            interval_s=interval_s,
            max_backoff_s=max_backoff_s,
            stale_after_s=stale_after_s,
            bulk_backoff_s=bulk_backoff_s,
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, args=(self._stop,), name="biomatdb-outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
