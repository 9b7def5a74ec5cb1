"""One upload job in a process of its own, under limits: the API process only supervises.

A hostile file that exhausts memory, spins the CPU or crashes a native library (a Rust
panic, an abort from a failed allocation, a segmentation fault) ends the job's process,
never the server's. Each job runs in a child forked from a fork server that has already
imported the pipeline (so a job starts in milliseconds, not seconds), with

- ``RLIMIT_AS`` at ``job_max_memory_bytes`` (a MemoryError, or the process ends),
- ``RLIMIT_CPU`` at ``job_max_cpu_seconds`` (SIGXCPU),
- a wall-time limit of ``job_max_wall_seconds`` kept by the supervisor (SIGKILL),
- ``PR_SET_PDEATHSIG``: the child dies with the fork server, and it ends at once when its
  supervisor (the API process or ``biomatdb worker``) is gone: its end of the progress pipe
  closes (``_exit_with_supervisor``).

The child writes the job's result itself; a child that ended without doing so is marked
failed by the supervisor with a ``resource-limit`` issue saying which limit, or how it ended.
The ingest is one transaction either way: a job that did not finish applied nothing.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from select import POLLERR, POLLHUP, poll
from typing import Any

from sqlalchemy import Engine, select, update

from biomatdb.db import make_engine
from biomatdb.models import ApiKey, Job, utcnow
from biomatdb.ownership import Actor
from biomatdb.rlimits import process_limits
from biomatdb.settings import Settings
from biomatdb_api.jobs import settle_committed
from biomatdb_ingest.limits import ReadLimits
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from biomatdb_ingest.report import Issue, Report

log = logging.getLogger("biomatdb.api.jobs")

_PR_SET_PDEATHSIG = 1


class _KeyRevoked(Exception):
    """The job's key no longer stands: the job fails before it reads its file."""


def actor_of_job(engine: Engine, job) -> Actor | None:
    """Who the job acts for, as their key stands now; None when that key was revoked since."""
    with engine.connect() as connection:
        key = connection.execute(
            select(ApiKey.name, ApiKey.role, ApiKey.revoked_at).where(ApiKey.id == job.created_by_key_id)
        ).first()
    if key is None or key.revoked_at is not None:
        return None
    return Actor(key_id=job.created_by_key_id, name=key.name, admin=key.role == "admin")


def resource_limit_report(message: str) -> dict[str, Any]:
    report = Report()
    report.record(Issue(type="resource-limit", message=message))
    return report.as_dict()


def execute_job(engine: Engine, settings: Settings, job, progress: Callable[[int], None]) -> None:
    """Run one claimed job and write its outcome to its row."""
    path = Path(job.upload_path)
    options = job.options or {}
    rows_seen = [0]

    def counted(rows: int) -> None:
        rows_seen[0] = rows
        progress(rows)

    values: dict[str, Any]
    with engine.begin() as connection:
        if settle_committed(connection, job):  # taken back after its load committed: never loaded twice
            shutil.rmtree(path.parent, ignore_errors=True)
            return
    try:
        actor = actor_of_job(engine, job)
        if actor is None:
            raise _KeyRevoked
        report = ingest_file(
            engine,
            path,
            IngestOptions(
                dataset=job.dataset,
                license=options.get("license"),
                uploader=job.created_by,
                job=job.public_id,
                source=options.get("source"),
                dry_run=bool(options.get("dry_run")),
                skip_invalid=bool(options.get("skip_invalid")),
                strict=bool(options.get("strict")),
                column_mappings=tuple(options.get("map") or ()),
                chunk_rows=settings.ingest_chunk_rows,
                actor=actor,
                replace=bool(options.get("replace")),
                replace_max_share=settings.replace_max_share,
                read_limits=ReadLimits.from_settings(settings),
                structure_limits=settings.structure_limits(),
                staging_dir=settings.staging_dir(),
                material_max_nested_records=settings.material_max_nested_records,
            ),
            progress=counted,
        )
        ok = report.loaded or (report.dry_run and report.ok)
        values = {
            "status": "succeeded" if ok else "failed",
            "report": report.as_dict(),
            "rows_done": report.rows_read,
            "error": None if ok else "the file was not loaded; the report says why",
        }
    except _KeyRevoked:
        values = {
            "status": "failed",
            "rows_done": 0,
            "error": "the API key that submitted this job was revoked before it ran; nothing was applied",
        }
    except MemoryError:
        message = (
            f"resource-limit: the job ran out of its memory limit of {settings.job_max_memory_bytes:,} bytes "
            f"(setting BIOMATDB_JOB_MAX_MEMORY_BYTES); nothing was applied"
        )
        values = {
            "status": "failed",
            "error": message,
            "report": resource_limit_report(message),
            "rows_done": rows_seen[0],
        }
    except Exception:
        log.exception("job %s failed", job.public_id)
        values = {
            "status": "failed",
            "error": "the job stopped on an unexpected error; nothing was applied",
            "rows_done": rows_seen[0],
        }
    # the outcome first, then the upload goes (the supervisor removes it too, for a process that
    # ended without getting here): a job whose outcome could not be written keeps its upload, to be
    # settled from its committed load or run again by the worker that takes it back
    with engine.begin() as connection:
        connection.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == "running")
            .values(finished_at=utcnow(), lease_until=None, **values)
        )
    shutil.rmtree(path.parent, ignore_errors=True)


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the wall-time limit still ends the job
        return
    if os.getppid() == 1:  # the parent is already gone
        os._exit(1)


def _exit_with_supervisor(pipe) -> None:
    """End this process at once when the supervisor's end of the progress pipe closes: the
    supervisor (an API process or ``biomatdb worker``) is gone, so the job's outcome could not be
    reported, and its transaction must not commit. ``PR_SET_PDEATHSIG`` alone does not do it: the
    parent is the fork server, which outlives the supervisor while any job it forked holds its
    alive pipe (every child inherits it), and a job writing its one transaction sends no
    progress that would find the pipe broken. Linux reports POLLERR on a pipe's write end once
    no reader is left; the thread is started before the limits, which its stack must not meet."""
    fd = pipe.fileno()

    def watch() -> None:
        poller = poll()
        poller.register(fd, POLLERR | POLLHUP)
        while True:
            for _fd, event in poller.poll():
                if event & (POLLERR | POLLHUP):
                    os._exit(70)

    threading.Thread(target=watch, name="biomatdb-job-supervisor-watch", daemon=True).start()


def child_main(settings_json: str, job_id: int, progress_pipe) -> None:
    """The job's process: limits first, then the job, progress sent up the pipe."""
    _die_with_parent()
    _exit_with_supervisor(progress_pipe)
    settings = Settings.model_validate_json(settings_json)
    if settings.job_nice:
        os.nice(settings.job_nice)  # the server's searches before the job's parsing, on a busy machine
    engine = make_engine(settings.resolved_database_url(), search_outbox=settings.search_outbox)
    try:
        with process_limits(memory_bytes=settings.job_max_memory_bytes, cpu_seconds=settings.job_max_cpu_seconds):
            with engine.connect() as connection:
                job = connection.execute(select(Job.__table__).where(Job.id == job_id)).one()
            execute_job(engine, settings, job, progress=_sender(progress_pipe))
    finally:
        engine.dispose()
        progress_pipe.close()


def _sender(pipe) -> Callable[[int], None]:
    """Progress up the pipe; a pipe that broke means the supervisor is gone, and so is the
    API process behind it: the job ends at once, its transaction never committed."""

    def send(rows: int) -> None:
        try:
            pipe.send(rows)
        except OSError:
            os._exit(70)

    return send


def how_it_ended(exitcode: int | None, settings: Settings, *, timed_out: bool) -> str:
    """The job's error when its process ended without writing one."""
    if timed_out:
        return (
            f"resource-limit: the job ran past its wall-time limit of {settings.job_max_wall_seconds:,} s "
            f"(setting BIOMATDB_JOB_MAX_WALL_SECONDS); nothing was applied"
        )
    if exitcode == -signal.SIGXCPU or exitcode == -signal.SIGKILL:
        return (
            f"resource-limit: the job used up its CPU-time limit of {settings.job_max_cpu_seconds:,} s "
            f"(setting BIOMATDB_JOB_MAX_CPU_SECONDS) or was killed; nothing was applied"
        )
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        return (
            f"resource-limit: the job's process was ended by {name}, most likely by exhausting its memory "
            f"limit of {settings.job_max_memory_bytes:,} bytes (setting BIOMATDB_JOB_MAX_MEMORY_BYTES); "
            f"nothing was applied"
        )
    return f"the job's process ended with exit code {exitcode} before it finished; nothing was applied"
