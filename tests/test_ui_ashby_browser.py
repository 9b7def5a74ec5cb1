"""The Ashby chart in Debian's Chromium, as a visitor sees it: the axes' scales, the caption
against the points plotly drew, the ticks, the index lines, the material page's link, plotly's
bundle and the time to the first chart, and the chart on a phone.
Assertions read plotly's own data and layout (``gd.data``, ``gd._fullLayout``) and the DOM."""

from __future__ import annotations

import math
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.ui_fixtures import HANG_S, KIOSK, OWN_HOSTS, open_guarded

pytestmark = pytest.mark.slow

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def drawn(page, selector: str = "#ashby-chart") -> None:
    page.page.locator(f"{selector}[data-drawn]").wait_for()


def plotted(page, selector: str = "#ashby-chart") -> dict:
    """What plotly drew: each trace's meta, name, visibility, x and y; each axis's type, range and
    ticks as laid out."""
    return page.page.evaluate(
        """selector => {
          const gd = document.querySelector(selector);
          const axis = a => ({type: a.type, range: a.range, tickvals: a.tickvals || null,
                              ticktext: a.ticktext || null});
          return {
            traces: gd.data.map(t => ({meta: t.meta || null, name: t.name, visible: t.visible,
                                        x: Array.from(t.x || []), y: Array.from(t.y || []),
                                        customdata: t.customdata || null})),
            x: axis(gd._fullLayout.xaxis), y: axis(gd._fullLayout.yaxis),
          };
        }""",
        selector,
    )


def tick_number(text: str) -> float:
    """A tick label as a number: ``0.8``, ``10 000``, ``2 × 10⁷``, ``10⁻⁵``."""
    text = text.replace("\u202f", "").replace("−", "-").strip()
    if "10" in text and text.translate(SUPERSCRIPT) != text:
        mantissa, _, power = text.rpartition("10")
        factor = float(mantissa.replace("×", "").strip() or 1)
        return factor * 10 ** int(power.translate(SUPERSCRIPT))
    return float(text)


def caption_count(page) -> int:
    caption = page.page.locator("#chart-caption").inner_text()
    match = re.match(r"(\d+) materials? with both", caption)
    assert match, caption
    return int(match.group(1))


def points_drawn(chart: dict) -> list[list]:
    return [row for t in chart["traces"] if t["meta"] == "class" for row in t["customdata"]]


def test_a_temperature_is_on_a_linear_axis_and_nothing_is_dropped(page):
    """Glass transition temperature in °C on a log axis silently dropped everything at or below
    0 °C (HDPE, LDPE, PTFE…) while the caption still counted them."""
    page.open("/ashby?x=glass_transition_temperature&y=youngs_modulus")
    drawn(page)
    chart = plotted(page)
    assert chart["x"]["type"] == "linear" and chart["y"]["type"] == "log"
    points = points_drawn(chart)
    assert caption_count(page) == len(points) == int(page.page.get_attribute("#ashby-chart", "data-drawn"))
    # the materials at or below 0 °C are drawn, left of zero
    below = [
        p
        for t in chart["traces"]
        if t["meta"] == "class"
        for p, x in zip(t["customdata"], t["x"], strict=True)
        if x <= 0
    ]
    assert {"HDPE", "PDMS"} & {p[1] for p in below}, below
    caption = page.page.locator("#chart-caption").inner_text()
    assert "Glass transition temperature is on a linear axis" in caption and "°C" in caption
    assert "(°C)" in " ".join(svg_texts(page, "#ashby-chart .xtitle"))
    # the table lists what the chart draws, no more
    assert page.page.locator("#ashby-table tbody tr").count() == len(points)
    page.shot("ashby-temperature-linear")


def test_the_caption_counts_the_points_drawn_and_says_what_is_not(page, demo_server):
    data = demo_server.get("/ui/ashby.json", params={"x": "density", "y": "tensile_strength"}).json()
    page.open("/ashby?x=density&y=tensile_strength")
    drawn(page)
    chart = plotted(page)
    assert chart["x"]["type"] == chart["y"]["type"] == "log"
    assert caption_count(page) == len(points_drawn(chart)) == data["count"]
    caption = page.page.locator("#chart-caption").inner_text()
    # materials with one of the two properties are not drawn, and the caption counts them
    only = re.findall(r"(\d+) materials? with (Density|Ultimate tensile strength) but no", caption)
    assert only, caption
    assert "linear axis" not in caption


@pytest.mark.parametrize(
    "axes", [("density", "youngs_modulus"), ("glass_transition_temperature", "youngs_modulus")], ids="-".join
)
def test_class_outlines_stay_inside_the_plot_area(page, axes):
    page.open(f"/ashby?x={axes[0]}&y={axes[1]}")
    drawn(page)
    chart = plotted(page)
    envelopes = [t for t in chart["traces"] if t["meta"] == "envelope"]
    assert envelopes

    def on_axis(value: float, axis: dict) -> float:
        return math.log10(value) if axis["type"] == "log" else value

    for trace in envelopes:
        for x, y in zip(trace["x"], trace["y"], strict=True):
            assert chart["x"]["range"][0] <= on_axis(x, chart["x"]) <= chart["x"]["range"][1], (trace["name"], x)
            assert chart["y"]["range"][0] <= on_axis(y, chart["y"]) <= chart["y"]["range"][1], (trace["name"], y)
    # and so do the points with their bars: every point is inside both ranges
    for trace in (t for t in chart["traces"] if t["meta"] == "class"):
        for x, y in zip(trace["x"], trace["y"], strict=True):
            assert chart["x"]["range"][0] <= on_axis(x, chart["x"]) <= chart["x"]["range"][1]
            assert chart["y"]["range"][0] <= on_axis(y, chart["y"]) <= chart["y"]["range"][1]


def test_log_ticks_are_full_numbers(page):
    """The ticks read "8 9 1 2 … 9 10 2", meaning 0.8 … 20."""
    page.open("/ashby?x=density&y=youngs_modulus")
    drawn(page)
    chart = plotted(page)
    for name in ("x", "y"):
        axis = chart[name]
        assert axis["type"] == "log"
        numbers = [tick_number(text) for text in axis["ticktext"]]
        assert numbers == sorted(set(numbers)) and len(numbers) >= 3, axis["ticktext"]
        assert numbers == pytest.approx(axis["tickvals"], rel=1e-6)
        # what the browser shows is those labels
        shown = page.page.locator(f"#ashby-chart .{name}tick text").evaluate_all("ts => ts.map(t => t.textContent)")
        assert shown and [tick_number(t) for t in shown] == sorted(tick_number(t) for t in shown)
        assert set(shown) <= set(axis["ticktext"])
    # density spans about one and a half decades: its ticks are 1, 2, 5 of each
    assert {1.0, 2.0, 5.0, 10.0} <= {tick_number(t) for t in chart["x"]["ticktext"]}
    page.shot("ashby-log-ticks")


def notation(label: str) -> str:
    """A tick label's notation: with a power of ten, a mantissa alone (1 to 9.99, its power 10⁰
    unwritten), or a plain number past that (``0.01``, ``100 000``)."""
    if label.translate(SUPERSCRIPT) != label:
        return "power"
    return "mantissa" if 1 <= tick_number(label) < 10 else "plain"


@pytest.mark.parametrize("units", ["", "&unit_system=US", "&units=youngs_modulus:psi"])
def test_each_log_axis_writes_its_ticks_in_one_notation(page, units):
    """A psi axis read "… 100 000 … 10⁶ …": a plain number beside a power of ten."""
    page.open("/ashby?x=density&y=youngs_modulus" + units)
    drawn(page)
    chart = plotted(page)
    powers = 0
    for name in ("x", "y"):
        labels = chart[name]["ticktext"]
        kinds = {notation(label) for label in labels}
        assert not {"power", "plain"} <= kinds, (units, name, labels)
        assert not any("10⁰" in label for label in labels), labels
        shown = page.page.locator(f"#ashby-chart .{name}tick text").all_text_contents()
        assert not {"power", "plain"} <= {notation(label) for label in shown}, shown
        powers += "power" in kinds
    if "psi" in units:  # Young's modulus in psi runs past 10⁶ psi: that axis is in powers throughout
        assert powers >= 1 and notation(chart["y"]["ticktext"][0]) != "plain", chart["y"]["ticktext"]
    page.shot("ashby-ticks-one-notation" + units.replace("&", "-").replace("=", "-").replace(":", "-"))


@pytest.mark.parametrize("on_phone", [False, True], ids=["laptop", "phone"])
def test_a_linear_axis_writes_its_ticks_as_the_log_axes_do(page, phone_page, on_phone):
    """A linear psi axis read "5,000,000 … 35,000,000": commas, its leading digits clipped at 390 px
    and its labels over the axis title."""
    screen = phone_page if on_phone else page
    screen.open("/ashby?filter=class+%3D+metal&units=youngs_modulus:psi")
    drawn(screen)
    chart = plotted(screen)
    linear = [name for name in ("x", "y") if chart[name]["type"] == "linear"]
    assert linear, "no linear axis: this test shows nothing"
    for name in linear:
        labels = chart[name]["ticktext"]
        assert labels and not any("," in label for label in labels), labels
        assert len({notation(label) == "power" for label in labels if tick_number(label) != 0}) == 1, labels
        numbers = [tick_number(label) for label in labels]
        assert numbers == pytest.approx(chart[name]["tickvals"], rel=1e-9)
        svg = screen.page.locator("#ashby-chart .main-svg").first.bounding_box()
        title = screen.page.locator(f"#ashby-chart .{name}title").bounding_box()
        for box in screen.page.locator(f"#ashby-chart .{name}tick text").evaluate_all(
            "ts => ts.map(t => t.getBoundingClientRect().toJSON())"
        ):
            assert box["left"] >= svg["x"] - 0.5 and box["right"] <= svg["x"] + svg["width"] + 0.5, box
            apart = box["right"] <= title["x"] or box["left"] >= title["x"] + title["width"]
            apart = apart or box["bottom"] <= title["y"] or box["top"] >= title["y"] + title["height"]
            assert apart, (box, title)
    screen.shot("ashby-linear-ticks-" + ("phone" if on_phone else "laptop"))


def test_ticks_follow_a_zoom(page):
    page.open("/ashby?x=density&y=youngs_modulus")
    drawn(page)
    page.page.evaluate("Plotly.relayout(document.querySelector('#ashby-chart'), {'xaxis.range': [0.3, 0.6]})")
    page.page.wait_for_function(
        "document.querySelector('#ashby-chart')._fullLayout.xaxis.tickvals.every(v => v >= 1.99 && v <= 3.99)"
    )
    chart = plotted(page)
    numbers = [tick_number(t) for t in chart["x"]["ticktext"]]
    assert numbers == [2.0, 3.0] or (numbers == sorted(numbers) and len(numbers) >= 2), numbers


def test_a_zoom_within_one_step_still_has_labelled_ticks(page):
    """Zoomed to 1.1–1.4 g/cm³ no tick of 1–9 × 10ⁿ is in range: the axis had no labels at all."""
    page.open("/ashby?x=density&y=youngs_modulus")
    drawn(page)
    page.page.evaluate(
        "Plotly.relayout(document.querySelector('#ashby-chart'), {'xaxis.range': [Math.log10(1.1), Math.log10(1.4)]})"
    )
    page.page.wait_for_function("document.querySelectorAll('#ashby-chart .xtick text').length >= 2")
    labels = page.page.locator("#ashby-chart .xtick text").all_text_contents()
    assert len(labels) >= 2 and all(re.fullmatch(r"\d+(\.\d+)?", t) for t in labels), labels


def test_index_lines_switch_on_and_move(page):
    page.open("/ashby?x=density&y=youngs_modulus")
    drawn(page)
    guides = [t for t in plotted(page)["traces"] if (t["meta"] or "").startswith("guide")]
    assert sorted(t["meta"] for t in guides) == ["guide-1", "guide-2", "guide-3"]
    assert all(t["visible"] is False for t in guides)
    assert page.page.locator("#guide-sliders").is_hidden()
    page.page.check("#guides-on")
    page.page.wait_for_function(
        "document.querySelector('#ashby-chart').data.filter(t => (t.meta || '').startsWith('guide'))"
        ".every(t => t.visible === true)"
    )
    names = page.page.locator(".guide-name").all_inner_texts()
    assert names[0] == "Specific stiffness, E/ρ", names
    assert names[1].endswith("E^½/ρ") and names[2].endswith("E^⅓/ρ"), names
    # the line is E/ρ = C: y = C·x, through the constant its slider shows
    before = next(t for t in plotted(page)["traces"] if t["meta"] == "guide-1")
    constant = float(page.page.locator("#guide-1-value").get_attribute("data-constant"))
    assert before["y"][0] / before["x"][0] == pytest.approx(constant, rel=1e-6)
    slider = page.page.locator("#guide-1")
    slider.evaluate(
        "(s, v) => { s.value = v; s.dispatchEvent(new Event('input')); }", str(float(slider.input_value()) + 0.5)
    )
    after = next(t for t in plotted(page)["traces"] if t["meta"] == "guide-1")
    moved = float(page.page.locator("#guide-1-value").get_attribute("data-constant"))
    assert moved == pytest.approx(constant * 10**0.5, rel=1e-3)
    assert after["y"][0] / after["x"][0] == pytest.approx(moved, rel=1e-6)
    # E^½/ρ = C: slope 2 on the log–log chart
    square = next(t for t in plotted(page)["traces"] if t["meta"] == "guide-2")
    slope = math.log10(square["y"][1] / square["y"][0]) / math.log10(square["x"][1] / square["x"][0])
    assert slope == pytest.approx(2)
    page.shot("ashby-index-lines")
    page.page.uncheck("#guides-on")
    page.page.wait_for_function(
        "document.querySelector('#ashby-chart').data.filter(t => (t.meta || '').startsWith('guide'))"
        ".every(t => t.visible === false)"
    )


def test_no_index_lines_on_a_linear_axis(page):
    page.open("/ashby?x=glass_transition_temperature&y=youngs_modulus")
    drawn(page)
    assert not [t for t in plotted(page)["traces"] if (t["meta"] or "").startswith("guide")]
    assert page.page.locator("#ashby-guides").is_hidden()
    note = page.page.locator("#guides-note")
    assert note.is_visible() and "Glass transition temperature is on a linear axis" in note.inner_text()


def test_index_lines_that_go_away_with_a_filter_say_why(page):
    """With ``class = polymer`` an axis turned linear and the index lines' checkbox vanished
    without a word."""
    page.open("/ashby?x=density&y=youngs_modulus")
    drawn(page)
    assert page.page.locator("#ashby-guides").is_visible() and page.page.locator("#guides-note").is_hidden()
    page.open("/ashby?x=density&y=youngs_modulus&filter=class+%3D+polymer")
    drawn(page)
    assert page.page.locator("#ashby-guides").is_hidden()
    note = page.page.locator("#guides-note").inner_text()
    assert note.startswith("No index lines: they are drawn only when both axes are logarithmic"), note
    assert "on a linear axis (" in note


def test_a_material_page_links_to_a_chart_it_is_on(page):
    """ "See it on an Ashby chart" on PLLA opened an empty chart ("No material has values of both
    properties"), as it did for about 99 % of materials."""
    page.open("/materials/PLLA")
    link = page.page.locator("a.ashby-link")
    query = parse_qs(urlsplit(link.get_attribute("href") or "").query)
    assert set(query) == {"x", "y", "highlight"}
    link.click()
    page.page.wait_for_url(re.compile(r"/ashby\?"))
    drawn(page)
    chart = plotted(page)
    marked = [t for t in chart["traces"] if t["meta"] == "highlight"]
    assert len(marked) == 1 and marked[0]["name"] == "PLLA (this material)"
    # the ring sits on PLLA's own point
    mine = next(
        (x, y)
        for t in chart["traces"]
        if t["meta"] == "class"
        for row, x, y in zip(t["customdata"], t["x"], t["y"], strict=True)
        if row[1] == "PLLA"
    )
    assert (marked[0]["x"][0], marked[0]["y"][0]) == pytest.approx(mine)
    assert "PLLA (this material)" in svg_texts(page, "#ashby-chart .legendtext")
    page.shot("ashby-highlight")
    # a material with values of one property only has no chart to be on, and no link to one
    page.open("/materials/Alginate")
    assert page.page.locator("h1").inner_text() == "Alginate"
    assert page.page.locator("a.ashby-link").count() == 0


def svg_texts(page, selector: str) -> list[str]:
    return page.page.locator(selector).evaluate_all("elements => elements.map(e => e.textContent)")


def test_hover_shows_values_as_written(page):
    """Hover texts showed the core's stored digits; a value is shown as it was written, in the
    reader's unit: 4200 psi is 28.96 MPa, not 28.9579806313."""
    page.open("/ashby?x=density&y=tensile_strength&highlight=Pellethane%202363-80A")
    drawn(page)
    marked = next(t for t in plotted(page)["traces"] if t["meta"] == "highlight")
    assert marked["customdata"][0][3] == "28.96 MPa", marked["customdata"]
    for row in points_drawn(plotted(page)):
        for text in row[2:]:
            digits = re.sub(r"\D", "", text.split(" ")[0].split("–")[0])
            assert len(digits.lstrip("0")) <= 6, row


def test_plotly_comes_compressed_cached_and_soon(browser, demo_server, capsys):
    """The page loaded a 4.8 MB plotly.min.js without compression: 2.6 s to the first drawn chart.
    Measured here and printed; no time is asserted. Playwright's request routing (the guard of the
    other tests) turns the browser's cache off, so this page records every request instead, and
    fails on any to another host."""
    context = browser.new_context(viewport=LAPTOP, base_url=demo_server.base_url)
    requested: list[str] = []
    errors: list[str] = []
    bundles = []
    page = context.new_page()
    page.set_default_timeout(HANG_S * 1000)
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: bundles.append(response) if "/ui/vendor/" in response.url else None)
    times, transfers = [], []
    try:
        for _ in range(2):  # the first visit, then the same page again with the bundle cached
            start = time.perf_counter()
            page.goto(demo_server.base_url + "/ashby")
            page.locator("#ashby-chart[data-drawn]").wait_for()
            times.append(time.perf_counter() - start)
            transfers.append(
                page.evaluate(
                    "performance.getEntriesByType('resource').filter(e => e.name.includes('/ui/vendor/'))"
                    ".map(e => e.transferSize)[0]"
                )
            )
    finally:
        context.close()
    assert [url for url in requested if urlsplit(url).hostname not in OWN_HOSTS and not url.startswith("data:")] == []
    assert errors == []
    headers = bundles[0].headers
    assert headers["content-encoding"] == "gzip"
    assert "immutable" in headers["cache-control"] and "max-age=31536000" in headers["cache-control"]
    assert re.search(r"/ui/vendor/plotly-[\w.-]*\d+\.\d+\.\d+[\w.-]*\.js$", bundles[0].url), bundles[0].url
    sent = int(headers["content-length"])
    assert sent < 600_000  # compressed bytes on the wire
    assert transfers[0] > sent * 0.9 and transfers[1] == 0  # the second visit takes it from the cache
    with capsys.disabled():
        print(
            f"\nfirst drawn Ashby chart: {times[0]:.2f} s on the first visit, {times[1]:.2f} s with plotly cached; "
            f"plotly bundle: {sent} bytes sent gzip-compressed ({transfers[0]} transferred, then {transfers[1]})"
        )


def test_no_chart_offers_to_send_itself_to_plotly_cloud(page):
    """plotly's toolbar has a "Share chart..." button that uploads the chart to Plotly Cloud: a
    request to another host, on a click."""
    for path, chart, toolbar in (
        ("/ashby", "#ashby-chart", True),
        ("/compare?ids=PLLA,PCL", "#compare-chart", False),  # no toolbar at all (nothing to zoom)
        ("/select?preset=cartilage_repair", "#select-chart", True),
    ):
        page.open(path)
        drawn(page, chart)
        titles = page.page.locator(f"{chart} .modebar-btn").evaluate_all("bs => bs.map(b => b.dataset.title)")
        assert bool(titles) == toolbar and not [t for t in titles if "Share" in t or "Cloud" in t], (path, titles)


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP, KIOSK], ids=lambda v: f"{v['width']}px")
@pytest.mark.parametrize(
    ("path", "selector"),
    [("/ashby", "#ashby-chart"), ("/select?preset=load_bearing_bone_implant", "#select-chart")],
    ids=["ashby", "select"],
)
def test_the_toolbar_never_covers_the_legend(browser, demo_server, screenshots, viewport, path, selector):
    context, guarded = open_guarded(browser, demo_server, screenshots, viewport)
    tab: Any = guarded.page
    try:
        guarded.open(path)
        drawn(guarded, selector)
        chart = tab.locator(selector)
        chart.hover()  # plotly shows its toolbar on hover
        toolbar = tab.locator(f"{selector} .modebar").bounding_box()
        legend = tab.locator(f"{selector} .legend").bounding_box()
        assert toolbar and legend
        apart = (
            toolbar["x"] + toolbar["width"] <= legend["x"]
            or legend["x"] + legend["width"] <= toolbar["x"]
            or toolbar["y"] + toolbar["height"] <= legend["y"]
            or legend["y"] + legend["height"] <= toolbar["y"]
        )
        assert apart, (toolbar, legend)
        # nor does the legend cover the x axis's title
        title = tab.locator(f"{selector} .xtitle").bounding_box()
        assert title and title["y"] + title["height"] <= legend["y"] + 1, (title, legend)
        # the legend is inside the chart's box, not cut off below it
        box = chart.bounding_box()
        assert legend["y"] + legend["height"] <= box["y"] + box["height"] + 1
        guarded.shot(f"{selector[1:]}-toolbar-{viewport['width']}")
    finally:
        context.close()
    assert guarded.foreign_requests == [] and guarded.errors == []


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=lambda v: f"{v['width']}px")
def test_the_compare_chart_has_no_toolbar_to_cover_its_legend(browser, demo_server, screenshots, viewport):
    """Its toolbar sat over the legend's first entry on a phone; a bar chart of a few materials has
    nothing to zoom, so it has none."""
    context, guarded = open_guarded(browser, demo_server, screenshots, viewport)
    tab: Any = guarded.page
    try:
        guarded.open("/compare?ids=PLLA,PCL,PEEK")
        drawn(guarded, "#compare-chart")
        tab.locator("#compare-chart").hover()
        assert tab.locator("#compare-chart .legend").count() == 1
        assert tab.locator("#compare-chart .modebar").count() == 0
    finally:
        context.close()
    assert guarded.foreign_requests == [] and guarded.errors == []


def test_a_bound_is_drawn_as_a_bound_with_a_legend_entry(page):
    """PLLA's degradation time (> 24 months) was a plain circle at x = 24, "24 months" in the table."""
    page.open("/ashby?x=degradation_time&y=tensile_strength")
    drawn(page)
    traces = page.page.evaluate(
        """() => document.getElementById("ashby-chart").data.map(t => ({
             meta: t.meta || null, name: t.name, symbol: t.marker ? t.marker.symbol : null,
             customdata: t.customdata || null, showlegend: t.showlegend}))"""
    )
    plla = next(
        (t, i) for t in traces if t["meta"] == "class" for i, row in enumerate(t["customdata"]) if row[1] == "PLLA"
    )
    trace, index = plla
    assert trace["customdata"][index][2] == "> 24 months"
    assert trace["symbol"][index] == "triangle-right-open"
    legend = [t for t in traces if t["meta"] == "bound-legend"]
    assert len(legend) == 1 and "bound" in legend[0]["name"]
    legend_texts = page.page.evaluate(
        """() => Array.from(document.querySelectorAll("#ashby-chart .legend .legendtext")).map(t => t.textContent)"""
    )
    assert [t for t in legend_texts if "bound" in t] == [legend[0]["name"]]
    caption = page.page.locator("#chart-caption").inner_text()
    bounds = sum(1 for t in traces if t["meta"] == "class" and isinstance(t["symbol"], list) for _ in t["symbol"])
    assert re.search(rf"\b{bounds} of them (is a bound|are bounds)", caption), caption
    page.page.locator(".chart-table summary").click()
    assert "> 24 months" in page.page.locator("#ashby-table").inner_text()
