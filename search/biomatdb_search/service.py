"""What the API and the CLI share: building a ``Query`` from user text, and choosing the
backend from the settings (Elasticsearch when its URL is set, else the SQL core)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from biomatdb.settings import Settings
from biomatdb_search.contract import SearchBackend
from biomatdb_search.model import Query, Sort

if TYPE_CHECKING:
    from biomatdb_search.chemistry import ChemistryIndex  # imported when first used: it loads RDKit


def build_query(
    *,
    text: str | None = None,
    filter_text: str | None = None,
    facets: list[str] | None = None,
    sort: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
    match: str = "possible",
    uncertainty: str = "point",
) -> Query:
    """A query from what a user typed; a bad filter raises ``QueryError`` with its position."""
    parsed = None
    if filter_text and filter_text.strip():
        from biomatdb_search.parser import parse_filter  # here: a text-only search never loads the grammar or pint

        parsed = parse_filter(filter_text)
    # validated as the user's text: a ``match`` or ``uncertainty`` the model does not know is
    # refused with the field's name (``ValidationError``)
    return Query.model_validate(
        {
            "text": text,
            "filter": parsed,
            "facets": facets or [],
            "sort": Sort.parse(sort),
            "limit": limit,
            "cursor": cursor,
            "match": match,
            "uncertainty": uncertainty,
        }
    )


class LazyChemistry:
    """The chemistry index, imported (RDKit) and built only when a query first names a structure:
    a CLI search without chemistry starts without loading RDKit."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._index: ChemistryIndex | None = None

    def index(self) -> ChemistryIndex:
        if self._index is None:
            from biomatdb_search.chemistry import ChemistryIndex

            self._index = ChemistryIndex(self.engine, limits=self.settings.structure_limits())
        return self._index

    def __call__(self, node):
        return self.index()(node)

    def __getattr__(self, name: str):
        return getattr(self.index(), name)


def make_backend(settings: Settings, engine: Engine, chemistry=None, *, memory: bool = False) -> SearchBackend:
    """The configured search backend over this core (``chemistry``: a ``ChemistryIndex``, or one
    made when first needed). ``memory``: the SQL backend answers from the in-memory index
    (``biomatdb_search.memory``) when the settings allow it; for a long-lived process, not a one-shot CLI."""
    chemistry = chemistry or LazyChemistry(engine, settings)
    url = getattr(settings, "elasticsearch_url", None)
    if url:
        from elasticsearch import Elasticsearch

        from biomatdb_search.backends.elastic import ElasticBackend

        return ElasticBackend(Elasticsearch(url), settings.elasticsearch_index, engine, chemistry)
    from biomatdb_search.backends.sql import SqlBackend

    if memory and settings.search_memory_index:
        from biomatdb_search.memory import memory_indexes

        return SqlBackend(engine, chemistry, memory=memory_indexes)
    return SqlBackend(engine, chemistry)
