"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 06:39:53.775309

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "properties",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_properties")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("doi", sa.String(length=255), nullable=True),
        sa.Column("citation", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("key", name=op.f("uq_sources_key")),
    )
    op.create_table(
        "structures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("canonical_smiles", sa.Text(), nullable=False),
        sa.Column("inchikey", sa.String(length=27), nullable=True),
        sa.Column("formula", sa.String(length=255), nullable=True),
        sa.Column("molecular_weight", sa.Float(), nullable=True),
        sa.Column("is_repeat_unit", sa.Boolean(), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_structures")),
        sa.UniqueConstraint("canonical_smiles", name=op.f("uq_structures_canonical_smiles")),
    )
    with op.batch_alter_table("structures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_structures_inchikey"), ["inchikey"], unique=False)

    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("license", sa.String(length=255), nullable=True),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("uploader", sa.String(length=255), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("checksum", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=1000), nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_datasets_source_id_sources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("name", name=op.f("uq_datasets_name")),
    )
    op.create_table(
        "dataset_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=1000), nullable=True),
        sa.Column("uploader", sa.String(length=255), nullable=True),
        sa.Column("pipeline_version", sa.String(length=32), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("materials_created", sa.Integer(), nullable=False),
        sa.Column("materials_updated", sa.Integer(), nullable=False),
        sa.Column("measurements_added", sa.Integer(), nullable=False),
        sa.Column("measurements_updated", sa.Integer(), nullable=False),
        sa.Column("measurements_removed", sa.Integer(), nullable=False),
        sa.Column("measurements_unchanged", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_uploads_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_uploads")),
    )
    with op.batch_alter_table("dataset_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_uploads_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("name_key", sa.String(length=500), nullable=False),
        sa.Column("class", sa.String(length=32), nullable=True),
        sa.Column("subclass", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("biodegradable", sa.Boolean(), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=True),
        sa.Column("regulatory_notes", sa.Text(), nullable=True),
        sa.Column("structure_id", sa.Integer(), nullable=True),
        sa.Column("created_by_dataset_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_dataset_id"],
            ["datasets.id"],
            name=op.f("fk_materials_created_by_dataset_id_datasets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["structure_id"], ["structures.id"], name=op.f("fk_materials_structure_id_structures")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_materials")),
        sa.UniqueConstraint("public_id", name=op.f("uq_materials_public_id")),
    )
    with op.batch_alter_table("materials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_materials_class"), ["class"], unique=False)
        batch_op.create_index(batch_op.f("ix_materials_name_key"), ["name_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_materials_structure_id"), ["structure_id"], unique=False)

    op.create_table(
        "composition_components",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=200), nullable=False),
        sa.Column("fraction", sa.Float(), nullable=True),
        sa.Column("fraction_max", sa.Float(), nullable=True),
        sa.Column("basis", sa.String(length=8), nullable=False),
        sa.Column("is_balance", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_composition_components_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_composition_components")),
    )
    with op.batch_alter_table("composition_components", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_composition_components_material_id"), ["material_id"], unique=False)

    op.create_table(
        "material_applications",
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("application", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_material_applications_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("material_id", "application", name=op.f("pk_material_applications")),
    )
    with op.batch_alter_table("material_applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_material_applications_application"), ["application"], unique=False)

    op.create_table(
        "material_synonyms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("synonym", sa.String(length=500), nullable=False),
        sa.Column("name_key", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_material_synonyms_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_synonyms")),
        sa.UniqueConstraint("material_id", "name_key", name=op.f("uq_material_synonyms_material_id")),
    )
    with op.batch_alter_table("material_synonyms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_material_synonyms_material_id"), ["material_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_material_synonyms_name_key"), ["name_key"], unique=False)

    op.create_table(
        "measurements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("property_key", sa.String(length=64), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("qualifier", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_min", sa.Float(), nullable=True),
        sa.Column("value_max", sa.Float(), nullable=True),
        sa.Column("uncertainty", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("verbatim_value", sa.Text(), nullable=False),
        sa.Column("verbatim_unit", sa.String(length=64), nullable=True),
        sa.Column("temperature_K", sa.Float(), nullable=True),
        sa.Column("medium", sa.String(length=200), nullable=True),
        sa.Column("method", sa.String(length=200), nullable=True),
        sa.Column("standard", sa.String(length=200), nullable=True),
        sa.Column("specimen_state", sa.String(length=200), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("source_column", sa.String(length=500), nullable=True),
        sa.Column("pipeline_version", sa.String(length=32), nullable=False),
        sa.Column("content_hash", sa.String(length=16), nullable=False),
        sa.Column("identity_hash", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_measurements_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["material_id"], ["materials.id"], name=op.f("fk_measurements_material_id_materials"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["property_key"], ["properties.key"], name=op.f("fk_measurements_property_key_properties")
        ),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_measurements_source_id_sources")),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["dataset_uploads.id"],
            name=op.f("fk_measurements_upload_id_dataset_uploads"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurements")),
    )
    with op.batch_alter_table("measurements", schema=None) as batch_op:
        batch_op.create_index("ix_measurements_dataset_hash", ["dataset_id", "content_hash"], unique=False)
        batch_op.create_index("ix_measurements_material_property", ["material_id", "property_key"], unique=False)
        batch_op.create_index(
            "ix_measurements_property_min_max", ["property_key", "value_min", "value_max"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_measurements_source_id"), ["source_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("measurements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measurements_source_id"))
        batch_op.drop_index("ix_measurements_property_min_max")
        batch_op.drop_index("ix_measurements_material_property")
        batch_op.drop_index("ix_measurements_dataset_hash")

    op.drop_table("measurements")
    with op.batch_alter_table("material_synonyms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_material_synonyms_name_key"))
        batch_op.drop_index(batch_op.f("ix_material_synonyms_material_id"))

    op.drop_table("material_synonyms")
    with op.batch_alter_table("material_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_material_applications_application"))

    op.drop_table("material_applications")
    with op.batch_alter_table("composition_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_composition_components_material_id"))

    op.drop_table("composition_components")
    with op.batch_alter_table("materials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_materials_structure_id"))
        batch_op.drop_index(batch_op.f("ix_materials_name_key"))
        batch_op.drop_index(batch_op.f("ix_materials_class"))

    op.drop_table("materials")
    with op.batch_alter_table("dataset_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_uploads_dataset_id"))

    op.drop_table("dataset_uploads")
    op.drop_table("datasets")
    with op.batch_alter_table("structures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_structures_inchikey"))

    op.drop_table("structures")
    op.drop_table("sources")
    op.drop_table("properties")
