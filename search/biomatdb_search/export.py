"""The export of a search: the long-layout rows (``biomatdb.catalog``) of every material a query
matches, one search page (and one session) at a time. The API's ``GET /export`` and the CLI's
``biomatdb export --filter`` both write through this, so that an export and a search of the same
query (``match``, ``uncertainty`` and all) hold the same materials."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from biomatdb.catalog import export_rows_for
from biomatdb.display import UnitChoice
from biomatdb_search.model import Query


def search_rows(search, engine: Engine, query: Query, choice: UnitChoice) -> Iterator[dict[str, Any]]:
    """The rows of every material ``query`` matches, in its order, page by page."""
    page = search.search(query)
    while True:
        with Session(engine) as session:
            yield from export_rows_for(session, [hit.id for hit in page.results], choice=choice)
        if page.next_cursor is None:
            return
        page = search.search(query.model_copy(update={"cursor": page.next_cursor}))
