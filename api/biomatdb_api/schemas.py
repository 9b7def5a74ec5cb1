"""Request and response bodies of the API, for validation and for the OpenAPI document.

Search results are ``biomatdb_search.model.SearchResult`` itself; the rest mirror the JSON that
``biomatdb.catalog`` writes (the same field names as ``biomatdb show --json``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from biomatdb_api import params
from biomatdb_search.model import FACETS, MAX_LIMIT


class SearchBody(BaseModel):
    """``POST /api/v1/search``: the query model's fields, with ``filter`` as filter-language text."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "q": "poly",
                    "filter": "youngs_modulus in 0.1..3 GPa AND class = polymer",
                    "facets": ["class", "application"],
                    "sort": "-youngs_modulus",
                    "limit": 20,
                }
            ]
        },
    )

    q: str | None = Field(
        default=None,
        max_length=params.TEXT_MAX,
        description="Free text over names, synonyms, description and applications, as `q` of GET /materials "
        "(`text`, its earlier name, is still read).",
    )
    filter: str | None = Field(None, max_length=params.FILTER_MAX, description="A filter in the filter language.")
    facets: list[Literal[FACETS]] = Field(  # type: ignore[valid-type]
        default_factory=list,
        max_length=len(FACETS),
        description="Facets to count.",
    )
    sort: str | None = Field(
        None, max_length=params.SORT_MAX, description="name, relevance, similarity or a property key; -key descends."
    )
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description="Results per page (at most the server's page_size_max).")
    cursor: str | None = Field(None, max_length=params.CURSOR_MAX, description="next_cursor of the previous page.")
    match: Literal["possible", "certain"] = Field(
        "possible",
        description=(
            "possible: a measurement whose interval meets the asked one matches; certain: only one wholly within it."
        ),
    )
    uncertainty: Literal["point", "interval"] = Field(
        "point", description="point: a measurement v ± u is the point v; interval: it counts as [v − u, v + u]."
    )

    @model_validator(mode="before")
    @classmethod
    def _text_is_q(cls, data: Any) -> Any:
        """``text``, the free text's earlier name, is read as ``q`` (both at once is refused)."""
        if isinstance(data, dict) and "text" in data:
            if "q" in data:
                raise ValueError("give the free text as q (text is its earlier name), not both")
            data = {("q" if key == "text" else key): value for key, value in data.items()}
        return data


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class SourceOut(_Open):
    doi: str | None = None
    citation: str | None = None
    url: str | None = None


class MeasurementOut(_Open):
    property: str
    property_name: str
    qualifier: str = Field(description="= ~ > >= < <= range, or term: a qualitative value (see qualitative)")
    qualitative: str | None = Field(
        None,
        description="For qualifier term: the key of the qualitative term "
        "(amorphous, not_detected, …); value, value_min and value_max are then null",
    )
    value: float | None = None
    value_min: float | None = None
    value_max: float | None = None
    uncertainty: float | None = None
    unit: str = Field(
        description="The display unit of value…uncertainty, as people write it (°C, g/cm³): asked with ?units= or "
        "?unit_system=, else the property's default"
    )
    text: str = Field(description="The value as the ingest parser reads it back, in unit: 4.00 to 5.00, >24")
    display: str = Field(description="The value as people read it, with its unit: 4.00–5.00 GPa, 2.1 ± 0.3 GPa")
    value_canonical: float | None = Field(None, description="value in the canonical unit, unrounded")
    value_canonical_min: float | None = None
    value_canonical_max: float | None = None
    uncertainty_canonical: float | None = None
    unit_canonical: str = Field(description="The property's canonical unit, in which the core stores it")
    verbatim: dict[str, str | None]
    conditions: dict[str, Any]
    notes: str | None = None
    source: SourceOut | None = None
    dataset: str
    provenance: dict[str, Any]


class StructureOut(_Open):
    input: str
    smiles: str
    inchikey: str | None = None
    formula: str | None = None
    molecular_weight: float | None = None
    repeat_unit: bool


class ComponentOut(_Open):
    component: str
    fraction: float | None = None
    fraction_max: float | None = None
    basis: str
    balance: bool


class TestSystemOut(_Open):
    kind: str | None = Field(None, description="in vitro, in vivo or clinical")
    model: str | None = Field(None, description="The cell line, cell type, species or cohort")
    species: str | None = None
    cellosaurus: str | None = Field(None, description="The cell line's Cellosaurus accession (CVCL_…)")
    site: str | None = Field(None, description="The implantation site, in vivo")


class ContactOut(_Open):
    category: str | None = Field(None, description="ISO 10993-1: surface device, externally communicating, implant")
    duration: str | None = Field(None, description="ISO 10993-1: limited, prolonged or long-term")


class EvaluationOut(_Open):
    """One biological-evaluation record (docs/evidence.md)."""

    endpoint: str = Field(description="An endpoint key: cytotoxicity, implantation, haemocompatibility, …")
    standard: str | None = None
    test_system: TestSystemOut
    contact: ContactOut
    exposure: str | None = None
    method: str | None = None
    duration: str | None = None
    outcome: str | None = Field(None, description="An outcome key: non_cytotoxic, non_haemolytic, …; or null")
    property: str | None = Field(None, description="The property of the quantitative result, when there is one")
    value: float | None = None
    value_min: float | None = None
    value_max: float | None = None
    qualifier: str | None = None
    unit: str | None = None
    verbatim: str | None = Field(None, description="The result as written")
    source: str | None = None
    doi: str | None = None
    dataset: str


class MaterialOut(_Open):
    """Everything about one material."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "bm-83cd001eff",
                    "name": "Ti-6Al-4V",
                    "class": "metal",
                    "subclass": "alpha-beta titanium alloy",
                    "synonyms": ["Ti64", "TC4"],
                    "description": "Alpha+beta titanium alloy for load-bearing implants.",
                    "biodegradable": False,
                    "origin": "synthetic",
                    "applications": ["dental", "orthopaedic"],
                    "regulatory_notes": None,
                    "structure": None,
                    "composition": [
                        {"component": "Ti", "fraction": None, "fraction_max": None, "basis": "wt", "balance": True},
                        {"component": "Al", "fraction": 5.5, "fraction_max": 6.75, "basis": "wt", "balance": False},
                    ],
                    "measurements": [
                        {
                            "property": "youngs_modulus",
                            "property_name": "Young's modulus",
                            "qualifier": "range",
                            "qualitative": None,
                            "value": None,
                            "value_min": 110.0,
                            "value_max": 114.0,
                            "uncertainty": None,
                            "unit": "GPa",
                            "text": "110 to 114",
                            "display": "110–114 GPa",
                            "value_canonical": None,
                            "value_canonical_min": 110.0,
                            "value_canonical_max": 114.0,
                            "uncertainty_canonical": None,
                            "unit_canonical": "GPa",
                            "verbatim": {"value": "110–114", "unit": "GPa"},
                            "conditions": {"specimen_state": "annealed"},
                            "notes": None,
                            "source": {
                                "doi": None,
                                "citation": "Niinomi M. Mechanical properties of biomedical titanium alloys. Materials Science and Engineering A 243 (1998) 231-236",
                                "url": None,
                            },
                            "dataset": "biomatdb-curated-metals-ceramics-glasses",
                            "provenance": {"row": 13, "column": "Young's modulus [GPa]", "pipeline_version": "1"},
                        }
                    ],
                    "jsonld": {"@context": "https://schema.org/", "@type": "Dataset", "name": "Ti-6Al-4V"},
                }
            ]
        },
    )

    id: str
    name: str
    material_class: str | None = Field(None, alias="class")
    subclass: str | None = None
    synonyms: list[str]
    description: str | None = None
    biodegradable: bool | None = None
    origin: str | None = None
    applications: list[str]
    regulatory_notes: str | None = None
    structure: StructureOut | None = None
    composition: list[ComponentOut]
    measurements: list[MeasurementOut]
    biological_evaluations: list[EvaluationOut] = Field(
        default_factory=list, description="What tests of the material found, endpoint by endpoint"
    )
    jsonld: dict[str, Any] = Field(description="schema.org Dataset with PropertyValue entries (JSON-LD).")


class SimilarHit(BaseModel):
    id: str
    name: str
    material_class: str | None = Field(None, serialization_alias="class")
    kind: Literal["structure", "property_profile"]
    score: float = Field(ge=0, le=1)
    shared_properties: list[str] | None = Field(None, description="property_profile: the properties compared.")


class SimilarOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "bm-7f0e3a1c2b",
                    "name": "PLLA",
                    "results": [
                        {
                            "id": "bm-7baae26c1e",
                            "name": "PDLLA",
                            "class": "polymer",
                            "kind": "structure",
                            "score": 1.0,
                            "shared_properties": None,
                        },
                        {
                            "id": "bm-a36164f228",
                            "name": "PLGA 50:50",
                            "class": "polymer",
                            "kind": "property_profile",
                            "score": 0.93,
                            "shared_properties": ["glass_transition_temperature", "youngs_modulus"],
                        },
                    ],
                }
            ]
        }
    )

    id: str
    name: str
    results: list[SimilarHit]


class CompareValue(_Open):
    qualifier: str
    qualitative: str | None = None
    value: float | None = None
    value_min: float | None = None
    value_max: float | None = None
    uncertainty: float | None = None
    text: str
    display: str
    value_canonical: float | None = None
    value_canonical_min: float | None = None
    value_canonical_max: float | None = None
    uncertainty_canonical: float | None = None
    conditions: dict[str, Any]
    dataset: str


class CompareRow(BaseModel):
    property: str
    name: str
    unit: str = Field(description="The one display unit of the row's values")
    unit_canonical: str
    notation: Literal["plain", "scientific"] = Field(
        description="The one notation of the row's `display` texts: scientific when any of them needs a "
        "power of ten, and then every nonzero number is written with one, × 10⁰ included."
    )
    values: dict[str, list[CompareValue]] = Field(description="Per material id, its measurements of the property.")


class CompareMaterial(BaseModel):
    id: str
    name: str
    material_class: str | None = Field(None, serialization_alias="class")


class CompareOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "materials": [
                        {"id": "bm-83cd001eff", "name": "Ti-6Al-4V", "class": "metal"},
                        {"id": "bm-1d2c3b4a5f", "name": "316L stainless steel", "class": "metal"},
                    ],
                    "properties": [
                        {
                            "property": "youngs_modulus",
                            "name": "Young's modulus",
                            "unit": "GPa",
                            "unit_canonical": "GPa",
                            "notation": "plain",
                            "values": {
                                "bm-83cd001eff": [
                                    {
                                        "qualifier": "range",
                                        "value": None,
                                        "value_min": 110.0,
                                        "value_max": 114.0,
                                        "uncertainty": None,
                                        "text": "110 to 114",
                                        "display": "110–114 GPa",
                                        "value_canonical": None,
                                        "value_canonical_min": 110.0,
                                        "value_canonical_max": 114.0,
                                        "uncertainty_canonical": None,
                                        "conditions": {},
                                        "dataset": "biomatdb-curated-metals-ceramics-glasses",
                                    }
                                ],
                                "bm-1d2c3b4a5f": [
                                    {
                                        "qualifier": "=",
                                        "value": 193.0,
                                        "value_min": 193.0,
                                        "value_max": 193.0,
                                        "uncertainty": None,
                                        "text": "193",
                                        "display": "193 GPa",
                                        "value_canonical": 193.0,
                                        "value_canonical_min": 193.0,
                                        "value_canonical_max": 193.0,
                                        "uncertainty_canonical": None,
                                        "conditions": {},
                                        "dataset": "biomatdb-curated-metals-ceramics-glasses",
                                    }
                                ],
                            },
                        }
                    ],
                }
            ]
        }
    )

    materials: list[CompareMaterial]
    properties: list[CompareRow]


class PropertyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "youngs_modulus",
                    "name": "Young's modulus",
                    "category": "mechanical",
                    "unit": "GPa",
                    "unit_label": "GPa",
                    "kind": "quantity",
                    "min": 0.0,
                    "max": 2000.0,
                    "display_units": ["GPa", "MPa", "kPa", "psi"],
                    "default_display_units": ["GPa"],
                    "display_unit_labels": ["GPa", "MPa", "kPa", "psi"],
                    "aliases": ["E", "Young's modulus", "elastic modulus"],
                }
            ]
        }
    )

    key: str
    name: str
    category: str
    unit: str
    unit_label: str = Field(description="The canonical unit as people write it: g/cm³, MPa·m^½, °C")
    kind: str
    min: float | None = None
    max: float | None = None
    display_units: list[str]
    default_display_units: list[str] = Field(
        description="The unit values are shown in by default; several: the one that suits their magnitude"
    )
    display_unit_labels: list[str] = Field(description="display_units as people write them, in the same order")
    aliases: list[str]


class UnitSystemOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "US",
                    "name": "US customary (ksi, °F, lb/in³)",
                    "units": {"MPa": "ksi", "K": "degF"},
                    "unit_labels": {"MPa": "ksi", "K": "°F"},
                    "units_by_magnitude": {"MPa": ["psi", "ksi"]},
                }
            ]
        }
    )

    key: str = Field(description="What ?unit_system= and --unit-system take")
    name: str
    units: dict[str, str] = Field(
        description="Canonical unit -> the unit shown, for every property measured in it (its headline unit "
        "where units_by_magnitude gives several)"
    )
    unit_labels: dict[str, str] = Field(
        description="The same pairs as people write them: g/cm³ -> lb/in³, K -> °F (the keys of units, labelled)"
    )
    units_by_magnitude: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Canonical unit -> the units chosen among by the values' magnitude, smallest first (the "
        "largest in which the smallest value is at least 2, unless the values were all written in one): "
        "GPa -> psi, ksi, Mpsi",
    )


class TermOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"key": "metal", "name": "Metals and alloys", "aliases": ["metal", "alloy", "metallic"]}]
        }
    )

    key: str
    name: str
    aliases: list[str]


class UploadOut(_Open):
    uploaded_at: str
    checksum: str
    filename: str | None = None
    uploader: str | None = None
    pipeline_version: str
    rows_read: int


class DatasetOut(_Open):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "name": "biomatdb-curated-polymers",
                    "license": "CC-BY-4.0",
                    "origin": "Compiled by the BiomatDB team in 2026 from the literature cited on every row",
                    "uploader": None,
                    "source": None,
                    "checksum": "5be0…",
                    "filename": "polymers.csv",
                    "created_at": "2026-11-25T10:56:01+00:00",
                    "updated_at": "2026-11-25T10:56:01+00:00",
                    "retracted_at": None,
                    "rows_read": 313,
                    "materials": 36,
                    "measurements": 312,
                    "evaluations": 0,
                    "history": [
                        {
                            "uploaded_at": "2026-11-25T10:56:01+00:00",
                            "checksum": "5be0…",
                            "filename": "polymers.csv",
                            "uploader": None,
                            "pipeline_version": "1",
                            "rows_read": 313,
                        }
                    ],
                }
            ]
        },
    )

    id: int
    name: str
    license: str | None = None
    origin: str | None = None
    uploader: str | None = None
    source: SourceOut | None = None
    checksum: str | None = None
    filename: str | None = None
    created_at: str
    updated_at: str
    retracted_at: str | None = None
    rows_read: int
    materials: int = Field(
        description="Materials the dataset gives at least one measurement or biological-evaluation record of."
    )
    measurements: int
    evaluations: int = Field(description="Biological-evaluation records of the dataset.")
    history: list[UploadOut]


class JobProgress(BaseModel):
    rows_done: int
    rows_total: int | None = None


class IssueOut(BaseModel):
    """One problem of an upload, located as precisely as the input allows."""

    type: str = Field(description="A stable code: unknown-property, unit-mismatch, out-of-range…")
    message: str
    row: int | None = Field(None, description="The file's row (1 is the header's).")
    column: str | None = None
    value: str | None = None
    suggestions: list[str] | None = Field(None, description="For an unknown name: the closest known ones.")
    path: str | None = Field(None, description="In a JSON file: the JSON path of the value.")


class ReportCounts(BaseModel):
    rows_read: int
    rows_skipped: int
    rows_loaded: int = Field(0, description="Rows whose values the load takes (a refused upload takes none).")
    rows_refused: int = Field(0, description="Rows an error names.")
    rows_warned: int = Field(0, description="Rows skipped with a warning that names them.")
    rows_empty: int = Field(0, description="Rows of empty cells or no-measurement placeholders (n.d., NA).")
    materials_created: int
    materials_updated: int
    measurements_added: int
    measurements_updated: int
    measurements_removed: int
    measurements_unchanged: int
    evaluations: int = Field(description="Biological-evaluation records the dataset holds after the load.")


class ReportMaterial(BaseModel):
    row: int
    name: str
    id: str
    action: Literal["created", "matched"]
    matched_by: str | None = None
    merged: list[str] | None = Field(None, description="Stored materials merged into this one (their ids redirect).")


class ReportOut(BaseModel):
    """An ingest report: what ``biomatdb ingest --json`` prints."""

    dataset: str | None = None
    loaded: bool
    dry_run: bool
    unchanged: bool
    strict: bool
    counts: ReportCounts
    error_count: int
    warning_count: int
    errors: list[IssueOut]
    warnings: list[IssueOut]
    materials: list[ReportMaterial] = Field(default_factory=list)


class JobOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "4f1c…",
                    "status": "running",
                    "dataset": "my-lab-2024",
                    "filename": "moduli.csv",
                    "options": {"license": "CC-BY-4.0", "dry_run": False, "skip_invalid": False},
                    "created_by": "alice",
                    "progress": {"rows_done": 50000, "rows_total": 120000},
                    "created_at": "2025-01-01T10:00:00+00:00",
                    "started_at": "2025-01-01T10:00:01+00:00",
                    "finished_at": None,
                    "error": None,
                    "report": None,
                }
            ]
        }
    )

    id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    dataset: str
    filename: str
    options: dict[str, Any]
    created_by: str | None = None
    progress: JobProgress
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    report: ReportOut | None = Field(None, description="When finished: the same report as biomatdb ingest --json.")


class RetractionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dataset": "my-lab-2024",
                    "measurements_retracted": 1200,
                    "materials_removed": 14,
                    "materials_touched": 80,
                    "retracted_at": "2026-11-25T11:00:00+00:00",
                }
            ]
        }
    )

    dataset: str
    measurements_retracted: int
    materials_removed: int
    materials_touched: int
    retracted_at: str


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"]


class Readiness(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ready", "checks": {"database": "ok"}}]})

    status: Literal["ready", "not ready"]
    checks: dict[str, str]
    search_index: str | None = Field(
        None,
        description=(
            "The in-memory search index (BIOMATDB_SEARCH_MEMORY_INDEX): current, or building, while searches run "
            "in SQL. Informative: it does not make the service unready."
        ),
    )
    replica: dict[str, Any] | None = Field(
        None,
        description=(
            "The read replica (BIOMATDB_DATABASE_READ_URL), when one is set: in_recovery, lag_bytes (WAL not "
            "yet replayed) and lag_seconds (0 when everything is replayed)."
        ),
    )
    warnings: list[str] = Field(
        default_factory=list,
        description=(
            "What an operator should look at that does not make the service unready: replication lag past "
            "BIOMATDB_REPLICATION_LAG_WARN_SECONDS, search behind the core for longer than "
            "BIOMATDB_ELASTICSEARCH_SYNC_WARN_SECONDS, documents Elasticsearch refused (dead letters)."
        ),
    )
