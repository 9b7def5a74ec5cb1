"""Export of searches and datasets, and datasets as Frictionless Data Packages."""

from __future__ import annotations

import csv
import io
import time
import zipfile

import pytest
from frictionless import Package
from sqlalchemy.orm import Session

from biomatdb.catalog import export_csv

pytestmark = pytest.mark.anyio


async def test_search_export_as_csv_is_the_matching_rows(semantics, api):
    response = await api.get("/api/v1/export", params={"format": "csv", "filter": "class = polymer"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["material"] for row in rows} == {"Alpha", "Beta"}
    assert len(rows) == 4 + 3  # a row per measurement


async def test_search_export_streams_pages(semantics, api, monkeypatch):
    """Pages of the search are fetched one after the other, never the whole result at once."""
    import biomatdb_api.routes.export as export_module

    monkeypatch.setattr(export_module, "MAX_LIMIT", 2)
    limits = []
    backend = api.app.state.search
    original = backend.search

    def spy(query):
        limits.append(query.limit)
        return original(query)

    monkeypatch.setattr(backend, "search", spy)
    response = await api.get("/api/v1/export", params={"format": "json"})
    assert response.status_code == 200
    assert {row["material"] for row in response.json()} == {"Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"}
    assert limits == [2, 2, 2]


async def test_dataset_export_equals_the_cli_export(semantics, api):
    response = await api.get("/api/v1/export", params={"dataset": "search_semantics"})
    with Session(semantics) as session:
        assert response.text == "".join(export_csv(session, dataset="search_semantics"))
    assert (await api.get("/api/v1/export", params={"dataset": "nope"})).status_code == 404


async def test_a_bad_export_query_is_a_problem_before_any_byte(semantics, api):
    response = await api.get("/api/v1/export", params={"filter": "youngs_modulus >"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_datapackage_zip_validates_with_frictionless(semantics, api, tmp_path):
    response = await api.get("/api/v1/datasets/search_semantics/datapackage")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        assert sorted(bundle.namelist()) == ["data.csv", "datapackage.json"]
        bundle.extractall(tmp_path)
    report = Package(str(tmp_path / "datapackage.json")).validate()
    assert report.valid, report.flatten(["type", "message"])
    package = Package(str(tmp_path / "datapackage.json"))
    resource = package.resources[0]
    assert [field.name for field in resource.schema.fields][:3] == ["id", "material", "class"]
    assert package.sources == [{"title": "Search semantics fixture"}]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "data.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 17


@pytest.mark.slow
async def test_the_datapackage_zip_is_the_same_until_its_data_changes(semantics, api):
    """Zipped anew per request, it was dated by the temporary file: Last-Modified and ETag
    differed between two GETs of the same data, so no cache or HEAD could rely on them."""
    first = await api.get("/api/v1/datasets/search_semantics/datapackage")
    time.sleep(1.1)  # a new temporary file would be a second younger
    second = await api.get("/api/v1/datasets/search_semantics/datapackage")
    assert first.status_code == second.status_code == 200
    assert first.headers["etag"] == second.headers["etag"]
    assert first.headers["last-modified"] == second.headers["last-modified"]
    assert first.content == second.content
    with zipfile.ZipFile(io.BytesIO(first.content)) as bundle:
        dated = {member.date_time for member in bundle.infolist()}
    assert len(dated) == 1 and next(iter(dated))[0] >= 2026


async def test_datapackage_json_points_at_the_export(semantics, api):
    response = await api.get("/api/v1/datasets/search_semantics/datapackage", params={"format": "json"})
    assert response.status_code == 200
    package = response.json()
    path = package["resources"][0]["path"]
    assert path.startswith("http://testserver/api/v1/export?") and "dataset=search_semantics" in path
    assert package["resources"][0]["schema"]["fields"][0] == {
        "name": "id",
        "type": "string",
        "description": "BiomatDB public id of the material",
        "constraints": {"required": True},
    }
    assert Package.validate_descriptor(package).valid
    assert (await api.get("/api/v1/datasets/nope/datapackage")).status_code == 404


async def test_the_descriptor_has_its_own_path(semantics, api):
    """``/datapackage.json``: the descriptor a generated client can read as JSON (issue 18)."""
    response = await api.get("/api/v1/datasets/search_semantics/datapackage.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    same = await api.get("/api/v1/datasets/search_semantics/datapackage", params={"format": "json"})
    assert response.json() == same.json()
    assert Package.validate_descriptor(response.json()).valid
    refused = await api.get("/api/v1/datasets/search_semantics/datapackage.json", headers={"accept": "application/zip"})
    assert refused.status_code == 406 and "application/zip" in refused.json()["detail"]
    missing = await api.get("/api/v1/datasets/nope/datapackage.json")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


async def test_export_in_display_units(semantics, api):
    rows = (await api.get("/api/v1/export", params={"format": "json", "filter": "class = polymer"})).json()
    tg = next(r for r in rows if r["material"] == "Alpha" and r["property"] == "glass_transition_temperature")
    assert (tg["value"], tg["value_text"], tg["unit"]) == (60.0, "60", "°C")  # written so; stored as 333.15 K
    rows = (
        await api.get(
            "/api/v1/export",
            params={"format": "json", "filter": "class = polymer", "unit_system": "US", "units": "density:kg/m**3"},
        )
    ).json()
    tg = next(r for r in rows if r["material"] == "Alpha" and r["property"] == "glass_transition_temperature")
    density = next(r for r in rows if r["material"] == "Beta" and r["property"] == "density")
    assert (tg["value"], tg["unit"]) == (140.0, "°F")
    assert (density["value"], density["value_text"], density["unit"]) == (
        1100.0,
        "1.1e3",
        "kg/m³",
    )  # "1,1" g/cm³: two digits, no zeros that claim more
    assert (density["verbatim_value"], density["verbatim_unit"]) == ("1,1", "g/cm³")


async def test_export_as_parquet_is_typed(semantics, api):
    import pandas as pd

    response = await api.get("/api/v1/export", params={"format": "parquet", "filter": "class = polymer"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    assert response.headers["content-disposition"] == 'attachment; filename="biomatdb-export.parquet"'
    table = pd.read_parquet(io.BytesIO(response.content))
    as_json = (await api.get("/api/v1/export", params={"format": "json", "filter": "class = polymer"})).json()
    assert len(table) == len(as_json) == 7
    assert {table[c].dtype.name for c in ("value", "value_min", "value_max", "uncertainty")} == {"float64"}
    tg = table[(table["material"] == "Alpha") & (table["property"] == "glass_transition_temperature")].iloc[0]
    assert (tg["value"], tg["value_min"], tg["unit"], tg["value_text"]) == (60.0, 60.0, "°C", "60")


async def test_export_of_one_material(semantics, api):
    everything = (await api.get("/api/v1/export", params={"format": "json"})).json()
    alpha = (await api.get("/api/v1/export", params={"format": "json", "material": "Alpha"})).json()
    assert alpha == [row for row in everything if row["material"] == "Alpha"] and len(alpha) == 4
    response = await api.get("/api/v1/export", params={"material": alpha[0]["id"], "unit_system": "US"})
    assert response.headers["content-disposition"] == f'attachment; filename="{alpha[0]["id"]}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["unit"] for row in rows if row["property"] == "glass_transition_temperature"} == {"°F"}
    assert (await api.get("/api/v1/export", params={"material": "no such material"})).status_code == 404


async def test_a_search_export_takes_uncertainty_as_the_search_does(semantics, api):
    """``110 ± 4 GPa`` (Delta) meets ``> 112 GPa`` only as the interval [106, 114]."""
    asked = {"format": "json", "filter": "youngs_modulus > 112 GPa"}
    for uncertainty, expected in (("point", {"Gamma"}), ("interval", {"Gamma", "Delta"})):
        rows = (await api.get("/api/v1/export", params={**asked, "uncertainty": uncertainty})).json()
        found = (await api.get("/api/v1/materials", params={**asked, "uncertainty": uncertainty})).json()
        assert {row["material"] for row in rows} == {hit["name"] for hit in found["results"]} == expected
    certain = {**asked, "uncertainty": "interval", "match": "certain"}
    assert (await api.get("/api/v1/export", params=certain)).json() == []
    assert (await api.get("/api/v1/export", params={**asked, "uncertainty": "both"})).status_code == 422


async def test_the_condition_temperature_is_exported_in_the_display_unit(semantics, api):
    """Alpha's tensile strength was measured at 37 °C (stored 310.15 K)."""
    asked = {"format": "json", "material": "Alpha"}
    for system, value, unit in ((None, 37.0, "°C"), ("US", 98.6, "°F")):
        rows = (await api.get("/api/v1/export", params={**asked, **({"unit_system": system} if system else {})})).json()
        (at_37,) = [row for row in rows if row["medium"] == "PBS"]
        assert (at_37["temperature"], at_37["temperature_value"], at_37["temperature_unit"]) == (
            "310.15 K",
            value,
            unit,
        )
    document = (await api.get("/api/v1/materials/Alpha", params={"unit_system": "US"})).json()
    (measured,) = [m for m in document["measurements"] if m["conditions"].get("medium") == "PBS"]
    assert measured["conditions"]["temperature_display"] == "98.6 °F"
    assert measured["conditions"]["temperature_K"] == 310.15


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/zip"),
        ("*/*", "application/zip"),
        ("application/zip", "application/zip"),
        ("application/*", "application/zip"),  # both fit equally: the zip, the package's own form
        ("application/json", "application/json"),
        ("application/json, */*;q=0.1", "application/json"),
        ("application/zip;q=0.2, application/json", "application/json"),
        ("text/html, application/json;q=0.9, */*;q=0.8", "application/json"),
        ("application/json;q=0, */*", "application/zip"),
    ],
)
async def test_the_datapackage_answers_in_the_media_type_accept_asks_for(semantics, api, accept, expected):
    """``Accept: application/json`` got the zip: the JSON descriptor (declared on its own path,
    ``/datapackage.json``, and in the operation's description here) is what Accept chooses, as
    ``format=json`` does."""
    headers = {} if accept is None else {"accept": accept}
    response = await api.get("/api/v1/datasets/search_semantics/datapackage", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == expected
    assert "accept" in response.headers["vary"].lower()
    if expected == "application/json":
        package = response.json()
        assert package["resources"][0]["path"].startswith("http://testserver/api/v1/export?")
        assert Package.validate_descriptor(package).valid
    else:
        with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
            assert sorted(bundle.namelist()) == ["data.csv", "datapackage.json"]


@pytest.mark.parametrize(
    ("accept", "params"),
    [
        ("text/csv", {}),
        ("application/zip;q=0, application/json;q=0", {}),
        ("application/json", {"format": "zip"}),  # the format asked for, and an Accept that refuses it
        ("application/zip", {"format": "json"}),
    ],
)
async def test_the_datapackage_refuses_an_accept_it_cannot_meet(semantics, api, accept, params):
    response = await api.get("/api/v1/datasets/search_semantics/datapackage", headers={"accept": accept}, params=params)
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:biomatdb:problem:not-acceptable" and problem["instance"]
    assert accept in problem["detail"] and "application/zip" in problem["detail"]


async def test_the_datapackage_format_wins_where_accept_allows_it(semantics, api):
    zipped = await api.get(
        "/api/v1/datasets/search_semantics/datapackage", params={"format": "zip"}, headers={"accept": "*/*"}
    )
    as_json = await api.get(
        "/api/v1/datasets/search_semantics/datapackage", params={"format": "json"}, headers={"accept": "*/*"}
    )
    assert zipped.headers["content-type"] == "application/zip"
    assert as_json.headers["content-type"] == "application/json"
