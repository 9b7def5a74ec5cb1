"""Small data sets loaded once per session and copied for each test that asks for them.

Many tests load the same few rows before they ask anything: ``semantics`` (six materials),
``evidence_core``, ``derived_core``… Loading them through the pipeline cost 0.3–1 s of CPU in
every such test, where a copy of the loaded database costs about 0.01 s (SQLite) or a clone
0.02–0.2 s (PostgreSQL).

``@preloaded`` turns a loader ``load(engine, directory)`` into a fixture of the loader's name
that returns the test's ``engine``. A test that asks for such a fixture gets, as its
``sqlite_engine`` or ``pg_engine`` (and so as ``engine``), a copy of a core with the loader
already applied instead of a copy of the empty migrated one: built the first time a test of the
session (of the xdist worker) needs it, by the same pipeline, and never written to after. Several
preloaded fixtures in one test are applied in the order of the test's fixture closure.

A loader must give the same rows each time it runs (ids included); the only difference from a
load inside the test is the time stamps, which are the template's. ``directory`` is the
loader's own, for files it writes.

Registered as a plugin from ``tests/conftest.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from biomatdb.db import make_engine

Loader = Callable[[Engine, Path], object]

LOADERS: dict[str, Loader] = {}
_SQLITE_TEMPLATES: dict[tuple[str, tuple[str, ...]], Path] = {}
_POSTGRESQL_TEMPLATES: dict[tuple[int, str, tuple[str, ...]], str] = {}


def preloaded(load: Loader | None = None, *, engine: str = "engine"):
    """The fixture ``load.__name__``: the test's ``engine`` (or, with ``engine="sqlite_engine"``,
    its ``sqlite_engine``), on a copy of a core that ``load`` filled."""
    if load is None:
        return lambda load: preloaded(load, engine=engine)
    name = load.__name__
    known = LOADERS.get(name)
    if known is not None and (known.__module__, known.__qualname__) != (load.__module__, load.__qualname__):
        raise RuntimeError(f"two preloaded cores are called {name!r}: {known.__module__} and {load.__module__}")
    LOADERS[name] = load

    if engine == "engine":

        def fixture(engine: Engine) -> Engine:
            return engine

    elif engine == "sqlite_engine":

        def fixture(sqlite_engine: Engine) -> Engine:  # type: ignore[misc]
            return sqlite_engine

    else:
        raise ValueError(f"a preloaded core is on engine or sqlite_engine, not {engine!r}")
    fixture.__doc__ = load.__doc__
    fixture.__preloaded__ = name  # type: ignore[attr-defined]
    return pytest.fixture(name=name)(fixture)


def preloads(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """The preloaded fixtures the requesting test uses, in the order of its fixture closure.

    A name counts only where the fixture in effect for the test is the preloaded one: another
    module's own fixture of the same name (a plain ``loaded``) loads nothing in advance."""
    definitions = request._pyfuncitem._fixtureinfo.name2fixturedefs
    return tuple(
        name
        for name in request.fixturenames
        if name in LOADERS
        and name in definitions
        and getattr(definitions[name][-1].func, "__preloaded__", None) == name
    )


def _apply(engine: Engine, names: tuple[str, ...], directory: Path) -> None:
    try:
        for name in names:
            place = directory / name
            place.mkdir(parents=True, exist_ok=True)
            LOADERS[name](engine, place)
    finally:
        engine.dispose()


def sqlite_template(base: Path, names: tuple[str, ...], factory: pytest.TempPathFactory) -> Path:
    """A SQLite core copied from ``base`` with ``names`` loaded: built once, then only read."""
    from tests.cores import copy_sqlite

    key = (str(base), names)
    if key not in _SQLITE_TEMPLATES:
        directory = factory.mktemp("preloaded-" + "-".join(names))
        path = copy_sqlite(base, directory / "core.sqlite")
        _apply(make_engine(f"sqlite:///{path}"), names, directory)
        _SQLITE_TEMPLATES[key] = path
    return _SQLITE_TEMPLATES[key]


def postgresql_template(server, admin, schema_template: str, names: tuple[str, ...], factory) -> str:
    """A PostgreSQL template database cloned from ``schema_template`` with ``names`` loaded;
    no connection stays open on it, as a clone requires."""
    key = (server.port, schema_template, names)
    if key not in _POSTGRESQL_TEMPLATES:
        dbname = ("preloaded_" + re.sub(r"[^a-z0-9_]", "_", "_".join(names).lower()))[:63]
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{schema_template}" STRATEGY file_copy')
        try:
            _apply(make_engine(server.url(dbname)), names, factory.mktemp("preloaded-pg-" + "-".join(names)))
        except BaseException:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            raise
        _POSTGRESQL_TEMPLATES[key] = dbname
    return _POSTGRESQL_TEMPLATES[key]
