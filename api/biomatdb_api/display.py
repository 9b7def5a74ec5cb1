"""How a material is shown beyond its values (which ``biomatdb.display`` shows, for every route
alike): the materials a comparison names, and the schema.org JSON-LD that makes a material page
findable (a ``Dataset`` whose ``variableMeasured`` are ``PropertyValue`` entries)."""

from __future__ import annotations

from typing import Any

from biomatdb.display import unit_label
from biomatdb.models import QUALITATIVE, Material
from biomatdb.units import ucum_code


def distinct_documents(named: list[tuple[str, dict[str, Any]]]) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
    """Material documents asked for by name, each once though asked for twice (``PLLA,plla``,
    a name and its id), in the order asked; and the first two names found to be one material."""
    documents: dict[str, dict[str, Any]] = {}
    asked_as: dict[str, str] = {}
    same = None
    for name, document in named:
        if document["id"] in documents:
            same = same or (asked_as[document["id"]], name)
        else:
            documents[document["id"]] = document
            asked_as[document["id"]] = name
    return list(documents.values()), same


def same_material_message(same: tuple[str, str]) -> str:
    return f"{same[0]!r} and {same[1]!r} are the same material; compare 2 to 6 different materials"


def jsonld(material: Material, document: dict[str, Any], url: str) -> dict[str, Any]:
    """schema.org ``Dataset`` for one material; each measurement a ``PropertyValue`` in its canonical
    unit, unrounded (``document`` is ``catalog.material_json``'s, before display)."""
    licenses = sorted({m.dataset.license for m in material.measurements if m.dataset.license})
    cited = {
        f"https://doi.org/{m.source.doi}" if m.source.doi else m.source.citation
        for m in material.measurements
        if m.source is not None
    }
    citations = sorted(citation for citation in cited if citation is not None)
    variables = []
    for m in document["measurements"]:
        value: dict[str, Any] = {"@type": "PropertyValue", "propertyID": m["property"], "name": m["property_name"]}
        if m["qualifier"] == QUALITATIVE:  # a fact in words ("amorphous"): no number, so no unit
            value["value"] = m["text"]
        else:
            value["unitText"] = unit_label(m["unit"])  # as people write it (g/cm³); unitCode is UCUM
            if code := ucum_code(m["unit"]):
                value["unitCode"] = code
        if m["value"] is not None:
            value["value"] = m["value"]
        if m["value_min"] is not None and m["qualifier"] in ("range", ">", ">="):
            value["minValue"] = m["value_min"]
        if m["value_max"] is not None and m["qualifier"] in ("range", "<", "<="):
            value["maxValue"] = m["value_max"]
        if m["conditions"].get("method"):
            value["measurementTechnique"] = m["conditions"]["method"]
        variables.append(value)
    node: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": url,
        "url": url,
        "identifier": document["id"],
        "name": document["name"],
        "description": document["description"] or f"Measured properties of {document['name']} in BiomatDB.",
        "keywords": [k for k in (document["class"], *document["applications"]) if k],
        "isAccessibleForFree": True,
        "variableMeasured": variables,
    }
    if licenses:
        node["license"] = licenses if len(licenses) > 1 else licenses[0]
    if citations:
        node["citation"] = citations
    if document["structure"]:
        node["about"] = {
            "@type": "ChemicalSubstance",
            "name": document["name"],
            "molecularFormula": document["structure"]["formula"],
            "inChIKey": document["structure"]["inchikey"],
            "smiles": document["structure"]["smiles"],
        }
    return node
