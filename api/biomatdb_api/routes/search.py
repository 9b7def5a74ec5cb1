"""Search: ``GET /materials`` with query parameters and ``POST /search`` with a JSON body;
both answer exactly what ``biomatdb search --json`` prints."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from biomatdb.display import UnitChoice
from biomatdb.settings import Settings
from biomatdb_api import params
from biomatdb_api.deps import SearchDep, SettingsDep, UnitChoiceDep
from biomatdb_api.problems import ProblemError, responses
from biomatdb_api.schemas import SearchBody
from biomatdb_search.display import shown_result
from biomatdb_search.model import FACETS, MAX_LIMIT, SearchResult
from biomatdb_search.service import build_query

router = APIRouter(tags=["search"])

FILTER_EXAMPLE = "youngs_modulus in 0.1..3 GPa AND class = polymer"


MatchParam = Annotated[
    Literal["possible", "certain"],
    Query(
        description=(
            "possible (default): a measurement matches a property filter when its interval meets the asked one; "
            "certain: only when its whole interval, a bound included, lies within it."
        )
    ),
]


UncertaintyParam = Annotated[
    Literal["point", "interval"],
    Query(
        description=(
            "point (default): a measurement v ± u is the point v; interval: it counts as [v − u, v + u] for "
            "matching and certainty."
        )
    ),
]


SortParam = Annotated[
    str | None,
    Query(
        max_length=params.SORT_MAX,
        description="name, relevance, similarity or a property key; -key descends.",
        examples=["-youngs_modulus"],
    ),
]


def run_search(
    search,
    settings: Settings,
    *,
    text: str | None,
    filter_text: str | None,
    facets: list[str],
    sort: str | None,
    limit: int,
    cursor: str | None,
    match: str = "possible",
    uncertainty: str = "point",
    choice: UnitChoice,
) -> SearchResult:
    if limit > settings.page_size_max:
        raise ProblemError(422, f"limit: at most {settings.page_size_max} results per page", code="validation-error")
    query = build_query(
        text=text,
        filter_text=filter_text,
        facets=facets,
        sort=sort,
        limit=limit,
        cursor=cursor,
        match=match,
        uncertainty=uncertainty,
    )
    return shown_result(search.search(query), choice)


@router.get(
    "/materials", response_model=SearchResult, responses=responses(400, 422, 429, 503), summary="Search materials"
)
def search_materials(
    search: SearchDep,
    settings: SettingsDep,
    choice: UnitChoiceDep,
    q: Annotated[
        str | None,
        Query(
            max_length=params.TEXT_MAX,
            description="Free text over names, synonyms, description, applications.",
            examples=["polylactide"],
        ),
    ] = None,
    filter: Annotated[
        str | None,
        Query(max_length=params.FILTER_MAX, description="A filter in the filter language.", examples=[FILTER_EXAMPLE]),
    ] = None,
    facet: Annotated[
        list[Literal[FACETS]],  # type: ignore[valid-type]
        Query(
            max_length=len(FACETS),
            description="Facets to count (repeatable).",
        ),
    ] = [],  # noqa: B006
    sort: SortParam = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Results per page (at most page_size_max).")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=params.CURSOR_MAX, description="next_cursor of the previous page.")
    ] = None,
    match: MatchParam = "possible",
    uncertainty: UncertaintyParam = "point",
) -> SearchResult:
    """Materials matching free text and a filter (properties in any unit, class, application,
    chemistry), with facet counts over the same matches, sorted, one page at a time."""
    return run_search(
        search,
        settings,
        text=q,
        filter_text=filter,
        facets=facet,
        sort=sort,
        limit=limit,
        cursor=cursor,
        match=match,
        uncertainty=uncertainty,
        choice=choice,
    )


@router.post(
    "/search",
    response_model=SearchResult,
    responses=responses(400, 413, 422, 429, 503),
    summary="Search materials (JSON body)",
)
def search_by_body(search: SearchDep, settings: SettingsDep, body: SearchBody, choice: UnitChoiceDep) -> SearchResult:
    """The same search as ``GET /materials``, the query as a JSON object; display units as in
    ``GET /materials`` (``?units=``, ``?unit_system=``)."""
    return run_search(
        search,
        settings,
        text=body.q,
        filter_text=body.filter,
        facets=list(body.facets),
        sort=body.sort,
        limit=body.limit,
        cursor=body.cursor,
        match=body.match,
        uncertainty=body.uncertainty,
        choice=choice,
    )
