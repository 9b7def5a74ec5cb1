"""The query model translated to Elasticsearch request bodies, and back: pure functions only.

Nothing here talks to a server, so every output is tested exactly (``tests/test_search_elastic.py``).

One document per material (``_id`` = the core's ``materials.id``). Its measurements are a
``nested`` list, so that a property filter and its ``where`` conditions hold for the *same*
measurement. Each measurement carries its value as a ``double_range`` ``interval`` whose open
ends (``>`` and ``<``) are ``gt``/``lt``; a filter's interval is a ``range`` query with relation
``intersects``, ``gt``/``lt`` for an open end. Elasticsearch turns an open end into the next
representable double, so two ends that touch meet only when both are closed — as in SQL.
A qualitative measurement (qualifier ``term``, ``amorphous``) has no value: no ``interval``, and
property filters and ``has`` leave it out by its qualifier (``biomatdb.models.has_value``), as
does ``properties``; its term is not indexed (no search asks for it), so an index built before
qualitative values existed takes the same documents.

Material-level keyword arrays (``properties``, ``datasets``) serve the facets: a terms
aggregation counts documents, i.e. materials. Condition keywords (medium, method, …) use a
lower-casing normalizer, so that equality is case-insensitive on both the index and the
query side; material fields keep their case for the facets and are matched with
``case_insensitive`` term queries.

Substructure and similarity answers come from the in-process RDKit index, passed in as
``chemistry_ids`` and sent as ``terms`` on ``material_id``, split into clauses of at most
``MAX_TERMS`` ids (``index.max_terms_count``).

Every keyword is bounded (``ignore_above``): Elasticsearch refuses a document with a term over
32,766 bytes, and one refused document must never hold the index back. A source's citation,
which may be long and is compared whole, is searched by a hash of it (``source_citation_hash``)
and kept as written in ``_source`` for display.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, get_args

from biomatdb.elements import zero_within
from biomatdb.errors import QueryError
from biomatdb.identity import is_derived_key
from biomatdb.models import QUALITATIVE
from biomatdb.searchtext import RELEVANCE_MAX, RELEVANCE_WEIGHTS, WORD_MAX_BYTES, query_words, search_columns
from biomatdb_search.contract import (
    TEXT_CONDITION_FIELDS,
    FilterWalker,
    check_text_condition,
    facet_values,
    matched_measurement,
    no_chemistry_index,
    resolve_sort,
    temperature_window,
)
from biomatdb_search.derived import sort_index
from biomatdb_search.model import (
    And,
    Condition,
    Contains,
    DerivedFilter,
    ElementContent,
    Evidence,
    EvidenceCondition,
    FieldFilter,
    HasProperty,
    Hit,
    Interval,
    MatchedMeasurement,
    Not,
    Or,
    PropertyFilter,
    Query,
    SearchResult,
    Similarity,
    Sort,
    Substructure,
    certain_first,
    encode_cursor,
)

MAX_RESULT_WINDOW = 10_000
"""Elasticsearch's default ``index.max_result_window``: ``from + size`` may not pass it."""

FACET_SIZE = 1_000
"""Terms per facet; vocabularies (classes, applications, properties) and datasets stay far below."""

INNER_HITS_SIZE = 100
"""Matched measurements shown per property filter and hit (Elasticsearch's ``max_inner_result_window``)."""

_CONDITION_TEXT_FIELDS = TEXT_CONDITION_FIELDS

#: A biological-evaluation record's text fields, compared ignoring case: every field a condition on
#: ``evidence(…)`` may name (biomatdb_search.model.EvidenceCondition) but the duration (a range) and the
#: dataset and source (mapped with measurements' own).
_EVIDENCE_TEXT_FIELDS = tuple(
    name
    for name in get_args(EvidenceCondition.model_fields["field"].annotation)
    if name not in ("duration", "dataset", "source")
)

MAX_TERMS = 65_536
"""Elasticsearch's default ``index.max_terms_count``: the most values one ``terms`` query may hold."""

KEYWORD_MAX_CHARS = 8_191
"""The longest keyword indexed (``ignore_above``): 32,766 bytes, Lucene's longest term, at four UTF-8
bytes a character. A longer value is kept in ``_source`` but not indexed, never refused."""

NESTED_OBJECTS_MAX = 10_000
"""Elasticsearch's default ``index.mapping.nested_objects.limit``: nested records (measurements,
evaluations, element contents) one document may hold. Ingest refuses a material beyond
``BIOMATDB_MATERIAL_MAX_NESTED_RECORDS``, which may not exceed it (``biomatdb.settings``)."""

DELETED_VERSIONS_KEPT = "1h"
"""How long the index remembers a deleted document's version (``index.gc_deletes``)."""

_KEYWORD = {"type": "keyword", "ignore_above": KEYWORD_MAX_CHARS}
_CONDITION_KEYWORD = {"type": "keyword", "normalizer": "lowercase_keyword", "ignore_above": KEYWORD_MAX_CHARS}
_STORED_ONLY = {"type": "keyword", "index": False, "doc_values": False}


def citation_hash(citation: str | None) -> str | None:
    """What ``source_citation_hash`` holds and a ``source = …`` condition asks for: a SHA-256 of the
    citation in lower case (the core compares citations ignoring case)."""
    if citation is None:
        return None
    return hashlib.sha256(citation.lower().encode()).hexdigest()


def _text_with_keyword() -> dict[str, Any]:
    return {"type": "text", "analyzer": "words", "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}}


def index_settings(*, shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    """The index's settings: ``shards`` primaries and ``replicas`` copies of each (0 on a single
    node, which could never place a copy and would stay yellow), and a nested-object limit stated
    rather than assumed. A deleted document's version is remembered for ``DELETED_VERSIONS_KEPT``
    (``index.gc_deletes``, 60 s by default): a drainer's write read before the deletion and landing
    within it is refused as older, where after it it would bring the document back.

    Analysis: ``folded_words`` (the search text) only splits on the spaces between the words the
    core stored, already folded and split by ``biomatdb.searchtext.words``, which the queries use
    too: Elasticsearch folds nothing of its own, so no character can fold one way in the index and
    another in the query (its ``asciifolding`` took "ə" to "a" where Python kept it). Its token
    limit is above ``WORD_MAX_BYTES``, so it never cuts a stored word. ``words`` (the shown name,
    synonyms, description and applications, kept for reading and for people querying the index
    by hand; no BiomatDB query searches them) splits on everything but letters and digits, lower-cases
    and cuts a word to ``KEYWORD_MAX_CHARS`` (a longer one is an immense term Lucene refuses);
    ``lowercase_keyword`` normalizes condition keywords."""
    return {
        "number_of_shards": shards,
        "number_of_replicas": replicas,
        "mapping": {"nested_objects": {"limit": NESTED_OBJECTS_MAX}},
        "gc_deletes": DELETED_VERSIONS_KEPT,
        "analysis": {
            "tokenizer": {
                "words": {"type": "pattern", "pattern": "[\\W_]+", "flags": "UNICODE_CHARACTER_CLASS"},
                # a stored word has at most WORD_MAX_BYTES UTF-8 bytes, so at most as many UTF-16 units
                "folded_words": {"type": "whitespace", "max_token_length": WORD_MAX_BYTES},
            },
            "analyzer": {
                "words": {"type": "custom", "tokenizer": "words", "filter": ["lowercase", "term_bound"]},
                "folded_words": {"type": "custom", "tokenizer": "folded_words"},
            },
            # a word longer than Lucene's longest term (32,766 bytes) would refuse the whole document
            # (an "immense term", 400)
            "filter": {"term_bound": {"type": "truncate", "length": KEYWORD_MAX_CHARS}},
            "normalizer": {"lowercase_keyword": {"type": "custom", "filter": ["lowercase"]}},
        },
    }


def index_mapping() -> dict[str, Any]:
    """The explicit mapping; ``dynamic: strict`` refuses a document with a field not named here."""
    measurement = {
        "type": "nested",
        "properties": {
            "id": {"type": "long"},
            "property": _KEYWORD,
            "qualifier": _KEYWORD,
            "interval": {"type": "double_range"},
            # the interval with v ± u as [v − u, v + u]: what ``uncertainty=interval`` searches
            "interval_uncertain": {"type": "double_range"},
            "value": {"type": "double"},
            "value_min": {"type": "double"},
            "value_max": {"type": "double"},
            "sort_low": {"type": "double"},
            "sort_high": {"type": "double"},
            "uncertainty": {"type": "double"},
            "unit": _KEYWORD,
            "temperature_K": {"type": "double"},
            **dict.fromkeys(_CONDITION_TEXT_FIELDS, _CONDITION_KEYWORD),
            "dataset": _CONDITION_KEYWORD,
            "source_doi": _CONDITION_KEYWORD,
            "source_citation": _STORED_ONLY,
            "source_citation_hash": _KEYWORD,
            # what was written: read back to show a value at its written precision, never searched
            "verbatim_value": _STORED_ONLY,
            "verbatim_unit": _STORED_ONLY,
            "verbatim_uncertainty": _STORED_ONLY,
        },
    }
    evidence = {
        "type": "nested",
        "properties": {
            "endpoint": _KEYWORD,
            "outcome": _KEYWORD,
            **dict.fromkeys(_EVIDENCE_TEXT_FIELDS, _CONDITION_KEYWORD),
            "duration": {"type": "double_range"},
            "dataset": _CONDITION_KEYWORD,
            "source_doi": _CONDITION_KEYWORD,
            "source_citation": _STORED_ONLY,
            "source_citation_hash": _KEYWORD,
        },
    }
    return {
        "dynamic": "strict",
        "properties": {
            "material_id": {"type": "integer"},
            "public_id": _KEYWORD,
            "name": _text_with_keyword(),
            "name_key": _KEYWORD,
            "synonyms": _text_with_keyword(),
            "description": _text_with_keyword(),
            "applications": _text_with_keyword(),
            "class": _KEYWORD,
            "subclass": _KEYWORD,
            "biodegradable": {"type": "boolean"},
            "origin": _KEYWORD,
            # every text word is searched as a prefix: indexed prefixes answer that from one term
            "search_text": {
                "type": "text",
                "analyzer": "folded_words",
                "index_prefixes": {"min_chars": 1, "max_chars": 10},
            },
            # the words of the shown name and of every name, as the core stores them: relevance
            "name_words": _KEYWORD,
            "names_words": _KEYWORD,
            "properties": _KEYWORD,
            "datasets": _KEYWORD,
            "measurements": measurement,
            "endpoints": _KEYWORD,
            "outcomes": _KEYWORD,
            "evidence": evidence,
            # composition filters (biomatdb.elements): each element's content on a basis, the
            # elements that may be and that surely are there, and the complete bases
            "elements": {
                "type": "nested",
                "properties": {"element": _KEYWORD, "basis": _KEYWORD, "interval": {"type": "double_range"}},
            },
            "elements_possible": _KEYWORD,
            "elements_certain": _KEYWORD,
            "element_bases": _KEYWORD,
            # what the medium and state facets count, as stored (the nested keywords are lower-cased)
            "media": _KEYWORD,
            "specimen_states": _KEYWORD,
        },
    }


# --- documents ---------------------------------------------------------------------------


# A row of the core by column name: a dict, or SQLAlchemy's RowMapping (whose keys may also be columns).
CoreRow = Mapping[Any, Any]


def element_document(row: CoreRow) -> dict[str, Any]:
    """One nested element content from its ``material_elements`` row (one with a basis)."""
    interval: dict[str, float] = {}
    if row["fraction_min"] is not None:
        interval["gt" if row["low_open"] else "gte"] = row["fraction_min"]
    if row["fraction_max"] is not None:
        interval["lt" if row["high_open"] else "lte"] = row["fraction_max"]
    return {"element": row["element"], "basis": row["basis"], "interval": interval}


def measurement_interval(qualifier: str, value_min: float | None, value_max: float | None) -> dict[str, float]:
    """A measurement as a ``double_range``: a missing end is unbounded; ``>`` and ``<`` are open."""
    interval: dict[str, float] = {}
    if value_min is not None:
        interval["gt" if qualifier == ">" else "gte"] = value_min
    if value_max is not None:
        interval["lt" if qualifier == "<" else "lte"] = value_max
    return interval


def uncertain_interval(
    qualifier: str, value_min: float | None, value_max: float | None, uncertainty: float | None
) -> dict[str, float]:
    """``measurement_interval`` with each end widened by ``|uncertainty|`` (``v ± u`` is [v − u, v + u]),
    as ``biomatdb_search.core_sql.uncertain_ends`` widens it; a missing end stays missing."""
    spread = abs(uncertainty or 0.0)
    return measurement_interval(
        qualifier,
        None if value_min is None else value_min - spread,
        None if value_max is None else value_max + spread,
    )


def measurement_document(row: CoreRow) -> dict[str, Any]:
    """One nested measurement from its core row, with ``dataset`` (its name), ``doi`` and ``citation``."""
    value_min, value_max = row["value_min"], row["value_max"]
    qualitative = row["qualifier"] == QUALITATIVE
    return {
        "id": row["id"],
        "property": row["property_key"],
        "qualifier": row["qualifier"],
        # no value, so no interval: an empty double_range would be (−∞, ∞), met by every range query
        "interval": None if qualitative else measurement_interval(row["qualifier"], value_min, value_max),
        "interval_uncertain": None
        if qualitative
        else uncertain_interval(row["qualifier"], value_min, value_max, row["uncertainty"]),
        "value": row["value"],
        "value_min": value_min,
        "value_max": value_max,
        # what sorting by a property compares, as the SQL backend does
        "sort_low": value_min if value_min is not None else value_max,
        "sort_high": value_max if value_max is not None else value_min,
        "uncertainty": row["uncertainty"],
        "unit": row["unit"],
        "temperature_K": row["temperature_K"],
        **{field: row[field] for field in _CONDITION_TEXT_FIELDS},
        "dataset": row["dataset"],
        "source_doi": row["doi"],
        "source_citation": row["citation"],
        "source_citation_hash": citation_hash(row["citation"]),
        "verbatim_value": row["verbatim_value"],
        "verbatim_unit": row["verbatim_unit"],
        # an uncertainty column's text (an index built before it needs one ``biomatdb reindex``)
        "verbatim_uncertainty": row.get("verbatim_uncertainty"),
    }


def material_document(
    *,
    material: CoreRow,
    synonyms: Sequence[str],
    applications: Sequence[str],
    measurements: Iterable[CoreRow],
    evaluations: Iterable[CoreRow] = (),
    elements: Sequence[CoreRow] = (),
    element_bases: Sequence[str] = (),
) -> dict[str, Any]:
    """The search document of one material, from plain core rows.

    ``material`` has ``id``, ``public_id``, ``name``, ``name_key``, ``class``, ``subclass``,
    ``description``, ``biodegradable`` and ``origin``; each measurement row the columns of
    ``measurements`` plus ``dataset`` (the dataset's name), ``doi`` and ``citation`` of its source;
    ``elements`` are its ``material_elements`` rows and ``element_bases`` its complete bases.
    """
    nested = [measurement_document(row) for row in measurements]
    records = [evidence_document(row) for row in evaluations]
    searched = (
        {key: material[key] or " " for key in ("search_text", "search_name", "search_names")}
        if material.get("search_text")
        else search_columns(
            name=material["name"],
            synonyms=synonyms,
            material_class=material["class"],
            subclass=material["subclass"],
            description=material["description"],
            applications=applications,
            canonical_smiles=None,
            derived_name=is_derived_key(material.get("name_key")),
        )
    )
    return {
        "material_id": material["id"],
        "public_id": material["public_id"],
        "name": material["name"],
        "name_key": material["name_key"],
        "synonyms": list(synonyms),
        "description": material["description"],
        "applications": list(applications),
        "class": material["class"],
        "subclass": material["subclass"],
        "biodegradable": material["biodegradable"],
        "origin": material["origin"],
        # what the core derived (biomatdb.searchtext), so that every backend searches the same text
        "search_text": searched["search_text"],
        "name_words": searched["search_name"].split(),
        "names_words": searched["search_names"].split(),
        # what the property facet counts: the materials ``has PROPERTY`` finds
        "properties": sorted({m["property"] for m in nested if m["qualifier"] != QUALITATIVE}),
        # what ``dataset = NAME`` and the dataset facet find: the datasets that give the material a
        # measurement or an evaluation record (biomatdb_search.core_sql.of_dataset)
        "datasets": sorted({m["dataset"] for m in nested} | {e["dataset"] for e in records}),
        "measurements": nested,
        # what the endpoint and outcome facets count: the materials ``evidence(…)`` finds
        "endpoints": sorted({e["endpoint"] for e in records}),
        "outcomes": sorted({e["outcome"] for e in records if e["outcome"] is not None}),
        "evidence": records,
        "elements": [element_document(row) for row in elements if row["basis"] is not None],
        # what the element facet counts: the materials ``contains(ELEMENT)`` finds
        "elements_possible": sorted({row["element"] for row in elements if row["presence"] != "absent"}),
        "elements_certain": sorted({row["element"] for row in elements if row["presence"] == "certain"}),
        "element_bases": sorted(set(element_bases)),
        # what the medium and state facets count: the materials with a measurement in that medium or state
        "media": sorted({m["medium"] for m in nested if m["medium"] is not None}),
        "specimen_states": sorted({m["specimen_state"] for m in nested if m["specimen_state"] is not None}),
    }


def evidence_document(row: CoreRow) -> dict[str, Any]:
    """One nested biological-evaluation record from its core row (``biological_evaluations``
    columns, with ``dataset``, ``doi`` and ``citation``); the duration as a ``double_range`` in days."""
    duration = {
        bound: row[column]
        for bound, column in (("gte", "duration_min_days"), ("lte", "duration_max_days"))
        if row[column] is not None
    }
    document: dict[str, Any] = {
        "endpoint": row["endpoint"],
        "outcome": row["outcome"],
        "kind": row["kind"],
        "cell_line": row["model_key"],
        "species": row["species"],
        "site": row["site"],
        "method": row["method"],
        "standard": row["standard"],
        "exposure": row["exposure"],
        "contact": row["contact_category"],
        "contact_duration": row["contact_duration"],
        "dataset": row["dataset"],
        "source_doi": row["doi"],
        "source_citation": row["citation"],
        "source_citation_hash": citation_hash(row["citation"]),
    }
    if duration:
        document["duration"] = duration
    return document


# --- queries -----------------------------------------------------------------------------

MATCH_ALL: dict[str, Any] = {"match_all": {}}
MATCH_NONE: dict[str, Any] = {"match_none": {}}


#: A nested measurement with a value (``biomatdb.models.has_value``): not a qualitative one.
HAS_VALUE: dict[str, Any] = {"bool": {"must_not": [{"term": {"measurements.qualifier": QUALITATIVE}}]}}


def interval_query(
    asked: Interval, relation: str = "intersects", field: str = "measurements.interval"
) -> dict[str, Any] | None:
    """The asked interval as a ``range`` query on ``measurements.interval`` (``intersects``, or
    ``within`` for a certain match: open ends are nudged to the next double on both sides, so a
    ``>60`` measurement is within ``> 60`` and ``60`` is not, as in SQL); ``None`` when unbounded."""
    bounds: dict[str, Any] = {}
    if asked.low is not None:
        bounds["gt" if asked.low_open else "gte"] = asked.low
    if asked.high is not None:
        bounds["lt" if asked.high_open else "lte"] = asked.high
    if not bounds:
        return None
    return {"range": {field: {**bounds, "relation": relation}}}


#: the named clause whose match marks an inner hit (a shown measurement) certain
CERTAIN = "certain"
#: what a certain match adds to a hit's ``_score`` under relevance: more than any relevance (15)
CERTAIN_BOOST = 1000.0


def condition_query(c: Condition) -> dict[str, Any]:
    """``WHERE field OP value`` on one nested measurement; ``!=`` also holds where it is not recorded."""
    if c.field == "temperature":
        low, high = temperature_window(float(c.value))
        field = "measurements.temperature_K"
        if c.op in ("=", "!="):
            near = {"range": {field: {"gte": low, "lte": high}}}
            return near if c.op == "=" else {"bool": {"must_not": [near]}}
        bound = {"<": {"lt": low}, "<=": {"lte": high}, ">": {"gt": high}, ">=": {"gte": low}}[c.op]
        return {"range": {field: bound}}
    check_text_condition(c)
    if c.field == "source":
        holds = {
            "bool": {
                "should": [
                    {"term": {"measurements.source_doi": str(c.value)}},
                    {"term": {"measurements.source_citation_hash": citation_hash(str(c.value))}},
                ],
                "minimum_should_match": 1,
            }
        }
    else:
        holds = {"term": {f"measurements.{c.field}": str(c.value)}}
    return holds if c.op == "=" else {"bool": {"must_not": [holds]}}


def evidence_condition_query(c: EvidenceCondition, match: str) -> dict[str, Any]:
    """``WHERE field OP value`` on one nested record, as ``biomatdb_search.core_evidence`` reads it:
    ``!=`` also holds where the field is not recorded; a duration is an interval of days that
    meets the asked one (possible) or lies within it (certain), and a record without one meets
    no duration condition."""
    if c.field == "duration":
        days = float(c.value)
        bounds = {"=": {"gte": days, "lte": days}, "!=": {"gte": days, "lte": days}, "<": {"lt": days},
                  "<=": {"lte": days}, ">": {"gt": days}, ">=": {"gte": days}}[c.op]  # fmt: skip
        known = {"exists": {"field": "evidence.duration"}}
        if c.op == "!=":  # possible: not exactly that duration; certain: nowhere near it
            inner = "within" if match == "possible" else "intersects"
            return {
                "bool": {
                    "filter": [known],
                    "must_not": [{"range": {"evidence.duration": {**bounds, "relation": inner}}}],
                }
            }
        relation = "within" if match == "certain" else "intersects"
        return {"range": {"evidence.duration": {**bounds, "relation": relation}}}
    wanted = str(c.value)
    if c.field == "standard":  # ISO 10993-5 is also ISO 10993-5:2009
        holds: dict[str, Any] = {
            "bool": {
                "should": [
                    {"term": {"evidence.standard": wanted.lower()}},
                    {"prefix": {"evidence.standard": wanted.lower() + ":"}},
                ],
                "minimum_should_match": 1,
            }
        }
    elif c.field == "source":
        holds = {
            "bool": {
                "should": [
                    {"term": {"evidence.source_doi": wanted}},
                    {"term": {"evidence.source_citation_hash": citation_hash(wanted)}},
                ],
                "minimum_should_match": 1,
            }
        }
    else:
        holds = {"term": {f"evidence.{c.field}": wanted}}
    return holds if c.op == "=" else {"bool": {"must_not": [holds]}}


class ElasticTranslator(FilterWalker[dict[str, Any]]):
    """Query model → Elasticsearch query DSL; one method per filter node kind.

    Property filters that are not under a NOT ask for ``inner_hits`` (named ``m0``, ``m1``, …; a
    ``has``'s ``h0``, …), which are the measurements a hit shows; a named clause (``CERTAIN``) in
    each says whether the measurement lies within the asked interval.
    """

    def __init__(
        self,
        chemistry_ids: Mapping[Substructure | Similarity, Mapping[int, float]],
        match: str = "possible",
        *,
        shows: bool = True,
        derived_ids: Mapping[tuple[DerivedFilter, str], Sequence[int]] | None = None,
        uncertainty: str = "point",
    ) -> None:
        self.chemistry_ids = chemistry_ids
        self.derived_ids = derived_ids or {}
        self.match = match
        # ``interval``: a measurement ``v ± u`` is [v − u, v + u] (its ``interval_uncertain``)
        self.interval_field = (
            "measurements.interval_uncertain" if uncertainty == "interval" else "measurements.interval"
        )
        self.shows = shows  # False: a clause that only ranks, with no inner hits
        self._negations = 0
        self._inner_hits = 0

    def node_and(self, node: And) -> dict[str, Any]:
        """``And``: every item holds."""
        return {"bool": {"filter": [self.filter(item) for item in node.items]}}

    def node_or(self, node: Or) -> dict[str, Any]:
        """``Or``: some item holds."""
        if not node.items:
            return MATCH_NONE
        return {"bool": {"should": [self.filter(item) for item in node.items], "minimum_should_match": 1}}

    def node_not(self, node: Not) -> dict[str, Any]:
        """``Not``: the item does not hold (a document matches a query or it does not: two-valued)."""
        self._negations += 1
        try:
            return {"bool": {"must_not": [self.filter(node.item)]}}
        finally:
            self._negations -= 1

    def node_property(self, node: PropertyFilter) -> dict[str, Any]:
        """``PropertyFilter``: one nested measurement of the property, with a value, meets the interval and
        every condition (a measurement without a value has no ``interval`` to meet; without a range
        query the filter says so itself)."""
        clauses = [{"term": {"measurements.property": node.property}}]
        interval = interval_query(
            node.interval, "within" if self.match == "certain" else "intersects", field=self.interval_field
        )
        clauses.append(HAS_VALUE if interval is None else interval)
        clauses.extend(condition_query(c) for c in node.where)
        measurement: dict[str, Any] = {"bool": {"filter": clauses}}
        if (
            self.shows and not self._negations
        ):  # a shown measurement says whether it lies within: a named clause that matches alone
            within = interval_query(node.interval, "within", field=self.interval_field)
            measurement["bool"]["should"] = [{"bool": {"filter": [within or HAS_VALUE], "_name": CERTAIN}}]
        return self._nested(measurement)

    def node_has(self, node: HasProperty) -> dict[str, Any]:
        """``HasProperty``: at least one nested measurement of the property with a value."""
        return self._nested(
            {"bool": {"filter": [{"term": {"measurements.property": node.property}}, HAS_VALUE]}}, prefix="h"
        )

    def node_field(self, node: FieldFilter) -> dict[str, Any]:
        """``FieldFilter``: ``class|application|biodegradable|origin|dataset|id (=|!=) value``."""
        if node.field == "biodegradable":
            holds: dict[str, Any] = {"term": {"biodegradable": bool(node.value)}}
        elif node.field == "id":
            holds = {"term": {"public_id": str(node.value)}}
        elif node.field == "application":
            holds = {"term": {"applications.keyword": str(node.value)}}
        else:
            field = {"class": "class", "origin": "origin", "dataset": "datasets"}[node.field]
            holds = {"term": {field: {"value": str(node.value), "case_insensitive": True}}}
        return holds if node.op == "=" else {"bool": {"must_not": [holds]}}

    def node_evidence(self, node: Evidence) -> dict[str, Any]:
        """``Evidence``: one nested record of the endpoint, with the outcome, meets every condition."""
        clauses: list[dict[str, Any]] = [{"term": {"evidence.endpoint": node.endpoint}}]
        if node.outcome is not None:
            same = {"term": {"evidence.outcome": node.outcome}}
            clauses.append(same if node.outcome_op == "=" else {"bool": {"must_not": [same]}})
        clauses.extend(evidence_condition_query(c, self.match) for c in node.where)
        return {"nested": {"path": "evidence", "query": {"bool": {"filter": clauses}}}}

    def node_substructure(self, node: Substructure) -> dict[str, Any]:
        """``Substructure``: the materials the RDKit index found, as ``terms`` on ``material_id``."""
        return self._chemistry(node)

    def node_similarity(self, node: Similarity) -> dict[str, Any]:
        """``Similarity``: the materials the RDKit index found at or above the threshold."""
        return self._chemistry(node)

    def node_contains(self, node: Contains) -> dict[str, Any]:
        """``Contains``: the element is among those the material may hold (surely holds, for a certain match)."""
        field = "elements_certain" if self.match == "certain" else "elements_possible"
        return {"term": {field: node.element}}

    def node_composition(self, node: ElementContent) -> dict[str, Any]:
        """``ElementContent``: a nested element content on the basis meets (lies within) the interval;
        or the composition is complete on the basis and does not name the element, and 0 is asked."""
        element_row = [{"term": {"elements.element": node.element}}, {"term": {"elements.basis": node.basis}}]
        interval = interval_query(
            node.interval, "within" if self.match == "certain" else "intersects", field="elements.interval"
        )
        holds = {
            "nested": {
                "path": "elements",
                "query": {"bool": {"filter": [*element_row, *([interval] if interval else [])]}},
            }
        }
        asked = node.interval
        if not zero_within(asked.low, asked.high, asked.low_open, asked.high_open):
            return holds
        unnamed = {
            "bool": {
                "filter": [{"term": {"element_bases": node.basis}}],
                "must_not": [{"nested": {"path": "elements", "query": {"bool": {"filter": element_row}}}}],
            }
        }
        return {"bool": {"should": [holds, unnamed], "minimum_should_match": 1}}

    def node_derived(self, node: DerivedFilter) -> dict[str, Any]:
        """``DerivedFilter``: the materials the core found for it (``biomatdb_search.core_derived``,
        at this translator's match), as ``terms`` on ``material_id``, as chemistry is sent."""
        found = self.derived_ids.get((node, self.match))
        if found is None:
            raise QueryError(
                "derived filters reach Elasticsearch as ids from the core; none were given", type="unsupported"
            )
        return ids_query(found)

    def _chemistry(self, node: Substructure | Similarity) -> dict[str, Any]:
        if node not in self.chemistry_ids:
            raise no_chemistry_index()
        return ids_query(self.chemistry_ids[node])

    def _nested(self, measurement_query: dict[str, Any], prefix: str = "m") -> dict[str, Any]:
        nested: dict[str, Any] = {"nested": {"path": "measurements", "query": measurement_query}}
        if self.shows and not self._negations:
            nested["nested"]["inner_hits"] = {
                "name": f"{prefix}{self._inner_hits}",
                "size": INNER_HITS_SIZE,
                "sort": [{"measurements.property": "asc"}, {"measurements.id": "asc"}],
            }
            self._inner_hits += 1
        return nested


def ids_query(ids: Iterable[int]) -> dict[str, Any]:
    """The materials of these ids: one ``terms`` on ``material_id``, or, beyond ``MAX_TERMS`` ids,
    one per ``MAX_TERMS`` of them in a ``should`` (each ``terms`` query is held to the limit alone)."""
    ordered = sorted(set(ids))
    if not ordered:
        return MATCH_NONE
    if len(ordered) <= MAX_TERMS:
        return {"terms": {"material_id": ordered}}
    chunks = [ordered[start : start + MAX_TERMS] for start in range(0, len(ordered), MAX_TERMS)]
    return {"bool": {"should": [{"terms": {"material_id": chunk}} for chunk in chunks], "minimum_should_match": 1}}


def text_query(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Free text: every word as a prefix of a word of ``search_text`` (what filters, as in the SQL
    backend), and one constant-score clause per kind of name match, weighted as
    ``biomatdb.searchtext.RELEVANCE_WEIGHTS``: the hit's ``_score`` is the SQL backend's relevance."""
    tokens = query_words(text)  # the words the core stored for the same text: the index folds nothing
    prefixes = [{"prefix": {"search_text": token}} for token in tokens]
    relevance = []
    if tokens:
        for kind, weight in RELEVANCE_WEIGHTS.items():
            exact, field = kind.split("_")
            clause = "term" if exact == "exact" else "prefix"
            relevance.append(
                {
                    "constant_score": {
                        "boost": weight,
                        "filter": {"bool": {"filter": [{clause: {f"{field}_words": token}} for token in tokens]}},
                    }
                }
            )
    return prefixes, relevance


def similarity_scores(chemistry_ids: Mapping[Substructure | Similarity, Mapping[int, float]]) -> dict[int, float]:
    """Each material's best similarity score over the query's similarity nodes."""
    scores: dict[int, float] = {}
    for node, found in chemistry_ids.items():
        if isinstance(node, Similarity):
            for material_id, score in found.items():
                scores[material_id] = max(score, scores.get(material_id, 0.0))
    return scores


NAME_ORDER = [{"name_key": "asc"}, {"public_id": "asc"}]


def sort_clause(
    query: Query, scores: Mapping[int, float], derived_sort: Mapping[int, float] | None = None
) -> list[dict[str, Any]]:
    """``Sort``: by similarity, relevance, name or a property's lowest (ascending) or highest
    (descending) value; materials without the property last; ties by name, then public id. A derived
    index's sort key is each material's from the core (``derived_sort``: material id → key, as
    ``biomatdb_search.core_derived.derived_sort_value`` gives it), sent as a script's parameters.
    The key is resolved here too (``contract.resolve_sort``, which keeps a resolved key as it is),
    so that a body built without the backend's checks refuses what they refuse rather than
    sorting by a property no document holds."""
    sort: Sort | None = resolve_sort(query.sort)
    if sort is not None and sort.key == "relevance":
        sort = None
    if (sort is not None and sort.key == "similarity") or (sort is None and not query.text and scores):
        script = {
            "lang": "painless",
            "source": "(double) params.scores.getOrDefault(String.valueOf(doc['material_id'].value), 0.0)",
            "params": {"scores": {str(material_id): score for material_id, score in sorted(scores.items())}},
        }
        return [{"_script": {"type": "number", "script": script, "order": "desc"}}, *NAME_ORDER]
    if sort is None:
        return [{"_score": "desc"}, *NAME_ORDER] if query.text else list(NAME_ORDER)
    if sort.key == "name":
        direction = "desc" if sort.descending else "asc"
        return [{"name_key": direction}, {"public_id": direction}]
    if sort_index(sort.key) is not None:
        if derived_sort is None:
            raise QueryError(
                "a derived sort reaches Elasticsearch as values from the core; none were given", type="unsupported"
            )
        missing = "Double.NEGATIVE_INFINITY" if sort.descending else "Double.POSITIVE_INFINITY"
        script = {
            "lang": "painless",
            "source": f"(double) params.keys.getOrDefault(String.valueOf(doc['material_id'].value), {missing})",
            "params": {"keys": {str(material_id): key for material_id, key in sorted(derived_sort.items())}},
        }
        order = "desc" if sort.descending else "asc"
        return [{"_script": {"type": "number", "script": script, "order": order}}, *NAME_ORDER]
    field, order, mode = ("sort_high", "desc", "max") if sort.descending else ("sort_low", "asc", "min")
    return [
        {
            f"measurements.{field}": {
                "order": order,
                "mode": mode,
                "missing": "_last",
                "nested": {"path": "measurements", "filter": {"term": {"measurements.property": sort.key}}},
            }
        },
        *NAME_ORDER,
    ]


FACET_FIELDS = {
    "class": "class",
    "application": "applications.keyword",
    "biodegradable": "biodegradable",
    "origin": "origin",
    "property": "properties",
    "dataset": "datasets",
    "endpoint": "endpoints",
    "outcome": "outcomes",
    "element": "elements_possible",
    "medium": "media",
    "state": "specimen_states",
}


def facet_aggregations(facets: Sequence[str]) -> dict[str, Any]:
    """A terms aggregation per facet, over the same matching documents (materials) as the hits."""
    return {name: {"terms": {"field": FACET_FIELDS[name], "size": FACET_SIZE}} for name in facets}


def query_body(
    query: Query,
    *,
    chemistry_ids: Mapping[Substructure | Similarity, Mapping[int, float]],
    offset: int,
    search_after: list[Any] | None = None,
    derived_ids: Mapping[tuple[DerivedFilter, str], Sequence[int]] | None = None,
    derived_sort: Mapping[int, float] | None = None,
) -> dict[str, Any]:
    """The ``_search`` body for one page of ``query``: query, facet aggregations, sort, and the
    page: ``search_after`` the previous page's last sort values (what a cursor this backend gave
    out carries), so that paging holds past any result window; ``from``/``size`` otherwise.

    Every sort ends with ``public_id``, unique, and its values are data, not index internals: a
    cursor stays valid across nodes and across a reindex's alias swap, which is why no
    point-in-time is opened (one would die with the index the swap retires).

    ``chemistry_ids`` maps each chemistry node of the filter to ``{material id: score}``;
    ``derived_ids`` each derived filter and match (``possible``, ``certain``) to the materials the
    core found for it, and ``derived_sort`` a derived sort's keys, by material id.
    A cursor without sort values past Elasticsearch's result window is refused with a ``QueryError``.
    """
    if search_after is None and offset + query.limit > MAX_RESULT_WINDOW:
        raise QueryError(
            f"the Elasticsearch backend pages through the first {MAX_RESULT_WINDOW:,} results only; narrow the search",
            type="unsupported",
        )
    if query.sort is not None:  # what the backend's checks resolved stays as it is (resolve_sort)
        query = query.model_copy(update={"sort": resolve_sort(query.sort)})
    translator = ElasticTranslator(chemistry_ids, query.match, derived_ids=derived_ids, uncertainty=query.uncertainty)
    filters: list[dict[str, Any]] = []
    should: list[dict[str, Any]] = []
    if query.text:
        prefixes, relevance = text_query(query.text)
        filters.extend(prefixes)
        should.extend(relevance)
    if query.filter is not None:
        filters.append(translator.filter(query.filter))
    sort = None if query.sort is not None and query.sort.key == "relevance" else query.sort
    if query.filter is not None and certain_first(
        query, sort
    ):  # certain matches first: a boost above any relevance, taken off the score
        certain = ElasticTranslator(
            chemistry_ids, "certain", shows=False, derived_ids=derived_ids, uncertainty=query.uncertainty
        ).filter(query.filter)
        should.append({"constant_score": {"filter": certain, "boost": CERTAIN_BOOST}})
    es_query: dict[str, Any] = MATCH_ALL
    if filters or should:
        es_query = {"bool": {"filter": filters, **({"should": should} if should else {})}}
    body: dict[str, Any] = {
        "query": es_query,
        "sort": sort_clause(query, similarity_scores(chemistry_ids), derived_sort),
        **({"search_after": search_after} if search_after is not None else {"from": offset}),
        "size": query.limit,
        "track_total_hits": True,
        **({"track_scores": True} if query.text else {}),  # a text hit's score, whatever the sort
        "_source": ["material_id", "public_id", "name", "class"],
    }
    if query.facets:
        body["aggs"] = facet_aggregations(query.facets)
    return body


# --- responses ---------------------------------------------------------------------------


def _matched(source: Mapping[str, Any]) -> MatchedMeasurement:
    """A nested measurement's ``_source`` as a search result shows it."""
    return matched_measurement(
        source,
        property_key=source["property"],
        dataset=source["dataset"],
        doi=source.get("source_doi"),
        citation=source.get("source_citation"),
    )


def _hit(hit: Mapping[str, Any], query: Query, scores: Mapping[int, float]) -> Hit:
    source = hit["_source"]
    shown: dict[int, Mapping[str, Any]] = {}
    certain: dict[int, bool] = {}
    for name, inner in (hit.get("inner_hits") or {}).items():
        for measurement in inner["hits"]["hits"]:
            key = measurement["_source"]["id"]
            shown[key] = measurement["_source"]
            if name.startswith("m"):  # a property filter's, not a ``has``'s (``h0``, ``h1``, …)
                certain[key] = certain.get(key, False) or CERTAIN in measurement.get("matched_queries", ())
    ordered = sorted(shown.values(), key=lambda m: (m["property"], m["id"]))
    score = scores.get(source["material_id"])
    if score is None and query.text and query_words(query.text):
        raw = float(hit.get("_score") or 0.0)
        score = round((raw - CERTAIN_BOOST if raw >= CERTAIN_BOOST else raw) / RELEVANCE_MAX, 6)
    measurements = []
    for m in ordered:
        shown_as = _matched(m)
        if m["id"] in certain:
            shown_as = shown_as.model_copy(update={"certainty": "certain" if certain[m["id"]] else "possible"})
        measurements.append(shown_as)
    return Hit(
        id=source["public_id"],
        name=source["name"],
        material_class=source.get("class"),
        score=score,
        measurements=measurements,
    )


def _facet_value(bucket: Mapping[str, Any]) -> str:
    return str(bucket.get("key_as_string", bucket["key"]))


def _sort_value(value: Any) -> Any:
    """A hit's sort value as a cursor keeps it: a missing value sorted last is an infinite double,
    which JSON (and so a cursor) can only carry as the string Elasticsearch parses back."""
    if isinstance(value, float) and not math.isfinite(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def parse_response(
    body: Mapping[str, Any],
    query: Query,
    *,
    offset: int = 0,
    scores: Mapping[int, float] | None = None,
    cursor_query: Query | None = None,
) -> SearchResult:
    """A ``_search`` response as a ``SearchResult``: hits with the measurements their property
    filters matched, facet counts ordered by count then value, the total and the next cursor."""
    scores = scores or {}
    hits = body["hits"]
    total = int(hits["total"]["value"])
    facets = {}
    for name in query.facets:
        buckets = body.get("aggregations", {})[name]["buckets"]
        facets[name] = facet_values((_facet_value(b), b["doc_count"]) for b in buckets)
    next_offset = offset + query.limit
    after = [_sort_value(v) for v in hits["hits"][-1].get("sort", ())] if hits["hits"] else None
    return SearchResult(
        results=[_hit(hit, query, scores) for hit in hits["hits"]],
        facets=facets,
        total=total,
        next_cursor=encode_cursor(cursor_query or query, next_offset, after)
        if next_offset < total and hits["hits"]
        else None,
    )
