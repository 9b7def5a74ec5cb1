"""The search page shows what a researcher asked for: a derived filter's or sort's value with the
measurements it is derived from and their sources, and the medium, specimen-state and element
facets, each link narrowing the search to the materials it counts."""

from __future__ import annotations

import html
import re

import pytest

RESULT = re.compile(r'<li class="result">(?P<body>.*?)</li>\s*(?=<li class="result">|</ol>)', re.DOTALL)
TOTAL = re.compile(r'id="results-title"[^>]*>\s*(\d+) material')


def _page(demo_server, **params: str) -> str:
    with demo_server.client() as client:
        response = client.get("/", params=params)
    assert response.status_code == 200, response.text[:500]
    return html.unescape(response.text)


def _derived(result: str) -> list[str]:
    return re.findall(r'<dl class="key-values derived">(.*?)</dl>', result, re.DOTALL)


@pytest.mark.parametrize(
    "params",
    [{"filter": "youngs_modulus / density > 25 GPa/(g/cm^3)"}, {"sort": "-specific_stiffness"}],
    ids=["derived filter", "derived sort"],
)
def test_a_hit_shows_its_derived_value_with_its_inputs_and_their_sources(demo_server, params):
    page = _page(demo_server, **params)
    results = [match["body"] for match in RESULT.finditer(page)]
    assert len(results) >= 5
    for result in results[:5]:
        (derived,) = _derived(result)
        assert "<dt>Specific stiffness</dt>" in derived and "GPa·cm³/g" in derived
        assert "<dt>from Young's modulus</dt>" in derived.replace("’", "'") and "<dt>from Density</dt>" in derived
        assert derived.count("<cite>") == 2  # each input with its source
        assert "g/cm³" in derived and "GPa" in derived


def test_the_derived_sort_is_kept_and_orders_the_page(demo_server):
    page = _page(demo_server, sort="-specific_stiffness")
    assert '<option value="-specific_stiffness" selected' in page
    values = []
    for match in RESULT.finditer(page):
        (derived,) = _derived(match["body"])
        shown = re.search(r"<dd>([^<]*?) GPa·cm³/g", derived)[1]  # type: ignore[index]
        top = float(re.findall(r"[\d.]+", re.sub(r" × 10[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+", "", shown).replace("\u202f", ""))[-1])
        power = re.search(r"× 10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)", shown)  # a shared power of ten: 2.0–2.8 × 10¹
        values.append(
            top * 10 ** int(power[1].translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-"))) if power else top
        )
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize("facet", ["Tested in medium", "Specimen state", "Contains element"])
def test_the_condition_and_element_facets_narrow_to_what_they_count(demo_server, facet):
    page = _page(demo_server)
    section = page.split(f"<h2>{facet}</h2>")[1].split("</section>")[0]
    links = re.findall(
        r'<a href="(?P<href>[^"]+)"[^>]*>\s*<span>(?P<label>[^<]+)</span> <span class="count"[^>]*>(?P<count>\d+)',
        section,
    )
    assert links
    with demo_server.client() as client:
        for href, label, count in links[:3]:
            narrowed = html.unescape(client.get(href).text)
            assert int(TOTAL.search(narrowed)[1]) == int(count), (label, href)  # type: ignore[index]


def test_a_possible_match_shows_the_bound_or_range_that_makes_it_possible(demo_server):
    """CP-Ti Grade 1 meets `tensile_strength > 100 ksi` only through its bound `≥ 240 MPa`: the
    page showed "34.8 ksi possible match", hiding the bound; it shows the bound now."""
    page = _page(demo_server, filter="tensile_strength > 100 ksi", unit_system="US")
    marked = [
        value
        for match in RESULT.finditer(page)
        for value in re.findall(r"<dd>([^<]*?) <span class=\"possible\"", match["body"])
    ]
    assert marked, "no possible match on the page"
    assert all(re.search(r"[≥>]|–", text) for text in marked), marked
    grade1 = next(m["body"] for m in RESULT.finditer(page) if "Grade 1" in m["body"])
    assert re.search(r"<dd>[^<]*≥\s?34\.8 ksi[^<]* <span class=\"possible\"", grade1), grade1


def _card(page: str, name: str) -> str:
    return next(m["body"] for m in RESULT.finditer(page) if f">{name}</a>" in m["body"])


def _line(card: str, prop: str) -> str:
    return re.search(rf"<dt>{prop}</dt><dd>(.*?)</dd>", card)[1]  # type: ignore[index]


def test_a_card_never_reads_a_bound_as_the_end_of_a_range(demo_server):
    """316L's tensile strengths are ≥ 490, ≥ 860, 530 and 700 MPa; its card said "490–860 MPa", as if
    860 were the highest. The span is of the values with both ends known; each bound is said as one."""
    line = _line(_card(_page(demo_server, q="316L"), "316L stainless steel"), "Ultimate tensile strength")
    assert line == "530–700 MPa, ≥ 490 MPa, ≥ 860 MPa"


def test_a_card_says_which_of_its_matching_values_are_only_possible(demo_server):
    """Under `tensile_strength > 100 ksi` 316L matches certainly through 700 MPa and only possibly
    through ≥ 490 MPa; the card showed one span and no mark."""
    line = _line(
        _card(_page(demo_server, filter="tensile_strength > 100 ksi"), "316L stainless steel"),
        "Ultimate tensile strength",
    )
    certain, _, possible = line.partition(";")
    assert "possible" not in certain and "700 MPa" in certain and "490" not in certain
    assert "≥ 490 MPa" in possible and '<span class="possible"' in possible


def test_a_card_shows_the_property_a_has_filter_asks_for(demo_server):
    """Under `has density` the cards showed no density: its matched measurements have no certainty
    (there is no interval to meet), and only certain ones were summed up."""
    page = _page(demo_server, filter="has density")
    cards = [match["body"] for match in RESULT.finditer(page)]
    assert len(cards) >= 5
    for card in cards:
        assert re.search(r"<dt>Density</dt><dd>[^<]*\d[^<]*g/cm³", card), card[:2000]
