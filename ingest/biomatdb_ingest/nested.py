"""How many nested records one material may hold: its measurements, biological evaluations and
element contents are nested objects of one Elasticsearch document, which
``index.mapping.nested_objects.limit`` (10,000 by default) bounds. A material beyond
``BIOMATDB_MATERIAL_MAX_NESTED_RECORDS`` would be a document the index refuses, so the upload
that takes it there is refused, naming the material and the first row of it in the file."""

from __future__ import annotations

from sqlalchemy import Connection, func, select, union, union_all

from biomatdb.models import BiologicalEvaluation, Material, MaterialElement, Measurement
from biomatdb_ingest.report import Issue


def oversized_materials(connection: Connection, dataset_id: int, limit: int) -> list[Issue]:
    """A ``limit-exceeded`` issue for each material this dataset has records of that now holds
    more than ``limit`` nested records in all (every dataset's), in the order of its first row."""
    touched = union(
        select(Measurement.material_id).where(Measurement.dataset_id == dataset_id),
        select(BiologicalEvaluation.material_id).where(BiologicalEvaluation.dataset_id == dataset_id),
    ).subquery()
    ids = select(touched.c.material_id)
    records = union_all(
        select(Measurement.material_id).where(Measurement.material_id.in_(ids)),
        select(BiologicalEvaluation.material_id).where(BiologicalEvaluation.material_id.in_(ids)),
        select(MaterialElement.material_id).where(
            MaterialElement.material_id.in_(ids), MaterialElement.basis.is_not(None)
        ),
    ).subquery()
    counted = (
        select(records.c.material_id, func.count().label("records"))
        .group_by(records.c.material_id)
        .having(func.count() > limit)
        .subquery()
    )
    first_row = (
        select(func.min(Measurement.source_row))
        .where(Measurement.material_id == counted.c.material_id, Measurement.dataset_id == dataset_id)
        .scalar_subquery()
    )
    found = connection.execute(
        select(Material.public_id, Material.name, counted.c.records, first_row.label("row"))
        .join(counted, counted.c.material_id == Material.id)
        .order_by(first_row, Material.id)
    ).all()
    return [
        Issue(
            type="limit-exceeded",
            row=row.row,
            value=row.name,
            message=(
                f"material {row.name!r} ({row.public_id}) would hold {row.records:,} measurements, evaluations "
                f"and element contents, more than {limit:,} (BIOMATDB_MATERIAL_MAX_NESTED_RECORDS): its search "
                "document would be refused; nothing was changed; split the material or its dataset"
            ),
        )
        for row in found
    ]
