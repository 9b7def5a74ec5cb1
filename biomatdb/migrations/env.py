"""Alembic environment: runs on the connection BiomatDB hands it (see biomatdb.db.migrate)."""

from alembic import context
from sqlalchemy import create_engine

from biomatdb.models import Base

config = context.config
target_metadata = Base.metadata


def _transactional_ddl(connection) -> None:
    """Python's sqlite3 opens a transaction only before a data change, so a migration's first
    ALTER TABLE would commit at once and a later refusal could not undo it: begin explicitly."""
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if not driver.in_transaction:
            connection.exec_driver_sql("BEGIN")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _transactional_ddl(connection)
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic: no sqlalchemy.url, and no connection handed over")
    engine = create_engine(url)
    with engine.begin() as connection:
        _transactional_ddl(connection)
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
