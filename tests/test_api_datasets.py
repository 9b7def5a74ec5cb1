"""Curators upload datasets as jobs; admins retract them; keys and roles guard both."""

from __future__ import annotations

import anyio
import openpyxl
import pytest
from sqlalchemy import func, select

from biomatdb.apikeys import revoke_key
from biomatdb.models import Dataset, DatasetUpload, Job, Measurement, SearchOutbox
from tests.api_fixtures import SEMANTICS_CSV, make_key, open_client, settings_for
from tests.conftest import snapshot

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"


def upload_form(path=SEMANTICS_CSV, **fields):
    return {
        "files": {"file": (path.name, path.read_bytes(), "text/csv")},
        "data": {key: str(value) for key, value in fields.items()},
    }


async def wait_for(api, location: str, headers, *, timeout: float = 600.0) -> dict:
    # a bound on a hung job, not a timed assertion: a job runs in its own process, whose start
    # (importing RDKit, pandas) took more than 60 s at a load average of 20 on 2 cores
    with anyio.fail_after(timeout):
        while True:
            job = (await api.get(location, headers=headers)).json()
            if job["status"] in ("succeeded", "failed"):
                return job
            await anyio.sleep(0.05)


@pytest.mark.slow
async def test_upload_becomes_a_job_and_its_materials_are_found(engine, api, keys):
    response = await api.post(
        "/api/v1/datasets", headers=keys["curator"], **upload_form(name="semantics", license="CC-BY-4.0")
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] in ("queued", "running", "succeeded")
    assert job["dataset"] == "semantics" and job["created_by"] == "test-curator"
    assert job["progress"]["rows_total"] == 17
    location = response.headers["location"]
    assert location.endswith(f"/api/v1/jobs/{job['id']}")

    searches: list[int] = []

    async def search_meanwhile():
        while len(searches) < 20:
            answer = await api.get("/api/v1/materials", params={"filter": "class = polymer"})
            assert answer.status_code == 200
            searches.append(answer.json()["total"])

    async with anyio.create_task_group() as group:
        group.start_soon(search_meanwhile)
        done = await wait_for(api, location, keys["curator"])
    assert done["status"] == "succeeded", done
    assert done["progress"]["rows_done"] == 17
    assert done["report"]["loaded"] is True and done["report"]["counts"]["materials_created"] == 6
    assert set(searches) <= {0, 2}
    found = (await api.get("/api/v1/materials", params={"filter": "class = polymer"})).json()
    assert [hit["name"] for hit in found["results"]] == ["Alpha", "Beta"]
    datasets = (await api.get("/api/v1/datasets")).json()
    assert [(d["name"], d["license"], d["uploader"], d["measurements"]) for d in datasets] == [
        ("semantics", "CC-BY-4.0", "test-curator", 17)
    ]
    one = (await api.get("/api/v1/datasets/semantics")).json()
    assert one == datasets[0] == (await api.get(f"/api/v1/datasets/{one['id']}")).json()
    assert len(one["history"]) == 1
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Job).where(Job.status == "succeeded")).scalar() == 1
    assert not any((api.app.state.settings.data_dir / "uploads").glob("*/*")), "the upload file is removed"


async def test_dry_run_and_a_bad_file_change_nothing(engine, api, keys, tmp_path):
    before = snapshot(engine)
    dry = await api.post("/api/v1/datasets", headers=keys["curator"], **upload_form(dry_run="true"))
    done = await wait_for(api, dry.headers["location"], keys["curator"])
    assert done["status"] == "succeeded" and done["report"]["dry_run"] is True and done["report"]["loaded"] is False
    bad = tmp_path / "bad.csv"
    bad.write_text("Material,Young's modulus (GPa)\nAlpha,2\nBeta,lots\n", encoding="utf-8")
    failed = await api.post("/api/v1/datasets", headers=keys["curator"], **upload_form(bad))
    done = await wait_for(api, failed.headers["location"], keys["curator"])
    assert done["status"] == "failed"
    assert done["report"]["errors"][0]["row"] == 2 and done["report"]["errors"][0]["type"] == "type-error"
    after = snapshot(engine)
    assert {k: v for k, v in after.items() if k != "jobs"} == {k: v for k, v in before.items() if k != "jobs"}


async def test_skip_invalid_loads_the_valid_rows(engine, api, keys, tmp_path):
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("Material,Young's modulus (GPa)\nAlpha,2\nBeta,lots\n", encoding="utf-8")
    response = await api.post("/api/v1/datasets", headers=keys["curator"], **upload_form(mixed, skip_invalid="1"))
    done = await wait_for(api, response.headers["location"], keys["curator"])
    assert done["status"] == "succeeded" and done["report"]["counts"]["rows_skipped"] == 1
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Measurement)).scalar() == 1


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("garbage", 401), ("revoked", 401), ("reader", 403)])
async def test_upload_needs_a_curator_key(engine, api, keys, role, status):
    headers = {}
    if role == "garbage":
        headers = {"Authorization": "Bearer bmdb_0000_not-a-key"}
    elif role == "revoked":
        headers = {"Authorization": f"Bearer {make_key(engine, 'curator', 'leaver')}"}
        with engine.begin() as connection:
            revoke_key(connection, "leaver")
    elif role:
        headers = keys[role]
    response = await api.post("/api/v1/datasets", headers=headers, **upload_form())
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
        # missing, unknown and revoked keys read exactly alike
        assert response.json()["detail"] == "this route needs a valid API key, sent as 'Authorization: Bearer <key>'"
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Job)).scalar() == 0


async def test_jobs_need_a_curator_key_and_exist(api, keys):
    assert (await api.get("/api/v1/jobs/nope")).status_code == 401
    assert (await api.get("/api/v1/jobs/nope", headers=keys["reader"])).status_code == 403
    missing = await api.get("/api/v1/jobs/nope", headers=keys["curator"])
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(("filename", "status"), [("notes.pdf", 415), ("../../etc/passwd", 415)])
async def test_unsupported_files_are_refused(api, keys, filename, status):
    response = await api.post(
        "/api/v1/datasets", headers=keys["curator"], files={"file": (filename, b"x", "application/octet-stream")}
    )
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM


def _workbook_bytes(tmp_path) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Material", "Density (g/cm3)"])
    sheet.append(["HA", 3.16])
    book.save(tmp_path / "book.xlsx")
    return (tmp_path / "book.xlsx").read_bytes()


@pytest.mark.parametrize("filename", ["lab-export", "lab.csv", "lab.dat"])
async def test_an_upload_is_judged_by_its_content_as_the_cli_judges_a_file(engine, keys, tmp_path, filename):
    # a workbook under no suffix, a text suffix or an unknown one is still the workbook it is;
    # its rows are not counted as lines of text (a zip's newlines are no rows). No worker: the
    # job stays queued, as it is for `biomatdb worker` processes
    manager, api = await open_client(settings_for(engine, tmp_path / "data", jobs_in_api=False))
    try:
        response = await api.post(
            "/api/v1/datasets",
            headers=keys["curator"],
            files={"file": (filename, _workbook_bytes(tmp_path), "application/octet-stream")},
            data={"name": "misnamed", "dry_run": "true"},
        )
    finally:
        await api.aclose()
        await manager.__aexit__(None, None, None)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued" and response.json()["progress"]["rows_total"] is None


async def test_a_refused_upload_leaves_no_file_behind(api, keys, api_settings):
    response = await api.post(
        "/api/v1/datasets", headers=keys["curator"], files={"file": ("table.dat", b"a,b\n1,2\n", "text/plain")}
    )
    assert response.status_code == 415
    assert "table.dat: unsupported file type" in response.json()["detail"]
    uploads = api_settings.data_dir / "uploads"
    assert not uploads.exists() or not any(uploads.rglob("*.dat"))


async def test_an_upload_without_a_file_is_422(api, keys):
    response = await api.post("/api/v1/datasets", headers=keys["curator"], files={"name": (None, "x")})
    assert response.status_code == 422
    response = await api.post("/api/v1/datasets", headers=keys["curator"], json={"file": "x"})
    assert response.status_code == 415


async def test_too_large_uploads_are_refused_while_streaming(engine, tmp_path, keys, anyio_backend):
    settings = settings_for(engine, tmp_path / "data", upload_max_bytes=1000)
    manager, api = await open_client(settings)
    try:
        declared = await api.post(
            "/api/v1/datasets", headers=keys["curator"], files={"file": ("big.csv", b"a,b\n" * 100_000, "text/csv")}
        )
        assert declared.status_code == 413 and declared.headers["content-type"] == PROBLEM
        boundary = "b0undary"
        chunks_sent = []

        async def body():  # chunked: no Content-Length, so only counting the bytes can refuse it
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
                "Content-Type: text/csv\r\n\r\n"
            ).encode()
            for _ in range(1000):
                chunks_sent.append(1)
                yield b"x" * 500

        streamed = await api.post(
            "/api/v1/datasets",
            content=body(),
            headers={**keys["curator"], "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert streamed.status_code == 413 and streamed.json()["limit"] == 1000
        assert len(chunks_sent) < 10
        assert not any((tmp_path / "data" / "uploads").glob("*/*"))
    finally:
        await api.aclose()
        await manager.__aexit__(None, None, None)


@pytest.mark.slow
async def test_retraction_keeps_history_and_queues_the_index(engine, api, keys):
    response = await api.post("/api/v1/datasets", headers=keys["curator"], **upload_form(name="semantics"))
    assert (await wait_for(api, response.headers["location"], keys["curator"]))["status"] == "succeeded"
    with engine.connect() as connection:
        outbox_before = connection.execute(select(func.count()).select_from(SearchOutbox)).scalar()
    other_curator = {"Authorization": f"Bearer {make_key(engine, 'curator', 'other-curator')}"}
    assert (await api.delete("/api/v1/datasets/semantics", headers=other_curator)).status_code == 403
    assert (await api.delete("/api/v1/datasets/semantics", headers=keys["reader"])).status_code == 403
    retracted = await api.delete("/api/v1/datasets/semantics", headers=keys["admin"])
    assert retracted.status_code == 200, retracted.text
    body = retracted.json()
    assert body["measurements_retracted"] == 17 and body["materials_removed"] == 6
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Measurement)).scalar() == 0
        assert connection.execute(select(func.count()).select_from(DatasetUpload)).scalar() == 1
        assert connection.execute(select(Dataset.retracted_at)).scalar() is not None
        # no Elasticsearch is configured: nothing is queued for it (tests/test_search_outbox.py
        # shows a retraction queueing its materials when one is)
        assert connection.execute(select(func.count()).select_from(SearchOutbox)).scalar() == outbox_before == 0
    assert (await api.get("/api/v1/materials")).json()["total"] == 0
    dataset = (await api.get("/api/v1/datasets/semantics")).json()
    assert dataset["retracted_at"] and dataset["measurements"] == 0 and len(dataset["history"]) == 1
    again = await api.post("/api/v1/datasets", headers=keys["curator"], **upload_form(name="semantics"))
    done = await wait_for(api, again.headers["location"], keys["curator"])
    assert done["status"] == "succeeded" and done["report"]["counts"]["measurements_added"] == 17
    assert (await api.get("/api/v1/datasets/semantics")).json()["retracted_at"] is None
    assert (await api.delete("/api/v1/datasets/nope", headers=keys["admin"])).status_code == 404


async def test_read_only_turns_every_write_off(engine, tmp_path, keys, anyio_backend):
    manager, api = await open_client(settings_for(engine, tmp_path / "data", read_only=True))
    try:
        upload = await api.post("/api/v1/datasets", headers=keys["admin"], **upload_form())
        retract = await api.delete("/api/v1/datasets/1", headers=keys["admin"])
        anonymous = await api.post("/api/v1/datasets", **upload_form())
        reads = await api.get("/api/v1/materials")
    finally:
        await api.aclose()
        await manager.__aexit__(None, None, None)
    for response in (upload, retract, anonymous):
        assert response.status_code == 403
        assert response.json()["type"] == "urn:biomatdb:problem:read-only"
    assert reads.status_code == 200


async def test_180mb_of_form_fields_is_refused_not_held(api, keys):
    """Only the file part was counted: many fields of 64 KB each grew the server by 165 MB."""

    async def body():
        for index in range(3_000):
            yield (b'--b\r\nContent-Disposition: form-data; name="f%d"\r\n\r\n' % index) + b"x" * 60_000 + b"\r\n"
        yield b"--b--\r\n"

    refused = await api.post(
        "/api/v1/datasets",
        headers={**keys["curator"], "content-type": "multipart/form-data; boundary=b"},
        content=body(),
    )
    assert refused.status_code == 413 and refused.headers["content-type"] == PROBLEM
    assert refused.json()["limit"] in (32, 256 * 1024)


def test_an_upload_folder_left_by_a_killed_server_is_removed_at_start(engine, tmp_path):
    import os

    from biomatdb_api.jobs import JobWorker

    settings = settings_for(engine, tmp_path / "data")
    stale = settings.data_dir / "uploads" / "0123abcd"
    stale.mkdir(parents=True)
    (stale / "half.csv").write_text("Material,E (GPa)\nA,", encoding="utf-8")
    os.utime(stale, (0, 0))
    fresh = settings.data_dir / "uploads" / "streaming-now"
    fresh.mkdir()
    worker = JobWorker(settings, engine)
    worker.start()
    worker.stop()
    assert not stale.exists() and fresh.exists()


async def test_upload_map_entries_read_columns_and_an_unknown_property_is_422(engine, api, keys, tmp_path):
    stiffness = tmp_path / "stiffness.csv"
    stiffness.write_text("Material,Stiffnes (GPa),Modulus\nPLLA,3.5,2\n", encoding="utf-8")
    files = {"file": (stiffness.name, stiffness.read_bytes(), "text/csv")}
    before = snapshot(engine)
    typo = await api.post(
        "/api/v1/datasets",
        headers=keys["curator"],
        files=files,
        data={"map": ["Modulus=ignore", "Stiffnes (GPa)=youngs_modulos"]},
    )
    assert typo.status_code == 422 and typo.headers["content-type"] == PROBLEM
    assert "did you mean youngs_modulus" in typo.json()["detail"] and typo.json()["suggestions"][0] == "youngs_modulus"
    assert snapshot(engine) == before  # not even a job

    response = await api.post(
        "/api/v1/datasets",
        headers=keys["curator"],
        files=files,
        data={"map": ["Stiffnes (GPa)=youngs_modulus", "Modulus=ignore"]},
    )
    assert response.status_code == 202, response.text
    assert response.json()["options"]["map"] == ["Stiffnes (GPa)=youngs_modulus", "Modulus=ignore"]
    done = await wait_for(api, response.headers["location"], keys["curator"])
    assert done["status"] == "succeeded", done
    assert done["report"]["warnings"] == [] and done["report"]["counts"]["measurements_added"] == 1

    missing = await api.post(
        "/api/v1/datasets",
        headers=keys["curator"],
        files=files,
        data={"map": "Stifnes (GPa)=youngs_modulus", "name": "other"},
    )
    done = await wait_for(api, missing.headers["location"], keys["curator"])
    assert done["status"] == "failed"
    [error] = done["report"]["errors"]
    assert (error["type"], error["column"]) == ("manifest-error", "Stifnes (GPa)")
    assert "does not have; did you mean Stiffnes (GPa)?" in error["message"]


async def test_a_strict_upload_refuses_a_warning_and_changes_nothing(engine, api, keys, tmp_path):
    odd = tmp_path / "odd.csv"
    odd.write_text("Material,Young's modulus (GPa),Mystery\nAlpha,2,x\n", encoding="utf-8")
    before = snapshot(engine)
    response = await api.post("/api/v1/datasets", headers=keys["curator"], **upload_form(odd, strict="true"))
    assert response.json()["options"]["strict"] is True
    done = await wait_for(api, response.headers["location"], keys["curator"])
    assert done["status"] == "failed" and done["report"]["strict"] is True
    assert [(e["type"], e["column"]) for e in done["report"]["errors"]] == [("unknown-column", "Mystery")]
    after = snapshot(engine)
    assert {k: v for k, v in after.items() if k != "jobs"} == {k: v for k, v in before.items() if k != "jobs"}

    loose = await api.post("/api/v1/datasets", headers=keys["curator"], **upload_form(odd))
    done = await wait_for(api, loose.headers["location"], keys["curator"])
    assert done["status"] == "succeeded" and [w["type"] for w in done["report"]["warnings"]] == ["unknown-column"]
    bad_flag = await api.post("/api/v1/datasets", headers=keys["curator"], **upload_form(odd, strict="maybe"))
    assert bad_flag.status_code == 422 and "strict" in bad_flag.json()["detail"]
