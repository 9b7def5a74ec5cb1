"""Cores holding every fixture, loaded through the pipeline once per test session and
copied for each test module that wants one, instead of being loaded again by each.

- ``fixtures_sqlite``: a SQLite file with ``fixtures/`` loaded, and the load's reports;
  ``copy_fixtures_sqlite(path)`` makes an independent copy (SQLite's backup API, so the
  write-ahead log comes along).
- ``fixtures_postgresql``: a PostgreSQL database with the same load, kept as a template;
  ``copy_fixtures_postgresql(name)`` clones it with ``CREATE DATABASE … TEMPLATE``.

Under pytest-xdist each worker is its own session and builds its own copy once.

Registered as a plugin from ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from biomatdb.db import make_engine, migrate
from biomatdb_ingest.fixtures import default_fixtures_dir, load_fixtures
from biomatdb_ingest.report import Report
from tests.postgres import PostgresServer, admin_connection, cloned_database

FIXTURES_TEMPLATE_DB = "biomatdb_fixtures_loaded"


@dataclass(frozen=True)
class LoadedCore:
    """Where a loaded core lives, what loading it reported, and how long it took."""

    location: str
    reports: list[tuple[Path, Report]]
    seconds: float


def _load_all(engine: Engine) -> tuple[list[tuple[Path, Report]], float]:
    started = time.perf_counter()
    reports = load_fixtures(engine, default_fixtures_dir())
    return reports, time.perf_counter() - started


def copy_sqlite(source: Path, target: Path) -> Path:
    """An independent copy of a SQLite database, write-ahead log included."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return target


@pytest.fixture(scope="session")
def fixtures_sqlite(tmp_path_factory) -> LoadedCore:
    """A SQLite file with every fixture loaded once; never written to after that."""
    path = tmp_path_factory.mktemp("fixtures-core") / "core.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
        reports, seconds = _load_all(engine)
    finally:
        engine.dispose()
    return LoadedCore(str(path), reports, seconds)


@pytest.fixture(scope="session")
def copy_fixtures_sqlite(fixtures_sqlite: LoadedCore) -> Callable[[Path], Engine]:
    """``copy(path)``: an engine on a fresh copy of the loaded SQLite core at ``path``."""

    def copy(target: Path) -> Engine:
        return make_engine(f"sqlite:///{copy_sqlite(Path(fixtures_sqlite.location), target)}")

    return copy


@pytest.fixture(scope="session")
def fixtures_postgresql(pg_server: PostgresServer) -> LoadedCore:
    """A PostgreSQL database with every fixture loaded once, then left alone as a template
    (no connection stays open on it, which ``CREATE DATABASE … TEMPLATE`` requires)."""
    with admin_connection(pg_server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{FIXTURES_TEMPLATE_DB}"')
        admin.execute(f'CREATE DATABASE "{FIXTURES_TEMPLATE_DB}"')
    engine = make_engine(pg_server.url(FIXTURES_TEMPLATE_DB))
    try:
        migrate(engine)
        reports, seconds = _load_all(engine)
    finally:
        engine.dispose()
    return LoadedCore(FIXTURES_TEMPLATE_DB, reports, seconds)


@pytest.fixture(scope="session")
def copy_fixtures_postgresql(pg_server: PostgresServer, fixtures_postgresql: LoadedCore):
    """``with copy(name) as engine``: a clone of the loaded PostgreSQL core, dropped afterwards."""

    def copy(dbname: str) -> contextlib.AbstractContextManager[Engine]:
        return cloned_database(pg_server, template=fixtures_postgresql.location, dbname=dbname)

    return copy
