"""detail provenance: the dataset that added each synonym and application

Retracting a dataset removes the synonyms and applications it added to materials that
stay (another dataset's, or the fixtures'). Rows from before this migration have no
dataset recorded and stay.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("material_synonyms", "material_applications")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("dataset_id", sa.Integer(), nullable=True))
            batch_op.create_index(f"ix_{table}_dataset_id", ["dataset_id"])


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(f"ix_{table}_dataset_id")
            batch_op.drop_column("dataset_id")
