"""material identity: one material per real material, shown by its best name

Datasets get a ``kind`` (curated | compilation), which ranks the names they give; the shipped
fixtures' manifests say which of theirs are compilations. Stored hashes are computed again
without the material (the re-upload diff groups by it instead). Every
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

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ALTER TABLE: SQLite's batch copy drops ``datasets``, which cascades to its measurements
    op.add_column("datasets", sa.Column("kind", sa.String(16), nullable=False, server_default="curated"))
    op.create_table(
        "material_redirects",
        sa.Column("public_id", sa.String(32), primary_key=True),
        sa.Column(
            "material_id",
            sa.Integer(),
            sa.ForeignKey("materials.id", ondelete="CASCADE", name="fk_material_redirects_material_id_materials"),
            nullable=False,
        ),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_material_redirects_material_id", "material_redirects", ["material_id"])
    from biomatdb.hashing import rehash_measurements
    from biomatdb.merge import apply_identity_rules

    connection = op.get_bind()
    rehash_measurements(connection)  # the hashes no longer hold the material
    for name, kind in _shipped_kinds().items():
        connection.execute(sa.text("UPDATE datasets SET kind = :kind WHERE name = :name"), {"kind": kind, "name": name})
    from biomatdb.outbox import PLAIN_OUTBOX

    connection.info[PLAIN_OUTBOX] = True  # the outbox has no unique index before 0019
    try:
        apply_identity_rules(connection)
    finally:
        connection.info.pop(PLAIN_OUTBOX, None)


def _shipped_kinds() -> dict[str, str]:
    """The kinds the manifests of the shipped fixtures give their datasets (a public compilation's
    names rank below a curated dataset's); none when the fixtures are not beside the package."""
    import tomllib

    from biomatdb.shipped import fixtures_dir

    root = fixtures_dir()
    kinds = {}
    for manifest in sorted(root.rglob("*.manifest.toml")) if root.is_dir() else ():
        dataset = tomllib.loads(manifest.read_text(encoding="utf-8")).get("dataset", {})
        if dataset.get("name") and dataset.get("kind"):
            kinds[dataset["name"]] = dataset["kind"]
    return kinds


def downgrade() -> None:
    op.drop_index("ix_material_redirects_material_id", "material_redirects")
    op.drop_table("material_redirects")
    op.drop_column("datasets", "kind")
