"""A PostgreSQL server for one benchmark run: Debian's ``postgresql``, started as the test suite starts it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def postgres_database(dbname: str) -> Iterator[str]:
    """The URL of a new, empty database ``dbname`` on a cluster started for the run, stopped after."""
    from sqlalchemy import create_engine, text

    from tests.postgres import SUPERUSER, database_url, ensure_pg_bin, start_cluster

    cluster = start_cluster(ensure_pg_bin())
    try:
        server = cluster.server
        admin = database_url(host=server.host, port=server.port, user=SUPERUSER, dbname="postgres")
        maker = create_engine(admin, isolation_level="AUTOCOMMIT")
        with maker.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{dbname}"'))
        maker.dispose()
        yield database_url(host=server.host, port=server.port, user=SUPERUSER, dbname=dbname)
    finally:
        cluster.stop()
