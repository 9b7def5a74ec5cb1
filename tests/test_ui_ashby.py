"""The Ashby chart's data (``biomatdb_api.ui.ashby``, ``/ui/ashby.json``): each axis's scale chosen from
the values drawn, never a log axis for a value at or below zero; ranges that hold every point and
envelope; a caption that counts what is drawn; hover texts as written; the index lines' names;
and the chart a material page links to."""

from __future__ import annotations

import html
import math
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from biomatdb.vocabulary import get_vocabulary
from biomatdb_api.ui.ashby import (
    LOG_AXIS_MIN_RATIO,
    Measured,
    axes_for,
    axis_range,
    axis_scale,
    caption,
    envelope,
    guides,
    has_true_zero,
)

PROPERTIES = get_vocabulary().properties


@pytest.mark.parametrize(
    ("values", "true_zero", "scale"),
    [
        ([0.9, 2.0, 22.6], True, "log"),  # densities: more than a decade, all positive
        ([0.001, 400.0], True, "log"),
        ([1.0, LOG_AXIS_MIN_RATIO], True, "log"),  # exactly one decade
        ([1.0, 9.99], True, "linear"),  # less than a decade
        ([0.0, 5.0, 100.0], True, "linear"),  # a zero has no place on a log axis
        ([-90.0, 37.0, 60.0], True, "linear"),  # glass transitions in °C: HDPE at −90
        ([60.0, 1400.0], False, "linear"),  # °C: positive and wide, but its zero is an offset's
        ([5.0], True, "linear"),
    ],
)
def test_the_scale_of_an_axis_comes_from_its_values(values, true_zero, scale):
    chosen, reason = axis_scale(values, true_zero=true_zero, unit="°C")
    assert chosen == scale
    assert bool(reason) == (scale == "linear")


def test_why_an_axis_is_linear():
    assert axis_scale([-1.0, 5.0])[1] == "some of its values are at or below zero"
    assert axis_scale([60.0, 1400.0], true_zero=False, unit="°C")[1] == "°C counts from an arbitrary zero"
    assert "factor of 10" in axis_scale([2.0, 3.0])[1]


@pytest.mark.parametrize("true_zero", [True, False])
def test_an_axis_with_nothing_to_draw_gives_no_reason_for_its_scale(true_zero):
    """``axis_scale([])`` said "some of its values are at or below zero" of no values at all."""
    assert axis_scale([], true_zero=true_zero, unit="°C") == ("linear", "")


@pytest.mark.parametrize(
    ("key", "unit", "true_zero"),
    [
        ("glass_transition_temperature", "degC", False),
        ("glass_transition_temperature", "degF", False),
        ("glass_transition_temperature", "K", True),
        ("youngs_modulus", "GPa", True),
        ("density", "g/cm**3", True),
    ],
)
def test_which_units_have_a_true_zero(key, unit, true_zero):
    assert has_true_zero(PROPERTIES[key], unit) is true_zero


@pytest.mark.parametrize(
    ("values", "scale"), [([0.9, 22.6], "log"), ([-90.0, 160.0], "linear"), ([5.0], "linear"), ([5.0], "log")]
)
def test_a_range_holds_every_value_with_room_to_spare(values, scale):
    low, high = axis_range(values, scale)
    on_axis = [math.log10(v) if scale == "log" else v for v in values]
    assert low < min(on_axis) and max(on_axis) < high


def test_an_envelope_is_taken_on_the_axes_scales_and_keeps_every_corner_in_range():
    boxes = [((-90.0, -90.0), (0.4, 4.0)), ((60.0, 65.0), (1.2, 4.8)), ((-10.0, 5.0), (0.2, 0.3))]
    hull = envelope(boxes, "linear", "log")
    assert (-90.0, 0.4) in hull and (65.0, 4.8) in hull
    x_range = axis_range([v for box in boxes for v in box[0]], "linear")
    y_range = axis_range([v for box in boxes for v in box[1]], "log")
    for x, y in hull:
        assert x_range[0] < x < x_range[1] and y_range[0] < math.log10(y) < y_range[1]
    # on log–log axes the hull is taken in decades: a corner inside it in log space is left out
    square = [((1.0, 100.0), (1.0, 100.0)), ((10.0, 10.0), (10.0, 10.0))]
    assert sorted(envelope(square, "log", "log")) == pytest.approx([(1, 1), (1, 100), (100, 1), (100, 100)])


def test_index_lines_are_named_by_the_vocabulary_where_it_names_them():
    named = {g["slope"]: g["name"] for g in guides("density", "youngs_modulus")}
    assert named == {1: "Specific stiffness", 2: "Ashby beam stiffness index", 3: "Ashby plate stiffness index"}
    strength = {g["slope"]: g["name"] for g in guides("density", "tensile_strength")}
    assert strength == {1: "Specific strength", 2: None, 3: None}
    assert {g["name"] for g in guides("youngs_modulus", "density")} == {None}  # ρ/E names nothing


def test_the_caption_counts_what_is_drawn_and_what_is_not():
    names = {"x": "Density", "y": "Young's modulus"}
    assert caption(45, names, Measured([], 0, 0), {}, None) == "45 materials with both Density and Young's modulus."
    text = caption(
        1, names, Measured([], 18, 1), {"x": "some of its values are at or below zero"}, ("PLLA", "no-values")
    )
    assert text == (
        "1 material with both Density and Young's modulus. Not drawn: 18 materials with Density but no "
        "Young's modulus; 1 material with Young's modulus but no Density. PLLA has no values of both, so it "
        "is not on this chart. Density is on a linear axis: some of its values are at or below zero."
    )


def value(key: str, number: float | None = 1.0, qualifier: str = "=") -> dict:
    return {"property": key, "qualifier": qualifier, "value": number, "value_min": number, "value_max": number}


def test_the_axes_of_a_materials_chart():
    counts = {"youngs_modulus": 90, "tensile_strength": 64, "density": 63, "elongation_at_break": 40}
    both = [value("tensile_strength"), value("density"), value("youngs_modulus")]
    assert axes_for(both, counts) == ("density", "youngs_modulus")  # Ashby's own chart first
    assert axes_for([value("tensile_strength"), value("youngs_modulus")], counts) == (
        "tensile_strength",
        "youngs_modulus",
    )
    # no preferred pair: its two most common properties, the more common on y
    odd = [value("water_contact_angle"), value("porosity"), value("crystallinity")]
    assert axes_for(odd, {"porosity": 12, "water_contact_angle": 30, "crystallinity": 5}) == (
        "porosity",
        "water_contact_angle",
    )
    # a qualitative value is no value to draw
    assert axes_for([value("density"), value("youngs_modulus", None, "term")], counts) is None
    assert axes_for([value("density")], counts) is None
    assert axes_for([], counts) is None


# --- through /ui/ashby.json, over the curated fixtures -------------------------------------


@pytest.fixture(scope="module")
def client(demo_server):
    with demo_server.client() as client:
        yield client


def chart(client, **params) -> dict:
    answer = client.get("/ui/ashby.json", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def points(data: dict) -> list[dict]:
    return [p for group in data["classes"] for p in group["points"]]


def test_a_temperature_in_celsius_is_drawn_linearly_with_every_value(client):
    data = chart(client, x="glass_transition_temperature", y="youngs_modulus")
    assert data["x"]["scale"] == "linear" and data["y"]["scale"] == "log"
    drawn = points(data)
    assert len(drawn) == data["count"] and data["caption"].startswith(f"{data['count']} material")
    assert any(p["x"][0] <= 0 for p in drawn)  # nothing dropped for its sign
    assert "Glass transition temperature is on a linear axis: °C counts from an arbitrary zero." in data["caption"]
    assert data["guides"] == []
    # in K the same values are all positive, but span less than a decade: linear still
    kelvin = chart(client, x="glass_transition_temperature", y="youngs_modulus", units="glass_transition_temperature:K")
    assert kelvin["x"]["unit"] == "K" and kelvin["x"]["scale"] == "linear" and kelvin["count"] == data["count"]


def test_every_point_and_envelope_is_inside_the_ranges(client):
    for x, y in (("density", "youngs_modulus"), ("glass_transition_temperature", "tensile_strength")):
        data = chart(client, x=x, y=y)
        for axis in ("x", "y"):
            low, high = data[axis]["range"]
            log = data[axis]["scale"] == "log"
            ends = [v for p in points(data) for v in p[axis]]
            ends += [corner[0 if axis == "x" else 1] for g in data["classes"] for corner in g["envelope"]]
            assert ends and all(low < (math.log10(v) if log else v) < high for v in ends), (x, y, axis)


def test_hover_texts_are_rounded_to_what_was_written(client):
    """A span of stored values showed their stored digits: 4200 psi written is 28.96 MPa."""
    data = chart(client, x="density", y="tensile_strength", highlight="Pellethane 2363-80A")
    assert data["highlight"]["name"] == "Pellethane 2363-80A"
    assert data["highlight"]["y_text"] == "28.96 MPa"
    us = chart(client, x="density", y="tensile_strength", highlight="Pellethane 2363-80A", unit_system="US")
    assert us["highlight"]["y_text"] == "4200 psi"  # a US unit it was written in is kept (it read 4.200 ksi)


def test_a_highlight_not_on_the_chart_is_said_so_and_an_unknown_one_refused(client):
    data = chart(client, x="glass_transition_temperature", y="density", highlight="Ti-6Al-4V")
    assert data["highlight"] is None
    assert "Ti-6Al-4V has no values of both, so it is not on this chart." in data["caption"]
    assert client.get("/ui/ashby.json", params={"highlight": "no such material"}).status_code == 404


def test_a_highlight_the_filter_leaves_out_is_said_so(client):
    """With a filter removing it, the caption said the material "has no values of both"."""
    unfiltered = chart(client, x="density", y="youngs_modulus", highlight="Ti-6Al-4V")
    assert unfiltered["highlight"]["name"] == "Ti-6Al-4V"
    data = chart(client, x="density", y="youngs_modulus", highlight="Ti-6Al-4V", filter="class = polymer")
    assert data["highlight"] is None and data["count"] > 0
    assert "The filter leaves Ti-6Al-4V out, so it is not on this chart." in data["caption"]
    assert "has no values of both" not in data["caption"]


def test_an_empty_chart_says_there_is_nothing_to_draw_and_no_scale_reason(client):
    data = chart(client, x="density", y="youngs_modulus", filter="class = metal AND class = polymer")
    assert data["count"] == 0 and points(data) == []
    assert data["caption"] == (
        "Nothing to draw: no material that the filter leaves in has values of both Density and Young's modulus."
    )
    assert "linear axis" not in data["caption"] and "at or below zero" not in data["caption"]


@pytest.mark.slow  # tens of seconds of CPU: CI runs it, the fast lane does not
def test_every_material_page_links_to_a_chart_it_is_on_or_to_none(client):
    """ "See it on an Ashby chart" opened an empty chart for about 99 % of materials."""
    listed = client.get("/api/v1/materials", params={"limit": 200}).json()
    materials = listed["results"] if isinstance(listed, dict) else listed
    assert len(materials) > 50
    linked = 0
    for material in materials:
        page = client.get(f"/materials/{material['id']}").text
        links = re.findall(r'<a class="button ashby-link" href="([^"]+)"', page)
        document = client.get(f"/api/v1/materials/{material['id']}").json()
        valued = {m["property"] for m in document["measurements"] if m["qualifier"] != "term"}
        if not links:
            assert len(valued) < 2 or axes_for(document["measurements"], {}) is None, material["name"]
            continue
        query = {k: v[0] for k, v in parse_qs(urlsplit(html.unescape(links[0])).query).items()}
        assert query["highlight"] == material["id"] and {query["x"], query["y"]} <= valued
        data = chart(client, **query)
        assert data["highlight"] is not None and data["highlight"]["id"] == material["id"], material["name"]
        linked += 1
    assert linked > len(materials) // 2


def test_a_bound_keeps_its_sign_and_is_counted(client):
    """PLLA's degradation time, stored as > 24 months, was drawn and written as "24 months"."""
    data = chart(client, x="degradation_time", y="tensile_strength")
    plla = next(p for p in points(data) if p["name"] == "PLLA")
    assert plla["x_text"] == "> 24 months" and plla["x_bound"] == "high" and plla["y_bound"] is None
    bounded = [p for p in points(data) if p["x_bound"] or p["y_bound"]]
    assert data["bounds"] == len(bounded) > 0
    assert all(re.search("[<>≤≥]", p["x_text"] if p["x_bound"] else p["y_text"]) for p in bounded)
    assert f"{len(bounded)} of them {'is a bound' if len(bounded) == 1 else 'are bounds'}" in data["caption"]
    without = chart(client, x="density", y="youngs_modulus", filter="class = metal")
    assert without["count"] and without["bounds"] == 0 and "bound" not in without["caption"]


def test_an_unknown_axis_is_refused_and_the_form_shows_what_was_asked(client):
    """``/ashby?x=foo`` answered 200 with "Glass transition temperature" in the x box while the
    status said "unknown property 'foo'"."""
    answer = client.get("/ashby", params={"x": "foo", "y": "youngs_modulus"})
    assert answer.status_code == 400
    page = answer.text
    selected = re.findall(r'<select id="(\w)"[^>]*>.*?<option value="([^"]+)" selected', page, re.DOTALL)
    assert dict(selected) == {"y": "youngs_modulus", "x": "foo"}
    assert re.search(r'<select id="x" name="x" aria-invalid="true"', page)
    assert "The horizontal axis has a problem" in page and "unknown property &#39;foo&#39;" in page
    assert 'id="ashby-chart"' not in page
    near = client.get("/ashby", params={"x": "densty"})
    assert near.status_code == 400 and "did you mean" in near.text
    data = client.get("/ui/ashby.json", params={"x": "densty"})
    assert data.status_code == 400 and "did you mean" in data.json()["error"]["message"]
    assert client.get("/ashby", params={"x": "density", "y": "youngs_modulus"}).status_code == 200
