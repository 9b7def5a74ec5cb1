"""condition vocabulary: stored condition values in the vocabulary's spelling

Measurement conditions (specimen state, medium, method, standard) are stored as the condition
vocabulary spells them (``biomatdb/vocabulary/conditions.toml``): ``as extruded`` becomes
``as-extruded``, ``phosphate buffered saline`` becomes ``PBS``; a value no term names stays as
written. Ingest stores new values so from now on; this brings the values stored before into
line, so that a re-upload of the same file finds its measurements unchanged (the hashes hold
the stored values, and are computed again). The generation moves when a value changed, so
that derived search indexes are built again. Downgrade leaves the values as they are: the
spelling they had is not kept.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from biomatdb.db import bump_generation
    from biomatdb.hashing import rehash_measurements
    from biomatdb.vocabulary.conditions import CONDITION_FIELDS, load_conditions

    connection = op.get_bind()
    vocabulary = load_conditions()
    changed = 0
    for field in CONDITION_FIELDS:  # a fixed list of column names, never user text
        stored = connection.execute(sa.text(f"SELECT DISTINCT {field} FROM measurements WHERE {field} IS NOT NULL"))
        for (value,) in stored.all():
            spelled = vocabulary.canonical(field, value)
            if spelled != value:
                changed += connection.execute(
                    sa.text(f"UPDATE measurements SET {field} = :spelled WHERE {field} = :value"),
                    {"spelled": spelled, "value": value},
                ).rowcount
    if changed:
        rehash_measurements(connection)
        bump_generation(connection)


def downgrade() -> None:
    pass
