"""The shape of deploy/compose.yaml on loopback, as real processes: a PostgreSQL primary with a
streaming hot standby, two API processes (``biomatdb serve``; one reads the standby through
``BIOMATDB_DATABASE_READ_URL``, the other the primary) that only queue upload jobs
(``BIOMATDB_JOBS_IN_API=0``), and one ``biomatdb worker`` that runs them.

The sync worker (``biomatdb sync --watch``) is not started: it drains the search outbox into
Elasticsearch, and no Elasticsearch node can run on this machine (see DESIGN.md); with the SQL
backend every API process searches the core itself.

What must hold: a dataset uploaded through one API process is found through the other and
through the standby; the chemistry index that each process built before the upload sees the
new structures (it is kept per generation of the core, a row every write moves, read on every
query); a worker killed with SIGKILL in the middle of a job leaves that dataset all there or
not there at all, takes its job's process with it, and a restarted worker marks that job
failed and goes on with the queue."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import func, select, text

from biomatdb.db import make_engine
from biomatdb.models import Dataset, Material, Measurement
from tests.api_fixtures import make_key
from tests.test_api_serve import BIOMATDB, free_port, start_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

BIG_ROWS = 60_000
ESTER = 'substructure("C(=O)OC")'


#: two esters per upload, of structures no other upload has (one structure is one material)
ESTERS = {
    "Replicatol": ("*CC(*)C(=O)OC", "*CC(*)OC(=O)CC"),
    "Aftermat": ("*CC(*)C(=O)OCC", "*CC(*)C(=O)OCCCC"),
}


def small_csv(prefix: str) -> bytes:
    first, second = ESTERS[prefix]
    return (
        "Material,Class,SMILES,Property,Value,Unit\n"
        f"{prefix} one,polymer,{first},tensile strength,42,MPa\n"
        f"{prefix} two,polymer,{second},tensile strength,17,MPa\n"
    ).encode()


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as output:
        process = subprocess.Popen([*BIOMATDB, "worker"], env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600  # a bound on a hang, not a timing
    while b"biomatdb worker" not in log.read_bytes():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    return process


def upload(base: str, headers: dict[str, str], name: str, body: bytes) -> str:
    response = httpx.post(
        f"{base}/api/v1/datasets",
        headers=headers,
        timeout=120,
        data={"name": name},
        files={"file": (f"{name}.csv", body, "text/csv")},
    )
    assert response.status_code == 202, response.text
    return response.headers["location"]


def job_of(location: str, headers: dict[str, str]) -> dict:
    response = httpx.get(location, headers=headers, timeout=30)
    assert response.status_code == 200, response.text  # the job is read on the primary: never a 404 from lag
    return response.json()


def finished(location: str, headers: dict[str, str], *, within_s: float = 300) -> dict:
    deadline = time.monotonic() + within_s
    while (job := job_of(location, headers))["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    return job


def total(base: str, **query: str) -> int:
    response = httpx.get(f"{base}/api/v1/materials", params=query, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["total"]


def wait_found(bases: list[str], expected: int, *, within_s: float = 120, **query: str) -> None:
    deadline = time.monotonic() + within_s
    for base in bases:
        while (found := total(base, **query)) < expected:
            assert time.monotonic() < deadline, (base, query, found)
            time.sleep(0.1)
        assert found == expected, (base, query, found)


def writing(engine) -> bool:
    """Whether a transaction has held a write (a transaction id) on the core for over a second:
    an ingest's phase 2, which writes every staged chunk in one transaction (a job's progress
    and state updates commit at once)."""
    with engine.connect() as connection:
        return bool(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
                    " AND now() - xact_start > interval '1 second'"
                )
            ).scalar()
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)


def test_two_apis_a_worker_and_a_standby(replicated_core, tmp_path):
    started = time.perf_counter()
    primary = make_engine(replicated_core.primary_url)
    standby = make_engine(replicated_core.standby_url)
    env = {
        **os.environ,
        "BIOMATDB_DATA_DIR": str(tmp_path / "data"),  # shared: the worker reads the uploads the APIs stored
        "BIOMATDB_RATE_LIMIT": "",
        "BIOMATDB_DATABASE_URL": replicated_core.primary_url,
        "BIOMATDB_JOBS_IN_API": "0",
        "BIOMATDB_JOB_POLL_SECONDS": "0.1",
        "BIOMATDB_INGEST_CHUNK_ROWS": "1000",
    }
    reads_standby = {**env, "BIOMATDB_DATABASE_READ_URL": replicated_core.standby_url}
    headers = {"Authorization": f"Bearer {make_key(primary, 'curator')}"}
    ports = (free_port(), free_port())
    a, b = (f"http://127.0.0.1:{port}" for port in ports)
    processes = [
        start_server(reads_standby, ports[0], tmp_path / "api-a.log"),
        start_server(env, ports[1], tmp_path / "api-b.log"),
    ]
    worker_log = tmp_path / "worker.log"
    worker = start_worker(env, worker_log)
    lags: list[float] = []

    def standby_lag() -> None:
        replica = httpx.get(f"{a}/ready", timeout=30).json()["replica"]
        lags.append(replica["lag_seconds"])

    def big_state() -> tuple[int, int]:
        with primary.connect() as connection:
            measurements = connection.execute(
                select(func.count()).select_from(Measurement).join(Dataset).where(Dataset.name == "big")
            ).scalar_one()
            materials = connection.execute(
                select(func.count()).select_from(Material).where(Material.name.like("Bigmat %"))
            ).scalar_one()
        return measurements, materials

    try:
        # each API process builds its chemistry index before the upload
        assert total(a, filter=ESTER) == total(b, filter=ESTER) == 0
        assert total(a, q="Replicatol") == total(b, q="Replicatol") == 0

        first = finished(upload(a, headers, "replicated", small_csv("Replicatol")), headers)
        assert first["status"] == "succeeded", first
        standby_lag()
        wait_found([a, b], 2, q="Replicatol")
        wait_found([a, b], 2, filter=ESTER)  # both processes' chemistry indexes moved to the new generation
        with standby.connect() as connection:
            assert (
                connection.execute(
                    select(func.count()).select_from(Material).where(Material.name.like("Replicatol %"))
                ).scalar()
                == 2
            )
        standby_lag()

        big = tmp_path / "big.csv"
        big.write_text(
            "Material,Class,Property,Value,Unit\n"
            + "".join(f"Bigmat {i},polymer,tensile strength,{10 + i % 50},MPa\n" for i in range(BIG_ROWS)),
            encoding="utf-8",
        )
        with big.open("rb") as handle:
            big_job = upload(b, headers, "big", handle.read())
        deadline = time.monotonic() + 300
        while not ((job := job_of(big_job, headers))["status"] == "running" and writing(primary)):
            assert job["status"] in ("queued", "running"), job
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
        killed_after_rows = job["progress"]["rows_done"]
        descendants = psutil.Process(worker.pid).children(recursive=True)  # the fork server and the job's process
        assert descendants, "the job runs in a process of its own"
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        _gone, alive = psutil.wait_procs(descendants, timeout=60)
        assert alive == [], f"processes outlived the killed worker: {alive}"
        big_state_after = big_state()
        assert big_state_after in ((0, 0), (BIG_ROWS, BIG_ROWS))
        assert job_of(big_job, headers)["status"] == "running"  # as the dead worker left it

        queued = upload(a, headers, "after-kill", small_csv("Aftermat"))
        assert job_of(queued, headers)["status"] == "queued"  # nothing runs jobs meanwhile
        worker = start_worker(env, worker_log)
        killed = finished(big_job, headers)
        assert killed["status"] == "failed" and "stopped before it finished" in killed["error"], killed
        resumed = finished(queued, headers)
        assert resumed["status"] == "succeeded", resumed
        wait_found([a, b], 2, q="Aftermat")
        wait_found([a, b], 4, filter=ESTER)
        assert big_state() in ((0, 0), (BIG_ROWS, BIG_ROWS))
        assert total(a, q="Bigmat") == total(b, q="Bigmat") == big_state()[1]
        standby_lag()
    finally:
        for process in [*processes, worker]:
            stop(process)
        primary.dispose()
        standby.dispose()
    assert not any((tmp_path / "data" / "uploads").glob("*/*"))
    print(
        f"\nstandby started in {replicated_core.servers.standby_start_s:.2f} s; lag seen through /ready: "
        f"{', '.join(f'{lag:.3f} s' for lag in lags)}; worker killed in the big job's write transaction after"
        f" {killed_after_rows:,} rows read, which left {big_state_after} (measurements, materials);"
        f" the test took {time.perf_counter() - started:.1f} s"
    )
