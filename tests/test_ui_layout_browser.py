"""The pages fit their screens, in Debian's Chromium: nothing scrolls sideways at 1366 × 768 or
on a 390 × 844 phone; on the phone the search results come before the facets, which fold away
and wrap; the compare bar never covers a checkbox; a facet switched on clicks off again; and a
shared link opens with the sender's units in a browser that has never been to the site.

Screenshots go to the session's pytest tmp dir (the ``screenshots`` fixture); each page's height
is printed (``-s`` shows it), never asserted."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.ui_fixtures import PHONE, open_guarded

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

pytestmark = pytest.mark.slow

LAPTOP: ViewportSize = {"width": 1366, "height": 768}
SCREENS: dict[str, ViewportSize] = {"laptop": LAPTOP, "phone": PHONE}

# what each page waits for before it is measured: its chart drawn, where it has one
PAGES = {
    "search": ("/?filter=class+%3D+polymer", None),
    "material": ("/materials/PLLA", None),
    "material-metal": ("/materials/Ti-6Al-4V", None),
    "compare": ("/compare?ids=PLLA,PCL,Ti-6Al-4V", "#compare-chart[data-drawn]"),
    "ashby": ("/ashby", "#ashby-chart[data-drawn]"),
    "select": ("/select?preset=cartilage_repair", None),
    "about": ("/about", None),
    "about-notes": ("/about/datasets/biomatdb-curated-biological-evaluation", None),
    "not-found": ("/materials/no-such-material", None),
}


@pytest.fixture
def screen(request, browser, demo_server, screenshots):
    """A guarded page at the parametrised screen size; no request may leave the demo's host."""
    context: Any
    context, guarded = open_guarded(browser, demo_server, screenshots, SCREENS[request.param])
    yield guarded
    context.close()
    assert guarded.foreign_requests == []
    assert guarded.errors == []


def overflow(page) -> dict:
    return page.evaluate(
        """() => ({
          scrollWidth: document.documentElement.scrollWidth,
          viewport: window.innerWidth,
          height: document.documentElement.scrollHeight,
          wide: [...document.querySelectorAll("body *")]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5 && e.getClientRects().length
                         && !e.closest(".table-scroll, .scroll-x, .chart-scroll, .ranked-scroll, .visually-hidden, .skip-link, .js-plotly-plot"))
            .slice(0, 5).map(e => e.tagName.toLowerCase() + "." + [...e.classList].join(".")),
        })"""
    )


@pytest.mark.parametrize(
    ("name", "screen"),
    [pytest.param(name, size, id=f"{name}-{size}") for name in PAGES for size in SCREENS],
    indirect=["screen"],
)
def test_no_page_scrolls_sideways(screen, name):
    path, drawn = PAGES[name]
    screen.open(path)
    screen.page.wait_for_load_state("networkidle")
    if drawn:
        screen.page.locator(drawn).wait_for()
    width = screen.page.viewport_size["width"]
    screen.shot(f"fit-{name}-{width}")
    measured = overflow(screen.page)
    print(f"{name} at {width} px: {measured['height']} px tall, {measured['scrollWidth']} px wide")
    # the site's own navigation is there, whole, on every page
    nav = screen.page.locator(".site-header nav a")
    assert nav.count() == 5 and all((nav.nth(i).bounding_box() or {}).get("height", 0) > 20 for i in range(5))
    assert measured["scrollWidth"] <= width, (
        f"{path} is {measured['scrollWidth']} px wide at {width} px: {measured['wide']}"
    )


def test_on_a_phone_the_ashby_charts_data_table_scrolls_in_its_box(phone_page):
    """Opening "The chart's data as a table" made the Ashby page 466 px wide at 390 px: the table
    now scrolls inside its card, and the page stays as wide as the screen."""
    phone_page.open("/ashby")
    page = phone_page.page
    page.locator("#ashby-table table").wait_for(state="attached")
    page.evaluate("document.querySelector('.chart-table').open = true")
    box = page.locator("#ashby-table")
    assert box.evaluate("b => getComputedStyle(b).overflowX") == "auto"
    measured = overflow(page)
    phone_page.shot("phone-ashby-table")
    assert measured["scrollWidth"] <= PHONE["width"], f"{measured['scrollWidth']} px wide: {measured['wide']}"


def test_on_a_phone_a_table_wider_than_the_screen_shows_that_it_scrolls(phone_page):
    """Ti-6Al-4V's biological-evaluation matrix was cut off after its "in vitro" column at 390 px,
    with no sign that more lay beyond: a shadow marks the side with more, the endpoint stays."""
    phone_page.open("/materials/Ti-6Al-4V")
    page = phone_page.page
    box = page.locator(".scroll-x:has(.evidence-matrix)")
    sizes = box.evaluate("b => [b.scrollWidth, b.clientWidth]")
    assert sizes[0] > sizes[1], f"the matrix fits ({sizes}): this test no longer shows anything"
    assert "radial-gradient" in box.evaluate("b => getComputedStyle(b).backgroundImage")
    endpoint = page.locator(".evidence-matrix tbody th[scope=row]").first
    assert endpoint.evaluate("th => getComputedStyle(th).position") == "sticky"
    phone_page.shot("phone-evidence-matrix")
    box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
    page.wait_for_timeout(100)
    left, frame = endpoint.bounding_box(), box.bounding_box()
    assert left is not None and frame is not None and abs(left["x"] - frame["x"]) < 1  # still in view
    phone_page.shot("phone-evidence-matrix-scrolled")


# --- the search page on a phone ---------------------------------------------------------------


def test_on_a_phone_results_come_first_and_the_facets_fold(phone_page):
    phone_page.open("/?filter=has+youngs_modulus+AND+class+%3D+polymer")
    page = phone_page.page
    results = page.locator("#results-title").bounding_box()
    facets = page.locator(".facets").bounding_box()
    assert results["y"] < facets["y"]
    assert results["y"] < PHONE["height"], "the first results are below the first screen"
    fold = page.locator(".facets-fold")
    assert fold.evaluate("d => d.open") is False
    assert page.locator(".facet a").first.is_visible() is False
    phone_page.shot("phone-search-folded")
    link = page.locator(".to-facets a")
    assert "2 switched on" in link.inner_text()
    link.click()
    assert fold.evaluate("d => d.open") is True
    # the facet values wrap: every one is on the screen, none cut off at its right edge
    boxes = page.locator(".facet a").evaluate_all("links => links.map(a => a.getBoundingClientRect().right)")
    assert len(boxes) > 10 and max(boxes) <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator(".facet", has_text="Class").scroll_into_view_if_needed()
    phone_page.shot("phone-search-facets")


@pytest.mark.parametrize("path", ["/", "/?q=PLLA", "/?filter=has+youngs_modulus+AND+class+%3D+polymer"])
def test_on_a_phone_the_first_result_is_on_the_first_screen(phone_page, path):
    """At 390 × 844 the first result started at 883 px, its name at 924 px: the first screen held
    the form and the results' title only. The form and what sits above it are compact on a phone."""
    phone_page.open(path)
    page = phone_page.page
    name = page.locator(".result .result-name").first.bounding_box()
    boxes = page.evaluate(
        """() => Object.fromEntries(["h1", ".lead", ".search-form", ".examples", "#results-title", ".result"]
             .map(s => [s, document.querySelector(s) ? Math.round(document.querySelector(s).getBoundingClientRect().top) : null]))"""
    )
    print(f"\nphone {path}: first result name at {name['y']:.0f}–{name['y'] + name['height']:.0f} px; tops {boxes}")
    phone_page.shot("phone-search-first-screen")
    assert name["y"] + name["height"] <= PHONE["height"], boxes


def test_on_a_phone_the_ashby_chart_comes_before_its_explanation(phone_page):
    """The chart started at 893 px on the 844 px screen, under a long explanation."""
    phone_page.open("/ashby")
    page = phone_page.page
    page.locator("#ashby-chart[data-drawn]").wait_for()
    chart = page.locator("#ashby-chart").bounding_box()
    lead = page.locator(".chart-page .lead").bounding_box()
    print(
        f"\nphone /ashby: chart at {chart['y']:.0f}–{chart['y'] + chart['height']:.0f} px, explanation at {lead['y']:.0f} px"
    )
    phone_page.shot("phone-ashby-first-screen")
    assert chart["y"] < PHONE["height"] / 2, chart
    assert lead["y"] > chart["y"] + chart["height"], (chart, lead)


@pytest.mark.parametrize("path", ["/", "/?filter=class+%3D+polymer", "/ashby"])
def test_on_a_phone_every_filter_example_is_on_the_screen(phone_page, path):
    """The "Try:" row was one line cut off at the right edge, with no sign that it scrolled."""
    phone_page.open(path)
    page = phone_page.page
    examples = page.locator(".examples .example")
    assert examples.count() >= 3
    boxes = examples.evaluate_all("links => links.map(a => a.getBoundingClientRect().toJSON())")
    assert all(box["left"] >= 0 and box["right"] <= PHONE["width"] for box in boxes), boxes
    # nothing of the row is hidden in a scrolled-away part, and every example can be read whole
    row = page.locator(".examples ul").evaluate("ul => [ul.scrollWidth, ul.clientWidth]")
    assert row[0] <= row[1], row
    clipped = examples.evaluate_all("links => links.filter(a => a.scrollWidth > a.clientWidth).length")
    assert clipped == 0
    phone_page.shot("phone-examples-" + ("ashby" if "ashby" in path else "search"))


def test_on_a_laptop_the_facets_are_open_beside_the_results(browser, demo_server, screenshots):
    context: Any
    context, guarded = open_guarded(browser, demo_server, screenshots, LAPTOP)
    try:
        guarded.open("/")
        page: Any = guarded.page
        assert page.locator(".facets-fold").evaluate("d => d.open") is True
        assert page.locator(".facets-fold > summary").is_visible() is False
        facets, results = page.locator(".facets").bounding_box(), page.locator(".results").bounding_box()
        assert facets["x"] + facets["width"] <= results["x"] and abs(facets["y"] - results["y"]) < 5
        assert guarded.errors == [] and guarded.foreign_requests == []
    finally:
        context.close()


def test_a_facet_switched_on_clicks_off_again(page):
    page.open("/?filter=has+youngs_modulus")
    before = page.page.locator("#results-title").inner_text()
    page.page.locator(".facet a", has_text="Hydrogels").click()
    page.page.wait_for_url(re.compile(r"class"))
    active = page.page.locator(".facet a.active", has_text="Hydrogels")
    assert active.count() == 1 and "Switch off" in (active.get_attribute("title") or "")
    page.shot("facet-on")
    with page.page.expect_navigation():
        active.click()
    assert parse_qs(urlsplit(page.page.url).query)["filter"] == ["has youngs_modulus"]
    assert page.page.locator("#results-title").inner_text() == before
    assert page.page.locator(".facet a.active", has_text="Hydrogels").count() == 0


# --- the compare bar --------------------------------------------------------------------------


@pytest.mark.parametrize("screen", ["laptop", "phone"], indirect=True)
def test_the_compare_bar_never_covers_a_checkbox(screen):
    """Each checkbox, scrolled into view as a browser does it (to the bottom edge, the worst
    place) or reached with the keyboard, is the element under its own centre: not the bar."""
    screen.open("/?filter=class+%3D+polymer")
    page = screen.page
    boxes = page.locator(".compare-form input[name=ids]")
    assert boxes.count() >= 10
    covered = page.evaluate(
        """() => {
          const bar = document.querySelector(".compare-bar");
          const hidden = [];
          const check = (box, how) => {
            const r = box.getBoundingClientRect(), b = bar.getBoundingClientRect();
            const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            if (top !== box || (r.bottom > b.top && r.top < b.bottom)) hidden.push(how + " " + box.value);
          };
          for (const box of document.querySelectorAll(".compare-form input[name=ids]")) {
            box.scrollIntoView({block: "end"}); check(box, "scrolled");
          }
          window.scrollTo(0, 0);
          for (const box of document.querySelectorAll(".compare-form input[name=ids]")) {
            box.focus(); check(box, "focused");
          }
          window.scrollTo(0, document.documentElement.scrollHeight); // the end of the list
          const last = [...document.querySelectorAll(".compare-form input[name=ids]")].pop();
          check(last, "at the end");
          return hidden;
        }"""
    )
    screen.shot(f"compare-bar-{page.viewport_size['width']}")
    assert covered == []
    # and the bar is still what it was for: ticking two opens the comparison
    boxes.nth(0).check()
    boxes.nth(1).check()
    with page.expect_navigation():
        page.locator(".compare-bar button").click()
    assert "/compare?" in page.url


# --- units travel in the address --------------------------------------------------------------


def test_a_shared_link_opens_with_the_senders_units_everywhere(browser, demo_server, screenshots):
    """A browser that has never been to the site (no cookie) opens a link with units in it: every
    page it reaches by the site's own links shows those units."""
    context: Any
    context, guarded = open_guarded(browser, demo_server, screenshots, LAPTOP)
    page: Any = guarded.page
    try:
        assert context.cookies() == []
        guarded.open("/?filter=class+%3D+metal&units=youngs_modulus%3AMPa&unit_system=US")
        moduli = page.locator(".result dl div", has_text="Young's modulus").locator("dd").all_inner_texts()
        assert moduli and all(text.endswith("MPa") for text in moduli), moduli
        # every link and form a page makes carries the units on: check each page's own links
        pages = ["/materials/Ti-6Al-4V", "/compare?ids=PLLA,Ti-6Al-4V", "/ashby", "/select?preset=cartilage_repair"]
        for path in (*pages, "/about", "/materials/no-such-material"):
            guarded.open(path + ("&" if "?" in path else "?") + "units=youngs_modulus%3AMPa&unit_system=US")
            links = page.locator("a[href^='/']:not([href^='/api/']):not([href^='/docs']):not([href^='/ui/'])")
            hrefs = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
            assert hrefs, path
            lost = [h for h in hrefs if "unit_system=US" not in h or "youngs_modulus" not in h]
            assert lost == [], (path, lost[:5])
        # and the values: the material page, the comparison, the Ashby chart's axis
        guarded.open("/materials/Ti-6Al-4V?units=youngs_modulus%3AMPa&unit_system=US")
        assert page.locator("#property-youngs_modulus td.value").first.inner_text().endswith("MPa")
        assert page.locator("#property-density td.value").first.inner_text().endswith("lb/in³")  # US for the rest
        guarded.open("/compare?ids=PLLA,Ti-6Al-4V&units=youngs_modulus%3AMPa&unit_system=US")
        row = page.locator(".compare-table tbody tr", has_text="Young's modulus").locator("td").all_inner_texts()
        assert row and all(cell.endswith("MPa") or cell == "—" for cell in row), row
        page.locator(".site-header nav a", has_text="Ashby chart").click()
        page.locator("#ashby-chart[data-drawn]").wait_for()
        titles = " ".join(page.locator("#ashby-chart .g-ytitle, #ashby-chart .g-xtitle").all_text_contents())
        assert "MPa" in titles and "lb/in³" in titles, titles
        page.locator(".site-header nav a", has_text="Find a material").click()
        assert parse_qs(urlsplit(page.url).query) == {"units": ["youngs_modulus:MPa"], "unit_system": ["US"]}
        guarded.shot("units-shared-link")
        assert context.cookies() == []  # all of it came from the address
        assert guarded.errors == [] and guarded.foreign_requests == []
    finally:
        context.close()


def test_units_picked_in_the_page_are_in_its_address_for_a_fresh_browser(browser, demo_server, screenshots):
    """Units a visitor picked lived in a cookie: a page opened without them in its address showed
    them, but its address did not carry them, so a link copied from the address bar opened in the
    default units elsewhere. Now the address says them (updated in place), and the copied link opens
    a browser with no cookie in the same units."""
    sender: Any
    sender, guarded = open_guarded(browser, demo_server, screenshots, LAPTOP)
    page: Any = guarded.page
    receiver: Any = None
    try:
        # the unit switch of a property: MPa for Young's modulus, kept in the session cookie
        guarded.open("/materials/Ti-6Al-4V")
        with page.expect_navigation():
            page.select_option("#unit-youngs_modulus", "MPa")
        assert page.locator("#property-youngs_modulus td.value").first.inner_text().endswith("MPa")
        assert any(cookie["name"] == "biomatdb_units" for cookie in sender.cookies())
        # a page opened from an address without units: the cookie's units, and the address says them
        guarded.open("/?filter=class+%3D+metal")
        page.wait_for_function("() => location.search.includes('units=')")
        assert parse_qs(urlsplit(page.evaluate("location.href")).query)["units"] == ["youngs_modulus:MPa"]
        # the unit system, picked on the search page, goes into the address without pressing Search
        with page.expect_navigation():
            page.select_option("#unit_system", "US")
        copied = page.evaluate("location.href")
        query = parse_qs(urlsplit(copied).query)
        assert query["unit_system"] == ["US"] and query["units"] == ["youngs_modulus:MPa"]
        assert query["filter"] == ["class = metal"]  # the search itself is kept
        sent = page.locator(".result dl div", has_text="Young's modulus").locator("dd").all_inner_texts()
        assert sent and all(text.endswith("MPa") for text in sent), sent
        guarded.shot("units-picked-sender")
        # the link, opened in a browser that has never been here
        receiver, other = open_guarded(browser, demo_server, screenshots, LAPTOP)
        assert receiver.cookies() == []
        other.page.goto(copied)
        received = other.page.locator(".result dl div", has_text="Young's modulus").locator("dd").all_inner_texts()
        assert received == sent
        assert other.page.locator("#unit_system").input_value() == "US"
        assert other.page.evaluate("location.href") == copied
        result = other.page.locator(".result a.result-name").first
        with other.page.expect_navigation():
            result.click()
        assert other.page.locator("#property-youngs_modulus td.value").first.inner_text().endswith("MPa")
        assert other.page.locator("#property-density td.value").first.inner_text().endswith("lb/in³")
        other.shot("units-picked-receiver")
        assert receiver.cookies() == []  # all of it came from the address
        assert other.errors == [] and other.foreign_requests == []
        assert guarded.errors == [] and guarded.foreign_requests == []
    finally:
        sender.close()
        if receiver is not None:
            receiver.close()
