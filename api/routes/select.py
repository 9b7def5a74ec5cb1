"""Selection: ``POST /select`` ranks the materials that meet a requirement; ``GET
/select/presets`` lists the requirements to start from. The answer is what ``biomatdb select
--json`` prints (docs/selection.md)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from api.deps import EngineDep, SearchDep, UnitChoiceDep
from api.problems import responses
from search.select.model import Requirement, Selection
from search.select.presets import presets
from search.select.service import select

router = APIRouter(tags=["select"])

#: An answer as the fixtures give it (shortened to one candidate), for the API's documentation.
SELECTION_EXAMPLE = {
    "results": [
        {
            "id": "bm-1ce8980ebe",
            "name": "PEEK",
            "class": "polymer",
            "rank": 1,
            "score": 0.590377,
            "pareto": True,
            "criteria": [
                {
                    "objective": "match:youngs_modulus=Cortical bone@2",
                    "weight": 2.0,
                    "score": 1.0,
                    "contribution": 0.571429,
                    "value": 0.0,
                    "measurement": {
                        "property": "youngs_modulus",
                        "display": "3–4 GPa",
                        "value_min": 3.0,
                        "value_max": 4.0,
                        "unit": "GPa",
                        "conditions": {},
                        "source": "Kurtz SM, Devine JN. PEEK biomaterials in trauma, orthopedic, and spinal implants. "
                        "Biomaterials 28 (2007) 4845-4869",
                        "dataset": "biomatdb-curated-polymers",
                    },
                    "missing": None,
                },
                {
                    "objective": "max:fatigue_strength@0.5",
                    "weight": 0.5,
                    "score": 0.0,
                    "contribution": 0.0,
                    "value": None,
                    "measurement": None,
                    "missing": {"reason": "no measurement of Fatigue strength", "treatment": "penalised"},
                },
            ],
        }
    ],
    "method": "weighted sum of ratio-normalised criterion scores (docs/selection.md)",
    "policy": "worst",
    "missing": "penalise",
    "constraint": "class != tissue AND NOT biodegradable = true",
    "objectives": ["match:youngs_modulus=Cortical bone@2", "max:tensile_strength", "max:fatigue_strength@0.5"],
    "targets": [
        {
            "objective": "match:youngs_modulus=Cortical bone@2",
            "low": 3.0,
            "high": 30.0,
            "unit": "GPa",
            "display": "3–30 GPa",
            "tissue": "Cortical bone",
            "measurements": 10,
        }
    ],
    "candidates": 71,
    "ranked": 58,
    "excluded": [],
}


class PresetOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "soft_tissue_scaffold",
                    "name": "Soft-tissue scaffold",
                    "description": "A scaffold as soft as the skin it replaces, open enough for cells to move in.",
                    "constraint": "class = hydrogel OR class = polymer OR class = natural",
                    "objectives": ["match:youngs_modulus=Skin@2", "max:porosity"],
                    "notes": None,
                }
            ]
        }
    )

    key: str
    name: str
    description: str
    constraint: str | None
    objectives: list[str]
    notes: str | None = None


@router.post(
    "/select",
    response_model=Selection,
    response_model_by_alias=True,
    responses={
        200: {"content": {"application/json": {"example": SELECTION_EXAMPLE}}},
        **responses(400, 413, 422, 429, 503),
    },
    summary="Rank materials against a requirement",
)
def select_materials(search: SearchDep, engine: EngineDep, body: Requirement, choice: UnitChoiceDep) -> Selection:
    """The materials that meet `constraint`, ranked by the weighted `objectives` (or a preset's):
    each with its score, each criterion's score and contribution, the measurement it was scored on
    and its source, and whether it is Pareto-optimal. Values shown in display units (`?units=`,
    `?unit_system=`)."""
    return select(search, engine, body, choice)


@router.get("/select/presets", response_model=list[PresetOut], summary="Selection presets")
def list_presets() -> list[PresetOut]:
    """Requirements as data (`biomatdb/vocabulary/presets.toml`): each a constraint and objectives."""
    return [
        PresetOut(
            key=p.key,
            name=p.name,
            description=p.description,
            constraint=p.constraint,
            objectives=list(p.objectives),
            notes=p.notes,
        )
        for p in presets().values()
    ]
