"""One material: everything about it, in display units if asked, with JSON-LD; and the
materials most like it, by structure and by property profile."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from biomatdb.catalog import find_material, material_json
from biomatdb.display import shown_material
from biomatdb.models import Material
from biomatdb_api import params
from biomatdb_api.deps import ChemistryDep, ReadEngineDep, ReadSessionDep, UnitChoiceDep
from biomatdb_api.display import jsonld
from biomatdb_api.problems import responses
from biomatdb_api.schemas import MaterialOut, SimilarHit, SimilarOut
from biomatdb_search.similar import similar_by_profile

router = APIRouter(tags=["materials"])

MaterialId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=params.MATERIAL_ID_MAX,
        description="Public id (e.g. BM-…), name or synonym.",
        examples=["Poly(dimethyl siloxane)"],
    ),
]


@router.get(
    "/materials/{material_id}",
    response_model=MaterialOut,
    response_model_by_alias=True,
    responses=responses(400, 404, 422, 429),
    summary="One material",
)
def material_detail(
    material_id: MaterialId,
    session: ReadSessionDep,
    request: Request,
    response: Response,
    choice: UnitChoiceDep,
) -> dict:
    """Structure, composition and every measurement with its unit, conditions, source, dataset
    and provenance, in display units rounded to the precision written (the canonical values
    beside them); ``jsonld`` holds a schema.org ``Dataset`` of it, in canonical units."""
    material = find_material(session, material_id)
    canonical = material_json(material)
    document = shown_material(canonical, choice)
    url = str(request.url_for("material_detail", material_id=material.public_id))
    document["jsonld"] = jsonld(material, canonical, url)
    response.headers["Link"] = f'<{url}>; rel="canonical"'
    return document


@router.get(
    "/materials/{material_id}/similar",
    response_model=SimilarOut,
    responses=responses(400, 404, 422, 429),
    summary="Materials like this one",
)
def similar_materials(
    material_id: MaterialId,
    session: ReadSessionDep,
    engine: ReadEngineDep,
    chemistry: ChemistryDep,
    kind: Annotated[
        Literal["structure", "property_profile"] | None, Query(description="Only this kind of similarity.")
    ] = None,
    threshold: Annotated[float, Query(ge=0, le=1, description="Least Tanimoto score of a structure match.")] = 0.5,
    limit: Annotated[int, Query(ge=1, le=100, description="Results per kind.")] = 10,
) -> SimilarOut:
    """Nearest materials by structure (Tanimoto of Morgan fingerprints) and by property
    profile (log-scaled values compared per shared property); each with its score and kind."""
    from sqlalchemy import select

    material = find_material(session, material_id)
    found: list[tuple[int, Literal["structure", "property_profile"], float, tuple[str, ...] | None]] = []
    if kind in (None, "structure") and material.structure is not None:
        scores = chemistry.similarity(material.structure.canonical_smiles, threshold)
        best = sorted(
            ((score, other) for other, score in scores.items() if other != material.id),
            key=lambda pair: (-pair[0], pair[1]),
        )[:limit]
        found += [(other, "structure", min(score, 1.0), None) for score, other in best]
    if kind in (None, "property_profile"):
        found += [
            (m.material_id, "property_profile", m.score, m.shared)
            for m in similar_by_profile(engine, material.id, limit=limit)
        ]
    rows = {
        row.id: row
        for row in session.execute(
            select(
                Material.id, Material.public_id, Material.name, Material.material_class.label("material_class")
            ).where(Material.id.in_({other for other, *_ in found}))
        )
    }
    return SimilarOut(
        id=material.public_id,
        name=material.name,
        results=[
            SimilarHit(
                id=rows[other].public_id,
                name=rows[other].name,
                material_class=rows[other].material_class,
                kind=what,
                score=score,
                shared_properties=list(shared) if shared is not None else None,
            )
            for other, what, score, shared in found
            if other in rows
        ],
    )
