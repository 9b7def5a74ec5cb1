"""material identity: one material per real material, shown by its best name

Datasets get a ``kind`` (curated | compilation), which ranks the names they give. Every
material's name becomes one of its synonyms, claimed as a name by the dataset that created it,
and every name key is folded again by ``biomatdb.identity.material_key`` (word order, ``50/50``
as ``50:50``, brackets). Then the materials already stored that the rules of docs/identity.md
say are one are merged (measurements keep their provenance; merged public ids answer through
the new ``material_redirects``), each material is shown by its best name, structure strings stop
being synonyms. (Migration 0011 computes the search text again.)

The data steps call the core's own functions (``biomatdb.merge``) as they are at this revision.

Revision ID: 0010
Revises: 0009
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("datasets") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="curated"))
    op.create_table(
        "material_redirects",
        sa.Column("public_id", sa.String(32), primary_key=True),
        sa.Column("material_id", sa.Integer(), sa.ForeignKey("materials.id", ondelete="CASCADE",
                                                             name="fk_material_redirects_material_id_materials"),
                  nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_material_redirects_material_id", "material_redirects", ["material_id"])
    from biomatdb.merge import apply_identity_rules

    apply_identity_rules(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_material_redirects_material_id", "material_redirects")
    op.drop_table("material_redirects")
    with op.batch_alter_table("datasets") as batch_op:
        batch_op.drop_column("kind")
