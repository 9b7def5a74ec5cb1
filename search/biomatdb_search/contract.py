"""What every search backend must agree on, in one place (docs/search.md, "One search seam").

A backend (``biomatdb_search.backends.sql``, with the in-memory index of ``biomatdb_search.memory``, and
``biomatdb_search.backends.elastic``) answers a ``biomatdb_search.model.Query`` with a ``SearchResult``. Whatever
two backends must do alike lives here, so that no backend imports another and a parity test can
hold them to it (tests/test_search_parity.py, tests/test_search_seam.py):

- the interface itself (``SearchBackend``);
- the checks a query passes before any backend reads anything, in one order (``checked``), so
  that a query with two faults is refused for the same one everywhere;
- sort resolution (``resolve_sort``) and the built-in orders;
- the similarity threshold of a bare ``similarity("…")`` (``DEFAULT_SIMILARITY``);
- walking the filter tree: one method per node kind (``FilterWalker``), so that a new kind is a
  type error in every backend that does not answer it;
- the tolerance of a temperature condition and which conditions compare only with ``=``/``!=``;
- the order of facet values (``facet_values``);
- the shape of a matched measurement (``matched_measurement``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar, runtime_checkable

from sqlalchemy import Connection, Engine

from biomatdb.display import verbatim
from biomatdb.errors import QueryError, VocabularyError
from biomatdb_search.model import (
    DEFAULT_SIMILARITY,
    And,
    Condition,
    Contains,
    DerivedFilter,
    ElementContent,
    Evidence,
    FacetValue,
    FieldFilter,
    Filter,
    HasProperty,
    MatchedMeasurement,
    Not,
    Or,
    PropertyFilter,
    Query,
    SearchResult,
    Similarity,
    Sort,
    Substructure,
    cursor_after,
    decode_cursor,
)

__all__ = [
    "BUILT_IN_SORTS",
    "CONDITION_FIELDS",
    "DEFAULT_SIMILARITY",
    "TEMPERATURE_TOLERANCE_K",
    "TEXT_CONDITION_FIELDS",
    "Checked",
    "FilterWalker",
    "SearchBackend",
    "check_text_condition",
    "checked",
    "facet_values",
    "matched_measurement",
    "no_chemistry_index",
    "resolve_sort",
    "temperature_window",
]

#: Orders every backend gives besides a property or a derived index.
BUILT_IN_SORTS = ("name", "relevance", "similarity")

#: Half the width of ``WHERE temperature = …``'s window, in kelvin: a stored 310.15 K is 37 °C.
TEMPERATURE_TOLERANCE_K = 1e-6

#: The conditions of a measurement stored as text, compared ignoring case.
TEXT_CONDITION_FIELDS = ("medium", "method", "standard", "specimen_state")

#: A matched measurement's conditions, in the order a result lists them.
CONDITION_FIELDS = ("temperature_K", *TEXT_CONDITION_FIELDS)


@runtime_checkable
class SearchBackend(Protocol):
    """What the API, the CLI, exports and selection ask of a backend."""

    def search(self, query: Query) -> SearchResult:
        """The page of ``query``: hits with the measurements that matched, facets, the exact
        total and the next cursor. A query the backend cannot answer raises ``QueryError``."""
        ...


# --- before a backend reads anything -----------------------------------------------------


def resolve_sort(sort: Sort | None) -> Sort | None:
    """``sort`` with its key resolved: a property's key, or an index's (a named one's key, an
    expression as :func:`biomatdb.indices.expression_text` writes it); anything else is refused."""
    if sort is None or sort.key in BUILT_IN_SORTS:
        return sort
    from biomatdb.indices import parse_expression
    from biomatdb.vocabulary import get_vocabulary

    found = get_vocabulary().find_property(sort.key)
    if found is not None:
        return Sort(key=found.key, descending=sort.descending)
    try:
        index = parse_expression(sort.key)
    except VocabularyError as exc:
        raise QueryError(
            f"cannot sort by {sort.key!r}: {exc.message}; sort by name, relevance, similarity, a property key, "
            "a derived index (specific_stiffness) or an expression (tensile_strength/density)",
            type="unknown-property",
        ) from exc
    return Sort(key=index.key, descending=sort.descending)


@dataclass(frozen=True)
class Checked:
    """What a query's checks found: the page's offset, the sort values its cursor carries (for a
    backend that pages by them), and its sort resolved."""

    offset: int
    after: list[Any] | None
    sort: Sort | None
    notes: list[str]


def checked(query: Query, connection: Connection, engine: Engine) -> Checked:
    """Every check a query passes before a backend answers it, in this order on every backend:
    the number of words, the cursor (``decode_cursor``: it must be this query's), the condition
    values (``check_condition_values``: a value no one knows is refused), the sort. ``query`` is
    the query as typed (a cursor is bound to the text as typed, before respelling)."""
    from biomatdb_search.conditions import check_condition_values, condition_notes
    from biomatdb_search.spelling import check_word_count

    check_word_count(query)
    offset = decode_cursor(query)
    after = cursor_after(query)
    check_condition_values(query.filter, connection, engine)
    notes = condition_notes(query.filter, connection, engine)
    return Checked(offset=offset, after=after, sort=resolve_sort(query.sort), notes=notes)


def no_chemistry_index() -> QueryError:
    """The refusal of a structure search by a backend built without a chemistry index."""
    return QueryError("this search backend has no chemistry index", type="unsupported")


# --- walking the filter tree -------------------------------------------------------------

T = TypeVar("T")


class FilterWalker(ABC, Generic[T]):
    """A filter tree → ``T`` (an SQL expression, a mask, a query DSL clause): one method per node
    kind of ``biomatdb_search.model``, each abstract, so that every backend answers every kind or says
    (``QueryError``, type ``unsupported``) why it cannot."""

    def filter(self, node: Filter) -> T:
        return getattr(self, f"node_{node.kind}")(node)  # one per kind

    @abstractmethod
    def node_and(self, node: And) -> T: ...

    @abstractmethod
    def node_or(self, node: Or) -> T: ...

    @abstractmethod
    def node_not(self, node: Not) -> T: ...

    @abstractmethod
    def node_property(self, node: PropertyFilter) -> T: ...

    @abstractmethod
    def node_has(self, node: HasProperty) -> T: ...

    @abstractmethod
    def node_field(self, node: FieldFilter) -> T: ...

    @abstractmethod
    def node_evidence(self, node: Evidence) -> T: ...

    @abstractmethod
    def node_derived(self, node: DerivedFilter) -> T: ...

    @abstractmethod
    def node_substructure(self, node: Substructure) -> T: ...

    @abstractmethod
    def node_similarity(self, node: Similarity) -> T: ...

    @abstractmethod
    def node_contains(self, node: Contains) -> T: ...

    @abstractmethod
    def node_composition(self, node: ElementContent) -> T: ...


# --- conditions ----------------------------------------------------------------------------


def temperature_window(kelvin: float) -> tuple[float, float]:
    """The closed window ``WHERE temperature = kelvin`` matches, in kelvin."""
    return kelvin - TEMPERATURE_TOLERANCE_K, kelvin + TEMPERATURE_TOLERANCE_K


def check_text_condition(c: Condition) -> None:
    """A condition other than temperature compares with ``=`` or ``!=`` only."""
    if c.op not in ("=", "!="):
        raise QueryError(f"the condition {c.field} compares with = or != only", type="query-error")


# --- what a result holds -------------------------------------------------------------------


def facet_values(counts: Iterable[tuple[Any, int]]) -> list[FacetValue]:
    """A facet's values as every backend lists them: most materials first, then by value."""
    ordered = sorted(((str(value), int(count)) for value, count in counts), key=lambda vc: (-vc[1], vc[0]))
    return [FacetValue(value=value, count=count) for value, count in ordered]


def matched_measurement(
    row: Mapping[str, Any],
    *,
    property_key: str,
    dataset: str,
    doi: str | None,
    citation: str | None,
    certainty: Literal["certain", "possible"] | None = None,
) -> MatchedMeasurement:
    """A stored measurement as a search result shows it, from a mapping that holds its ``value``,
    ``value_min``, ``value_max``, ``qualifier``, ``uncertainty``, ``unit``, ``verbatim_value``,
    ``verbatim_unit`` and the ``CONDITION_FIELDS`` it has (missing or None: not recorded). The
    source is the DOI when there is one, else the citation."""
    return MatchedMeasurement(
        property=property_key,
        value=row.get("value"),
        value_min=row.get("value_min"),
        value_max=row.get("value_max"),
        qualifier=row["qualifier"],
        uncertainty=row.get("uncertainty"),
        unit=row["unit"],
        conditions={key: row[key] for key in CONDITION_FIELDS if row.get(key) is not None},
        source=f"doi:{doi}" if doi else citation,
        dataset=dataset,
        certainty=certainty,
        verbatim=verbatim(row.get("verbatim_value"), row.get("verbatim_unit"), row.get("verbatim_uncertainty")),
    )
