"""The SQL backend on SQLite and PostgreSQL, against answers computed by hand.

``tests/data/search_semantics.csv`` holds six materials whose measurements are points,
ranges and bounds, some with conditions; every expected answer below was worked out on
paper from that file and the documented semantics (a measurement is an interval; a
filter matches when the intervals meet; WHERE applies to the same measurement).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from biomatdb.errors import QueryError
from biomatdb_ingest.pipeline import ingest_file
from biomatdb_search.backends.sql import SqlBackend
from biomatdb_search.chemistry import ChemistryIndex
from biomatdb_search.memory import MemoryIndexes
from biomatdb_search.model import Query, Sort
from biomatdb_search.service import build_query

SEMANTICS_CSV = Path(__file__).parent / "data" / "search_semantics.csv"
EVERYONE = {"Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"}


@pytest.fixture(scope="module")
def semantics_core(module_engine):
    """Loaded once per backend for the module: every test here only reads."""
    report = ingest_file(module_engine, SEMANTICS_CSV)
    assert report.ok, report.errors
    return module_engine


@pytest.fixture(scope="module", params=["sql", "memory"])
def semantics_backend(semantics_core, request) -> SqlBackend:
    """In SQL, and from the API's in-memory index (search/biomatdb_search/memory.py) over the same core."""
    if request.param == "sql":
        return SqlBackend(semantics_core, ChemistryIndex(semantics_core))
    return SqlBackend(semantics_core, ChemistryIndex(semantics_core), memory=MemoryIndexes(), wait_for_memory=True)


def names(backend: SqlBackend, filter_text: str | None = None, **query) -> list[str]:
    result = backend.search(build_query(filter_text=filter_text, limit=100, **query))
    assert result.total == len(result.results)
    return [hit.name for hit in result.results]


HAND_COMPUTED = [
    # intervals: a point, a range with closed ends, a bound with an open end
    ("youngs_modulus >= 1 GPa", {"Alpha", "Beta", "Gamma", "Delta"}),
    ("youngs_modulus > 1 GPa", {"Alpha", "Gamma", "Delta"}),  # Beta's 0.5–1 only touches 1
    ("youngs_modulus < 1 MPa", {"Epsilon"}),  # <0.001 GPa is (−∞, 1 MPa)
    ("youngs_modulus <= 100 GPa", {"Alpha", "Beta", "Epsilon"}),  # Gamma's >100 is open at 100
    ("youngs_modulus > 100 GPa", {"Gamma", "Delta"}),
    ("youngs_modulus in 0.1..3 GPa", {"Alpha", "Beta"}),
    ("youngs_modulus in 100..105 GPa", {"Gamma"}),  # 110 ± 4 is the point 110: uncertainty does not widen it
    ("youngs_modulus = 2000 MPa", {"Alpha"}),
    ("E >= 1000000 kPa", {"Alpha", "Beta", "Gamma", "Delta"}),
    # conditions come from the same measurement
    ("tensile_strength > 50 MPa WHERE medium = PBS AND temperature = 37 degC", {"Alpha"}),
    ("tensile_strength > 70 MPa WHERE medium = PBS", set()),  # the 80 MPa value is not in PBS
    ("tensile_strength > 70 MPa", {"Alpha", "Delta"}),
    ("tensile_strength > 50 MPa WHERE temperature = 296.15 K", {"Alpha"}),
    ("tensile_strength > 50 MPa WHERE temperature > 30 degC", {"Alpha"}),
    ("tensile_strength > 70 MPa WHERE temperature > 30 degC", set()),
    ("tensile_strength > 50 MPa WHERE medium != PBS", {"Alpha", "Delta"}),
    # units of the property's dimension
    ("tensile_strength >= 100 ksi", {"Delta"}),  # 689.5 MPa
    ("tensile_strength > 8000 psi", {"Alpha", "Delta"}),  # 55.2 MPa
    ("degradation_time < 12 month", {"Epsilon", "Zeta"}),  # Beta's >24 months is open above
    ("degradation_time < 1 year", {"Epsilon", "Zeta"}),
    ("degradation_time > 2 year", {"Beta"}),
    ("degradation_time >= 24 month", {"Beta"}),
    ("water_contact_angle > 30 deg", {"Epsilon"}),
    ("porosity > 50 %", {"Gamma"}),
    ("Tg > 37 degC", {"Alpha"}),
    ("Tg > 139 degF", {"Alpha"}),
    ("Tg > 141 degF", set()),
    ("Tg < 334 K", {"Alpha"}),
    ("density < 2 g/cm^3", {"Beta"}),
    ("youngs_modulus >= 1 GPa AND density < 2 g/cm^3", {"Beta"}),
    # fields, NOT, OR, has
    ("class = polymer", {"Alpha", "Beta"}),
    ("class = alloy", {"Delta"}),
    ("class != polymer", EVERYONE - {"Alpha", "Beta"}),
    ("application = orthopaedic", {"Alpha", "Gamma", "Delta", "Zeta"}),
    ("application = dental", {"Gamma"}),
    ("NOT biodegradable = false", {"Alpha", "Epsilon", "Zeta"}),
    ("biodegradable = true AND NOT class = glass", {"Alpha", "Epsilon"}),
    ("(class = ceramic OR class = glass) AND has degradation_time", {"Zeta"}),
    ("has degradation_time", {"Beta", "Epsilon", "Zeta"}),
    ("NOT has youngs_modulus", {"Zeta"}),
    ("youngs_modulus in 0.1..3 GPa AND class = polymer AND application = orthopaedic", {"Alpha"}),
    ("NOT (youngs_modulus > 1 GPa OR has degradation_time)", set()),
    ("NOT youngs_modulus > 1 GPa", {"Beta", "Epsilon", "Zeta"}),
    # chemistry
    ('substructure("c1ccccc1")', {"Beta"}),
    ('substructure("CC(=O)") AND youngs_modulus > 1 GPa', {"Alpha"}),
    ('substructure("*C(=O)")', {"Alpha"}),  # a * in the pattern matches the attachment point too
    ('similarity("*O[C@@H](C)C(=O)*") >= 0.7', {"Alpha"}),
    ('NOT substructure("c1ccccc1")', EVERYONE - {"Beta"}),
]


@pytest.mark.parametrize(("filter_text", "expected"), HAND_COMPUTED, ids=[f for f, _ in HAND_COMPUTED])
def test_filter_answers_match_hand_computed_sets(semantics_backend, filter_text, expected):
    assert set(names(semantics_backend, filter_text)) == expected


def test_facets_count_materials_not_measurements(semantics_backend):
    result = semantics_backend.search(
        build_query(filter_text="youngs_modulus >= 1 GPa", facets=["class", "property", "application", "biodegradable"])
    )
    facets = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    assert facets["class"] == {"polymer": 2, "ceramic": 1, "metal": 1}
    # Alpha has two tensile strength measurements and counts once
    assert facets["property"]["tensile_strength"] == 2
    assert facets["property"]["youngs_modulus"] == 4
    assert facets["application"] == {"orthopaedic": 3, "cardiovascular": 1, "dental": 1}
    assert facets["biodegradable"] == {"false": 3, "true": 1}


def test_sort_by_property_ascending_uses_lowest_and_descending_highest(semantics_backend):
    ascending = names(semantics_backend, sort="youngs_modulus")
    assert ascending == ["Epsilon", "Beta", "Alpha", "Gamma", "Delta", "Zeta"]
    descending = names(semantics_backend, sort="-youngs_modulus")
    assert descending == ["Delta", "Gamma", "Alpha", "Beta", "Epsilon", "Zeta"]


def test_similarity_without_sort_orders_by_score(semantics_backend):
    result = semantics_backend.search(build_query(filter_text='similarity("*OC(C)C(=O)*") >= 0.1'))
    scores = [hit.score for hit in result.results]
    assert scores == sorted(scores, reverse=True) and result.results[0].name == "Alpha"


def test_results_carry_the_matching_measurements_with_units(semantics_backend):
    result = semantics_backend.search(build_query(filter_text="tensile_strength > 50 MPa WHERE medium = PBS"))
    (alpha,) = result.results
    (measurement,) = alpha.measurements
    assert (measurement.property, measurement.value, measurement.unit) == ("tensile_strength", 60.0, "MPa")
    assert measurement.conditions["medium"] == "PBS"
    assert measurement.conditions["temperature_K"] == pytest.approx(310.15)
    assert measurement.source == "Search semantics fixture"


CERTAIN_BY_HAND = [
    # (filter, possible matches, certain matches): certain = the whole interval, a bound included, within
    ("youngs_modulus >= 1 GPa", {"Alpha", "Beta", "Gamma", "Delta"}, {"Alpha", "Gamma", "Delta"}),  # Beta 0.5–1
    ("youngs_modulus > 100 GPa", {"Gamma", "Delta"}, {"Gamma", "Delta"}),  # >100 lies within > 100
    ("youngs_modulus >= 100 GPa", {"Gamma", "Delta"}, {"Gamma", "Delta"}),
    ("youngs_modulus <= 1 GPa", {"Beta", "Epsilon"}, {"Beta", "Epsilon"}),  # <0.001 lies within <= 1
    (
        "youngs_modulus < 200 GPa",
        {"Alpha", "Beta", "Gamma", "Delta", "Epsilon"},
        {"Alpha", "Beta", "Delta", "Epsilon"},
    ),  # Gamma's >100 reaches past 200
    ("youngs_modulus in 0.0001..3 GPa", {"Alpha", "Beta", "Epsilon"}, {"Alpha", "Beta"}),  # <0.001 has no low end
    ("youngs_modulus in 1..2 GPa", {"Alpha", "Beta"}, {"Alpha"}),  # Beta's 0.5–1 touches 1 only
    ("degradation_time in 4..12 month", {"Epsilon", "Zeta"}, {"Epsilon"}),  # Zeta's 3–6 starts below 4
    ("degradation_time > 12 month", {"Beta"}, {"Beta"}),
    ("NOT youngs_modulus < 200 GPa", {"Zeta"}, {"Gamma", "Zeta"}),
    ("youngs_modulus > 1 GPa AND degradation_time < 12 month", set(), set()),
]


@pytest.mark.parametrize(("filter_text", "possible", "certain"), CERTAIN_BY_HAND)
def test_certain_matches_lie_wholly_within_the_asked_interval(semantics_backend, filter_text, possible, certain):
    assert set(names(semantics_backend, filter_text)) == possible
    assert set(names(semantics_backend, filter_text, match="certain")) == certain


def test_each_shown_measurement_says_whether_it_is_certain(semantics_backend):
    result = semantics_backend.search(build_query(filter_text="youngs_modulus >= 1 GPa AND has density", limit=10))
    shown = {(hit.name, m.property): m.certainty for hit in result.results for m in hit.measurements}
    assert shown == {
        ("Beta", "youngs_modulus"): "possible",
        ("Beta", "density"): None,
        ("Gamma", "youngs_modulus"): "certain",
        ("Gamma", "density"): None,
        ("Delta", "youngs_modulus"): "certain",
        ("Delta", "density"): None,
    }
    certain = semantics_backend.search(build_query(filter_text="youngs_modulus >= 1 GPa", match="certain"))
    assert {m.certainty for hit in certain.results for m in hit.measurements} == {"certain"}


def test_under_relevance_certain_matches_come_before_possible_ones(semantics_backend):
    # "orthopaedic" is in no name: every match scores 0, so without certainty the order is by name
    either = "degradation_time < 12 month OR youngs_modulus < 200 GPa"
    ranked = semantics_backend.search(build_query(text="orthopaedic", filter_text=either))
    assert [hit.name for hit in ranked.results] == ["Alpha", "Delta", "Zeta", "Gamma"]  # Gamma's >100: possible
    assert {hit.score for hit in ranked.results} == {0.0}
    by_name = semantics_backend.search(build_query(text="orthopaedic", sort="name", filter_text=either))
    assert [hit.name for hit in by_name.results] == ["Alpha", "Delta", "Gamma", "Zeta"]
    certain = semantics_backend.search(build_query(text="orthopaedic", match="certain", filter_text=either))
    assert [hit.name for hit in certain.results] == ["Alpha", "Delta", "Zeta"]


def test_text_search_matches_word_prefixes_in_names_and_applications(semantics_backend):
    assert names(semantics_backend, text="alph") == ["Alpha"]
    assert set(names(semantics_backend, text="dental")) == {"Gamma"}
    assert set(names(semantics_backend, text="wound")) == {"Epsilon"}
    assert names(semantics_backend, text="zzz") == []


def test_cursor_pages_through_everything_once(semantics_backend):
    seen, cursor = [], None
    while True:
        result = semantics_backend.search(build_query(limit=4, cursor=cursor, sort="name"))
        seen += [hit.name for hit in result.results]
        cursor = result.next_cursor
        if cursor is None:
            break
    assert seen == sorted(EVERYONE)


def test_cursor_from_another_query_is_refused(semantics_backend):
    first = semantics_backend.search(build_query(limit=2, sort="name"))
    with pytest.raises(QueryError, match="another query"):
        semantics_backend.search(build_query(limit=2, sort="-name", cursor=first.next_cursor))


def test_sort_by_unknown_property_is_an_error(semantics_backend):
    with pytest.raises(QueryError):
        semantics_backend.search(Query(sort=Sort(key="stiffness_of_nothing")))


def test_facet_counts_follow_each_load_and_retraction(engine, tmp_path):
    """The facet index is kept per core generation: a load or a retraction is counted at once."""
    from sqlalchemy import select

    from biomatdb.models import Dataset
    from biomatdb_ingest.retract import retract_dataset

    assert ingest_file(engine, SEMANTICS_CSV).loaded
    backend = SqlBackend(engine)

    def classes() -> dict[str, int]:
        result = backend.search(build_query(facets=["class", "dataset"]))
        return {v.value: v.count for v in result.facets["class"]}

    before = classes()
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "Material,Class,tensile strength [MPa]\nGlassy one,glass,40\nGlassy two,glass,50\n", encoding="utf-8"
    )
    assert ingest_file(engine, extra).loaded
    assert classes() == {**before, "glass": before.get("glass", 0) + 2}
    with engine.begin() as connection:
        retract_dataset(connection, connection.execute(select(Dataset.id).where(Dataset.name == "extra")).scalar_one())
    assert classes() == before
