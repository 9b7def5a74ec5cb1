"""The in-memory search index (search/biomatdb_search/memory.py): never stale, built off the request, and its
pieces against what SQL would say. Its answers are compared with SQL's on every query of the
parity suite (tests/test_search_parity.py) and the hand-computed cases (tests/test_search_sql.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from biomatdb.db import core_generation, read_snapshot
from biomatdb_ingest.pipeline import ingest_file
from biomatdb_search.backends.sql import SqlBackend
from biomatdb_search.memory import Codes, MemoryIndexes, Words
from biomatdb_search.service import build_query

SEMANTICS_CSV = Path(__file__).parent / "data" / "search_semantics.csv"


def test_words_find_whole_words_and_every_word_with_a_prefix():
    words = Words.build([" titanium alloy ", "tit", None, "titan ørsted zzz", ""])
    assert np.flatnonzero(words.exact("tit")).tolist() == [1]
    assert np.flatnonzero(words.prefix("tit")).tolist() == [0, 1, 3]
    assert np.flatnonzero(words.prefix("titani")).tolist() == [0]
    assert np.flatnonzero(words.prefix("ør")).tolist() == [3]
    assert np.flatnonzero(words.prefix("zzzz")).tolist() == []
    assert np.flatnonzero(words.exact("alloys")).tolist() == []
    assert words.prefix("a").shape == (5,)


def test_codes_compare_without_case_and_never_match_what_is_not_recorded():
    codes = Codes.build(["pbs", None, "pbs", "saline", None])  # as the database's lower() gave them
    assert codes.equals("Pbs").tolist() == [True, False, True, False, False]
    assert codes.equals("water").tolist() == [False] * 5
    assert codes.known().tolist() == [True, False, True, True, False]


def _counting(backend: SqlBackend) -> dict[str, int]:
    calls = {"sql": 0, "memory": 0}
    for path, name in (("_from_sql", "sql"), ("_from_memory", "memory")):
        original = getattr(backend, path)

        def counted(*args, _original=original, _name=name):
            calls[_name] += 1
            return _original(*args)

        setattr(backend, path, counted)
    return calls


def test_a_search_never_reads_an_index_older_than_the_core(engine, tmp_path):
    """Searches run in SQL until the index of the current generation is built in the background,
    then from it; after a load, the next search sees the new material at once."""
    assert ingest_file(engine, SEMANTICS_CSV).loaded
    indexes = MemoryIndexes()
    backend = SqlBackend(engine, memory=indexes)
    calls = _counting(backend)
    query = build_query(filter_text="tensile_strength > 1 MPa", facets=["class"], limit=100)
    first = backend.search(query)
    assert calls == {"sql": 1, "memory": 0}  # no index yet: answered in SQL, a build started
    _wait_until_current(indexes, engine)
    again = backend.search(query)
    assert calls == {"sql": 1, "memory": 1}
    assert again == first

    extra = tmp_path / "extra.csv"
    extra.write_text("Material,Class,tensile strength [MPa]\nNewcomer glass,glass,40\n", encoding="utf-8")
    assert ingest_file(engine, extra).loaded
    after = backend.search(query)
    assert "Newcomer glass" in {hit.name for hit in after.results}
    assert after.total == first.total + 1
    assert calls["sql"] == 2  # the index was a generation behind: not used
    _wait_until_current(indexes, engine)
    assert backend.search(query) == after and calls["memory"] == 2
    indexes.join(engine)  # the last build's check of the generation: its connection closed before the engine goes


def _wait_until_current(indexes: MemoryIndexes, engine, seconds: float = 60) -> None:
    event = threading.Event()
    for _ in range(int(seconds * 20)):
        with engine.connect() as connection:
            if indexes.state(engine, connection) == "current":
                return
        indexes.start(engine)
        event.wait(0.05)
    pytest.fail("the in-memory index was not built")


def test_a_search_reads_one_state_of_the_core(engine):
    """``read_snapshot``: a commit after the first read is not seen by the reads that follow."""
    with engine.connect() as reader:
        read_snapshot(reader)
        before = core_generation(reader)
        with engine.begin() as writer:
            writer.execute(text("UPDATE core_state SET generation = generation + 1 WHERE id = 1"))
        assert core_generation(reader) == before
        reader.rollback()
        assert core_generation(reader) == before + 1


def test_the_index_is_off_in_settings_and_for_the_cli(sqlite_engine):
    from biomatdb.settings import Settings
    from biomatdb_search.backends.sql import SqlBackend
    from biomatdb_search.service import make_backend

    def memory_of(backend):
        assert isinstance(backend, SqlBackend)
        return backend.memory

    assert memory_of(make_backend(Settings(), sqlite_engine)) is None  # a one-shot CLI search: SQL
    assert memory_of(make_backend(Settings(), sqlite_engine, memory=True)) is not None
    assert memory_of(make_backend(Settings(search_memory_index=False), sqlite_engine, memory=True)) is None


CONDITIONS_CSV = (
    "Material,Class,Property,Value,Unit,Medium,Source\n"
    "Alpha,polymer,tensile strength,60,MPa,ÉTHANOL,Review fixture\n"
    "Beta,polymer,tensile strength,60,MPa,éthanol,Review fixture\n"
    "Gamma,polymer,tensile strength,60,MPa,Straße,Review fixture\n"
    "Delta,polymer,tensile strength,60,MPa,STRASSE,Review fixture\n"
    "Epsilon,polymer,tensile strength,60,MPa,PBS,Review fixture\n"
)


@pytest.mark.parametrize(
    "filter_text",
    [
        "tensile_strength > 1 MPa WHERE medium = éthanol",
        "tensile_strength > 1 MPa WHERE medium = ÉTHANOL",
        "tensile_strength > 1 MPa WHERE medium != éthanol",
        "tensile_strength > 1 MPa WHERE medium = Straße",
        "tensile_strength > 1 MPa WHERE medium = strasse",
        "tensile_strength > 1 MPa WHERE medium = pbs",
    ],
)
def test_text_conditions_compare_as_the_database_lowers_them(engine, tmp_path, filter_text):
    """The index keeps the database's own lower() of each value: the answer never depends on
    whether a search ran in SQL or from the index (SQLite folds ASCII letters only)."""
    data = tmp_path / "conditions.csv"
    data.write_text(CONDITIONS_CSV, encoding="utf-8")
    assert ingest_file(engine, data).loaded
    query = build_query(filter_text=filter_text, sort="name", limit=10)
    in_sql = SqlBackend(engine).search(query)
    in_memory = SqlBackend(engine, memory=MemoryIndexes(), wait_for_memory=True).search(query)
    assert [h.name for h in in_memory.results] == [h.name for h in in_sql.results]
    if "Straße" in filter_text:  # a value with ß is found as written (casefold made it "ss")
        assert "Gamma" in {h.name for h in in_sql.results}
    if filter_text.endswith("pbs"):
        assert [h.name for h in in_sql.results] == ["Epsilon"]


def test_a_core_whose_generation_went_back_gets_its_index(sqlite_engine):
    """A restored core may read a lower generation than the index kept: the next build replaces it
    (it was refused, and the build thread rebuilt without end)."""
    assert ingest_file(sqlite_engine, SEMANTICS_CSV).loaded
    indexes = MemoryIndexes()
    backend = SqlBackend(sqlite_engine, memory=indexes)
    calls = _counting(backend)
    query = build_query(filter_text="has density")
    backend.search(query)
    _wait_until_current(indexes, sqlite_engine)
    with sqlite_engine.begin() as connection:
        connection.execute(text("UPDATE core_state SET generation = generation - 5 WHERE id = 1"))
    backend.search(query)  # in SQL: the index is of another generation
    _wait_until_current(indexes, sqlite_engine, seconds=30)
    indexes.join(sqlite_engine, timeout=30)
    assert backend.search(query).total == 3 and calls["memory"] >= 1


def test_each_change_moves_the_generation_to_a_number_not_reached_by_counting(sqlite_engine):
    """A backup restored and changed again must not land on a generation an index of the lost
    state was built at: the generation moves by a random step."""
    from biomatdb.db import bump_generation

    steps = set()
    for _ in range(3):
        with sqlite_engine.begin() as connection:
            before = core_generation(connection)
            bump_generation(connection)
            steps.add(core_generation(connection) - before)
    assert all(step >= 1 for step in steps) and len(steps) == 3
