"""The search outbox: the materials whose search documents are out of date, written in the
transaction that changes them, drained by ``biomatdb sync`` into Elasticsearch.

**Bounded.** One row per material (a unique index on ``material_id``): a change to a material
that already waits is an upsert that counts it (``changes``) and keeps the row's place in the
queue and its first wait, so the outbox holds at most as many rows as materials were touched
since the last drain, however long Elasticsearch is away. A drainer reads the document at the
newest state anyway (the core's generation, read with it), so nothing is lost by coalescing; it
deletes a row only at the ``changes`` it claimed, so a change that lands while its document is
being written keeps the row for the next round. On PostgreSQL such a change waits for the
drainer's claim (``FOR UPDATE SKIP LOCKED``) to end: one bulk request at most.

**None without Elasticsearch.** An engine made with ``search_outbox=False`` (``make_engine``;
the CLI, the API and the job processes pass ``Settings.search_outbox``, true only when
``BIOMATDB_ELASTICSEARCH_URL`` is set) writes no rows: nothing would drain them, and the first
``biomatdb reindex`` builds the index from the whole core.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from biomatdb.models import Material, SearchOutbox

#: the execution option (set on the engine by ``make_engine``) that turns the outbox off
OUTBOX_OPTION = "biomatdb_search_outbox"
#: set in ``Connection.info`` by a migration older than 0019 that writes outbox rows: the table has
#: no unique index yet, so rows are plainly inserted (0019 coalesces them)
PLAIN_OUTBOX = "biomatdb_plain_outbox"


def outbox_kept(connection: Connection) -> bool:
    """Whether changes on this connection are recorded in the outbox (Elasticsearch configured)."""
    return bool(connection.get_execution_options().get(OUTBOX_OPTION, True))


def _upsert(connection: Connection):
    dialect = connection.dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(SearchOutbox)
    elif dialect == "sqlite":
        statement = sqlite.insert(SearchOutbox)
    else:  # pragma: no cover - the core runs on SQLite and PostgreSQL
        raise NotImplementedError(f"no search outbox upsert for {dialect}")
    return statement, statement.excluded


def _coalescing(statement: Any, excluded: Any) -> Any:
    table = SearchOutbox.__table__
    return statement.on_conflict_do_update(
        index_elements=[table.c.material_id],
        set_={
            "changes": table.c.changes + 1,
            "public_id": func.coalesce(excluded.public_id, table.c.public_id),
        },
    )


def record_changed(connection: Connection, materials: ColumnElement[bool], now: datetime | None = None) -> None:
    """Record the existing materials that ``materials`` (a condition on ``Material``) selects as
    changed, in the caller's transaction; one row each, however often they change."""
    if not outbox_kept(connection):
        return
    now = now or datetime.now(UTC)
    # the WHERE is always there: SQLite needs one to tell an upsert's ON from a join's
    chosen = select(Material.id, Material.public_id, literal(now)).where(materials)
    columns = ["material_id", "public_id", "created_at"]
    if connection.info.get(PLAIN_OUTBOX):
        connection.execute(insert(SearchOutbox).from_select(columns, chosen))
        return
    statement, excluded = _upsert(connection)
    connection.execute(_coalescing(statement.from_select(columns, chosen), excluded))


def record_changed_rows(
    connection: Connection, materials: Iterable[tuple[int, str | None]], now: datetime | None = None
) -> None:
    """Record these ``(material id, public id)`` as changed, materials about to be deleted
    included (their documents are then deleted from the index); one row each."""
    if not outbox_kept(connection):
        return
    now = now or datetime.now(UTC)
    unique = dict(materials)  # one statement may not touch one row twice (PostgreSQL refuses)
    rows = [{"material_id": m, "public_id": p, "created_at": now} for m, p in sorted(unique.items())]
    if not rows:
        return
    if connection.info.get(PLAIN_OUTBOX):
        connection.execute(insert(SearchOutbox), rows)
        return
    statement, excluded = _upsert(connection)
    connection.execute(_coalescing(statement.values(rows), excluded))
