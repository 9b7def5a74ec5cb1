"""The Elasticsearch backend: search through an alias, and the search documents read from
the core. Writing them (full reindex behind an alias swap, incremental sync from the outbox)
is ``biomatdb_search.backends.elastic_sync``.

Every answer Elasticsearch gives that is not a result becomes a typed ``SearchUnavailable``
(``guard``), never an unhandled client error: a 404 says the index is missing, a 429 or a 5xx
that it is unavailable, another 4xx that it refused the request, with its reason.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError, ConnectionTimeout
from elasticsearch import ApiError, Elasticsearch
from sqlalchemy import Connection, Engine, select

from biomatdb.db import read_snapshot
from biomatdb.errors import SearchUnavailable
from biomatdb.models import (
    BiologicalEvaluation,
    Dataset,
    Material,
    MaterialElement,
    MaterialElementBasis,
    Measurement,
    Source,
)
from biomatdb.searchtext import names_and_applications
from biomatdb_search.backends.elastic_translate import (
    material_document,
    parse_response,
    query_body,
    similarity_scores,
)
from biomatdb_search.contract import checked
from biomatdb_search.core_derived import derived_exists, derived_sort_value, derived_values
from biomatdb_search.derived import sort_index
from biomatdb_search.model import (
    And,
    DerivedFilter,
    Filter,
    Not,
    Or,
    Query,
    SearchResult,
    Similarity,
    Substructure,
)

log = logging.getLogger(__name__)

Chemistry = Callable[[Substructure | Similarity], dict[int, float]]

DOCUMENT_BATCH = 500


def reindexing_alias(alias: str) -> str:
    """The marker alias an index carries while a reindex builds it."""
    return f"{alias}-reindexing"


#: Errors Elasticsearch gives for its own state, whatever their HTTP status: a write block
#: (``cluster_block_exception``, 403, e.g. a disk past its flood-stage watermark or an index
#: set read-only), a closed index (400), a tripped circuit breaker, shards away. Nothing is
#: wrong with the request or the document; the same one succeeds once the state is cleared.
OPERATIONAL_ERRORS = frozenset(
    {
        "cluster_block_exception",
        "index_closed_exception",
        "circuit_breaking_exception",
        "es_rejected_execution_exception",
        "no_shard_available_action_exception",
        "unavailable_shards_exception",
        "process_cluster_event_timeout_exception",
    }
)


def refusal_type(status: int, error_type: str | None = None) -> str:
    """The ``SearchUnavailable`` type of an Elasticsearch answer with this HTTP status (and error
    type: an ``OPERATIONAL_ERRORS`` one is unavailability, never a refusal)."""
    if status == 404:
        return "search-index-missing"
    if status == 429 or status >= 500 or error_type in OPERATIONAL_ERRORS:
        return "search-unavailable"
    return "search-refused"


def error_type_of(body: Any) -> str | None:
    """The ``error.type`` of an Elasticsearch error body, when it has one."""
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("type")) if isinstance(error, dict) and error.get("type") else None


def _reason(exc: ApiError) -> str:
    error = exc.body.get("error") if isinstance(exc.body, dict) else None
    if isinstance(error, dict):
        reason = f"{error.get('type')}: {error.get('reason')}"
        causes = error.get("root_cause") or []
        if causes and isinstance(causes[0], dict) and causes[0].get("reason") != error.get("reason"):
            reason += (
                f"; {causes[0].get('type')}: {causes[0].get('reason')}"  # what went wrong, below "all shards failed"
            )
        return reason
    return str(error or exc.message)


@contextmanager
def guard(doing: str) -> Iterator[None]:
    """Turns the client's failures into ``SearchUnavailable``: connection failures and timeouts,
    429 and 5xx as ``search-unavailable``, 404 as ``search-index-missing``, any other 4xx as
    ``search-refused``, each with Elasticsearch's reason."""
    try:
        yield
    except (TransportConnectionError, ConnectionTimeout) as exc:
        raise SearchUnavailable(f"Elasticsearch is unavailable while {doing}: {exc}") from exc
    except ApiError as exc:
        kind = refusal_type(exc.meta.status, error_type_of(exc.body))
        what = {
            "search-index-missing": "Elasticsearch has no such index or alias",
            "search-unavailable": "Elasticsearch is unavailable",
            "search-refused": "Elasticsearch refused the request",
        }[kind]
        hint = "; run `biomatdb reindex` first" if kind == "search-index-missing" else ""
        raise SearchUnavailable(f"{what} while {doing} ({exc.meta.status} {_reason(exc)}){hint}", type=kind) from exc


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
    index (``chemistry``, by default a ``biomatdb_search.chemistry.ChemistryIndex`` on ``engine``)."""

    def __init__(self, client: Elasticsearch, alias: str, engine: Engine, chemistry: Chemistry | None = None) -> None:
        self.client = client
        self.alias = alias
        self.engine = engine
        if chemistry is None:
            from biomatdb_search.chemistry import ChemistryIndex

            chemistry = ChemistryIndex(engine)
        self.chemistry = chemistry

    def _derived_from_core(
        self, query: Query
    ) -> tuple[dict[tuple[DerivedFilter, str], list[int]], dict[int, float] | None]:
        """Derived filters and sorts are answered by the core, as chemistry is by the RDKit index: the
        ids each derived filter finds (at the query's match, and ``certain`` for certain-first
        ranking), and a derived sort's key per material (``biomatdb_search.core_derived``)."""
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
                        connection.execute(
                            select(Material.id).where(derived_exists(node, match, query.uncertainty))
                        ).scalars()
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
        from biomatdb_search.spelling import respell

        typed = query  # a cursor is bound to the text as typed, as in the SQL backend
        with self.engine.connect() as connection:  # the same checks, in the same order, as every backend
            found = checked(typed, connection, self.engine)
        offset, after = found.offset, found.after
        query, spelling = respell(self.engine, query)  # from the core, as the SQL backend does
        query = query.model_copy(update={"sort": found.sort})
        chemistry_ids = {node: self.chemistry(node) for node in chemistry_nodes(query.filter)}
        derived_ids, derived_sort = self._derived_from_core(query)
        body = query_body(
            query,
            chemistry_ids=chemistry_ids,
            offset=offset,
            search_after=after,
            derived_ids=derived_ids,
            derived_sort=derived_sort,
        )
        with guard("searching"):
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
        return result.model_copy(update={"spelling": spelling, "notes": found.notes})


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
            m.verbatim_uncertainty,
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
        )
        .where(Material.id.in_(ids))
        .order_by(Material.id)
    ).mappings()
    for material in materials:
        yield material_document(
            material=material,
            synonyms=synonyms[material["id"]],
            applications=applications[material["id"]],
            measurements=measurements[material["id"]],
            evaluations=evaluations[material["id"]],
            elements=elements[material["id"]],
            element_bases=bases[material["id"]],
        )
