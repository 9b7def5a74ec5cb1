"""evidence condition spelling: biological-evaluation methods and standards as the vocabulary spells them

A biological-evaluation record's method and standard are stored as the condition vocabulary
spells them (``biomatdb/vocabulary/conditions.toml``), as a measurement's have been since 0016:
``LIVE/DEAD staining`` becomes ``viability staining``; a text no term names stays as written.
Ingest stores new records so from now on; this brings the records stored before into line, so
that a re-upload of the same evidence file stores the same values. Records carry no content
hash; the generation moves when a value changed, so that derived search indexes are built
again. Downgrade leaves the values as they are: the spelling they had is not kept.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The record columns the condition vocabulary spells (a fixed list of column names, never user text).
FIELDS = ("method", "standard")


def upgrade() -> None:
    from biomatdb.db import bump_generation
    from biomatdb.vocabulary.conditions import load_conditions

    connection = op.get_bind()
    vocabulary = load_conditions()
    changed = 0
    for field in FIELDS:
        stored = connection.execute(
            sa.text(f"SELECT DISTINCT {field} FROM biological_evaluations WHERE {field} IS NOT NULL")
        )
        for (value,) in stored.all():
            spelled = vocabulary.canonical(field, value)
            if spelled != value:
                changed += connection.execute(
                    sa.text(f"UPDATE biological_evaluations SET {field} = :spelled WHERE {field} = :value"),
                    {"spelled": spelled, "value": value},
                ).rowcount
    if changed:
        bump_generation(connection)


def downgrade() -> None:
    pass
