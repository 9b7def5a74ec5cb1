"""detail claims: every dataset that states a material's synonym or application

A synonym or application added by one dataset may be stated again by others (a later file
naming the material by it, or listing the same application). Retracting a dataset removes
its claims, and a synonym or application only when no other dataset still claims it.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "detail_claims",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("material_id", sa.Integer(), sa.ForeignKey("materials.id", ondelete="CASCADE"), nullable=False),
        sa.Column("value_key", sa.String(500), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "material_id", "value_key", "dataset_id"),
    )
    op.create_index("ix_detail_claims_dataset_id", "detail_claims", ["dataset_id"])


def downgrade() -> None:
    op.drop_index("ix_detail_claims_dataset_id", "detail_claims")
    op.drop_table("detail_claims")
