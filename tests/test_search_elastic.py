"""The Elasticsearch backend.

(a) The translation is pure: exact request bodies for every filter node, the mapping, a
document built from known rows, and a response parsed by hand. (b) The outbox against a real
client pointed at a closed port: nothing written to the core is lost while Elasticsearch is
down. (c) The real-server suite, run when BIOMATDB_TEST_ELASTICSEARCH_URL names a node
(``docker compose -f deploy/compose.yaml up -d elasticsearch``): parity with the SQL backend
on the fixtures, sync after an outage, and searching through a reindex.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from elasticsearch.dsl import Search
from sqlalchemy import event, func, select
from typer.testing import CliRunner

from biomatdb.cli import app
from biomatdb.errors import QueryError, SearchUnavailable
from biomatdb.models import Material, SearchOutbox
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from biomatdb_search.backends.elastic import ElasticBackend, chemistry_nodes, derived_nodes, documents_from_core
from biomatdb_search.backends.elastic_sync import reindex, sync
from biomatdb_search.backends.elastic_translate import (
    ElasticTranslator,
    citation_hash,
    index_mapping,
    index_settings,
    material_document,
    measurement_interval,
    parse_response,
    query_body,
    uncertain_interval,
)
from biomatdb_search.model import (
    FACETS,
    And,
    Condition,
    Contains,
    ElementContent,
    FieldFilter,
    HasProperty,
    Interval,
    Not,
    Or,
    PropertyFilter,
    Query,
    Similarity,
    Sort,
    Substructure,
    encode_cursor,
)
from tests.es_transport import GOLDEN, golden
from tests.search_parity_cases import (
    PARITY_FILTERS,
    PARITY_TEXTS,
    QUALITATIVE_CSV,
    QUALITATIVE_FILE,
    SORTED_QUERIES,
    TEXT_CSV,
    TEXT_FILE,
)
from tests.test_pipeline import LONG_TSV, WIDE_CSV, write

INNER_SORT = [{"measurements.property": "asc"}, {"measurements.id": "asc"}]
NAME_ORDER = [{"name_key": "asc"}, {"public_id": "asc"}]
SOURCE_FIELDS = ["material_id", "public_id", "name", "class"]


def inner(n: int, prefix: str = "m") -> dict:
    return {"name": f"{prefix}{n}", "size": 100, "sort": INNER_SORT}


def nested(query: dict, inner_hits: int | None = 0, prefix: str = "m") -> dict:
    body = {"path": "measurements", "query": query}
    if inner_hits is not None:
        body["inner_hits"] = inner(inner_hits, prefix)
    return {"nested": body}


def has(query: dict, inner_hits: int | None = 0) -> dict:
    """A ``has`` filter's nested query: its inner hits are named ``h…``."""
    return nested(query, inner_hits, prefix="h")


def shown(query: dict, within: dict | None = None) -> dict:
    """A property filter's measurement query, with the named clause that marks a shown measurement
    certain (``within``: the asked interval with relation ``within``; none: any value)."""
    return {"bool": {**query["bool"], "should": [{"bool": {"filter": [within or HAS_VALUE], "_name": "certain"}}]}}


def within(**bounds) -> dict:
    return {"range": {"measurements.interval": {**bounds, "relation": "within"}}}


def prop(key: str, *clauses: dict) -> dict:
    return {"bool": {"filter": [{"term": {"measurements.property": key}}, *clauses]}}


#: a measurement with a value, not a qualitative one ("amorphous")
HAS_VALUE = {"bool": {"must_not": [{"term": {"measurements.qualifier": "term"}}]}}


def intersects(**bounds) -> dict:
    return {"range": {"measurements.interval": {**bounds, "relation": "intersects"}}}


# --- (a) translation: one line per node ---------------------------------------------------

PLLA = Substructure(pattern="*O[C@@H](C)C(=O)*")
STYRENE = Similarity(smiles="*CC(*)c1ccccc1", threshold=0.5)
SILICON = Substructure(pattern="[Si]")
CHEMISTRY: dict[Substructure | Similarity, dict[int, float]] = {PLLA: {7: 1.0, 3: 1.0}, STYRENE: {5: 0.81}, SILICON: {}}


def element_content(element: str, basis: str, bounds: dict) -> dict:
    """A nested element content of ``basis`` whose interval meets ``bounds``."""
    return {
        "nested": {
            "path": "elements",
            "query": {
                "bool": {
                    "filter": [
                        {"term": {"elements.element": element}},
                        {"term": {"elements.basis": basis}},
                        {"range": {"elements.interval": bounds}},
                    ]
                }
            },
        }
    }


FILTERS = [
    pytest.param(
        PropertyFilter(property="youngs_modulus", interval=Interval(low=1000, high=3000)),
        nested(shown(prop("youngs_modulus", intersects(gte=1000.0, lte=3000.0)), within(gte=1000.0, lte=3000.0))),
        id="closed-ends",
    ),
    pytest.param(
        PropertyFilter(
            property="youngs_modulus", interval=Interval(low=1000, high=3000, low_open=True, high_open=True)
        ),
        nested(shown(prop("youngs_modulus", intersects(gt=1000.0, lt=3000.0)), within(gt=1000.0, lt=3000.0))),
        id="open-ends",
    ),
    pytest.param(
        PropertyFilter(property="density", interval=Interval(high=2, high_open=True)),
        nested(shown(prop("density", intersects(lt=2.0)), within(lt=2.0))),
        id="below",
    ),
    pytest.param(
        PropertyFilter(property="density", interval=Interval(low=4)),
        nested(shown(prop("density", intersects(gte=4.0)), within(gte=4.0))),
        id="at-least",
    ),
    pytest.param(PropertyFilter(property="density"), nested(shown(prop("density", HAS_VALUE))), id="unbounded"),
    pytest.param(
        PropertyFilter(
            property="tensile_strength",
            interval=Interval(low=50, low_open=True),
            where=(Condition(field="medium", value="PBS"), Condition(field="temperature", value=310.15)),
        ),
        nested(
            shown(
                prop(
                    "tensile_strength",
                    intersects(gt=50.0),
                    {"term": {"measurements.medium": "PBS"}},
                    {"range": {"measurements.temperature_K": {"gte": 310.15 - 1e-6, "lte": 310.15 + 1e-6}}},
                ),
                within(gt=50.0),
            )
        ),
        id="where-medium-and-temperature",
    ),
    pytest.param(
        PropertyFilter(
            property="glass_transition_temperature",
            interval=Interval(low=400, low_open=True),
            where=(Condition(field="method", op="!=", value="experimental"),),
        ),
        nested(
            shown(
                prop(
                    "glass_transition_temperature",
                    intersects(gt=400.0),
                    {"bool": {"must_not": [{"term": {"measurements.method": "experimental"}}]}},
                ),
                within(gt=400.0),
            )
        ),
        id="where-not-equal",
    ),
    pytest.param(
        PropertyFilter(
            property="youngs_modulus",
            where=(
                Condition(field="temperature", op="!=", value=310.15),
                Condition(field="temperature", op="<", value=300),
                Condition(field="temperature", op=">=", value=290),
            ),
        ),
        nested(
            shown(
                prop(
                    "youngs_modulus",
                    HAS_VALUE,
                    {
                        "bool": {
                            "must_not": [
                                {"range": {"measurements.temperature_K": {"gte": 310.15 - 1e-6, "lte": 310.15 + 1e-6}}}
                            ]
                        }
                    },
                    {"range": {"measurements.temperature_K": {"lt": 300 - 1e-6}}},
                    {"range": {"measurements.temperature_K": {"gte": 290 - 1e-6}}},
                )
            )
        ),
        id="where-temperature-comparisons",
    ),
    pytest.param(
        PropertyFilter(
            property="density",
            where=(Condition(field="source", value="10.5555/x"), Condition(field="dataset", value="Wide")),
        ),
        nested(
            shown(
                prop(
                    "density",
                    HAS_VALUE,
                    {
                        "bool": {
                            "should": [
                                {"term": {"measurements.source_doi": "10.5555/x"}},
                                {"term": {"measurements.source_citation_hash": citation_hash("10.5555/x")}},
                            ],
                            "minimum_should_match": 1,
                        }
                    },
                    {"term": {"measurements.dataset": "Wide"}},
                )
            )
        ),
        id="where-source-and-dataset",
    ),
    pytest.param(HasProperty(property="fracture_toughness"), has(prop("fracture_toughness", HAS_VALUE)), id="has"),
    pytest.param(
        FieldFilter(field="class", value="Polymer"),
        {"term": {"class": {"value": "Polymer", "case_insensitive": True}}},
        id="class",
    ),
    pytest.param(
        FieldFilter(field="class", op="!=", value="polymer"),
        {"bool": {"must_not": [{"term": {"class": {"value": "polymer", "case_insensitive": True}}}]}},
        id="class-not",
    ),
    pytest.param(
        FieldFilter(field="origin", value="natural"),
        {"term": {"origin": {"value": "natural", "case_insensitive": True}}},
        id="origin",
    ),
    pytest.param(
        FieldFilter(field="dataset", value="polymetrix-tg"),
        {"term": {"datasets": {"value": "polymetrix-tg", "case_insensitive": True}}},
        id="dataset",
    ),
    pytest.param(
        FieldFilter(field="application", value="orthopaedic"),
        {"term": {"applications.keyword": "orthopaedic"}},
        id="application",
    ),
    pytest.param(FieldFilter(field="biodegradable", value=True), {"term": {"biodegradable": True}}, id="biodegradable"),
    pytest.param(
        FieldFilter(field="biodegradable", op="!=", value=False),
        {"bool": {"must_not": [{"term": {"biodegradable": False}}]}},
        id="biodegradable-not",
    ),
    pytest.param(FieldFilter(field="id", value="BM-0001"), {"term": {"public_id": "BM-0001"}}, id="id"),
    pytest.param(PLLA, {"terms": {"material_id": [3, 7]}}, id="substructure"),
    pytest.param(STYRENE, {"terms": {"material_id": [5]}}, id="similarity"),
    pytest.param(SILICON, {"match_none": {}}, id="chemistry-nothing-found"),
    pytest.param(
        And(items=(HasProperty(property="density"), FieldFilter(field="class", value="polymer"))),
        {
            "bool": {
                "filter": [
                    has(prop("density", HAS_VALUE)),
                    {"term": {"class": {"value": "polymer", "case_insensitive": True}}},
                ]
            }
        },
        id="and",
    ),
    pytest.param(
        Or(
            items=(
                PropertyFilter(property="youngs_modulus", interval=Interval(low=10000, low_open=True)),
                PropertyFilter(property="tensile_strength", interval=Interval(low=500, low_open=True)),
            )
        ),
        {
            "bool": {
                "should": [
                    nested(shown(prop("youngs_modulus", intersects(gt=10000.0)), within(gt=10000.0)), 0),
                    nested(shown(prop("tensile_strength", intersects(gt=500.0)), within(gt=500.0)), 1),
                ],
                "minimum_should_match": 1,
            }
        },
        id="or-names-inner-hits-apart",
    ),
    pytest.param(Contains(element="Ni"), {"term": {"elements_possible": "Ni"}}, id="contains"),
    pytest.param(
        Not(item=Contains(element="Ni")),
        {"bool": {"must_not": [{"term": {"elements_possible": "Ni"}}]}},
        id="not-contains",
    ),
    pytest.param(
        ElementContent(element="Al", basis="wt", interval=Interval(low=5.5, high=6.75)),
        element_content("Al", "wt", {"gte": 5.5, "lte": 6.75, "relation": "intersects"}),
        id="composition-interval",
    ),
    pytest.param(
        ElementContent(element="Ni", basis="wt", interval=Interval(low=0.0, high=0.0)),
        {
            "bool": {
                "should": [
                    element_content("Ni", "wt", {"gte": 0.0, "lte": 0.0, "relation": "intersects"}),
                    {
                        "bool": {
                            "filter": [{"term": {"element_bases": "wt"}}],
                            "must_not": [
                                {
                                    "nested": {
                                        "path": "elements",
                                        "query": {
                                            "bool": {
                                                "filter": [
                                                    {"term": {"elements.element": "Ni"}},
                                                    {"term": {"elements.basis": "wt"}},
                                                ]
                                            }
                                        },
                                    }
                                }
                            ],
                        }
                    },
                ],
                "minimum_should_match": 1,
            }
        },
        id="composition-zero-is-also-an-element-a-complete-composition-does-not-name",
    ),
    pytest.param(
        ElementContent(element="Ni", basis="at", interval=Interval(low=0.0, low_open=True)),
        element_content("Ni", "at", {"gt": 0.0, "relation": "intersects"}),
        id="composition-above-zero-at",
    ),
    pytest.param(Or(items=()), {"match_none": {}}, id="empty-or"),
    pytest.param(
        Not(item=HasProperty(property="youngs_modulus")),
        {"bool": {"must_not": [nested(prop("youngs_modulus", HAS_VALUE), None)]}},
        id="not-shows-no-measurements",
    ),
    pytest.param(
        And(items=(Not(item=Or(items=(HasProperty(property="density"), PLLA))), HasProperty(property="porosity"))),
        {
            "bool": {
                "filter": [
                    {
                        "bool": {
                            "must_not": [
                                {
                                    "bool": {
                                        "should": [
                                            nested(prop("density", HAS_VALUE), None),
                                            {"terms": {"material_id": [3, 7]}},
                                        ],
                                        "minimum_should_match": 1,
                                    }
                                }
                            ]
                        }
                    },
                    has(prop("porosity", HAS_VALUE), 0),
                ]
            }
        },
        id="not-or-then-positive",
    ),
]


@pytest.mark.parametrize(("node", "expected"), FILTERS)
def test_filter_node_translates_to(node, expected):
    assert ElasticTranslator(CHEMISTRY).filter(node) == expected


@pytest.mark.parametrize(("node", "expected"), FILTERS)
def test_every_translation_is_query_dsl_the_official_client_knows(node, expected):
    # elasticsearch.dsl refuses a query type it does not know (UnknownDslObject)
    assert Search.from_dict({"query": expected}).to_dict() == {"query": expected}


@pytest.mark.parametrize("filter_text", PARITY_FILTERS)
def test_every_parity_filter_translates_to_query_dsl_the_official_client_knows(filter_text):
    from biomatdb_search.service import build_query

    query = build_query(filter_text=filter_text, facets=list(FACETS), sort="-density")
    derived_ids = {(node, match): [1] for node in derived_nodes(query.filter) for match in ("possible", "certain")}
    body = query_body(
        query,
        chemistry_ids={node: {1: 0.9} for node in chemistry_nodes(query.filter)},
        offset=0,
        derived_ids=derived_ids,
    )
    assert Search.from_dict(body).to_dict() == body


@pytest.mark.parametrize(
    "node",
    [
        PropertyFilter(property="density", where=(Condition(field="medium", op="<", value="PBS"),)),
        Substructure(pattern="c1ccccc1"),  # not resolved by the chemistry index
    ],
)
def test_what_the_translator_cannot_answer_is_a_query_error(node):
    with pytest.raises(QueryError):
        ElasticTranslator(CHEMISTRY).filter(node)


def test_chemistry_nodes_are_collected_once_each_from_anywhere_in_the_tree():
    node = And(items=(PLLA, Not(item=Or(items=(STYRENE, PLLA))), HasProperty(property="density")))
    assert chemistry_nodes(node) == [PLLA, STYRENE]
    assert chemistry_nodes(None) == []


ALL_FACET_AGGS = {
    "class": {"terms": {"field": "class", "size": 1000}},
    "application": {"terms": {"field": "applications.keyword", "size": 1000}},
    "biodegradable": {"terms": {"field": "biodegradable", "size": 1000}},
    "origin": {"terms": {"field": "origin", "size": 1000}},
    "property": {"terms": {"field": "properties", "size": 1000}},
    "dataset": {"terms": {"field": "datasets", "size": 1000}},
    "element": {"terms": {"field": "elements_possible", "size": 1000}},
    "endpoint": {"terms": {"field": "endpoints", "size": 1000}},
    "outcome": {"terms": {"field": "outcomes", "size": 1000}},
    "medium": {"terms": {"field": "media", "size": 1000}},
    "state": {"terms": {"field": "specimen_states", "size": 1000}},
}


def test_body_with_filter_facets_and_property_sort_ascending():
    query = Query(
        filter=HasProperty(property="glass_transition_temperature"),
        facets=list(FACETS),
        sort=Sort.parse("glass_transition_temperature"),
        limit=50,
    )
    body = query_body(query, chemistry_ids={}, offset=0)
    assert Search.from_dict(body).to_dict() == body
    assert body == {
        "query": {"bool": {"filter": [has(prop("glass_transition_temperature", HAS_VALUE))]}},
        "sort": [
            {
                "measurements.sort_low": {
                    "order": "asc",
                    "mode": "min",
                    "missing": "_last",
                    "nested": {
                        "path": "measurements",
                        "filter": {"term": {"measurements.property": "glass_transition_temperature"}},
                    },
                }
            },
            *NAME_ORDER,
        ],
        "from": 0,
        "size": 50,
        "track_total_hits": True,
        "_source": SOURCE_FIELDS,
        "aggs": ALL_FACET_AGGS,
    }


@pytest.mark.parametrize(
    ("sort", "text", "expected"),
    [
        (
            "-glass_transition_temperature",
            None,
            [
                {
                    "measurements.sort_high": {
                        "order": "desc",
                        "mode": "max",
                        "missing": "_last",
                        "nested": {
                            "path": "measurements",
                            "filter": {"term": {"measurements.property": "glass_transition_temperature"}},
                        },
                    }
                },
                *NAME_ORDER,
            ],
        ),
        ("name", None, NAME_ORDER),
        ("-name", None, [{"name_key": "desc"}, {"public_id": "desc"}]),
        (None, None, NAME_ORDER),
        ("relevance", None, NAME_ORDER),
        (None, "poly", [{"_score": "desc"}, *NAME_ORDER]),
        ("relevance", "poly", [{"_score": "desc"}, *NAME_ORDER]),
    ],
)
def test_sort(sort, text, expected):
    query = Query(text=text, sort=Sort.parse(sort))
    assert query_body(query, chemistry_ids={}, offset=0)["sort"] == expected


def test_a_body_built_alone_resolves_its_sort_or_refuses_it_as_the_checks_do():
    # query_body without the backend's checks: an alias is resolved to its key, a bogus key is
    # refused with the SQL backend's guidance, not sent as a sort no document can match
    by_alias = query_body(Query(sort=Sort.parse("-E")), chemistry_ids={}, offset=0)["sort"]
    by_key = query_body(Query(sort=Sort.parse("-youngs_modulus")), chemistry_ids={}, offset=0)["sort"]
    assert by_alias == by_key and "youngs_modulus" in str(by_key)
    with pytest.raises(QueryError, match=r"cannot sort by 'stiffness_bogus'.*sort by name, relevance"):
        query_body(Query(sort=Sort.parse("-stiffness_bogus")), chemistry_ids={}, offset=0)


def test_similarity_orders_by_score_when_nothing_else_is_asked():
    query = Query(filter=STYRENE)
    body = query_body(query, chemistry_ids={STYRENE: {5: 0.81, 2: 0.5}}, offset=0)
    assert body["query"] == {"bool": {"filter": [{"terms": {"material_id": [2, 5]}}]}}
    assert body["sort"] == [
        {
            "_script": {
                "type": "number",
                "order": "desc",
                "script": {
                    "lang": "painless",
                    "source": "(double) params.scores.getOrDefault(String.valueOf(doc['material_id'].value), 0.0)",
                    "params": {"scores": {"2": 0.5, "5": 0.81}},
                },
            }
        },
        *NAME_ORDER,
    ]
    by_name = Query(filter=STYRENE, sort=Sort.parse("name"))
    assert query_body(by_name, chemistry_ids={STYRENE: {5: 0.81}}, offset=0)["sort"] == NAME_ORDER


def test_text_is_every_word_as_a_prefix_and_relevance_is_the_name_match_weights():
    body = query_body(
        Query(text="Méthyl acryl", filter=FieldFilter(field="class", value="polymer")), chemistry_ids={}, offset=0
    )

    def every(clause, field):
        return {"bool": {"filter": [{clause: {field: "methyl"}}, {clause: {field: "acryl"}}]}}

    assert body["query"] == {
        "bool": {
            "filter": [
                {"prefix": {"search_text": "methyl"}},
                {"prefix": {"search_text": "acryl"}},
                {"term": {"class": {"value": "polymer", "case_insensitive": True}}},
            ],
            "should": [
                {"constant_score": {"boost": 8, "filter": every("term", "name_words")}},
                {"constant_score": {"boost": 4, "filter": every("term", "names_words")}},
                {"constant_score": {"boost": 2, "filter": every("prefix", "name_words")}},
                {"constant_score": {"boost": 1, "filter": every("prefix", "names_words")}},
            ],
        }
    }
    assert body["track_scores"] is True  # a text hit's score, whatever the sort


def test_no_text_and_no_filter_matches_everything_and_asks_no_aggregations():
    assert query_body(Query(), chemistry_ids={}, offset=0) == {
        "query": {"match_all": {}},
        "sort": NAME_ORDER,
        "from": 0,
        "size": 20,
        "track_total_hits": True,
        "_source": SOURCE_FIELDS,
    }


def test_a_cursor_without_sort_values_becomes_from_and_the_result_window_is_a_typed_limit():
    query = Query(filter=HasProperty(property="density"), limit=25)
    assert query_body(query, chemistry_ids={}, offset=75)["from"] == 75
    assert query_body(query, chemistry_ids={}, offset=9975)["size"] == 25
    with pytest.raises(QueryError) as raised:
        query_body(query, chemistry_ids={}, offset=9976)
    assert raised.value.type == "unsupported"


def test_a_cursor_with_sort_values_pages_by_search_after_past_any_window():
    query = Query(filter=HasProperty(property="density"), limit=25)
    body = query_body(query, chemistry_ids={}, offset=250_000, search_after=["pla", "BM-0042"])
    assert body["search_after"] == ["pla", "BM-0042"] and "from" not in body and body["size"] == 25


def test_the_next_cursor_carries_the_last_hits_sort_values_and_they_come_back():
    from biomatdb_search.model import cursor_after, decode_cursor

    query = Query(filter=HasProperty(property="density"), limit=1)
    hit = {
        "_id": "1",
        "_source": {"material_id": 1, "public_id": "BM-0001", "name": "Titanium", "class": "metal"},
        "sort": ["titanium", "BM-0001"],
    }
    response = {"hits": {"total": {"value": 20_000, "relation": "eq"}, "hits": [hit]}}
    cursor = parse_response(response, query, offset=12_000).next_cursor
    follow = query.model_copy(update={"cursor": cursor})
    assert (decode_cursor(follow), cursor_after(follow)) == (12_001, ["titanium", "BM-0001"])
    assert query_body(follow, chemistry_ids={}, offset=12_001, search_after=cursor_after(follow))["search_after"] == [
        "titanium",
        "BM-0001",
    ]


def test_an_infinite_sort_value_is_kept_in_the_cursor_as_elasticsearch_parses_it():
    from biomatdb_search.model import cursor_after

    query = Query(filter=HasProperty(property="density"), limit=1, sort=Sort(key="density"))
    hit = {"_id": "1", "_source": {"material_id": 1, "public_id": "BM-1", "name": "X"}, "sort": [float("inf"), "x"]}
    response = {"hits": {"total": {"value": 2, "relation": "eq"}, "hits": [hit]}}
    cursor = parse_response(response, query).next_cursor
    assert cursor_after(query.model_copy(update={"cursor": cursor})) == ["Infinity", "x"]


def test_text_of_punctuation_only_with_no_filter_matches_everything_as_in_sql():
    body = query_body(Query(text="?!-- //"), chemistry_ids={}, offset=0)
    assert body["query"] == {"match_all": {}}


def test_chemistry_ids_beyond_max_terms_count_are_split_into_clauses_under_it():
    from biomatdb_search.backends.elastic_translate import MAX_TERMS

    node = Substructure(pattern="C(=O)O")
    found = dict.fromkeys(range(1, 2 * MAX_TERMS + 10), 1.0)
    clause = ElasticTranslator({node: found}).filter(node)
    chunks = [item["terms"]["material_id"] for item in clause["bool"]["should"]]
    assert clause["bool"]["minimum_should_match"] == 1
    assert [len(chunk) for chunk in chunks] == [MAX_TERMS, MAX_TERMS, 9]
    assert sorted(i for chunk in chunks for i in chunk) == sorted(found)
    small = ElasticTranslator({node: {3: 1.0, 1: 1.0}}).filter(node)
    assert small == {"terms": {"material_id": [1, 3]}}


# --- (a) the mapping and documents ---------------------------------------------------------


def test_mapping_is_explicit_with_nested_measurements_and_ranges():
    mapping = index_mapping()
    assert mapping["dynamic"] == "strict"
    fields = mapping["properties"]
    keyword = {"type": "keyword", "ignore_above": 8191}
    condition = {"type": "keyword", "normalizer": "lowercase_keyword", "ignore_above": 8191}
    stored = {"type": "keyword", "index": False, "doc_values": False}
    assert fields["measurements"] == {
        "type": "nested",
        "properties": {
            "id": {"type": "long"},
            "property": keyword,
            "qualifier": keyword,
            "interval": {"type": "double_range"},
            "interval_uncertain": {"type": "double_range"},
            "value": {"type": "double"},
            "value_min": {"type": "double"},
            "value_max": {"type": "double"},
            "sort_low": {"type": "double"},
            "sort_high": {"type": "double"},
            "uncertainty": {"type": "double"},
            "unit": keyword,
            "temperature_K": {"type": "double"},
            "medium": condition,
            "method": condition,
            "standard": condition,
            "specimen_state": condition,
            "dataset": condition,
            "source_doi": condition,
            "source_citation": stored,
            "source_citation_hash": keyword,
            "verbatim_value": stored,
            "verbatim_unit": stored,
            "verbatim_uncertainty": stored,
        },
    }
    text = {"type": "text", "analyzer": "words", "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}}
    for name in ("name", "synonyms", "description", "applications"):
        assert fields[name] == text, name
    for name in ("public_id", "name_key", "class", "subclass", "origin", "properties", "datasets"):
        assert fields[name] == keyword, name
    assert fields["material_id"] == {"type": "integer"}
    assert "fp_bits" not in fields  # no query used it
    assert fields["biodegradable"] == {"type": "boolean"}
    assert fields["search_text"] == {
        "type": "text",
        "analyzer": "folded_words",
        "index_prefixes": {"min_chars": 1, "max_chars": 10},
    }
    analysis = index_settings()["analysis"]
    assert analysis["normalizer"] == {"lowercase_keyword": {"type": "custom", "filter": ["lowercase"]}}
    assert analysis["analyzer"]["words"]["filter"] == ["lowercase", "term_bound"]
    assert analysis["analyzer"]["folded_words"] == {"type": "custom", "tokenizer": "folded_words"}


def test_no_analysed_word_can_be_an_immense_term():
    """A 40,000-letter word in a description or the search text would be one term over Lucene's
    32,766 bytes, and refuse the document (400): the raw text fields' analyzer cuts words so that
    even four-byte letters stay under it; the search text holds words the core cut already
    (``WORD_MAX_BYTES``), which its whitespace tokenizer never cuts again."""
    analysis = index_settings()["analysis"]
    bound = analysis["filter"]["term_bound"]
    assert bound["type"] == "truncate" and bound["length"] * 4 <= 32_766
    assert analysis["analyzer"]["words"]["filter"][-1] == "term_bound"
    assert analysis["tokenizer"]["folded_words"]["max_token_length"] * 4 <= 32_766

    def analysers(fields):
        for field in fields.values():
            if field.get("type") == "text":
                yield field["analyzer"]
            yield from analysers(field.get("properties", {}))
            yield from analysers(field.get("fields", {}))

    used = set(analysers(index_mapping()["properties"]))
    assert used == {"words", "folded_words"}  # no text field escapes the bound


@pytest.mark.parametrize(
    ("qualifier", "low", "high", "expected"),
    [
        ("=", 3.5, 3.5, {"gte": 3.5, "lte": 3.5}),
        ("~", 60.0, 60.0, {"gte": 60.0, "lte": 60.0}),
        ("range", 50.0, 70.0, {"gte": 50.0, "lte": 70.0}),
        (">", 860.0, None, {"gt": 860.0}),
        (">=", 860.0, None, {"gte": 860.0}),
        ("<", None, 5.0, {"lt": 5.0}),
        ("<=", None, 5.0, {"lte": 5.0}),
    ],
)
def test_measurement_interval(qualifier, low, high, expected):
    assert measurement_interval(qualifier, low, high) == expected


MEASUREMENT_ROW = {
    "id": 41,
    "property_key": "tensile_strength",
    "qualifier": ">",
    "value": None,
    "value_min": 860.0,
    "value_max": None,
    "uncertainty": None,
    "unit": "MPa",
    "temperature_K": 310.15,
    "medium": "PBS",
    "method": "ISO 527",
    "standard": None,
    "specimen_state": None,
    "dataset": "Wide",
    "doi": "10.5555/test.ti",
    "citation": None,
    "verbatim_value": ">860",
    "verbatim_unit": "MPa",
}


def test_document_from_a_known_measurement():
    material = {
        "id": 3,
        "public_id": "BM-0003",
        "name": "Ethanol gel",
        "name_key": "ethanol gel",
        "class": "hydrogel",
        "subclass": None,
        "description": "A test gel",
        "biodegradable": True,
        "origin": "synthetic",
    }
    document = material_document(
        material=material,
        synonyms=["EtOH gel"],
        applications=["wound_dressing"],
        measurements=[MEASUREMENT_ROW],
    )
    assert document == {
        "material_id": 3,
        "public_id": "BM-0003",
        "name": "Ethanol gel",
        "name_key": "ethanol gel",
        "synonyms": ["EtOH gel"],
        "description": "A test gel",
        "applications": ["wound_dressing"],
        "class": "hydrogel",
        "subclass": None,
        "biodegradable": True,
        "origin": "synthetic",
        # no stored search columns: derived as the core derives them (biomatdb.searchtext)
        "search_text": "ethanol gel etoh ethanolgel etohgel hydrogel a test wound dressing",
        "name_words": ["ethanol", "gel", "ethanolgel"],
        "names_words": ["ethanol", "gel", "ethanolgel", "etoh", "etohgel"],
        "properties": ["tensile_strength"],
        "datasets": ["Wide"],
        "elements": [],
        "elements_possible": [],
        "elements_certain": [],
        "element_bases": [],
        "media": ["PBS"],
        "specimen_states": [],
        "endpoints": [],
        "outcomes": [],
        "evidence": [],
        "measurements": [
            {
                "id": 41,
                "property": "tensile_strength",
                "qualifier": ">",
                "interval": {"gt": 860.0},
                "interval_uncertain": {"gt": 860.0},
                "value": None,
                "value_min": 860.0,
                "value_max": None,
                "sort_low": 860.0,
                "sort_high": 860.0,
                "uncertainty": None,
                "unit": "MPa",
                "temperature_K": 310.15,
                "medium": "PBS",
                "method": "ISO 527",
                "standard": None,
                "specimen_state": None,
                "dataset": "Wide",
                "source_doi": "10.5555/test.ti",
                "source_citation": None,
                "source_citation_hash": None,
                "verbatim_value": ">860",
                "verbatim_unit": "MPa",
                "verbatim_uncertainty": None,
            }
        ],
    }
    assert set(document) == set(index_mapping()["properties"])
    assert set(document["measurements"][0]) == set(index_mapping()["properties"]["measurements"]["properties"])


def test_a_qualitative_measurement_has_no_interval_and_no_property_facet():
    """An empty double_range would be (−∞, ∞), which every range query meets: "amorphous" in a Tm cell
    would have matched Tm > 0 degC. And the property facet counts what ``has`` finds."""
    material = {
        "id": 3,
        "public_id": "BM-0003",
        "name": "PDLLA",
        "name_key": "pdlla",
        "class": "polymer",
        "subclass": None,
        "description": None,
        "biodegradable": True,
        "origin": "synthetic",
    }
    amorphous = {
        **MEASUREMENT_ROW,
        "id": 42,
        "property_key": "melting_temperature",
        "qualifier": "term",
        "value_min": None,
        "unit": "K",
        "temperature_K": None,
        "medium": None,
        "method": "DSC",
    }
    document = material_document(
        material=material, synonyms=[], applications=[], measurements=[MEASUREMENT_ROW, amorphous]
    )
    assert document["properties"] == ["tensile_strength"] and document["datasets"] == ["Wide"]
    qualitative = document["measurements"][1]
    assert (qualitative["qualifier"], qualitative["interval"], qualitative["sort_low"], qualitative["sort_high"]) == (
        "term",
        None,
        None,
        None,
    )
    assert set(qualitative) == set(index_mapping()["properties"]["measurements"]["properties"])


def test_documents_from_core_read_in_batches(sqlite_engine, tmp_path):
    assert ingest_file(sqlite_engine, write(tmp_path, "wide.csv", WIDE_CSV)).loaded
    statements = []
    event.listen(sqlite_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with sqlite_engine.connect() as connection:
        documents = {d["name"]: d for d in documents_from_core(connection)}
    # the ids, then synonyms, applications, measurements, evaluations, elements, complete bases, materials
    assert len(statements) == 1 + 7
    assert sorted(documents) == ["PCL", "PLLA", "Ti-6Al-4V"]
    ti = documents["Ti-6Al-4V"]
    strength = next(m for m in ti["measurements"] if m["property"] == "tensile_strength")
    assert (strength["qualifier"], strength["interval"], strength["source_citation"]) == (
        ">",
        {"gt": 860.0},
        "Test handbook 2001",
    )
    assert ti["class"] == "metal"  # the vocabulary reads "alloy" as metal
    assert "density" in documents["PLLA"]["properties"]
    assert documents["PLLA"]["datasets"] == ["wide"]
    # a repeat unit's atoms, hydrogens counted: its mass fractions, a complete composition by mass
    plla = documents["PLLA"]
    assert plla["elements_certain"] == ["C", "H", "O"] and plla["element_bases"] == ["wt"]
    carbon = next(e for e in plla["elements"] if e["element"] == "C")
    assert carbon["basis"] == "wt" and carbon["interval"]["gte"] == pytest.approx(50.0, abs=0.01)  # C3H4O2
    assert ti["elements"] == [] and ti["element_bases"] == []  # no composition, no structure
    with sqlite_engine.connect() as connection:
        assert [d["name"] for d in documents_from_core(connection, [documents["PCL"]["material_id"], 10_000])] == [
            "PCL"
        ]


# --- (a) responses -------------------------------------------------------------------------


def _nested_source(id_: int, prop_key: str, **extra) -> dict:
    return {
        "id": id_,
        "property": prop_key,
        "qualifier": "=",
        "value": 1.25,
        "value_min": 1.25,
        "value_max": 1.25,
        "uncertainty": None,
        "unit": "g/cm^3",
        "temperature_K": None,
        "medium": None,
        "method": None,
        "standard": None,
        "specimen_state": None,
        "dataset": "wide",
        "source_doi": None,
        "source_citation": "Test handbook 2001",
        **extra,
    }


def _inner(*sources: dict) -> dict:
    return {
        "hits": {
            "total": {"value": len(sources), "relation": "eq"},
            "hits": [
                {"_index": "biomatdb-1", "_id": "1", "_nested": {"field": "measurements", "offset": i}, "_source": s}
                for i, s in enumerate(sources)
            ],
        }
    }


RESPONSE: dict[str, Any] = {
    "took": 3,
    "timed_out": False,
    "hits": {
        "total": {"value": 3, "relation": "eq"},
        "max_score": None,
        "hits": [
            {
                "_index": "biomatdb-1",
                "_id": "1",
                "_score": None,
                "sort": ["pcl", "BM-0001"],
                "_source": {"material_id": 1, "public_id": "BM-0001", "name": "PCL", "class": "polymer"},
                "inner_hits": {
                    "m0": _inner(
                        _nested_source(12, "glass_transition_temperature", medium="PBS", temperature_K=310.15),
                        _nested_source(11, "density", source_doi="10.5555/x"),
                    ),
                    "m1": _inner(_nested_source(11, "density", source_doi="10.5555/x")),
                },
            },
            {
                "_index": "biomatdb-1",
                "_id": "2",
                "_score": None,
                "sort": ["plla", "BM-0002"],
                "_source": {"material_id": 2, "public_id": "BM-0002", "name": "PLLA", "class": None},
                "inner_hits": {"m0": _inner(), "m1": _inner()},
            },
        ],
    },
    "aggregations": {
        "class": {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": 0,
            "buckets": [
                {"key": "alloy", "doc_count": 1},
                {"key": "polymer", "doc_count": 2},
                {"key": "ceramic", "doc_count": 1},
            ],
        },
        "biodegradable": {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": 0,
            "buckets": [
                {"key": 1, "key_as_string": "true", "doc_count": 2},
                {"key": 0, "key_as_string": "false", "doc_count": 1},
            ],
        },
    },
}


def test_parse_response():
    query = Query(filter=HasProperty(property="density"), facets=["class", "biodegradable"], limit=2)
    result = parse_response(RESPONSE, query, offset=0, scores={2: 0.75})
    assert result.total == 3
    assert result.next_cursor == encode_cursor(query, 2, RESPONSE["hits"]["hits"][-1]["sort"])
    assert [(h.id, h.name, h.material_class, h.score) for h in result.results] == [
        ("BM-0001", "PCL", "polymer", None),
        ("BM-0002", "PLLA", None, 0.75),
    ]
    shown = result.results[0].measurements
    assert [(m.property, m.value, m.dataset, m.source, m.conditions) for m in shown] == [
        ("density", 1.25, "wide", "doi:10.5555/x", {}),
        (
            "glass_transition_temperature",
            1.25,
            "wide",
            "Test handbook 2001",
            {"temperature_K": 310.15, "medium": "PBS"},
        ),
    ]
    assert result.results[1].measurements == []
    assert {name: [(v.value, v.count) for v in values] for name, values in result.facets.items()} == {
        "class": [("polymer", 2), ("alloy", 1), ("ceramic", 1)],
        "biodegradable": [("true", 2), ("false", 1)],
    }
    assert parse_response(RESPONSE, query, offset=2).next_cursor is None


def test_a_shown_measurement_is_certain_when_its_named_within_clause_matched():
    def inner_hit(source: dict, *names: str) -> dict:
        return {
            "_index": "biomatdb-1",
            "_id": "1",
            "_nested": {"field": "measurements", "offset": 0},
            "_source": source,
            **({"matched_queries": list(names)} if names else {}),
        }

    body = {
        "hits": {
            "total": {"value": 1, "relation": "eq"},
            "hits": [
                {
                    "_index": "biomatdb-1",
                    "_id": "1",
                    "_score": None,
                    "_source": {"material_id": 1, "public_id": "BM-0001", "name": "PCL", "class": "polymer"},
                    "inner_hits": {
                        "m0": {
                            "hits": {
                                "hits": [
                                    inner_hit(_nested_source(1, "youngs_modulus"), "certain"),
                                    inner_hit(_nested_source(2, "youngs_modulus")),
                                ]
                            }
                        },
                        "h1": {"hits": {"hits": [inner_hit(_nested_source(3, "density"))]}},
                    },
                }
            ],
        }
    }
    query = Query(
        filter=And(
            items=(
                PropertyFilter(property="youngs_modulus", interval=Interval(low=1.0)),
                HasProperty(property="density"),
            )
        )
    )
    shown = parse_response(body, query).results[0].measurements
    assert [(m.property, m.certainty) for m in shown] == [
        ("density", None),
        ("youngs_modulus", "certain"),
        ("youngs_modulus", "possible"),
    ]


def test_a_certain_search_asks_for_intervals_within():
    node = PropertyFilter(property="density", interval=Interval(low=4))
    assert ElasticTranslator(CHEMISTRY, "certain").filter(node) == nested(
        shown(prop("density", within(gte=4.0)), within(gte=4.0))
    )
    negated = ElasticTranslator(CHEMISTRY, "certain").filter(Not(item=node))
    assert negated == {"bool": {"must_not": [nested(prop("density", within(gte=4.0)), None)]}}


def _on_uncertain(query: dict) -> dict:
    """``query`` with its ranges on ``interval_uncertain``: what ``uncertainty=interval`` asks."""
    import json

    return json.loads(json.dumps(query).replace('"measurements.interval"', '"measurements.interval_uncertain"'))


@pytest.mark.parametrize("match", ["possible", "certain"])
def test_uncertainty_interval_asks_the_widened_interval(match):
    node = PropertyFilter(
        property="tensile_strength", interval=Interval(low=245), where=(Condition(field="medium", value="PBS"),)
    )
    point = ElasticTranslator(CHEMISTRY, match).filter(node)
    widened = ElasticTranslator(CHEMISTRY, match, uncertainty="interval").filter(node)
    assert widened == _on_uncertain(point) != point
    relation = "within" if match == "certain" else "intersects"
    ranges = widened["nested"]["query"]["bool"]["filter"][1]
    assert ranges == {"range": {"measurements.interval_uncertain": {"gte": 245.0, "relation": relation}}}
    body = query_body(Query(filter=node, uncertainty="interval", match=match), chemistry_ids={}, offset=0)
    assert "measurements.interval_uncertain" in str(body) and '"measurements.interval"' not in str(body).replace(
        "'", '"'
    )


@pytest.mark.parametrize(
    ("qualifier", "low", "high", "uncertainty", "expected"),
    [
        ("=", 240.0, 240.0, 7.0, {"gte": 233.0, "lte": 247.0}),
        ("=", 240.0, 240.0, None, {"gte": 240.0, "lte": 240.0}),
        ("=", 240.0, 240.0, -7.0, {"gte": 233.0, "lte": 247.0}),
        ("range", 90.0, 100.0, 5.0, {"gte": 85.0, "lte": 105.0}),
        (">", 60.0, None, 5.0, {"gt": 55.0}),
        ("<=", None, 5.0, 1.0, {"lte": 6.0}),
    ],
)
def test_the_uncertain_interval_widens_each_end_by_u(qualifier, low, high, uncertainty, expected):
    assert uncertain_interval(qualifier, low, high, uncertainty) == expected


def test_the_medium_and_state_facets_count_the_material_level_arrays():
    body = query_body(Query(facets=["medium", "state"]), chemistry_ids={}, offset=0)
    assert body["aggs"] == {
        "medium": {"terms": {"field": "media", "size": 1000}},
        "state": {"terms": {"field": "specimen_states", "size": 1000}},
    }
    mapping = index_mapping()["properties"]
    assert mapping["media"] == mapping["specimen_states"] == {"type": "keyword", "ignore_above": 8191}  # as stored


def test_a_certain_composition_filter_asks_for_surely_present_elements_and_contents_within():
    translator = ElasticTranslator({}, "certain")
    assert translator.filter(Contains(element="Ni")) == {"term": {"elements_certain": "Ni"}}
    assert translator.filter(
        ElementContent(element="Ti", basis="wt", interval=Interval(low=88.0, high=92.0))
    ) == element_content("Ti", "wt", {"gte": 88.0, "lte": 92.0, "relation": "within"})


def test_a_document_carries_element_contents_presences_and_complete_bases():
    material = {
        "id": 9,
        "public_id": "BM-0009",
        "name": "Test alloy",
        "name_key": "test alloy",
        "class": "metal",
        "subclass": None,
        "description": None,
        "biodegradable": None,
        "origin": None,
    }
    rows: list[dict[str, object]] = [
        {
            "element": "Al",
            "basis": "wt",
            "fraction_min": 5.5,
            "fraction_max": 6.75,
            "low_open": False,
            "high_open": False,
            "presence": "certain",
        },
        {
            "element": "Ni",
            "basis": "wt",
            "fraction_min": 0.0,
            "fraction_max": 0.1,
            "low_open": False,
            "high_open": True,
            "presence": "possible",
        },
        {
            "element": "Co",
            "basis": "wt",
            "fraction_min": 0.0,
            "fraction_max": 0.0,
            "low_open": False,
            "high_open": False,
            "presence": "absent",
        },
        {
            "element": "Ca",
            "basis": None,
            "fraction_min": None,
            "fraction_max": None,
            "low_open": False,
            "high_open": False,
            "presence": "certain",
        },
    ]
    document = material_document(
        material=material,
        synonyms=[],
        applications=[],
        measurements=[],
        elements=rows,
        element_bases=["wt"],
    )
    assert document["elements"] == [
        {"element": "Al", "basis": "wt", "interval": {"gte": 5.5, "lte": 6.75}},
        {"element": "Ni", "basis": "wt", "interval": {"gte": 0.0, "lt": 0.1}},
        {"element": "Co", "basis": "wt", "interval": {"gte": 0.0, "lte": 0.0}},
    ]
    assert document["elements_possible"] == ["Al", "Ca", "Ni"]
    assert document["elements_certain"] == ["Al", "Ca"]
    assert document["element_bases"] == ["wt"]
    assert set(document) == set(index_mapping()["properties"])
    assert set(document["elements"][0]) == set(index_mapping()["properties"]["elements"]["properties"])


def test_under_relevance_a_certain_match_is_boosted_and_the_boost_left_out_of_the_score():
    query = Query(text="titanium", filter=PropertyFilter(property="density", interval=Interval(low=4)))
    body = query_body(query, chemistry_ids={}, offset=0)
    assert Search.from_dict(body).to_dict() == body
    assert body["query"]["bool"]["should"][-1] == {
        "constant_score": {
            "boost": 1000.0,
            "filter": {"nested": {"path": "measurements", "query": prop("density", within(gte=4.0))}},
        }
    }
    certain = query_body(query.model_copy(update={"match": "certain"}), chemistry_ids={}, offset=0)
    assert all(
        "constant_score" not in clause or clause["constant_score"]["boost"] != 1000.0
        for clause in certain["query"]["bool"]["should"]
    )
    hit = {
        "_index": "biomatdb-1",
        "_id": "1",
        "_score": 1012.0,
        "_source": {"material_id": 1, "public_id": "BM-0001", "name": "Titanium", "class": "metal"},
    }
    response = {"hits": {"total": {"value": 1, "relation": "eq"}, "hits": [hit]}}
    assert parse_response(response, query).results[0].score == round(12 / 15, 6)


# --- (b) the outbox while Elasticsearch is unreachable ---------------------------------------


@pytest.fixture
def unreachable_url() -> str:
    """An address nothing listens on: a port the OS just handed out, closed again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def unreachable_client(unreachable_url):
    """A real client pointed at that address."""
    client = Elasticsearch(unreachable_url)
    yield client
    client.close()


def _outbox(engine) -> list[tuple[int, int]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(select(SearchOutbox.id, SearchOutbox.material_id).order_by(SearchOutbox.id))
        ]


def test_nothing_is_lost_while_elasticsearch_is_down(sqlite_engine, tmp_path, unreachable_client):
    assert ingest_file(sqlite_engine, write(tmp_path, "wide.csv", WIDE_CSV)).loaded
    first = _outbox(sqlite_engine)
    with sqlite_engine.connect() as connection:
        materials = set(connection.execute(select(Material.id)).scalars())
    assert {material_id for _, material_id in first} == materials  # the loader writes the outbox

    with pytest.raises(SearchUnavailable) as raised:
        sync(sqlite_engine, unreachable_client, "biomatdb")
    assert raised.value.type == "search-unavailable"
    assert "Elasticsearch is unavailable" in raised.value.message
    assert _outbox(sqlite_engine) == first

    assert ingest_file(sqlite_engine, write(tmp_path, "long.tsv", LONG_TSV)).loaded
    second = _outbox(sqlite_engine)
    assert second[: len(first)] == first and len(second) > len(first)
    with pytest.raises(SearchUnavailable):
        sync(sqlite_engine, unreachable_client, "biomatdb")
    assert _outbox(sqlite_engine) == second
    with sqlite_engine.connect() as connection:
        assert {m for _, m in second} == set(connection.execute(select(Material.id)).scalars())


def test_reindex_against_an_unreachable_node_says_so(sqlite_engine, unreachable_client):
    with pytest.raises(SearchUnavailable):
        reindex(sqlite_engine, unreachable_client, "biomatdb")


def test_search_against_an_unreachable_node_says_so(sqlite_engine, unreachable_client):
    backend = ElasticBackend(unreachable_client, "biomatdb", sqlite_engine)
    with pytest.raises(SearchUnavailable):
        backend.search(Query(filter=HasProperty(property="density")))


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "data"))
    for name in ("BIOMATDB_DATABASE_URL", "BIOMATDB_ELASTICSEARCH_URL", "BIOMATDB_ELASTICSEARCH_INDEX"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", ["reindex", "sync"])
def test_commands_without_an_elasticsearch_url_refuse_clearly(cli, command):
    result = cli(command)
    assert result.exit_code == 2
    assert "BIOMATDB_ELASTICSEARCH_URL is not set" in result.output


def test_sync_command_against_an_unreachable_node_fails_and_keeps_the_outbox(
    cli, tmp_path, monkeypatch, unreachable_url
):
    monkeypatch.setenv("BIOMATDB_ELASTICSEARCH_URL", unreachable_url)
    assert cli("ingest", str(write(tmp_path, "wide.csv", WIDE_CSV)), "--json").exit_code == 0
    result = cli("sync")
    assert result.exit_code == 1
    assert "Elasticsearch is unavailable" in result.output and "the outbox keeps every change" in result.output


# --- (c) the real-server suite --------------------------------------------------------------

ELASTICSEARCH_URL = os.environ.get("BIOMATDB_TEST_ELASTICSEARCH_URL")
#: primary shards of the indices the suite builds: on the three-node cluster (deploy/README.md), 3,
#: so that parity holds across shards (and replicas, which a reindex gives an index on 3 nodes)
SHARDS = int(os.environ.get("BIOMATDB_TEST_ELASTICSEARCH_SHARDS", "1"))
real_server = pytest.mark.skipif(
    not ELASTICSEARCH_URL, reason="Elasticsearch real-server suite not run: BIOMATDB_TEST_ELASTICSEARCH_URL is not set"
)


@pytest.fixture(scope="module")
def es_client():
    client = Elasticsearch(ELASTICSEARCH_URL, request_timeout=60)
    yield client
    client.close()


def _fresh_alias() -> str:
    return f"biomatdb-test-{uuid.uuid4().hex[:10]}"


def _drop(client: Elasticsearch, alias: str) -> None:
    # by name: Elasticsearch 8 refuses wildcard deletes (action.destructive_requires_name)
    for index in client.indices.get(index=f"{alias}-*", allow_no_indices=True).body:
        client.indices.delete(index=index)


@pytest.fixture(scope="module")
def parity(tmp_path_factory, es_client, fixtures_sqlite, copy_fixtures_sqlite):
    """The fixtures (a copy of the session's core, tests/cores.py), a generated dataset and a few
    qualitative values in SQLite, indexed into a fresh alias."""
    from benchmarks.generate import write_long, write_wide
    from biomatdb_search.backends.sql import SqlBackend
    from biomatdb_search.chemistry import ChemistryIndex

    folder = tmp_path_factory.mktemp("elastic-parity")
    assert all(report.ok for _, report in fixtures_sqlite.reports)
    engine = copy_fixtures_sqlite(folder / "core.sqlite")
    write_wide(folder / "generated-wide.csv", 2_400, seed=7)
    write_long(folder / "generated-long.csv", 2_000, seed=7)
    (folder / QUALITATIVE_FILE).write_text(QUALITATIVE_CSV, encoding="utf-8")
    (folder / TEXT_FILE).write_text(TEXT_CSV, encoding="utf-8")
    for name in ("generated-wide.csv", "generated-long.csv", QUALITATIVE_FILE, TEXT_FILE):
        assert ingest_file(engine, folder / name).ok
    alias = _fresh_alias()
    report = reindex(engine, es_client, alias, shards=SHARDS)
    with engine.connect() as connection:
        assert report.documents == connection.execute(select(func.count()).select_from(Material)).scalar_one()
    chemistry = ChemistryIndex(engine)
    yield {"sql": SqlBackend(engine, chemistry), "elastic": ElasticBackend(es_client, alias, engine, chemistry)}
    _drop(es_client, alias)
    engine.dispose()


def _every_page(backend, query: Query) -> tuple:
    """Every id in order (following cursors), the total, and the facets of the first page."""
    first = result = backend.search(query)
    ids = [hit.id for hit in result.results]
    while result.next_cursor:
        result = backend.search(query.model_copy(update={"cursor": result.next_cursor}))
        ids.extend(hit.id for hit in result.results)
    facets = {name: [(v.value, v.count) for v in values] for name, values in first.facets.items()}
    return first.total, ids, facets


@real_server
@pytest.mark.parametrize("filter_text", PARITY_FILTERS)
def test_filter_gives_the_same_answer_as_sql(parity, filter_text):
    from biomatdb_search.service import build_query

    query = build_query(filter_text=filter_text, facets=list(FACETS), sort="name", limit=500)
    assert _every_page(parity["elastic"], query) == _every_page(parity["sql"], query)


@real_server
@pytest.mark.parametrize(("filter_text", "sort"), SORTED_QUERIES)
def test_sorted_results_are_the_same_as_sql(parity, filter_text, sort):
    from biomatdb_search.service import build_query

    query = build_query(filter_text=filter_text, sort=sort, limit=500)
    assert _every_page(parity["elastic"], query) == _every_page(parity["sql"], query)


@real_server
@pytest.mark.parametrize("filter_text", PARITY_FILTERS)
def test_uncertainty_interval_gives_the_same_answer_as_sql(parity, filter_text):
    from biomatdb_search.service import build_query

    for match in ("possible", "certain"):
        query = build_query(
            filter_text=filter_text,
            facets=["medium", "state"],
            sort="name",
            limit=500,
            match=match,
            uncertainty="interval",
        )
        assert _every_page(parity["elastic"], query) == _every_page(parity["sql"], query)


@real_server
@pytest.mark.parametrize("text", PARITY_TEXTS)
def test_text_search_finds_and_ranks_as_sql(parity, text):
    """Prefixes, folding on both sides (Ørsted, Straße, crème), punctuation-only text as match-all."""
    from biomatdb_search.service import build_query

    matched = build_query(text=text, sort="name", limit=500, facets=["class"])
    assert _every_page(parity["elastic"], matched) == _every_page(parity["sql"], matched)
    ranked = build_query(text=text, limit=50)
    sql, elastic = parity["sql"].search(ranked), parity["elastic"].search(ranked)
    assert [(h.id, h.score) for h in elastic.results] == [(h.id, h.score) for h in sql.results]
    assert elastic.total == sql.total


@real_server
def test_cursors_page_past_ten_thousand_results_by_search_after(es_client, sqlite_engine, tmp_path):
    """Enough materials that from/size would be refused past the result window."""
    from benchmarks.generate import WIDE_PROPERTIES, write_wide

    write_wide(tmp_path / "many.csv", 10_400 * len(WIDE_PROPERTIES), seed=11)  # 10,400 materials
    assert ingest_file(sqlite_engine, tmp_path / "many.csv").ok
    alias = _fresh_alias()
    try:
        reindex(sqlite_engine, es_client, alias, shards=SHARDS)
        backend = ElasticBackend(es_client, alias, sqlite_engine)
        query = Query(limit=500, sort=Sort(key="name"))
        total, ids, _ = _every_page(backend, query)
        assert total > 10_000 and len(ids) == total == len(set(ids))
    finally:
        _drop(es_client, alias)


@real_server
def test_an_older_version_never_overwrites_a_newer_one(es_client):
    """What sync relies on: external versions keep the newest write, and the older one is a 409."""
    from biomatdb_search.backends.elastic_sync import write_bulk

    alias = _fresh_alias()
    index = f"{alias}-1"
    es_client.indices.create(index=index, mappings={"properties": {"name": {"type": "keyword"}}})
    try:
        newer = {"_op_type": "index", "_index": index, "_id": "1", "version": 20, "version_type": "external"}
        write_bulk(es_client, [{**newer, "_source": {"name": "v2"}}], doing="writing v2")
        older = write_bulk(es_client, [{**newer, "version": 10, "_source": {"name": "v1"}}], doing="writing v1")
        assert older.stale == {1}
        assert es_client.get(index=index, id="1").body["_source"] == {"name": "v2"}
    finally:
        es_client.indices.delete(index=index)


def _filled(value, names: dict[str, str]):
    text = json.dumps(value)
    for key, name in names.items():
        text = text.replace("{" + key + "}", name)
    filled = json.loads(text)
    if isinstance(filled, dict) and "query" in filled and "terms" in filled["query"]:  # {"$ids": n}
        terms = filled["query"]["terms"]
        for field, ids in terms.items():
            if isinstance(ids, dict) and "$ids" in ids:
                terms[field] = list(range(ids["$ids"]))
    return filled


def _pointer(document, pointer: str):
    for part in pointer.strip("/").split("/"):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


@real_server
@pytest.mark.parametrize(
    "name", sorted(p.stem for p in GOLDEN.glob("*.json") if golden(p.stem)["confirm"] == "real-server")
)
def test_a_golden_pair_is_what_the_node_answers(es_client, name):
    """The canned answers of tests/test_search_elastic_sync.py, confirmed on a node: the status and
    every field the pair's ``expect`` names."""
    from elasticsearch import ApiError

    pair = golden(name)
    alias = _fresh_alias()
    names = {"index": f"{alias}-golden", "alias": alias}

    def send(request):
        body = request.get("body")
        headers = {"accept": "application/json"}
        if "ndjson" in request:
            body = _filled(request["ndjson"], names)
            headers["content-type"] = "application/x-ndjson"
        elif body is not None:
            body = _filled(body, names)
            headers["content-type"] = "application/json"
        path = _filled(request["path"], names)
        try:
            response = es_client.perform_request(request["method"], path, headers=headers, body=body)
            return response.meta.status, response.body
        except ApiError as exc:
            return exc.meta.status, exc.body

    try:
        for step in pair["setup"]:
            status, answer = send(step)
            assert status < 300, (step, answer)
        status, answer = send(pair["request"])
        assert status == pair["response"]["status"], answer
        for pointer, expected in pair["expect"].items():
            assert _pointer(answer, pointer) == _filled(expected, names), (pointer, answer)
    finally:
        es_client.indices.delete(index=names["index"], ignore_unavailable=True)


@real_server
def test_matched_measurements_are_the_same_as_sql(parity):
    from biomatdb_search.service import build_query

    query = build_query(
        filter_text="glass_transition_temperature > 400 K WHERE method = experimental", sort="name", limit=20
    )
    sql, elastic = parity["sql"].search(query), parity["elastic"].search(query)
    assert [h.model_dump() for h in elastic.results] == [h.model_dump() for h in sql.results]


@real_server
def test_sync_after_an_outage_finds_the_new_material(sqlite_engine, tmp_path, es_client, unreachable_client):
    alias = _fresh_alias()
    try:
        reindex(sqlite_engine, es_client, alias)
        assert ingest_file(sqlite_engine, write(tmp_path, "wide.csv", WIDE_CSV)).loaded
        with pytest.raises(SearchUnavailable):
            sync(sqlite_engine, unreachable_client, alias)
        waiting = _outbox(sqlite_engine)
        assert waiting
        report = sync(sqlite_engine, es_client, alias, batch=2)
        assert (report.outbox_rows, report.deleted, report.deferred) == (len(waiting), 0, False)
        assert _outbox(sqlite_engine) == []
        es_client.indices.refresh(index=alias)
        backend = ElasticBackend(es_client, alias, sqlite_engine)
        result = backend.search(
            Query(text="Ti-6Al-4V", filter=PropertyFilter(property="tensile_strength", interval=Interval(low=900)))
        )
        assert [hit.name for hit in result.results] == ["Ti-6Al-4V"]
        assert [m.qualifier for m in result.results[0].measurements] == [">"]

        # a re-upload without PCL removes it from the core; the sync removes its document
        assert ingest_file(
            sqlite_engine,
            write(tmp_path, "wide.csv", WIDE_CSV.replace(WIDE_CSV.splitlines()[3] + "\n", "")),
            IngestOptions(dataset="wide"),
        ).loaded
        assert sync(sqlite_engine, es_client, alias).deleted == 1
        es_client.indices.refresh(index=alias)
        assert backend.search(Query(text="PCL")).total == 0
    finally:
        _drop(es_client, alias)


@real_server
def test_searches_never_fail_while_reindexing(sqlite_engine, tmp_path, es_client):
    assert ingest_file(sqlite_engine, write(tmp_path, "wide.csv", WIDE_CSV)).loaded
    alias = _fresh_alias()
    try:
        reindex(sqlite_engine, es_client, alias)
        backend = ElasticBackend(es_client, alias, sqlite_engine)
        query = Query(filter=HasProperty(property="density"), facets=["class"])
        expected = backend.search(query)
        assert expected.total == 3
        failures, answers, done = [], [], threading.Event()

        def search_until_done():
            while not done.is_set():
                try:
                    answers.append(backend.search(query))
                except Exception as exc:
                    failures.append(exc)

        searcher = threading.Thread(target=search_until_done)
        searcher.start()
        try:
            for _ in range(3):
                reindex(sqlite_engine, es_client, alias)
        finally:
            done.set()
            searcher.join()
        assert failures == []
        assert answers and all(answer == expected for answer in answers)
        assert list(es_client.indices.get_alias(name=alias).body) == list(
            es_client.indices.get(index=f"{alias}-*").body
        )
    finally:
        _drop(es_client, alias)


def test_the_api_process_drains_the_outbox_and_waits_while_elasticsearch_is_down(
    sqlite_engine, tmp_path, unreachable_url, unreachable_client
):
    from biomatdb_api.outbox import OutboxDrainer

    assert ingest_file(sqlite_engine, write(tmp_path, "wide.csv", WIDE_CSV)).loaded
    backlog = _outbox(sqlite_engine)
    drainer = OutboxDrainer(sqlite_engine, unreachable_client, "biomatdb", interval_s=0.05)
    assert drainer.drain_once() == 0
    assert "Elasticsearch is unavailable" in (drainer.last_error or "")
    drainer.start()
    assert ingest_file(sqlite_engine, write(tmp_path, "long.tsv", LONG_TSV)).loaded  # writes go on meanwhile
    drainer.stop()
    after = _outbox(sqlite_engine)
    assert after[: len(backlog)] == backlog and len(after) > len(backlog) and drainer.drained == 0


def test_the_api_starts_its_outbox_drainer_when_elasticsearch_is_configured(sqlite_engine, unreachable_url):
    import asyncio

    from biomatdb.settings import Settings
    from biomatdb_api.app import create_app

    settings = Settings(
        database_url=sqlite_engine.url.render_as_string(hide_password=False), elasticsearch_url=unreachable_url
    )
    app = create_app(settings)

    async def lifespan_state():
        async with app.router.lifespan_context(app):
            return app.state.outbox is not None and app.state.outbox._thread.is_alive()

    assert asyncio.run(lifespan_state()) is True


@real_server
def test_a_word_longer_than_lucenes_longest_term_is_cut_on_a_node(sqlite_engine, es_client):
    from biomatdb_search.backends.elastic_translate import KEYWORD_MAX_CHARS

    alias = _fresh_alias()
    try:
        report = reindex(sqlite_engine, es_client, alias)
        tokens = es_client.indices.analyze(index=report.index, analyzer="words", text="é" * 40_000)["tokens"]
        assert [len(token["token"]) for token in tokens] == [KEYWORD_MAX_CHARS]
    finally:
        _drop(es_client, alias)
