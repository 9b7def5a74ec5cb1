"""Selection: ``POST /select`` ranks the materials that meet a requirement; ``GET
/select/presets`` lists the requirements to start from. The answer is what ``biomatdb select
--json`` prints (docs/selection.md)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from biomatdb_api.deps import ReadEngineDep, SearchDep, UnitChoiceDep
from biomatdb_api.problems import responses
from biomatdb_search.select.model import Requirement, Selection
from biomatdb_search.select.presets import presets
from biomatdb_search.select.service import select

router = APIRouter(tags=["select"])


class PresetOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "load_bearing_bone_implant",
                    "name": "Load-bearing bone implant",
                    "description": "A femoral stem or plate that carries load without shielding the bone from stress.",
                    "constraint": "class != tissue AND NOT biodegradable = true",
                    "objectives": ["match:youngs_modulus=Cortical bone@2", "max:tensile_strength"],
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
    responses=responses(400, 413, 422, 429, 503),
    summary="Rank materials against a requirement",
)
def select_materials(search: SearchDep, engine: ReadEngineDep, body: Requirement, choice: UnitChoiceDep) -> Selection:
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
