"""search: full-text column and index, search outbox

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_FTS = [
    (
        "CREATE VIRTUAL TABLE materials_fts USING fts5(search_text, content='materials', content_rowid='id',"
        " tokenize='unicode61 remove_diacritics 2')"
    ),
    (
        "CREATE TRIGGER materials_fts_insert AFTER INSERT ON materials BEGIN"
        " INSERT INTO materials_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
    ),
    (
        "CREATE TRIGGER materials_fts_delete AFTER DELETE ON materials BEGIN"
        " INSERT INTO materials_fts(materials_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END"
    ),
    (
        "CREATE TRIGGER materials_fts_update AFTER UPDATE OF search_text ON materials BEGIN"
        " INSERT INTO materials_fts(materials_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
        " INSERT INTO materials_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
    ),
]


def upgrade() -> None:
    op.add_column("materials", sa.Column("search_text", sa.Text(), nullable=True))
    op.create_table(
        "search_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outbox")),
    )
    op.create_index(op.f("ix_search_outbox_material_id"), "search_outbox", ["material_id"], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_materials_search_text ON materials"
            " USING gin (to_tsvector('simple', coalesce(search_text, '')))"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("materials_fts_insert", "materials_fts_delete", "materials_fts_update"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE materials_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX ix_materials_search_text")
    op.drop_index(op.f("ix_search_outbox_material_id"), table_name="search_outbox")
    op.drop_table("search_outbox")
    op.drop_column("materials", "search_text")
