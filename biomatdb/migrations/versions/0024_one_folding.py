"""one folding: the search text folded and split by one Python rule, which no index redoes

``materials.search_text`` (and ``search_name``, ``search_names``) are computed again with
``biomatdb.searchtext.words``: text is folded before it is split (so "½" is the words "1" and "2",
and "e" + a combining accent is one word "e"), every mark is dropped, and the letters that no
decomposition takes apart fold by the module's own table ("ə" as "e").

The full-text indexes stop folding and splitting of their own, so that a query's words, folded by
the same function, meet exactly the stored ones: SQLite's ``materials_fts`` is made again with the
``ascii`` tokenizer (it splits on ASCII spaces and punctuation, which a stored word never holds,
and leaves every other character as it is), and PostgreSQL's index is on the stored words as
lexemes (``array_to_tsvector``) instead of ``to_tsvector('simple', …)``.

Elasticsearch indexes built before need one ``biomatdb reindex`` (their analyzer folded again).

Revision ID: 0024
Revises: 0021
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGERS = ("materials_fts_insert", "materials_fts_delete", "materials_fts_update")


def _sqlite_fts(tokenizer: str) -> list[str]:
    return [
        (
            "CREATE VIRTUAL TABLE materials_fts USING fts5(search_text, content='materials', content_rowid='id',"
            f" tokenize='{tokenizer}')"
        ),
        (
            "CREATE TRIGGER materials_fts_insert AFTER INSERT ON materials BEGIN"
            " INSERT INTO materials_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
        ),
        (
            "CREATE TRIGGER materials_fts_delete AFTER DELETE ON materials BEGIN"
            " INSERT INTO materials_fts(materials_fts, rowid, search_text)"
            " VALUES ('delete', old.id, old.search_text); END"
        ),
        (
            "CREATE TRIGGER materials_fts_update AFTER UPDATE OF search_text ON materials BEGIN"
            " INSERT INTO materials_fts(materials_fts, rowid, search_text)"
            " VALUES ('delete', old.id, old.search_text);"
            " INSERT INTO materials_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
        ),
        "INSERT INTO materials_fts(materials_fts) VALUES ('rebuild')",
    ]


def _drop_sqlite_fts() -> None:
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS materials_fts")


def _refresh() -> None:
    from biomatdb.searchtext import refresh_search_text

    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM materials"))]
    refresh_search_text(connection, ids)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # the old index goes first: a content-table FTS5 index cannot delete what it tokenized otherwise
    if dialect == "sqlite":
        _drop_sqlite_fts()
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_materials_search_text")
    _refresh()
    if dialect == "sqlite":
        for statement in _sqlite_fts("ascii"):
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_materials_search_text ON materials USING gin"
            " (array_to_tsvector(array_remove(string_to_array(coalesce(search_text, ''), ' '), '')))"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _drop_sqlite_fts()
        for statement in _sqlite_fts("unicode61 remove_diacritics 2"):
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_materials_search_text")
        op.execute(
            "CREATE INDEX ix_materials_search_text ON materials"
            " USING gin (to_tsvector('simple', coalesce(search_text, '')))"
        )
