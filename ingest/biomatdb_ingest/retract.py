"""Retracting a dataset: its measurements leave the core, its record and upload history
stay (marked ``retracted_at``), and every material it touched is queued for the search
index in the same transaction. Materials the dataset created that are left with no
measurement leave with it, as they would had the dataset re-uploaded an empty file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select, update

from biomatdb.db import bump_generation
from biomatdb.evaluations import remove_dataset_records
from biomatdb.merge import refresh_names, vocabulary_name
from biomatdb.models import (
    BiologicalEvaluation,
    Dataset,
    DetailClaim,
    Material,
    MaterialApplication,
    MaterialSynonym,
    Measurement,
)
from biomatdb.outbox import record_changed
from biomatdb.searchtext import refresh_search_text

_BATCH = 500


@dataclass(frozen=True, slots=True)
class Retraction:
    dataset: str
    measurements_retracted: int
    materials_removed: int
    materials_touched: int
    retracted_at: datetime

    def as_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "measurements_retracted": self.measurements_retracted,
            "materials_removed": self.materials_removed,
            "materials_touched": self.materials_touched,
            "retracted_at": self.retracted_at.isoformat(),
        }


def retract_dataset(connection: Connection, dataset_id: int) -> Retraction:
    """Run inside the caller's transaction; retracting twice retracts nothing more."""
    now = datetime.now(UTC)
    name = connection.execute(select(Dataset.name).where(Dataset.id == dataset_id)).scalar_one()
    touched = set(
        connection.execute(
            select(Measurement.material_id).where(Measurement.dataset_id == dataset_id).distinct()
        ).scalars()
    )
    created = set(connection.execute(select(Material.id).where(Material.created_by_dataset_id == dataset_id)).scalars())
    claimed = set(
        connection.execute(select(DetailClaim.material_id).where(DetailClaim.dataset_id == dataset_id)).scalars()
    )
    for table in (MaterialSynonym, MaterialApplication):
        claimed |= set(connection.execute(select(table.material_id).where(table.dataset_id == dataset_id)).scalars())
    touched |= claimed
    affected = sorted(touched | created)
    for start in range(0, len(affected), _BATCH):
        record_changed(connection, Material.id.in_(affected[start : start + _BATCH]), now)
    remove_dataset_records(connection, dataset_id)
    retracted = connection.execute(delete(Measurement).where(Measurement.dataset_id == dataset_id)).rowcount
    connection.execute(delete(DetailClaim).where(DetailClaim.dataset_id == dataset_id))
    # a material it touched that is left with no measurement and that no dataset names or describes
    # any more leaves, whoever created it (a merge may have joined another dataset's row to it)
    has_measurements = select(Measurement.id).where(Measurement.material_id == Material.id).exists()
    has_claims = select(DetailClaim.material_id).where(DetailClaim.material_id == Material.id).exists()
    has_evidence = select(BiologicalEvaluation.id).where(BiologicalEvaluation.material_id == Material.id).exists()
    orphans: list[int] = []
    for start in range(0, len(affected), _BATCH):
        orphans += (
            connection.execute(
                select(Material.id).where(
                    Material.id.in_(affected[start : start + _BATCH]), ~has_measurements, ~has_claims, ~has_evidence
                )
            )
            .scalars()
            .all()
        )
    orphans.sort()
    for start in range(0, len(orphans), _BATCH):
        connection.execute(delete(Material).where(Material.id.in_(orphans[start : start + _BATCH])))
    remaining = sorted(set(affected) - set(orphans))
    # the names and applications it gave materials that stay (another dataset's, the fixtures'),
    # unless another dataset states them too; those from before migration 0006 name no dataset and stay
    for table, kind, key in (
        (MaterialSynonym, "synonym", MaterialSynonym.name_key),
        (MaterialApplication, "application", MaterialApplication.application),
    ):
        kinds = ("synonym", "name") if kind == "synonym" else (kind,)  # a material's name is one of its synonyms
        still_claimed = (
            select(DetailClaim.material_id)
            .where(
                DetailClaim.kind.in_(kinds), DetailClaim.material_id == table.material_id, DetailClaim.value_key == key
            )
            .exists()
        )
        ids = sorted(claimed)
        for start in range(0, len(ids), _BATCH):
            connection.execute(
                delete(table).where(
                    table.material_id.in_(ids[start : start + _BATCH]), table.dataset_id.is_not(None), ~still_claimed
                )
            )
    for start in range(0, len(remaining), _BATCH):
        connection.execute(
            update(Material).where(Material.id.in_(remaining[start : start + _BATCH])).values(updated_at=now)
        )
    refresh_names(connection, remaining, vocabulary_name=vocabulary_name)  # its names may have been shown
    refresh_search_text(connection, remaining)
    connection.execute(
        update(Dataset).where(Dataset.id == dataset_id).values(retracted_at=now, updated_at=now, checksum=None)
    )
    bump_generation(connection)
    return Retraction(
        dataset=name,
        measurements_retracted=retracted,
        materials_removed=len(orphans),
        materials_touched=len(affected),
        retracted_at=now,
    )
