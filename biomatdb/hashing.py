"""The two hashes of a stored measurement, by which a re-upload tells unchanged, updated, added
and removed measurements apart: ``identity_hash`` (what was measured, and how) and
``content_hash`` (that, with its value). The material is not hashed: the re-upload diff groups by
it beside the hashes, so that a merge of two materials (docs/identity.md) moves measurements
without making them new. Columns are hashed as arrays, never row by row."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, bindparam, inspect, select, update

IDENTITY_COLUMNS = [
    "property_key",
    "source_id",
    "source_column",
    "temperature_K",
    "medium",
    "method",
    "standard",
    "specimen_state",
]
CONTENT_COLUMNS = [
    *IDENTITY_COLUMNS,
    "qualifier",
    "value",
    "value_min",
    "value_max",
    "uncertainty",
    "verbatim_value",
    "verbatim_unit",
    "notes",
]
#: Hashed only where given, so that the hashes of measurements without it did not change when it
#: was added (migration 0021), and a re-upload stores it where it was not kept before.
WHERE_GIVEN_COLUMNS = ["verbatim_uncertainty"]
_FLOATS = {"temperature_K", "value", "value_min", "value_max", "uncertainty"}
_BATCH = 50_000


def fold(frame: pd.DataFrame, start: np.ndarray | None = None) -> np.ndarray:
    """A 64-bit hash per row, folded column by column onto ``start``."""
    combined = np.zeros(len(frame), dtype=np.uint64) if start is None else start
    with np.errstate(over="ignore"):
        for name in frame.columns:
            column = frame[name]
            if column.dtype == object or str(column.dtype) in ("str", "string"):
                column = column.astype(object).where(column.notna(), "\x00").astype(str)
            hashed = pd.util.hash_pandas_object(column, index=False).to_numpy(dtype=np.uint64)
            combined = combined * np.uint64(1_000_003) ^ hashed
    return combined


def hex_digests(hashes: np.ndarray) -> np.ndarray:
    """Hashes as the 16 hex digits the core stores."""
    return np.array([f"{value:016x}" for value in hashes.tolist()], dtype=object)


def measurement_hashes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(identity, content) hex digests of measurement rows with ``CONTENT_COLUMNS``: the content
    hash folds on from the identity hash, as ``CONTENT_COLUMNS`` start with ``IDENTITY_COLUMNS``."""
    identity = fold(frame[IDENTITY_COLUMNS])
    content = fold(frame[CONTENT_COLUMNS[len(IDENTITY_COLUMNS) :]], identity)
    for name in WHERE_GIVEN_COLUMNS:
        if name in frame.columns:
            given = frame[name].notna().to_numpy()
            if given.any():
                content[given] = fold(frame.loc[given, [name]], content[given])
    return hex_digests(identity), hex_digests(content)


def rehash_measurements(connection: Connection) -> int:
    """Compute every stored measurement's hashes again, with the types ingest hashes them in
    (migration 0010: the hashes stored before it held the material). Returns the rows rehashed."""
    from biomatdb.models import Measurement

    table = cast(Table, Measurement.__table__)
    # a migration before 0021 (0010 calls this) sees a table without the columns added since
    stored = {column["name"] for column in inspect(connection).get_columns(table.name)}
    hashed = [*CONTENT_COLUMNS, *(name for name in WHERE_GIVEN_COLUMNS if name in stored)]
    columns = [table.c.id, *(table.c[name] for name in hashed)]
    last, done = 0, 0
    while True:
        rows = connection.execute(select(*columns).where(table.c.id > last).order_by(table.c.id).limit(_BATCH)).all()
        if not rows:
            return done
        frame = pd.DataFrame(rows, columns=["id", *hashed])
        for name in hashed:
            if name == "source_id":
                frame[name] = frame[name].astype("Int64")
            elif name in _FLOATS:
                frame[name] = frame[name].astype("float64")
            else:
                frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
        identity, content = measurement_hashes(frame)
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(identity_hash=bindparam("identity"), content_hash=bindparam("content")),
            [
                {"row_id": int(row_id), "identity": i, "content": c}
                for row_id, i, c in zip(frame["id"].tolist(), identity.tolist(), content.tolist(), strict=True)
            ],
        )
        done += len(frame)
        last = int(frame["id"].iloc[-1])
