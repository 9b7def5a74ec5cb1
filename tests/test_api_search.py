"""Search through the API: the same answers and the same shape as ``biomatdb search --json``."""

from __future__ import annotations

import pytest

from biomatdb.display import UnitChoice
from biomatdb_search.backends.sql import SqlBackend
from biomatdb_search.chemistry import ChemistryIndex
from biomatdb_search.display import shown_result
from biomatdb_search.service import build_query

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"


def expected(engine, choice: UnitChoice | None = None, **query) -> dict:
    """What the backend answers, as shown (display units, the precision written)."""
    found = SqlBackend(engine, ChemistryIndex(engine)).search(build_query(**query))
    return shown_result(found, choice or UnitChoice()).model_dump(mode="json", by_alias=True)


async def test_get_materials_answers_exactly_what_the_backend_answers(semantics, api):
    response = await api.get(
        "/api/v1/materials",
        params={
            "filter": "youngs_modulus >= 1 GPa",
            "facet": ["class", "application"],
            "sort": "-youngs_modulus",
            "limit": 2,
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == expected(
        semantics,
        filter_text="youngs_modulus >= 1 GPa",
        facets=["class", "application"],
        sort="-youngs_modulus",
        limit=2,
    )
    assert set(body) == {"results", "facets", "total", "next_cursor", "spelling", "notes"}
    assert body["total"] == 4 and len(body["results"]) == 2 and body["next_cursor"]


async def test_the_cursor_walks_every_page_once(semantics, api):
    seen, cursor = [], None
    while True:
        params = {"filter": "has density OR has youngs_modulus", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await api.get("/api/v1/materials", params=params)).json()
        seen += [hit["name"] for hit in body["results"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == ["Alpha", "Beta", "Delta", "Epsilon", "Gamma"]


async def test_post_search_equals_get_materials(semantics, api):
    get = await api.get("/api/v1/materials", params={"q": "alpha", "filter": "class = polymer", "facet": "class"})
    post = await api.post("/api/v1/search", json={"text": "alpha", "filter": "class = polymer", "facets": ["class"]})
    assert post.status_code == 200
    assert post.json() == get.json()
    assert [hit["name"] for hit in post.json()["results"]] == ["Alpha"]
    assert post.json()["results"][0]["class"] == "polymer"


async def test_a_filter_error_is_a_problem_with_its_position(semantics, api):
    response = await api.get("/api/v1/materials", params={"filter": "youngs_modulus >= 1 parsecs"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 400 and problem["type"].startswith("urn:biomatdb:problem:")
    assert problem["instance"] == "/api/v1/materials"
    assert isinstance(problem["position"], int)
    assert "Traceback" not in response.text


async def test_a_syntax_error_says_what_was_expected(semantics, api):
    response = await api.post("/api/v1/search", json={"filter": "youngs_modulus >= AND"})
    assert response.status_code == 400
    problem = response.json()
    assert problem["position"] == len("youngs_modulus >= ")
    assert problem["expected"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"facet": "colour"}, 422),
        ({"limit": 0}, 422),
        ({"limit": 501}, 422),
        ({"limit": 201}, 422),  # above page_size_max
        ({"cursor": "not-a-cursor"}, 400),
        ({"sort": "colour"}, 400),
    ],
)
async def test_bad_parameters_are_problems(semantics, api, params, status):
    response = await api.get("/api/v1/materials", params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == status


async def test_post_search_refuses_unknown_fields(semantics, api):
    response = await api.post("/api/v1/search", json={"txt": "alpha"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["loc"] == ["body", "txt"]


async def test_chemistry_in_the_filter(semantics, api):
    body = (await api.get("/api/v1/materials", params={"filter": 'substructure("c1ccccc1")'})).json()
    assert [hit["name"] for hit in body["results"]] == ["Beta"]


async def test_text_without_a_word_matches_everything(semantics, api):
    """Regression: found by schemathesis; text of punctuation only made FTS5 fail (a 500)."""
    response = await api.get("/api/v1/materials", params={"q": "!!"})
    assert response.status_code == 200
    assert response.json()["total"] == 6


async def test_match_certain_keeps_only_measurements_wholly_within(semantics, api):
    possible = (await api.get("/api/v1/materials", params={"filter": "youngs_modulus >= 1 GPa"})).json()
    certain = (
        await api.get("/api/v1/materials", params={"filter": "youngs_modulus >= 1 GPa", "match": "certain"})
    ).json()
    posted = (await api.post("/api/v1/search", json={"filter": "youngs_modulus >= 1 GPa", "match": "certain"})).json()
    assert certain == posted == expected(semantics, filter_text="youngs_modulus >= 1 GPa", match="certain")
    assert {hit["name"] for hit in possible["results"]} - {hit["name"] for hit in certain["results"]} == {"Beta"}
    beta = next(hit for hit in possible["results"] if hit["name"] == "Beta")
    assert [m["certainty"] for m in beta["measurements"]] == ["possible"]
    bad = await api.get("/api/v1/materials", params={"filter": "has density", "match": "sure"})
    assert bad.status_code == 422 and "match" in bad.text


async def test_composition_filters_and_the_element_facet_answer_as_the_backend(semantics, api):
    params = {"filter": "NOT contains(Ni) AND has density", "facet": ["element", "class"], "limit": 3}
    body = (await api.get("/api/v1/materials", params=params)).json()
    assert body == expected(
        semantics, filter_text="NOT contains(Ni) AND has density", facets=["element", "class"], limit=3
    )
    assert set(body["facets"]) == {"element", "class"} and body["total"] > 0
    refused = await api.get("/api/v1/materials", params={"filter": "composition.Ni = 0 MPa"})
    assert refused.status_code == 400 and refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert (problem["type"], problem["position"], problem["expected"]) == (
        "urn:biomatdb:problem:unit-error",
        19,
        ["wt%", "at%"],
    )


async def test_search_in_display_units_on_get_and_post(semantics, api):
    params = {"filter": "youngs_modulus > 50 GPa OR Tg > 37 degC", "sort": "name"}
    shown = {"units": "youngs_modulus:MPa", "unit_system": "US"}
    get = await api.get("/api/v1/materials", params={**params, **shown})
    post = await api.post("/api/v1/search", params=shown, json={"filter": params["filter"], "sort": "name"})
    assert get.status_code == post.status_code == 200
    assert (
        get.json()
        == post.json()
        == expected(
            semantics,
            UnitChoice({"youngs_modulus": "MPa"}, "US"),
            filter_text=params["filter"],
            sort="name",
        )
    )
    by_property = {m["property"]: m for hit in get.json()["results"] for m in hit["measurements"]}
    tg, modulus = by_property["glass_transition_temperature"], by_property["youngs_modulus"]
    assert (tg["display"], tg["unit"], tg["value_canonical"], tg["unit_canonical"]) == (
        "140 °F",
        "°F",
        pytest.approx(333.15),
        "K",
    )
    assert (modulus["unit"], modulus["unit_canonical"]) == ("MPa", "GPa") and modulus["display"].endswith(" MPa")
    plain = (await api.get("/api/v1/materials", params=params)).json()
    plain_tg = next(
        m for h in plain["results"] for m in h["measurements"] if m["property"] == "glass_transition_temperature"
    )
    assert (plain_tg["display"], plain_tg["value"]) == ("60 °C", 60.0)


@pytest.mark.parametrize("params", [{"units": "youngs_modulus:K"}, {"units": "nonsense"}, {"unit_system": "imperial"}])
async def test_bad_display_units_in_a_search_are_a_400_problem(semantics, api, params):
    for response in (
        await api.get("/api/v1/materials", params=params),
        await api.post("/api/v1/search", params=params, json={}),
        await api.get("/api/v1/export", params=params),
    ):
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == PROBLEM
