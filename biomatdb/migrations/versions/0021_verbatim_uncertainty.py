"""verbatim uncertainty: an uncertainty from a column of its own, as written

A measurement's uncertainty given in a column of its own (a standard deviation beside the value)
was stored only as a number, so that its written digits were lost and it was shown with two
(``4`` as ``4.0``). ``verbatim_uncertainty`` keeps its text and unit as written (``4 GPa``);
an uncertainty written in the value's cell (``110 ± 4``) is in ``verbatim_value`` already.
Measurements stored before have none and are shown as before; a re-upload of their file fills it.

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("measurements", sa.Column("verbatim_uncertainty", sa.Text(), nullable=True))


def downgrade() -> None:
    # not in batch mode: rebuilding the table on SQLite would cascade to its evaluations
    op.drop_column("measurements", "verbatim_uncertainty")
