"""The "Find a material for…" page in headless Chromium (Debian's, driven by Playwright), at
1920 × 1080 and at 390 px: the ranked list, the candidates' Ashby chart (its points, the
reference tissue's box, the movable index lines, a click opening a material), weight sliders
that re-rank without a reload. Each test saves a screenshot and asserts on what it shows (the
colours in the picture as well as the page's DOM and plotly's data); no request leaves the host."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.slow

PRESET = "load_bearing_bone_implant"
BRAND = (0x0B, 0x5D, 0x4B)  # the highlighted (best ranked) candidates
GUIDE = (0x00, 0x72, 0xB2)  # the slope-1 index line


def api_names(demo_server, body: dict) -> list[str]:
    with demo_server.client() as client:
        answer = client.post("/api/v1/select", json=body)
    assert answer.status_code == 200, answer.text
    return [r["name"] for r in answer.json()["results"]]


def shown_names(page) -> list[str]:
    return page.locator(".ranked-table tbody .candidate-name a").all_inner_texts()


def traces(page) -> list[dict]:
    """Plotly's data of the chart: each trace's name, meta and points."""
    return page.evaluate(
        "() => document.getElementById('select-chart').data.map(t => "
        "({name: t.name, meta: t.meta || null, x: Array.from(t.x), y: Array.from(t.y), "
        "ids: t.customdata ? t.customdata.map(c => c[0]) : null}))"
    )


def colour_share(page, png: bytes, rgb: tuple[int, int, int], tolerance: int = 24) -> float:
    """The share of a screenshot's pixels near ``rgb``, counted by the browser itself (a data:
    URL drawn on a canvas: no image library needed)."""
    return page.evaluate(
        """([url, rgb, tolerance]) => new Promise(resolve => {
            const image = new Image();
            image.onload = () => {
                const canvas = document.createElement('canvas');
                canvas.width = image.width; canvas.height = image.height;
                const context = canvas.getContext('2d');
                context.drawImage(image, 0, 0);
                const pixels = context.getImageData(0, 0, image.width, image.height).data;
                let near = 0;
                for (let i = 0; i < pixels.length; i += 4) {
                    if (Math.abs(pixels[i] - rgb[0]) <= tolerance && Math.abs(pixels[i + 1] - rgb[1]) <= tolerance
                        && Math.abs(pixels[i + 2] - rgb[2]) <= tolerance) { near++; }
                }
                resolve(near / (pixels.length / 4));
            };
            image.src = url;
        })""",
        ["data:image/png;base64," + base64.b64encode(png).decode(), list(rgb), tolerance],
    )


def drawn(page) -> int:
    chart = page.locator("#select-chart[data-drawn]")
    chart.wait_for()
    return int(chart.get_attribute("data-drawn"))


def test_a_preset_ranked_with_its_chart(page, demo_server):
    page.open(f"/select?preset={PRESET}")
    count = drawn(page.page)
    expected = api_names(demo_server, {"preset": PRESET})
    assert shown_names(page.page)[:5] == expected[:5]
    first = page.page.locator(".ranked-table tbody tr").first
    assert first.locator(".rank").inner_text() == "1"
    assert first.locator(".bar-fill").count() == 3  # one bar per criterion
    assert "missing:" in page.page.locator(".ranked-table").inner_text()  # fatigue strength, rarely measured
    # the chart: every candidate a point, the best five highlighted, the tissue's box, three index lines
    data = traces(page.page)
    points = [t for t in data if t["ids"] is not None]
    assert sum(len(t["ids"]) for t in points) == count > 10
    best = [t for t in points if t["name"].startswith("Best")]
    assert len(best) == 1 and len(best[0]["ids"]) == 5
    # the five best ranked of those drawn: in the list's order (a candidate without a density is not drawn)
    listed = page.page.locator(".ranked-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)")
    drawn_ids = {i for t in points for i in t["ids"]}
    assert sorted(best[0]["ids"], key=listed.index) == [i for i in listed if i in drawn_ids][:5]
    (tissue,) = [t for t in data if t["meta"] == "tissue"]
    assert tissue["name"].startswith("Cortical bone")
    assert min(tissue["y"]) == pytest.approx(3.0) and max(tissue["y"]) == pytest.approx(30.0)
    assert sorted(t["meta"] for t in data if (t["meta"] or "").startswith("guide")) == ["guide-1", "guide-2", "guide-3"]
    assert page.page.locator("#select-chart .scatterlayer .js-fill").count() >= 1  # the box is drawn, filled
    labels = page.page.locator(".guide-name").all_inner_texts()
    assert labels == ["E/ρ", "E^½/ρ", "E^⅓/ρ"]
    figure = page.page.locator(".select-chart-figure")
    figure.scroll_into_view_if_needed()
    picture = figure.screenshot(path=str(page.screenshots / "select-chart.png"))
    assert colour_share(page.page, picture, BRAND) > 0.0005  # the highlighted points are in the picture
    assert colour_share(page.page, picture, GUIDE, 30) > 0.0002  # and the E/ρ line
    page.page.evaluate("document.getElementById('ranked-title').scrollIntoView({block: 'start'})")
    shot = page.shot("select-preset")
    assert colour_share(page.page, shot.read_bytes(), BRAND) > 0.001  # the score bars


def test_a_temperature_axis_is_linear_and_every_candidate_is_drawn(page):
    """The page drew only the candidates above zero on two log axes; a glass transition in °C now
    has a linear axis with full-number ticks, every candidate is a point, and no index line is offered."""
    from urllib.parse import urlencode

    from tests.test_ui_select import TEMPERATURE_CHART, chart_of

    page.open("/select?" + urlencode(TEMPERATURE_CHART))
    count = drawn(page.page)
    sent = chart_of(page.page.content())
    assert count == len(sent["points"]) > 10
    layout = page.page.evaluate(
        "() => { const l = document.getElementById('select-chart').layout; "
        "return {x: l.xaxis.type, y: l.yaxis.type, ticks: l.yaxis.ticktext || []}; }"
    )
    assert (layout["x"], layout["y"]) == ("linear", "log")
    assert layout["ticks"] and all(
        re.fullmatch(r"[\d.  ]+|(\d+(\.\d+)? × )?10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+", t) for t in layout["ticks"]
    )
    data = traces(page.page)
    assert sum(len(t["ids"]) for t in data if t["ids"] is not None) == count
    assert not [t for t in data if (t["meta"] or "").startswith("guide")]
    assert page.page.locator("#select-guides").is_hidden()


def test_moving_an_index_line_changes_its_constant(page):
    page.open(f"/select?preset={PRESET}")
    drawn(page.page)
    value = page.page.locator("#guide-1-value")
    before = float(value.get_attribute("data-constant"))
    line = next(t for t in traces(page.page) if t["meta"] == "guide-1")
    assert line["y"][0] / line["x"][0] == pytest.approx(before, rel=1e-6)  # E/ρ = C along the line
    slider = page.page.locator("#guide-1")
    target = float(slider.get_attribute("min")) + 0.25 * (
        float(slider.get_attribute("max")) - float(slider.get_attribute("min"))
    )
    slider.fill(f"{target:.2f}")
    after = float(value.get_attribute("data-constant"))
    assert after != pytest.approx(before) and after == pytest.approx(10 ** round(target, 2), rel=1e-6)
    assert "GPa/(g/cm³)" in value.inner_text()
    moved = next(t for t in traces(page.page) if t["meta"] == "guide-1")
    assert moved["y"][0] / moved["x"][0] == pytest.approx(after, rel=1e-6)
    # a slope-2 line: E^½/ρ = C, so E = (Cρ)² along it
    square = page.page.locator("#guide-2")
    square.fill(square.get_attribute("min"))
    c2 = float(page.page.locator("#guide-2-value").get_attribute("data-constant"))
    two = next(t for t in traces(page.page) if t["meta"] == "guide-2")
    assert two["y"][1] == pytest.approx((c2 * two["x"][1]) ** 2, rel=1e-6)
    page.page.locator(".select-chart-figure").scroll_into_view_if_needed()
    page.shot("select-guide-moved")


def test_a_weight_slider_reranks_without_a_reload(page, demo_server):
    page.open(
        "/select?constraint=class+%3D+metal&objective=match%3Ayoungs_modulus%3Dcortical+bone%402"
        "&objective=max%3Atensile_strength"
    )
    drawn(page.page)
    modulus = {"kind": "match", "property": "youngs_modulus", "tissue": "cortical bone", "weight": 2}
    body = {
        "constraint": "class = metal",
        "objectives": [modulus, {"kind": "max", "property": "tensile_strength", "weight": 5}],
    }
    before = shown_names(page.page)
    as_loaded = {
        "constraint": "class = metal",
        "objectives": [modulus, {"kind": "max", "property": "tensile_strength"}],
    }
    assert before[:5] == api_names(demo_server, as_loaded)[:5]
    page.page.evaluate("window.notReloaded = true")
    page.page.locator("#weight-2").fill("5")
    page.page.locator("#select-results[data-ranked]").wait_for()
    after = shown_names(page.page)
    expected = api_names(demo_server, body)
    assert after[:5] == expected[:5] and after[:5] != before[:5]
    assert page.page.locator("#weight-2-value").inner_text() == "5"
    assert page.page.evaluate("window.notReloaded") is True  # the page was not loaded again
    query = parse_qs(urlsplit(page.page.url).query)
    assert query["weight"][:2] == ["2", "5"] and query["property"][:2] == ["youngs_modulus", "tensile_strength"]
    drawn(page.page)  # the chart is drawn again for the new ranking
    best = next(t for t in traces(page.page) if (t["name"] or "").startswith("Best"))
    top = page.page.locator(".ranked-table tbody tr").first.get_attribute("data-id")
    assert top in best["ids"] or top not in {i for t in traces(page.page) if t["ids"] for i in t["ids"]}
    page.page.evaluate("document.getElementById('ranked-title').scrollIntoView({block: 'start'})")
    shot = page.shot("select-reranked")
    assert page.page.locator(".ranked-table tbody tr").first.is_visible()
    assert colour_share(page.page, shot.read_bytes(), BRAND) > 0.001  # the score bars, redrawn


def test_clicking_a_point_opens_the_material(page):
    page.open(f"/select?preset={PRESET}")
    drawn(page.page)
    best = next(t for t in traces(page.page) if (t["name"] or "").startswith("Best"))
    names = dict(
        zip(
            shown_names(page.page),
            page.page.locator(".ranked-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)"),
            strict=True,
        )
    )
    page.page.locator(".select-chart-figure").scroll_into_view_if_needed()
    point = page.page.locator("#select-chart .scatterlayer .trace").last.locator(".points path").first
    box = point.bounding_box()
    page.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    label = page.page.locator("#select-chart .hoverlayer .hovertext")
    label.wait_for()
    hover = " ".join(label.evaluate_all("e => e.map(x => x.textContent)"))
    assert "rank" in hover and "Density" in hover
    page.shot("select-hover")
    page.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.page.wait_for_url(re.compile(r"/materials/"))
    heading = page.page.locator("h1").inner_text()
    assert heading in hover and names[heading] in best["ids"]


def test_an_error_is_shown_on_the_page(page):
    page.open("/select")
    page.page.fill("#property-1", "stiffnes")
    page.page.click("#select-form button[type=submit]")
    error = page.page.locator(".filter-error")
    error.wait_for()
    assert "unknown property 'stiffnes'" in error.inner_text()
    assert page.page.input_value("#property-1") == "stiffnes"
    error.scroll_into_view_if_needed()
    shot = page.shot("select-error")
    assert colour_share(page.page, shot.read_bytes(), (0xFD, 0xEC, 0xEA), 6) > 0.002  # the error's pink box


def test_every_control_is_labelled(page):
    page.open(f"/select?preset={PRESET}")
    drawn(page.page)
    unlabelled = page.page.evaluate(
        "[...document.querySelectorAll('input:not([type=hidden]), select')]"
        ".filter(e => !(e.labels.length > 0 || e.getAttribute('aria-label'))).map(e => e.id || e.name)"
    )
    assert unlabelled == []


def test_the_page_fits_a_phone(phone_page, demo_server):
    phone_page.open(f"/select?preset={PRESET}")
    count = drawn(phone_page.page)
    phone_page.page.wait_for_load_state("networkidle")
    width = phone_page.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
    # the ranked table turns into cards: nothing to scroll sideways, each criterion under its label
    table = phone_page.page.locator(".ranked-scroll")
    assert table.evaluate("e => e.scrollWidth <= e.clientWidth")
    first = phone_page.page.locator(".ranked-table tbody tr").first
    criteria = first.locator("td.criterion")
    assert criteria.count() == 3
    assert criteria.first.evaluate("e => getComputedStyle(e, '::before').content").startswith('"match Young')
    for index in range(3):
        box = criteria.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert shown_names(phone_page.page)[:3] == api_names(demo_server, {"preset": PRESET})[:3]
    assert sum(len(t["ids"]) for t in traces(phone_page.page) if t["ids"] is not None) == count
    chart = phone_page.page.locator("#select-chart").bounding_box()
    assert chart["width"] >= 300 and chart["x"] >= 0
    phone_page.page.evaluate("document.getElementById('ranked-title').scrollIntoView({block: 'start'})")
    phone_page.shot("phone-select-ranked")
    figure = phone_page.page.locator(".select-chart-figure")
    figure.scroll_into_view_if_needed()
    picture = figure.screenshot(path=str(phone_page.screenshots / "phone-select-chart.png"))
    assert colour_share(phone_page.page, picture, BRAND) > 0.0005
    phone_page.page.locator("#weight-1").fill("0.5")  # the sliders work by touch width too
    phone_page.page.locator("#select-results[data-ranked]").wait_for()
    assert phone_page.page.evaluate("document.documentElement.scrollWidth") <= 390
