"""The compare page in Debian's Chromium: the chart's caption against its axis, one unit and one
notation per row of the table, and on a phone a table that shows it scrolls."""

from __future__ import annotations

import re

import pytest

from tests.test_ui_ashby_browser import drawn, svg_texts

pytestmark = pytest.mark.slow


def test_compare_caption_and_axis_agree(page):
    """The caption said "(1 = highest)" while the axis read 100 %."""
    page.open("/compare?ids=PLLA,PCL,Ti-6Al-4V")
    drawn(page, "#compare-chart")
    caption = page.page.locator("#compare-caption").inner_text()
    ticks = svg_texts(page, "#compare-chart .ytick text")
    assert "100 %" in caption and "100 %" in ticks, (caption, ticks)
    assert "1 = highest" not in caption
    highest = page.page.evaluate("Math.max(...document.querySelector('#compare-chart').data.flatMap(t => t.y))")
    assert highest == pytest.approx(100)
    assert "%" in " ".join(svg_texts(page, "#compare-chart .ytitle"))


def test_each_compare_row_uses_one_unit_and_one_notation(page):
    """One row mixed "1.13 × 10⁷ psi" with "391 602 psi"."""
    page.open("/compare?ids=PLLA,Ti-6Al-4V,PEGDA%20hydrogel,Cortical%20bone&units=youngs_modulus:psi")
    rows = page.page.locator(".compare-table tbody tr")
    checked = 0
    for index in range(rows.count()):
        cells = [c for c in rows.nth(index).locator("td").all_inner_texts() if c.strip() != "—"]
        values = [v.strip() for c in cells for v in c.split(",")]
        if len(values) < 2:
            continue
        units = {re.sub(r"× 10[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+|[≈<>≤≥±–−\d.\u202f ()]", "", v) for v in values}
        scientific = {"× 10" in v for v in values}
        assert len(scientific) == 1, values
        assert len(units) == 1, (values, units)
        checked += 1
    assert checked >= 3
    modulus = rows.filter(has_text="Young's modulus").locator("td").all_inner_texts()
    assert all("× 10" in cell for cell in modulus if cell.strip() != "—"), modulus


def test_compare_on_a_phone_shows_that_the_table_scrolls(phone_page):
    phone_page.open("/compare?ids=PLLA,PCL,Ti-6Al-4V,PEEK")
    box = phone_page.page.locator("#compare-scroll")
    hint = phone_page.page.locator("#compare-scroll-hint")
    hint.wait_for(state="visible")
    assert "sideways" in hint.inner_text()
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")
    assert "scrolls" in (box.get_attribute("class") or "")
    first = phone_page.page.locator(".compare-table tbody th").first
    left = first.bounding_box()["x"]
    box.evaluate("b => { b.scrollLeft = 200; b.dispatchEvent(new Event('scroll')); }")
    phone_page.page.wait_for_function("document.querySelector('#compare-scroll').classList.contains('scrolled')")
    # the property names stay in view while the values scroll under them
    assert first.bounding_box()["x"] == pytest.approx(left, abs=1)
    assert phone_page.page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_page.shot("compare-phone-scrolls")


def test_compare_on_a_laptop_has_no_scroll_hint(page):
    page.open("/compare?ids=PLLA,PCL")
    drawn(page, "#compare-chart")
    assert page.page.locator("#compare-scroll-hint").is_hidden()
