"""Engines, sessions and schema migrations for the relational core."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from biomatdb import models
from biomatdb.vocabulary import get_vocabulary


# Connections each engine may hold: the API runs sync routes on anyio's 40 worker threads,
# and a request that finds the pool empty waits, then answers 503 (api.problems); the default
# 5 + 10 answered 500 to the 16th of 16 concurrent slow searches.
POOL_SIZE = 10
POOL_OVERFLOW = 40


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout."""
    parsed = make_url(url)
    if parsed.database not in (None, "", ":memory:"):
        kwargs = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, **kwargs}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("biomatdb").joinpath("migrations")))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration and the properties table in step with the vocabulary."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with engine.begin() as connection:
        sync_vocabulary(connection)


def sync_vocabulary(connection) -> None:
    """Upsert every vocabulary property into the ``properties`` table (never deletes: data may use it)."""
    table = models.Property.__table__
    existing = set(connection.scalars(select(table.c.key)))
    for prop in get_vocabulary().properties.values():
        row = {"name": prop.name, "category": prop.category, "unit": prop.unit, "kind": prop.kind}
        if prop.key in existing:
            connection.execute(update(table).where(table.c.key == prop.key).values(**row))
        else:
            connection.execute(insert(table).values(key=prop.key, **row))


def bump_generation(connection) -> None:
    """Move the core's generation on, inside the transaction that changes its materials."""
    state = models.CoreState.__table__
    connection.execute(update(state).where(state.c.id == 1).values(generation=state.c.generation + 1))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
