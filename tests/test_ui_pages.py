"""The visitor pages as served (no browser): the search's facets switch off again, a bad cursor
is named as such, a material reads like a data sheet, the About page has a card per dataset
with the dataset's own citation, and the reader's units ride in every link a page makes."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from biomatdb.vocabulary import get_vocabulary
from biomatdb_api.ui.pages import with_clause, without_clause
from biomatdb_search.clauses import has_clause
from biomatdb_search.service import build_query

FACET_LINK = re.compile(
    r'<li><a href="(?P<href>[^"]+)"(?P<attrs>[^>]*)>\s*<span>(?P<label>.*?)</span> <span class="count"', re.DOTALL
)
TAG = re.compile(r"<[^>]+>")


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", fragment)).split())


def facet_links(page: str) -> dict[str, tuple[str, bool]]:
    """Each facet value's label: (its filter, whether it is switched on)."""
    found = {}
    for match in FACET_LINK.finditer(page):
        label = text_of(match["label"]).replace("✕", "").replace("(on; follow to switch off)", "").strip()
        query = parse_qs(urlsplit(html.unescape(match["href"])).query)
        found[label] = ((query.get("filter") or [""])[0], 'class="active"' in match["attrs"])
    return found


def total(page: str) -> int:
    heading = re.search(r'<h2 id="results-title"[^>]*>(.*?)</h2>', page, re.DOTALL)
    assert heading, page[:500]
    words = text_of(heading[1]).split()
    return int(words[0]) if words[0].isdigit() else 0


# --- taking a facet's clause out again ------------------------------------------------------

CLAUSES = [
    "class = hydrogel",
    "has youngs_modulus",
    "contains(Ti)",
    "biodegradable = yes",
    'application = "bone fixation"',
]
FILTERS = [
    "",
    "has density",
    "youngs_modulus > 1 GPa AND class = polymer",
    "class = metal OR class = ceramic",
    "NOT has density",
]


@pytest.mark.parametrize("clause", CLAUSES)
@pytest.mark.parametrize("filter_text", FILTERS)
def test_a_clause_a_facet_added_comes_out_again(filter_text, clause):
    narrowed = with_clause(filter_text, clause)
    removed = without_clause(narrowed, clause)
    assert removed is not None
    assert build_query(filter_text=removed or None).filter == build_query(filter_text=filter_text or None).filter


@pytest.mark.parametrize(
    ("filter_text", "clause", "expected"),
    [
        ("x > 1 AND class = metal AND y > 2", "class = metal", "x > 1 AND y > 2"),
        ("class = metal and has density", "class = metal", "has density"),
        ("class != metal", "class = metal", None),  # not the clause: another operator
        ("class = metalwork", "class = metal", None),  # not the clause: a longer value
        ("NOT class = metal", "class = metal", None),  # under NOT: text alone cannot undo it
        ("class = polymer OR class = metal", "class = metal", None),  # inside an OR
        ("(class = metal OR has density) AND y > 1", "class = metal", None),
    ],
)
def test_a_clause_standing_otherwise_is_left_alone(filter_text, clause, expected):
    assert without_clause(filter_text, clause) == expected


SPELLINGS_OF_CLASS_METAL = [
    "class=metal",
    'class = "metal"',
    "class='metal'",
    "  class   =    metal  ",
    "CLASS = METAL",
    "class = metallic",  # the vocabulary's alias of the same class
    "(class = metal)",
]


@pytest.mark.parametrize("spelling", SPELLINGS_OF_CLASS_METAL)
def test_a_clause_typed_in_another_spelling_is_the_facets_clause(spelling):
    assert has_clause(spelling, "class = metal")
    assert without_clause(spelling, "class = metal") == ""
    chain = f"has density and {spelling} AND tensile_strength > 50 MPa"
    assert has_clause(chain, "class = metal")
    assert without_clause(chain, "class = metal") == "has density AND tensile_strength > 50 MPa"


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("class = metal AND class = metal", ""),
        ("class = metal AND has density AND class='metal'", "has density"),
        ("(class = metal AND has density) AND class = metal", "has density"),
        ("class = metal AND (class = metal OR has density)", "class = metal OR has density"),
        ("class = metal AND has density WHERE medium = PBS", "has density WHERE medium = PBS"),
        ("NOT class = metal AND class = polymer", None),  # under NOT: the value is not on
        (
            "class = metal AND (has density WHERE medium = PBS) AND has youngs_modulus AND class = metal",
            "(has density WHERE medium = PBS) AND has youngs_modulus",
        ),
    ],
)
def test_switching_a_clause_off_takes_out_every_copy(filter_text, expected):
    removed = without_clause(filter_text, "class = metal")
    assert removed == expected
    if removed:
        assert not has_clause(removed, "class = metal")
        assert build_query(filter_text=removed).filter is not None  # still a filter, same meaning kept


def test_a_clause_added_after_a_where_does_not_become_its_condition():
    narrowed = with_clause("has density WHERE medium = PBS", "class = metal")
    assert has_clause(narrowed, "class = metal")
    assert without_clause(narrowed, "class = metal") == "has density WHERE medium = PBS"


# --- the search page -------------------------------------------------------------------------


def test_a_facet_switched_on_switches_off_again(demo_server):
    with demo_server.client() as client:
        wide = client.get("/", params={"filter": "has youngs_modulus"}).text
        on = facet_links(wide)["Hydrogels"]
        assert on == ("has youngs_modulus AND class = hydrogel", False)
        narrow = client.get("/", params={"filter": on[0]}).text
        off = facet_links(narrow)["Hydrogels"]
        assert off == ("has youngs_modulus", True)  # the same value again: back to the wider search
        switched_on = [label for label, (_, active) in facet_links(narrow).items() if active]
        assert {"Hydrogels", "Young's modulus"} <= set(switched_on)  # both clauses of the filter
        assert "Switch off" in narrow and f"{len(switched_on)} switched on" in narrow
        assert total(client.get("/", params={"filter": off[0]}).text) == total(wide) > total(narrow) > 0
        # the last facet switched off leaves no filter at all
        only = facet_links(client.get("/", params={"filter": "class = hydrogel"}).text)["Hydrogels"]
        assert only == ("", True)


@pytest.mark.parametrize(
    "spelling", ["class=hydrogel", "CLASS = 'hydrogel'", 'has youngs_modulus and class = "hydrogel"']
)
def test_a_facet_typed_in_another_spelling_shows_on_and_switches_off(demo_server, spelling):
    with demo_server.client() as client:
        page = client.get("/", params={"filter": spelling}).text
    href, active = facet_links(page)["Hydrogels"]
    assert active
    assert not has_clause(href, "class = hydrogel") and (href == "" or build_query(filter_text=href).filter)


def test_a_bad_cursor_is_named_as_the_links_problem(demo_server):
    params = {"filter": "class = polymer", "cursor": "not-a-cursor", "unit_system": "US"}
    with demo_server.client() as client:
        response = client.get("/", params=params)
    assert response.status_code == 400
    page = response.text
    assert "The link to this page of results has a problem" in page
    assert "The filter has a problem" not in page
    assert 'aria-invalid="true"' not in page  # the filter the reader typed is fine
    restart = re.search(r'class="filter-error-restart"><a href="([^"]+)"', page)
    assert restart and parse_qs(urlsplit(html.unescape(restart[1])).query) == {
        "filter": ["class = polymer"],
        "unit_system": ["US"],
    }


def test_results_come_before_the_facets_in_the_page(demo_server):
    page = demo_server.get("/").text
    assert 0 < page.index('class="results"') < page.index('class="facets"')
    assert '<details class="facets-fold" open>' in page  # open without a script; app.js folds it on a phone


# --- the material page ------------------------------------------------------------------------


def headings(page: str, level: str) -> list[str]:
    return [text_of(h) for h in re.findall(rf"<{level}[^>]*>(.*?)</{level}>", page, re.DOTALL)]


def test_a_material_reads_like_a_data_sheet(demo_server):
    vocabulary = get_vocabulary()
    for material in ("PLLA", "Ti-6Al-4V", "Cortical bone"):
        page = demo_server.get(f"/materials/{material}").text
        categories = re.findall(r'<h3 id="category-(\w+)"', page)
        assert len(categories) >= 2, material
        assert categories == sorted(categories, key=vocabulary.category_rank), material
        shown = re.findall(r'<div class="property" id="property-(\w+)"', page)
        assert shown == sorted(shown, key=vocabulary.property_rank), material
        titles = [vocabulary.categories[key].name for key in categories]
        assert [h for h in headings(page, "h3") if h in titles] == titles
    plla = demo_server.get("/materials/PLLA").text
    shown = re.findall(r'<div class="property" id="property-(\w+)"', plla)
    assert shown.index("youngs_modulus") < shown.index("elongation_at_break")  # not alphabetical


@pytest.mark.parametrize(
    ("material", "heading"),
    [("Ti-6Al-4V", "Composition"), ("316L stainless steel", "Composition"), ("PLLA", "Structure")],
)
def test_metals_show_their_composition_and_polymers_their_structure(demo_server, material, heading):
    page = demo_server.get(f"/materials/{material}").text
    assert headings(page, "h2")[0] == heading


def test_composites_show_their_composition(demo_server):
    with demo_server.client() as client:
        found = client.get("/api/v1/materials", params={"filter": "class = composite", "limit": 5}).json()
        names = [hit["id"] for hit in found["results"]]
        assert names
        for name in names:
            assert headings(client.get(f"/materials/{name}").text, "h2")[0] == "Composition", name


def test_a_material_page_links_to_its_data(demo_server):
    page = demo_server.get("/materials/Ti-6Al-4V", params={"unit_system": "US"}).text
    properties = page[page.index('id="properties-title"') : page.index('id="evidence-title"')]
    links = dict(re.findall(r'<a class="download" data-format="(\w+)" href="([^"]+)"', properties))
    assert {"csv", "json"} <= set(links)
    for format in ("csv", "json"):
        href = html.unescape(links[format])
        query = parse_qs(urlsplit(href).query)
        assert set(query) == {"format", "material", "unit_system"} and query["unit_system"] == ["US"]
        answer = demo_server.get(href)
        assert answer.status_code == 200 and "Ti-6Al-4V" in answer.text


# --- the About page ---------------------------------------------------------------------------


def cards(page: str) -> dict[str, str]:
    """Each dataset card's text, by the dataset's name."""
    found = re.findall(
        r'<li class="card dataset-card" id="dataset-([^"]+)">(.*?)</li>\s*(?=<li class="card|</ul>)', page, re.DOTALL
    )
    return {html.unescape(name): text_of(body) for name, body in found}


def test_the_about_page_has_a_card_per_dataset(demo_server):
    from biomatdb_ingest.fixtures import default_fixtures_dir

    with demo_server.client() as client:
        page = client.get("/about").text
        listed = client.get("/api/v1/datasets").json()
    listed = listed["datasets"] if isinstance(listed, dict) else listed
    shown = cards(page)
    assert sorted(shown) == sorted(d["name"] for d in listed) and len(shown) >= 5
    curated_citation = "BiomatDB curated biomaterials reference data, BiomatDB team (2026), CC-BY-4.0"
    notes = " ".join((default_fixtures_dir() / "curated" / "SOURCE.txt").read_text(encoding="utf-8").split())
    assert f'this compilation as "{curated_citation}"' in notes  # the notes say how to cite it: not made up here
    for dataset in listed:
        card = shown[dataset["name"]]
        assert f"Measurements {dataset['measurements']}" in card
        assert f"License {dataset['license']}" in card
        assert "Not stated" not in card  # every one of these names its source
        cited = re.search(r"Compiled from the (\d+) works? its rows cite", card)
        assert cited and int(cited[1]) > 0, card
        citation = dataset["source"]["citation"]  # the dataset's own, from its manifest
        assert re.search(r"How to cite " + re.escape(citation), card), card
        if dataset["name"].startswith("biomatdb-curated-") and "evaluation" not in dataset["name"]:
            assert citation == curated_citation
    # the citation is the datasets' own, never this server's address; and no monospace wall of notes
    assert demo_server.base_url not in page and "127.0.0.1" not in page
    assert "<pre" not in page
    # each cited work says how many values cite it: a number, never a Python object's text
    counts = re.findall(r'<span class="muted">\(([^)]*)\)</span></li>', page)
    assert counts and all(re.fullmatch(r"\d+ values?", c) for c in counts), counts[:3]
    assert "built-in method" not in page and " at 0x" not in page


def test_each_dataset_card_browses_the_materials_it_counts(demo_server):
    """A card's "Browse its N materials" opens the search for the dataset, which finds those N,
    and keeps the reader's units."""
    with demo_server.client() as client:
        about = client.get("/about", params={"unit_system": "US"}).text
        listed = client.get("/api/v1/datasets").json()
        listed = listed["datasets"] if isinstance(listed, dict) else listed
        links = {}
        for card in about.split('class="card dataset-card" id="dataset-')[1:]:
            name = card.split('"', 1)[0]
            browse = re.search(r'<p class="dataset-browse"><a href="([^"]+)">', card)
            if browse:
                links[html.unescape(name)] = html.unescape(browse[1])
        assert sorted(links) == sorted(d["name"] for d in listed if d["materials"])
        for dataset in listed:
            if not dataset["materials"]:
                continue
            href = links[dataset["name"]]
            assert parse_qs(urlsplit(href).query)["unit_system"] == ["US"]
            assert f">Browse its {dataset['materials']} material" in about
            assert total(client.get(href).text) == dataset["materials"], dataset["name"]


def test_a_datasets_notes_are_one_click_away(demo_server):
    from biomatdb_ingest.fixtures import default_fixtures_dir

    with demo_server.client() as client:
        about = client.get("/about", params={"unit_system": "US"}).text
        links = re.findall(r'<p class="dataset-notes"><a href="([^"]+)"', about)
        assert len(links) == len(cards(about))
        polymers = next(html.unescape(link) for link in links if "biomatdb-curated-polymers" in link)
        assert polymers == "/about/datasets/biomatdb-curated-polymers?unit_system=US"
        notes = client.get(polymers)
        assert notes.status_code == 200
        text = text_of(notes.text)
        source = (default_fixtures_dir() / "curated" / "SOURCE.txt").read_text(encoding="utf-8")
        for line in (
            "BiomatDB curated biomaterials reference data",
            "polymers.csv and hydrogels-natural-composites.xlsx",
        ):
            assert line in source and line in text
        assert "biomatdb-curated-metals-ceramics-glasses" in text  # the same notes cover the folder's others
        assert "<pre" not in notes.text
        assert client.get("/about/datasets/no-such-dataset").status_code == 404


def test_a_datasets_materials_are_counted_alike_by_its_card_and_the_api(demo_server, curated_core):
    """The biological-evaluation dataset's card counted 83 materials while the API said 4 (the
    API counted materials with measurements only): both now count the materials the dataset gives
    a measurement or a biological-evaluation record of, as the database holds them."""
    from sqlalchemy import text

    with curated_core.connect() as connection:
        truth = dict(
            connection.execute(
                text(
                    "SELECT dataset_id, COUNT(*) FROM (SELECT dataset_id, material_id FROM measurements "
                    "UNION SELECT dataset_id, material_id FROM biological_evaluations) GROUP BY dataset_id"
                )
            ).all()
        )
        records = dict(
            connection.execute(
                text("SELECT dataset_id, COUNT(*) FROM biological_evaluations GROUP BY dataset_id")
            ).all()
        )
    with demo_server.client() as client:
        page = client.get("/about").text
        listed = client.get("/api/v1/datasets").json()
        detail = {d["name"]: client.get(f"/api/v1/datasets/{d['id']}").json() for d in listed}
    shown = cards(page)
    evaluation = next(d for d in listed if "biological-evaluation" in d["name"])
    assert records[evaluation["id"]] > 0 and truth[evaluation["id"]] > evaluation["measurements"] > 0
    for dataset in listed:
        assert dataset["materials"] == detail[dataset["name"]]["materials"] == truth.get(dataset["id"], 0)
        assert dataset["evaluations"] == records.get(dataset["id"], 0)
        assert f"Materials {truth.get(dataset['id'], 0)} " in shown[dataset["name"]] + " "
        if dataset["evaluations"]:
            assert f"Biological evaluations {dataset['evaluations']}" in shown[dataset["name"]]


def test_search_finds_a_datasets_materials_as_its_card_and_the_api_count_them(demo_server):
    """The search side counted the biological-evaluation dataset's materials as 4 (its
    measurements only) where its card and ``/datasets`` said 83: a material is the dataset's when
    it gives the material a measurement or an evaluation record, for the facet, the filter, the
    search page, the API's entries and the card alike."""
    with demo_server.client() as client:
        listed = client.get("/api/v1/datasets").json()
        shown = cards(client.get("/about").text)
        everything = client.get("/api/v1/materials", params={"facet": "dataset", "limit": 1}).json()
        faceted = {f["value"]: f["count"] for f in everything["facets"]["dataset"]}
        found, on_page = {}, {}
        for dataset in listed:
            clause = f'dataset = "{dataset["name"]}"'
            answer = client.get("/api/v1/materials", params={"filter": clause, "facet": "dataset", "limit": 1}).json()
            # within the filter, the facet counts the dataset's own materials once more
            assert {f["value"]: f["count"] for f in answer["facets"]["dataset"]}[dataset["name"]] == answer["total"]
            found[dataset["name"]] = answer["total"]
            page = client.get("/", params={"filter": clause}).text
            title = re.search(r'id="results-title"[^>]*>\s*(\d+) material', page)
            assert title, clause
            on_page[dataset["name"]] = int(title[1])
    counted = {d["name"]: d["materials"] for d in listed}
    assert counted == faceted == found == on_page
    assert any(d["evaluations"] and d["materials"] > d["measurements"] for d in listed)  # not vacuous
    for name, materials in counted.items():
        assert f"Materials {materials} " in shown[name] + " "


def test_a_doi_read_from_a_citation_leaves_its_closing_parenthesis(demo_server):
    """WE43's citation ends "(abstract, sciencegate.app/document/10.3390/ma12213627)"; the DOI
    read from it kept the ")", so doi.org links and the evidence export pointed nowhere."""
    with demo_server.client() as client:
        pages = [client.get("/about").text, client.get("/materials/WE43").text]
        exported = client.get("/api/v1/export", params={"material": "WE43", "kind": "evidence", "format": "json"})
    assert exported.status_code == 200, exported.text
    for page in pages:
        assert 'href="https://doi.org/10.3390/ma12213627"' in page
    dois = {row["doi"] for row in exported.json() if row.get("doi")}
    assert "10.3390/ma12213627" in dois
    for page in pages:
        links = re.findall(r'href="https://doi\.org/([^"]+)"', page)
        assert links and not [d for d in links if d.count(")") > d.count("(") or d[-1] in ".,;"], links
