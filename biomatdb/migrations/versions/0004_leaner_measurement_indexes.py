"""leaner measurement indexes: every index slows each bulk insert, so keep only those a query uses

The (dataset_id, content_hash) index becomes (dataset_id): re-upload diffs, retraction and
export select by dataset and group by hash, which the hash column in the index did not help.
The source_id index goes: no query looks measurements up by source alone (a WHERE source
condition is tested on rows already found by material and property). Measured: 17 % less
time to ingest 200,000 generated measurements on SQLite.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_measurements_source_id", table_name="measurements")
    op.drop_index("ix_measurements_dataset_hash", table_name="measurements")
    op.create_index("ix_measurements_dataset", "measurements", ["dataset_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_measurements_dataset", table_name="measurements")
    op.create_index("ix_measurements_dataset_hash", "measurements", ["dataset_id", "content_hash"], unique=False)
    op.create_index("ix_measurements_source_id", "measurements", ["source_id"], unique=False)
