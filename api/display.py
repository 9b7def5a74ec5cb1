"""How a material is shown: values in the display units a caller asks for, and the
schema.org JSON-LD that makes a material page findable (a ``Dataset`` whose
``variableMeasured`` are ``PropertyValue`` entries)."""

from __future__ import annotations

from typing import Any

from biomatdb.catalog import value_text
from biomatdb.errors import BiomatError
from biomatdb.models import QUALITATIVE, Material
from biomatdb.units import conversion, convert_value, ucum_code
from biomatdb.vocabulary import get_vocabulary


def parse_units(text: str | None) -> dict[str, str]:
    """``youngs_modulus:MPa,glass_transition_temperature:degC`` → {property key: unit}, each unit
    checked against its property's dimension (UnitError, VocabularyError)."""
    if not text or not text.strip():
        return {}
    vocabulary = get_vocabulary()
    wanted: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, unit = part.partition(":")
        if not sep or not name.strip() or not unit.strip():
            raise BiomatError(
                f"units: expected property:unit pairs separated by commas, got {part.strip()!r}", type="bad-units"
            )
        prop = vocabulary.property(name.strip())
        conversion(unit.strip(), prop)  # refuses a unit that is unknown or of another dimension
        wanted[prop.key] = unit.strip()
    return wanted


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


def _shift(value: float | None, unit: str, target: str, kind: str) -> float | None:
    return None if value is None else convert_value(value, unit, target, kind=kind)


def in_display_units(measurement: dict[str, Any], units: dict[str, str]) -> dict[str, Any]:
    """A measurement dict (``catalog.measurement_json``) with its values in the asked unit;
    uncertainties convert as differences (2 K is 2 °C, not −271 °C)."""
    target = units.get(measurement["property"])
    if target is None or target == measurement["unit"]:
        return measurement
    prop = get_vocabulary().properties[measurement["property"]]
    unit = measurement["unit"]
    shown = dict(measurement)
    for key in ("value", "value_min", "value_max"):
        shown[key] = _shift(measurement[key], unit, target, prop.kind)
    if measurement["uncertainty"] is not None:
        zero = convert_value(0.0, unit, target, kind=prop.kind)
        shown["uncertainty"] = abs(convert_value(measurement["uncertainty"], unit, target, kind=prop.kind) - zero)
    shown["unit"] = target
    shown["text"] = value_text(
        shown["qualifier"], shown["value"], shown["value_min"], shown["value_max"], shown["qualitative"]
    )
    return shown


def jsonld(material: Material, document: dict[str, Any], url: str) -> dict[str, Any]:
    """schema.org ``Dataset`` for one material; each measurement a ``PropertyValue``."""
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
            value["unitText"] = m["unit"]
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
