"""The visitor UI in a real browser: headless Chromium from Debian, driven by Playwright,
against the app served read-only by uvicorn over the curated fixtures. Each test saves a
screenshot and asserts on what the page shows; no request may leave the demo's host."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.slow


def svg_texts(locator) -> list[str]:
    """Texts of SVG elements (plotly draws its labels as SVG, which has no innerText)."""
    return locator.evaluate_all("elements => elements.map(e => e.textContent)")


_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def number_in(text: str) -> float:
    """The first number of a shown value, with its power of ten: ``1.1 × 10⁵ kg/m³`` is 110000."""
    match = re.search(r"[−-]?\d[\d\u202f]*(?:\.\d+)?", text)
    assert match, text
    number = float(match.group(0).replace("−", "-").replace("\u202f", ""))
    power = re.search(r"× 10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)", text[match.end() :])  # shared by a range or a ± value
    return number * 10 ** int(power.group(1).translate(_SUPERSCRIPT)) if power else number


def test_search_with_a_filter(page):
    page.open("/")
    page.page.fill("#filter", "youngs_modulus > 50 GPa AND class = metal")
    page.page.click("form[role=search] button[type=submit]")
    page.page.wait_for_url(re.compile(r"filter="))
    results = page.page.locator(".result")
    names = results.locator(".result-name").all_inner_texts()
    assert "Ti-6Al-4V" in names and "316L stainless steel" in names
    assert set(results.locator(".badge").all_inner_texts()) == {"Metals and alloys"}
    # every listed modulus is above 50 GPa, shown in GPa
    moduli = page.page.locator(".result dl div", has_text="Young's modulus").locator("dd").all_inner_texts()
    assert moduli and all("GPa" in text for text in moduli)
    assert all(number_in(text.split("–")[-1]) > 50 for text in moduli)
    heading = page.page.locator("#results-title").inner_text()
    assert int(heading.split()[0]) == len(names) or "showing" in heading
    # the address holds the search, so it can be shared
    query = parse_qs(urlsplit(page.page.url).query)
    assert query["filter"] == ["youngs_modulus > 50 GPa AND class = metal"]
    page.shot("search-filter")


def test_possible_matches_are_marked_and_can_be_left_out(page):
    page.open("/?filter=tensile_strength+%3E+100+ksi")
    before = int(page.page.locator("#results-title").inner_text().split()[0])
    marked = page.page.locator(".result .possible")
    assert marked.count() > 0 and "possible" in marked.first.inner_text()
    page.shot("search-possible")
    page.page.check("input[name=match]")
    page.page.click("form[role=search] button[type=submit]")
    page.page.wait_for_url(re.compile(r"match=certain"))
    after = int(page.page.locator("#results-title").inner_text().split()[0])
    assert 0 < after < before
    assert page.page.locator(".result .possible").count() == 0
    facet = page.page.locator(".facet a").first.get_attribute("href") or ""
    assert parse_qs(urlsplit(facet).query)["match"] == ["certain"]  # a facet keeps the choice
    page.shot("search-certain")


def test_a_facet_narrows_the_search(page):
    page.open("/?filter=has+youngs_modulus")
    before = int(page.page.locator("#results-title").inner_text().split()[0])
    page.page.locator(".facet a", has_text="Hydrogels").click()
    page.page.wait_for_url(re.compile(r"class"))
    assert parse_qs(urlsplit(page.page.url).query)["filter"] == ["has youngs_modulus AND class = hydrogel"]
    after = int(page.page.locator("#results-title").inner_text().split()[0])
    assert 0 < after < before
    assert set(page.page.locator(".result .badge").all_inner_texts()) == {"Hydrogels"}
    page.shot("search-facet")


def test_material_page_shows_its_structure(page):
    page.open("/materials/PLLA")
    assert page.page.locator("h1").inner_text() == "PLLA"
    drawing = page.page.locator(".depiction svg")
    drawing.wait_for()
    assert drawing.locator("path").count() > 10
    box = drawing.bounding_box()
    assert box["width"] > 200 and box["height"] > 120
    assert "* marks where units join" in page.page.locator(".structure figcaption").inner_text()
    # properties grouped by category, with the source of each value
    categories = page.page.locator(".category h3").all_inner_texts()
    assert categories[0].upper() == "MECHANICAL" and "THERMAL" in [c.upper() for c in categories]
    assert "Middleton" in page.page.locator("#property-glass_transition_temperature .source").first.inner_text()
    assert page.page.locator(".similar a", has_text="PDLLA").count() == 1
    page.shot("material-structure")


def test_material_page_shows_its_biological_evaluation(page):
    page.open("/materials/Ti-6Al-4V")
    section = page.page.locator("section.evidence")
    section.wait_for()
    assert section.locator("h2").inner_text() == "Biological evaluation"
    header = section.locator(".evidence-matrix thead th").all_inner_texts()
    assert [text.lower() for text in header] == ["endpoint", "in vitro", "in vivo", "clinical"]
    cytotoxicity = section.locator("#endpoint-cytotoxicity")
    assert "non-cytotoxic" in cytotoxicity.locator("td").nth(0).inner_text()  # in vitro
    assert section.locator("#endpoint-osseointegration td").nth(2).inner_text().strip() == "osseointegrated"
    # each endpoint opens to its records and their sources
    details = section.locator("details.evidence-records").first
    details.locator("summary").click()
    first = details.locator("tbody tr").first
    first.wait_for()
    assert first.locator(".source").inner_text().strip()
    assert "dataset biomatdb-curated-biological-evaluation" in first.locator(".source").inner_text()
    page.shot("material-evidence")


def test_ashby_chart_hover_and_click(page, demo_server):
    data = demo_server.get("/ui/ashby.json").json()
    tissues = {p["name"] for c in data["classes"] if c["tissue"] for p in c["points"]}
    assert "Cortical bone" in tissues
    page.open("/ashby")
    chart = page.page.locator("#ashby-chart[data-drawn]")
    chart.wait_for()
    drawn = int(chart.get_attribute("data-drawn"))
    assert drawn > 20
    legend = svg_texts(page.page.locator("#ashby-chart .legendtext"))
    assert {"Metals and alloys", "Ceramics", "Reference tissues"} <= set(legend)
    # reference tissues are labelled on the chart itself
    labels = svg_texts(page.page.locator("#ashby-chart .textpoint"))
    assert set(labels) == tissues
    # each class with two or more materials has its envelope
    assert page.page.locator("#ashby-chart .scatterlayer .js-fill").count() >= 3
    point = page.page.locator("#ashby-chart .scatterlayer .trace .points path").first
    box = point.bounding_box()
    page.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    label = page.page.locator("#ashby-chart .hoverlayer .hovertext")
    label.wait_for()
    hover = " ".join(svg_texts(label))
    table_names = svg_texts(page.page.locator("#ashby-table td a"))
    assert any(name in hover for name in table_names), hover
    assert "Density" in hover and "Young's modulus" in hover
    page.shot("ashby-hover")
    page.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.page.wait_for_url(re.compile(r"/materials/"))
    assert page.page.locator("h1").inner_text() in hover


def test_ashby_filter_narrows_the_chart(page):
    page.open("/ashby?filter=class+%3D+metal")
    chart = page.page.locator("#ashby-chart[data-drawn]")
    chart.wait_for()
    assert svg_texts(page.page.locator("#ashby-chart .legendtext")) == ["Metals and alloys"]
    page.page.click(".chart-table summary")
    assert set(page.page.locator("#ashby-table td:nth-child(2)").all_inner_texts()) == {"Metals and alloys"}
    page.shot("ashby-filtered")


def test_switching_units_sticks_for_the_session(page):
    page.open("/materials/Ti-6Al-4V")
    value = page.page.locator("#property-youngs_modulus td.value").first
    before = value.inner_text()
    assert before.endswith("GPa"), before
    with page.page.expect_navigation():
        page.page.select_option("#unit-youngs_modulus", "MPa")
    value = page.page.locator("#property-youngs_modulus td.value").first
    after = value.inner_text()
    assert after.endswith("MPa"), after
    assert number_in(after) == pytest.approx(number_in(before) * 1000)
    page.shot("units-mpa")
    # the choice holds on the next page too
    page.open("/?filter=youngs_modulus+%3E+50+GPa+AND+class+%3D+metal")
    moduli = page.page.locator(".result dl div", has_text="Young's modulus").locator("dd").all_inner_texts()
    assert moduli and all(text.endswith("MPa") for text in moduli)
    page.open("/materials/PLLA")
    with page.page.expect_navigation():
        page.page.select_option("#unit-melting_temperature", "K")
    kelvin = page.page.locator("#property-melting_temperature td.value").first.inner_text()
    assert kelvin.endswith("K") and 440 < number_in(kelvin) < 460, kelvin


def test_compare_two_materials(page):
    page.open("/?filter=class+%3D+metal&sort=name")
    page.page.locator(".result", has_text="AZ31").locator("input[name=ids]").check()
    page.page.locator(".result", has_text="316L stainless steel").locator("input[name=ids]").check()
    page.page.click(".compare-bar button")
    page.page.wait_for_url(re.compile(r"/compare\?"))
    headers = page.page.locator(".compare-table thead th a").all_inner_texts()
    assert sorted(headers) == ["316L stainless steel", "AZ31"]
    row = page.page.locator(".compare-table tbody tr", has_text="Density")
    cells = row.locator("td").all_inner_texts()
    assert len(cells) == 2 and all("g/cm³" in cell for cell in cells)
    page.page.locator("#compare-chart[data-drawn]").wait_for()
    assert page.page.locator("#compare-chart .barlayer .point").count() >= 4
    assert set(svg_texts(page.page.locator("#compare-chart .legendtext"))) == set(headers)
    page.shot("compare")


def test_a_bad_filter_shows_where_it_is_wrong(page):
    page.open("/")
    page.page.fill("#filter", "youngs_modulus > 5 GPaa")
    page.page.press("#filter", "Enter")
    error = page.page.locator(".filter-error")
    error.wait_for()
    assert "at character 20" in error.inner_text()
    assert "unknown unit" in error.inner_text()
    assert page.page.locator(".filter-error-at").inner_text() == "GPaa"
    assert "MPa" in page.page.locator(".filter-error-expected").inner_text()
    assert page.page.get_attribute("#filter", "aria-invalid") == "true"
    assert page.page.input_value("#filter") == "youngs_modulus > 5 GPaa"
    page.shot("filter-error")


def test_keyboard_reaches_the_search_with_a_visible_focus(page):
    page.open("/")
    page.page.keyboard.press("Tab")
    assert page.page.evaluate("document.activeElement.className") == "skip-link"
    page.page.keyboard.press("Enter")
    for _ in range(12):
        page.page.keyboard.press("Tab")
        if page.page.evaluate("document.activeElement.id") == "q":
            break
    assert page.page.evaluate("document.activeElement.id") == "q"
    outline = page.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    labelled = page.page.evaluate(
        "[...document.querySelectorAll('input:not([type=hidden]), select')]"
        ".every(e => e.labels.length > 0 || e.getAttribute('aria-label'))"
    )
    assert labelled
    page.shot("keyboard-focus")


@pytest.mark.parametrize(
    "path", ["/", "/materials/PLLA", "/ashby", "/compare?ids=PLLA,PCL", "/select?preset=cartilage_repair", "/about"]
)
def test_pages_fit_a_phone(phone_page, path):
    phone_page.open(path)
    phone_page.page.wait_for_load_state("networkidle")
    width = phone_page.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path} scrolls sideways on a phone ({width} px)"
    phone_page.shot("phone" + re.sub(r"\W+", "-", path))


def test_about_names_every_dataset_and_license(page, demo_server):
    page.open("/about")
    rows = page.page.locator(".dataset-card").all_inner_texts()
    datasets = demo_server.get("/api/v1/datasets").json()
    listed = datasets["datasets"] if isinstance(datasets, dict) else datasets
    assert len(rows) == len(listed) >= 4
    for dataset in listed:
        assert any(dataset["name"] in row and (dataset["license"] or "not stated") in row for row in rows)
    assert "How to cite" in page.page.locator("h2").all_inner_texts()
    page.shot("about")


def test_units_are_kept_in_the_address_and_values_keep_their_written_precision(page):
    page.open("/?filter=class+%3D+polymer")
    page.page.select_option("#unit_system", "US")
    with page.page.expect_navigation():
        page.page.click("form[role=search] button[type=submit]")
    assert parse_qs(urlsplit(page.page.url).query)["unit_system"] == ["US"]
    # facet links, the pager and the links to materials keep the units
    for selector in (".facet a", "a[rel=next]", ".result-name"):
        hrefs = page.page.locator(selector).evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert hrefs and all("unit_system=US" in href for href in hrefs), selector
    page.shot("units-us-search")
    page.open("/materials/PLLA?unit_system=US")
    melting = page.page.locator("#property-melting_temperature td.value").all_inner_texts()
    assert melting and all(text.endswith("°F") for text in melting), melting
    with page.page.expect_navigation():
        page.page.select_option("#unit-melting_temperature", "K")
    query = parse_qs(urlsplit(page.page.url).query)
    assert query["units"] == ["melting_temperature:K"] and query["unit_system"] == ["US"]
    kelvin = page.page.locator("#property-melting_temperature td.value").all_inner_texts()
    # written to the degree Celsius (173–178 °C): shown to the kelvin, not as 446.15–451.15 K
    assert kelvin and all(text.endswith(" K") and "." not in text for text in kelvin), kelvin
    # 4200 psi written: 4 significant digits in MPa, not 28.9579806313
    page.open("/materials/Pellethane%202363-80A")
    strength = page.page.locator("#property-tensile_strength td.value").first.inner_text()
    assert strength == "28.96 MPa", strength
    page.shot("units-written-precision")


def test_the_uncertainty_choice_is_a_form_control_the_downloads_keep(page):
    """v ± u as an interval: chosen in the search form's select, it widens the answer by the
    material whose modulus only its spread brings into the range, and the downloaded file holds
    the page's materials in the page's order."""
    page.open("/?filter=youngs_modulus+in+1..3+GPa&sort=name")
    before = int(page.page.locator("#results-title").inner_text().split()[0])
    assert page.page.locator("#uncertainty").input_value() == "point"
    page.page.select_option("#uncertainty", "interval")
    page.page.click("form[role=search] button[type=submit]")
    page.page.wait_for_url(re.compile(r"uncertainty=interval"))
    query = parse_qs(urlsplit(page.page.url).query)
    assert query["uncertainty"] == ["interval"] and query["sort"] == ["name"]
    after = int(page.page.locator("#results-title").inner_text().split()[0])
    assert after > before
    assert page.page.locator("#uncertainty").input_value() == "interval"  # the form shows the choice
    shown = page.page.locator(".result .result-name").all_inner_texts()
    link = page.page.locator(".results .downloads a.download[data-format=csv]")
    assert parse_qs(urlsplit(link.get_attribute("href") or "").query)["uncertainty"] == ["interval"]
    page.shot("search-uncertainty")
    with page.page.expect_download() as download:
        link.click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    materials = list(dict.fromkeys(row["material"] for row in rows))
    assert len(materials) == after and materials[: len(shown)] == shown


def test_search_and_material_pages_link_to_their_data(page):
    """The download links sit on the page, on this host, with the page's query and units; following
    one in the browser downloads the rows the page showed."""
    page.open("/?filter=class+%3D+ceramic&unit_system=US")
    shown = page.page.locator(".result .result-name").all_inner_texts()
    links = page.page.locator(".results .downloads a.download")
    assert links.all_inner_texts() == ["CSV", "JSON", "Parquet"]
    href = links.first.get_attribute("href") or ""
    assert href.startswith("/api/v1/export?") and parse_qs(urlsplit(href).query) == {
        "format": ["csv"],
        "filter": ["class = ceramic"],
        "sort": ["-youngs_modulus"],  # the page's order, said
        "unit_system": ["US"],
    }
    page.shot("search-downloads")
    with page.page.expect_download() as download:
        links.first.click()
    saved = download.value.path()
    assert download.value.suggested_filename == "biomatdb-export.csv"
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert shown and sorted({row["material"] for row in rows}) == sorted(shown)

    page.page.locator(".result .result-name", has_text=shown[0]).first.click()
    page.page.wait_for_url(re.compile(r"/materials/"))
    measurements = page.page.locator(".properties .downloads a.download[data-format=json]")
    answer = page.page.request.get(measurements.get_attribute("href") or "")
    assert answer.ok and answer.headers["content-type"] == "application/json"
    records = answer.json()
    assert records and {record["material"] for record in records} == {shown[0]}
    assert all(record["unit"] != "GPa" for record in records)  # still in the US units the search was in
    page.shot("material-downloads")
