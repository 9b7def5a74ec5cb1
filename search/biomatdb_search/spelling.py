"""Typo tolerance, the same for every backend: a query word that starts no word of any
material's search text is replaced by the closest word that does (rapidfuzz's ratio, 80 or
more), and the result says what was read instead (``SearchResult.spelling``): "titanum" finds
titanium. Words that something matches are never touched, so a correct query costs one indexed
look-up per word; the words to choose from are read once per core generation."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from rapidfuzz import fuzz, process
from sqlalchemy import Engine, select

from biomatdb.db import PerGeneration
from biomatdb.models import Material
from biomatdb.searchtext import MAX_QUERY_WORDS, query_words
from biomatdb_search.model import Query

#: rapidfuzz ratio (0-100) from which an indexed word stands in for a query word that matches nothing
SCORE_CUTOFF = 80
#: shorter query words are left as typed: too many words are that close to them
MIN_LENGTH = 4


def _indexed_words(connection) -> tuple[str, ...]:
    words: set[str] = set()
    for (text,) in connection.execute(select(Material.search_text).execution_options(yield_per=5_000)):
        words.update(query_words(text or ""))
    return tuple(sorted(words))


_WORDS: PerGeneration[tuple[str, ...]] = PerGeneration(_indexed_words)


def _starts_one(words, token: str) -> bool:
    position = bisect_left(words, token)
    return position < len(words) and words[position].startswith(token)


def check_word_count(query: Query) -> None:
    """A search's text holds at most ``MAX_QUERY_WORDS`` different words."""
    tokens = query_words(query.text) if query.text else []
    if len(tokens) > MAX_QUERY_WORDS:
        from biomatdb.errors import QueryError

        raise QueryError(
            f"the text has {len(tokens)} different words; a search takes at most {MAX_QUERY_WORDS}",
            type="too-many-words",
        )


def respell(engine: Engine, query: Query, words: Sequence[str] | None = None) -> tuple[Query, dict[str, str]]:
    """The query with each word that matches nothing replaced by its closest indexed word, and
    the replacements made (none: the query itself). ``words``: every indexed word, sorted, of the
    core's current generation when the caller holds them (the in-memory index): a word that starts
    one of them is matched without a look-up."""
    if not query.text:
        return query, {}
    check_word_count(query)
    tokens = query_words(query.text)
    from biomatdb_search.core_sql import text_matches_any  # the core's full-text index answers "matches anything?"

    corrections: dict[str, str] = {}
    with engine.connect() as connection:
        for token in dict.fromkeys(tokens):
            if len(token) < MIN_LENGTH or token.isdigit():
                continue
            if words is not None and _starts_one(words, token):
                continue
            if text_matches_any(connection, token):
                continue
            if words is None:
                words = _WORDS.get(engine, connection)
            if _starts_one(words, token):
                continue  # the index folds it otherwise; nothing to correct
            found = process.extractOne(token, words, scorer=fuzz.ratio, score_cutoff=SCORE_CUTOFF)
            if found is not None:
                corrections[token] = found[0]
    if not corrections:
        return query, {}
    text = " ".join(corrections.get(token, token) for token in tokens)
    return query.model_copy(update={"text": text}), corrections
