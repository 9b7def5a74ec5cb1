"""The "Find a material for…" page without JavaScript: the requirement in the address, ranked
by the same service as ``POST /api/v1/select``, the ranked list with each criterion's score,
value and source, the chart's data of the candidates, and errors shown on the page."""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any

import pytest

PRESET = "load_bearing_bone_implant"
CUSTOM = {
    "constraint": "class = metal",
    "objective": ["match:youngs_modulus=cortical bone@2", "max:tensile_strength"],
}
CUSTOM_BODY: dict[str, Any] = {
    "constraint": "class = metal",
    "objectives": [
        {"kind": "match", "property": "youngs_modulus", "tissue": "cortical bone", "weight": 2},
        {"kind": "max", "property": "tensile_strength"},
    ],
}
NAME = re.compile(r'<th scope="row" class="candidate-name"><a href="/materials/([^"?]+)[^"]*">([^<]+)</a>')


@pytest.fixture(scope="module")
def client(demo_server):
    with demo_server.client() as client:
        yield client


def listed(page: str) -> list[tuple[str, str]]:
    return [(public_id, html.unescape(name)) for public_id, name in NAME.findall(page)]


def api_ranking(client, body: dict, **params) -> list[tuple[str, str]]:
    answer = client.post("/api/v1/select", json=body, params=params)
    assert answer.status_code == 200, answer.text
    return [(r["id"], r["name"]) for r in answer.json()["results"]]


def chart_of(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="select-chart-data">(.*?)</script>', page, re.DOTALL)
    assert found, "no chart data on the page"
    return json.loads(found.group(1))


def inline_error(page: str) -> str:
    found = re.search(r'<div class="filter-error" role="alert" id="filter-error">(.*?)</div>', page, re.DOTALL)
    assert found, "no error on the page"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


def test_a_preset_ranks_as_the_api_does(client):
    page = client.get("/select", params={"preset": PRESET})
    assert page.status_code == 200
    shown = listed(page.text)
    expected = api_ranking(client, {"preset": PRESET})
    assert len(shown) == min(20, len(expected)) >= 10
    assert shown == expected[: len(shown)]
    # the form is filled with what the preset stands for, so it can be edited in place
    assert 'value="class != tissue AND NOT biodegradable = true"' in html.unescape(page.text)
    assert 'id="property-1" name="property" type="text" value="youngs_modulus"' in page.text
    assert 'id="target-1" name="target" type="text" value="Cortical bone"' in page.text
    assert re.search(r'id="weight-1" name="weight" type="range"[^>]*value="2"', page.text)
    assert '<option value="load_bearing_bone_implant" selected>' in page.text
    # the target's range and a link that states the whole requirement
    assert "3–30 GPa" in page.text and "Cortical bone" in page.text
    share = re.search(r'<a href="(/select\?[^"]+)" id="share-link">', page.text)
    assert share is not None
    assert "preset" not in share.group(1) and listed(client.get(html.unescape(share.group(1))).text) == shown


def test_the_ranked_list_shows_scores_values_sources_and_what_is_missing(client):
    page = client.get("/select", params={"preset": PRESET}).text
    answer = client.post("/api/v1/select", json={"preset": PRESET}).json()
    first = answer["results"][0]
    row = page[page.index(f'data-id="{first["id"]}"') :]
    row = row[: row.index("</tr>")]
    assert f">{first['rank']}<" in row and f"{first['score']:.3f}" in row
    assert ("Pareto-optimal" in row) and (first["pareto"] == ("not Pareto-optimal" not in row))
    for criterion in first["criteria"]:
        assert f"width: {round(100 * criterion['score'], 1)}%" in row
        if criterion["missing"]:
            assert "missing: " + criterion["missing"]["reason"] in html.unescape(row)
        else:
            assert criterion["measurement"]["display"] in html.unescape(row)
            assert html.escape(criterion["measurement"]["source"], quote=False) in row
    # no link leaves the site
    assert not re.search(r'href="https?://', page)


def test_a_custom_requirement_ranks_as_the_api_does(client):
    page = client.get("/select", params=CUSTOM)
    assert page.status_code == 200
    shown = listed(page.text)
    expected = api_ranking(client, CUSTOM_BODY)
    assert shown and shown == expected[: len(shown)]
    assert page.text.count('<span class="badge" style="--badge: #0072B2">metal</span>') == len(shown)
    # the same requirement typed into the form's rows (and its blank row left empty) ranks alike
    rows = client.get(
        "/select",
        params={
            "constraint": "class = metal",
            "kind": ["match", "max", "max"],
            "property": ["youngs_modulus", "tensile_strength", ""],
            "target": ["cortical bone", "", ""],
            "weight": ["2", "1", "1"],
        },
    )
    assert rows.status_code == 200 and listed(rows.text) == shown
    # a weight moved changes the ranking as the API's does
    heavier = client.get(
        "/select", params={**CUSTOM, "objective": ["match:youngs_modulus=cortical bone", "max:tensile_strength@5"]}
    )
    moved = api_ranking(
        client,
        {
            **CUSTOM_BODY,
            "objectives": [
                {**CUSTOM_BODY["objectives"][0], "weight": 1},
                {**CUSTOM_BODY["objectives"][1], "weight": 5},
            ],
        },
    )
    assert listed(heavier.text) == moved[:20] and moved[:20] != expected[:20]


def test_units_of_the_address_are_honoured(client):
    params = {**CUSTOM, "units": "youngs_modulus:MPa"}
    page = client.get("/select", params=params).text
    answer = client.post("/api/v1/select", json=CUSTOM_BODY, params={"units": "youngs_modulus:MPa"}).json()
    display = answer["results"][0]["criteria"][0]["measurement"]["display"]
    assert display.endswith("MPa") and display in page
    assert answer["targets"][0]["display"] in page  # the target too, in MPa
    assert 'href="/materials/' + answer["results"][0]["id"] + "?units=youngs_modulus%3AMPa" in page
    chart = chart_of(page)
    assert chart["y"]["unit"] == "MPa"
    assert all(point["y"][0] >= 100 for point in chart["points"])  # metals: at least 100 MPa


def test_the_chart_data_holds_every_candidate_and_the_tissue_box(client):
    page = client.get("/select", params={"preset": PRESET}).text
    chart = chart_of(page)
    assert (chart["x"]["key"], chart["y"]["key"]) == ("density", "youngs_modulus")
    constraint = "class != tissue AND NOT biodegradable = true"
    both = client.get(
        "/api/v1/materials", params={"filter": f"{constraint} AND has density AND has youngs_modulus", "limit": 1}
    )
    assert len(chart["points"]) == both.json()["total"] > 10
    # every point carries its rank as the API gives it (a candidate without a density is not drawn)
    ranked = {
        r["id"]: r["rank"]
        for r in client.post("/api/v1/select", json={"preset": PRESET, "limit": 500}).json()["results"]
    }
    assert all(p["rank"] == ranked.get(p["id"]) for p in chart["points"])
    assert {p["rank"] for p in chart["points"]} >= {1, 2, 3}
    (box,) = chart["tissues"]
    assert box["name"] == "Cortical bone"
    assert box["y"] == [3.0, 30.0] and box["y_target"]  # the target's range, in GPa
    assert box["x"] is not None and 1.5 < box["x"][0] <= box["x"][1] < 2.5  # its density, g/cm³
    # axes can be chosen; a tissue whose matched property is on neither axis has no box
    other = chart_of(client.get("/select", params={"preset": PRESET, "x": "tensile_strength", "y": "density"}).text)
    assert (other["x"]["key"], other["y"]["key"]) == ("tensile_strength", "density") and other["tissues"] == []


@pytest.mark.parametrize(
    ("preset", "tissue"), [("dental_restoration", "Dentin"), ("load_bearing_bone_implant", "Cortical bone")]
)
def test_a_tissue_box_reads_as_the_tissues_page_writes_it(client, preset, tissue):
    """The boxes' hover texts had three significant digits ("2.65e+03–3.63e+03 ksi" for dentin),
    though the tissue's values were written with their own precision: 2650 ksi, 2900–3600 ksi."""
    ranked = client.get("/select", params={"preset": preset, "unit_system": "US"}).text
    chart = chart_of(ranked)
    (box,) = [b for b in chart["tissues"] if b["name"] == tissue]
    assert box["y_target"] and f"{tissue} ({box['y_text']})" in html.unescape(ranked)  # its column's heading too
    page = html.unescape(client.get(f"/materials/{tissue}", params={"unit_system": "US"}).text)
    texts = [box[axis + "_text"] for axis in ("x", "y") if box[axis + "_text"] is not None]
    assert texts
    for text in texts:
        assert "e+" not in text and "e-" not in text, text
        body, _, unit = text.rpartition(" ")
        body, times, power = body.partition(" × ")  # numbers read together share one power of ten
        power = f" × {power}" if times else ""
        for end in body.split("–"):
            # each end is a value as the material page writes it, in the same unit and power of ten
            written = (
                rf"(?<![\d.])(?:[\d.\u202f]+–)?{re.escape(end)}(?:–[\d.\u202f]+)?(?![\d.])"
                rf"{re.escape(power)} {re.escape(unit)}"
            )
            assert re.search(written, page), (text, end)


TEMPERATURE_CHART = {
    "constraint": "class = polymer",
    "objective": "max:youngs_modulus",
    "x": "glass_transition_temperature",
    "y": "youngs_modulus",
}


def test_the_chart_follows_the_ashby_rules_for_its_axes(client):
    """A temperature in °C counts from an arbitrary zero, and polymers' glass transitions lie on
    both sides of it: the axis is linear, every candidate is drawn (none dropped for its sign), the
    caption says why, and the hover texts keep the digits that were written."""
    page = client.get("/select", params=TEMPERATURE_CHART).text
    chart = chart_of(page)
    assert chart["x"]["unit"] == "°C" and chart["x"]["scale"] == "linear"
    assert chart["y"]["scale"] == "log"
    both = client.get(
        "/api/v1/materials",
        params={"filter": "class = polymer AND has glass_transition_temperature AND has youngs_modulus", "limit": 1},
    )
    assert len(chart["points"]) == both.json()["total"] > 10
    assert min(p["x"][0] for p in chart["points"]) < 0  # below 0 °C, drawn
    low, high = chart["x"]["range"]
    assert all(low <= v <= high for p in chart["points"] for v in p["x"])
    caption = re.search(r'<figcaption id="select-chart-caption">(.*?)</figcaption>', page, re.DOTALL)
    assert caption and "Glass transition temperature is on a linear axis" in html.unescape(caption.group(1))
    assert all(re.fullmatch(r"[-−]?[\d.,  ]+(–[-−]?[\d.,  ]+)? °C", p["x_text"]) for p in chart["points"]), [
        p["x_text"] for p in chart["points"] if "e" in p["x_text"]
    ]
    # two log axes keep their index lines; a linear one has none to offer
    assert chart_of(client.get("/select", params={"preset": PRESET}).text)["x"]["scale"] == "log"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"objective": "max:nonsense_property"}, "unknown property 'nonsense_property'"),
        ({"constraint": "youngs_modulus > 5 GPaa", "objective": "max:tensile_strength"}, "unknown unit"),
        ({"objective": "match:youngs_modulus=Atlantis"}, "no material named 'Atlantis'"),
        ({"preset": "no_such_preset"}, "unknown preset 'no_such_preset'"),
        ({"kind": "max", "property": "tensile_strength", "target": "Skin"}, "a max objective takes no target"),
        ({"kind": "max", "property": "tensile_strength", "weight": "heavy"}, "the weight must be a number"),
        ({"objective": "max:tensile_strength", "policy": "average"}, "policy"),
    ],
)
def test_an_error_is_shown_on_the_page(client, params, message):
    page = client.get("/select", params=params)
    assert page.status_code == 400
    error = inline_error(page.text)
    assert "The requirement has a problem" in error and message in error, error
    assert "<form" in page.text and 'id="select-form"' in page.text  # the form stays, to be corrected


def test_a_constraint_error_points_at_the_spot(client):
    page = client.get("/select", params={"constraint": "youngs_modulus > 5 GPaa", "objective": "max:tensile_strength"})
    assert page.status_code == 400
    assert '<mark class="filter-error-at">GPaa</mark>' in page.text
    assert 'id="constraint"' in page.text and 'aria-invalid="true"' in page.text
    assert 'value="youngs_modulus &gt; 5 GPaa"' in page.text  # what was typed, kept
    # with a preset's constraint ANDed to it, and a bad objective too: still the spot in what was typed
    both = client.get(
        "/select", params={"preset": PRESET, "constraint": "youngs_modulus > 5 GPaa", "objective": "max:nonsense"}
    )
    assert both.status_code == 400
    assert "at character 20" in inline_error(both.text)
    assert '<mark class="filter-error-at">GPaa</mark>' in both.text


def test_the_empty_page_offers_the_presets_and_is_linked_from_every_page(client):
    page = client.get("/select")
    assert page.status_code == 200 and "Find a material for…" in page.text
    presets = client.get("/api/v1/select/presets").json()
    for preset in presets:
        assert f'<option value="{preset["key"]}"' in page.text
    assert listed(page.text) == []
    for path in ("/", "/ashby", "/about"):
        assert 'href="/select"' in client.get(path).text


def _caption(page: str) -> str:
    found = re.search(r'<figcaption id="select-chart-caption">(.*?)</figcaption>', page, re.DOTALL)
    assert found, "no chart caption on the page"
    return html.unescape(found[1])


def test_the_chart_caption_counts_what_is_drawn_and_what_is_not(client):
    """It said "the 5 best ranked of them highlighted" over an empty chart, and never named the
    ranked candidates a chart leaves out for want of a value."""
    page = client.get("/select", params={"preset": PRESET}).text
    chart = chart_of(page)
    caption = _caption(page)
    ranked = len(client.post("/api/v1/select", json={"preset": PRESET, "limit": 500}).json()["results"])
    drawn = [p for p in chart["points"] if p["rank"] is not None]
    assert chart["ranked_not_drawn"] == ranked - len(drawn) > 0
    assert f"not drawn: {ranked - len(drawn)} ranked candidates without a value of one of them" in caption
    assert f"the {min(5, len(drawn))} best ranked of them highlighted" in caption
    empty = client.get(
        "/select", params={"preset": "cardiovascular_stent", "x": "glass_transition_temperature", "y": "youngs_modulus"}
    ).text
    said = _caption(empty)
    assert chart_of(empty)["points"] == []  # no stent candidate has a glass transition
    assert said.startswith("0 candidates") and "best ranked" not in said


@pytest.mark.parametrize(("params", "unit"), [({}, "MPa·cm³/g"), ({"unit_system": "US"}, "ksi/(lb/in³)")])
def test_a_derived_objective_is_ranked_on_the_page_shown_as_the_api_shows_it(client, params, unit):
    """``max:specific_strength`` on the page was a server error (the page looked the index up as a
    property); it shows each candidate's derived value as the API does, in the reader's system."""
    query = {"constraint": "class = metal", "objective": "max:specific_strength", **params}
    page = client.get("/select", params=query)
    assert page.status_code == 200, page.text[:500]
    body = {"constraint": "class = metal", "objectives": [{"kind": "max", "property": "specific_strength"}]}
    answer = client.post("/api/v1/select", json=body | {"limit": 3}, params=params).json()
    for candidate in answer["results"]:
        display = candidate["criteria"][0]["measurement"]["display"]
        assert display.endswith(f" {unit}") and display in html.unescape(page.text)


def test_the_search_page_shows_a_derived_index_in_the_unit_asked_for_it(client):
    query = {"filter": "specific_stiffness > 20 MN*m/kg", "units": "specific_stiffness:MN*m/kg"}
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(client.get("/", params=query).text)))
    assert re.search(r"Specific stiffness [\d.–]+ MN·m/kg", page), "the index in MN·m/kg"


def test_a_target_is_in_the_display_unit_beside_its_canonical_range(client):
    """A target's ``low``/``high`` were canonical (3.998959230037651 GPa) beside ``unit: "GPa"``
    and a display in ksi; they are now in the display unit as shown, the canonical ones beside."""
    body = {
        "constraint": "class = metal",
        "objectives": [{"kind": "match", "property": "youngs_modulus", "low": 580, "high": 725, "unit": "ksi"}],
    }
    answer = client.post("/api/v1/select", json=body, params={"unit_system": "US"})
    assert answer.status_code == 200, answer.text
    (target,) = answer.json()["targets"]
    assert (target["low"], target["high"], target["unit"], target["display"]) == (580.0, 725.0, "ksi", "580–725 ksi")
    assert target["unit_canonical"] == "GPa"
    assert target["low_canonical"] == pytest.approx(3.998959230037651)
    assert target["high_canonical"] == pytest.approx(4.998699037547064)
    (in_si,) = client.post("/api/v1/select", json=body).json()["targets"]
    assert (in_si["low"], in_si["high"], in_si["unit"], in_si["display"]) == (4.0, 5.0, "GPa", "4.00–5.00 GPa")
    assert in_si["low_canonical"] == target["low_canonical"]


def test_a_tissue_target_is_in_the_display_unit_as_its_span_reads(client):
    (target,) = [
        t
        for t in client.post("/api/v1/select", json=CUSTOM_BODY, params={"unit_system": "US"}).json()["targets"]
        if t["tissue"]
    ]
    assert target["unit"] == "ksi" and target["unit_canonical"] == "GPa"
    assert target["display"].endswith(" ksi") and target["low"] < target["high"]
    assert target["low_canonical"] < 20 < target["high_canonical"]  # GPa
    for end in ("low", "high"):  # the canonical end in ksi (1 GPa is 145.04 ksi), to its written digits
        in_ksi = target[f"{end}_canonical"] * 145.0377
        assert target[end] != in_ksi and abs(target[end] - in_ksi) <= 0.5 * 10 ** math.floor(math.log10(in_ksi))


def test_a_criterion_value_is_in_the_display_unit_beside_its_canonical_value(client):
    """A criterion's ``value`` was the canonical, unrounded number without a unit
    (``0.176091259056``); it is now shown (``unit``, ``display``) as its measurement is, rounded
    to the digits written, the canonical value beside it."""
    body = {**CUSTOM_BODY, "limit": 500}
    for params, strength_unit in (({}, "MPa"), ({"unit_system": "US"}, "ksi")):
        answer = client.post("/api/v1/select", json=body, params=params)
        assert answer.status_code == 200, answer.text
        for candidate in answer.json()["results"]:
            match, strength = candidate["criteria"]
            if strength["measurement"] is not None:
                m = strength["measurement"]
                assert strength["unit"] == m["unit"] == strength_unit and strength["unit_canonical"] == "MPa"
                assert strength["display"].endswith(f" {strength_unit}")
                # worst case: the low end (of a range or a bound) as shown
                assert strength["value"] == m["value_min"] and strength["value_canonical"] == m["value_canonical_min"]
            if match["measurement"] is None:
                assert match["value"] is None and match["unit"] is None and match["missing"]
                continue
            assert match["unit"] == match["unit_canonical"] == "decades"
            decimals = len(match["display"].split()[0].partition(".")[2])
            assert match["value"] == round(match["value_canonical"], decimals)
            assert match["display"] == f"{match['value']:.{decimals}f} decades"
    page = client.get("/select", params={"preset": PRESET}).text
    answer = client.post("/api/v1/select", json={"preset": PRESET}).json()
    shown = [c["display"] for c in answer["results"][0]["criteria"] if c["objective"].startswith("match:")]
    assert shown and all(f"{d} from the target" in page or d.startswith("0 ") for d in shown)


def test_a_distance_in_decades_has_the_digits_of_a_logarithm(client):
    """45 GPa (a magnesium alloy) from cortical bone's 30 GPa: 0.176091… decades, shown as 0.18
    (two significant digits each); 66.0 GPa from it, 0.34 (30 has two)."""
    answer = client.post("/api/v1/select", json={**CUSTOM_BODY, "limit": 500}).json()
    matches = [c["criteria"][0] for c in answer["results"] if c["criteria"][0]["measurement"]]
    by_modulus = {match["measurement"]["display"]: match for match in matches}
    assert by_modulus["45 GPa"]["display"] == "0.18 decades"
    assert by_modulus["45 GPa"]["value_canonical"] == pytest.approx(math.log10(45 / 30), abs=1e-12)
    assert by_modulus["66.0 GPa"]["display"] == "0.34 decades"


@pytest.mark.parametrize(
    ("key", "unit", "low", "high", "text"),
    [
        ("youngs_modulus", "GPa", 3.0, 30.0, "3–30 GPa"),
        ("youngs_modulus", "ksi", 3.0, 30.0, "0.44–4.4 × 10³ ksi"),  # was 435–4.35e+03 ksi
        ("density", "g/cm^3", 1.9, 2.05, "1.9–2.05 g/cm³"),  # was g/cm**3-style digits of :.3g
        ("fracture_toughness", "MPa*m^0.5", 2.0, 12.0, "2–12 MPa·m^½"),
        ("youngs_modulus", "GPa", 44.0, 44.1, "44–44.1 GPa"),  # each end to the digits it is stored with
        ("youngs_modulus", "GPa", 5.0, 5.0, "5 GPa"),
    ],
)
def test_a_chart_span_without_a_measurement_follows_the_display_rules(key, unit, low, high, text):
    """``_Axis.text`` formatted with ``:.3g``: false digits (``4.35e+03``) and lost ones."""
    from biomatdb.display import Converter
    from biomatdb.vocabulary import get_vocabulary
    from biomatdb_api.ui.selection import _Axis

    prop = get_vocabulary().properties[key]
    assert _Axis(key, prop, Converter(prop, unit)).text(low, high) == text
