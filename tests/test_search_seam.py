"""One search seam (docs/search.md, "One search seam"): every backend is a ``SearchBackend``, walks
the filter tree through ``FilterWalker``, imports no other backend, and refuses a bad query with
the same error as every other backend — SQLite, PostgreSQL, the in-memory index and
Elasticsearch (through the official client's transport layer, which must not even be asked)."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest

from biomatdb.errors import QueryError
from biomatdb.searchtext import MAX_QUERY_WORDS
from biomatdb_ingest.pipeline import ingest_file
from biomatdb_search import model
from biomatdb_search.backends.elastic import ElasticBackend
from biomatdb_search.backends.elastic_translate import ElasticTranslator
from biomatdb_search.backends.sql import SqlBackend, SqlTranslator
from biomatdb_search.contract import FilterWalker, SearchBackend, facet_values
from biomatdb_search.memory import Evaluator, MemoryIndexes
from biomatdb_search.model import encode_cursor
from biomatdb_search.service import build_query
from tests.es_transport import scripted_client
from tests.preloaded import preloaded

ROOT = Path(__file__).resolve().parents[1]

#: The modules of each backend; a backend's modules import one another, never another backend's.
BACKENDS = {
    "sql": {"biomatdb_search.backends.sql", "biomatdb_search.memory"},
    "elastic": {
        "biomatdb_search.backends.elastic",
        "biomatdb_search.backends.elastic_translate",
        "biomatdb_search.backends.elastic_sync",
    },
}

CSV = """Material,Class,Young's modulus [GPa],Density [g/cm3],Medium
Titanium grade 2,metal,105,4.51,PBS
PEEK,polymer,3.6,1.30,
Alumina,ceramic,380,3.95,
"""


def _imports(module: str) -> set[str]:
    # biomatdb_search.x lives in search/biomatdb_search/x.py (the design card's folder holds the package)
    path = ROOT / module.split(".")[0].removeprefix("biomatdb_") / (module.replace(".", "/") + ".py")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_backend_imports_another():
    every = {m for modules in BACKENDS.values() for m in modules}
    assert {
        f"biomatdb_search.backends.{p.stem}"
        for p in (ROOT / "search" / "biomatdb_search" / "backends").glob("*.py")
        if p.stem != "__init__"
    } <= every
    for name, modules in BACKENDS.items():
        others = every - modules
        for module in modules:
            assert not (_imports(module) & others), (name, module, _imports(module) & others)


def test_what_backends_share_imports_no_backend():
    """The shared modules (contract, the core's SQL, derived values, evidence, conditions) sit under
    every backend: none of them imports one."""
    every = {m for modules in BACKENDS.values() for m in modules}
    for module in (
        "biomatdb_search.contract",
        "biomatdb_search.core_sql",
        "biomatdb_search.core_derived",
        "biomatdb_search.core_evidence",
        "biomatdb_search.conditions",
        "biomatdb_search.derived",
        "biomatdb_search.spelling",
        "biomatdb_search.facets",
        "biomatdb_search.model",
    ):
        assert not (_imports(module) & every), (module, _imports(module) & every)


def _node_kinds() -> set[str]:
    union = typing.get_args(model.Filter)[0]  # Annotated[A | B | …, discriminator]
    return {cls.model_fields["kind"].default for cls in typing.get_args(union)}


def test_every_node_kind_is_one_abstract_method_of_the_walker():
    kinds = _node_kinds()
    assert len(kinds) >= 12, kinds  # and, or, not, property, has, field, evidence, derived, chemistry…
    assert FilterWalker.__abstractmethods__ == {f"node_{kind}" for kind in kinds}
    for walker in (SqlTranslator, Evaluator, ElasticTranslator):
        assert issubclass(walker, FilterWalker)
        assert not walker.__abstractmethods__, walker  # it answers every kind


def test_facet_values_are_ordered_by_count_then_value():
    ordered = facet_values([("polymer", 2), ("metal", 5), ("ceramic", 2), (True, 1)])
    assert [(v.value, v.count) for v in ordered] == [("metal", 5), ("ceramic", 2), ("polymer", 2), ("True", 1)]


@preloaded
def seam_core(engine, directory):
    data = directory / "seam.csv"
    data.write_text(CSV, encoding="utf-8")
    report = ingest_file(engine, data)
    assert report.ok, report.errors[:3]


@pytest.fixture
def every_backend(seam_core):
    """The three SQL-core answers (SQL, and the in-memory index over it) and Elasticsearch, with a
    node that answers nothing it is not scripted to: a refusal must come before any request."""
    engine = seam_core
    client, script = scripted_client([])
    backends: dict[str, SearchBackend] = {
        "sql": SqlBackend(engine),
        "memory": SqlBackend(engine, memory=MemoryIndexes(), wait_for_memory=True),
        "elastic": ElasticBackend(client, "biomatdb", engine, chemistry=lambda node: {}),
    }
    for backend in backends.values():
        assert isinstance(backend, SearchBackend)
    return backends, script


def _bad_queries():
    good = build_query(filter_text="youngs_modulus > 1 GPa", limit=2)
    other = build_query(filter_text="density > 1 g/cm3", limit=2)
    many = " ".join(f"word{i}" for i in range(MAX_QUERY_WORDS + 1))
    unknown_medium = 'youngs_modulus > 1 GPa WHERE medium = "zzqx brine of the moon"'
    return {
        "an unknown sort": good.model_copy(update={"sort": model.Sort.parse("-stiffness_bogus")}),
        "a cursor no one gave out": good.model_copy(update={"cursor": "not-a-cursor"}),
        "another query's cursor": good.model_copy(update={"cursor": encode_cursor(other, 2)}),
        "a cursor whose sort values are not a list": good.model_copy(update={"cursor": encode_cursor(good, 2, 5)}),  # type: ignore[arg-type]
        "an unknown condition value": build_query(filter_text=unknown_medium, limit=2),
        "too many words": build_query(text=many, limit=2),
        # two faults: every backend names the same one first
        "a bad cursor and an unknown sort": good.model_copy(
            update={"cursor": "not-a-cursor", "sort": model.Sort.parse("bogus")}
        ),
        "an unknown condition value and an unknown sort": build_query(
            filter_text=unknown_medium, sort="bogus", limit=2
        ),
        "too many words and a bad cursor": build_query(text=many, cursor="not-a-cursor", limit=2),
    }


@pytest.mark.parametrize("case", list(_bad_queries()))
def test_a_bad_query_is_refused_alike_by_every_backend(every_backend, case):
    backends, script = every_backend
    query = _bad_queries()[case]
    refusals = {}
    for name, backend in backends.items():
        with pytest.raises(QueryError) as caught:
            backend.search(query)
        refusals[name] = (caught.value.type, str(caught.value), tuple(caught.value.expected))
    assert len(set(refusals.values())) == 1, refusals
    assert script.requests == [], "Elasticsearch was asked before the query was checked"


def test_a_good_query_is_answered_alike_by_the_sql_backends(every_backend):
    """The seam's checks pass a good query through (and the refusals above are not vacuous)."""
    backends, _ = every_backend
    query = build_query(filter_text="youngs_modulus > 100 GPa", facets=["class"], sort="-youngs_modulus", limit=2)
    answers = [backends[name].search(query) for name in ("sql", "memory")]
    assert [h.name for h in answers[0].results] == ["Alumina", "Titanium grade 2"]
    assert answers[0] == answers[1]
    with pytest.raises(QueryError):
        backends["sql"].search(query.model_copy(update={"cursor": "not-a-cursor"}))
