"""packed fingerprints: each structure's Morgan fingerprint stored as its bits

The search's chemistry index reads every structure's fingerprint into one numpy array and
computes Tanimoto similarity over it (``biomatdb_search.chemistry.tanimoto``). RDKit's binary text
format needed an RDKit object per structure to read; the packed form
(``biomatdb.chemistry.packed_fingerprint``: 256 bytes, bit ``i`` in byte ``i // 8``) is read
with one ``numpy.frombuffer``. Every stored fingerprint is rewritten, and the core's
generation moves, so that no index built from the old form is used again.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from rdkit import DataStructs

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5_000


def _rewrite(convert) -> None:
    connection = op.get_bind()
    structures = sa.table("structures", sa.column("id", sa.Integer), sa.column("fingerprint", sa.LargeBinary))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(structures.c.id, structures.c.fingerprint)
            .where(structures.c.id > last, structures.c.fingerprint.is_not(None))
            .order_by(structures.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            sa.update(structures).where(structures.c.id == sa.bindparam("structure_id")),
            [{"structure_id": row.id, "fingerprint": convert(bytes(row.fingerprint))} for row in rows],
        )
        last = rows[-1].id
    from biomatdb.db import bump_generation

    bump_generation(connection)


def upgrade() -> None:
    from biomatdb.chemistry import packed_fingerprint

    _rewrite(lambda stored: packed_fingerprint(DataStructs.CreateFromBinaryText(stored)))


def downgrade() -> None:
    from biomatdb.chemistry import unpacked_fingerprint

    _rewrite(lambda packed: DataStructs.BitVectToBinaryText(unpacked_fingerprint(packed)))
