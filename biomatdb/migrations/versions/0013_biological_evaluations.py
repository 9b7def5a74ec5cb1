"""biological evaluations: what tests of a material found, endpoint by endpoint

One record per test result (docs/evidence.md): its endpoint and outcome from the vocabulary
(``biomatdb/vocabulary/endpoints.toml``), the test system, contact, exposure, method and
duration, and its source and dataset like a measurement. A quantitative result is a
measurement of the endpoint's property, which the record names: the measurements of
``cell_viability``, ``cytotoxicity_grade``, ``hemolysis`` and ``protein_adsorption`` already
stored get their records here.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    identifier = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "biological_evaluations",
        sa.Column("id", identifier, primary_key=True),
        sa.Column("material_id", sa.Integer(), sa.ForeignKey("materials.id", ondelete="CASCADE"), nullable=False),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("upload_id", sa.Integer(), sa.ForeignKey("dataset_uploads.id", ondelete="SET NULL"), nullable=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("sources.id"), nullable=True),
        sa.Column("measurement_id", identifier, sa.ForeignKey("measurements.id", ondelete="CASCADE"), nullable=True),
        sa.Column("endpoint", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("standard", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("model_key", sa.String(64), nullable=True),
        sa.Column("species", sa.String(64), nullable=True),
        sa.Column("cellosaurus", sa.String(16), nullable=True),
        sa.Column("site", sa.String(200), nullable=True),
        sa.Column("contact_category", sa.String(40), nullable=True),
        sa.Column("contact_duration", sa.String(16), nullable=True),
        sa.Column("exposure", sa.String(500), nullable=True),
        sa.Column("exposure_kind", sa.String(20), nullable=True),
        sa.Column("method", sa.String(200), nullable=True),
        sa.Column("duration", sa.String(200), nullable=True),
        sa.Column("duration_min_days", sa.Float(), nullable=True),
        sa.Column("duration_max_days", sa.Float(), nullable=True),
        sa.Column("verbatim", sa.Text(), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("source_column", sa.String(500), nullable=True),
    )
    op.create_index("ix_biological_evaluations_material", "biological_evaluations", ["material_id", "endpoint"])
    op.create_index("ix_biological_evaluations_endpoint", "biological_evaluations", ["endpoint", "outcome"])
    op.create_index("ix_biological_evaluations_dataset", "biological_evaluations", ["dataset_id"])
    op.create_index("ix_biological_evaluations_measurement", "biological_evaluations", ["measurement_id"])
    from biomatdb.db import bump_generation
    from biomatdb.evaluations import derive_from_measurements

    connection = op.get_bind()
    derive_from_measurements(connection)
    bump_generation(connection)


def downgrade() -> None:
    op.drop_table("biological_evaluations")
