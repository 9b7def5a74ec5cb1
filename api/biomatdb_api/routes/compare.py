"""Two to six materials side by side, property by property, in one unit per property."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field, StringConstraints

from biomatdb.catalog import find_material, material_json
from biomatdb.display import scientific_row, shown_measurement, unit_label
from biomatdb.vocabulary import get_vocabulary
from biomatdb_api import params
from biomatdb_api.deps import ReadSessionDep, UnitChoiceDep
from biomatdb_api.display import distinct_documents, same_material_message
from biomatdb_api.problems import ProblemError, responses
from biomatdb_api.schemas import CompareOut

router = APIRouter(tags=["materials"])

#: How many materials compare takes (declared as the ``ids`` array's minItems and maxItems).
IDS_MIN, IDS_COUNT_MAX = 2, 6
#: One item as declared: not blank and without a comma, so that the server counts it as one
#: material (it also takes items of comma-separated ids, which the declaration leaves out).
_ID_ITEM = {"minLength": 1, "pattern": r"^[^,]*[^,\s][^,]*$"}


@router.get(
    "/compare",
    response_model=CompareOut,
    response_model_by_alias=True,
    responses=responses(400, 404, 422, 429),
    summary="Compare materials",
)
def compare(
    session: ReadSessionDep,
    ids: Annotated[
        list[Annotated[str, StringConstraints(max_length=params.IDS_MAX), Field(json_schema_extra=_ID_ITEM)]],
        Query(
            description="2 to 6 material ids or names: the parameter repeated (ids=A&ids=B), or "
            "comma-separated (ids=A,B).",
            examples=[["BM-000001", "BM-000002"]],
            # what the server counts, declared (the comma-separated form is one item of commas)
            json_schema_extra={"minItems": IDS_MIN, "maxItems": IDS_COUNT_MAX, "uniqueItems": True},
        ),
    ],
    choice: UnitChoiceDep,
) -> dict:
    """Every property any of the materials has, with each material's measurements of it, all in
    one display unit per property (for their magnitudes, where the default depends on it)."""
    names = list(dict.fromkeys(part.strip() for item in ids for part in item.split(",") if part.strip()))
    if not IDS_MIN <= len(names) <= IDS_COUNT_MAX:
        raise ProblemError(422, f"ids: compare 2 to 6 materials, got {len(names)}", code="validation-error")
    documents, same = distinct_documents([(name, material_json(find_material(session, name))) for name in names])
    if len(documents) < 2:
        assert same is not None, "fewer distinct materials than names: two names were one material"
        raise ProblemError(422, f"ids: {same_material_message(same)}", code="validation-error")
    vocabulary = get_vocabulary()
    # a data sheet's order, as the compare page's (categories.toml, then properties.toml)
    keys = sorted(
        {m["property"] for d in documents for m in d["measurements"]}, key=lambda k: (vocabulary.property_rank(k), k)
    )
    rows = []
    for key in keys:
        prop = vocabulary.properties.get(key)
        mine = [m for d in documents for m in d["measurements"] if m["property"] == key]
        unit = choice.unit_of(prop, mine) if prop else mine[0]["unit"]
        # one notation per row, as the compare page's (docs/display.md)
        scientific = scientific_row(prop, unit, mine) if prop else False
        values = {}
        for document in documents:
            values[document["id"]] = [
                {
                    name: shown[name]
                    for name in (
                        "qualifier",
                        "qualitative",
                        "value",
                        "value_min",
                        "value_max",
                        "uncertainty",
                        "text",
                        "display",
                        "value_canonical",
                        "value_canonical_min",
                        "value_canonical_max",
                        "uncertainty_canonical",
                        "conditions",
                        "dataset",
                    )
                }
                for shown in (
                    shown_measurement(m, choice, unit=unit, scientific=scientific)
                    for m in document["measurements"]
                    if m["property"] == key
                )
            ]
        rows.append(
            {
                "property": key,
                "name": prop.name if prop else key,
                "unit": unit_label(unit),
                "unit_canonical": unit_label(prop.unit if prop else unit),
                "notation": "scientific" if scientific else "plain",
                "values": values,
            }
        )
    return {
        "materials": [{"id": d["id"], "name": d["name"], "material_class": d["class"]} for d in documents],
        "properties": rows,
    }
