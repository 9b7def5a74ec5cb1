"""``biomatdb apikey`` and ``biomatdb serve`` as real commands: keys made and revoked, and a
server killed (SIGKILL) in the middle of an upload job, then restarted: the dataset is all
there or not there at all, and the job is not left running."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from biomatdb.apikeys import authenticate
from biomatdb.cli import app
from biomatdb.models import Dataset, DatasetUpload, Job, Material, Measurement
from tests.api_fixtures import make_key

BIOMATDB = [sys.executable, "-c", "from biomatdb.cli import app; app()"]


@pytest.fixture
def cli(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BIOMATDB_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def test_apikey_create_list_revoke(cli, engine):
    made = cli("apikey", "create", "--role", "curator", "--name", "alice")
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("bmdb_") and " " not in key
    with engine.connect() as connection:
        holder = authenticate(connection, key)
    assert holder is not None
    assert (holder.name, holder.role) == ("alice", "curator")
    listing = json.loads(cli("apikey", "list", "--json").stdout)
    assert [(k["name"], k["role"], k["revoked_at"]) for k in listing] == [("alice", "curator", None)]
    assert key not in cli("apikey", "list").stdout and key not in json.dumps(listing)
    assert key[len(listing[0]["prefix"]) :] not in json.dumps(listing)
    assert cli("apikey", "create", "--role", "curator", "--name", "alice").exit_code == 2  # names are unique
    assert cli("apikey", "create", "--role", "overlord", "--name", "bob").exit_code == 2
    assert cli("apikey", "revoke", "alice").exit_code == 0
    with engine.connect() as connection:
        assert authenticate(connection, key) is None
    assert json.loads(cli("apikey", "list", "--json").stdout)[0]["revoked_at"]
    assert cli("apikey", "revoke", "nobody").exit_code == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env: dict[str, str], port: int, log: Path, *options: str) -> subprocess.Popen:
    with log.open("ab") as output:  # the child has its own copy of the descriptor
        process = subprocess.Popen(
            [*BIOMATDB, "serve", "--port", str(port), *options], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 600  # a bound on a hang, not a timing
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError("the server did not start:\n" + log.read_text())


@pytest.mark.slow
def test_sigkill_mid_job_leaves_all_or_nothing(engine, tmp_path):
    rows = 60_000
    big = tmp_path / "big.csv"
    big.write_text(
        "Material,Class,Property,Value,Unit\n"
        + "".join(f"Material {i},polymer,tensile strength,{10 + i % 50},MPa\n" for i in range(rows)),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "BIOMATDB_DATA_DIR": str(tmp_path / "data"),
        "BIOMATDB_RATE_LIMIT": "",
        "BIOMATDB_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "BIOMATDB_INGEST_CHUNK_ROWS": "1000",
        "BIOMATDB_JOB_POLL_SECONDS": "0.1",
    }
    key = make_key(engine, "curator")
    headers = {"Authorization": f"Bearer {key}"}
    port = free_port()
    log = tmp_path / "server.log"
    server = start_server(env, port, log)
    try:
        with big.open("rb") as handle:
            response = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/datasets",
                headers=headers,
                timeout=60,
                files={"file": ("big.csv", handle, "text/csv")},
                data={"name": "big"},
            )
        assert response.status_code == 202, response.text
        location = response.headers["location"]
        deadline = time.monotonic() + 600  # a bound on a hang, not a timing
        while True:
            job = httpx.get(location, headers=headers, timeout=60).json()
            if job["status"] == "running" and job["progress"]["rows_done"] >= 3000:
                break
            assert job["status"] in ("queued", "running"), job
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait(30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(30)

    def dataset_state() -> tuple[int, int]:
        with engine.connect() as connection:
            measurements = connection.execute(
                select(func.count()).select_from(Measurement).join(Dataset).where(Dataset.name == "big")
            ).scalar()
            materials = connection.execute(select(func.count()).select_from(Material)).scalar()
        return measurements, materials

    assert dataset_state() in ((0, 0), (rows, rows))
    with engine.connect() as connection:
        assert connection.execute(select(Job.status)).scalar() == "running"  # as the dead process left it

    restarted = start_server(env, port, log)
    try:
        job = httpx.get(location, headers=headers, timeout=60).json()
        assert job["status"] == "failed", job
        assert "stopped before it finished" in job["error"]
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(30)
    assert dataset_state() in ((0, 0), (rows, rows))
    assert not any((tmp_path / "data" / "uploads").glob("*/*"))


@pytest.mark.slow
def test_serve_with_two_workers_runs_every_job_exactly_once(engine, tmp_path):
    """Two worker processes, each with its job runner, share one queue in the database:
    uploads sent at once all succeed, each applied once, and every one is found by search."""
    from concurrent.futures import ThreadPoolExecutor

    env = {
        **os.environ,
        "BIOMATDB_DATA_DIR": str(tmp_path / "data"),
        "BIOMATDB_RATE_LIMIT": "",
        "BIOMATDB_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "BIOMATDB_JOB_POLL_SECONDS": "0.1",
    }
    headers = {"Authorization": f"Bearer {make_key(engine, 'curator')}"}
    port = free_port()
    log = tmp_path / "server.log"
    server = start_server(env, port, log, "--workers", "2")
    base = f"http://127.0.0.1:{port}"

    def upload(number: int) -> str:
        body = "Material,Class,Property,Value,Unit\n" + "".join(
            f"Workermat {number}-{i},polymer,tensile strength,{10 + i},MPa\n" for i in range(200)
        )
        response = httpx.post(
            f"{base}/api/v1/datasets",
            headers=headers,
            timeout=60,
            data={"name": f"workers-{number}"},
            files={"file": (f"workers-{number}.csv", body.encode(), "text/csv")},
        )
        assert response.status_code == 202, response.text
        return response.headers["location"]

    try:
        with ThreadPoolExecutor(6) as pool:
            locations = list(pool.map(upload, range(6)))
        deadline = time.monotonic() + 600  # a bound on a hang, not a timing
        jobs: dict[str, dict[str, Any]] = {}
        while len(jobs) < len(locations):
            for location in locations:
                job = httpx.get(location, headers=headers, timeout=60).json()
                if job["status"] in ("succeeded", "failed"):
                    jobs[location] = job
            assert time.monotonic() < deadline, jobs
            time.sleep(0.1)
        assert [job["status"] for job in jobs.values()] == ["succeeded"] * 6, jobs
        assert all(job["report"]["counts"]["measurements_added"] == 200 for job in jobs.values())
        found = httpx.get(f"{base}/api/v1/materials", params={"q": "Workermat", "limit": 1}, timeout=60).json()
        assert found["total"] == 6 * 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Measurement)).scalar() == 6 * 200
        assert connection.execute(select(func.count()).select_from(Dataset)).scalar() == 6
        assert connection.execute(select(func.count()).select_from(DatasetUpload)).scalar() == 6  # each applied once
        assert connection.execute(select(func.count()).select_from(Job).where(Job.status != "succeeded")).scalar() == 0
    assert log.read_text().count("Started server process") == 2  # uvicorn's line, once per worker
