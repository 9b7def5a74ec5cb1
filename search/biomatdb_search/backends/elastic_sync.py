"""Writing the search index: a full reindex behind an alias swap, and incremental sync from the
core's ``search_outbox``. The core is the source of truth; the index is derived from it.

**Writes cannot go backwards.** Every document is written with ``version_type=external`` and,
as its version, the core's generation (``biomatdb.db.core_generation``) read in the same
snapshot as the document, under the core's epoch (PostgreSQL's timeline) in the high bits
(``biomatdb.search_version``), so that a promoted standby's writes are newer than the old
primary's. Every change to the core's materials moves the generation on in its
own transaction, under the one row's lock, so generations are in commit order: a document read
at a higher generation holds every change one read at a lower one holds. Elasticsearch keeps
the highest version, so two drainers, or a sync and a reindex, can race in any order and the
index ends at the newest state; a 409 (version conflict) means "already as new or newer" and
counts as done. (A core restored from a backup goes back in generations: reindex after it. A
deletion's version is remembered for ``index.gc_deletes``, set to an hour: a drainer that stalls
longer than that between reading a document and writing it could bring back one deleted meanwhile.)

**Outbox rows are claimed**, on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` in a transaction
held while their documents are written, so that drainers share the outbox without waiting for
one another; on SQLite, one writer at a time, two drainers may send the same rows, which the
versions make harmless. Rows are deleted once their documents are done, each at the change
count it was claimed with (one row per material, ``biomatdb.outbox``).

**Failures are triaged, never blocking** (``OUTCOMES``): 429 and 5xx, for a whole request or
one document, are retried with backoff; what still fails keeps its outbox rows for the next
round, and so does one refused for the cluster's own state (``OPERATIONAL_ERRORS``: a write
block, a closed index, a circuit breaker), whatever its status. A document Elasticsearch
refuses for itself (another 4xx) goes to ``search_dead_letters``, and the rest moves on; a
reindex skips such documents and reports them. Bulk requests are bounded in bytes
(``BULK_MAX_BYTES``) as well as in documents; one refused as too large (413) is split in halves
down to one document, and a document too large alone is a dead letter.
``Drainer`` runs sync in a loop that never dies.

**A reindex and a sync never lose a write to each other.** While a reindex builds, its index
carries the alias ``<alias>-reindexing`` and sync defers. Sync writes through the alias
(``require_alias``, so that nothing auto-creates an index), and keeps its rows when the alias
moved while it wrote (a swap that landed meanwhile): they are replayed into the new index. A
marker a killed reindex left is removed by the next sync once its heartbeat (refreshed in the
index's ``_meta`` every ``HEARTBEAT_EVERY_S``) is older than ``HEARTBEAT_STALE_S``, or it is older
than ``BIOMATDB_ELASTICSEARCH_REINDEX_STALE_SECONDS``, or at once when its process is known dead.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from elasticsearch import ApiError, Elasticsearch, NotFoundError
from elasticsearch.helpers import streaming_bulk
from sqlalchemy import Connection, Engine, delete, func, insert, select, tuple_

from biomatdb.db import core_generation, read_snapshot
from biomatdb.errors import SearchUnavailable
from biomatdb.models import SearchDeadLetter, SearchOutbox
from biomatdb.outbox import record_changed_rows
from biomatdb.search_version import search_version
from biomatdb_search.backends.elastic import OPERATIONAL_ERRORS, documents_from_core, guard, reindexing_alias
from biomatdb_search.backends.elastic_translate import index_mapping, index_settings

log = logging.getLogger(__name__)

DOCUMENT_BATCH = 500

#: statuses retried, for a whole bulk request or one document in it, with doubling backoff
RETRIED = (429, 500, 502, 503, 504)

#: A bulk item's outcome: ``done`` (written, or nothing to do), ``stale`` (a version conflict: the
#: index already holds this or a newer state), ``retry`` (try again later, rows kept), ``refused``
#: (this document is bad: a dead letter). Looked up by (operation, status), then by the error's
#: type (``OPERATIONAL_ERRORS``: Elasticsearch's own state, such as a write block, is retried
#: whatever its status), then by status class.
Outcome = Literal["done", "stale", "retry", "refused"]
OUTCOMES: dict[tuple[str, int], Outcome] = {
    ("delete", 404): "done",  # nothing to delete
    ("index", 404): "retry",  # the index went away under the alias: not the document's fault
    ("index", 409): "stale",
    ("delete", 409): "stale",
}

REASON_MAX = 2_000

#: Most bytes of one bulk request: Elasticsearch refuses a request over ``http.max_content_length``
#: (100 MB by default) with a 413, and advises requests of a few MB to a few tens. A document
#: larger than this goes alone; one a node still refuses as too large (413) is a dead letter.
BULK_MAX_BYTES = 16 * 1024 * 1024


def outcome(operation: str, status: int, error_type: str | None = None) -> Outcome:
    """What one bulk item's status (and error type) means (``OUTCOMES``)."""
    if (operation, status) in OUTCOMES:
        return OUTCOMES[(operation, status)]
    if 200 <= status < 300:
        return "done"
    if status in RETRIED or status >= 500 or error_type in OPERATIONAL_ERRORS:
        return "retry"
    return "refused"


@dataclass(frozen=True)
class Refusal:
    """A document Elasticsearch refused for itself."""

    material_id: int
    operation: str
    status: int
    error_type: str
    reason: str


@dataclass
class BulkOutcome:
    """Per material id: what happened to its write."""

    done: set[int] = field(default_factory=set)
    stale: set[int] = field(default_factory=set)
    retry: set[int] = field(default_factory=set)
    refused: list[Refusal] = field(default_factory=list)


def versioned_actions(
    documents: Iterable[dict[str, Any]], index: str, version: int, deleted: Iterable[int] = ()
) -> Iterator[dict[str, Any]]:
    """Bulk actions writing these documents (and deleting these material ids) at ``version``."""
    for document in documents:
        yield {
            "_op_type": "index",
            "_index": index,
            "_id": str(document["material_id"]),
            "version": version,
            "version_type": "external",
            "_source": document,
        }
    for material_id in deleted:
        yield {
            "_op_type": "delete",
            "_index": index,
            "_id": str(material_id),
            "version": version,
            "version_type": "external",
        }


def _error_type(error: Any) -> str | None:
    return str(error.get("type")) if isinstance(error, dict) and error.get("type") else None


def _refusal(material_id: int, operation: str, item: dict[str, Any]) -> Refusal:
    error = item.get("error")
    if isinstance(error, dict):
        error_type, reason = str(error.get("type")), str(error.get("reason"))
        caused = error.get("caused_by")
        if isinstance(caused, dict):
            reason += f" (caused by {caused.get('type')}: {caused.get('reason')})"
    else:
        error_type, reason = "unknown", str(error)
    return Refusal(material_id, operation, int(item.get("status", 0)), error_type[:200], reason[:REASON_MAX])


@dataclass
class _Sized:
    """One bulk action with its document already serialised, and the bytes it adds to a request."""

    action: dict[str, Any]
    size: int

    @property
    def material_id(self) -> int:
        return int(self.action["_id"])


def _sized(client: Elasticsearch, actions: Iterable[dict[str, Any]]) -> Iterator[_Sized]:
    """Each action with its ``_source`` serialised once, by the client's own serializer (the bulk
    helper sends bytes as they are), so that its size is known before it is sent."""
    serializer = client.transport.serializers.get_serializer("application/json")
    for given in actions:
        action = dict(given)
        size = 200  # the action line, about
        if "_source" in action and not isinstance(action["_source"], bytes):
            action["_source"] = serializer.dumps(action["_source"])
        if isinstance(action.get("_source"), bytes):
            size += len(action["_source"]) + 1
        yield _Sized(action, size)


def _chunks(actions: Iterable[_Sized], chunk_size: int, max_bytes: int) -> Iterator[list[_Sized]]:
    """Runs of at most ``chunk_size`` actions and ``max_bytes`` bytes (an action larger than that alone)."""
    chunk: list[_Sized] = []
    size = 0
    for action in actions:
        if chunk and (len(chunk) >= chunk_size or size + action.size > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(action)
        size += action.size
    if chunk:
        yield chunk


def _too_large(action: _Sized) -> Refusal:
    operation = str(action.action.get("_op_type", "index"))
    return Refusal(
        action.material_id,
        operation,
        413,
        "request_entity_too_large",
        f"the document is {action.size:,} bytes; Elasticsearch refused a bulk request holding it alone as too "
        "large (http.max_content_length). Split the material or shorten its longest texts.",
    )


def write_bulk(
    client: Elasticsearch,
    actions: Iterable[dict[str, Any]],
    *,
    doing: str,
    chunk_size: int = DOCUMENT_BATCH,
    max_bytes: int = BULK_MAX_BYTES,
    retries: int = 3,
    backoff_s: float = 1.0,
    **bulk: Any,
) -> BulkOutcome:
    """Send every action, in requests of at most ``chunk_size`` actions and ``max_bytes`` bytes,
    and triage each answer (``outcome``). 429 and 5xx, of the whole request or of one document,
    are retried ``retries`` times with backoff from ``backoff_s``, doubling; a whole request that
    still fails raises ``SearchUnavailable`` (as does a lost connection), since what it wrote is
    unknown; a document that still fails is in ``retry``. A request refused as too large (413) is
    split in halves and sent again, down to one document, which is then ``refused``."""
    result = BulkOutcome()
    for chunk in _chunks(_sized(client, actions), chunk_size, max_bytes):
        _send(client, chunk, result, doing=doing, retries=retries, backoff_s=backoff_s, **bulk)
    return result


def _send(
    client: Elasticsearch,
    chunk: list[_Sized],
    result: BulkOutcome,
    *,
    doing: str,
    retries: int,
    backoff_s: float,
    **bulk: Any,
) -> None:
    with guard(doing):
        try:
            answers = list(
                streaming_bulk(
                    client,
                    [action.action for action in chunk],
                    chunk_size=len(chunk),
                    max_chunk_bytes=sum(action.size for action in chunk) * 2 + 1024,  # one request: ours
                    raise_on_error=False,
                    max_retries=retries,
                    initial_backoff=backoff_s,
                    retry_on_status=RETRIED,
                    **bulk,
                )
            )
        except ApiError as exc:
            if exc.meta.status != 413:
                raise
            answers = None
    if answers is None:  # too large: halve it, and a lone document too large is the document's fault
        if len(chunk) == 1:
            result.refused.append(_too_large(chunk[0]))
            return
        middle = len(chunk) // 2
        for half in (chunk[:middle], chunk[middle:]):
            _send(client, half, result, doing=doing, retries=retries, backoff_s=backoff_s, **bulk)
        return
    for ok, item in answers:
        operation, answer = next(iter(item.items()))
        material_id = int(answer["_id"])
        status = int(answer.get("status", 200 if ok else 500))
        found = outcome(operation, status, _error_type(answer.get("error")))
        if found == "refused":
            result.refused.append(_refusal(material_id, operation, answer))
        else:
            getattr(result, found).add(material_id)


# --- dead letters -------------------------------------------------------------------------


def record_dead_letters(connection: Connection, refusals: Iterable[Refusal], public_ids: dict[int, str | None]) -> None:
    """Record refused documents, one row each (a material's earlier ones replaced)."""
    rows = [
        {
            "material_id": refusal.material_id,
            "public_id": public_ids.get(refusal.material_id),
            "operation": refusal.operation,
            "status": refusal.status,
            "error_type": refusal.error_type,
            "reason": refusal.reason,
            "created_at": datetime.now(UTC),
        }
        for refusal in refusals
    ]
    if not rows:
        return
    connection.execute(
        delete(SearchDeadLetter).where(SearchDeadLetter.material_id.in_([row["material_id"] for row in rows]))
    )
    connection.execute(insert(SearchDeadLetter), rows)
    for refusal in refusals:
        log.warning(
            "Elasticsearch refused the document of material %s (%s %s: %s); set aside as a dead letter",
            public_ids.get(refusal.material_id) or refusal.material_id,
            refusal.status,
            refusal.error_type,
            refusal.reason,
        )


def retry_dead_letters(engine: Engine) -> int:
    """Put every dead letter's material back into the outbox (after a fix to the mapping or the
    data); returns how many."""
    with engine.begin() as connection:
        rows = connection.execute(select(SearchDeadLetter.material_id, SearchDeadLetter.public_id)).all()
        if rows:
            record_changed_rows(connection, [(r.material_id, r.public_id) for r in rows])
            connection.execute(delete(SearchDeadLetter))
    return len(rows)


# --- reindex -----------------------------------------------------------------------------


@dataclass
class ReindexReport:
    index: str
    documents: int
    removed_indices: list[str] = field(default_factory=list)
    skipped: list[Refusal] = field(default_factory=list)
    seconds: float = 0.0
    #: outbox rows the reindex's snapshot already held, removed after the swap
    outbox_pruned: int = 0


#: outbox rows removed per statement after a reindex
PRUNE_BATCH = 10_000


def new_index_name(alias: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{alias}-{now:%Y%m%d%H%M%S%f}"


def replicas_for(client: Elasticsearch, wanted: int | None) -> int:
    """``wanted``, or when unset 0 on a cluster of one data node and 1 on more."""
    if wanted is not None:
        return wanted
    with guard("reading the cluster's health"):
        nodes = int(client.cluster.health().body.get("number_of_data_nodes", 1))
    return 0 if nodes <= 1 else 1


#: How often a reindex refreshes the heartbeat in its index's ``_meta``, and how long a marker
#: may go without one before the next sync takes it for a killed reindex's (on any host: the
#: host-and-pid check only works on the reindex's own host, and a compose reindex runs in a
#: container of its own).
HEARTBEAT_EVERY_S = 30.0
HEARTBEAT_STALE_S = 300.0


def _owner() -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": now, "heartbeat": now}


@contextmanager
def _heartbeat(client: Elasticsearch, index: str, owner: dict[str, Any], every_s: float) -> Iterator[None]:
    """Refresh ``owner``'s heartbeat in ``index``'s ``_meta`` every ``every_s`` while the block runs;
    a failed refresh is logged, never raised (the build goes on; at worst a sync defers no more)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            try:
                meta = {"reindex": {**owner, "heartbeat": datetime.now(UTC).isoformat()}}
                client.indices.put_mapping(index=index, meta=meta)
            except Exception:
                log.warning("could not refresh the heartbeat of %s", index, exc_info=True)

    thread = threading.Thread(target=beat, name="biomatdb-reindex-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def _update_aliases(client: Elasticsearch, actions: list[dict[str, Any]], doing: str) -> None:
    """One atomic ``_aliases`` call; a 200 that says ``errors: true`` (Elasticsearch 8.14 and
    later, for an action that did nothing) is refused as a failure."""
    with guard(doing):
        response = client.indices.update_aliases(actions=actions)
    if response.body.get("errors"):
        failed = [r for r in response.body.get("action_results", []) if r.get("status", 200) >= 300]
        raise SearchUnavailable(
            f"Elasticsearch did not apply every alias action while {doing}: {failed[:2]}", type="search-alias-conflict"
        )


def reindex(
    engine: Engine,
    client: Elasticsearch,
    alias: str,
    *,
    chunk_size: int = DOCUMENT_BATCH,
    retire_after_s: float = 2.0,
    shards: int = 1,
    replicas: int | None = None,
    retries: int = 3,
    backoff_s: float = 1.0,
    heartbeat_s: float = HEARTBEAT_EVERY_S,
) -> ReindexReport:
    """Build a fresh index from one snapshot of the core and swap ``alias`` to it atomically;
    delete the old index (or indices) behind the alias ``retire_after_s`` later, so that searches
    that resolved the alias before the swap finish on it. Searches never fail meanwhile.

    The index is built with no replicas and no refreshes, then given its replicas and the default
    refresh interval before the swap. A document Elasticsearch refuses is skipped, reported in
    ``skipped`` and recorded as a dead letter; one that keeps failing for want of capacity fails
    the reindex, which then deletes its index. The swap removes the alias from the indices it
    was on with ``must_exist``: of two overlapping reindexes, the second to swap fails and
    removes its index rather than leave the alias on two. Refuses when ``alias`` names a
    concrete index. Removes the ``search_outbox`` rows its snapshot saw (the index holds their
    changes), so that an outbox that grew while no index was kept (no Elasticsearch configured)
    ends with the first reindex; a sync after the swap replays the changes committed meanwhile
    (their versions are newer)."""
    started = time.perf_counter()
    index = new_index_name(alias)
    copies = replicas_for(client, replicas)
    with guard("preparing a reindex"):
        if client.indices.exists(index=alias) and not client.indices.exists_alias(name=alias):
            raise SearchUnavailable(
                f"{alias!r} is an index, not an alias; remove it or choose another BIOMATDB_ELASTICSEARCH_INDEX",
                type="search-index-conflict",
            )
        building = {**index_settings(shards=shards, replicas=0), "refresh_interval": "-1"}
        owner = _owner()
        client.indices.create(
            index=index,
            mappings={**index_mapping(), "_meta": {"reindex": owner}},
            settings=building,
            aliases={reindexing_alias(alias): {}},
        )
    skipped: list[Refusal] = []
    try:
        with _heartbeat(client, index, owner, heartbeat_s), engine.connect() as connection:
            read_snapshot(connection)
            version = search_version(connection, core_generation(connection))
            # the outbox rows this snapshot sees: their changes committed before it, so the new
            # index holds them; they are removed once it is swapped in (a change committed later,
            # whatever its row's id, is not among them and is replayed by sync)
            # (at the change count it read: a change coalesced into a row later keeps the row)
            covered = [
                (row.id, row.changes) for row in connection.execute(select(SearchOutbox.id, SearchOutbox.changes))
            ]
            written = write_bulk(
                client,
                versioned_actions(documents_from_core(connection, batch=chunk_size), index, version),
                doing=f"loading {index}",
                chunk_size=chunk_size,
                retries=retries,
                backoff_s=backoff_s,
            )
        if written.retry:
            raise SearchUnavailable(
                f"Elasticsearch kept refusing {len(written.retry):,} documents for want of capacity while "
                f"loading {index}; the reindex is abandoned",
            )
        skipped = written.refused
        with guard(f"making {index} searchable"):
            client.indices.put_settings(index=index, settings={"number_of_replicas": copies, "refresh_interval": None})
            client.indices.refresh(index=index)
            old = _indices_behind(client, alias)
        actions: list[dict[str, Any]] = [
            {"remove": {"index": name, "alias": alias, "must_exist": True}} for name in old
        ]
        actions.append({"add": {"index": index, "alias": alias}})
        actions.append({"remove": {"index": index, "alias": reindexing_alias(alias), "must_exist": True}})
        _update_aliases(client, actions, f"swapping {alias} to {index}")
    except BaseException:
        try:
            client.indices.delete(index=index)
        except Exception:  # the first failure is the one to report
            log.warning("could not delete the half-built index %s", index, exc_info=True)
        raise
    with engine.begin() as connection:
        if skipped:
            record_dead_letters(connection, skipped, {})
        for start in range(0, len(covered), PRUNE_BATCH):
            connection.execute(_delete_claimed(covered[start : start + PRUNE_BATCH]))
    if old:
        time.sleep(retire_after_s)
    with guard(f"deleting the indices {alias} left"):
        for name in old:
            client.indices.delete(index=name)
    documents = len(written.done) + len(written.stale)
    return ReindexReport(
        index=index,
        documents=documents,
        removed_indices=old,
        skipped=skipped,
        seconds=time.perf_counter() - started,
        outbox_pruned=len(covered),
    )


def _indices_behind(client: Elasticsearch, alias: str) -> list[str]:
    try:
        return sorted(client.indices.get_alias(name=alias).body)
    except NotFoundError:
        return []


# --- a reindex in progress, or one a killed process left -----------------------------------


def _process_dead(owner: dict[str, Any]) -> bool:
    """Whether the reindex that wrote ``owner`` is known to be dead: same host, its pid gone."""
    if owner.get("host") != socket.gethostname() or not isinstance(owner.get("pid"), int):
        return False
    if owner["pid"] == os.getpid():
        return False
    try:
        os.kill(owner["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


@dataclass(frozen=True)
class Building:
    """An index a reindex is building (it carries the marker alias)."""

    index: str
    age_s: float
    owner: dict[str, Any]
    #: seconds since its reindex last refreshed its heartbeat; None for a marker without one
    heartbeat_age_s: float | None = None


def reindexes_building(client: Elasticsearch, alias: str) -> list[Building]:
    """The indices that carry ``alias``'s marker, with their age and the reindex that made them."""
    with guard("checking for a reindex"):
        holders = _indices_behind(client, reindexing_alias(alias))
        if not holders:
            return []
        described = client.indices.get(index=",".join(holders)).body
    now_ms = time.time() * 1000
    found = []
    for name in holders:
        about = described.get(name, {})
        created = int(about.get("settings", {}).get("index", {}).get("creation_date", now_ms))
        owner = about.get("mappings", {}).get("_meta", {}).get("reindex", {})
        beat = None
        with suppress(KeyError, TypeError, ValueError):
            beat = max(0.0, now_ms / 1000 - datetime.fromisoformat(owner["heartbeat"]).timestamp())
        found.append(Building(name, max(0.0, (now_ms - created) / 1000), owner, beat))
    return found


def _reindex_running(client: Elasticsearch, alias: str, stale_after_s: float) -> bool:
    """Whether a live reindex is building; removes what a killed one left (never an index the
    alias itself is on)."""
    running = False
    for building in reindexes_building(client, alias):
        silent = building.heartbeat_age_s is not None and building.heartbeat_age_s > HEARTBEAT_STALE_S
        abandoned = building.age_s > stale_after_s or silent or _process_dead(building.owner)
        if not abandoned or building.index in _indices_behind(client, alias):
            running = True
            continue
        log.warning(
            "removing %s, which a reindex left %.0f s ago (%s) and no process is building",
            building.index,
            building.age_s,
            building.owner or "no owner recorded",
        )
        with guard(f"removing the abandoned index {building.index}"), suppress(NotFoundError):
            client.indices.delete(index=building.index)  # NotFound: another drainer removed it first
    return running


# --- sync --------------------------------------------------------------------------------


@dataclass
class SyncReport:
    """What a sync did: outbox rows drained, documents written and deleted, documents already
    newer in the index (``stale``), set aside as dead letters (``refused``) or left for a later
    round (``pending``); ``deferred`` when a reindex was building or the alias moved (the outbox
    is then left for the next sync)."""

    outbox_rows: int = 0
    upserted: int = 0
    deleted: int = 0
    stale: int = 0
    refused: int = 0
    pending: int = 0
    batches: int = 0
    deferred: bool = False


def _delete_claimed(rows: list[tuple[int, int]]):
    """Delete these outbox rows, each only while it still holds the changes it was read with: a
    change coalesced into it meanwhile (``biomatdb.outbox``) is newer than the document written."""
    return delete(SearchOutbox).where(tuple_(SearchOutbox.id, SearchOutbox.changes).in_(rows))


@contextmanager
def _claimed(engine: Engine, batch: int) -> Iterator[tuple[Connection, list[Any]]]:
    """The oldest ``batch`` outbox rows, claimed on a connection in a transaction that commits when
    the block ends (on PostgreSQL locked ``FOR UPDATE SKIP LOCKED``: another drainer takes the
    next rows; a drainer that dies releases its claim)."""
    with engine.connect() as connection, connection.begin():
        claim = (
            select(SearchOutbox.id, SearchOutbox.material_id, SearchOutbox.public_id, SearchOutbox.changes)
            .order_by(SearchOutbox.id)
            .limit(batch)
        )
        if connection.dialect.name == "postgresql":
            claim = claim.with_for_update(skip_locked=True)
        yield connection, list(connection.execute(claim))


def sync(
    engine: Engine,
    client: Elasticsearch,
    alias: str,
    batch: int = DOCUMENT_BATCH,
    *,
    retries: int = 3,
    backoff_s: float = 1.0,
    stale_after_s: float = 6 * 3600.0,
) -> SyncReport:
    """Drain ``search_outbox`` in id order into ``alias``: write the documents of materials that
    exist, delete those of materials that do not, each at the generation it was read at. A row is
    deleted when its document is done, already newer in the index, or refused (a dead letter);
    one whose write failed for want of capacity stays, and the sync stops after that batch.
    Raises ``SearchUnavailable`` (outbox intact) when Elasticsearch cannot be reached or has no
    ``alias`` yet (``search-index-missing``: run ``biomatdb reindex`` first)."""
    report = SyncReport()
    with guard("checking the search index"):
        if not _indices_behind(client, alias):
            raise SearchUnavailable(
                f"there is no Elasticsearch alias {alias!r}; run `biomatdb reindex` first", type="search-index-missing"
            )
    while True:
        if _reindex_running(client, alias, stale_after_s):
            report.deferred = True
            return report
        with guard("resolving the alias"):
            before = _indices_behind(client, alias)
        with _claimed(engine, batch) as (claim, rows):
            if not rows:
                return report
            wanted = sorted({row.material_id for row in rows})
            with engine.connect() as reading:
                read_snapshot(reading)
                version = search_version(reading, core_generation(reading))
                documents = list(documents_from_core(reading, wanted))
            present = {document["material_id"] for document in documents}
            gone = [material_id for material_id in wanted if material_id not in present]
            written = write_bulk(
                client,
                versioned_actions(documents, alias, version, gone),
                doing=f"syncing {len(rows)} outbox rows into {alias}",
                chunk_size=batch,
                retries=retries,
                backoff_s=backoff_s,
                require_alias=True,
            )
            with guard("checking for a reindex"):
                moved = _indices_behind(client, alias) != before
            if moved or _reindex_running(client, alias, stale_after_s):
                # a swap landed, or a reindex began, while these were written: the new index may not
                # have them; the rows stay and are replayed into it
                report.deferred = True
                return report
            refused = {refusal.material_id for refusal in written.refused}
            settled = written.done | written.stale | refused
            finished = [(row.id, row.changes) for row in rows if row.material_id in settled]
            public_ids = {row.material_id: row.public_id for row in rows}
            claim.execute(_delete_claimed(finished))
            cleared = sorted(written.done | written.stale)
            if cleared:
                claim.execute(delete(SearchDeadLetter).where(SearchDeadLetter.material_id.in_(cleared)))
            record_dead_letters(claim, written.refused, public_ids)
        report.outbox_rows += len(finished)
        report.upserted += len(written.done & present)
        report.deleted += len(written.done - present)
        report.stale += len(written.stale)
        report.refused += len(refused)
        report.pending += len(written.retry)
        report.batches += 1
        if written.retry:
            return report


# --- status --------------------------------------------------------------------------------


@dataclass
class SyncStatus:
    """How far the index is behind the core: what ``biomatdb sync --status`` prints and ``/ready`` warns of."""

    outbox_rows: int
    oldest_wait_s: float | None
    dead_letters: list[dict[str, Any]]
    dead_letter_count: int
    building: list[Building] = field(default_factory=list)
    #: why the indices being built could not be listed (Elasticsearch away); the rest is the core's
    elasticsearch_error: str | None = None

    def warnings(self, warn_after_s: float) -> list[str]:
        found = []
        if self.oldest_wait_s is not None and self.oldest_wait_s > warn_after_s:
            reason = "a reindex is building" if self.building else "Elasticsearch is away or sync is not running"
            found.append(
                f"search is behind the core: {self.outbox_rows:,} changes wait, the oldest for "
                f"{self.oldest_wait_s:,.0f} s (more than BIOMATDB_ELASTICSEARCH_SYNC_WARN_SECONDS); {reason}"
            )
        if self.dead_letter_count:
            found.append(
                f"{self.dead_letter_count:,} search documents were refused by Elasticsearch and set aside "
                "(see `biomatdb sync --status`); a material whose earlier document the index holds is "
                "searched in that older state until its document is accepted"
            )
        return found


def sync_status(engine: Engine, client: Elasticsearch | None, alias: str, *, shown: int = 20) -> SyncStatus:
    """The outbox's length and oldest wait, the dead letters (the first ``shown``) and, with a
    client, the indices a reindex is building; with Elasticsearch away, the core's part and
    ``elasticsearch_error``, never an exception."""
    with engine.connect() as connection:
        count, oldest = connection.execute(select(func.count(), func.min(SearchOutbox.created_at))).one()
        dead_count = connection.execute(select(func.count()).select_from(SearchDeadLetter)).scalar_one()
        dead = [
            dict(row)
            for row in connection.execute(
                select(
                    SearchDeadLetter.public_id,
                    SearchDeadLetter.material_id,
                    SearchDeadLetter.status,
                    SearchDeadLetter.error_type,
                    SearchDeadLetter.reason,
                    SearchDeadLetter.created_at,
                )
                .order_by(SearchDeadLetter.id)
                .limit(shown)
            ).mappings()
        ]
    wait = None
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)  # SQLite keeps no zone
        wait = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
    building: list[Building] = []
    error = None
    if client is not None:
        try:
            building = reindexes_building(client, alias)
        except SearchUnavailable as exc:  # what the core knows is still worth telling
            error = exc.message
    return SyncStatus(count, wait, dead, dead_count, building, error)


# --- the drainer loop ----------------------------------------------------------------------


class Drainer:
    """Runs ``sync`` round after round and never dies of it: whatever a round raises (Elasticsearch
    away, a database error, a bug) is logged once per distinct message, and the next round waits
    twice as long, up to ``max_backoff_s``; a round that drains resets the wait to ``interval_s``."""

    def __init__(
        self,
        engine: Engine,
        client: Elasticsearch,
        alias: str,
        *,
        interval_s: float = 2.0,
        max_backoff_s: float = 60.0,
        batch: int = DOCUMENT_BATCH,
        stale_after_s: float = 6 * 3600.0,
        bulk_backoff_s: float = 1.0,
        on_report: Callable[[SyncReport], None] | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        self.alias = alias
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self.batch = batch
        self.stale_after_s = stale_after_s
        self.bulk_backoff_s = bulk_backoff_s  # the first wait before a rejected bulk request is sent again
        self.on_report = on_report
        self.drained = 0
        self.failures = 0
        self.last_error: str | None = None

    def drain_once(self) -> int:
        """One sync; returns the outbox rows drained (0 when it failed)."""
        try:
            report = sync(
                self.engine,
                self.client,
                self.alias,
                self.batch,
                stale_after_s=self.stale_after_s,
                backoff_s=self.bulk_backoff_s,
            )
        except SearchUnavailable as exc:
            self._failed(exc.message)
            return 0
        except Exception as exc:  # a database error or a bug: logged, and the thread goes on
            self._failed(f"{type(exc).__name__}: {exc}", exc)
            return 0
        if self.on_report is not None:
            self.on_report(report)
        if report.pending:
            self._failed(f"{report.pending:,} documents wait for Elasticsearch to have capacity")
        else:
            self.failures = 0
            self.last_error = None
        self.drained += report.outbox_rows
        return report.outbox_rows

    def _failed(self, message: str, exc: BaseException | None = None) -> None:
        if message != self.last_error:
            log.warning("search outbox waits: %s", message, exc_info=exc)
        self.last_error = message
        self.failures += 1

    def delay_s(self) -> float:
        """How long to wait before the next round."""
        if not self.failures:
            return self.interval_s
        return min(self.max_backoff_s, self.interval_s * 2 ** min(self.failures, 30))

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.drain_once()
            stop.wait(self.delay_s())
