"""material elements: what composition filters search

Each material's elements, derived from its composition and its structure by
``biomatdb.elements`` (``material_elements``: an element's content in wt% or at% as an interval,
or its presence only), and the bases on which its composition is known element by element
(``material_element_bases``: an element not named there is 0). Composition components keep the
qualifier of their amount (``≥0.4 wt%`` was stored as 0.4); rows stored before keep None, read as
a point or a range. Every existing material's elements are derived here, and the generation moves,
so that derived search indexes are built again.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("composition_components", sa.Column("qualifier", sa.String(8), nullable=True))
    op.create_table(
        "material_elements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "material_id",
            sa.Integer(),
            sa.ForeignKey("materials.id", ondelete="CASCADE", name="fk_material_elements_material_id_materials"),
            nullable=False,
        ),
        sa.Column("element", sa.String(3), nullable=False),
        sa.Column("basis", sa.String(2), nullable=True),
        sa.Column("fraction_min", sa.Float(), nullable=True),
        sa.Column("fraction_max", sa.Float(), nullable=True),
        sa.Column("low_open", sa.Boolean(), nullable=False),
        sa.Column("high_open", sa.Boolean(), nullable=False),
        sa.Column("presence", sa.String(8), nullable=False),
        sa.Column("origin", sa.String(12), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_material_elements"),
    )
    op.create_index("ix_material_elements_material_element", "material_elements", ["material_id", "element"])
    op.create_table(
        "material_element_bases",
        sa.Column(
            "material_id",
            sa.Integer(),
            sa.ForeignKey("materials.id", ondelete="CASCADE", name="fk_material_element_bases_material_id_materials"),
            nullable=False,
        ),
        sa.Column("basis", sa.String(2), nullable=False),
        sa.PrimaryKeyConstraint("material_id", "basis", name="pk_material_element_bases"),
    )
    from biomatdb.db import bump_generation
    from biomatdb.elements import refresh_elements

    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM materials"))]
    refresh_elements(connection, ids)
    bump_generation(connection)


def downgrade() -> None:
    op.drop_table("material_element_bases")
    op.drop_index("ix_material_elements_material_element", table_name="material_elements")
    op.drop_table("material_elements")
    op.drop_column("composition_components", "qualifier")
