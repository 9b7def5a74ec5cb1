"""The condition values stored with measurements (specimen states, media, methods, standards),
with their counts: what ``WHERE state = …`` and ``WHERE medium = …`` can find. The same listing
as ``biomatdb conditions --json``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from biomatdb_api.deps import ReadEngineDep
from biomatdb_api.problems import responses
from biomatdb_search.conditions import ConditionFieldOut, read_listing

router = APIRouter(tags=["vocabulary"])

FieldParam = Annotated[
    Literal["specimen_state", "state", "medium", "method", "standard"] | None,
    Query(description="Only this condition field (state is specimen_state). Default: every field."),
]


@router.get(
    "/conditions", response_model=list[ConditionFieldOut], responses=responses(422, 429), summary="Condition values"
)
async def conditions(engine: ReadEngineDep, field: FieldParam = None) -> list[ConditionFieldOut]:
    """Each condition field's stored values, most materials first, with the materials and
    measurements that carry each, and the vocabulary term it is (null: written outside the
    condition vocabulary, ``biomatdb/vocabulary/conditions.toml``)."""
    return await run_in_threadpool(read_listing, engine, field)
