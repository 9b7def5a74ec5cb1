"""Reading the core back out: one material, the datasets, and the long-layout export.

The JSON field names here are public and stable (``biomatdb show --json``, the API).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, Connection, func, or_, select, union
from sqlalchemy.orm import Session, selectinload

from biomatdb.display import UnitChoice, cell_text, qualitative_text, shown_export_cells, shown_temperature, verbatim
from biomatdb.errors import NotFoundError
from biomatdb.exports import EXPORT_COLUMNS, MEASUREMENT_FIELDS, csv_blocks as _csv_blocks
from biomatdb.identity import material_key
from biomatdb.models import (
    QUALITATIVE,
    BiologicalEvaluation,
    ChemicalStructure,
    CompositionComponent,
    Dataset,
    Material,
    MaterialApplication,
    MaterialRedirect,
    MaterialSynonym,
    Measurement,
    Source,
)
from biomatdb.vocabulary import get_vocabulary, normalise_label


def _named(name_or_id: str) -> list:
    """What names a material, in the order it is looked for: its public id, its name, an old id
    of a material merged into it, a synonym."""
    return [
        Material.public_id == name_or_id.strip(),
        Material.name_key == normalise_label(name_or_id),
        Material.id.in_(select(MaterialRedirect.material_id).where(MaterialRedirect.public_id == name_or_id.strip())),
        Material.id.in_(
            # how synonyms, the shown name among them, are matched
            select(MaterialSynonym.material_id).where(MaterialSynonym.name_key == material_key(name_or_id))
        ),
    ]


def find_material(session: Session, name_or_id: str) -> Material:
    """By public id, then name, then synonym; NotFoundError when none."""
    options = (
        selectinload(Material.synonyms),
        selectinload(Material.applications),
        selectinload(Material.components),
        selectinload(Material.structure),
        selectinload(Material.measurements).selectinload(Measurement.source),
        selectinload(Material.measurements).selectinload(Measurement.dataset),
    )
    for condition in _named(name_or_id):
        material = session.scalars(select(Material).where(condition).options(*options).order_by(Material.id)).first()
        if material is not None:
            return material
    raise NotFoundError(f"no material named or numbered {name_or_id!r}")


def find_material_id(session: Session, name_or_id: str) -> int:
    """The row id of the material ``find_material`` finds, without loading it."""
    for condition in _named(name_or_id):
        found = session.scalars(select(Material.id).where(condition).order_by(Material.id)).first()
        if found is not None:
            return found
    raise NotFoundError(f"no material named or numbered {name_or_id!r}")


#: How alike (rapidfuzz's ratio of the folded texts, 0–100) a dataset name must be to be suggested.
_DATASET_SUGGESTION_SCORE = 60


def find_dataset(session: Session, id_or_name: str) -> Dataset:
    """By numeric id, then exact name. NotFoundError when none, naming up to three known
    dataset names close to what was asked ("did you mean …?")."""
    # ASCII digits only ("²".isdigit() holds), and few enough to fit the id column
    numeric = id_or_name.isascii() and id_or_name.isdigit() and len(id_or_name) <= 18
    condition = Dataset.id == int(id_or_name) if numeric else Dataset.name == id_or_name
    dataset = session.scalars(select(Dataset).where(condition)).first()
    if dataset is not None:
        return dataset
    names = session.scalars(select(Dataset.name).order_by(Dataset.name)).all()
    close = process.extract(
        id_or_name, names, scorer=fuzz.ratio, processor=normalise_label, score_cutoff=_DATASET_SUGGESTION_SCORE, limit=3
    )
    hint = f"; did you mean {' or '.join(repr(name) for name, _, _ in close)}?" if close else ""
    raise NotFoundError(f"no dataset with id or name {id_or_name!r}{hint}")


def format_number(value: float) -> str:
    """Shortest text that reads back as the same float."""
    text = repr(float(value))
    return text.removesuffix(".0")


@dataclass(frozen=True, slots=True)
class StoredNumber:
    """A stored float as a cell writes it: the shortest text that reads back the same
    (:func:`format_number`), or that text with a power of ten (``1.58e-3``) beside one that needs it."""

    plain: str

    @classmethod
    def of(cls, number: float | None) -> StoredNumber | None:
        return None if number is None else cls(format_number(number))

    def text(self, *, scientific: bool = False) -> str:
        return f"{Decimal(self.plain):e}".replace("e+", "e") if scientific else self.plain

    def is_scientific(self) -> bool:
        return "e" in self.plain


def value_text(
    qualifier: str, value: float | None, low: float | None, high: float | None, qualitative: str | None = None
) -> str:
    """The cell text the ingest parser reads back to the same interval, or to the same
    qualitative term (its name, for qualifier ``term``): :func:`biomatdb.display.cell_text` of
    the stored floats (:class:`StoredNumber`)."""
    if qualifier == QUALITATIVE:
        return qualitative_text(qualitative)
    return cell_text(qualifier, StoredNumber.of(value), StoredNumber.of(low), StoredNumber.of(high))


def conditions_of(measurement: Measurement) -> dict[str, Any]:
    conditions: dict[str, Any] = {}
    if measurement.temperature_K is not None:
        conditions["temperature_K"] = measurement.temperature_K
        conditions["temperature_C"] = round(measurement.temperature_K - 273.15, 10)
    for key in ("medium", "method", "standard", "specimen_state"):
        value = getattr(measurement, key)
        if value is not None:
            conditions[key] = value
    if measurement.conditions:
        conditions.update(measurement.conditions)
    return conditions


def source_of(source) -> dict[str, Any] | None:
    if source is None:
        return None
    return {"doi": source.doi, "citation": source.citation, "url": source.url}


def measurement_json(measurement: Measurement) -> dict[str, Any]:
    return {
        "property": measurement.property_key,
        "qualifier": measurement.qualifier,
        "qualitative": measurement.qualitative,
        "value": measurement.value,
        "value_min": measurement.value_min,
        "value_max": measurement.value_max,
        "uncertainty": measurement.uncertainty,
        "unit": measurement.unit,
        "text": value_text(
            measurement.qualifier,
            measurement.value,
            measurement.value_min,
            measurement.value_max,
            measurement.qualitative,
        ),
        "verbatim": verbatim(measurement.verbatim_value, measurement.verbatim_unit, measurement.verbatim_uncertainty),
        "conditions": conditions_of(measurement),
        "notes": measurement.notes,
        "source": source_of(measurement.source),
        "dataset": measurement.dataset.name,
        "provenance": {
            "row": measurement.source_row,
            "column": measurement.source_column,
            "pipeline_version": measurement.pipeline_version,
        },
    }


class _Component(Protocol):
    """A component of a composition: a ``CompositionComponent``, or a row of its table."""

    @property
    def component(self) -> str: ...
    @property
    def fraction(self) -> float | None: ...
    @property
    def fraction_max(self) -> float | None: ...
    @property
    def basis(self) -> str: ...
    @property
    def is_balance(self) -> bool: ...


def composition_text(components: Iterable[_Component]) -> str:
    parts = []
    for c in components:
        if c.is_balance:
            parts.append(f"{c.component} bal")
            continue
        assert c.fraction is not None, "a component other than the balance has its fraction"
        amount = format_number(c.fraction)
        if c.fraction_max is not None:
            amount += f"-{format_number(c.fraction_max)}"
        parts.append(f"{c.component} {amount} {c.basis}%")
    return "; ".join(parts)


def material_json(material: Material) -> dict[str, Any]:
    structure = material.structure
    vocabulary = get_vocabulary()
    return {
        "id": material.public_id,
        "name": material.name,
        "class": material.material_class,
        "subclass": material.subclass,
        "synonyms": [s.synonym for s in material.synonyms if s.name_key != material_key(material.name)],
        "description": material.description,
        "biodegradable": material.biodegradable,
        "origin": material.origin,
        "applications": [a.application for a in material.applications],
        "regulatory_notes": material.regulatory_notes,
        "structure": None
        if structure is None
        else {
            "input": structure.input,
            "smiles": structure.canonical_smiles,
            "inchikey": structure.inchikey,
            "formula": structure.formula,
            # g/mol to the thousandth, as atomic weights are tabulated (not 72.06299999999999)
            "molecular_weight": None if structure.molecular_weight is None else round(structure.molecular_weight, 3),
            "repeat_unit": structure.is_repeat_unit,
        },
        "composition": [
            {
                "component": c.component,
                "fraction": c.fraction,
                "fraction_max": c.fraction_max,
                "basis": c.basis,
                "balance": c.is_balance,
            }
            for c in material.components
        ],
        "composition_text": composition_text(material.components) or None,
        "measurements": [
            {
                **measurement_json(m),
                "property_name": vocabulary.properties[m.property_key].name
                if m.property_key in vocabulary.properties
                else m.property_key,
            }
            for m in material.measurements
        ],
        "biological_evaluations": _evaluations(material),
    }


def _evaluations(material: Material) -> list[dict[str, Any]]:
    from sqlalchemy.orm import object_session

    from biomatdb.evaluations import evaluations_of

    session = object_session(material)
    if session is None:
        return []
    return evaluations_of(session.connection(), [material.id]).get(material.id, [])


def dataset_counts(connection: Connection) -> dict[int, dict[str, int]]:
    """Per dataset id, what it holds: ``materials``, ``measurements`` and ``evaluations``.

    **The materials of a dataset** are the materials it gives at least one measurement or one
    biological-evaluation record of; each is counted once, whichever it gives or however many. A
    material the dataset only names or created, with no value or record of it from the dataset, is
    not one of them. The API's dataset entries and the About page's cards both count by this."""
    pairs = union(
        select(Measurement.dataset_id, Measurement.material_id),
        select(BiologicalEvaluation.dataset_id, BiologicalEvaluation.material_id),
    ).subquery()
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"materials": 0, "measurements": 0, "evaluations": 0})
    queries = {
        "materials": select(pairs.c.dataset_id, func.count()).group_by(pairs.c.dataset_id),
        "measurements": select(Measurement.dataset_id, func.count()).group_by(Measurement.dataset_id),
        "evaluations": select(BiologicalEvaluation.dataset_id, func.count()).group_by(BiologicalEvaluation.dataset_id),
    }
    for name, query in queries.items():
        for dataset_id, count in connection.execute(query):
            counts[dataset_id][name] = count
    return dict(counts)


def datasets_json(connection: Connection) -> list[dict[str, Any]]:
    """Every dataset: its provenance, its counts (:func:`dataset_counts`) and its uploads."""
    counts = dataset_counts(connection)
    empty = {"materials": 0, "measurements": 0, "evaluations": 0}
    with Session(bind=connection) as session:
        datasets = session.scalars(
            select(Dataset).options(selectinload(Dataset.uploads), selectinload(Dataset.source)).order_by(Dataset.name)
        ).all()
        return [
            {
                "id": d.id,
                "name": d.name,
                "license": d.license,
                "origin": d.origin,
                "uploader": d.uploader,
                "source": source_of(d.source),
                "checksum": d.checksum,
                "filename": d.filename,
                "created_at": d.created_at.isoformat(),
                "updated_at": d.updated_at.isoformat(),
                "rows_read": d.rows_read,
                "retracted_at": d.retracted_at.isoformat() if d.retracted_at else None,
                **counts.get(d.id, empty),
                "history": [
                    {
                        "uploaded_at": u.uploaded_at.isoformat(),
                        "checksum": u.checksum,
                        "filename": u.filename,
                        "uploader": u.uploader,
                        "pipeline_version": u.pipeline_version,
                        "rows_read": u.rows_read,
                        "materials_created": u.materials_created,
                        "materials_updated": u.materials_updated,
                        "measurements_added": u.measurements_added,
                        "measurements_updated": u.measurements_updated,
                        "measurements_removed": u.measurements_removed,
                        "measurements_unchanged": u.measurements_unchanged,
                    }
                    for u in d.uploads
                ],
            }
            for d in datasets
        ]


def in_export_of(dataset_id: int) -> ColumnElement[bool]:
    """Whether a material is in the dataset's export: the dataset gives it a measurement, or
    created it (a material listed without any)."""
    in_dataset = select(Measurement.material_id).where(Measurement.dataset_id == dataset_id)
    return or_(Material.id.in_(in_dataset), Material.created_by_dataset_id == dataset_id)


def export_rows(
    session: Session, *, dataset: str | None = None, batch: int = 500, choice: UnitChoice | None = None
) -> Iterator[dict[str, Any]]:
    """The core in the long layout, a row per measurement (and one per material without any),
    values in display units (``choice``, default: each property's) rounded to the precision
    written (``biomatdb.display``).

    Streams materials in batches; what it yields ingests back to the same values at the
    precision written (to the same canonical values where they were written in the display unit).
    """
    query = select(Material.id).order_by(Material.id)
    if dataset is not None:
        dataset_id = session.scalar(select(Dataset.id).where(Dataset.name == dataset))
        if dataset_id is None:
            raise NotFoundError(f"no dataset named {dataset!r}")
        query = query.where(in_export_of(dataset_id))
    ids = session.scalars(query).all()
    for start in range(0, len(ids), batch):
        yield from _material_rows(session, ids[start : start + batch], dataset, choice or UnitChoice())


def export_rows_for(
    session: Session, public_ids: list[str], *, choice: UnitChoice | None = None
) -> Iterator[dict[str, Any]]:
    """The long-layout rows of these materials (one batch: the caller pages), in the order given."""
    ids = dict(session.execute(select(Material.public_id, Material.id).where(Material.public_id.in_(public_ids))).all())
    order = {ids[p]: index for index, p in enumerate(public_ids) if p in ids}
    rows = sorted(
        _material_rows(session, list(order), None, choice or UnitChoice()), key=lambda row: order[ids[row["id"]]]
    )
    yield from rows


def _material_rows(
    session: Session, ids: Sequence[int], dataset: str | None, choice: UnitChoice
) -> Iterator[dict[str, Any]]:
    """The export rows of these materials, read with a few Core statements per batch (ORM objects
    cost 80 µs a measurement: 1.2 s for 15,000 rows)."""
    if not ids:
        return
    connection = session.connection()
    materials = connection.execute(
        select(
            Material.id,
            Material.public_id,
            Material.name,
            Material.name_key,
            Material.material_class.label("material_class"),
            Material.subclass,
            Material.description,
            Material.biodegradable,
            Material.origin,
            Material.regulatory_notes,
            ChemicalStructure.canonical_smiles,
        )
        .outerjoin(ChemicalStructure, ChemicalStructure.id == Material.structure_id)
        .where(Material.id.in_(ids))
        .order_by(Material.id)
    ).all()
    synonyms, applications, components = defaultdict(list), defaultdict(list), defaultdict(list)
    for synonym in connection.execute(
        select(MaterialSynonym.material_id, MaterialSynonym.synonym, MaterialSynonym.name_key)
        .where(MaterialSynonym.material_id.in_(ids))
        .order_by(MaterialSynonym.id)
    ):
        synonyms[synonym.material_id].append((synonym.synonym, synonym.name_key))
    for application in connection.execute(
        select(MaterialApplication.material_id, MaterialApplication.application)
        .where(MaterialApplication.material_id.in_(ids))
        .order_by(MaterialApplication.application)
    ):
        applications[application.material_id].append(application.application)
    for component in connection.execute(
        select(CompositionComponent.__table__)
        .where(CompositionComponent.material_id.in_(ids))
        .order_by(CompositionComponent.position)
    ):
        components[component.material_id].append(component)
    measured = (
        select(
            Measurement.__table__,
            Source.key.label("source_key"),
            Source.citation.label("citation"),
            Source.doi.label("doi"),
        )
        .join(Dataset, Dataset.id == Measurement.dataset_id)
        .outerjoin(Source, Source.id == Measurement.source_id)
        .where(Measurement.material_id.in_(ids))
    )
    if dataset is not None:
        measured = measured.where(Dataset.name == dataset)
    measurements = defaultdict(list)
    for row in connection.execute(measured):
        measurements[row.material_id].append(row)
    for material in materials:
        base = {
            "id": material.public_id,
            "material": material.name,
            "class": material.material_class,
            "subclass": material.subclass,
            "synonyms": "; ".join(
                synonym for synonym, key in synonyms[material.id] if key != material_key(material.name)
            )
            or None,
            "description": material.description,
            "biodegradable": material.biodegradable,
            "origin": material.origin,
            "applications": "; ".join(applications[material.id]) or None,
            "regulatory notes": material.regulatory_notes,
            "smiles": material.canonical_smiles,
            "composition": composition_text(components[material.id]) or None,
        }
        if not measurements[material.id]:
            yield {**base, **{column: None for column in EXPORT_COLUMNS if column not in base}}
        shown = [
            {
                **base,
                "property": m.property_key,
                **shown_export_cells(_shown_fields(m), choice),
                # a plain value has none: "=" would open as a formula in a spreadsheet
                "qualifier": None if m.qualifier == "=" else m.qualifier,
                "verbatim_value": m.verbatim_value,
                "verbatim_unit": m.verbatim_unit,
                "temperature": None if m.temperature_K is None else f"{format_number(m.temperature_K)} K",
                **_temperature_cells(m.temperature_K, choice),
                "medium": m.medium,
                "method": m.method,
                "standard": m.standard,
                "specimen state": m.specimen_state,
                "notes": m.notes,
                "source": m.citation,
                "doi": m.doi,
            }
            for m in measurements[material.id]
        ]
        yield from sorted(shown, key=_export_order)


def _temperature_cells(temperature_K: float | None, choice: UnitChoice) -> dict[str, Any]:
    shown = shown_temperature(temperature_K, choice)
    return {"temperature_value": shown[0] if shown else None, "temperature_unit": shown[1] if shown else None}


def _shown_fields(m) -> dict[str, Any]:
    """A measurement row as ``biomatdb.display`` reads it."""
    return {
        "property": m.property_key,
        "qualifier": m.qualifier,
        "qualitative": m.qualitative,
        "value": m.value,
        "value_min": m.value_min,
        "value_max": m.value_max,
        "uncertainty": m.uncertainty,
        "unit": m.unit,
        "verbatim": verbatim(m.verbatim_value, m.verbatim_unit, m.verbatim_uncertainty),
    }


_ORDER_NUMBERS = ("value_min", "value_max", "value", "uncertainty")
_ORDER_TEXTS = (
    "value_text",
    "unit",
    "temperature",
    "medium",
    "method",
    "standard",
    "specimen state",
    "source",
    "doi",
    "notes",
    "verbatim_value",
    "verbatim_unit",
)


def _export_order(row: dict[str, Any]) -> tuple:
    """A stable order of a material's rows by what they show (property, then the shown numbers),
    never by database ids or the unrounded canonical values, so that an export and the export of
    its ingest are in the same order."""
    numbers = tuple((0, float(row[key])) if row[key] is not None else (1, 0.0) for key in _ORDER_NUMBERS)
    return (row["property"], row["qualifier"] or "", *numbers, *(row[key] or "" for key in _ORDER_TEXTS))


def csv_blocks(rows: Iterable[dict[str, Any]], *, flush_bytes: int = 1 << 16) -> Iterator[str]:
    """The measurement export's CSV text in blocks of about ``flush_bytes`` (``biomatdb.exports``).
    The CLI, the API's export and the data package all write their CSV through this."""
    return _csv_blocks(rows, fields=MEASUREMENT_FIELDS, flush_bytes=flush_bytes)


def export_csv(session: Session, *, dataset: str | None = None, choice: UnitChoice | None = None) -> Iterator[str]:
    return csv_blocks(export_rows(session, dataset=dataset, choice=choice))
