"""Export: any search, one material, or one dataset, as CSV, JSON or Parquet in the long layout
that ingests back (``biomatdb.exports``); streamed page by page, so that a large export never
sits in memory. The web UI's download links point here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from biomatdb.catalog import export_rows, export_rows_for, find_material
from biomatdb.display import UnitChoice
from biomatdb.errors import NotFoundError
from biomatdb.evaluations import EVIDENCE_FIELDS, evidence_export
from biomatdb.exports import MEDIA_TYPES, blocks
from biomatdb.models import Dataset
from biomatdb_api import params
from biomatdb_api.deps import ReadEngineDep, SearchDep, UnitChoiceDep
from biomatdb_api.problems import responses
from biomatdb_api.routes.search import MatchParam, SortParam, UncertaintyParam
from biomatdb_search.export import search_rows
from biomatdb_search.model import MAX_LIMIT
from biomatdb_search.service import build_query

router = APIRouter(tags=["export"])


def dataset_rows(engine, dataset: str, choice: UnitChoice) -> Iterator[dict[str, Any]]:
    with Session(engine) as session:
        yield from export_rows(session, dataset=dataset, choice=choice)


def material_rows(engine, public_id: str, choice: UnitChoice) -> Iterator[dict[str, Any]]:
    with Session(engine) as session:
        yield from export_rows_for(session, [public_id], choice=choice)


def evidence_rows(engine, *, dataset: str | None, material: str | None) -> Iterator[dict[str, Any]]:
    with engine.connect() as connection:
        yield from evidence_export(connection, dataset=dataset, material=material)


def _evidence_body(format: str, items: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """Evidence as the CLI writes it: the layout that ingests back (CSV, Parquet), the records (JSON)."""
    if format != "json":
        yield from blocks(format, (item["row"] for item in items), fields=EVIDENCE_FIELDS)
        return
    yield b"["
    for index, item in enumerate(items):
        yield (b"," if index else b"") + b"\n" + orjson.dumps(item["record"])
    yield b"\n]\n"


@router.get(
    "/export",
    responses={
        200: {
            "content": {"text/csv": {}, "application/json": {}, "application/vnd.apache.parquet": {}},
            "description": "The rows, streamed",
        },
        **responses(400, 404, 422, 429),
    },
    summary="Export a search, a material or a dataset",
    response_class=StreamingResponse,
)
def export(
    search: SearchDep,
    engine: ReadEngineDep,
    choice: UnitChoiceDep,
    format: Annotated[Literal["csv", "json", "parquet"], Query(description="csv, json or parquet")] = "csv",
    q: Annotated[str | None, Query(max_length=params.TEXT_MAX, description="Free text, as in /materials.")] = None,
    filter: Annotated[
        str | None, Query(max_length=params.FILTER_MAX, description="A filter, as in /materials.")
    ] = None,
    dataset: Annotated[
        str | None, Query(max_length=params.NAME_MAX, description="Instead of a search: every row of this dataset.")
    ] = None,
    material: Annotated[
        str | None,
        Query(max_length=params.NAME_MAX, description="Instead of a search: the rows of this material (id or name)."),
    ] = None,
    kind: Annotated[
        Literal["measurements", "evidence"],
        Query(description="measurements, or evidence: the biological-evaluation records (of a dataset or material)"),
    ] = "measurements",
    sort: SortParam = None,
    match: MatchParam = "possible",
    uncertainty: UncertaintyParam = "point",
) -> StreamingResponse:
    """A row per measurement (and one per material without any), the columns of ``biomatdb export``
    (docs/export.md): numbers (``value``, ``value_min``, ``value_max``, ``uncertainty``) in display
    units rounded to the precision written, beside the text that ingests back (``value_text``)
    and the verbatim value and unit. A search's ``match`` and ``uncertainty`` choose its materials,
    and its ``sort`` orders them, as in /materials."""
    stem, public_id = "biomatdb-export", None
    if material is not None:
        with Session(engine) as session:
            found = find_material(session, material)
            public_id, stem = found.public_id, found.public_id
    if dataset is not None:
        with engine.connect() as connection:
            if connection.execute(Dataset.__table__.select().where(Dataset.name == dataset)).first() is None:
                raise NotFoundError(f"no dataset named {dataset!r}")
        stem = dataset
    if kind == "evidence":
        body = _evidence_body(format, evidence_rows(engine, dataset=dataset, material=public_id))
        stem += "-evidence"
    else:
        if public_id is not None:
            rows = material_rows(engine, public_id, choice)
        elif dataset is not None:
            rows = dataset_rows(engine, dataset, choice)
        else:
            query = build_query(
                text=q, filter_text=filter, sort=sort, limit=MAX_LIMIT, match=match, uncertainty=uncertainty
            )
            rows = search_rows(search, engine, query, choice)
            first = next(rows, None)  # runs the first page now, so that a bad query is a 400, not a broken stream
            rows = _prepend(first, rows)
        body = blocks(format, rows)
    filename = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem) + f".{format}"
    return StreamingResponse(
        body, media_type=MEDIA_TYPES[format], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _prepend(first: dict[str, Any] | None, rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    if first is not None:
        yield first
        yield from rest
