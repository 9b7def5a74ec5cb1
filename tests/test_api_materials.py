"""One material, similar materials, comparison and the vocabulary, through the API."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from biomatdb.catalog import find_material, material_json
from biomatdb.display import UnitChoice, shown_material
from biomatdb.vocabulary import get_vocabulary
from biomatdb_ingest.pipeline import ingest_file
from tests.preloaded import preloaded

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"


async def test_detail_is_the_catalog_json_with_jsonld(semantics, api):
    response = await api.get("/api/v1/materials/Alpha")
    assert response.status_code == 200
    body = response.json()
    with Session(semantics) as session:
        expected = shown_material(material_json(find_material(session, "Alpha")), UnitChoice())
    assert {key: value for key, value in body.items() if key != "jsonld"} == expected
    ld = body["jsonld"]
    assert ld["@context"] == "https://schema.org/" and ld["@type"] == "Dataset"
    assert ld["identifier"] == expected["id"]
    assert {v["propertyID"] for v in ld["variableMeasured"]} == {
        "youngs_modulus",
        "tensile_strength",
        "glass_transition_temperature",
    }
    assert all(v["@type"] == "PropertyValue" for v in ld["variableMeasured"])
    assert response.headers["link"].endswith('rel="canonical"')
    by_id = await api.get(f"/api/v1/materials/{expected['id']}")
    assert by_id.json() == body


async def test_detail_writes_units_as_people_do_and_no_float_noise(semantics, api):
    """The JSON-LD's ``unitText`` was pint's ``g/cm**3``; a molecular weight read 72.06299999999999."""
    beta = (await api.get("/api/v1/materials/Beta")).json()
    (density,) = [v for v in beta["jsonld"]["variableMeasured"] if v["propertyID"] == "density"]
    assert density["unitText"] == "g/cm³" and density["value"] == pytest.approx(1.1)
    alpha = (await api.get("/api/v1/materials/Alpha")).json()
    weight = alpha["structure"]["molecular_weight"]
    assert weight == pytest.approx(72.063) and len(repr(weight).split(".")[1]) <= 3


async def test_detail_in_display_units(semantics, api):
    plain = (await api.get("/api/v1/materials/Alpha")).json()
    shown = (
        await api.get("/api/v1/materials/Alpha", params={"units": "youngs_modulus:MPa,glass_transition_temperature:K"})
    ).json()
    modulus = next(m for m in shown["measurements"] if m["property"] == "youngs_modulus")
    assert (modulus["value"], modulus["unit"], modulus["text"], modulus["display"]) == (
        2000.0,
        "MPa",
        "2e3",
        "2 × 10³ MPa",  # one digit written: never "2000", whose zeros would count
    )
    assert (modulus["value_canonical"], modulus["unit_canonical"]) == (2.0, "GPa")
    # by default a temperature is in °C; the canonical value stays beside it, unrounded
    tg_plain = next(m for m in plain["measurements"] if m["property"] == "glass_transition_temperature")
    assert (tg_plain["value"], tg_plain["unit"], tg_plain["display"]) == (60.0, "°C", "60 °C")
    assert (tg_plain["value_canonical"], tg_plain["unit_canonical"]) == (pytest.approx(333.15), "K")
    # "60 °C" was written to the degree: 333 K, not 333.15 K
    tg = next(m for m in shown["measurements"] if m["property"] == "glass_transition_temperature")
    assert (tg["value"], tg["unit"], tg["text"]) == (333.0, "K", "333")
    untouched = [m for m in shown["measurements"] if m["property"] == "tensile_strength"]
    assert untouched == [m for m in plain["measurements"] if m["property"] == "tensile_strength"]


async def test_a_unit_system_and_a_unit_over_it(semantics, api):
    us = (await api.get("/api/v1/materials/Alpha", params={"unit_system": "US"})).json()
    by_key = {m["property"]: m for m in us["measurements"]}
    assert by_key["glass_transition_temperature"]["display"] == "140 °F"  # 60 °C, to 1.8 °F: the degree
    assert by_key["youngs_modulus"]["display"] == "2.9 × 10² ksi"  # "2" GPa: one digit, two through the factor
    over = (
        await api.get("/api/v1/materials/Alpha", params={"unit_system": "us", "units": "youngs_modulus:GPa"})
    ).json()
    assert {m["property"]: m["unit"] for m in over["measurements"]}["youngs_modulus"] == "GPa"
    bad = await api.get("/api/v1/materials/Alpha", params={"unit_system": "imperial"})
    assert bad.status_code == 400 and "SI, US" in bad.json()["detail"]


async def test_uncertainties_convert_as_differences(semantics, api):
    delta = (await api.get("/api/v1/materials/Delta", params={"units": "youngs_modulus:MPa"})).json()
    modulus = next(m for m in delta["measurements"] if m["property"] == "youngs_modulus")
    assert modulus["value"] == pytest.approx(110_000) and modulus["uncertainty"] == pytest.approx(4000)


@pytest.mark.parametrize("units", ["youngs_modulus:K", "colour:MPa", "youngs_modulus:parsec", "youngs_modulus"])
async def test_bad_display_units_are_400(semantics, api, units):
    response = await api.get("/api/v1/materials/Alpha", params={"units": units})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM


async def test_unknown_material_is_404_problem(semantics, api):
    response = await api.get("/api/v1/materials/Unobtainium")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:biomatdb:problem:not-found"
    for path in ("/api/v1/materials/Unobtainium/similar", "/api/v1/compare?ids=Alpha,Unobtainium"):
        assert (await api.get(path)).status_code == 404


@preloaded
def one_and_many(engine, directory):
    """Two materials alike but for their number of measurements: 1 and 40, from 40 sources."""
    lines = ["Material,Class,SMILES,Property,Value,Unit,Temperature,Source"]
    lines.append("One,polymer,*CC*,tensile strength,10,MPa,20 °C,source 0")
    lines += [f"Many,polymer,*CCO*,tensile strength,{10 + i},MPa,{20 + i} °C,source {i}" for i in range(40)]
    path = directory / "one_and_many.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ingest_file(engine, path).ok


async def test_statements_do_not_grow_with_measurements(one_and_many, api):
    """No N+1: material detail and a search page take a fixed number of statements."""
    counted = []

    def count(_conn, _cursor, statement, *_args):
        # the job worker polls its queue meanwhile, and the chemistry index may still be building
        # in its own thread (a flake: 10 statements against 9, once in a clean-checkout run)
        if "jobs" not in statement and not threading.current_thread().name.startswith("biomatdb-"):
            counted.append(statement)

    async def statements(path, **params) -> int:
        counted.clear()
        response = await api.get(path, params=params)
        assert response.status_code == 200
        return len(counted)

    engine = api.app.state.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        one = await statements("/api/v1/materials/One")
        many = await statements("/api/v1/materials/Many")
        await statements("/api/v1/materials", facet="class")  # builds the facet index, once per core generation
        page_one = await statements(
            "/api/v1/materials", filter="tensile_strength < 10.5 MPa", facet="class"
        )  # a measurement each
        page_many = await statements("/api/v1/materials", filter="tensile_strength > 0 MPa", facet="class")  # 1 and 40
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert one == many <= 10
    assert page_one == page_many <= 9  # on SQLite 3 of them keep the matched ids, 1 reads the generation


async def test_similar_by_structure_and_by_profile(semantics, api):
    response = await api.get("/api/v1/materials/Alpha/similar", params={"threshold": 0})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Alpha"
    kinds = {hit["kind"] for hit in body["results"]}
    assert kinds == {"structure", "property_profile"}
    assert all(0 <= hit["score"] <= 1 for hit in body["results"])
    assert "Alpha" not in {hit["name"] for hit in body["results"]}
    structure = [hit for hit in body["results"] if hit["kind"] == "structure"]
    assert [hit["name"] for hit in structure] == ["Beta"]  # the only other structure
    profile = [hit for hit in body["results"] if hit["kind"] == "property_profile"]
    assert profile == sorted(profile, key=lambda hit: -hit["score"])
    # Alpha has modulus, strength and Tg; Delta shares two of the three, Beta one
    delta = next(hit for hit in profile if hit["name"] == "Delta")
    assert sorted(delta["shared_properties"]) == ["tensile_strength", "youngs_modulus"]
    assert delta["score"] <= 2 / 3


async def test_similar_of_one_kind(semantics, api):
    body = (await api.get("/api/v1/materials/Gamma/similar", params={"kind": "structure"})).json()
    assert body["results"] == []  # Gamma has no structure
    body = (await api.get("/api/v1/materials/Gamma/similar", params={"kind": "property_profile", "limit": 1})).json()
    assert len(body["results"]) == 1 and body["results"][0]["kind"] == "property_profile"


async def test_compare_side_by_side(semantics, api):
    response = await api.get("/api/v1/compare", params={"ids": "Alpha,Delta", "units": "youngs_modulus:MPa"})
    assert response.status_code == 200
    body = response.json()
    assert [m["name"] for m in body["materials"]] == ["Alpha", "Delta"]
    rows = {row["property"]: row for row in body["properties"]}
    assert set(rows) == {"youngs_modulus", "tensile_strength", "glass_transition_temperature", "density"}
    # in a data sheet's order, as the compare page: mechanical, then physical, then thermal
    vocabulary = get_vocabulary()
    assert list(rows) == sorted(rows, key=vocabulary.property_rank) and next(iter(rows)) == "youngs_modulus"
    alpha, delta = (m["id"] for m in body["materials"])
    assert rows["youngs_modulus"]["unit"] == "MPa"
    assert rows["youngs_modulus"]["values"][alpha][0]["value"] == pytest.approx(2000)
    assert rows["youngs_modulus"]["values"][delta][0]["value"] == pytest.approx(110_000)
    assert rows["density"]["values"][alpha] == []
    assert len(rows["tensile_strength"]["values"][alpha]) == 2
    # one display unit per property, rounded to what was written; the canonical values beside them
    assert (rows["glass_transition_temperature"]["unit"], rows["glass_transition_temperature"]["unit_canonical"]) == (
        "°C",
        "K",
    )
    (delta_modulus,) = rows["youngs_modulus"]["values"][delta]
    assert (delta_modulus["display"], delta_modulus["value_canonical"]) == ("(1.10 ± 0.04) × 10⁵ MPa", 110.0)


async def test_compare_shows_a_duration_in_one_unit_for_all(semantics, api):
    body = (await api.get("/api/v1/compare", params={"ids": "Epsilon,Zeta,Beta"})).json()
    (row,) = [r for r in body["properties"] if r["property"] == "degradation_time"]
    assert row["unit"] == "months" and row["unit_canonical"] == "days"
    assert sorted(v["display"] for values in row["values"].values() for v in values) == [
        "3–6 months",
        "6 months",
        "> 24 months",
    ]


@pytest.mark.parametrize("ids", ["Alpha", "Alpha,Beta,Gamma,Delta,Epsilon,Zeta,Eta", ",,"])
async def test_compare_needs_two_to_six(semantics, api, ids):
    response = await api.get("/api/v1/compare", params={"ids": ids})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


async def test_compare_takes_its_ids_repeated_or_comma_separated(semantics, api):
    """A generated client sends the declared array as ``ids=A&ids=B``; the address bar's ``ids=A,B``
    stays."""
    repeated = await api.get("/api/v1/compare", params=[("ids", "Alpha"), ("ids", "Delta")])
    assert repeated.status_code == 200, repeated.text
    assert [m["name"] for m in repeated.json()["materials"]] == ["Alpha", "Delta"]
    commas = await api.get("/api/v1/compare", params={"ids": "Alpha,Delta"})
    assert commas.json()["materials"] == repeated.json()["materials"]
    one = await api.get("/api/v1/compare", params={"ids": "Alpha"})
    assert one.status_code == 422 and one.json()["detail"] == "ids: compare 2 to 6 materials, got 1"


async def test_vocabulary(api):
    properties = (await api.get("/api/v1/properties")).json()
    modulus = next(p for p in properties if p["key"] == "youngs_modulus")
    assert modulus["unit"] == "GPa" and modulus["category"] == "mechanical" and "E" in modulus["aliases"]
    # the material page's order (categories.toml's): thermal came before physical here
    categories = list(dict.fromkeys(p["category"] for p in properties))
    assert categories == [c for c in get_vocabulary().categories if c in categories]
    assert categories.index("physical") < categories.index("thermal")
    classes = (await api.get("/api/v1/classes")).json()
    assert "polymer" in {c["key"] for c in classes}
    applications = (await api.get("/api/v1/applications")).json()
    assert "orthopaedic" in {a["key"] for a in applications}


async def test_units_are_labelled_as_people_write_them_beside_their_keys(api):
    properties = {p["key"]: p for p in (await api.get("/api/v1/properties")).json()}
    density, toughness = properties["density"], properties["fracture_toughness"]
    assert (density["unit"], density["unit_label"]) == ("g/cm**3", "g/cm³")
    assert density["display_unit_labels"] == ["g/cm³", "kg/m³", "lb/in³"]
    assert len(density["display_unit_labels"]) == len(density["display_units"])
    assert toughness["unit_label"] == "MPa·m^½"
    assert properties["glass_transition_temperature"]["display_unit_labels"][0] == "°C"
    systems = {s["key"]: s for s in (await api.get("/api/v1/unit-systems")).json()}
    us = systems["US"]
    assert us["units"]["g/cm**3"] == "lb/in**3"  # the keys stay as they were
    assert us["unit_labels"]["g/cm³"] == "lb/in³" and us["unit_labels"]["K"] == "°F"
    assert len(us["unit_labels"]) == len(us["units"])
    assert us["units"]["GPa"] == "Mpsi" and us["unit_labels"]["GPa"] == "Msi"  # a modulus' headline US unit
    assert us["units_by_magnitude"]["GPa"] == ["psi", "ksi", "Mpsi"] and systems["SI"]["units_by_magnitude"] == {}


async def test_health_and_ready(api):
    assert (await api.get("/health")).json() == {"status": "ok"}
    ready = await api.get("/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert {"status": body["status"], "checks": body["checks"]} == {
        "status": "ready",
        "checks": {"database": "ok", "jobs": "ok"},
    }
    assert body["search_index"] in ("current", "building")  # informative: searches run in SQL while it builds


async def test_ready_says_not_ready_when_elasticsearch_is_unreachable(engine, tmp_path, anyio_backend):
    from tests.api_fixtures import open_client, settings_for

    settings = settings_for(engine, tmp_path, elasticsearch_url="http://127.0.0.1:9")
    manager, client = await open_client(settings)
    try:
        response = await client.get("/ready")
    finally:
        await client.aclose()
        await manager.__aexit__(None, None, None)
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["elasticsearch"].startswith("unreachable")


async def test_a_qualitative_value_reads_as_words_on_every_view(engine, api, tmp_path):
    from tests.test_pipeline import QUALITATIVE_CSV

    path = tmp_path / "qualitative.csv"
    path.write_text(QUALITATIVE_CSV, encoding="utf-8")
    assert ingest_file(engine, path).loaded
    for units in ({}, {"units": "melting_temperature:degC"}):
        body = (await api.get("/api/v1/materials/PDLLA", params=units)).json()
        (tm,) = [m for m in body["measurements"] if m["property"] == "melting_temperature"]
        assert (tm["qualifier"], tm["qualitative"], tm["text"], tm["value"], tm["value_min"]) == (
            "term",
            "amorphous",
            "amorphous",
            None,
            None,
        )
        (ld,) = [v for v in body["jsonld"]["variableMeasured"] if v["propertyID"] == "melting_temperature"]
        assert ld["value"] == "amorphous" and "unitText" not in ld and "minValue" not in ld
    compared = (await api.get("/api/v1/compare", params={"ids": "PDLLA,PLLA"})).json()
    (row,) = [r for r in compared["properties"] if r["property"] == "melting_temperature"]
    assert [(v["qualitative"], v["text"]) for values in row["values"].values() for v in values] == [
        ("amorphous", "amorphous"),
        (None, "175"),  # written 175 °C: shown in °C, to the degree
    ]
    page = await api.get("/materials/PDLLA")
    assert page.status_code == 200 and "amorphous" in page.text
    listed = (await api.get("/api/v1/materials", params={"filter": "Tm > 0 degC"})).json()
    assert [hit["name"] for hit in listed["results"]] == ["PLLA"]
