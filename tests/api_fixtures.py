"""Fixtures of the API tests: the app over the ``engine`` fixture's database (SQLite and
PostgreSQL), an httpx client through ASGI with the lifespan run, keys per role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import Engine

from biomatdb.apikeys import create_key
from biomatdb.settings import Settings
from biomatdb_ingest.pipeline import ingest_file
from tests.preloaded import preloaded

SEMANTICS_CSV = Path(__file__).parent / "data" / "search_semantics.csv"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def settings_for(engine: Engine, data_dir: Path, **overrides) -> Settings:
    values = {
        "data_dir": data_dir,
        "database_url": engine.url.render_as_string(hide_password=False),
        "rate_limit": None,
        "job_poll_seconds": 0.05,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def api_settings(engine, tmp_path) -> Settings:
    return settings_for(engine, tmp_path / "data")


@preloaded
def semantics(engine: Engine, directory: Path) -> None:
    """The six hand-made materials of ``tests/data/search_semantics.csv``, loaded."""
    report = ingest_file(engine, SEMANTICS_CSV)
    assert report.ok, report.errors


class AppClient(httpx.AsyncClient):
    """An httpx client through ASGI that also holds the app it talks to (``client.app.state``)."""

    def __init__(self, app: FastAPI, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app = app


async def open_client(settings: Settings) -> tuple[LifespanManager, AppClient]:
    from biomatdb_api.app import create_app

    app = create_app(settings)
    manager = LifespanManager(app, startup_timeout=600, shutdown_timeout=600)
    await manager.__aenter__()
    client = AppClient(
        app,
        transport=httpx.ASGITransport(app=manager.app, raise_app_exceptions=False),
        base_url="http://testserver",
    )
    return manager, client


@pytest.fixture
async def api(api_settings, anyio_backend):
    manager, client = await open_client(api_settings)
    try:
        yield client
    finally:
        await client.aclose()
        await manager.__aexit__(None, None, None)


def make_key(engine: Engine, role: str, name: str | None = None) -> str:
    with engine.begin() as connection:
        return create_key(connection, name=name or f"test-{role}", role=role)[1]


@pytest.fixture
def keys(engine) -> dict[str, dict[str, str]]:
    """Authorization headers per role."""
    return {role: {"Authorization": f"Bearer {make_key(engine, role)}"} for role in ("reader", "curator", "admin")}
