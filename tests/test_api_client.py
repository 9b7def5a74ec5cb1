"""A client generated from the OpenAPI document by openapi-python-client works against a real
server: a search (without a key), a material, an upload with its job and typed report (with a
curator's key), and a data package. The generator needs one option for the data package's zip
(tests/data/openapi-client.yaml), as any vendor media type does."""

from __future__ import annotations

import importlib
import io
import json
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from biomatdb.db import make_engine, migrate
from ingest.pipeline import ingest_file
from tests.api_fixtures import SEMANTICS_CSV, make_key, settings_for
from tests.live import serving

CONFIG = Path(__file__).parent / "data" / "openapi-client.yaml"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The client package ``biomatdb_client``, generated from the app's document."""
    from api.app import create_app
    from biomatdb.settings import Settings

    root = tmp_path_factory.mktemp("client")
    document = root / "openapi.json"
    document.write_text(json.dumps(create_app(Settings(database_url="sqlite://")).openapi()), encoding="utf-8")
    generator = shutil.which("openapi-python-client") or "openapi-python-client"
    done = subprocess.run(
        [
            generator,
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(root / "biomatdb_client"),
            "--meta",
            "none",
            "--config",
            str(CONFIG),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Unable to parse" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("biomatdb_client")
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == "biomatdb_client" or n.startswith("biomatdb_client.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from api.app import create_app

    root = tmp_path_factory.mktemp("client-server")
    engine = make_engine(f"sqlite:///{root / 'core.sqlite'}")
    migrate(engine)
    assert ingest_file(engine, SEMANTICS_CSV).ok
    curator = make_key(engine, "curator")
    app = create_app(settings_for(engine, root / "data"))
    engine.dispose()
    with serving(app, name="client-server", lifespan="on") as port:
        yield f"http://127.0.0.1:{port}", curator


def test_a_generated_client_searches_reads_uploads_and_packages(generated, server):
    base_url, curator = server
    api = importlib.import_module("biomatdb_client.api")
    models = importlib.import_module("biomatdb_client.models")
    types = importlib.import_module("biomatdb_client.types")
    search_materials = importlib.import_module("biomatdb_client.api.search.search_materials")
    by_body = importlib.import_module("biomatdb_client.api.search.search_materials_by_body")
    get_material = importlib.import_module("biomatdb_client.api.materials.get_material")
    upload_dataset = importlib.import_module("biomatdb_client.api.datasets.upload_dataset")
    get_job = importlib.import_module("biomatdb_client.api.datasets.get_job")
    get_datapackage = importlib.import_module("biomatdb_client.api.datasets.get_datapackage")
    assert api is not None

    with (
        generated.Client(base_url=base_url) as anyone,
        generated.AuthenticatedClient(base_url=base_url, token=curator) as curator_client,
    ):
        _use(
            models,
            types,
            anyone,
            curator_client,
            search_materials,
            by_body,
            get_material,
            upload_dataset,
            get_job,
            get_datapackage,
        )


def _use(
    models,
    types,
    anyone,
    curator_client,
    search_materials,
    by_body,
    get_material,
    upload_dataset,
    get_job,
    get_datapackage,
):
    found = search_materials.sync(client=anyone, filter_="class = polymer", limit=50)
    assert isinstance(found, models.SearchResult), found
    assert found.total >= 1 and found.results
    same = by_body.sync(client=anyone, body=models.SearchBody(q=None, filter_="class = polymer", limit=50))
    assert isinstance(same, models.SearchResult) and same.total == found.total
    material = get_material.sync(material_id=found.results[0].id, client=anyone)
    assert material is not None and material.name == found.results[0].name

    data = b"Material,Class,Density [g/cm3]\nClient test polymer,polymer,1.21\n"
    body = models.UploadDatasetBody(
        file=types.File(payload=io.BytesIO(data), file_name="client-test.csv", mime_type="text/csv"),
        name="client-test",
        license_="CC0-1.0",
    )
    job = upload_dataset.sync(client=curator_client, body=body)
    assert isinstance(job, models.JobOut), job
    deadline = time.monotonic() + 120
    while job.status in ("queued", "running"):
        assert time.monotonic() < deadline, "the upload job did not finish"
        time.sleep(0.2)
        job = get_job.sync(job_id=job.id, client=curator_client)
        assert isinstance(job, models.JobOut), job
    assert job.status == "succeeded", job
    report = job.report
    assert isinstance(report, models.ReportOut)
    assert report.loaded and report.counts.measurements_added == 1 and report.error_count == 0
    assert [m.name for m in report.materials] == ["Client test polymer"]

    unauthorised = upload_dataset.sync_detailed(client=anyone, body=body)
    assert unauthorised.status_code == 401

    datasets = json.loads(anyone.get_httpx_client().get("/api/v1/datasets").text)
    dataset_id = next(d["id"] for d in datasets if d["name"] == "client-test")
    package = get_datapackage.sync(dataset_id=str(dataset_id), client=anyone)
    assert isinstance(package, types.File), package
    with zipfile.ZipFile(package.payload) as bundle:
        assert sorted(bundle.namelist()) == ["data.csv", "datapackage.json"]
        assert b"Client test polymer" in bundle.read("data.csv")
