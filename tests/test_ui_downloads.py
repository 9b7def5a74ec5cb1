"""Every search and material page has a data twin: links to the API's export of what it shows,
on the same host, carrying the page's query and units; the file holds the rows the page showed."""

from __future__ import annotations

import csv
import html
import io
import re
from urllib.parse import parse_qs, urlsplit

import httpx
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
    with httpx.Client(base_url=demo_server.base_url) as client:
        page = client.get("/", params=params)
        assert page.status_code == 200
        shown = RESULT.findall(page.text)
        links = downloads(page.text)
        assert sorted(links) == ["csv", "json", "parquet"] and all(len(hrefs) == 1 for hrefs in links.values())
        for format, (href,) in links.items():
            address = urlsplit(href)
            assert (address.scheme, address.netloc, address.path) == ("", "", "/api/v1/export")  # this host
            assert parse_qs(address.query) == {"format": [format], **{k: [v] for k, v in params.items()}}
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
    assert moduli and {row["unit"] for row in moduli} == {"ksi"}  # the page's units
    assert len(parquet) == len(as_json) == len(rows)


@pytest.mark.parametrize("material", ["PLLA", "Ti-6Al-4V"])
def test_the_material_page_offers_its_measurements_and_evidence(demo_server, material):
    with httpx.Client(base_url=demo_server.base_url) as client:
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
    with httpx.Client(base_url=demo_server.base_url) as client:
        default = client.get("/materials/PEG").text
        us = client.get("/materials/PEG", params={"unit_system": "US"}).text
    assert "at 25 °C" in default and "at 77 °F" not in default
    assert "at 77 °F" in us and "at 25 °C" not in us
    assert "298.15" not in default + us
