"""Many users at once, on SQLite and PostgreSQL: searches answer while an upload is being
written and see none of it until it commits; another writer waits its turn instead of failing;
on PostgreSQL, uploads of different datasets run in parallel."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from benchmarks.generate import write_long
from biomatdb.db import make_engine
from biomatdb.models import Dataset, Job, Measurement, utcnow
from biomatdb_ingest.pipeline import ingest_file
from biomatdb_search.backends.sql import SqlBackend
from biomatdb_search.model import Query
from biomatdb_search.parser import parse_filter
from tests.api_fixtures import make_key, open_client, settings_for
from tests.test_crash_consistency import _writing

ROWS = 40_000


def _count(engine, dataset: str) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(Measurement).join(Dataset).where(Dataset.name == dataset)
        ).scalar()


@pytest.mark.slow
def test_searches_answer_during_the_write_and_see_nothing_of_it_until_commit(engine, tmp_path):
    first = tmp_path / "first.csv"
    write_long(first, 2_000, seed=1)
    assert ingest_file(engine, first).loaded
    big = tmp_path / "big.csv"
    write_long(big, ROWS, seed=2)
    backend = SqlBackend(engine)
    query = Query(text="long material", filter=parse_filter("tensile_strength > 1 MPa"), limit=5, facets=["property"])
    before = backend.search(query)
    assert before.total > 0

    outcome: dict = {}
    loader = threading.Thread(target=lambda: outcome.setdefault("report", ingest_file(engine, big)))
    loader.start()
    try:
        deadline = time.monotonic() + 300
        while not _writing(engine):
            assert loader.is_alive() and time.monotonic() < deadline, "the load never reached its write"
            time.sleep(0.005)
        during = backend.search(query)  # answers while the write lock is held, and sees none of it
        assert (during.total, [hit.id for hit in during.results]) == (before.total, [hit.id for hit in before.results])
        assert _count(engine, "big") == 0
        # another writer (a job being queued) waits its turn, however long a loaded machine
        # takes over the write: its busy timeout here is the test's hang guard, not the app's 30 s
        waiter = (
            make_engine(str(engine.url), connect_args={"timeout": 600}) if engine.dialect.name == "sqlite" else engine
        )
        with waiter.begin() as connection:
            connection.execute(
                insert(Job).values(
                    public_id="waiting",
                    kind="ingest",
                    status="queued",
                    dataset="d",
                    filename="f.csv",
                    upload_path="/nowhere/f.csv",
                    rows_done=0,
                    created_at=utcnow(),
                )
            )
        if waiter is not engine:
            waiter.dispose()
    finally:
        loader.join(300)
    assert outcome["report"].loaded, outcome["report"].errors
    assert _count(engine, "big") == ROWS
    assert backend.search(query).total > before.total


@pytest.mark.slow
@pytest.mark.anyio
async def test_uploads_of_different_datasets_run_in_parallel_on_postgresql(pg_engine, tmp_path, anyio_backend):
    files = []
    for number in range(2):
        path = tmp_path / f"upload-{number}.csv"
        write_long(path, ROWS, seed=10 + number)
        files.append(path)
    headers = {"Authorization": f"Bearer {make_key(pg_engine, 'curator')}"}
    manager, client = await open_client(settings_for(pg_engine, tmp_path / "data"))
    try:
        assert client.app.state.jobs.workers == 2
        locations = []
        for number, path in enumerate(files):
            response = await client.post(
                "/api/v1/datasets",
                headers=headers,
                data={"name": f"parallel-{number}"},
                files={"file": (path.name, path.read_bytes(), "text/csv")},
            )
            assert response.status_code == 202, response.text
            locations.append(response.headers["location"])
        jobs = []
        deadline = time.monotonic() + 600
        while True:
            jobs = [(await client.get(location, headers=headers)).json() for location in locations]
            if all(job["status"] in ("succeeded", "failed") for job in jobs):
                break
            assert time.monotonic() < deadline, jobs
            await asyncio.sleep(0.1)
    finally:
        await client.aclose()
        await manager.__aexit__(None, None, None)
    assert [job["status"] for job in jobs] == ["succeeded", "succeeded"], jobs
    first, second = jobs
    assert second["started_at"] < first["finished_at"], "the second upload waited for the first to end"
    assert [_count(pg_engine, f"parallel-{number}") for number in range(2)] == [ROWS, ROWS]


@pytest.mark.slow
def test_sqlite_runs_one_upload_at_a_time(sqlite_engine, tmp_path):
    from biomatdb_api.jobs import JobWorker

    assert JobWorker(settings_for(sqlite_engine, Path(tmp_path)), sqlite_engine).workers == 1
