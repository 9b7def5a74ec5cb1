"""SIGKILL of ``biomatdb ingest`` at chosen points of a load, on SQLite and PostgreSQL: the
database is as it was before (all or nothing), its integrity holds, and the next ingest
removes what the killed one left in the staging folder and loads the file whole.

The points: while the file is being normalised into the staging folder (phase 1, no write
lock held), and while the staged chunks are being written (phase 2, the write lock held).
The API worker's SIGKILL is in tests/test_api_serve.py.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from benchmarks.generate import write_long
from biomatdb.models import Dataset, Measurement
from biomatdb_ingest.pipeline import _INGEST_LOCK
from tests.conftest import snapshot

ROWS = 60_000


def _writing(engine: Engine) -> bool:
    """Whether an ingest holds the write lock (phase 2) now."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            free = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _INGEST_LOCK}).scalar()
            if free:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _INGEST_LOCK})
            return not free
    probe = sqlite3.connect(engine.url.database or "", timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.rollback()
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return True
    finally:
        probe.close()


def _staged_chunks(data_dir: Path) -> int:
    return len(list((data_dir / "staging").glob("biomatdb-staging-*/chunk-*")))


def _ingest(engine: Engine, data_dir: Path, path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "BIOMATDB_DATA_DIR": str(data_dir),
        "BIOMATDB_INGEST_CHUNK_ROWS": "2000",
        "BIOMATDB_DATABASE_URL": engine.url.render_as_string(hide_password=False),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from biomatdb.cli import app; app()",
            "ingest",
            str(path),
            "--dataset",
            "crash",
            "--json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _kill_when(process: subprocess.Popen, ready, timeout_s: float = 240.0) -> None:
    deadline = time.monotonic() + timeout_s
    try:
        while not ready():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the ingest never reached the point to kill it at"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


def _integrity(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []


@pytest.mark.slow
def test_sigkill_of_cli_ingest_while_staging_and_while_writing_leaves_all_or_nothing(engine, tmp_path):
    data = tmp_path / "data"
    big = tmp_path / "long.csv"
    write_long(big, ROWS, seed=7)
    before = snapshot(engine)

    points = {"staging": lambda: _staged_chunks(data) >= 3, "writing": lambda: _writing(engine)}
    for point, ready in points.items():
        _kill_when(_ingest(engine, data, big), ready)
        assert snapshot(engine) == before, f"a SIGKILL while {point} changed the database"
        _integrity(engine)
        assert _staged_chunks(data) > 0  # what the killed process left, removed by the next ingest

    finished = _ingest(engine, data, big)
    _, err = finished.communicate(timeout=600)
    assert finished.returncode == 0, err.decode()
    assert _staged_chunks(data) == 0
    assert not list((data / "staging").iterdir())
    with engine.connect() as connection:
        stored = connection.execute(
            select(func.count()).select_from(Measurement).join(Dataset).where(Dataset.name == "crash")
        ).scalar()
    assert stored == ROWS
    _integrity(engine)
