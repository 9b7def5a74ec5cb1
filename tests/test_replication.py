"""A PostgreSQL primary with a streaming hot standby (``tests.postgres.pg_replicated``): the
standby follows the primary, ``/ready`` reports how far behind it is, and the API sends its
searches to the standby (``BIOMATDB_DATABASE_READ_URL``) while job status, API-key checks and
writes stay on the primary.

The standby's replay is paused (``pg_wal_replay_pause()``) to make it lag on purpose: what the
API answers while it is paused tells which server each route read."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import anyio
import pytest
from sqlalchemy import text

from biomatdb.db import make_engine
from biomatdb.replication import ReplicaLag, _replay_lag_s, lag_warning, replica_lag, seconds_behind
from tests.api_fixtures import make_key, open_client, settings_for
from tests.postgres import ReplicatedCore, admin_connection

CSV = (
    "Material,Class,SMILES,Property,Value,Unit\n"
    "Replicatol acrylate,polymer,*CC(*)C(=O)OC,tensile strength,42,MPa\n"
    "Replicatol ester,polymer,*CC(*)OC(=O)C,tensile strength,17,MPa\n"
)


@contextlib.contextmanager
def replay_paused(core: ReplicatedCore) -> Iterator[None]:
    """The standby receives WAL but applies none of it until the block ends."""
    with admin_connection(core.servers.standby) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")


def write_on_primary(core: ReplicatedCore, name: str) -> None:
    with admin_connection(core.servers.primary) as primary:
        primary.execute(f'CREATE TABLE IF NOT EXISTS "{name}" (id int)')


def test_the_standby_follows_the_primary(replicated_core):
    with admin_connection(replicated_core.servers.standby) as standby:
        in_recovery, receiver = standby.execute(
            "SELECT pg_is_in_recovery(), (SELECT status FROM pg_stat_wal_receiver)"
        ).fetchone()
    assert (in_recovery, receiver) == (True, "streaming")
    write_on_primary(replicated_core, "followed")
    replicated_core.wait_replayed()
    with admin_connection(replicated_core.servers.standby) as standby:
        assert standby.execute("SELECT to_regclass('followed') IS NOT NULL").fetchone() == (True,)


def test_replica_lag_counts_what_the_standby_has_not_replayed(replicated_core):
    primary = make_engine(replicated_core.primary_url)
    standby = make_engine(replicated_core.standby_url)
    try:
        with replay_paused(replicated_core):
            write_on_primary(replicated_core, "unreplayed")
            with primary.connect() as writing, standby.connect() as reading:
                behind = replica_lag(writing, reading)
        replicated_core.wait_replayed()
        with primary.connect() as writing, standby.connect() as reading:
            caught_up = replica_lag(writing, reading)
            # the primary is not in recovery: read as a replica it says so, and has no lag to give
            promoted = replica_lag(reading, writing)
    finally:
        primary.dispose()
        standby.dispose()
    assert behind is not None and behind.in_recovery
    assert behind.lag_bytes is not None and behind.lag_bytes > 0
    assert behind.lag_seconds is not None and behind.lag_seconds >= 0
    assert caught_up is not None and caught_up.in_recovery and caught_up.lag_bytes is not None
    assert caught_up.lag_bytes == 0 or caught_up.lag_bytes < behind.lag_bytes
    assert promoted == ReplicaLag(in_recovery=False, lag_bytes=None, lag_seconds=None)


@pytest.mark.parametrize(
    ("lag", "warned"),
    [
        (None, None),
        (ReplicaLag(in_recovery=True, lag_bytes=0, lag_seconds=0.0), None),
        (ReplicaLag(in_recovery=True, lag_bytes=4096, lag_seconds=29.9), None),
        (ReplicaLag(in_recovery=True, lag_bytes=4096, lag_seconds=30.1), "30.1 s (4,096 bytes of WAL) behind"),
        (ReplicaLag(in_recovery=False, lag_bytes=None, lag_seconds=None), "not in recovery"),
    ],
)
def test_lag_warning(lag, warned):
    warning = lag_warning(lag, warn_after_s=30.0)
    if warned is None:
        assert warning is None
    else:
        assert warning is not None and warned in warning


def replicated_settings(core: ReplicatedCore, tmp_path, **overrides):
    return settings_for(
        make_engine(core.primary_url), tmp_path / "data", database_read_url=core.standby_url, **overrides
    )


async def wait_job(client, location: str, headers: dict[str, str]) -> dict:
    with anyio.fail_after(600):
        while True:
            job = (await client.get(location, headers=headers)).json()
            if job.get("status") in ("succeeded", "failed"):
                return job
            await anyio.sleep(0.05)


@pytest.mark.anyio
async def test_searches_read_the_standby_and_jobs_the_primary(replicated_core, tmp_path, anyio_backend):
    primary = make_engine(replicated_core.primary_url)
    settings = replicated_settings(replicated_core, tmp_path, replication_lag_warn_seconds=1e-6)
    manager, client = await open_client(settings)
    try:
        with replay_paused(replicated_core):
            # made on the primary while the standby applies nothing: a key check on the standby would refuse it
            headers = {"Authorization": f"Bearer {make_key(primary, 'curator')}"}
            response = await client.post(
                "/api/v1/datasets",
                headers=headers,
                data={"name": "replicated"},
                files={"file": ("replicated.csv", CSV.encode(), "text/csv")},
            )
            assert response.status_code == 202, response.text
            job = await wait_job(client, response.headers["location"], headers)
            assert job["status"] == "succeeded", job  # read on the primary: the standby has no such job yet
            with primary.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM materials")).scalar() == 2
            found = (await client.get("/api/v1/materials", params={"q": "Replicatol"})).json()
            assert found["total"] == 0  # the search read the standby, which has not replayed the upload
            chemistry = (await client.get("/api/v1/materials", params={"filter": 'substructure("C(=O)OC")'})).json()
            assert chemistry["total"] == 0
            lagging = (await client.get("/ready")).json()
        replicated_core.wait_replayed()
        with anyio.fail_after(600):  # the in-memory index is rebuilt in the background; SQL answers meanwhile
            while (found := (await client.get("/api/v1/materials", params={"q": "Replicatol"})).json())["total"] < 2:
                await anyio.sleep(0.05)
        chemistry = (await client.get("/api/v1/materials", params={"filter": 'substructure("C(=O)OC")'})).json()
        caught_up = (await client.get("/ready")).json()
    finally:
        await client.aclose()
        await manager.__aexit__(None, None, None)
        primary.dispose()
    assert sorted(hit["name"] for hit in found["results"]) == ["Replicatol acrylate", "Replicatol ester"]
    assert chemistry["total"] >= 1  # the chemistry index saw the replayed generation
    assert lagging["status"] == "ready" and lagging["checks"]["database_read"] == "ok"
    assert lagging["replica"]["in_recovery"] is True and lagging["replica"]["lag_bytes"] > 0
    assert any("behind the primary" in warning for warning in lagging["warnings"]), lagging
    assert caught_up["replica"]["in_recovery"] is True


@pytest.mark.anyio
async def test_ready_fails_when_the_replica_is_away(replicated_core, tmp_path, anyio_backend):
    settings = replicated_settings(replicated_core, tmp_path)
    away = settings.model_copy(
        update={"database_read_url": replicated_core.standby_url.replace(replicated_core.dbname, "no_such_database")}
    )
    manager, client = await open_client(away)
    try:
        response = await client.get("/ready")
    finally:
        await client.aclose()
        await manager.__aexit__(None, None, None)
    assert response.status_code == 503
    assert response.json()["checks"]["database_read"].startswith("unreachable")
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.parametrize(
    ("lag_bytes", "replay_lag_s", "replay_age_s", "behind"),
    [
        (0, None, 42.0, 0.0),  # replayed everything: no lag, however long the core sat idle
        (8_192, 0.25, 42.0, 0.25),  # the primary's own measure wins over the idle time (the false alarm)
        (8_192, None, 42.0, 42.0),  # none visible: the age of the newest replayed transaction, an upper bound
        (8_192, None, None, None),
    ],
)
def test_seconds_behind_is_the_primarys_replay_lag_when_it_has_one(lag_bytes, replay_lag_s, replay_age_s, behind):
    assert seconds_behind(lag_bytes=lag_bytes, replay_lag_s=replay_lag_s, replay_age_s=replay_age_s) == behind


def test_the_primarys_replay_lag_for_this_standby_is_found(replicated_core):
    """``seconds_behind`` reads the primary's own measure for this standby (its row of
    pg_stat_replication), right after a write the standby replayed."""
    primary = make_engine(replicated_core.primary_url)
    standby = make_engine(replicated_core.standby_url)
    try:
        # the primary learns of the replay from the standby's next status message, so right after
        # the replay its row may still hold NULL (as it does for an idle, caught-up standby): ask
        # again, after another write, until it has a figure (a bound on a hang, not a timing)
        deadline = time.monotonic() + 600
        measured, attempt = None, 0
        while measured is None and time.monotonic() < deadline:
            attempt += 1
            write_on_primary(replicated_core, f"measured_{attempt}")  # a new table: WAL to replay
            replicated_core.wait_replayed()
            with primary.connect() as writing, standby.connect() as reading:
                measured = _replay_lag_s(writing, reading)
            if measured is None:
                time.sleep(0.2)
    finally:
        primary.dispose()
        standby.dispose()
    assert measured is not None and 0 <= measured < 60, measured
