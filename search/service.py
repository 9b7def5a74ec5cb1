"""What the API and the CLI share: building a ``Query`` from user text, and choosing the
backend from the settings (Elasticsearch when its URL is set, else the SQL core)."""

from __future__ import annotations

from sqlalchemy import Engine

from biomatdb.settings import Settings
from search.chemistry import ChemistryIndex
from search.model import Query, Sort


def build_query(*, text: str | None = None, filter_text: str | None = None, facets: list[str] | None = None,
                sort: str | None = None, limit: int = 20, cursor: str | None = None) -> Query:
    """A query from what a user typed; a bad filter raises ``QueryError`` with its position."""
    from search.parser import parse_filter

    parsed = parse_filter(filter_text) if filter_text and filter_text.strip() else None
    return Query(text=text, filter=parsed, facets=facets or [], sort=Sort.parse(sort), limit=limit, cursor=cursor)


def make_backend(settings: Settings, engine: Engine, chemistry: ChemistryIndex | None = None):
    """The configured search backend over this core."""
    chemistry = chemistry or ChemistryIndex(engine, limits=settings.structure_limits())
    url = getattr(settings, "elasticsearch_url", None)
    if url:
        from elasticsearch import Elasticsearch

        from search.backends.elastic import ElasticBackend

        return ElasticBackend(Elasticsearch(url), settings.elasticsearch_index, engine, chemistry)
    from search.backends.sql import SqlBackend

    return SqlBackend(engine, chemistry)
