"""Parity: SQLite, PostgreSQL and the API's in-memory index (``biomatdb_search.memory``) give the same
answers to the same queries on the same data.

Both cores hold every fixture (curated and public datasets) plus a generated dataset with
ranges, bounds, conditions and structures, and a few qualitative values; each query of ``tests/search_parity_cases.py``
and each hypothesis-generated filter must give identical result ids (in order), totals and
facet counts on both.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from benchmarks.generate import write_long, write_wide
from biomatdb_ingest.pipeline import ingest_file
from biomatdb_search.backends.sql import SqlBackend
from biomatdb_search.chemistry import ChemistryIndex
from biomatdb_search.memory import MemoryIndexes
from biomatdb_search.model import (
    FACETS,
    And,
    Contains,
    DerivedFilter,
    ElementContent,
    FieldFilter,
    HasProperty,
    Interval,
    Not,
    Or,
    PropertyFilter,
    Query,
    Sort,
)
from biomatdb_search.parser import parse_filter
from biomatdb_search.service import build_query
from tests.profiles import examples
from tests.search_parity_cases import (
    PARITY_FILTERS,
    PARITY_TEXTS,
    QUALITATIVE_CSV,
    QUALITATIVE_FILE,
    SORTED_QUERIES,
    TEXT_CSV,
    TEXT_FILE,
)


def _load_generated(engine, generated: Path) -> None:
    for path in sorted(generated.iterdir()):
        report = ingest_file(engine, path)
        assert report.ok, report.errors[:3]


@pytest.fixture(scope="module")
def generated_files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("generated")
    write_wide(folder / "generated-wide.csv", 2_400, seed=7)
    write_long(folder / "generated-long.csv", 2_000, seed=7)
    (folder / QUALITATIVE_FILE).write_text(QUALITATIVE_CSV, encoding="utf-8")
    (folder / TEXT_FILE).write_text(TEXT_CSV, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def backends(
    tmp_path_factory,
    generated_files,
    fixtures_sqlite,
    fixtures_postgresql,
    copy_fixtures_sqlite,
    copy_fixtures_postgresql,
):
    """Both cores: a copy of the session's fixtures core (tests/cores.py) plus the generated files."""
    for name, core in (("sqlite", fixtures_sqlite), ("postgresql", fixtures_postgresql)):
        assert all(report.ok for _, report in core.reports), (name, [(p, r.errors[:3]) for p, r in core.reports])
    sqlite = copy_fixtures_sqlite(tmp_path_factory.mktemp("parity") / "core.sqlite")
    with copy_fixtures_postgresql("search_parity") as postgresql:
        for name, engine in (("sqlite", sqlite), ("postgresql", postgresql)):
            started = time.perf_counter()
            _load_generated(engine, generated_files)
            print(f"\nparity data loaded into {name} in {time.perf_counter() - started:.1f} s")
        backends = {
            name: SqlBackend(engine, ChemistryIndex(engine))
            for name, engine in (("sqlite", sqlite), ("postgresql", postgresql))
        }
        # the API's in-memory index over the SQLite core, built in the request (search/biomatdb_search/memory.py)
        backends["memory"] = SqlBackend(
            sqlite, backends["sqlite"].chemistry, memory=MemoryIndexes(), wait_for_memory=True
        )

        def no_sql(*args):
            raise AssertionError("the in-memory backend fell back to SQL")

        # the instance's own attribute shadows the method, for this fixture only
        backends["memory"]._from_sql = no_sql  # type: ignore[method-assign]
        yield backends
    sqlite.dispose()


def _answer(backend, query: Query) -> tuple:
    result = backend.search(query)
    facets = {name: [(v.value, v.count) for v in values] for name, values in result.facets.items()}
    return result.total, [hit.id for hit in result.results], facets, result.next_cursor is not None


def _same_on_both(backends, query: Query) -> tuple:
    """The same answer from SQLite, PostgreSQL and the in-memory index."""
    sqlite = _answer(backends["sqlite"], query)
    postgresql = _answer(backends["postgresql"], query)
    assert postgresql == sqlite
    assert _answer(backends["memory"], query) == sqlite
    return sqlite


@pytest.mark.parametrize("filter_text", PARITY_FILTERS)
def test_filter_gives_the_same_answer_on_sqlite_and_postgresql(backends, filter_text):
    query = build_query(filter_text=filter_text, facets=list(FACETS), sort="name", limit=200)
    _same_on_both(backends, query)


@pytest.mark.parametrize("filter_text", PARITY_FILTERS)
def test_certain_matches_are_the_same_on_every_backend(backends, filter_text):
    query = build_query(filter_text=filter_text, facets=["class", "property"], sort="name", limit=100, match="certain")
    _same_on_both(backends, query)
    shown = {
        name: [
            [m.certainty for m in hit.measurements]
            for hit in backends[name].search(query.model_copy(update={"match": "possible"})).results
        ]
        for name in backends
    }
    assert shown["postgresql"] == shown["sqlite"] == shown["memory"]


def _asks_an_interval(filter_text: str) -> bool:
    """The filter has a property or derived filter with a bounded interval: what ``uncertainty=interval``
    changes (a derived filter's inputs ``v ± u`` enter it as [v − u, v + u])."""
    pending = [parse_filter(filter_text)]
    while pending:
        node = pending.pop()
        if isinstance(node, (And, Or)):
            pending.extend(node.items)
        elif isinstance(node, Not):
            pending.append(node.item)
        elif isinstance(node, (PropertyFilter, DerivedFilter)) and (
            node.interval.low is not None or node.interval.high is not None
        ):
            return True
    return False


INTERVAL_FILTERS = [text for text in PARITY_FILTERS if _asks_an_interval(text)]


@pytest.mark.parametrize("filter_text", INTERVAL_FILTERS)
def test_uncertainty_as_an_interval_is_the_same_on_every_backend(backends, filter_text):
    """``uncertainty=interval`` (v ± u as [v − u, v + u]), for possible and certain matches, and
    the certainty each shown measurement gets."""
    for match in ("possible", "certain"):
        query = build_query(
            filter_text=filter_text,
            facets=["medium", "state"],
            sort="name",
            limit=100,
            match=match,
            uncertainty="interval",
        )
        _same_on_both(backends, query)
    query = build_query(filter_text=filter_text, sort="name", limit=100, uncertainty="interval")
    shown = {
        name: [
            (
                [m.certainty for m in hit.measurements],
                [(d.certainty, d.value_canonical_min, d.value_canonical_max) for d in hit.derived],
            )
            for hit in backends[name].search(query).results
        ]
        for name in backends
    }
    assert shown["postgresql"] == _close(shown["sqlite"])
    assert shown["memory"] == shown["sqlite"]


def _close(value):
    """``value`` with its floats as ``pytest.approx``: PostgreSQL's ``power`` and SQLite's may
    differ in the last bit."""
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-12)
    if isinstance(value, (list, tuple)):
        return type(value)(_close(item) for item in value)
    return value


def test_uncertainty_as_an_interval_is_not_vacuous(backends):
    """Some filters of the table find more materials when v ± u counts as an interval, and some
    fewer certainly: the generated data has ± values (benchmarks/generate.py)."""
    assert len(INTERVAL_FILTERS) >= 40
    wider, less_certain = [], []
    for filter_text in INTERVAL_FILTERS:
        totals = {
            (match, uncertainty): backends["sqlite"]
            .search(build_query(filter_text=filter_text, limit=1, match=match, uncertainty=uncertainty))
            .total
            for match in ("possible", "certain")
            for uncertainty in ("point", "interval")
        }
        if totals["possible", "interval"] > totals["possible", "point"]:
            wider.append(filter_text)
        if totals["certain", "interval"] != totals["certain", "point"]:
            less_certain.append(filter_text)
    assert len(wider) >= 5, wider
    assert less_certain, less_certain
    derived = [text for text in INTERVAL_FILTERS if "DerivedFilter" in repr(parse_filter(text))]
    assert len(derived) >= 8, derived  # every derived case of the table runs both ways
    assert set(derived) & set(wider + less_certain), "no derived filter changes with uncertainty=interval"


@pytest.mark.parametrize(("filter_text", "sort"), SORTED_QUERIES)
def test_sorted_pages_are_identical(backends, filter_text, sort):
    query = build_query(filter_text=filter_text, sort=sort, limit=50)
    *_, more = _same_on_both(backends, query)
    if more:
        cursor = backends["sqlite"].search(query).next_cursor
        _same_on_both(backends, query.model_copy(update={"cursor": cursor}))


@pytest.mark.parametrize("text", PARITY_TEXTS)
def test_text_search_matches_the_same_materials(backends, text):
    _same_on_both(backends, build_query(text=text, sort="name", limit=500, facets=["class"]))


@pytest.mark.parametrize("text", PARITY_TEXTS)
def test_text_search_ranks_alike_with_the_same_scores(backends, text):
    query = build_query(text=text, limit=50)
    answers = {name: backend.search(query) for name, backend in backends.items()}
    ranked = {
        name: ([(hit.id, hit.score) for hit in result.results], result.total, result.spelling)
        for name, result in answers.items()
    }
    assert ranked["postgresql"] == ranked["sqlite"]
    assert ranked["memory"] == ranked["sqlite"]


@pytest.mark.parametrize(
    ("text", "filter_text"),
    [
        ("poly", "tensile_strength > 30 MPa"),
        ("titanium", "youngs_modulus < 150 GPa"),
        ("poly", "glass_transition_temperature in 300..400 K OR density > 1.2 g/cm3"),
        ("glass", "density > 2 g/cm3 AND NOT youngs_modulus > 80 GPa"),
        ("poly", "has youngs_modulus AND density < 1.5 g/cm3"),
    ],
)
def test_text_and_filter_rank_certain_first_alike(backends, text, filter_text):
    query = build_query(text=text, filter_text=filter_text, limit=50)
    answers = {name: backend.search(query) for name, backend in backends.items()}
    ranked = {name: ([(hit.id, hit.score) for hit in result.results], result.total) for name, result in answers.items()}
    assert ranked["postgresql"] == ranked["sqlite"] == ranked["memory"]
    assert ranked["sqlite"][1] > 0


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("PLA", {"PDLLA", "PLLA", "Polylactide"}),
        ("polylactide", {"PDLLA", "PLLA", "Polylactide"}),
        ("Ti6Al4V", {"Ti-6Al-4V"}),
        ("titanum", {"Commercially pure titanium Grade 1"}),
        ("Teflon", {"PTFE", "ePTFE"}),
        ("orsted", {"Ørsted test alloy"}),
        ("Straße", {"Straße test glass"}),
        ("strasse", {"Straße test glass"}),
        ("Ørsted", {"Ørsted test alloy"}),
        ("lodz", {"Łódź test alloy"}),
        ("Łódź", {"Łódź test alloy"}),
        ("caesium", {"Cæsium test glass"}),
        ("Cæsium", {"Cæsium test glass"}),
        ("gence", {"Gəncə test glass"}),
        ("Gəncə", {"Gəncə test glass"}),
        ("½ strength", {"½-strength test hydrogel"}),
        ("café", {"Cafe\u0301 test hydrogel"}),
        ("Cafe\u0301", {"Cafe\u0301 test hydrogel"}),
        ("PEEK", {"PEEK", "CFR-PEEK", "HA whisker/PEEK 20 vol%", "HA whisker/PEEK 40 vol%"}),
    ],
)
def test_text_search_finds_what_people_type_first(backends, text, first):
    result = backends["sqlite"].search(build_query(text=text, limit=10))
    assert result.results and result.results[0].name in first, [(h.name, h.score) for h in result.results]
    assert result.results[0].score is not None and result.results[0].score > 0


def test_text_of_punctuation_only_matches_everything_unranked(backends):
    everything = backends["sqlite"].search(build_query(limit=1)).total
    result = backends["sqlite"].search(build_query(text="--- !!!", limit=5))
    assert result.total == everything and all(hit.score is None for hit in result.results)


def test_the_parity_table_is_not_vacuous(backends):
    empty = [f for f in PARITY_FILTERS if backends["sqlite"].search(build_query(filter_text=f, limit=1)).total == 0]
    assert len(PARITY_FILTERS) >= 60
    assert len(empty) <= len(PARITY_FILTERS) // 10, empty


# --- hypothesis: random filter trees over the generated properties -------------------------

_RANGES = {  # canonical units: MPa, MPa, g/cm^3, K, %
    "youngs_modulus": (100.0, 10_000.0),
    "tensile_strength": (10.0, 200.0),
    "density": (0.5, 3.0),
    "glass_transition_temperature": (250.0, 450.0),
    "porosity": (0.0, 100.0),
}


@st.composite
def property_filters(draw):
    key = draw(st.sampled_from(sorted(_RANGES)))
    low, high = _RANGES[key]
    a = draw(st.one_of(st.none(), st.floats(low, high)))
    b = draw(st.one_of(st.none(), st.floats(low, high)))
    if a is not None and b is not None and a > b:
        a, b = b, a
    return PropertyFilter(
        property=key, interval=Interval(low=a, high=b, low_open=draw(st.booleans()), high_open=draw(st.booleans()))
    )


_ELEMENTS = ["Ti", "Al", "V", "Fe", "O", "Ni", "Ca", "P", "C", "H", "Mg", "Zr", "Co", "Cr"]


@st.composite
def element_contents(draw):
    """``composition.X`` intervals over percent, the ends often on the fixtures' own values (0, 0.2,
    5.5, 6.75, 100), so that touching ends and the zero of an unnamed element are tried."""
    ends = st.one_of(st.none(), st.sampled_from([0.0, 0.2, 0.3, 5.5, 6.75, 50.0, 88.25, 100.0]), st.floats(0, 100))
    a, b = draw(ends), draw(ends)
    if a is not None and b is not None and a > b:
        a, b = b, a
    return ElementContent(
        element=draw(st.sampled_from(_ELEMENTS)),
        basis=draw(st.sampled_from(["wt", "at"])),
        interval=Interval(low=a, high=b, low_open=draw(st.booleans()), high_open=draw(st.booleans())),
    )


leaves = st.one_of(
    property_filters(),
    element_contents(),
    st.builds(Contains, element=st.sampled_from(_ELEMENTS)),
    st.builds(HasProperty, property=st.sampled_from(sorted(_RANGES))),
    st.builds(
        FieldFilter,
        field=st.just("class"),
        op=st.sampled_from(["=", "!="]),
        value=st.sampled_from(["polymer", "metal", "ceramic", "glass", "hydrogel"]),
    ),
)
filters = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda items: And(items=tuple(items)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda items: Or(items=tuple(items)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(Not, item=inner),
    ),
    max_leaves=6,
)


@pytest.mark.slow
@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(node=filters, sort=st.sampled_from(["name", "youngs_modulus", "-density", "-name"]))
def test_generated_filters_give_the_same_answer(backends, node, sort):
    _same_on_both(backends, Query(filter=node, sort=Sort.parse(sort), limit=30, facets=["class", "property"]))


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    node=st.one_of(element_contents(), st.builds(Not, item=element_contents())),
    match=st.sampled_from(["possible", "certain"]),
)
def test_generated_composition_filters_give_the_same_answer(backends, node, match):
    _same_on_both(backends, Query(filter=node, sort=Sort.parse("name"), limit=200, facets=["element"], match=match))
