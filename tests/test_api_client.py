"""A client generated from the OpenAPI document by openapi-python-client works against a real
server: a search (without a key), a material, an upload with its job and typed report (with a
curator's key), and a data package, read as a ``File`` with one option
(tests/data/openapi-client.yaml). A client generated with no configuration gets the data
package's bytes, its descriptor as JSON, and a comparison."""

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
from biomatdb_ingest.pipeline import ingest_file
from tests.api_fixtures import SEMANTICS_CSV, make_key, settings_for
from tests.live import serving

CONFIG = Path(__file__).parent / "data" / "openapi-client.yaml"


def _generate(root: Path, package: str, config: Path | None):
    """The client package ``package``, generated from the app's document into ``root``."""
    from biomatdb.settings import Settings
    from biomatdb_api.app import create_app

    document = root / "openapi.json"
    document.write_text(json.dumps(create_app(Settings(database_url="sqlite://")).openapi()), encoding="utf-8")
    generator = shutil.which("openapi-python-client") or "openapi-python-client"
    command = [
        generator,
        "generate",
        "--path",
        str(document),
        "--output-path",
        str(root / package),
        "--meta",
        "none",
    ]
    if config is not None:
        command += ["--config", str(config)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Unable to parse" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(package)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == package or n.startswith(f"{package}.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The client package ``biomatdb_client``, generated with the zip read as binary."""
    yield from _generate(tmp_path_factory.mktemp("client"), "biomatdb_client", CONFIG)


@pytest.fixture(scope="module")
def generated_by_default(tmp_path_factory):
    """The client package ``biomatdb_default_client``, generated with no configuration at all:
    what a user who runs the generator on the document gets."""
    yield from _generate(tmp_path_factory.mktemp("default-client"), "biomatdb_default_client", None)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from biomatdb_api.app import create_app

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
    deadline = time.monotonic() + 600  # a bound on a hang, not a timing
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


def test_a_client_generated_without_configuration_gets_the_data_package(generated_by_default, server):
    """The data package's 200 was declared both zip and JSON: a default client read it as JSON and
    crashed on ``UnicodeDecodeError`` (issue 18). Declared a zip only, it is the answer's bytes; the
    descriptor is its own operation, declared JSON."""
    base_url, _ = server
    package = "biomatdb_default_client"
    get_datapackage = importlib.import_module(f"{package}.api.datasets.get_datapackage")
    get_descriptor = importlib.import_module(f"{package}.api.datasets.get_datapackage_descriptor")
    compare = importlib.import_module(f"{package}.api.materials.compare_materials")
    with generated_by_default.Client(base_url=base_url) as anyone:
        datasets = json.loads(anyone.get_httpx_client().get("/api/v1/datasets").text)
        dataset = next(d for d in datasets if d["name"] == "search_semantics")
        answer = get_datapackage.sync_detailed(dataset_id=str(dataset["id"]), client=anyone)
        assert answer.status_code == 200
        with zipfile.ZipFile(io.BytesIO(answer.content)) as bundle:
            assert sorted(bundle.namelist()) == ["data.csv", "datapackage.json"]
            assert json.loads(bundle.read("datapackage.json"))["name"] == "search_semantics"
        described = get_descriptor.sync_detailed(dataset_id="search_semantics", client=anyone)
        assert described.status_code == 200
        descriptor = described.parsed
        assert descriptor is not None, described.content
        body = descriptor.to_dict() if hasattr(descriptor, "to_dict") else descriptor
        assert body["name"] == "search_semantics"
        assert body["resources"][0]["path"].startswith(f"{base_url}/api/v1/export?")
        # the declared array of ids, as the generator sends it (ids=A&ids=B)
        names = [
            m["name"] for m in json.loads(anyone.get_httpx_client().get("/api/v1/materials?limit=2").text)["results"]
        ]
        compared = compare.sync_detailed(client=anyone, ids=names)
        assert compared.status_code == 200, compared.content
        assert [m["name"] for m in json.loads(compared.content)["materials"]] == names
