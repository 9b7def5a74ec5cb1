"""The Elasticsearch backend: search through an alias, full reindex behind an alias swap,
and incremental sync from the core's ``search_outbox``.

The core is the source of truth; the index is derived from it. ``reindex`` builds a fresh
index ``<alias>-<UTC timestamp>`` and swaps the alias to it in one ``update_aliases`` call,
so searches never see a missing or half-built index. ``sync`` drains ``search_outbox`` (one
row per changed material, written in the same transaction as the change) in id order and
deletes the drained rows only after Elasticsearch accepted every write: when Elasticsearch
is down, ``sync`` raises ``SearchUnavailable`` and the outbox keeps every row.

A reindex and a sync never interleave their writes unsafely: while a reindex is building, its
index carries the alias ``<alias>-reindexing`` and ``sync`` leaves the outbox untouched (it
reports ``deferred``); the next sync after the swap replays whatever changed meanwhile. A
reindex that fails removes the index it was building.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError, ConnectionTimeout
from elasticsearch import ApiError, Elasticsearch, NotFoundError
from elasticsearch.helpers import streaming_bulk
from sqlalchemy import Connection, Engine, delete, select

from biomatdb.db import read_snapshot
from biomatdb.errors import SearchUnavailable
from biomatdb.models import (
    BiologicalEvaluation,
    ChemicalStructure,
    Dataset,
    Material,
    MaterialElement,
    MaterialElementBasis,
    Measurement,
    SearchOutbox,
    Source,
)
from biomatdb.searchtext import names_and_applications
from search.backends.elastic_translate import (
    index_mapping,
    index_settings,
    material_document,
    parse_response,
    query_body,
    similarity_scores,
)
from search.backends.sql_derived import derived_exists, derived_sort_value, derived_values
from search.conditions import check_condition_values
from search.derived import resolve_sort, sort_index
from search.model import (
    And,
    DerivedFilter,
    Filter,
    Not,
    Or,
    Query,
    SearchResult,
    Similarity,
    Substructure,
    decode_cursor,
)

log = logging.getLogger(__name__)

Chemistry = Callable[[Substructure | Similarity], dict[int, float]]

DOCUMENT_BATCH = 500


def reindexing_alias(alias: str) -> str:
    """The marker alias an index carries while a reindex builds it."""
    return f"{alias}-reindexing"


@contextmanager
def _guard(doing: str) -> Iterator[None]:
    """Turns the client's connection failures and 5xx answers into ``SearchUnavailable``."""
    try:
        yield
    except (TransportConnectionError, ConnectionTimeout) as exc:
        raise SearchUnavailable(f"Elasticsearch is unavailable while {doing}: {exc}") from exc
    except ApiError as exc:
        if exc.meta.status >= 500:
            raise SearchUnavailable(f"Elasticsearch is unavailable while {doing}: {exc}") from exc
        raise


# --- search ------------------------------------------------------------------------------


def chemistry_nodes(node: Filter | None) -> list[Substructure | Similarity]:
    """Every chemistry node of a filter, in order, without repeats."""
    if node is None:
        return []
    if isinstance(node, (And, Or)):
        found = [n for item in node.items for n in chemistry_nodes(item)]
    elif isinstance(node, Not):
        found = chemistry_nodes(node.item)
    elif isinstance(node, (Substructure, Similarity)):
        found = [node]
    else:
        found = []
    return list(dict.fromkeys(found))


def derived_nodes(node: Filter | None) -> list[DerivedFilter]:
    """Every derived filter of a filter, in order, without repeats (under NOT too)."""
    if node is None:
        return []
    if isinstance(node, (And, Or)):
        found = [n for item in node.items for n in derived_nodes(item)]
    elif isinstance(node, Not):
        found = derived_nodes(node.item)
    else:
        found = [node] if isinstance(node, DerivedFilter) else []
    return list(dict.fromkeys(found))


class ElasticBackend:
    """Answers a ``Query`` from the Elasticsearch alias; chemistry through the in-process RDKit
    index (``chemistry``, by default a ``search.chemistry.ChemistryIndex`` on ``engine``)."""

    def __init__(self, client: Elasticsearch, alias: str, engine: Engine, chemistry: Chemistry | None = None) -> None:
        self.client = client
        self.alias = alias
        self.engine = engine
        if chemistry is None:
            from search.chemistry import ChemistryIndex

            chemistry = ChemistryIndex(engine)
        self.chemistry = chemistry

    def _derived_from_core(
        self, query: Query
    ) -> tuple[dict[tuple[DerivedFilter, str], list[int]], dict[int, float] | None]:
        """Derived filters and sorts are answered by the core, as chemistry is by the RDKit index: the
        ids each derived filter finds (at the query's match, and ``certain`` for certain-first
        ranking), and a derived sort's key per material (``search.backends.sql_derived``)."""
        nodes = derived_nodes(query.filter)
        index = sort_index(query.sort.key) if query.sort is not None else None
        ids: dict[tuple[DerivedFilter, str], list[int]] = {}
        keys = None
        if not nodes and index is None:
            return ids, keys
        matches = {query.match}
        if query.text and query.match == "possible":
            matches.add("certain")
        with self.engine.connect() as connection:
            read_snapshot(connection)
            for node in nodes:
                for match in matches:
                    ids[(node, match)] = list(
                        connection.execute(select(Material.id).where(derived_exists(node, match))).scalars()
                    )
            if index is not None and query.sort is not None:
                value = derived_sort_value(index.terms, query.sort.descending).label("key")
                keys = {
                    material_id: key
                    for material_id, key in connection.execute(select(Material.id, value))
                    if key is not None
                }
        return ids, keys

    def search(self, query: Query) -> SearchResult:
        from search.spelling import respell

        typed = query  # a cursor is bound to the text as typed, as in the SQL backend
        query, spelling = respell(self.engine, query)  # from the core, as the SQL backend does
        with self.engine.connect() as connection:  # a condition value no one knows: refused as in SQL
            check_condition_values(query.filter, connection, self.engine)
        offset = decode_cursor(typed)
        query = query.model_copy(update={"sort": resolve_sort(query.sort)})
        chemistry_ids = {node: self.chemistry(node) for node in chemistry_nodes(query.filter)}
        derived_ids, derived_sort = self._derived_from_core(query)
        body = query_body(
            query, chemistry_ids=chemistry_ids, offset=offset, derived_ids=derived_ids, derived_sort=derived_sort
        )
        with _guard("searching"):
            response = self.client.search(index=self.alias, body=body)
        shards = response.body.get("_shards", {})
        if shards.get("failed"):
            # a partial answer would be quietly narrower than the question
            raise SearchUnavailable(
                f"{shards['failed']} of {shards.get('total')} Elasticsearch shards failed "
                f"to answer: {shards.get('failures', [])[:1]}"
            )
        result = parse_response(
            response.body, query, offset=offset, scores=similarity_scores(chemistry_ids), cursor_query=typed
        )
        if derived_ids:  # the derived values a hit shows, from the core, as the SQL backend shows them
            page_ids = [int(hit["_source"]["material_id"]) for hit in response.body["hits"]["hits"]]
            with self.engine.connect() as connection:
                derived = derived_values(connection, page_ids, query)
            hits = [
                hit.model_copy(update={"derived": derived.get(material_id, [])})
                for hit, material_id in zip(result.results, page_ids, strict=True)
            ]
            result = result.model_copy(update={"results": hits})
        return result.model_copy(update={"spelling": spelling}) if spelling else result


# --- documents from the core -------------------------------------------------------------


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def documents_from_core(
    connection: Connection, material_ids: Iterable[int] | None = None, *, batch: int = DOCUMENT_BATCH
) -> Iterator[dict[str, Any]]:
    """The search document of every material (or of these ids; missing ids yield nothing), in id
    order; eight queries per ``batch`` materials."""
    if material_ids is None:
        ids = list(connection.execute(select(Material.id).order_by(Material.id)).scalars())
    else:
        ids = sorted(set(material_ids))
    for chunk in _batches(ids, batch):
        yield from _documents(connection, chunk)


def _documents(connection: Connection, ids: list[int]) -> Iterator[dict[str, Any]]:
    synonyms, applications = names_and_applications(connection, ids)
    measurements = defaultdict(list)
    m = Measurement
    for row in connection.execute(
        select(
            m.id,
            m.material_id,
            m.property_key,
            m.qualifier,
            m.value,
            m.value_min,
            m.value_max,
            m.uncertainty,
            m.unit,
            m.temperature_K,
            m.medium,
            m.method,
            m.standard,
            m.specimen_state,
            m.verbatim_value,
            m.verbatim_unit,
            Dataset.name.label("dataset"),
            Source.doi.label("doi"),
            Source.citation.label("citation"),
        )
        .join(Dataset, Dataset.id == m.dataset_id)
        .outerjoin(Source, Source.id == m.source_id)
        .where(m.material_id.in_(ids))
        .order_by(m.id)
    ).mappings():
        measurements[row["material_id"]].append(row)
    evaluations = defaultdict(list)
    e = BiologicalEvaluation
    for row in connection.execute(
        select(
            *e.__table__.columns,
            Dataset.name.label("dataset"),
            Source.doi.label("doi"),
            Source.citation.label("citation"),
        )
        .join(Dataset, Dataset.id == e.dataset_id)
        .outerjoin(Source, Source.id == e.source_id)
        .where(e.material_id.in_(ids))
        .order_by(e.id)
    ).mappings():
        evaluations[row["material_id"]].append(row)
    elements = defaultdict(list)
    for row in connection.execute(
        select(MaterialElement.__table__).where(MaterialElement.material_id.in_(ids)).order_by(MaterialElement.id)
    ).mappings():
        elements[row["material_id"]].append(row)
    bases = defaultdict(list)
    for material_id, basis in connection.execute(
        select(MaterialElementBasis.material_id, MaterialElementBasis.basis).where(
            MaterialElementBasis.material_id.in_(ids)
        )
    ):
        bases[material_id].append(basis)
    materials = connection.execute(
        select(
            Material.id,
            Material.public_id,
            Material.name,
            Material.name_key,
            Material.material_class.label("class"),
            Material.subclass,
            Material.description,
            Material.biodegradable,
            Material.origin,
            Material.search_text,
            Material.search_name,
            Material.search_names,
            ChemicalStructure.fingerprint,
        )
        .outerjoin(ChemicalStructure, ChemicalStructure.id == Material.structure_id)
        .where(Material.id.in_(ids))
        .order_by(Material.id)
    ).mappings()
    for material in materials:
        yield material_document(
            material=material,
            synonyms=synonyms[material["id"]],
            applications=applications[material["id"]],
            measurements=measurements[material["id"]],
            fingerprint=material["fingerprint"],
            evaluations=evaluations[material["id"]],
            elements=elements[material["id"]],
            element_bases=bases[material["id"]],
        )


def _index_actions(documents: Iterable[dict[str, Any]], index: str) -> Iterator[dict[str, Any]]:
    for document in documents:
        yield {"_op_type": "index", "_index": index, "_id": str(document["material_id"]), "_source": document}


def _bulk(client: Elasticsearch, actions: Iterable[dict[str, Any]], *, chunk_size: int, doing: str) -> int:
    """Send every action; a delete of a document that is not there is no failure. Returns the
    number written; any other failure raises (``SearchUnavailable`` when Elasticsearch is down)."""
    written, failures = 0, []
    with _guard(doing):
        for ok, item in streaming_bulk(
            client, actions, chunk_size=chunk_size, raise_on_error=False, max_retries=3, initial_backoff=1
        ):
            operation, result = next(iter(item.items()))
            if ok or (operation == "delete" and result.get("status") == 404):
                written += 1
            else:
                failures.append(item)
    if failures:
        raise SearchUnavailable(
            f"Elasticsearch refused {len(failures)} of the writes while {doing}; first: {failures[0]}",
            type="search-write-failed",
        )
    return written


# --- reindex -----------------------------------------------------------------------------


@dataclass
class ReindexReport:
    index: str
    documents: int
    removed_indices: list[str] = field(default_factory=list)
    seconds: float = 0.0


def new_index_name(alias: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{alias}-{now:%Y%m%d%H%M%S%f}"


def reindex(
    engine: Engine, client: Elasticsearch, alias: str, *, chunk_size: int = DOCUMENT_BATCH, retire_after_s: float = 2.0
) -> ReindexReport:
    """Build a fresh index from the core and swap ``alias`` to it atomically; delete the old
    index (or indices) behind the alias ``retire_after_s`` later, so that searches that resolved
    the alias before the swap finish on it. Searches through the alias never fail meanwhile.

    Refuses when ``alias`` names a concrete index rather than an alias. Leaves ``search_outbox``
    alone: a sync after the swap replays changes made while it ran (writes are idempotent).
    """
    started = time.perf_counter()
    index = new_index_name(alias)
    with _guard("preparing a reindex"):
        if client.indices.exists(index=alias) and not client.indices.exists_alias(name=alias):
            raise SearchUnavailable(
                f"{alias!r} is an index, not an alias; remove it or choose another BIOMATDB_ELASTICSEARCH_INDEX",
                type="search-index-conflict",
            )
        client.indices.create(
            index=index, mappings=index_mapping(), settings=index_settings(), aliases={reindexing_alias(alias): {}}
        )
    try:
        with engine.connect() as connection:
            documents = _bulk(
                client,
                _index_actions(documents_from_core(connection, batch=chunk_size), index),
                chunk_size=chunk_size,
                doing=f"loading {index}",
            )
        with _guard(f"swapping {alias} to {index}"):
            client.indices.refresh(index=index)
            old = _indices_behind(client, alias)
            actions: list[dict[str, Any]] = [{"remove": {"index": name, "alias": alias}} for name in old]
            actions.append({"add": {"index": index, "alias": alias}})
            actions.append({"remove": {"index": index, "alias": reindexing_alias(alias)}})
            client.indices.update_aliases(actions=actions)
    except BaseException:
        try:
            client.indices.delete(index=index)
        except Exception:  # the first failure is the one to report
            log.warning("could not delete the half-built index %s", index, exc_info=True)
        raise
    if old:
        time.sleep(retire_after_s)
    with _guard(f"deleting the indices {alias} left"):
        for name in old:
            client.indices.delete(index=name)
    return ReindexReport(index=index, documents=documents, removed_indices=old, seconds=time.perf_counter() - started)


def _indices_behind(client: Elasticsearch, alias: str) -> list[str]:
    try:
        return sorted(client.indices.get_alias(name=alias).body)
    except NotFoundError:
        return []


# --- sync --------------------------------------------------------------------------------


@dataclass
class SyncReport:
    """What a sync did: outbox rows drained, documents written and deleted; ``deferred`` when a
    reindex was building (the outbox is then left for the next sync)."""

    outbox_rows: int = 0
    upserted: int = 0
    deleted: int = 0
    batches: int = 0
    deferred: bool = False


def _reindex_in_progress(client: Elasticsearch, alias: str) -> bool:
    return bool(client.indices.exists_alias(name=reindexing_alias(alias)))


def sync(engine: Engine, client: Elasticsearch, alias: str, batch: int = 500) -> SyncReport:
    """Drain ``search_outbox`` in id order into ``alias``: upsert the documents of materials that
    exist, delete those of materials that do not. Drained rows are deleted only after every write
    succeeded. Raises ``SearchUnavailable`` (outbox intact) when Elasticsearch cannot be reached,
    refuses a write, or has no ``alias`` yet (run ``biomatdb reindex`` first)."""
    report = SyncReport()
    with _guard("checking the search index"):
        if not client.indices.exists_alias(name=alias):
            raise SearchUnavailable(
                f"there is no Elasticsearch alias {alias!r}; run `biomatdb reindex` first", type="search-index-missing"
            )
    while True:
        with _guard("checking for a reindex"):
            if _reindex_in_progress(client, alias):
                report.deferred = True
                return report
        with engine.connect() as connection:
            rows = connection.execute(
                select(SearchOutbox.id, SearchOutbox.material_id).order_by(SearchOutbox.id).limit(batch)
            ).all()
            if not rows:
                return report
            wanted = sorted({row.material_id for row in rows})
            documents = list(documents_from_core(connection, wanted))
        present = {document["material_id"] for document in documents}
        gone = [material_id for material_id in wanted if material_id not in present]
        actions = [
            *_index_actions(documents, alias),
            *({"_op_type": "delete", "_index": alias, "_id": str(material_id)} for material_id in gone),
        ]
        _bulk(client, actions, chunk_size=batch, doing=f"syncing {len(rows)} outbox rows into {alias}")
        with _guard("checking for a reindex"):
            if _reindex_in_progress(client, alias):
                # the reindex may have read these materials before the writes above: keep the rows
                report.deferred = True
                return report
        with engine.begin() as connection:
            connection.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([row.id for row in rows])))
        report.outbox_rows += len(rows)
        report.upserted += len(documents)
        report.deleted += len(gone)
        report.batches += 1
