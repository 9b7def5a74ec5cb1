"""measurement qualitative: a cell such as "amorphous" or "not detected" is kept as a fact

The key of a term of biomatdb/vocabulary/qualitative.toml, on a measurement whose qualifier is
"term" and whose value, value_min and value_max are NULL. Existing measurements have none.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("measurements") as batch_op:
        batch_op.add_column(sa.Column("qualitative", sa.String(32), nullable=True))


def downgrade() -> None:
    # Without its term, a qualitative measurement would read as a value with no ends, which the
    # older code takes for (-inf, inf) and every range filter matches; deleting it would leave
    # its dataset short of what its checksum says was loaded. So the downgrade refuses.
    kept = op.get_bind().execute(sa.text("SELECT count(*) FROM measurements WHERE qualifier = 'term'")).scalar_one()
    if kept:
        raise RuntimeError(
            f"{kept} qualitative measurements (qualifier 'term') exist; retract or re-upload "
            f"their datasets without them before downgrading below 0009"
        )
    with op.batch_alter_table("measurements") as batch_op:
        batch_op.drop_column("qualitative")
