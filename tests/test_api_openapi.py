"""The OpenAPI document is complete, and the app keeps to it: schemathesis generates
requests for every operation from the app's own schema, against a real server over the
hand-made data, and finds no 5xx, no undocumented status and no response that breaks
the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from biomatdb.db import make_engine, migrate
from biomatdb_ingest.pipeline import ingest_file
from tests.api_fixtures import SEMANTICS_CSV, make_key, settings_for
from tests.live import serving
from tests.profiles import examples


@pytest.fixture(scope="module")
def live_api(tmp_path_factory):
    """A uvicorn server in a thread over a SQLite core holding the six hand-made materials."""
    from biomatdb_api.app import create_app

    root = tmp_path_factory.mktemp("openapi")
    engine = make_engine(f"sqlite:///{root / 'core.sqlite'}")
    migrate(engine)
    assert ingest_file(engine, SEMANTICS_CSV).ok
    curator = make_key(engine, "curator")
    app = create_app(settings_for(engine, root / "data"))
    engine.dispose()
    with serving(app, name="openapi-server", lifespan="on") as port:
        yield f"http://127.0.0.1:{port}", app, curator


def _document() -> dict:
    """The app's OpenAPI document. It is made from the code, not the data, so an app over an
    in-memory database gives the same document as the live one. (Built at import rather than
    through ``schemathesis.pytest.from_fixture``, whose lazy loader breaks on pytest 9.2.)"""
    from biomatdb.settings import Settings
    from biomatdb_api.app import create_app

    return create_app(Settings(database_url="sqlite://", rate_limit=None)).openapi()


schema = schemathesis.openapi.from_dict(_document())
# One test per operation, parametrised by pytest itself rather than by ``schema.parametrize``:
# under pytest 9.2 that gives every operation the same node id, and xdist then ran one of 17.
OPERATIONS = [
    (operation.path, operation.method.upper())
    for operation in (result.ok() for result in schema.get_all_operations() if isinstance(result, Ok))
]


def test_every_operation_is_tested_by_its_own_node():
    assert len(OPERATIONS) == len(set(OPERATIONS)) >= 17


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{method} {path}" for path, method in OPERATIONS])
@settings(max_examples=examples(25), deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_app_keeps_to_its_schema(live_api, path, method, data):
    operation = schema[path][method]
    case = data.draw(operation.as_strategy())
    base_url, _, curator = live_api
    # a public route as anyone calls it, without a key; a curator's route as a curator, so that
    # uploads get past the key check (and a retraction, admins only, does not)
    keyless = {} in (operation.definition.raw.get("security") or [{}])
    case.call_and_validate(
        base_url=base_url,
        headers={} if keyless else {"Authorization": f"Bearer {curator}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )


def test_every_route_is_documented_with_its_errors(live_api):
    _, app, _ = live_api
    document = app.openapi()
    operations = {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert set(operations) >= {
        ("GET", "/api/v1/materials"),
        ("POST", "/api/v1/search"),
        ("GET", "/api/v1/materials/{material_id}"),
        ("GET", "/api/v1/materials/{material_id}/similar"),
        ("GET", "/api/v1/compare"),
        ("GET", "/api/v1/properties"),
        ("GET", "/api/v1/classes"),
        ("GET", "/api/v1/applications"),
        ("GET", "/api/v1/export"),
        ("GET", "/api/v1/datasets"),
        ("GET", "/api/v1/datasets/{dataset_id}"),
        ("GET", "/api/v1/datasets/{dataset_id}/datapackage"),
        ("GET", "/api/v1/datasets/{dataset_id}/datapackage.json"),
        ("POST", "/api/v1/datasets"),
        ("DELETE", "/api/v1/datasets/{dataset_id}"),
        ("GET", "/api/v1/jobs/{job_id}"),
        ("GET", "/health"),
        ("GET", "/ready"),
    }
    for key, operation in operations.items():
        assert operation.get("summary"), key
        assert "500" in operation["responses"], key
        for status, response in operation["responses"].items():
            if status.startswith("4") or (status == "500"):
                assert list(response["content"]) == ["application/problem+json"], (key, status)
    assert operations[("POST", "/api/v1/datasets")]["security"] == [{"ApiKey": []}]
    assert {"401", "403", "413", "415"} <= set(operations[("POST", "/api/v1/datasets")]["responses"])
    assert "multipart/form-data" in operations[("POST", "/api/v1/datasets")]["requestBody"]["content"]
    assert operations[("GET", "/api/v1/materials")]["parameters"][1]["schema"]["examples"]
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_every_json_answer_has_an_example(live_api):
    _, app, _ = live_api
    document = app.openapi()
    schemas = document["components"]["schemas"]
    missing = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json")
                if not status.startswith("2") or not content:
                    continue
                schema = content["schema"]
                if schema.get("type") == "array":
                    schema = schema["items"]
                ref = schema.get("$ref", "")
                target = schemas[ref.rsplit("/", 1)[-1]] if ref else schema
                if not (target.get("examples") or content.get("example") or content.get("examples")):
                    missing.append((method.upper(), path, status))
    assert missing == []


def _text_schemas(schema: dict) -> list[dict]:
    """The string schemas a parameter's schema allows (through anyOf and array items)."""
    if "anyOf" in schema:
        return [found for option in schema["anyOf"] for found in _text_schemas(option)]
    if schema.get("type") == "array":
        return _text_schemas(schema.get("items", {}))
    return [schema] if schema.get("type") == "string" else []


def test_every_text_parameter_declares_its_maximum_length(live_api):
    _, app, _ = live_api
    unbounded = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                for text in _text_schemas(parameter["schema"]):
                    if "maxLength" not in text and "enum" not in text and "pattern" not in text:
                        unbounded.append((method.upper(), path, parameter["name"]))
                if parameter["in"] == "query":
                    assert "414" in operation["responses"], (method, path)
    assert unbounded == []
    filter_parameter = next(
        p for p in app.openapi()["paths"]["/api/v1/materials"]["get"]["parameters"] if p["name"] == "filter"
    )
    assert _text_schemas(filter_parameter["schema"])[0]["maxLength"] == 4096


def _raw_get(base_url: str, path: str, query: dict[str, str]) -> tuple[int, str, dict]:
    """GET with http.client, which, unlike httpx, sends a query string of any length."""
    import http.client
    import json
    from urllib.parse import urlencode, urlsplit

    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=60)
    try:
        connection.request("GET", f"{path}?{urlencode(query)}")
        response = connection.getresponse()
        body = response.read()
        return response.status, response.getheader("content-type", ""), json.loads(body)
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/api/v1/export", "/api/v1/materials", "/"])
def test_a_100kb_filter_of_4_byte_characters_is_a_414_not_a_dropped_connection(live_api, path):
    base_url, _, _ = live_api
    status, content_type, problem = _raw_get(base_url, path, {"filter": "\U0001f9ea" * 25_000})
    assert status == 414 and content_type == "application/problem+json"
    assert problem["parameter"] == "filter" and problem["limit"] == 128 * 1024  # 300 KB, encoded
    assert "'filter'" in problem["detail"] and "131,072 bytes" in problem["detail"]


@pytest.mark.parametrize("path", ["/api/v1/export", "/api/v1/materials", "/"])
def test_a_filter_past_its_4096_characters_is_a_414_naming_it(live_api, path):
    base_url, _, _ = live_api
    status, content_type, problem = _raw_get(base_url, path, {"filter": "\U0001f9ea" * 4097})
    assert status == 414 and content_type == "application/problem+json"
    assert problem["parameter"] == "filter" and problem["limit"] == 4096
    assert "'filter'" in problem["detail"] and "4,096 characters" in problem["detail"]


def test_a_query_string_past_every_limit_is_a_414_naming_the_limit(live_api):
    base_url, _, _ = live_api
    status, _, problem = _raw_get(base_url, "/api/v1/materials", {"sort": "x", "q": "é" * 100_000})
    assert status == 414
    assert problem["type"] == "urn:biomatdb:problem:query-too-long" and problem["limit"] == 128 * 1024
    assert problem["parameter"] == "q"


def test_a_filter_at_its_limit_of_4_byte_characters_is_answered(live_api):
    base_url, _, _ = live_api
    status, _, problem = _raw_get(base_url, "/api/v1/materials", {"filter": "\U0001f9ea" * 4096})
    assert status == 400, problem  # read, and refused as a filter, not as a request
    assert problem["type"] == "urn:biomatdb:problem:syntax-error"


@pytest.mark.slow
def test_public_routes_take_a_key_but_need_none_and_curators_routes_need_one():
    document = _document()
    security = {
        (method.upper(), path): operation.get("security")
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    assert security[("GET", "/api/v1/materials")] == [{}, {"ApiKey": []}]
    assert security[("POST", "/api/v1/select")] == [{}, {"ApiKey": []}]
    assert security[("POST", "/api/v1/datasets")] == [{"ApiKey": []}]
    assert security[("DELETE", "/api/v1/datasets/{dataset_id}")] == [{"ApiKey": []}]
    assert security[("GET", "/api/v1/jobs/{job_id}")] == [{"ApiKey": []}]


@pytest.mark.slow
def test_operation_ids_read_as_what_they_do():
    ids = {
        operation["operationId"] for operations in _document()["paths"].values() for operation in operations.values()
    }
    assert {
        "search_materials",
        "get_material",
        "upload_dataset",
        "get_job",
        "get_datapackage",
        "get_datapackage_descriptor",
        "select_materials",
    } <= ids
    assert not [i for i in ids if "_api_v1_" in i or i.endswith(("_get", "_post", "_delete"))]


def test_declared_page_limits_are_the_enforced_ones():
    from biomatdb.settings import Settings
    from biomatdb_api.app import create_app

    document = create_app(Settings(database_url="sqlite://", rate_limit=None, page_size_max=150)).openapi()
    (limit,) = [p for p in document["paths"]["/api/v1/materials"]["get"]["parameters"] if p["name"] == "limit"]
    assert limit["schema"]["maximum"] == 150
    assert document["components"]["schemas"]["SearchBody"]["properties"]["limit"]["maximum"] == 150


def test_the_datapackage_is_declared_a_zip_and_its_descriptor_json_on_its_own_path():
    paths = _document()["paths"]
    operation = paths["/api/v1/datasets/{dataset_id}/datapackage"]["get"]
    # one media type for 200: a generated client reads an answer declared JSON as JSON (issue 18)
    assert operation["responses"]["200"]["content"] == {
        "application/zip": {"schema": {"type": "string", "format": "binary"}}
    }
    # Accept chooses between the two (format= too); an Accept that allows neither is a 406 problem
    assert operation["responses"]["406"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert "Accept" in operation["description"] and "406" in operation["description"]
    assert "application/json" in operation["description"] and "format=json" in operation["description"]
    assert "/datapackage.json" in operation["description"]
    descriptor = paths["/api/v1/datasets/{dataset_id}/datapackage.json"]["get"]
    assert descriptor["operationId"] == "get_datapackage_descriptor"
    content = descriptor["responses"]["200"]["content"]
    assert list(content) == ["application/json"] and content["application/json"]["schema"] == {"type": "object"}
    assert "406" in descriptor["responses"] and "404" in descriptor["responses"]


def test_compare_declares_the_two_to_six_ids_it_takes():
    (ids,) = [p for p in _document()["paths"]["/api/v1/compare"]["get"]["parameters"] if p["name"] == "ids"]
    assert ids["required"] is True
    assert ids["schema"]["type"] == "array"
    assert ids["schema"]["minItems"] == 2 and ids["schema"]["maxItems"] == 6
    assert ids["schema"]["items"]["minLength"] == 1


def test_job_reports_are_typed():
    schemas = _document()["components"]["schemas"]
    report = schemas["JobOut"]["properties"]["report"]
    assert {"$ref": "#/components/schemas/ReportOut"} in report.get("anyOf", [report])
    assert {"counts", "errors", "warnings", "materials"} <= set(schemas["ReportOut"]["properties"])
