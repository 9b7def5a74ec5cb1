"""Search and the HTTP API against what researchers and the public really send: cursors
that were never given out, ids that only look like numbers, one material under two names.
Each test is named after what broke; each input once answered 500 or a wrong page."""

from __future__ import annotations

import base64
import json

import pytest

from biomatdb.errors import QueryError
from biomatdb_search.backends.sql import SqlBackend
from biomatdb_search.chemistry import ChemistryIndex
from biomatdb_search.model import encode_cursor
from biomatdb_search.service import build_query

PROBLEM = "application/problem+json"


def forged_cursor(query, offset) -> str:
    """A cursor of ``query`` as a client could write it by hand (any JSON offset)."""
    raw = json.dumps({"o": offset, "q": query.fingerprint()}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def semantics_backend(semantics) -> SqlBackend:
    return SqlBackend(semantics, ChemistryIndex(semantics))


# --- cursors ---------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [2**63, 10**30])
def test_a_cursor_past_any_database_row_is_refused_not_a_crash(semantics_backend, offset):
    """An offset beyond a 64-bit integer once reached SQLite and PostgreSQL (OverflowError, DataError)."""
    query = build_query(filter_text="has density", limit=1)
    with pytest.raises(QueryError) as raised:
        semantics_backend.search(query.model_copy(update={"cursor": forged_cursor(query, offset)}))
    assert raised.value.type == "bad-cursor"


def test_a_cursor_whose_offset_is_not_an_integer_is_refused(semantics_backend):
    """``{"o": 1e300}`` was read as int(1e300)."""
    query = build_query(filter_text="has density", limit=1)
    for offset in (1e300, 1.5, True, "3", None):
        with pytest.raises(QueryError) as raised:
            semantics_backend.search(query.model_copy(update={"cursor": forged_cursor(query, offset)}))
        assert raised.value.type == "bad-cursor", offset


def test_a_cursor_past_the_last_page_is_an_empty_page(semantics_backend):
    query = build_query(filter_text="has density", limit=1)
    result = semantics_backend.search(query.model_copy(update={"cursor": encode_cursor(query, 1000)}))
    assert (result.total, result.results, result.next_cursor) == (3, [], None)


@pytest.mark.anyio
async def test_a_huge_cursor_offset_is_a_400_problem(semantics, api):
    query = build_query(filter_text="has density", limit=1)
    response = await api.get(
        "/api/v1/materials", params={"filter": "has density", "limit": 1, "cursor": forged_cursor(query, 10**30)}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:biomatdb:problem:bad-cursor"


# --- datasets by id or name ------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("dataset_id", ["²", "٣", "99999999999999999999999"])
@pytest.mark.parametrize("suffix", ["", "/datapackage"])
async def test_a_dataset_id_that_only_looks_numeric_is_404(semantics, api, dataset_id, suffix):
    """``"²".isdigit()`` is true and ``int("²")`` raises; a 23-digit id overflowed the database."""
    response = await api.get(f"/api/v1/datasets/{dataset_id}{suffix}")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM


# --- compare ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_compare_counts_one_material_named_twice_once(semantics, api):
    """``Alpha,alpha`` (or a name and its public id) once compared Alpha with itself."""
    alpha = (await api.get("/api/v1/materials/Alpha")).json()["id"]
    for ids in ("Alpha,alpha", f"Alpha,{alpha}"):
        response = await api.get("/api/v1/compare", params={"ids": ids})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        assert "same material" in response.json()["detail"]
    response = await api.get("/api/v1/compare", params={"ids": f"Alpha,{alpha},Delta"})
    assert response.status_code == 200
    assert [m["name"] for m in response.json()["materials"]] == ["Alpha", "Delta"]


@pytest.mark.anyio
async def test_the_compare_page_counts_one_material_named_twice_once(semantics, api):
    response = await api.get("/compare", params={"ids": "Alpha,alpha"})
    assert response.status_code == 400
    assert "same material" in response.text
    response = await api.get("/compare", params={"ids": "Alpha,alpha,Delta"})
    assert response.status_code == 200
    assert response.text.count('<th scope="col"><a href="/materials/') == 2


# --- chemistry at scale ------------------------------------------------------------------


@pytest.mark.parametrize("filter_text", ['substructure("C")', 'NOT similarity("CC") >= 0.1'])
def test_a_chemistry_match_of_more_materials_than_postgresql_takes_parameters(semantics, filter_text):
    """70,000 matching ids were sent as 70,000 bind parameters: PostgreSQL takes at most 65,535."""
    everyone = dict.fromkeys(range(1, 70001), 1.0)
    backend = SqlBackend(semantics, lambda node: everyone)
    result = backend.search(build_query(filter_text=filter_text, facets=["class"]))
    assert result.total == (6 if filter_text.startswith("substructure") else 0)


# --- units that pint would compute without end --------------------------------------------


@pytest.mark.anyio
async def test_a_unit_tower_in_a_filter_or_display_units_is_a_400_not_a_dead_server(semantics, api):
    tower = "m^2^2^2^2^2^2"  # m**65536 to pint
    response = await api.get("/api/v1/materials", params={"filter": f"youngs_modulus > 1 {tower}"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM and "power" in response.json()["detail"]
    material = (await api.get("/api/v1/materials", params={"limit": 1})).json()["results"][0]["id"]
    response = await api.get(f"/api/v1/materials/{material}", params={"units": f"youngs_modulus:{tower}"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
