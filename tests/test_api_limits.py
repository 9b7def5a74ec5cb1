"""Limits and conventions: rate limit, body size, CORS, offline docs, errors never leak."""

from __future__ import annotations

import pytest

from biomatdb_api.ui.routes import PLOTLY_URL
from tests.api_fixtures import open_client, settings_for

pytestmark = pytest.mark.anyio


async def client_with(engine, tmp_path, **overrides):
    return await open_client(settings_for(engine, tmp_path / "data", **overrides))


async def test_public_routes_are_rate_limited_per_client(engine, tmp_path, keys, anyio_backend):
    manager, api = await client_with(engine, tmp_path, rate_limit="3/minute")
    try:
        answers = [await api.get("/api/v1/properties") for _ in range(4)]
        with_key = await api.get("/api/v1/properties", headers=keys["reader"])  # a key is its own client
        health = await api.get("/health")  # not a public data route
    finally:
        await api.aclose()
        await manager.__aexit__(None, None, None)
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["type"] == "urn:biomatdb:problem:rate-limited"
    assert with_key.status_code == 200 and health.status_code == 200


async def test_request_bodies_are_limited(engine, tmp_path, anyio_backend):
    manager, api = await client_with(engine, tmp_path, request_max_bytes=100)
    try:
        declared = await api.post("/api/v1/search", json={"text": "x" * 200})

        async def chunks():
            yield b'{"text": "'
            yield b"x" * 200
            yield b'"}'

        streamed = await api.post("/api/v1/search", content=chunks(), headers={"Content-Type": "application/json"})
        small = await api.post("/api/v1/search", json={"text": "x"})
    finally:
        await api.aclose()
        await manager.__aexit__(None, None, None)
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
    assert small.status_code == 200


async def test_cors_only_for_configured_origins(engine, tmp_path, anyio_backend):
    manager, api = await client_with(engine, tmp_path, cors_origins=["https://lab.example"])
    try:
        allowed = await api.get("/api/v1/classes", headers={"Origin": "https://lab.example"})
        other = await api.get("/api/v1/classes", headers={"Origin": "https://elsewhere.example"})
    finally:
        await api.aclose()
        await manager.__aexit__(None, None, None)
    assert allowed.headers["access-control-allow-origin"] == "https://lab.example"
    assert "access-control-allow-origin" not in other.headers


async def test_docs_work_offline(api):
    page = await api.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for asset in ("/static-offline-docs/swagger-ui-bundle.js", "/static-offline-docs/swagger-ui.css"):
        assert (await api.get(asset)).status_code == 200
    assert (await api.get("/openapi.json")).json()["info"]["title"] == "BiomatDB"


async def test_unknown_routes_and_methods_are_problems(api):
    missing = await api.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    method = await api.put("/api/v1/materials")
    assert method.status_code == 405 and method.headers["content-type"] == "application/problem+json"


async def test_an_unexpected_error_is_a_bare_500(api, monkeypatch):
    def broken(query):
        raise RuntimeError("secret internals at /srv/biomatdb")

    monkeypatch.setattr(api.app.state.search, "search", broken)
    response = await api.get("/api/v1/materials")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret" not in response.text and "Traceback" not in response.text


async def test_ui_routes_are_rate_limited_like_the_api(engine, tmp_path, anyio_backend):
    """The UI answered 200 after the API had answered 429: pages share the client's limit."""
    manager, api = await client_with(engine, tmp_path, rate_limit="3/minute")
    try:
        answers = [
            (await api.get(path)).status_code
            for path in ("/api/v1/properties", "/?q=poly", "/ui/ashby.json", "/about", "/ui/ashby.json")
        ]
        asset = await api.get(PLOTLY_URL)
    finally:
        await api.aclose()
        await manager.__aexit__(None, None, None)
    assert answers == [200, 200, 200, 429, 429]
    assert asset.status_code == 200  # static assets are not counted


async def test_an_exhausted_connection_pool_is_a_503_not_a_500(engine, tmp_path, anyio_backend):
    """16 concurrent slow searches took the 15 pooled connections and the 16th answered 500."""
    from biomatdb.db import make_engine

    manager, api = await client_with(engine, tmp_path)
    tight = make_engine(engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0, pool_timeout=0.2)
    held = tight.connect()
    try:
        api.app.state.engine = api.app.state.read_engine = tight  # /datasets reads on the read engine
        busy = await api.get("/api/v1/datasets")
    finally:
        held.close()
        tight.dispose()
        await api.aclose()
        await manager.__aexit__(None, None, None)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
    assert busy.json()["type"] == "urn:biomatdb:problem:busy"


async def test_a_write_behind_a_long_ingest_is_a_503_to_retry_not_a_500(tmp_path, anyio_backend):
    """On SQLite a second upload during an ingest waited out the busy timeout and answered 500."""
    import sqlite3

    from biomatdb.db import make_engine, migrate
    from tests.test_api_datasets import upload_form

    engine = make_engine(f"sqlite:///{tmp_path / 'core.sqlite'}")
    migrate(engine)
    from tests.api_fixtures import make_key

    key = make_key(engine, "curator")
    manager, api = await client_with(engine, tmp_path)
    writer = sqlite3.connect(tmp_path / "core.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # as an ingest holds it
    try:
        from sqlalchemy import create_engine

        api.app.state.engine = create_engine(f"sqlite:///{tmp_path / 'core.sqlite'}", connect_args={"timeout": 0.2})
        busy = await api.post(
            "/api/v1/datasets", headers={"Authorization": f"Bearer {key}"}, **upload_form(name="second")
        )
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        await api.aclose()
        await manager.__aexit__(None, None, None)
    assert busy.status_code == 503, busy.text
    assert busy.json()["type"] == "urn:biomatdb:problem:busy" and busy.headers["retry-after"] == "30"
    assert not any((tmp_path / "data" / "uploads").glob("*/*"))  # the refused upload's file is gone
