"""Biological evaluation records in the core: the ones a measurement implies, and how a
material's records are read for display and export (one place for the API, the CLI and the UI)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, literal, select

from biomatdb.evidence import get_evidence_vocabulary
from biomatdb.exports import ExportField
from biomatdb.models import BiologicalEvaluation, Dataset, Measurement, Source, has_value


def derive_from_measurements(connection: Connection, dataset_id: int | None = None) -> int:
    """Give every measurement of an endpoint's property (``cell_viability`` is a cytotoxicity
    result, ``hemolysis`` a haemocompatibility one) that no record names yet a record of its own,
    carrying the measurement's method, standard, source and row, and the test system's kind its
    property implies (``vocabulary/endpoints.toml`` ``property_kinds``); of one dataset, or of all.
    How many were written. The record has no outcome: the number is the result."""
    vocabulary = get_evidence_vocabulary()
    properties = vocabulary.evidence_properties
    if not properties:
        return 0
    endpoint = case(
        *((Measurement.property_key == key, literal(vocabulary.endpoint_of_property(key))) for key in properties)
    )
    implied = {key: vocabulary.kind_of_property(key) for key in properties}
    kind = case(
        *((Measurement.property_key == key, literal(k)) for key, k in implied.items() if k is not None),
        else_=literal(None),
    )
    named = select(BiologicalEvaluation.id).where(BiologicalEvaluation.measurement_id == Measurement.id).exists()
    wanted = select(
        Measurement.material_id,
        Measurement.dataset_id,
        Measurement.upload_id,
        Measurement.source_id,
        Measurement.id,
        endpoint,
        kind,
        Measurement.standard,
        Measurement.method,
        Measurement.verbatim_value,
        Measurement.source_row,
        Measurement.source_column,
    ).where(Measurement.property_key.in_(properties), has_value(), ~named)
    if dataset_id is not None:
        wanted = wanted.where(Measurement.dataset_id == dataset_id)
    columns = [
        "material_id",
        "dataset_id",
        "upload_id",
        "source_id",
        "measurement_id",
        "endpoint",
        "kind",
        "standard",
        "method",
        "verbatim",
        "source_row",
        "source_column",
    ]
    return connection.execute(insert(BiologicalEvaluation).from_select(columns, wanted)).rowcount or 0


def remove_dataset_records(connection: Connection, dataset_id: int) -> int:
    """Every record of a dataset (a re-upload writes them again; a retraction takes them away)."""
    return connection.execute(
        delete(BiologicalEvaluation).where(BiologicalEvaluation.dataset_id == dataset_id)
    ).rowcount


def evaluations_of(connection: Connection, material_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each material's records, in the public shape (docs/evidence.md): endpoint, standard,
    test_system, contact, exposure, method, duration, outcome, the quantitative result in the
    property's canonical unit, verbatim, source and dataset; ordered by endpoint, then kind."""
    if not material_ids:
        return {}
    e, m = BiologicalEvaluation, Measurement
    rows = connection.execute(
        select(
            *e.__table__.columns,
            m.property_key,
            m.value,
            m.value_min,
            m.value_max,
            m.qualifier,
            m.unit,
            m.verbatim_unit,
            Source.citation,
            Source.doi,
            Dataset.name.label("dataset_name"),
        )
        .outerjoin(m, and_(m.id == e.measurement_id))
        .outerjoin(Source, Source.id == e.source_id)
        .join(Dataset, Dataset.id == e.dataset_id)
        .where(e.material_id.in_(material_ids))
        .order_by(e.material_id, e.endpoint, e.kind, e.id)
    ).all()
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        record = row
        found[record.material_id].append(
            {
                "endpoint": record.endpoint,
                "standard": record.standard,
                "test_system": {
                    "kind": record.kind,
                    "model": record.model,
                    "species": record.species,
                    "cellosaurus": record.cellosaurus,
                    "site": record.site,
                },
                "contact": {"category": record.contact_category, "duration": record.contact_duration},
                "exposure": record.exposure,
                "method": record.method,
                "duration": record.duration,
                "outcome": record.outcome,
                "property": row.property_key,
                "value": row.value,
                "value_min": row.value_min,
                "value_max": row.value_max,
                "qualifier": row.qualifier,
                "unit": row.unit,
                "verbatim": record.verbatim,
                "source": row.citation or row.doi,
                "doi": row.doi,
                "dataset": row.dataset_name,
            }
        )
    return dict(found)


#: The long evidence layout an export writes and ingest reads back (docs/evidence.md).
EVIDENCE_COLUMNS = (
    "Material",
    "Endpoint",
    "Standard",
    "Kind",
    "Cell line / Model / Species",
    "Site",
    "Contact",
    "Contact duration",
    "Method",
    "Exposure",
    "Duration",
    "Result",
    "Outcome",
    "Value",
    "Unit",
    "Source",
    "DOI",
)
#: The same columns as an export writes them (``biomatdb.exports``): text, as written.
EVIDENCE_FIELDS = tuple(ExportField(column) for column in EVIDENCE_COLUMNS)


def evidence_export(
    connection: Connection, *, dataset: str | None = None, material: str | None = None
) -> Iterator[dict[str, Any]]:
    """Every record (of one dataset, of one material by public id, or all), in the long evidence layout as ``{"row": {column:
    text}, "record": {public fields, material}}``: the row as written (the result's verbatim value
    and unit) so that it ingests back to the same records, and the record for a JSON export."""
    from biomatdb.models import Material

    e, m = BiologicalEvaluation, Measurement
    statement = (
        select(
            *e.__table__.columns,
            Material.name.label("material_name"),
            m.property_key,
            m.value,
            m.value_min,
            m.value_max,
            m.qualifier,
            m.unit,
            m.verbatim_value,
            m.verbatim_unit,
            Source.citation,
            Source.doi,
            Dataset.name.label("dataset_name"),
        )
        .join(Material, Material.id == e.material_id)
        .join(Dataset, Dataset.id == e.dataset_id)
        .outerjoin(m, m.id == e.measurement_id)
        .outerjoin(Source, Source.id == e.source_id)
        .order_by(Dataset.name, e.source_row, e.id)
    )
    if dataset is not None:
        statement = statement.where(func.lower(Dataset.name) == dataset.lower())
    if material is not None:
        statement = statement.where(Material.public_id == material)
    for row in connection.execute(statement):
        text = {
            "Material": row.material_name,
            "Endpoint": row.endpoint,
            "Standard": row.standard,
            "Kind": row.kind,
            "Cell line / Model / Species": row.model,
            "Site": row.site,
            "Contact": row.contact_category,
            "Contact duration": row.contact_duration,
            "Method": row.method,
            "Exposure": row.exposure,
            "Duration": row.duration,
            "Result": row.verbatim,
            "Outcome": row.outcome,
            "Value": row.verbatim_value,
            "Unit": row.verbatim_unit,
            "Source": row.citation,
            "DOI": row.doi,
        }
        record = {
            "material": row.material_name,
            "endpoint": row.endpoint,
            "standard": row.standard,
            "test_system": {"kind": row.kind, "model": row.model, "species": row.species,
                            "cellosaurus": row.cellosaurus, "site": row.site},
            "contact": {"category": row.contact_category, "duration": row.contact_duration},
            "exposure": row.exposure,
            "method": row.method,
            "duration": row.duration,
            "outcome": row.outcome,
            "property": row.property_key,
            "value": row.value,
            "value_min": row.value_min,
            "value_max": row.value_max,
            "qualifier": row.qualifier,
            "unit": row.unit,
            "verbatim": row.verbatim,
            "source": row.citation or row.doi,
            "doi": row.doi,
            "dataset": row.dataset_name,
        }  # fmt: skip
        yield {"row": {key: "" if value is None else str(value) for key, value in text.items()}, "record": record}
