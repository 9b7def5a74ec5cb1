"""Upload jobs: a queue in the ``jobs`` table and a worker thread per API process.

A job is claimed with a conditional UPDATE (queued → running), so two processes never
run the same one. The ingest is one transaction: a process that dies mid-job applied
nothing, and the job it left ``running`` is marked failed by the next process that finds
its runner gone (same host, process no longer alive) — at startup and while polling.

Progress (rows done) is kept in memory by the running process and, on PostgreSQL, written
to the row as it goes; SQLite has one writer at a time and the ingest holds it, so there
the row learns the count when the job ends (``job_json`` merges the live count in).
"""

from __future__ import annotations

import logging
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine, insert, select, update

from biomatdb.models import ApiKey, Job, utcnow
from biomatdb.ownership import Actor
from biomatdb.settings import Settings
from ingest.limits import ReadLimits
from ingest.pipeline import IngestOptions, ingest_file

log = logging.getLogger("biomatdb.api.jobs")

STATUSES = ("queued", "running", "succeeded", "failed")
_PROGRESS_EVERY_S = 1.0
_REAP_EVERY_S = 10.0
DIED = "the API process running this job stopped before it finished; nothing of it was applied"


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


def upload_dir(settings: Settings, job_id: str) -> Path:
    return settings.data_dir / "uploads" / job_id


def new_job_id() -> str:
    return uuid.uuid4().hex


def count_rows(path: Path) -> int | None:
    """Data rows of a delimited file (lines after the header); None for other formats."""
    if path.suffix.lower() not in (".csv", ".tsv", ".tab", ".txt"):
        return None
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


class _KeyRevoked(Exception):
    """The job's key no longer stands: the job fails before it reads its file."""


def enqueue(engine: Engine, *, job_id: str, dataset: str, filename: str, path: Path, options: dict[str, Any],
            created_by: str | None, created_by_key_id: int | None = None) -> None:
    with engine.begin() as connection:
        connection.execute(insert(Job).values(
            public_id=job_id, kind="ingest", status="queued", dataset=dataset, filename=filename,
            upload_path=str(path), options=options, created_by=created_by, created_by_key_id=created_by_key_id,
            rows_done=0,
            rows_total=count_rows(path), created_at=utcnow()))


def _iso(moment) -> str | None:
    return None if moment is None else moment.isoformat()


def job_json(row: Job, live_rows: int | None = None) -> dict[str, Any]:
    rows_done = row.rows_done if live_rows is None else max(live_rows, row.rows_done)
    return {
        "id": row.public_id, "status": row.status, "dataset": row.dataset, "filename": row.filename,
        "options": row.options, "created_by": row.created_by,
        "progress": {"rows_done": rows_done, "rows_total": row.rows_total},
        "created_at": _iso(row.created_at), "started_at": _iso(row.started_at), "finished_at": _iso(row.finished_at),
        "error": row.error, "report": row.report,
    }


def reap_dead_jobs(engine: Engine) -> int:
    """Mark failed every running job whose process is gone; how many."""
    with engine.connect() as connection:
        running = connection.execute(select(Job.id, Job.worker, Job.upload_path).where(Job.status == "running")).all()
    reaped = 0
    for job in running:
        if worker_alive(job.worker) is False:
            with engine.begin() as connection:
                reaped += connection.execute(update(Job).where(Job.id == job.id, Job.status == "running").values(
                    status="failed", error=DIED, finished_at=utcnow())).rowcount
            shutil.rmtree(Path(job.upload_path).parent, ignore_errors=True)
    return reaped


class JobWorker:
    """Claims queued jobs from the table and runs them, one at a time, in a daemon thread."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.identity = this_worker()
        self.progress: dict[str, int] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_progress = engine.dialect.name != "sqlite"

    def start(self) -> None:
        reap_dead_jobs(self.engine)
        self._thread = threading.Thread(target=self._loop, name="biomatdb-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def notify(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        last_reap = time.monotonic()
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_reap > _REAP_EVERY_S:
                    reap_dead_jobs(self.engine)
                    last_reap = time.monotonic()
                job = self.claim()
                if job is not None:
                    self.run(job)
                    continue
            except Exception:  # a database hiccup must not end the worker; the job row says what failed
                log.exception("job worker error")
            self._wake.wait(self.settings.job_poll_seconds)
            self._wake.clear()

    def claim(self):
        with self.engine.begin() as connection:
            candidate = connection.execute(
                select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(1)).scalar()
            if candidate is None:
                return None
            claimed = connection.execute(update(Job).where(Job.id == candidate, Job.status == "queued").values(
                status="running", worker=self.identity, started_at=utcnow())).rowcount
            if claimed != 1:
                return None
            return connection.execute(select(Job.__table__).where(Job.id == candidate)).one()

    def _actor(self, job) -> Actor | None:
        """Who the job acts for, as their key stands now; None when that key was revoked since."""
        with self.engine.connect() as connection:
            key = connection.execute(select(ApiKey.name, ApiKey.role, ApiKey.revoked_at)
                                     .where(ApiKey.id == job.created_by_key_id)).first()
        if key is None or key.revoked_at is not None:
            return None
        return Actor(key_id=job.created_by_key_id, name=key.name, admin=key.role == "admin")

    def run(self, job) -> None:
        path = Path(job.upload_path)
        options = job.options or {}
        self.progress[job.public_id] = 0
        last_write = [time.monotonic()]

        def progress(rows: int) -> None:
            self.progress[job.public_id] = rows
            if self._write_progress and time.monotonic() - last_write[0] > _PROGRESS_EVERY_S:
                last_write[0] = time.monotonic()
                with self.engine.begin() as connection:
                    connection.execute(update(Job).where(Job.id == job.id).values(rows_done=rows))

        values: dict[str, Any]
        actor = self._actor(job)
        try:
            if actor is None:
                raise _KeyRevoked
            report = ingest_file(self.engine, path, IngestOptions(
                dataset=job.dataset, license=options.get("license"), uploader=job.created_by,
                source=options.get("source"), dry_run=bool(options.get("dry_run")),
                skip_invalid=bool(options.get("skip_invalid")), chunk_rows=self.settings.ingest_chunk_rows,
                actor=actor, replace=bool(options.get("replace")),
                replace_max_share=self.settings.replace_max_share,
                read_limits=ReadLimits.from_settings(self.settings),
                structure_limits=self.settings.structure_limits()),
                progress=progress)
            ok = report.loaded or (report.dry_run and report.ok)
            values = {"status": "succeeded" if ok else "failed", "report": report.as_dict(),
                      "rows_done": report.rows_read,
                      "error": None if ok else "the file was not loaded; the report says why"}
        except _KeyRevoked:
            values = {"status": "failed", "rows_done": 0,
                      "error": "the API key that submitted this job was revoked before it ran; nothing was applied"}
        except Exception:
            log.exception("job %s failed", job.public_id)
            values = {"status": "failed", "error": "the job stopped on an unexpected error; nothing was applied",
                      "rows_done": self.progress.get(job.public_id, 0)}
        with self.engine.begin() as connection:
            connection.execute(update(Job).where(Job.id == job.id).values(finished_at=utcnow(), **values))
        self.progress.pop(job.public_id, None)
        shutil.rmtree(path.parent, ignore_errors=True)
