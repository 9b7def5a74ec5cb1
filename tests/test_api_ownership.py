"""No curator can destroy another's data: a dataset belongs to the key that first uploaded
it; replacing or retracting it needs that key or an admin; the shipped fixtures belong to
no curator; a job is its submitter's and the admins' to see; a replace that removes most
of a dataset needs replace=true. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from biomatdb.apikeys import revoke_key
from biomatdb.models import Dataset
from biomatdb.ownership import Actor
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from tests.api_fixtures import SEMANTICS_CSV, make_key
from tests.conftest import snapshot
from tests.test_api_datasets import upload_form, wait_for

pytestmark = pytest.mark.anyio

ONE_ROW = "Material,Class,Young's modulus [GPa]\nIntruder,polymer,1\n"


def _one_row_csv(tmp_path: Path) -> Path:
    path = tmp_path / "one-row.csv"
    path.write_text(ONE_ROW, encoding="utf-8")
    return path


def _bearer(engine, role: str, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(engine, role, name)}"}


async def _upload(api, headers, path=SEMANTICS_CSV, **fields) -> dict:
    response = await api.post("/api/v1/datasets", headers=headers, **upload_form(path, **fields))
    assert response.status_code == 202, response.text
    return await wait_for(api, response.headers["location"], headers)


async def test_a_curator_cannot_replace_another_curators_dataset(engine, api, keys, tmp_path):
    assert (await _upload(api, keys["curator"], name="semantics"))["status"] == "succeeded"
    before = snapshot(engine)
    other = _bearer(engine, "curator", "other-curator")
    refused = await api.post("/api/v1/datasets", headers=other, **upload_form(_one_row_csv(tmp_path), name="semantics"))
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:biomatdb:problem:forbidden" and "semantics" in refused.json()["detail"]
    assert (await api.delete("/api/v1/datasets/semantics", headers=other)).status_code == 403
    after = snapshot(engine)
    after.pop("api_keys"), before.pop("api_keys")  # the other curator's key is the one new row
    assert after == before


@pytest.mark.slow
async def test_the_shipped_fixtures_belong_to_no_curator(engine, api, keys, tmp_path):
    assert ingest_file(engine, SEMANTICS_CSV, IngestOptions(dataset="biomatdb-curated-polymers")).ok
    before = snapshot(engine)
    path = _one_row_csv(tmp_path)
    refused = await api.post(
        "/api/v1/datasets", headers=keys["curator"], **upload_form(path, name="biomatdb-curated-polymers")
    )
    assert refused.status_code == 403 and "no curator" in refused.json()["detail"]
    assert (await api.delete("/api/v1/datasets/biomatdb-curated-polymers", headers=keys["curator"])).status_code == 403
    assert snapshot(engine) == before
    done = await _upload(api, keys["admin"], path, name="biomatdb-curated-polymers", replace="true")
    assert done["status"] == "succeeded", done
    assert done["report"]["counts"]["measurements_removed"] == 17


def test_the_load_itself_refuses_a_change_by_another_key(engine):
    """Checked again inside the load's transaction, so a race past the API's check changes nothing."""
    owner, other = Actor(key_id=1, name="owner"), Actor(key_id=2, name="other")
    assert ingest_file(engine, SEMANTICS_CSV, IngestOptions(dataset="semantics", actor=owner)).ok
    with engine.connect() as connection:
        assert connection.execute(select(Dataset.owner_key_id)).scalar_one() == 1
    before = snapshot(engine)
    report = ingest_file(engine, SEMANTICS_CSV, IngestOptions(dataset="semantics", actor=other))
    assert not report.loaded and [e.type for e in report.errors] == ["forbidden"]
    assert report.errors[0].value == "semantics"
    assert snapshot(engine) == before
    admin = Actor(key_id=3, name="admin", admin=True)
    assert ingest_file(engine, SEMANTICS_CSV, IngestOptions(dataset="semantics", actor=admin)).ok


@pytest.mark.slow
async def test_a_replace_that_removes_most_of_a_dataset_needs_replace_true(engine, api, keys, tmp_path):
    assert (await _upload(api, keys["curator"], name="semantics"))["status"] == "succeeded"
    before = snapshot(engine)
    path = _one_row_csv(tmp_path)
    unconfirmed = await _upload(api, keys["curator"], path, name="semantics")
    assert unconfirmed["status"] == "failed"
    errors = unconfirmed["report"]["errors"]
    assert [e["type"] for e in errors] == ["replace-unconfirmed"]
    assert "17 of the 17 measurements" in errors[0]["message"] and "replace=true" in errors[0]["message"]
    assert unconfirmed["report"]["counts"]["measurements_removed"] == 17  # what would go, as a dry run says
    after = snapshot(engine)
    after.pop("jobs"), before.pop("jobs")
    assert after == before
    confirmed = await _upload(api, keys["curator"], path, name="semantics", replace="true")
    assert confirmed["status"] == "succeeded" and confirmed["report"]["counts"]["measurements_added"] == 1


async def test_the_owner_may_retract_their_dataset(engine, api, keys):
    assert (await _upload(api, keys["curator"], name="semantics"))["status"] == "succeeded"
    retracted = await api.delete("/api/v1/datasets/semantics", headers=keys["curator"])
    assert retracted.status_code == 200 and retracted.json()["measurements_retracted"] == 17


async def test_a_job_is_seen_by_its_submitter_and_admins_only(engine, api, keys):
    response = await api.post("/api/v1/datasets", headers=keys["curator"], **upload_form(name="semantics"))
    location = response.headers["location"]
    await wait_for(api, location, keys["curator"])
    other = _bearer(engine, "curator", "other-curator")
    seen = {
        who: (await api.get(location, headers=headers)).status_code
        for who, headers in (
            ("submitter", keys["curator"]),
            ("admin", keys["admin"]),
            ("other", other),
            ("reader", keys["reader"]),
            ("nobody", {}),
        )
    }
    assert seen == {"submitter": 200, "admin": 200, "other": 404, "reader": 403, "nobody": 401}


@pytest.mark.slow
async def test_a_job_whose_key_was_revoked_before_it_ran_applies_nothing(engine, api, keys):
    from biomatdb_api.jobs import enqueue, new_job_id, upload_dir

    job_id = new_job_id()
    directory = upload_dir(api.app.state.settings, job_id)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "semantics.csv").write_bytes(SEMANTICS_CSV.read_bytes())
    with engine.begin() as connection:
        revoked_id = int(revoke_key(connection, "test-curator")["id"])
    before = snapshot(engine)
    enqueue(
        engine,
        job_id=job_id,
        dataset="semantics",
        filename="semantics.csv",
        path=directory / "semantics.csv",
        options={},
        created_by="test-curator",
        created_by_key_id=revoked_id,
    )
    api.app.state.jobs.notify()
    job = await wait_for(api, f"/api/v1/jobs/{job_id}", keys["admin"])
    assert job["status"] == "failed" and "revoked" in job["error"]
    after = snapshot(engine)
    after.pop("jobs"), before.pop("jobs")
    assert after == before


# --- the authorisation matrix: every write and private route, every kind of caller ----------------

CALLERS = ("nobody", "revoked", "reader", "curator", "other-curator", "admin")
# what each caller gets on a dataset and a job that belong to "curator"
EXPECTED = {
    "upload a new dataset": {
        "nobody": 401,
        "revoked": 401,
        "reader": 403,
        "curator": 202,
        "other-curator": 202,
        "admin": 202,
    },
    "replace the dataset": {
        "nobody": 401,
        "revoked": 401,
        "reader": 403,
        "curator": 202,
        "other-curator": 403,
        "admin": 202,
    },
    "see the job": {"nobody": 401, "revoked": 401, "reader": 403, "curator": 200, "other-curator": 404, "admin": 200},
    "retract the dataset": {
        "nobody": 401,
        "revoked": 401,
        "reader": 403,
        "curator": 200,
        "other-curator": 403,
        "admin": 200,
    },
    "read the dataset": dict.fromkeys(CALLERS, 200),
    "search": dict.fromkeys(CALLERS, 200),
}


@pytest.mark.slow  # every route for every caller, on both backends; the tests above keep each rule fast
async def test_authorisation_matrix(engine, api, keys):
    headers = {
        "nobody": {},
        "reader": keys["reader"],
        "curator": keys["curator"],
        "admin": keys["admin"],
        "other-curator": _bearer(engine, "curator", "other-curator"),
        "revoked": _bearer(engine, "curator", "revoked-curator"),
    }
    with engine.begin() as connection:
        revoke_key(connection, "revoked-curator")
    got: dict[str, dict[str, int]] = {action: {} for action in EXPECTED}
    for caller in CALLERS:
        owned = await api.post("/api/v1/datasets", headers=keys["curator"], **upload_form(name="owned"))
        job = await wait_for(api, owned.headers["location"], keys["curator"])
        assert job["status"] == "succeeded", job
        new = await api.post("/api/v1/datasets", headers=headers[caller], **upload_form(name=f"new-{caller}"))
        got["upload a new dataset"][caller] = new.status_code
        if new.status_code == 202:
            await wait_for(api, new.headers["location"], headers[caller])
        replace = await api.post("/api/v1/datasets", headers=headers[caller], **upload_form(name="owned"))
        got["replace the dataset"][caller] = replace.status_code
        if replace.status_code == 202:
            assert (await wait_for(api, replace.headers["location"], headers[caller]))["status"] == "succeeded"
        got["see the job"][caller] = (await api.get(owned.headers["location"], headers=headers[caller])).status_code
        got["read the dataset"][caller] = (await api.get("/api/v1/datasets/owned", headers=headers[caller])).status_code
        got["search"][caller] = (await api.get("/api/v1/materials", headers=headers[caller])).status_code
        got["retract the dataset"][caller] = (
            await api.delete("/api/v1/datasets/owned", headers=headers[caller])
        ).status_code
    assert got == EXPECTED
