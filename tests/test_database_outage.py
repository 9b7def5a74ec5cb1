"""A database that goes away under running processes, on real PostgreSQL servers: the API answers
503 with Retry-After on every route that needs it (API and UI), ``/ready`` reports each database
for itself, and a job worker logs one line per outage and backs off. A worker stopped by a
shutdown puts its job back in the queue."""

from __future__ import annotations

import logging
import threading
import time

import anyio
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from biomatdb.apikeys import create_key
from biomatdb.db import database_unreachable, make_engine, migrate
from biomatdb.models import Job
from biomatdb_api.jobs import JobWorker, enqueue, new_job_id, upload_dir
from tests.api_fixtures import make_key, open_client, settings_for
from tests.postgres import admin_connection, ensure_pg_bin, free_port, start_cluster

pytestmark = pytest.mark.anyio


def nowhere_url() -> str:
    """A PostgreSQL URL on a loopback port nothing listens on: a server that is down."""
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/biomatdb"


def test_a_refused_connection_is_unreachable_and_a_bad_statement_is_not(pg_engine):
    from sqlalchemy import text

    engine = make_engine(nowhere_url())
    try:
        with pytest.raises(OperationalError) as refused:
            engine.connect()
    finally:
        engine.dispose()
    assert database_unreachable(refused.value)
    with pytest.raises(ProgrammingError) as wrong, pg_engine.connect() as connection:
        connection.execute(text("SELECT * FROM no_such_table"))
    assert not database_unreachable(wrong.value)


async def test_a_read_replica_that_is_away_is_503_with_retry_after_on_api_and_ui(pg_engine, tmp_path, anyio_backend):
    settings = settings_for(pg_engine, tmp_path / "data", database_read_url=nowhere_url())
    manager, client = await open_client(settings)
    try:
        answers = {
            path: await client.get(path, params=params)
            for path, params in [("/api/v1/materials", {"q": "PLLA"}), ("/", {"q": "PLLA"})]
        }
        ready = await client.get("/ready")
    finally:
        await client.aclose()
        await manager.__aexit__(None, None, None)
    for path, response in answers.items():
        assert response.status_code == 503, (path, response.text)
        assert response.headers["retry-after"].isdigit(), path
        assert response.json()["type"] == "urn:biomatdb:problem:database-unavailable", path
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["database_read"].startswith("unreachable")


@pytest.fixture
def own_primary():
    """A primary of this test's own, migrated, that the test may stop."""
    cluster = start_cluster(ensure_pg_bin())
    try:
        with admin_connection(cluster.server) as admin:
            admin.execute('CREATE DATABASE "outage"')
        engine = make_engine(cluster.server.url("outage"))
        migrate(engine)
        yield cluster, engine
        engine.dispose()
    finally:
        cluster.stop()


async def test_ready_reports_each_database_for_itself_when_the_primary_is_away(
    own_primary, replicated_core, tmp_path, anyio_backend
):
    cluster, primary = own_primary
    settings = settings_for(primary, tmp_path / "data", database_read_url=replicated_core.standby_url)
    headers = {"Authorization": f"Bearer {make_key(primary, 'curator')}"}
    manager, client = await open_client(settings)
    try:
        cluster.halt()
        primary.dispose()
        ready = await client.get("/ready")
        search = await client.get("/api/v1/materials", params={"q": "PLLA"})
        keyed = await client.post(
            "/api/v1/datasets",
            headers=headers,
            data={"name": "outage"},
            files={"file": ("outage.csv", b"Material,Property,Value,Unit\nX,density,1,g/cm3\n", "text/csv")},
        )
    finally:
        await client.aclose()
        with anyio.fail_after(600):
            await manager.__aexit__(None, None, None)
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"].startswith("unreachable") and checks["database_read"] == "ok", checks
    assert search.status_code == 200, search.text  # the standby still answers searches
    assert keyed.status_code == 503 and keyed.headers["retry-after"].isdigit(), keyed.text
    assert keyed.json()["type"] == "urn:biomatdb:problem:database-unavailable"


@pytest.mark.slow
def test_a_job_worker_logs_one_line_per_outage_and_backs_off(tmp_path, caplog):
    engine = make_engine(nowhere_url())
    settings = settings_for(engine, tmp_path / "data", job_poll_seconds=0.01, job_workers=2)
    attempts = []

    from sqlalchemy import event

    event.listen(engine, "do_connect", lambda *args: attempts.append(time.monotonic()))
    worker = JobWorker(settings, engine)
    with caplog.at_level(logging.WARNING, logger="biomatdb.api.jobs"):
        worker.start()  # the database away at start is no reason to stop
        stopped = threading.Event()
        stopped.wait(1.5)
        worker.stop()
    engine.dispose()
    records = [r for r in caplog.records if r.name == "biomatdb.api.jobs"]
    assert [r.levelname for r in records] == ["WARNING"], [r.getMessage() for r in records]
    assert "cannot be reached" in records[0].getMessage() and records[0].exc_info is None
    # two threads polling every 0.01 s would try some 300 times in 1.5 s; doubling waits, about 16
    assert 3 <= len(attempts) <= 40, len(attempts)


BIG_ROWS = 4_000


@pytest.mark.slow  # tens of seconds of CPU: CI runs it, the fast lane does not
def test_a_job_stopped_by_a_shutdown_is_queued_again_and_the_next_worker_runs_it(sqlite_engine, tmp_path):
    settings = settings_for(sqlite_engine, tmp_path / "data", job_poll_seconds=0.05, ingest_chunk_rows=200)
    job_id = new_job_id()
    path = upload_dir(settings, job_id) / "big.csv"
    path.parent.mkdir(parents=True)
    path.write_text(
        "Material,Class,Property,Value,Unit\n"
        + "".join(f"Stopmat {i % 20},polymer,tensile strength,{10 + i},MPa\n" for i in range(BIG_ROWS)),
        encoding="utf-8",
    )
    with sqlite_engine.begin() as connection:
        key, _ = create_key(connection, name="stopping", role="curator")
    enqueue(
        sqlite_engine,
        job_id=job_id,
        dataset="big",
        filename="big.csv",
        path=path,
        options={},
        created_by="stopping",
        created_by_key_id=key["id"],
    )

    def job():
        with sqlite_engine.connect() as connection:
            return connection.execute(select(Job).where(Job.public_id == job_id)).one()

    first = JobWorker(settings, sqlite_engine)
    first.start()
    deadline = time.monotonic() + 600  # a bound on a hang, not a timing
    while not (job().status == "running" and first.progress.get(job_id)):
        assert job().status in ("queued", "running") and time.monotonic() < deadline, (job().error, job().report)
        time.sleep(0.02)
    first.stop()  # what SIGTERM does to `biomatdb worker`
    stopped = job()
    assert (stopped.status, stopped.worker, stopped.error) == ("queued", None, None), stopped
    assert path.exists()  # the upload is kept for the next run

    second = JobWorker(settings, sqlite_engine)
    second.start()
    try:
        while job().status in ("queued", "running"):
            assert time.monotonic() < deadline + 240, job()
            time.sleep(0.05)
        # the outcome is written first, then the upload removed (a crash between the two leaves a
        # file, never a job without its outcome): wait for the removal before stopping the worker
        while path.exists() and job().status == "succeeded":
            assert time.monotonic() < deadline + 240, job()
            time.sleep(0.05)
    finally:
        second.stop()
    done = job()
    assert done.status == "succeeded", (done.error, done.report)
    assert done.rows_done == BIG_ROWS and not path.exists()
