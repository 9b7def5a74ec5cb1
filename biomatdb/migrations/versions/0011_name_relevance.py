"""name relevance: the words of each material's shown name and of all its names

Text search ranks a material by how its names match the query's words (whole words in the shown
name first, then in any name, then prefixes: ``biomatdb.searchtext.RELEVANCE_WEIGHTS``), the same
rule on every backend. ``search_text`` is computed again too: it now holds the polymer
vocabulary's names of each material and the folded forms people type (``ti6al4v``,
``polylactide``).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ALTER TABLE: a batch copy of ``materials`` would drop SQLite's full-text triggers
    op.add_column("materials", sa.Column("search_name", sa.Text(), nullable=True))
    op.add_column("materials", sa.Column("search_names", sa.Text(), nullable=True))
    from biomatdb.searchtext import refresh_search_text

    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM materials"))]
    refresh_search_text(connection, ids)


def downgrade() -> None:
    op.drop_column("materials", "search_names")
    op.drop_column("materials", "search_name")
