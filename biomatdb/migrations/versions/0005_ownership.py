"""ownership: a dataset belongs to the API key that first uploaded it, a job to the key
that submitted it

Datasets loaded without a key (the CLI, the shipped fixtures) have no owner: only an
admin may replace or retract them through the API. The columns name the key's id; keys
are revoked, never deleted, so the id keeps naming who it was.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("datasets") as batch_op:
        batch_op.add_column(sa.Column("owner_key_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.add_column(sa.Column("created_by_key_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_column("created_by_key_id")
    with op.batch_alter_table("datasets") as batch_op:
        batch_op.drop_column("owner_key_id")
