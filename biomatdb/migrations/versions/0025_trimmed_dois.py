"""trimmed DOIs: a stored DOI without the punctuation that ended its sentence or bracket

Before pipeline version 4, a DOI read from a citation kept a closing bracket or comma that followed
it in the text ("(see doi.org/10.3390/ma12213627)" gave ``10.3390/ma12213627)``), so its link
led nowhere. Each stored DOI is trimmed as ingest now trims it (``biomatdb.doi.trimmed_doi``).
A source whose trimmed DOI is already another source's is folded into that one: its datasets,
measurements and evaluations point at the kept source, and the measurements' identity hashes are
computed again (they hold the source). The materials that cite a changed source are queued for
Elasticsearch (their documents hold the DOI), and the core's generation moves on.

Revision ID: 0025
Revises: 0024
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the tables whose rows cite a source (fixed names, never user text)
_CITING = ("datasets", "measurements", "biological_evaluations")


def upgrade() -> None:
    from biomatdb.db import bump_generation
    from biomatdb.doi import doi_key, trimmed_doi
    from biomatdb.hashing import rehash_measurements
    from biomatdb.models import Material
    from biomatdb.outbox import record_changed

    connection = op.get_bind()
    stored = connection.execute(sa.text("SELECT id, doi FROM sources WHERE doi IS NOT NULL ORDER BY id")).all()
    changed: list[int] = []
    folded = False
    for source_id, doi in stored:
        trimmed = trimmed_doi(doi)
        if trimmed == doi or not trimmed:
            continue
        key = doi_key(trimmed)
        kept = connection.execute(
            sa.text("SELECT id FROM sources WHERE key = :key AND id != :id"), {"key": key, "id": source_id}
        ).scalar()
        if kept is None:
            connection.execute(
                sa.text("UPDATE sources SET doi = :doi, key = :key WHERE id = :id"),
                {"doi": trimmed, "key": key, "id": source_id},
            )
            changed.append(source_id)
            continue
        for table in _CITING:
            connection.execute(
                sa.text(f"UPDATE {table} SET source_id = :kept WHERE source_id = :id"), {"kept": kept, "id": source_id}
            )
        connection.execute(sa.text("DELETE FROM sources WHERE id = :id"), {"id": source_id})
        changed.append(kept)
        folded = True
    if not changed:
        return
    if folded:
        rehash_measurements(connection)
    citing: sa.CompoundSelect[tuple[int]] = sa.union(
        *(
            sa.select(sa.column("material_id", sa.Integer))
            .select_from(sa.table(table))
            .where(sa.column("source_id").in_(changed))
            for table in ("measurements", "biological_evaluations")
        )
    )
    record_changed(connection, Material.id.in_(citing))
    bump_generation(connection)


def downgrade() -> None:
    pass
