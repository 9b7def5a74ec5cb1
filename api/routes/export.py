"""Export: any search, or one dataset, as CSV or JSON in the long layout that ingests back;
streamed page by page, so that a large export never sits in memory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from api import params
from api.deps import EngineDep, SearchDep, UnitChoiceDep
from api.problems import responses
from biomatdb.catalog import csv_blocks, export_rows, export_rows_for
from biomatdb.display import UnitChoice
from biomatdb.errors import NotFoundError
from biomatdb.models import Dataset
from search.model import MAX_LIMIT
from search.service import build_query

router = APIRouter(tags=["export"])

_MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
_FLUSH_BYTES = 1 << 16


def search_rows(search, engine, query, choice: UnitChoice) -> Iterator[dict[str, str]]:
    """The rows of every material the query matches, one search page (and one session) at a time."""
    page = search.search(query)
    while True:
        with Session(engine) as session:
            yield from export_rows_for(session, [hit.id for hit in page.results], choice=choice)
        if page.next_cursor is None:
            return
        page = search.search(query.model_copy(update={"cursor": page.next_cursor}))


def dataset_rows(engine, dataset: str, choice: UnitChoice) -> Iterator[dict[str, str]]:
    with Session(engine) as session:
        yield from export_rows(session, dataset=dataset, choice=choice)


def as_csv(rows: Iterator[dict[str, str]]) -> Iterator[bytes]:
    for block in csv_blocks(rows, flush_bytes=_FLUSH_BYTES):
        yield block.encode("utf-8")


def as_json(rows: Iterator[dict[str, str]]) -> Iterator[bytes]:
    yield b"["
    for index, row in enumerate(rows):
        yield (b"," if index else b"") + b"\n" + orjson.dumps(row)
    yield b"\n]\n"


@router.get(
    "/export",
    responses={
        200: {"content": {"text/csv": {}, "application/json": {}}, "description": "The rows, streamed"},
        **responses(400, 404, 422, 429),
    },
    summary="Export a search or a dataset",
    response_class=StreamingResponse,
)
def export(
    search: SearchDep,
    engine: EngineDep,
    choice: UnitChoiceDep,
    format: Annotated[Literal["csv", "json"], Query(description="csv or json")] = "csv",
    q: Annotated[str | None, Query(max_length=params.TEXT_MAX, description="Free text, as in /materials.")] = None,
    filter: Annotated[
        str | None, Query(max_length=params.FILTER_MAX, description="A filter, as in /materials.")
    ] = None,
    dataset: Annotated[
        str | None, Query(max_length=params.NAME_MAX, description="Instead of a search: every row of this dataset.")
    ] = None,
    match: Annotated[Literal["possible", "certain"], Query(description="As in /materials.")] = "possible",
) -> StreamingResponse:
    """A row per measurement (and one per material without any), the columns of ``biomatdb export``,
    values in display units rounded to the precision written; what it gives ingests back to the
    same values at that precision."""
    if dataset is not None:
        with engine.connect() as connection:
            if connection.execute(Dataset.__table__.select().where(Dataset.name == dataset)).first() is None:
                raise NotFoundError(f"no dataset named {dataset!r}")
        rows = dataset_rows(engine, dataset, choice)
        stem = dataset
    else:
        query = build_query(text=q, filter_text=filter, limit=MAX_LIMIT, match=match)
        rows = search_rows(search, engine, query, choice)
        first = next(rows, None)  # runs the first page now, so that a bad query is a 400, not a broken stream
        rows = _prepend(first, rows)
        stem = "biomatdb-export"
    body = as_csv(rows) if format == "csv" else as_json(rows)
    filename = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem) + f".{format}"
    return StreamingResponse(
        body, media_type=_MEDIA[format], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _prepend(first: dict[str, str] | None, rest: Iterator[dict[str, str]]) -> Iterator[dict[str, str]]:
    if first is not None:
        yield first
        yield from rest
