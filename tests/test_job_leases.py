"""Upload jobs hold a lease: a job left running because its worker lost the database while
writing the outcome (or died on another host) is taken back by any worker once the lease ran
out, settled from its committed load or run again, and its data is loaded once, never twice.
On SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.exc import OperationalError

from biomatdb.models import DatasetUpload, Job, Measurement, utcnow
from biomatdb.settings import Settings
from biomatdb_api.job_process import execute_job
from biomatdb_api.jobs import JobWorker, enqueue, take_back_expired_jobs
from tests.api_fixtures import make_key
from tests.test_pipeline import WIDE_CSV

MEASUREMENTS = 11  # the wide fixture: three materials, eleven values


@pytest.fixture
def queued(engine, tmp_path):
    """One queued upload of the wide fixture, and a worker (not started) for it."""
    settings = Settings(data_dir=tmp_path, job_lease_seconds=30, job_max_attempts=2)
    upload = tmp_path / "uploads" / "job-1" / "wide.csv"
    upload.parent.mkdir(parents=True)
    upload.write_text(WIDE_CSV, encoding="utf-8")
    make_key(engine, "curator", "lease-curator")
    with engine.connect() as connection:
        from biomatdb.models import ApiKey

        key_id = connection.execute(select(ApiKey.id)).scalar_one()
    enqueue(
        engine,
        job_id="job-1",
        dataset="wide",
        filename="wide.csv",
        path=upload,
        options={},
        created_by="lease-curator",
        created_by_key_id=key_id,
    )
    return settings, JobWorker(settings, engine), upload


def _job(engine):
    with engine.connect() as connection:
        return connection.execute(select(Job.__table__)).one()


def _loaded(engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(Measurement)).scalar_one(),
            connection.execute(select(func.count()).select_from(DatasetUpload)).scalar_one(),
        )


def _expire(engine) -> None:
    with engine.begin() as connection:
        connection.execute(update(Job).values(lease_until=utcnow() - timedelta(seconds=1)))


def _fail_the_outcome_write(engine):
    """The database goes away just as the job's outcome is written, after its load committed: on
    PostgreSQL the session is terminated by the server (``pg_terminate_backend``); on SQLite the
    statement is refused as the driver refuses one on a lost file."""
    import sqlite3

    failed: list[str] = []

    def before(connection, cursor, statement, parameters, context, executemany):
        if not failed and statement.lstrip().upper().startswith("UPDATE JOBS") and "finished_at" in statement:
            failed.append(statement)
            if connection.dialect.name == "postgresql":
                with engine.connect() as other:
                    pid = connection.connection.driver_connection.info.backend_pid
                    other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            else:
                raise sqlite3.OperationalError("disk I/O error")

    event.listen(engine, "before_cursor_execute", before)


def test_a_job_whose_outcome_was_lost_is_settled_from_its_load_and_not_loaded_twice(engine, queued):
    settings, worker, upload = queued
    job = worker.claim()
    assert job.lease_until is not None and job.attempts == 1
    _fail_the_outcome_write(engine)
    with pytest.raises(OperationalError):
        execute_job(engine, settings, job, progress=lambda rows: None)
    assert _job(engine).status == "running"  # what was left for ever before leases
    assert _loaded(engine) == (MEASUREMENTS, 1)
    assert upload.exists()  # kept until the outcome is written

    assert take_back_expired_jobs(engine, settings) == 0  # the lease still runs: nobody takes it
    _expire(engine)
    assert take_back_expired_jobs(engine, settings) == 1
    done = _job(engine)
    assert (done.status, done.error, done.lease_until) == ("succeeded", None, None)
    assert _loaded(engine) == (MEASUREMENTS, 1)  # loaded once


def test_a_job_whose_load_never_committed_is_queued_again_and_runs_once(engine, queued):
    settings, worker, upload = queued
    worker.claim()  # and its worker died on another host, say, before loading anything
    _expire(engine)
    assert take_back_expired_jobs(engine, settings) == 1
    assert _job(engine).status == "queued"
    again = worker.claim()
    assert again.attempts == 2
    execute_job(engine, settings, again, progress=lambda rows: None)
    done = _job(engine)
    assert done.status == "succeeded", done.error
    assert _loaded(engine) == (MEASUREMENTS, 1)
    assert not upload.exists()

    # a worker that takes the same job back after its load committed does not load it again
    with engine.begin() as connection:
        connection.execute(update(Job).values(status="running"))
    execute_job(engine, settings, _job(engine), progress=lambda rows: None)
    assert _loaded(engine) == (MEASUREMENTS, 1)


def test_a_job_whose_lease_keeps_running_out_fails_with_the_reason(engine, queued):
    settings, worker, _ = queued
    for _ in range(settings.job_max_attempts):
        worker.claim()
        _expire(engine)
        take_back_expired_jobs(engine, settings)
    failed = _job(engine)
    assert failed.status == "failed"
    assert "claimed 2 times (BIOMATDB_JOB_MAX_ATTEMPTS)" in failed.error and "nothing of it was applied" in failed.error
    assert _loaded(engine) == (0, 0)


def test_the_lease_covers_the_whole_wall_time_on_sqlite(sqlite_engine, tmp_path):
    from biomatdb_api.jobs import lease_end

    settings = Settings(data_dir=tmp_path, job_lease_seconds=60, job_max_wall_seconds=3600)
    assert lease_end(settings, "sqlite") - utcnow() > timedelta(seconds=3600)
    assert lease_end(settings, "postgresql") - utcnow() <= timedelta(seconds=60)
