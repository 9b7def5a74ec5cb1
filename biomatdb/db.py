"""Engines, sessions and schema migrations for the relational core."""

from __future__ import annotations

import secrets
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, text, update
from sqlalchemy.engine import make_url

from biomatdb import models
from biomatdb.vocabulary import get_vocabulary

T = TypeVar("T")

# Connections each engine may hold: the API runs sync routes on anyio's 40 worker threads,
# and a request that finds the pool empty waits, then answers 503 (biomatdb_api.problems); the default
# 5 + 10 answered 500 to the 16th of 16 concurrent slow searches.
POOL_SIZE = 10
POOL_OVERFLOW = 40


def make_engine(url: str, *, search_outbox: bool = True, **kwargs) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout. With
    ``search_outbox`` false its writes record nothing in the search outbox (``biomatdb.outbox``:
    no Elasticsearch is configured)."""
    from biomatdb.outbox import OUTBOX_OPTION

    parsed = make_url(url)
    kwargs["execution_options"] = {OUTBOX_OPTION: search_outbox, **kwargs.get("execution_options", {})}
    if parsed.database not in (None, "", ":memory:"):
        kwargs = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, **kwargs}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30, **kwargs.get("connect_args", {})}
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_driver_name() == "psycopg":
        # no server-side prepared statements: PostgreSQL would keep a generic plan made while a
        # table was small (a sequential scan) for a whole load, as the table grows in it; batched
        # look-ups by an indexed column then grew with the table (162 ms each at 30,000
        # materials, against 30 ms at 10,000)
        kwargs["connect_args"] = {"prepare_threshold": None, **kwargs.get("connect_args", {})}
    return create_engine(url, pool_pre_ping=True, **kwargs)


#: SQLSTATEs of a PostgreSQL server that is away rather than of a statement that is wrong:
#: connection exceptions (class 08), too many connections, and a server shutting down, starting
#: up or crashed (57P01-57P03); a cancelled statement (57014) is not among them.
UNREACHABLE_SQLSTATES = ("08", "53300", "57P01", "57P02", "57P03")


def database_unreachable(error: BaseException) -> bool:
    """Whether a driver error says the database cannot be reached (refused, lost, shutting down,
    full of connections), as against an error of the statement. One rule for the API (a 503 with
    Retry-After), ``/ready`` and the workers (one line per outage, then backoff)."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    orig = error.orig
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    if not isinstance(orig, psycopg.OperationalError):
        return False
    state = getattr(orig, "sqlstate", None)
    return state is None or state.startswith(UNREACHABLE_SQLSTATES)  # None: refused before any answer


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


#: SQLite's page cache (KiB) while one load writes: the default 2 MiB holds a sliver of the three
#: measurement indexes, so that every insert re-reads index pages from the OS; the cache is
#: allocated as pages are read and freed when the load ends (``bulk_write``).
LOAD_CACHE_KIB = 131_072


def driver_connection(connection: Connection) -> Any:
    """The driver's own connection under ``connection`` (sqlite3's or psycopg's), for what goes
    past SQLAlchemy: ``COPY``, SQLite's limits and PRAGMAs outside a transaction."""
    driver = connection.connection.driver_connection
    if driver is None:  # SQLAlchemy's DBAPI connection has none once it is invalidated
        raise RuntimeError("the connection has no driver connection: it was invalidated")
    return driver


@contextmanager
def bulk_write(connection: Connection) -> Iterator[None]:
    """The settings one load's write transaction runs with, restored after it: on SQLite a page
    cache of ``LOAD_CACHE_KIB``. Nothing changes on PostgreSQL, whose buffers are the server's."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = driver_connection(connection)  # on the driver: SQLAlchemy would begin a transaction
    (before,) = driver.execute("PRAGMA cache_size").fetchone()
    driver.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {int(before)}")


def alembic_config(engine: Engine | None = None):
    from alembic.config import Config  # imported here: a command that finds the schema current never needs it

    config = Config()
    config.set_main_option("script_location", str(resources.files("biomatdb").joinpath("migrations")))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def head_revision() -> str:
    """The newest migration's revision, from the migration files' names (``0007_…``): the
    revisions are numbered in one line, so that this needs no import of Alembic."""
    names = [
        entry.name
        for entry in resources.files("biomatdb").joinpath("migrations", "versions").iterdir()
        if entry.name[:4].isdigit() and entry.name.endswith(".py")
    ]
    return max(names)[:4]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:  # no table yet: a new database
            return None


def unreadable_schema(url: str) -> str | None:
    """Why a command that only reads cannot use the database at ``url`` as it is, or None when
    it can: an SQLite file that does not exist (or is empty), a database without BiomatDB's
    schema, or one at another schema revision than this code's. Nothing is created: this is asked
    before an engine would make the file."""
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        if not path.is_file() or path.stat().st_size == 0:
            return f"there is no database at {path} yet"
    from sqlalchemy.exc import OperationalError

    engine = make_engine(url)
    try:
        found = current_revision(engine)
    except OperationalError as exc:  # the server is away, or the database does not exist on it
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        return f"cannot reach the database at {shown}: {reason}"
    finally:
        engine.dispose()
    if found is None:
        return f"the database at {shown} has no BiomatDB schema"
    head = head_revision()
    if found != head:
        newer = "an older" if found < head else "a newer"
        return f"the database at {shown} is at schema revision {found}, written by {newer} BiomatDB (this one reads {head})"
    return None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration and the properties table in step with the
    vocabulary; a core already current is only read (no write transaction, no Alembic)."""
    if current_revision(engine) != head_revision():
        from alembic import command

        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    with engine.connect() as connection:
        if vocabulary_differs(connection):
            connection.rollback()
            with engine.begin() as writing:
                sync_vocabulary(writing)


def _vocabulary_rows() -> dict[str, tuple]:
    return {prop.key: (prop.name, prop.category, prop.unit, prop.kind) for prop in get_vocabulary().properties.values()}


def vocabulary_differs(connection) -> bool:
    """Whether the properties table lacks a vocabulary property or holds one differently."""
    table = models.Property.__table__
    stored = {
        row.key: (row.name, row.category, row.unit, row.kind)
        for row in connection.execute(select(table.c.key, table.c.name, table.c.category, table.c.unit, table.c.kind))
    }
    return any(stored.get(key) != row for key, row in _vocabulary_rows().items())


def sync_vocabulary(connection) -> None:
    """Upsert every vocabulary property into the ``properties`` table (never deletes: data may use it)."""
    table = models.Property.__table__
    stored = {
        row.key: (row.name, row.category, row.unit, row.kind)
        for row in connection.execute(select(table.c.key, table.c.name, table.c.category, table.c.unit, table.c.kind))
    }
    for key, (name, category, unit, kind) in _vocabulary_rows().items():
        row = {"name": name, "category": category, "unit": unit, "kind": kind}
        if key not in stored:
            connection.execute(insert(models.Property).values(key=key, **row))
        elif stored[key] != (name, category, unit, kind):
            connection.execute(update(models.Property).where(models.Property.key == key).values(**row))


def bump_generation(connection) -> None:
    """Move the core's generation on, inside the transaction that changes its materials, by a
    random step: what is derived from the core (search, facet, chemistry indexes) is kept per
    generation and compared by equality, and a core restored from a backup and then changed
    again must not reach a number that an index of the lost state was built at (counting by one,
    it did: a search then answered from the old core)."""
    state = models.CoreState
    step = 1 + secrets.randbelow(2**24)  # small enough that 2^30 changes fit a search version's 53 bits
    connection.execute(update(state).where(state.id == 1).values(generation=state.generation + step))


def read_snapshot(connection: Connection) -> Connection:
    """Make every read that follows on ``connection`` see one state of the core, whatever commits
    meanwhile: SQLite reads outside a transaction each see the newest state (the driver begins
    none for a SELECT), so a deferred transaction is begun; PostgreSQL's default, READ COMMITTED,
    does the same per statement, so the transaction is REPEATABLE READ. Call it before the first
    statement; the connection's rollback or close ends it."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")
    elif connection.dialect.name == "postgresql":
        connection.execution_options(isolation_level="REPEATABLE READ")
    return connection


def core_generation(connection) -> int:
    """The core's generation: one primary-key read."""
    state = models.CoreState.__table__
    return connection.execute(select(state.c.generation).where(state.c.id == 1)).scalar()


class PerGeneration(Generic[T]):
    """A value derived from the core, one per engine (gone with it), rebuilt by ``build(connection)``
    when the core's generation has moved since it was made. The generation is read on the
    caller's connection and the value built on it, so that the two agree."""

    def __init__(self, build: Callable[[Connection], T]) -> None:
        self._build = build
        self._values: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, engine: Engine, connection: Connection) -> T:
        generation = core_generation(connection)
        with self._lock:
            cached = self._values.get(engine)
            if cached is not None and cached[0] == generation:
                return cached[1]
            value = self._build(connection)
            self._values[engine] = (generation, value)
            return value
