"""Shared fixtures: engines on SQLite and on a real PostgreSQL, and small file writers."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from biomatdb.db import make_engine, migrate
from biomatdb.models import Base

pytest_plugins = ["tests.postgres", "tests.api_fixtures", "tests.ui_fixtures"]


@pytest.fixture
def sqlite_engine(tmp_path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'core.sqlite'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request) -> Engine:
    """The same test on both relational backends."""
    return request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: equal snapshots mean an unchanged database."""
    tables = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(select(table)).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables
