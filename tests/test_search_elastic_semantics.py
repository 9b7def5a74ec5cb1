"""The Elasticsearch translation means what the SQL backend answers, on the conditions and the
``±`` intervals of one small core, without a server: the translated filter is evaluated over the
documents the core indexes (``documents_from_core``) by a small model of the query DSL it uses
(bool, nested, term, terms, range on doubles and on ``double_range`` with ``intersects`` and
``within``, open ends nudged to the next double as Elasticsearch does). The real-server suite
(tests/test_search_elastic.py) runs the whole parity table when a node is there."""

from __future__ import annotations

import math
from typing import Any

import pytest

from biomatdb_search.backends.elastic import documents_from_core
from biomatdb_search.backends.elastic_translate import ElasticTranslator
from biomatdb_search.backends.sql import SqlBackend
from biomatdb_search.service import build_query
from tests.test_conditions import FOUND, UNCERTAIN, load_lab

#: keyword fields with the lower-casing normalizer (elastic_translate's _CONDITION_KEYWORD)
_NORMALISED = {"medium", "method", "standard", "specimen_state", "dataset", "source_doi", "source_citation"}


def _ends(bounds: dict[str, float]) -> tuple[float, float]:
    """A range's closed ends, open ones nudged to the next double, missing ones infinite."""
    low = bounds.get("gte", -math.inf)
    if "gt" in bounds:
        low = math.nextafter(bounds["gt"], math.inf)
    high = bounds.get("lte", math.inf)
    if "lt" in bounds:
        high = math.nextafter(bounds["lt"], -math.inf)
    return low, high


def _values(document: dict[str, Any], field: str) -> list[Any]:
    value = document.get(field)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def matches(query: dict[str, Any], document: dict[str, Any], prefix: str = "") -> bool:
    """Whether ``document`` (a material's, or one nested measurement's under ``prefix``) matches."""
    (kind, body), *_ = query.items()
    if kind == "match_all":
        return True
    if kind == "match_none":
        return False
    if kind == "bool":
        if not all(matches(q, document, prefix) for q in body.get("filter", [])):
            return False
        if any(matches(q, document, prefix) for q in body.get("must_not", [])):
            return False
        should = body.get("should", [])
        needed = body.get("minimum_should_match", 0 if "filter" in body or "must_not" in body else 1)
        return sum(matches(q, document, prefix) for q in should) >= needed if should else True
    if kind == "nested":
        return any(matches(body["query"], nested, body["path"] + ".") for nested in document.get(body["path"], []))
    (field, wanted), *_ = body.items()
    name = field.removeprefix(prefix)
    stored = _values(document, name)
    if kind == "term":
        if isinstance(wanted, dict):
            value, folded = wanted["value"], wanted.get("case_insensitive", False)
        else:
            value, folded = wanted, name in _NORMALISED
        if folded:
            return any(str(s).lower() == str(value).lower() for s in stored)
        return value in stored
    if kind == "terms":
        return any(s in wanted for s in stored)
    if kind == "range":
        bounds = {k: v for k, v in wanted.items() if k != "relation"}
        low, high = _ends(bounds)
        relation = wanted.get("relation")
        if relation is None:  # a range on a number
            return any(low <= s <= high for s in stored)
        for interval in stored:
            have_low, have_high = _ends(interval)
            if relation == "within" and low <= have_low and have_high <= high:
                return True
            if relation == "intersects" and have_low <= high and have_high >= low:
                return True
        return False
    raise AssertionError(f"the model has no {kind!r} query")


def _elastic_ids(engine, filter_text: str, **options) -> list[int]:
    query = build_query(filter_text=filter_text, **options)
    assert query.filter is not None
    translated = ElasticTranslator({}, query.match, uncertainty=query.uncertainty).filter(query.filter)
    with engine.connect() as connection:
        return sorted(d["material_id"] for d in documents_from_core(connection) if matches(translated, d))


def _sql_ids(engine, filter_text: str, **options) -> list[int]:
    found = SqlBackend(engine).search(build_query(filter_text=filter_text, limit=500, **options))
    by_public = {}
    with engine.connect() as connection:
        for document in documents_from_core(connection):
            by_public[document["public_id"]] = document["material_id"]
    return sorted(by_public[hit.id] for hit in found.results)


@pytest.fixture(scope="module")
def lab(module_engine, tmp_path_factory):
    """tests/test_conditions.py's lab sheet, loaded once (SQLite and PostgreSQL)."""
    return load_lab(module_engine, tmp_path_factory.mktemp("lab"))


FILTERS = [text for text, _ in FOUND] + [text for text, _, _ in UNCERTAIN]


@pytest.mark.parametrize("filter_text", FILTERS)
@pytest.mark.parametrize("match", ["possible", "certain"])
@pytest.mark.parametrize("uncertainty", ["point", "interval"])
def test_the_translation_finds_what_sql_finds(lab, filter_text, match, uncertainty):
    options = {"match": match, "uncertainty": uncertainty}
    assert _elastic_ids(lab, filter_text, **options) == _sql_ids(lab, filter_text, **options)


def test_the_model_is_not_vacuous(lab):
    """The interval mode changes answers here, so that the parity above could fail."""
    text = "tensile_strength >= 245 MPa WHERE state = as-extruded"
    assert _elastic_ids(lab, text) == [] != _elastic_ids(lab, text, uncertainty="interval")


@pytest.fixture(scope="module")
def fixtures_core(fixtures_sqlite):
    """Every fixture, the biological-evaluation dataset among them (read only)."""
    from biomatdb.db import make_engine

    engine = make_engine(f"sqlite:///{fixtures_sqlite.location}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def fixture_documents(fixtures_core) -> list[dict[str, Any]]:
    with fixtures_core.connect() as connection:
        return list(documents_from_core(connection))


DATASET_FILTERS = [
    "dataset = biomatdb-curated-biological-evaluation",
    'dataset = "BIOMATDB-Curated-Biological-Evaluation" AND class = polymer',
    "NOT dataset = biomatdb-curated-biological-evaluation",
    "dataset = polymetrix-tg OR dataset = biomatdb-curated-biological-evaluation",
]


@pytest.mark.parametrize("filter_text", DATASET_FILTERS)
def test_the_documents_dataset_field_finds_what_sql_finds(fixtures_core, fixture_documents, filter_text):
    """``dataset = NAME`` holds where the dataset gives the material a measurement or an
    evaluation record: the document's ``datasets`` holds both kinds (it held measurements' only)."""
    backend, found, cursor = SqlBackend(fixtures_core), [], None
    while True:  # every page: the fixtures hold more materials than one
        page = backend.search(build_query(filter_text=filter_text, limit=200, sort="name", cursor=cursor))
        found += [hit.id for hit in page.results]
        if not (cursor := page.next_cursor):
            break
    asked = build_query(filter_text=filter_text).filter
    assert asked is not None
    translated = ElasticTranslator({}, "possible").filter(asked)
    matched = sorted(d["public_id"] for d in fixture_documents if matches(translated, d))
    assert matched == sorted(found) and len(found) == page.total > 0


def test_the_dataset_facet_of_the_documents_counts_what_sql_counts(fixtures_core, fixture_documents):
    from collections import Counter

    from biomatdb_search.backends.elastic_translate import FACET_FIELDS

    counted = Counter(name for d in fixture_documents for name in d[FACET_FIELDS["dataset"]])
    result = SqlBackend(fixtures_core).search(build_query(facets=["dataset"], limit=1))
    assert dict(counted) == {v.value: v.count for v in result.facets["dataset"]}
    assert counted["biomatdb-curated-biological-evaluation"] > 4  # the records' materials, not the 4 measured
