"""One folding and one word split for every backend (``biomatdb.searchtext.words``): the words
a query searches for are the words the core wrote for the same text, on SQLite, PostgreSQL, the
in-memory index and Elasticsearch, whose analyzer of the search text only splits on the spaces
between them. The parity table (tests/search_parity_cases.py) runs the named cases (Ørsted, Łódź,
Cæsium, Straße, ½, a combining accent, ə) on the SQL backends and the memory index."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from biomatdb.searchtext import WORD_MAX_BYTES, compose, fold, query_words, words
from biomatdb_ingest.pipeline import ingest_file
from biomatdb_search.backends.elastic_sync import sync
from biomatdb_search.backends.elastic_translate import index_mapping, index_settings, query_body, text_query
from biomatdb_search.core_sql import text_condition
from biomatdb_search.model import Query
from tests.es_transport import Rule, bulk_answer, scripted_client
from tests.search_parity_cases import TEXT_CSV
from tests.test_pipeline import write
from tests.test_search_elastic_sync import ALIAS, FAST_S, alias_on, no_reindex

#: any text: letters of every script, marks, compatibility characters, punctuation and spaces
TEXTS = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


def stored_words(text: str) -> list[str]:
    """The words the indexer writes for a material named ``text``: its search text, as the
    Elasticsearch document carries it and every index reads it (split on single spaces)."""
    stored = compose(name=text, synonyms=[], material_class=None, subclass=None, description=None, applications=[])
    return stored.split(" ") if stored else []


def sql_terms(dialect: str, text: str) -> list[str]:
    """The words the SQL backend's text condition asks its full-text index for."""
    condition = text_condition(dialect, text)
    compiled = condition.compile(dialect=postgresql.dialect() if dialect == "postgresql" else sqlite.dialect())
    (searched,) = [value for value in compiled.params.values() if isinstance(value, str)] or [""]
    if dialect == "postgresql":
        return re.findall(r"'([^']*)':\*", searched)
    return re.findall(r'"([^"]*)"\*', searched)


@pytest.mark.slow
@settings(deadline=None, max_examples=400)
@given(TEXTS)
def test_every_backend_queries_the_words_the_indexer_wrote(text):
    query = query_words(text)
    written = stored_words(text)
    assert written[: len(query)] == query  # the name's words come first, then its folded forms
    assert sql_terms("sqlite", text) == query
    assert sql_terms("postgresql", text) == query
    prefixes, _ = text_query(text)
    assert [clause["prefix"]["search_text"] for clause in prefixes] == query


@settings(deadline=None, max_examples=400)
@given(TEXTS)
def test_a_stored_word_is_folded_once_and_no_index_splits_it(text):
    """Folding is a fixed point, so a stored word queried again is that one word; and it holds
    nothing any index splits on: no space (Elasticsearch's whitespace tokenizer), no ASCII
    punctuation (SQLite's ``ascii`` tokenizer), no ASCII capital (which that tokenizer lowers)."""
    assert fold(fold(text)) == fold(text)
    for word in words(text):
        assert query_words(word) == [word]
        assert word and not any(c.isspace() for c in word)
        assert all(c.isalnum() and not c.isupper() for c in word if c.isascii())
        assert not any(unicodedata.category(c).startswith("M") for c in word)
        assert len(word.encode()) <= WORD_MAX_BYTES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ørsted", ["orsted"]),
        ("Łódź", ["lodz"]),
        ("Cæsium", ["caesium"]),
        ("Straße", ["strasse"]),
        ("Strasse", ["strasse"]),
        ("½-strength", ["1", "2", "strength"]),
        ("Cafe\u0301 été", ["cafe", "ete"]),
        ("e\u0301te\u0301", ["ete"]),  # the marks went before the split: one word, not "e" and "te"
        ("Gəncə", ["gence"]),
        ("İstanbul", ["istanbul"]),  # casefold's "i" + U+0307 loses its mark too
        ("ℌ₂O", ["h2o"]),  # compatibility letters and digits
        ("PEG_DA 3.4", ["peg", "da", "3", "4"]),
    ],
)
def test_words(text, expected):
    assert words(text) == expected


def test_a_word_is_cut_on_a_letter_boundary_under_postgresqls_longest_lexeme():
    (word,) = words("ż" * 3_000)  # two bytes a letter
    assert len(word.encode()) <= WORD_MAX_BYTES and word == "z" * len(word)
    (long,) = words("𝔞" * 1_000)  # four bytes each, folded to "a"
    assert long == "a" * 1_000
    (kept,) = words("ꭰ" * 800)  # Cherokee small letters case-fold to the capitals, three bytes each
    assert len(kept.encode()) <= WORD_MAX_BYTES and kept == "Ꭰ" * len(kept)


def test_elasticsearch_splits_the_search_text_on_spaces_and_folds_nothing():
    analysis = index_settings()["analysis"]
    field = index_mapping()["properties"]["search_text"]
    assert analysis["analyzer"][field["analyzer"]] == {"type": "custom", "tokenizer": "folded_words"}
    tokenizer = analysis["tokenizer"]["folded_words"]
    assert tokenizer == {"type": "whitespace", "max_token_length": WORD_MAX_BYTES}
    every_filter = [f for analyzer in analysis["analyzer"].values() for f in analyzer.get("filter", [])]
    assert "asciifolding" not in every_filter


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("orsted", "Ørsted test alloy"),
        ("Łódź", "Łódź test alloy"),
        ("lodz", "Łódź test alloy"),
        ("caesium", "Cæsium test glass"),
        ("Strasse", "Straße test glass"),
        ("Straße", "Straße test glass"),
        ("½", "½-strength test hydrogel"),
        ("café", "Cafe\u0301 test hydrogel"),
        ("Cafe\u0301", "Cafe\u0301 test hydrogel"),
        ("gəncə", "Gəncə test glass"),
        ("gence", "Gəncə test glass"),
    ],
)
def test_elasticsearch_documents_and_requests_carry_the_same_words(sqlite_engine, tmp_path, text, name):
    """Through the real client (scripted node): the document sync sends carries the core's words,
    and the search request asks for the query's words as prefixes of them, which a whitespace
    tokenizer indexes as they are."""
    assert ingest_file(sqlite_engine, write(tmp_path, "text.csv", TEXT_CSV)).loaded
    client, script = scripted_client(
        [no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [bulk_answer(lambda a, s: None)])]
    )
    assert sync(sqlite_engine, client, ALIAS, backoff_s=FAST_S).upserted >= 9
    sources = [line for request in script.sent("PUT", r"/_bulk") for line in request.ndjson()[1::2]]
    by_name = {unicodedata.normalize("NFC", source["name"]): source for source in sources}
    document = by_name[unicodedata.normalize("NFC", name)]
    indexed = document["search_text"].split(" ")  # what the whitespace tokenizer makes of it
    assert indexed == words(document["search_text"])  # already folded: no index changes a word
    body = query_body(Query(text=text), chemistry_ids={}, offset=0)
    asked = [clause["prefix"]["search_text"] for clause in body["query"]["bool"]["filter"] if "prefix" in clause]
    assert asked == query_words(text) and asked
    assert all(any(word.startswith(prefix) for word in indexed) for prefix in asked), (asked, indexed)
    others = [s for key, s in by_name.items() if key != unicodedata.normalize("NFC", name)]
    assert not any(all(any(w.startswith(p) for w in s["search_text"].split(" ")) for p in asked) for s in others)
