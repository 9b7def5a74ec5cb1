"""derived records' kinds: the test system a measured property implies

A record derived from a measurement (migration 0013, ``biomatdb.evaluations``) got no test-system
kind. A cell viability, a cytotoxicity grade, a haemolysis ratio and a protein adsorption are in
vitro results by what they measure (``vocabulary/endpoints.toml`` ``property_kinds``): the records
derived from them, and not given a kind since, become ``in vitro`` here, so that
``evidence(cytotoxicity) WHERE kind = in vitro`` finds them. A record an evidence file loaded
without a kind, whose value is one of these properties, gets it by the same rule. Down changes
nothing: a curator's ``in vitro`` and this one cannot be told apart afterwards, and a kind that is
true does no harm to the schema below.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As endpoints.toml has it at this revision (a migration does not follow later edits of the vocabulary).
IN_VITRO_PROPERTIES = ("cell_viability", "cytotoxicity_grade", "hemolysis", "protein_adsorption")


def _derived(properties: Sequence[str]) -> str:
    keys = ", ".join(f"'{key}'" for key in properties)
    return "measurement_id IN (SELECT id FROM measurements WHERE property_key IN (" + keys + "))"


def upgrade() -> None:
    op.execute(
        sa.text(
            f"UPDATE biological_evaluations SET kind = 'in vitro' WHERE kind IS NULL AND {_derived(IN_VITRO_PROPERTIES)}"
        )
    )


def downgrade() -> None:
    pass
