"""Upload jobs: a queue in the ``jobs`` table and worker threads in each API process, or in
``biomatdb worker`` processes of their own (``BIOMATDB_JOBS_IN_API=0``).

A job is claimed with a conditional UPDATE (queued → running), so two processes never
run the same one. The ingest is one transaction: a process that dies mid-job applied
nothing, and the job it left ``running`` is marked failed by the next process that finds
its runner gone (same host, process no longer alive) — at startup and while polling.

A claim is also a lease (``jobs.lease_until``, ``BIOMATDB_JOB_LEASE_SECONDS``), renewed while
the job runs; any worker, on any host, takes back a job whose lease ran out
(``take_back_expired_jobs``): a worker that died elsewhere, or one that lost the database while
writing the job's outcome. The load records its job in ``dataset_uploads.job_id`` in its own
transaction, so such a job is settled as succeeded when its load committed, never loaded twice;
otherwise it is queued again, and failed once it was claimed ``BIOMATDB_JOB_MAX_ATTEMPTS`` times.

Progress (rows done) is kept in memory by the running process and, on PostgreSQL, written
to the row as it goes; SQLite has one writer at a time and the ingest holds it, so there
the row learns the count when the job ends (``job_json`` merges the live count in).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Connection, Engine, Row, insert, select, update

from biomatdb.db import database_unreachable
from biomatdb.models import DatasetUpload, Job, utcnow
from biomatdb.settings import Settings
from biomatdb_ingest.readers import is_delimited

log = logging.getLogger("biomatdb.api.jobs")

STATUSES = ("queued", "running", "succeeded", "failed")
_PROGRESS_EVERY_S = 1.0
_REAP_EVERY_S = 10.0
#: Longest wait between two attempts of a worker while the database cannot be reached.
DATABASE_BACKOFF_MAX_S = 30.0
DIED = (
    "the process running this job (an API process or `biomatdb worker`) stopped before it finished; "
    "nothing of it was applied"
)


def this_worker() -> str:
    """``host:pid:start`` of this process; the start time tells a reused pid apart."""
    process = psutil.Process()
    return f"{socket.gethostname()}:{process.pid}:{process.create_time():.2f}"


def worker_alive(worker: str | None) -> bool | None:
    """Whether the process named by ``worker`` still runs; None when it is on another host."""
    if not worker:
        return False
    host, _, rest = worker.partition(":")
    if host != socket.gethostname():
        return None
    pid_text, _, started = rest.partition(":")
    try:
        process = psutil.Process(int(pid_text))
        return f"{process.create_time():.2f}" == started and process.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else ""


def upload_dir(settings: Settings, job_id: str) -> Path:
    return settings.data_dir / "uploads" / job_id


def new_job_id() -> str:
    return uuid.uuid4().hex


def count_rows(path: Path) -> int | None:
    """Data rows of a delimited file (lines after the header); None for other formats."""
    if not is_delimited(path):
        return None
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


def enqueue(
    engine: Engine,
    *,
    job_id: str,
    dataset: str,
    filename: str,
    path: Path,
    options: dict[str, Any],
    created_by: str | None,
    created_by_key_id: int | None = None,
) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(Job).values(
                public_id=job_id,
                kind="ingest",
                status="queued",
                dataset=dataset,
                filename=filename,
                upload_path=str(path),
                options=options,
                created_by=created_by,
                created_by_key_id=created_by_key_id,
                rows_done=0,
                rows_total=count_rows(path),
                created_at=utcnow(),
            )
        )


def _iso(moment) -> str | None:
    return None if moment is None else moment.isoformat()


def job_json(row: Job | Row[Any], live_rows: int | None = None) -> dict[str, Any]:
    rows_done = row.rows_done if live_rows is None else max(live_rows, row.rows_done)
    return {
        "id": row.public_id,
        "status": row.status,
        "dataset": row.dataset,
        "filename": row.filename,
        "options": row.options,
        "created_by": row.created_by,
        "progress": {"rows_done": rows_done, "rows_total": row.rows_total},
        "created_at": _iso(row.created_at),
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
        "error": row.error,
        "report": row.report,
    }


def reap_dead_jobs(engine: Engine) -> int:
    """Mark failed every running job whose process is gone; how many."""
    with engine.connect() as connection:
        running = connection.execute(select(Job.id, Job.worker, Job.upload_path).where(Job.status == "running")).all()
    reaped = 0
    for job in running:
        if worker_alive(job.worker) is False:
            with engine.begin() as connection:
                reaped += connection.execute(
                    update(Job)
                    .where(Job.id == job.id, Job.status == "running")
                    .values(status="failed", error=DIED, finished_at=utcnow())
                ).rowcount
            shutil.rmtree(Path(job.upload_path).parent, ignore_errors=True)
    return reaped


def lease_end(settings: Settings, dialect: str) -> datetime:
    """When a lease taken or renewed now runs out. On SQLite the job's load holds the one writer,
    so the lease cannot be renewed while it writes: it covers the job's whole wall time."""
    seconds = settings.job_lease_seconds
    if dialect == "sqlite":
        seconds += settings.job_max_wall_seconds
    return utcnow() + timedelta(seconds=seconds)


def settle_committed(connection: Connection, job: Any, *, expired_before: datetime | None = None) -> bool:
    """Mark ``job`` succeeded when its load committed (an upload records its job), in the caller's
    transaction; whether it did. With ``expired_before``, only while its lease is still out."""
    upload = connection.execute(
        select(DatasetUpload.rows_read).where(DatasetUpload.job_id == job.public_id).limit(1)
    ).first()
    if upload is None:
        return False
    condition = [Job.id == job.id, Job.status == "running"]
    if expired_before is not None:
        condition.append(Job.lease_until < expired_before)
    settled = connection.execute(
        update(Job)
        .where(*condition)
        .values(status="succeeded", finished_at=utcnow(), rows_done=upload.rows_read, error=None, lease_until=None)
    ).rowcount
    return settled == 1


def take_back_expired_jobs(engine: Engine, settings: Settings) -> int:
    """Take back every running job whose lease ran out: succeeded when its load committed, queued
    again (first in line) while its upload is there and it was claimed fewer than
    ``job_max_attempts`` times, failed with the reason otherwise. How many."""
    now = utcnow()
    with engine.connect() as connection:
        expired = connection.execute(
            select(Job.id, Job.public_id, Job.upload_path, Job.attempts, Job.worker).where(
                Job.status == "running", Job.lease_until < now
            )
        ).all()
    taken = 0
    for job in expired:
        with engine.begin() as connection:
            if settle_committed(connection, job, expired_before=now):
                log.warning("job %s: its worker's lease ran out after its load committed; settled", job.public_id)
                taken += 1
                continue
            still_out = (Job.id == job.id, Job.status == "running", Job.lease_until < now)
            if job.attempts < settings.job_max_attempts and Path(job.upload_path).exists():
                values: dict[str, Any] = {"status": "queued", "worker": None, "started_at": None, "rows_done": 0}
                log.warning("job %s: the lease of worker %s ran out; queued again", job.public_id, job.worker)
            else:
                why = (
                    f"it was claimed {job.attempts} times (BIOMATDB_JOB_MAX_ATTEMPTS) and its worker's lease ran out each time"
                    if job.attempts >= settings.job_max_attempts
                    else "its worker's lease ran out and its upload is gone"
                )
                values = {"status": "failed", "finished_at": now, "error": f"{why}; nothing of it was applied"}
                log.warning("job %s failed: %s", job.public_id, why)
            taken += connection.execute(update(Job).where(*still_out).values(lease_until=None, **values)).rowcount
    return taken


def remove_stale_uploads(settings: Settings, engine: Engine, *, older_than_s: float = 3600.0) -> int:
    """Remove upload folders no queued or running job names, older than ``older_than_s`` (an
    upload still streaming in has no job yet): what a server killed mid-upload left. How many."""
    root = settings.data_dir / "uploads"
    if not root.is_dir():
        return 0
    with engine.connect() as connection:
        wanted = {
            Path(path).parent.name
            for path in connection.execute(
                select(Job.upload_path).where(Job.status.in_(("queued", "running")))
            ).scalars()
        }
    removed = 0
    for folder in root.iterdir():
        if folder.is_dir() and folder.name not in wanted and time.time() - folder.stat().st_mtime > older_than_s:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


class JobWorker:
    """Claims queued jobs from the table and runs them in daemon threads, each job in a process of
    its own: one thread on SQLite, which has one writer; on PostgreSQL ``job_workers`` (2 unless
    set), so that uploads of different datasets are parsed in parallel (their writes take turns)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.identity = this_worker()
        self.progress: dict[str, int] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.workers = settings.job_workers or (1 if engine.dialect.name == "sqlite" else 2)
        self._write_progress = engine.dialect.name != "sqlite"
        self._outage = False  # the database unreachable, as last seen
        self._outage_lock = threading.Lock()
        self._last_progress_write = 0.0

    def start(self) -> None:
        try:
            reap_dead_jobs(self.engine)
            take_back_expired_jobs(self.engine, self.settings)
            remove_stale_uploads(self.settings, self.engine)
        except Exception as exc:  # the database away at start: the loop reaps once it is back
            if not database_unreachable(exc):
                raise
            self._database_away(exc)
        for number in range(self.workers):
            thread = threading.Thread(target=self._loop, name=f"biomatdb-jobs-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def notify(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        last_reap = time.monotonic()
        away_for = 0  # rounds the database has been unreachable, for the backoff
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_reap > min(_REAP_EVERY_S, self.settings.job_lease_seconds):
                    reap_dead_jobs(self.engine)
                    take_back_expired_jobs(self.engine, self.settings)
                    last_reap = time.monotonic()
                job = self.claim()
                self._database_back()
                away_for = 0
                if job is not None:
                    self.run(job)
                    continue
            except Exception as exc:
                if database_unreachable(exc):
                    self._database_away(exc)
                    away_for += 1
                else:
                    log.exception("job worker error")
            except BaseException:  # nothing may end the worker silently (a panic is a BaseException)
                log.exception("job worker error")
            wait = self.settings.job_poll_seconds
            if away_for:  # doubling, up to DATABASE_BACKOFF_MAX_S: no storm of connection attempts
                wait = min(max(wait, DATABASE_BACKOFF_MAX_S), wait * 2 ** min(away_for, 20))
            self._wake.wait(wait)
            self._wake.clear()

    def _database_away(self, error: BaseException) -> None:
        """One warning per outage, whichever thread sees it first."""
        with self._outage_lock:
            if self._outage:
                return
            self._outage = True
        log.warning(
            "job worker: the database cannot be reached (%s: %s); retrying with backoff",
            type(error).__name__,
            _first_line(getattr(error, "orig", error)),
        )

    def _database_back(self) -> None:
        with self._outage_lock:
            if not self._outage:
                return
            self._outage = False
        log.warning("job worker: the database is reachable again")

    def claim(self):
        with self.engine.begin() as connection:
            candidate = connection.execute(
                select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(1)
            ).scalar()
            if candidate is None:
                return None
            claimed = connection.execute(
                update(Job)
                .where(Job.id == candidate, Job.status == "queued")
                .values(
                    status="running",
                    worker=self.identity,
                    started_at=utcnow(),
                    lease_until=lease_end(self.settings, connection.dialect.name),
                    attempts=Job.attempts + 1,
                )
            ).rowcount
            if claimed != 1:
                return None
            return connection.execute(select(Job.__table__).where(Job.id == candidate)).one()

    def alive(self) -> bool:
        """Whether every worker thread runs (``/ready`` reports it)."""
        return bool(self._threads) and all(thread.is_alive() for thread in self._threads)

    def run(self, job) -> None:
        """Run ``job`` in a process of its own (``biomatdb_api.job_process``) and supervise it."""
        from biomatdb_api.job_process import child_main, how_it_ended, resource_limit_report

        context = _job_context()
        receiving, sending = context.Pipe(duplex=False)
        process = context.Process(
            target=child_main,
            args=(self.settings.model_dump_json(), job.id, sending),
            name=f"biomatdb-job-{job.public_id}",
            daemon=True,
        )
        self.progress[job.public_id] = 0
        process.start()
        sending.close()
        deadline = time.monotonic() + self.settings.job_max_wall_seconds
        timed_out = stopped = lost = False
        renewed = time.monotonic()
        try:
            while True:
                if self._stop.is_set():
                    stopped = True
                    break
                if self._write_progress and time.monotonic() - renewed > self.settings.job_lease_seconds / 3:
                    if self._renew(job):
                        renewed = time.monotonic()
                    elif time.monotonic() - renewed > self.settings.job_lease_seconds:
                        # the lease ran out unrenewed: another worker may take the job back and
                        # must not find this one still loading it
                        lost = True
                        break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                if receiving.poll(min(remaining, 0.25)):
                    try:
                        self._record_progress(job, receiving.recv())
                    except EOFError:
                        break
                elif not process.is_alive():
                    break
        finally:
            if process.is_alive() and (timed_out or stopped or lost):
                process.kill()
            process.join()
            receiving.close()
        if stopped and Path(job.upload_path).exists():
            # a shutdown (SIGTERM, `compose restart worker`): the job's process was killed before its
            # load ended (it removes the upload only after), so its transaction never committed. The
            # job goes back to the queue, first in line, for the next worker to run from the start.
            with self.engine.begin() as connection:
                connection.execute(
                    update(Job)
                    .where(Job.id == job.id, Job.status == "running")
                    .values(status="queued", worker=None, started_at=None, rows_done=0, error=None)
                )
            self.progress.pop(job.public_id, None)
            log.warning("job %s was stopped by a shutdown before it ended; it is queued again", job.public_id)
            return
        if lost:
            self.progress.pop(job.public_id, None)
            log.warning(
                "job %s: its lease ran out while the database was away; left for a worker to take back", job.public_id
            )
            return
        if stopped:
            error = "the process running this job was stopped after its load ended; its outcome is unknown"
            values: dict[str, Any] = {"error": error}
        else:
            error = how_it_ended(process.exitcode, self.settings, timed_out=timed_out)
            values = {
                "error": error,
                "report": resource_limit_report(error) if error.startswith("resource-limit") else None,
            }
        with self.engine.begin() as connection:  # only when the child did not write its outcome itself
            if not settle_committed(connection, job):  # its load committed, its outcome write failed
                connection.execute(
                    update(Job)
                    .where(Job.id == job.id, Job.status == "running")
                    .values(
                        status="failed", finished_at=utcnow(), rows_done=self.progress.get(job.public_id, 0), **values
                    )
                )
        self.progress.pop(job.public_id, None)
        shutil.rmtree(Path(job.upload_path).parent, ignore_errors=True)

    def _renew(self, job) -> bool:
        """Renew ``job``'s lease; False when the database could not be reached."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    update(Job)
                    .where(Job.id == job.id, Job.status == "running", Job.worker == self.identity)
                    .values(lease_until=lease_end(self.settings, connection.dialect.name))
                )
        except Exception as exc:
            if not database_unreachable(exc):
                raise
            self._database_away(exc)
            return False
        return True

    def _record_progress(self, job, rows: int) -> None:
        self.progress[job.public_id] = rows
        now = time.monotonic()
        if self._write_progress and now - self._last_progress_write > _PROGRESS_EVERY_S:
            self._last_progress_write = now
            with self.engine.begin() as connection:
                connection.execute(update(Job).where(Job.id == job.id).values(rows_done=rows))


_context = None
_context_lock = threading.Lock()


def _job_context():
    """The fork server jobs start from, with the pipeline imported once."""
    global _context
    with _context_lock:
        if _context is None:
            import multiprocessing
            from multiprocessing import forkserver

            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["biomatdb_api.job_preload"])
            _start_fork_server(forkserver)
            _context = context
    return _context


def _start_fork_server(forkserver) -> None:
    """Start the fork server able to import what this process imports.

    Python 3.11 hands the fork server this process's ``sys.path`` and ignores it (CPython
    gh-117378, fixed in later versions only), so a package found through a path added at run
    time (pytest's ``pythonpath``, a stale editable install) is not preloaded, silently: each
    job's process then imports RDKit, pandas and the pipeline itself, 1.1 s a job instead of
    10 ms. The path goes by ``PYTHONPATH`` instead, as the CPython issue suggests, set only
    while the server starts.
    """
    entries = [entry for entry in sys.path if entry and os.path.exists(entry)]
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(entries)
    try:
        forkserver.ensure_running()
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
