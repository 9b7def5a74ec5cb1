"""Shared fixtures: engines on SQLite and on a real PostgreSQL, and small file writers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from biomatdb.db import make_engine, migrate
from biomatdb.models import Base
from tests import profiles

pytest_plugins = ["tests.postgres", "tests.cores", "tests.preloaded", "tests.api_fixtures", "tests.ui_fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    """Load the hypothesis profile for this run (``tests/profiles.py``): the lane's lighter one when
    ``-m`` leaves out slow tests, the full one otherwise."""
    profiles.load(config.option.markexpr or "")


# Fixtures that mean a test needs PostgreSQL or Chromium: the tests asking for them are
# marked ``postgres`` or ``browser`` so that ``-m`` can choose (CI runs everything).
POSTGRES_FIXTURES = {
    "pg_server",
    "pg_engine",
    "pg_url",
    "pg_replicated",
    "replicated_core",
    "fixtures_postgresql",
    "copy_fixtures_postgresql",
}
BROWSER_FIXTURES = {"chromium_path", "browser"}
# Fixtures slow by nature: every fixture of fixtures/ loaded through the pipeline (tens of
# seconds per backend and xdist worker), a second PostgreSQL cluster with a streaming standby.
# The tests asking for them are marked ``slow``: CI runs them, the fast lane does not.
SLOW_FIXTURES = {"fixtures_sqlite", "fixtures_postgresql", "pg_replicated"}


def _uses_postgresql(item: pytest.Item) -> bool:
    if POSTGRES_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    return _twin_on_postgresql(item)


def _twin_on_postgresql(item: pytest.Item) -> bool:
    """Whether the test is the PostgreSQL twin of a test parametrised over the backends (``engine``,
    ``module_engine``…).

    Such twins are ``slow`` as well: the fast lane runs the SQLite twin and the tests written for
    PostgreSQL alone; CI runs both twins of everything."""
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "postgresql" in callspec.params.values()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _uses_postgresql(item):
            item.add_marker(pytest.mark.postgres)
        fixturenames = set(getattr(item, "fixturenames", ()))
        if BROWSER_FIXTURES & fixturenames:
            item.add_marker(pytest.mark.browser)
        if SLOW_FIXTURES & fixturenames or _twin_on_postgresql(item):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite core migrated once per session (per xdist worker), never written to after: running
    Alembic's 21 migrations for every test cost ~0.15 s of CPU each, a copy ~0.01 s."""
    path = tmp_path_factory.mktemp("migrated-core") / "core.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return path


@pytest.fixture
def sqlite_engine(request, tmp_path, tmp_path_factory, migrated_sqlite) -> Iterator[Engine]:
    """A fresh migrated SQLite core of the test's own, copied from the session's ``migrated_sqlite``
    (or from a core with the test's ``@preloaded`` data loaded: ``tests/preloaded.py``)."""
    from tests.cores import copy_sqlite  # plugins (pytest_plugins): imported by pytest first
    from tests.preloaded import preloads, sqlite_template

    source = migrated_sqlite
    if names := preloads(request):
        source = sqlite_template(migrated_sqlite, names, tmp_path_factory)
    engine = make_engine(f"sqlite:///{copy_sqlite(source, tmp_path / 'core.sqlite')}")
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


@pytest.fixture(autouse=True)
def _issue_codes_are_catalogued():
    """Every issue an ingest records during a test has a code of ``ingest/biomatdb_ingest/issues.toml``
    (its severity is the catalogue's alone: ``biomatdb_ingest.codes``)."""
    yield
    from biomatdb_ingest import codes

    uncatalogued = sorted(codes.UNCATALOGUED)
    codes.UNCATALOGUED.clear()
    assert not uncatalogued, f"issue codes missing from ingest/biomatdb_ingest/issues.toml: {uncatalogued}"
