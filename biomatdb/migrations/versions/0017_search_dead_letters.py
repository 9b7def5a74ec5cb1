"""search dead letters: documents Elasticsearch refused, set aside so that sync moves on

A search document that Elasticsearch refuses for itself (a 4xx answer to that one document
other than a version conflict: a mapping error, a term too long) is recorded here with the
answer's status, error type and reason, and its outbox rows are drained, so that one bad
document never blocks the outbox. ``biomatdb sync --status`` and ``/ready`` show them.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_dead_letters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=True),
        sa.Column("operation", sa.String(length=16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("error_type", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_dead_letters")),
    )
    op.create_index(op.f("ix_search_dead_letters_material_id"), "search_dead_letters", ["material_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_search_dead_letters_material_id"), table_name="search_dead_letters")
    op.drop_table("search_dead_letters")
