"""The relational core: SQLAlchemy 2.0 typed models, the source of truth.

Values are stored in each property's canonical unit (``value``, ``value_min``,
``value_max``, ``uncertainty``), beside the verbatim text and unit as the curator wrote
them. Every measurement is an interval for search: a point has min = max, a range its two
ends, ``>60`` has min = 60 and no max; ``qualifier`` says which ends are open. A qualitative
measurement (``amorphous`` in a melting-point cell) has qualifier ``term``, the term's key in
``qualitative`` and no value at all: no interval, so no range filter and no ``has`` matches it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Property(Base):
    """A row per vocabulary property, kept in step with ``vocabulary/properties.toml``."""

    __tablename__ = "properties"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="quantity")


class Source(Base):
    """Where a value comes from: a DOI, or a citation text when there is no DOI."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(512), unique=True)  # "doi:10.…" or "cite:<folded text>"
    doi: Mapped[str | None] = mapped_column(String(255))
    citation: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(1000))


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    license: Mapped[str | None] = mapped_column(String(255))
    origin: Mapped[str | None] = mapped_column(Text)
    uploader: Mapped[str | None] = mapped_column(String(255))
    # the API key that first uploaded it; None: loaded without a key (CLI, fixtures), so admins only
    owner_key_id: Mapped[int | None] = mapped_column(Integer)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    checksum: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(1000))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # set when the dataset's measurements were retracted; the row and its uploads stay as history
    retracted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # curated | compilation: whose names win when materials are one (docs/identity.md)
    kind: Mapped[str] = mapped_column(String(16), default="curated", server_default="curated")

    source: Mapped[Source | None] = relationship()
    uploads: Mapped[list[DatasetUpload]] = relationship(
        back_populates="dataset", order_by="DatasetUpload.id", cascade="all, delete-orphan"
    )


class DatasetUpload(Base):
    """One accepted upload of a dataset: when, which file, and what it changed."""

    __tablename__ = "dataset_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    checksum: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(1000))
    uploader: Mapped[str | None] = mapped_column(String(255))
    pipeline_version: Mapped[str] = mapped_column(String(32))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    materials_created: Mapped[int] = mapped_column(Integer, default=0)
    materials_updated: Mapped[int] = mapped_column(Integer, default=0)
    measurements_added: Mapped[int] = mapped_column(Integer, default=0)
    measurements_updated: Mapped[int] = mapped_column(Integer, default=0)
    measurements_removed: Mapped[int] = mapped_column(Integer, default=0)
    measurements_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    #: the upload job that loaded it (its public id), written in the load's transaction: a job whose
    #: outcome could not be written is settled from it rather than loaded again (biomatdb_api.jobs)
    job_id: Mapped[str | None] = mapped_column(String(32), index=True)

    dataset: Mapped[Dataset] = relationship(back_populates="uploads")


class ChemicalStructure(Base):
    __tablename__ = "structures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    input: Mapped[str] = mapped_column(Text)
    canonical_smiles: Mapped[str] = mapped_column(Text, unique=True)
    inchikey: Mapped[str | None] = mapped_column(String(27), index=True)
    formula: Mapped[str | None] = mapped_column(String(255))
    molecular_weight: Mapped[float | None] = mapped_column(Float)
    is_repeat_unit: Mapped[bool] = mapped_column(Boolean, default=False)
    # the Morgan fingerprint, packed (``biomatdb.chemistry.packed_fingerprint``; since 0012)
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary)
    # RDKit's pattern fingerprint, which screens substructure searches (None: stored before 0007)
    pattern_fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary)


class DetailClaim(Base):
    """That a dataset states a material's synonym (``value_key``: its name key) or application."""

    __tablename__ = "detail_claims"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "synonym" | "application"
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"), primary_key=True)
    value_key: Mapped[str] = mapped_column(String(500), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


class CoreState(Base):
    """One row: the generation of the core's materials, moved by every change to them in the
    same transaction (a load, a retraction), so that derived indexes know when to rebuild."""

    __tablename__ = "core_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)


class Material(Base):
    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    name_key: Mapped[str] = mapped_column(String(500), index=True)  # normalised name for matching
    material_class: Mapped[str | None] = mapped_column("class", String(32), index=True)
    subclass: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    biodegradable: Mapped[bool | None] = mapped_column(Boolean)
    origin: Mapped[str | None] = mapped_column(String(16))  # natural | synthetic
    regulatory_notes: Mapped[str | None] = mapped_column(Text)
    # name, synonyms, class, description and applications in one text, for full-text search
    # (SQLite FTS5 and PostgreSQL tsvector index it); kept by ``biomatdb.searchtext``.
    search_text: Mapped[str | None] = mapped_column(Text)
    # the words of the shown name, and of every name, `` w1 w2 … ``: what text relevance ranks on
    search_name: Mapped[str | None] = mapped_column(Text)
    search_names: Mapped[str | None] = mapped_column(Text)
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"), index=True)
    created_by_dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    structure: Mapped[ChemicalStructure | None] = relationship()
    synonyms: Mapped[list[MaterialSynonym]] = relationship(order_by="MaterialSynonym.id", cascade="all, delete-orphan")
    applications: Mapped[list[MaterialApplication]] = relationship(
        order_by="MaterialApplication.application", cascade="all, delete-orphan"
    )
    components: Mapped[list[CompositionComponent]] = relationship(
        order_by="CompositionComponent.position", cascade="all, delete-orphan"
    )
    measurements: Mapped[list[Measurement]] = relationship(
        back_populates="material", order_by="Measurement.id", cascade="all, delete-orphan"
    )


class MaterialRedirect(Base):
    """The public id of a material merged into another (docs/identity.md): it keeps answering."""

    __tablename__ = "material_redirects"

    public_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"), index=True)
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MaterialSynonym(Base):
    __tablename__ = "material_synonyms"
    __table_args__ = (UniqueConstraint("material_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"), index=True)
    synonym: Mapped[str] = mapped_column(String(500))
    name_key: Mapped[str] = mapped_column(String(500), index=True)
    # the dataset that added it (None: from before migration 0006); retraction removes what it added
    dataset_id: Mapped[int | None] = mapped_column(Integer, index=True)


class MaterialApplication(Base):
    __tablename__ = "material_applications"

    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"), primary_key=True)
    application: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    dataset_id: Mapped[int | None] = mapped_column(Integer, index=True)


class CompositionComponent(Base):
    """One constituent of an alloy or composite: ``Ti 90 wt%``, ``HA 30 wt%``."""

    __tablename__ = "composition_components"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    component: Mapped[str] = mapped_column(String(200))
    fraction: Mapped[float | None] = mapped_column(Float)  # percent, on ``basis``
    fraction_max: Mapped[float | None] = mapped_column(Float)  # set when given as a range
    basis: Mapped[str] = mapped_column(String(8), default="wt")  # wt | mol | vol | at
    is_balance: Mapped[bool] = mapped_column(Boolean, default=False)
    # the amount's qualifier as written (= ~ < <= > >= range); None for a balance, or a row from before 0014
    qualifier: Mapped[str | None] = mapped_column(String(8))


#: The qualifier of a qualitative measurement: a vocabulary term (``measurements.qualitative``), no value.
QUALITATIVE: Final = "term"


class Measurement(Base):
    __tablename__ = "measurements"
    __table_args__ = (
        Index("ix_measurements_property_min_max", "property_key", "value_min", "value_max"),
        Index("ix_measurements_material_property", "material_id", "property_key"),
        Index("ix_measurements_dataset", "dataset_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"))
    property_key: Mapped[str] = mapped_column(ForeignKey("properties.key"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("dataset_uploads.id", ondelete="SET NULL"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    qualifier: Mapped[str] = mapped_column(String(8))  # = ~ > >= < <= range term
    qualitative: Mapped[str | None] = mapped_column(String(32))  # the vocabulary term's key, for qualifier "term"
    value: Mapped[float | None] = mapped_column(Float)
    value_min: Mapped[float | None] = mapped_column(Float)
    value_max: Mapped[float | None] = mapped_column(Float)
    uncertainty: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(64))  # the property's canonical unit
    verbatim_value: Mapped[str] = mapped_column(Text)
    verbatim_unit: Mapped[str | None] = mapped_column(String(64))
    # an uncertainty from a column of its own, as written with its unit (``4 GPa``); its digits are shown
    verbatim_uncertainty: Mapped[str | None] = mapped_column(Text)
    temperature_K: Mapped[float | None] = mapped_column(Float)
    medium: Mapped[str | None] = mapped_column(String(200))
    method: Mapped[str | None] = mapped_column(String(200))
    standard: Mapped[str | None] = mapped_column(String(200))
    specimen_state: Mapped[str | None] = mapped_column(String(200))
    conditions: Mapped[dict | None] = mapped_column(JSON)  # any further conditions, as given
    notes: Mapped[str | None] = mapped_column(Text)
    source_row: Mapped[int | None] = mapped_column(Integer)
    source_column: Mapped[str | None] = mapped_column(String(500))
    pipeline_version: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(16))  # what was measured, with its value
    identity_hash: Mapped[str] = mapped_column(String(16))  # what was measured, without its value

    material: Mapped[Material] = relationship(back_populates="measurements")
    property: Mapped[Property] = relationship()
    dataset: Mapped[Dataset] = relationship()
    source: Mapped[Source | None] = relationship()


class BiologicalEvaluation(Base):
    """What one test of a material found for one biological endpoint (docs/evidence.md): the
    endpoint and outcome are vocabulary keys (``biomatdb/vocabulary/endpoints.toml``); a
    quantitative result is the linked measurement. A dataset's records are written again at
    each of its uploads; those of a measurement go with it."""

    __tablename__ = "biological_evaluations"
    __table_args__ = (
        Index("ix_biological_evaluations_material", "material_id", "endpoint"),
        Index("ix_biological_evaluations_endpoint", "endpoint", "outcome"),
        Index("ix_biological_evaluations_dataset", "dataset_id"),
        Index("ix_biological_evaluations_measurement", "measurement_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("dataset_uploads.id", ondelete="SET NULL"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    measurement_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("measurements.id", ondelete="CASCADE")
    )
    endpoint: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str | None] = mapped_column(String(40))
    standard: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(16))  # in vitro, in vivo, clinical
    model: Mapped[str | None] = mapped_column(String(200))  # the cell line, cell type, species or cohort as shown
    model_key: Mapped[str | None] = mapped_column(String(64))  # its test-system vocabulary key, when it has one
    species: Mapped[str | None] = mapped_column(String(64))
    cellosaurus: Mapped[str | None] = mapped_column(String(16))
    site: Mapped[str | None] = mapped_column(String(200))
    contact_category: Mapped[str | None] = mapped_column(String(40))
    contact_duration: Mapped[str | None] = mapped_column(String(16))
    exposure: Mapped[str | None] = mapped_column(String(500))
    exposure_kind: Mapped[str | None] = mapped_column(String(20))
    method: Mapped[str | None] = mapped_column(String(200))
    duration: Mapped[str | None] = mapped_column(String(200))  # as written
    duration_min_days: Mapped[float | None] = mapped_column(Float)
    duration_max_days: Mapped[float | None] = mapped_column(Float)
    verbatim: Mapped[str | None] = mapped_column(Text)  # the result as written
    source_row: Mapped[int | None] = mapped_column(Integer)
    source_column: Mapped[str | None] = mapped_column(String(500))

    material: Mapped[Material] = relationship()
    dataset: Mapped[Dataset] = relationship()
    source: Mapped[Source | None] = relationship()
    measurement: Mapped[Measurement | None] = relationship()


def has_value() -> ColumnElement[bool]:
    """The measurement has a value. A qualitative one (qualifier ``term``) has none, and no ends,
    which an interval test would read as (−∞, ∞): searches, ``has``, the property facet and
    charts test this, so that none of them counts it."""
    return Measurement.qualifier != QUALITATIVE


class SearchOutbox(Base):
    """A material whose search document is out of date, written in the same transaction
    as the change (``biomatdb.outbox``); ``biomatdb sync`` drains it into Elasticsearch. No
    foreign key: a deleted material must still reach the index as a deletion."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    material_id: Mapped[int] = mapped_column(Integer, index=True, unique=True)  # one row a material
    public_id: Mapped[str | None] = mapped_column(String(32))
    #: when the material first waited: later changes coalesce into this row and keep it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: changes coalesced into the row; a drainer deletes the row only at the count it claimed
    changes: Mapped[int] = mapped_column(Integer, server_default="1")


class SearchDeadLetter(Base):
    """A search document Elasticsearch refused for itself (a 4xx other than a version conflict,
    e.g. a mapping error), set aside so that the outbox moves on. ``biomatdb sync --status``
    and ``/ready`` show these; a later change to the material (a new outbox row) that is written
    clears them, and ``biomatdb sync --retry-dead`` puts them back into the outbox."""

    __tablename__ = "search_dead_letters"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    material_id: Mapped[int] = mapped_column(Integer, index=True)
    public_id: Mapped[str | None] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(16))
    status: Mapped[int] = mapped_column(Integer)
    error_type: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    """A key for the curator and admin routes of the API. Only a SHA-256 of the key is
    stored; ``prefix`` (the public part at its start) finds the row to compare against."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # reader | curator | admin
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Job(Base):
    """An upload waiting for, or given to, the API's job worker; the queue is this table."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="ingest")
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | succeeded | failed
    dataset: Mapped[str] = mapped_column(String(255))
    filename: Mapped[str] = mapped_column(String(1000))
    upload_path: Mapped[str] = mapped_column(String(2000))
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_by_key_id: Mapped[int | None] = mapped_column(Integer)  # who may see it: this key and admins
    worker: Mapped[str | None] = mapped_column(String(200))  # host:pid:process start of the runner
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    report: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: a running job is its worker's until then (renewed as it runs); past it any worker takes it back
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: how many times a worker claimed it
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class MaterialElement(Base):
    """An element of a material, derived from its composition or structure by
    ``biomatdb.elements`` (kept by ``refresh_elements``): its content in percent on ``basis``
    (``wt`` or ``at``; None: present, content unknown) and whether it is surely present."""

    __tablename__ = "material_elements"
    __table_args__ = (Index("ix_material_elements_material_element", "material_id", "element"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"))
    element: Mapped[str] = mapped_column(String(3))
    basis: Mapped[str | None] = mapped_column(String(2))
    fraction_min: Mapped[float | None] = mapped_column(Float)
    fraction_max: Mapped[float | None] = mapped_column(Float)
    low_open: Mapped[bool] = mapped_column(Boolean, default=False)
    high_open: Mapped[bool] = mapped_column(Boolean, default=False)
    presence: Mapped[str] = mapped_column(String(8))  # certain | possible | absent
    origin: Mapped[str] = mapped_column(String(12))  # composition | structure


class MaterialElementBasis(Base):
    """A basis on which a material's whole composition is known element by element: an element
    without a ``material_elements`` row on it has content 0 there."""

    __tablename__ = "material_element_bases"

    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"), primary_key=True)
    basis: Mapped[str] = mapped_column(String(2), primary_key=True)
