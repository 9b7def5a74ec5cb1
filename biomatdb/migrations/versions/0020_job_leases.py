"""job leases: a running job is its worker's for a time it renews

A job left running by a worker that died on another host, or that lost the database while
writing the job's outcome, stayed running for ever. A claim now sets ``jobs.lease_until`` (renewed
while the job runs) and counts ``jobs.attempts``; any worker takes back a job whose lease ran out
(``biomatdb_api.jobs.take_back_expired_jobs``). ``dataset_uploads.job_id`` records, in the load's own
transaction, which job loaded an upload, so that such a job is settled from it and never loaded
twice.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("jobs", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column("dataset_uploads", sa.Column("job_id", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_dataset_uploads_job_id"), "dataset_uploads", ["job_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dataset_uploads_job_id"), table_name="dataset_uploads")
    with op.batch_alter_table("dataset_uploads") as batch:
        batch.drop_column("job_id")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("attempts")
        batch.drop_column("lease_until")
