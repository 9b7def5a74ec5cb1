"""coalesced search outbox: one row per material

The search outbox grew by a row for every change while Elasticsearch was down or absent, until a
reindex. It now holds one row per material (a unique index on ``material_id``): a later change
is an upsert that counts it in ``changes`` (``biomatdb.outbox``). Rows already there are folded
into the oldest of each material's, which keeps the first wait. Downgrade keeps the rows and
drops the count and the uniqueness.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("search_outbox", sa.Column("changes", sa.Integer(), server_default="1", nullable=False))
    connection = op.get_bind()
    # the oldest row of each material counts the others, then they go
    connection.execute(
        sa.text(
            "UPDATE search_outbox SET changes = (SELECT count(*) FROM search_outbox AS other "
            "WHERE other.material_id = search_outbox.material_id) "
            "WHERE id IN (SELECT min(id) FROM search_outbox GROUP BY material_id HAVING count(*) > 1)"
        )
    )
    connection.execute(
        sa.text("DELETE FROM search_outbox WHERE id NOT IN (SELECT min(id) FROM search_outbox GROUP BY material_id)")
    )
    op.drop_index(op.f("ix_search_outbox_material_id"), table_name="search_outbox")
    op.create_index(op.f("ix_search_outbox_material_id"), "search_outbox", ["material_id"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_search_outbox_material_id"), table_name="search_outbox")
    op.create_index(op.f("ix_search_outbox_material_id"), "search_outbox", ["material_id"], unique=False)
    with op.batch_alter_table("search_outbox") as batch:
        batch.drop_column("changes")
