"""Upload jobs run in processes of their own under memory, CPU and wall-time limits: a job
that hits one fails with a resource-limit issue, nothing of it is applied, and the server
and the next job carry on. On SQLite and PostgreSQL."""

from __future__ import annotations

import anyio
import pytest

from benchmarks.generate import write_long
from tests.api_fixtures import open_client, settings_for
from tests.conftest import snapshot
from tests.test_api_datasets import upload_form, wait_for

pytestmark = pytest.mark.anyio


@pytest.fixture
def heavy_csv(tmp_path):
    path = tmp_path / "heavy.csv"
    write_long(path, 200_000, seed=5)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("limit", "named"),
    [
        ({"job_max_cpu_seconds": 1}, "BIOMATDB_JOB_MAX_CPU_SECONDS"),
        ({"job_max_wall_seconds": 1}, "BIOMATDB_JOB_MAX_WALL_SECONDS"),
        ({"job_max_memory_bytes": 600 << 20}, "BIOMATDB_JOB_MAX_MEMORY_BYTES"),
    ],
    ids=["cpu", "wall", "memory"],
)
async def test_a_job_past_a_resource_limit_fails_and_the_server_carries_on(
    engine, tmp_path, keys, heavy_csv, anyio_backend, limit, named
):
    manager, api = await open_client(settings_for(engine, tmp_path / "data", **limit))
    try:
        before = snapshot(engine)
        heavy = await api.post(
            "/api/v1/datasets",
            headers=keys["curator"],
            files={"file": (heavy_csv.name, heavy_csv.read_bytes(), "text/csv")},
            data={"name": "heavy"},
        )
        failed = await wait_for(api, heavy.headers["location"], keys["curator"], timeout=120)
        assert failed["status"] == "failed", failed
        assert failed["error"].startswith("resource-limit") and named in failed["error"], failed["error"]
        assert [e["type"] for e in failed["report"]["errors"]] == ["resource-limit"]
        after = snapshot(engine)
        for table in ("jobs",):
            after.pop(table), before.pop(table)
        assert after == before  # nothing of it applied
        assert (await api.get("/health")).status_code == 200
        ready = await api.get("/ready")
        assert ready.status_code == 200 and ready.json()["checks"]["jobs"] == "ok"
        # the same worker takes the next job; with the defaults again, since a one-second limit would
        # be a coin toss for any job on a busy machine
        worker = api.app.state.jobs
        worker.settings = worker.settings.model_copy(
            update={name: type(worker.settings).model_fields[name].default for name in limit}
        )
        small = await api.post("/api/v1/datasets", headers=keys["curator"], **upload_form(name="semantics"))
        assert (await wait_for(api, small.headers["location"], keys["curator"]))["status"] == "succeeded"
        # the supervisor removes a job's upload once its process has exited, just after the outcome is written
        with anyio.move_on_after(300):  # a bound, not a timing: the machine may be loaded
            while any((tmp_path / "data" / "uploads").glob("*/*")):
                await anyio.sleep(0.05)
        assert not any((tmp_path / "data" / "uploads").glob("*/*"))
    finally:
        await api.aclose()
        await manager.__aexit__(None, None, None)


async def test_ready_reports_a_job_worker_that_is_down(engine, api):
    assert (await api.get("/ready")).json()["checks"]["jobs"] == "ok"
    api.app.state.jobs.stop()
    ready = await api.get("/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["jobs"] != "ok"


@pytest.mark.slow
def test_cli_ingest_under_its_memory_limit_fails_cleanly(tmp_path, heavy_csv):
    import json
    import os
    import subprocess
    import sys

    cli = [sys.executable, "-c", "from biomatdb.cli import app; app()"]
    env = {**os.environ, "BIOMATDB_DATA_DIR": str(tmp_path / "cli"), "BIOMATDB_JOB_MAX_MEMORY_BYTES": str(700 << 20)}
    done = subprocess.run(
        [*cli, "ingest", str(heavy_csv), "--json"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode != 0
    if done.stdout.strip():  # a MemoryError became a report; a native abort leaves none, but no half-load
        assert json.loads(done.stdout)["errors"][0]["type"] == "resource-limit"
    listed = subprocess.run(
        [*cli, "datasets", "--json"],
        env={**env, "BIOMATDB_JOB_MAX_MEMORY_BYTES": str(8 << 30)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    unlimited = subprocess.run(
        [*cli, "ingest", str(heavy_csv), "--json", "--no-limits"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert unlimited.returncode == 0, unlimited.stderr[-2000:]


def test_process_limits_are_put_back_after_the_block():
    import resource

    from biomatdb.rlimits import process_limits

    before = resource.getrlimit(resource.RLIMIT_AS), resource.getrlimit(resource.RLIMIT_CPU)
    with process_limits(memory_bytes=3 << 30, cpu_seconds=60):
        assert 0 < resource.getrlimit(resource.RLIMIT_AS)[0] <= 3 << 30
        assert resource.getrlimit(resource.RLIMIT_CPU)[0] != resource.RLIM_INFINITY
    assert (resource.getrlimit(resource.RLIMIT_AS), resource.getrlimit(resource.RLIMIT_CPU)) == before
