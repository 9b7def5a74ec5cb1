"""What a load remembers of each material its file names, kept in TEMP tables of the load's own
connection rather than in Python, so that a load's memory stays bounded by its chunks whatever
the file's size (issue 13: a 2 GB file in 1 GB).

``load_names``: per name key of the file (``record_key``), the material it resolved to, where it
was first seen (row, name, class; ``seen``: the order keys were first met; ``ord``: the order
they were resolved), how it was matched, and whether its own record created the material.
``load_ids``: per material, the name and public id this file first gives it and whether the load
created, updated, renamed it or changed its search text. ``load_claims``: the (kind, material,
key) claims the file states. ``load_redirects``: public ids that a matched row would have had.

The tables live in the load's transaction: a rollback removes them with everything else, and
``drop`` removes them before a commit (PostgreSQL drops them at the commit in any case).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Exists,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    bindparam,
    case,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import InstrumentedAttribute

from biomatdb.sqlin import in_values

_metadata = MetaData()

names = Table(
    "load_names",
    _metadata,
    Column("key", String, primary_key=True),
    Column("material_id", Integer, nullable=False),
    Column("seen", Integer, nullable=False),
    Column("ord", Integer, nullable=False),
    Column("row", Integer, nullable=False),
    Column("name", String, nullable=False),
    Column("material_class", String),
    Column("matched_by", String),
    Column("record", Integer, nullable=False),  # 1: this key's record created its material
    Index("load_names_material", "material_id"),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
ids = Table(
    "load_ids",
    _metadata,
    Column("material_id", Integer, primary_key=True, autoincrement=False),
    Column("claimed_name", String),
    Column("given_id", String),
    Column("created", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("renamed", Integer, nullable=False, default=0),
    Column("searchable", Integer, nullable=False, default=0),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
claims = Table(
    "load_claims",
    _metadata,
    Column("kind", String, primary_key=True),
    Column("material_id", Integer, primary_key=True, autoincrement=False),
    Column("value_key", String, primary_key=True),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
redirects = Table(
    "load_redirects",
    _metadata,
    Column("public_id", String, primary_key=True),
    Column("material_id", Integer, nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
touched = Table(
    "load_touched",
    _metadata,
    Column("material_id", Integer, primary_key=True, autoincrement=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_TABLES = (names, ids, claims, redirects, touched)
_BATCH = 500
PAGE = 10_000  # materials handed at a time to an end-of-upload step


def insert_into(connection: Connection, table: Table):
    return (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(table)


class LoadState:
    """The TEMP tables of one load, on its connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._seen = 0
        self._ord = 0
        self.drop()  # a table left on a pooled SQLite connection by a load that committed without ``drop``
        for table in _TABLES:
            table.create(connection)

    def drop(self) -> None:
        for table in _TABLES:
            table.drop(self.connection, checkfirst=True)

    # --- per chunk ---------------------------------------------------------------------

    def material_ids(self, keys: Iterable[str]) -> dict[str, int]:
        """name key -> material, for the keys already resolved."""
        found: dict[str, int] = {}
        wanted = list(keys)
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start : start + _BATCH]
            found.update(
                self.connection.execute(
                    select(names.c.key, names.c.material_id).where(in_values(names.c.key, batch))
                ).all()
            )
        return found

    def per_material(self, material_ids: Iterable[int], column: str) -> dict[int, str]:
        """material -> its ``claimed_name`` or ``given_id``, for those that have one."""
        found: dict[int, str] = {}
        wanted = sorted(set(material_ids))
        value = ids.c[column]
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start : start + _BATCH]
            found.update(
                self.connection.execute(
                    select(ids.c.material_id, value).where(in_values(ids.c.material_id, batch), value.is_not(None))
                ).all()
            )
        return found

    def created_among(self, material_ids: Iterable[int]) -> set[int]:
        found: set[int] = set()
        wanted = sorted(set(material_ids))
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start : start + _BATCH]
            found.update(
                self.connection.execute(
                    select(ids.c.material_id).where(in_values(ids.c.material_id, batch), ids.c.created == 1)
                ).scalars()
            )
        return found

    def add_names(
        self,
        seen: list[tuple[str, int, str, str | None]],
        resolved: dict[str, int],
        matched_by: dict[str, str],
        created_by: set[str],
    ) -> None:
        """Keys first met in a chunk: ``seen`` (key, row, name, class) in the order met,
        ``resolved`` key -> material in the order resolved; ``created_by``: keys whose record
        created their material."""
        first = {key: (self._seen + index, row, name, cls) for index, (key, row, name, cls) in enumerate(seen)}
        self._seen += len(seen)
        rows = []
        for index, (key, material_id) in enumerate(resolved.items()):
            seen_at, row, name, material_class = first[key]
            rows.append(
                {
                    "key": key,
                    "material_id": material_id,
                    "seen": seen_at,
                    "ord": self._ord + index,
                    "row": row,
                    "name": name,
                    "material_class": material_class if key in created_by else None,
                    "matched_by": matched_by.get(key),
                    "record": 1 if key in created_by else 0,
                }
            )
        self._ord += len(rows)
        if rows:
            self.connection.execute(names.insert(), rows)

    def add_materials(self, firsts: dict[int, tuple[str, str | None]], created: Iterable[int]) -> None:
        """Materials a chunk resolved: the name and public id the file first gives each (kept
        from the first chunk that gave one), and those the chunk created."""
        created = set(created)
        rows = [
            {
                "material_id": material_id,
                "claimed_name": name,
                "given_id": given,
                "created": 1 if material_id in created else 0,
                "updated": 0,
                "renamed": 0,
                "searchable": 0,
            }
            for material_id, (name, given) in firsts.items()
        ]
        if not rows:
            return
        statement = insert_into(self.connection, ids)
        excluded = statement.excluded
        self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=[ids.c.material_id],
                set_={
                    "claimed_name": func.coalesce(ids.c.claimed_name, excluded.claimed_name),
                    "given_id": func.coalesce(ids.c.given_id, excluded.given_id),
                    "created": case((excluded.created == 1, 1), else_=ids.c.created),
                },
            ),
            rows,
        )

    def mark(self, material_ids: Iterable[int], flag: str, *, unless_created: bool = False) -> None:
        """Set ``flag`` (updated, renamed, searchable) on these materials; ``unless_created``:
        not on those the load created."""
        rows = [
            {
                "material_id": material_id,
                "created": 0,
                "updated": 0,
                "renamed": 0,
                "searchable": 0,
                flag: 1,
            }
            for material_id in sorted(set(material_ids))
        ]
        if not rows:
            return
        statement = insert_into(self.connection, ids)
        value = case((ids.c.created == 1, ids.c[flag]), else_=1) if unless_created else 1
        for start in range(0, len(rows), 5_000):
            self.connection.execute(
                statement.on_conflict_do_update(index_elements=[ids.c.material_id], set_={flag: value}),
                rows[start : start + 5_000],
            )

    def add_claims(self, stated: set[tuple[str, int, str]]) -> None:
        if not stated:
            return
        statement = insert_into(self.connection, claims).on_conflict_do_nothing()
        rows = [{"kind": kind, "material_id": material_id, "value_key": key} for kind, material_id, key in stated]
        for start in range(0, len(rows), 5_000):
            self.connection.execute(statement, rows[start : start + 5_000])

    # --- the end of the upload -----------------------------------------------------------

    def merged(self, into: dict[int, int]) -> None:
        """Merges moved materials ``into`` others: their keys now name the one kept (matched by
        structure unless matched before); they are no longer created, and an updated mark moves
        to the one kept."""
        connection = self.connection
        connection.execute(
            update(names)
            .where(names.c.material_id == bindparam("merged"))
            .values(material_id=bindparam("kept"), matched_by=func.coalesce(names.c.matched_by, "structure")),
            [{"merged": merged, "kept": kept} for merged, kept in into.items()],
        )
        merged_ids = sorted(into)
        moved: set[int] = set()
        for start in range(0, len(merged_ids), _BATCH):
            batch = merged_ids[start : start + _BATCH]
            moved.update(
                into[material_id]
                for material_id in connection.execute(
                    select(ids.c.material_id).where(in_values(ids.c.material_id, batch), ids.c.updated == 1)
                ).scalars()
            )
            connection.execute(update(ids).where(in_values(ids.c.material_id, batch)).values(created=0, updated=0))
        self.mark(moved, "updated")

    def count(self, query: Select) -> int:
        return int(self.connection.execute(select(func.count()).select_from(query.subquery())).scalar_one())

    def fill_touched(self) -> None:
        """Every material the file names and every one the load updated."""
        self.connection.execute(
            touched.insert().from_select(
                ["material_id"],
                select(names.c.material_id).union(select(ids.c.material_id).where(ids.c.updated == 1)),
            )
        )

    def pages(self, query: Select, size: int = PAGE) -> Iterator[list[int]]:
        """The material ids ``query`` selects (one column), ascending, ``size`` at a time, each
        page read whole before it is handed out (the caller may write between pages)."""
        column = query.subquery().c[0]
        after = -1
        while True:
            page = list(
                self.connection.execute(
                    select(column).where(column > after).distinct().order_by(column).limit(size)
                ).scalars()
            )
            if not page:
                return
            yield page
            after = page[-1]

    def flagged(self, *flags: str) -> Select:
        """The ids of materials with any of ``flags``."""
        condition = ids.c[flags[0]] == 1
        for flag in flags[1:]:
            condition = condition | (ids.c[flag] == 1)
        return select(ids.c.material_id).where(condition)

    def updated_not_created(self) -> int:
        return self.count(select(ids.c.material_id).where(ids.c.updated == 1, ids.c.created == 0))

    def in_file(self, material_id: ColumnElement[int] | InstrumentedAttribute[int]) -> Exists:
        """A condition: ``material_id`` is one a key of the file names."""
        return exists().where(names.c.material_id == material_id)


__all__ = ["PAGE", "LoadState", "claims", "ids", "names", "redirects", "touched"]
