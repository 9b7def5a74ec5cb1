"""chemistry index from stored data: each structure's substructure-screening fingerprint, and
one generation number that every change to the core's materials moves

The search's chemistry index is built from what is stored (canonical SMILES, both
fingerprints) without parsing a structure again, and is rebuilt only when the generation it
was built at is no longer the core's. Structures stored before this migration have no
screening fingerprint; the index computes theirs when it is built.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("structures") as batch_op:
        batch_op.add_column(sa.Column("pattern_fingerprint", sa.LargeBinary(), nullable=True))
    state = op.create_table(
        "core_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("generation", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(state, [{"id": 1, "generation": 0}])


def downgrade() -> None:
    op.drop_table("core_state")
    with op.batch_alter_table("structures") as batch_op:
        batch_op.drop_column("pattern_fingerprint")
