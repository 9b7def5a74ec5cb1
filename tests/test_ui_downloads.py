"""Every search and material page has a data twin: links to the API's export of what it shows,
on the same host, carrying the page's query and units; the file holds the rows the page showed."""

from __future__ import annotations

import csv
import html
import io
import re
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

LINK = re.compile(r'<a class="download" data-format="(?P<format>\w+)" href="(?P<href>[^"]+)"')
RESULT = re.compile(r'<a class="result-name" href="/materials/(?P<id>[^"?]+)')


def downloads(page: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for match in LINK.finditer(page):
        found.setdefault(match["format"], []).append(html.unescape(match["href"]))
    return found


def test_the_search_page_offers_its_results_as_files(demo_server):
    params = {"filter": "youngs_modulus > 50 GPa AND class = metal", "unit_system": "US"}
    with demo_server.client() as client:
        page = client.get("/", params=params)
        assert page.status_code == 200
        shown = RESULT.findall(page.text)
        links = downloads(page.text)
        assert sorted(links) == ["csv", "json", "parquet"] and all(len(hrefs) == 1 for hrefs in links.values())
        for format, (href,) in links.items():
            address = urlsplit(href)
            assert (address.scheme, address.netloc, address.path) == ("", "", "/api/v1/export")  # this host
            # the page's order is said although it is the default: the export's own default is another
            expected = {"format": [format], "sort": ["-youngs_modulus"], **{k: [v] for k, v in params.items()}}
            assert parse_qs(address.query) == expected
        response = client.get(links["csv"][0])
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        parquet = pd.read_parquet(io.BytesIO(client.get(links["parquet"][0]).content))
        as_json = client.get(links["json"][0]).json()
    heading = page.text.split('id="results-title"')[1].split("</h2>")[0]
    total = int(re.search(r"(\d+) materials", heading)[1])  # type: ignore[index]
    exported = {row["id"] for row in rows}
    assert len(shown) == 20 < total and set(shown) <= exported  # the page's materials, and its next pages'
    assert len(exported) == total
    moduli = [row for row in rows if row["property"] == "youngs_modulus"]
    assert moduli and {row["unit"] for row in moduli} == {"Msi"}  # the page's units (US moduli by magnitude)
    assert len(parquet) == len(as_json) == len(rows)


INTERVAL_FILTER = "youngs_modulus in 1..3 GPa"  # one material more matches with v ± u as an interval


@pytest.mark.parametrize(
    ("params", "said"),
    [
        (
            {"filter": INTERVAL_FILTER, "sort": "name", "uncertainty": "interval", "unit_system": "US"},
            {},
        ),
        (
            {"q": "poly", "filter": "has tensile_strength", "match": "certain", "units": "tensile_strength:ksi"},
            {"sort": "relevance"},  # the default order of a search with words, said
        ),
        (
            {"filter": INTERVAL_FILTER, "sort": "-tensile_strength", "match": "certain", "uncertainty": "interval"},
            {},
        ),
    ],
)
def test_the_search_downloads_hold_what_the_page_shows_in_its_order(demo_server, params, said):
    """The links carry everything that shapes the page's answer (words, filter, sort, match,
    uncertainty, units); they once dropped the sort and the uncertainty, so that the file held
    other materials than the page, in another order."""
    with demo_server.client() as client:
        page = client.get("/", params=params)
        assert page.status_code == 200
        shown = RESULT.findall(page.text)
        links = downloads(page.text)
        assert sorted(links) == ["csv", "json", "parquet"]
        for format, (href,) in links.items():
            expected = {"format": [format], **{k: [v] for k, v in {**params, **said}.items()}}
            assert parse_qs(urlsplit(href).query) == expected
        rows = list(csv.DictReader(io.StringIO(client.get(links["csv"][0]).text)))
        as_json = client.get(links["json"][0]).json()
    heading = page.text.split('id="results-title"')[1].split("</h2>")[0]
    total = int(re.search(r"(\d+) material", heading)[1])  # type: ignore[index]
    exported = list(dict.fromkeys(row["id"] for row in rows))  # the materials, in the file's order
    assert shown and exported[: len(shown)] == shown
    assert len(exported) == total
    assert [row["id"] for row in as_json] == [row["id"] for row in rows]
    if "units" in params:
        assert {row["unit"] for row in rows if row["property"] == "tensile_strength"} == {"ksi"}


def test_the_uncertainty_choice_changes_the_answer_and_stays_in_the_links(demo_server):
    """The search form's "Values v ± u" select (no script needed: a GET form) is what the API's
    ``uncertainty`` is; the choice is kept by the pager, the facets and the downloads."""
    with demo_server.client() as client:
        point = client.get("/", params={"filter": INTERVAL_FILTER}).text
        interval = client.get("/", params={"filter": INTERVAL_FILTER, "uncertainty": "interval"}).text
        api_point = client.get("/api/v1/materials", params={"filter": INTERVAL_FILTER}).json()["total"]
        api_interval = client.get(
            "/api/v1/materials", params={"filter": INTERVAL_FILTER, "uncertainty": "interval"}
        ).json()["total"]

    def total(page: str) -> int:
        return int(re.search(r"(\d+) material", page.split('id="results-title"')[1])[1])  # type: ignore[index]

    def selected(page: str) -> list[str]:
        control = re.search(r'<select id="uncertainty" name="uncertainty">(.*?)</select>', page, re.DOTALL)
        assert control, "the search form has no uncertainty control"
        return re.findall(r'<option value="(\w+)" selected>', control[1])

    assert (total(point), total(interval)) == (api_point, api_interval) and api_point < api_interval
    assert selected(point) == ["point"] and selected(interval) == ["interval"]
    assert '<label for="uncertainty"' in interval
    kept = [html.unescape(href) for href in re.findall(r'<a rel="next" href="([^"]+)"', interval)]
    facets = interval.split('<aside class="facets"')[1]
    kept += [html.unescape(href) for href in re.findall(r'<li><a href="(/\?[^"]+)"', facets)]
    kept += [href for hrefs in downloads(interval).values() for href in hrefs]
    assert len(kept) > 4 and all(parse_qs(urlsplit(href).query)["uncertainty"] == ["interval"] for href in kept)
    assert "uncertainty=" not in point.split('id="results-title"')[1]  # the default is left out of links


@pytest.mark.parametrize("material", ["PLLA", "Ti-6Al-4V"])
def test_the_material_page_offers_its_measurements_and_evidence(demo_server, material):
    with demo_server.client() as client:
        document = client.get(f"/api/v1/materials/{material}").json()
        page = client.get(f"/materials/{material}", params={"units": "youngs_modulus:MPa"})
        links = downloads(page.text)
        assert sorted(links) == ["csv", "json", "parquet"]
        measurements, evidence = zip(*links.values(), strict=True)
        assert all(parse_qs(urlsplit(href).query)["material"] == [document["id"]] for href in measurements + evidence)
        assert all(parse_qs(urlsplit(href).query)["kind"] == ["evidence"] for href in evidence)
        rows = list(csv.DictReader(io.StringIO(client.get(measurements[0]).text)))
        records = client.get(evidence[1]).json()
        evidence_rows = list(csv.DictReader(io.StringIO(client.get(evidence[0]).text)))
        evidence_table = pd.read_parquet(io.BytesIO(client.get(evidence[2]).content))
    assert len(rows) == len(document["measurements"]) and {row["id"] for row in rows} == {document["id"]}
    assert {row["unit"] for row in rows if row["property"] == "youngs_modulus"} <= {"MPa"}
    assert len(records) == len(evidence_rows) == len(evidence_table) == len(document["biological_evaluations"]) > 0
    assert list(evidence_table.columns) == list(evidence_rows[0]) and set(evidence_table["Material"]) == {
        document["name"]
    }
    assert {record["material"] for record in records} == {document["name"]}


def test_the_material_page_says_a_test_temperature_in_the_readers_units(demo_server):
    """PEG's density was measured at 298.15 K: 25 °C, and 77 °F in US units; never in kelvin."""
    with demo_server.client() as client:
        default = client.get("/materials/PEG").text
        us = client.get("/materials/PEG", params={"unit_system": "US"}).text
    assert "at 25 °C" in default and "at 77 °F" not in default
    assert "at 77 °F" in us and "at 25 °C" not in us
    assert "298.15" not in default + us


@pytest.mark.parametrize("material", ["PLCL", "bm-16b3ba66ed"])  # a polymer; PCL/β-TCP 80:20, a composite
def test_a_material_without_measurements_still_has_its_data_twin(demo_server, material):
    """A material with no measurements had no download links, while every other material page
    had them; its files hold its one row (identity, composition, structure) and no value."""
    with demo_server.client() as client:
        document = client.get(f"/api/v1/materials/{material}").json()
        assert document["measurements"] == []  # the case this test is for
        page = client.get(f"/materials/{document['id']}", params={"units": "youngs_modulus:MPa"})
        links = downloads(page.text)
        assert sorted(links) == ["csv", "json", "parquet"] and all(len(hrefs) == 1 for hrefs in links.values())
        assert all(parse_qs(urlsplit(hrefs[0]).query)["material"] == [document["id"]] for hrefs in links.values())
        rows = list(csv.DictReader(io.StringIO(client.get(links["csv"][0]).text)))
        as_json = client.get(links["json"][0]).json()
        parquet = pd.read_parquet(io.BytesIO(client.get(links["parquet"][0]).content))
    assert len(rows) == len(as_json) == len(parquet) == 1
    (row,) = rows
    assert (row["id"], row["material"], row["class"]) == (document["id"], document["name"], document["class"])
    assert row["smiles"] or row["composition"]  # its structure or its composition rides along
    assert row["property"] == row["value"] == row["unit"] == ""
    assert as_json[0]["property"] is None and as_json[0]["material"] == document["name"]


@pytest.mark.parametrize("path", ["/materials/Ti-6Al-4V", "/"])
def test_a_page_uses_every_unit_the_api_accepts_and_its_links_keep_them(demo_server, path):
    """`?units=youngs_modulus:MPa,density:kg/m^3` showed MPa but kept density in g/cm³, and the
    CSV link carried only the modulus: the page read units from its switch's short list, not as
    the API does. Any unit of the property's dimension is used now (`Msi` too), and kept."""
    units = "youngs_modulus:Msi,density:kg/m^3"
    with demo_server.client() as client:
        page = html.unescape(client.get(path, params={"units": units, "filter": "density > 1 g/cm^3"}).text)
    assert re.search(r"\d Msi", page) and re.search(r"[\d³] kg/m³", page)
    assert not re.search(r"\d g/cm³", page.split('id="main"')[1].split("Display units")[0])
    assert "units-ignored" not in page
    for href in downloads(page)["csv"]:
        assert parse_qs(urlsplit(href).query)["units"] == ["density:kg/m^3,youngs_modulus:Msi"]


def test_a_unit_a_page_cannot_use_is_said_on_it(demo_server):
    with demo_server.client() as client:
        response = client.get("/materials/Ti-6Al-4V", params={"units": "youngs_modulus:MPa,density:furlong"})
    page = html.unescape(response.text)
    assert response.status_code == 200
    (notice,) = re.findall(r'<p class="notice units-ignored" role="status">(.*?)</p>', page)
    assert "density:furlong" in notice and "g/cm³" in notice  # what was not used, and what would be
    assert re.search(r"\d MPa", page)  # the pair it could use is used
    for href in downloads(page)["csv"]:
        assert parse_qs(urlsplit(href).query)["units"] == ["youngs_modulus:MPa"]
