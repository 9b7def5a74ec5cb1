"""One notation per row of values shown side by side (the compare page's table): a row mixed
"1.13 × 10⁷ psi" with "391 602 psi"; now, when any value of a row needs a power of ten, all of
the row's values are written with one, in the row's one unit."""

from __future__ import annotations

import pytest

from api.ui.display import View
from api.ui.pages import comparison
from biomatdb.display import Converter, UnitChoice, scientific_row, shown_measurement
from biomatdb.precision import Shown, rounded
from tests.test_display import PROPERTIES, measured

MODULUS = PROPERTIES["youngs_modulus"]


@pytest.mark.parametrize(
    ("value", "place", "automatic", "scientific"),
    [
        (391602, 0, "391\u202f602", "3.91602 × 10⁵"),
        (11300000, 5, "1.13 × 10⁷", "1.13 × 10⁷"),
        (0.5, -1, "0.5", "5 × 10⁻¹"),
        (-2400, 2, "−2.4 × 10³", "−2.4 × 10³"),  # to hundreds: "−2400" claimed 4 digits
        (0, 0, "0", "0"),
        (1.2, -1, "1.2", "1.2"),  # never "1.2 × 10⁰"
        (9.99, -2, "9.99", "9.99"),
        (-3, 0, "−3", "−3"),
    ],
)
def test_a_number_with_a_power_of_ten_whatever_its_size(value, place, automatic, scientific):
    shown = Shown(rounded(value, place), place)
    assert shown.readable() == automatic
    assert shown.readable(scientific=True) == scientific
    assert shown.is_scientific() == ("×" in automatic)


def test_a_row_needing_a_power_of_ten_is_written_with_one_throughout():
    """78.0 GPa is 1.13 × 10⁷ psi; 2.70 GPa is 392 000 psi on its own."""
    row = [measured("youngs_modulus", "78.0", "GPa"), measured("youngs_modulus", "2.70", "GPa")]
    alone = [shown_measurement(m, UnitChoice(), unit="psi")["display"] for m in row]
    assert alone == ["1.13 × 10⁷ psi", "3.92 × 10⁵ psi"]  # to thousands: never "392 000", 6 digits
    assert scientific_row(MODULUS, "psi", row)
    together = [shown_measurement(m, UnitChoice(), unit="psi", scientific=True)["display"] for m in row]
    assert together == ["1.13 × 10⁷ psi", "3.92 × 10⁵ psi"]


def test_a_scientific_row_never_writes_times_ten_to_the_zero():
    """A row in GPa with a value needing a power of ten wrote "1.2 × 10⁰ GPa" beside it."""
    row = [measured("youngs_modulus", "1.2", "GPa"), measured("youngs_modulus", "0.00002", "GPa")]
    assert scientific_row(MODULUS, "GPa", row)
    shown = [shown_measurement(m, UnitChoice(), unit="GPa", scientific=True)["display"] for m in row]
    assert shown == ["1.2 GPa", "2 × 10⁻⁵ GPa"]
    assert not any("10⁰" in text for text in shown)


def test_a_row_of_ordinary_numbers_keeps_them_ordinary():
    row = [measured("youngs_modulus", "78", "GPa"), measured("youngs_modulus", "0.4–3.5", "GPa", "range")]
    assert not scientific_row(MODULUS, "GPa", row)
    assert [Converter(MODULUS, "GPa").measurement(m)["display"] for m in row] == ["78 GPa", "0.4–3.5 GPa"]


def test_an_uncertainty_follows_its_rows_notation():
    row = [measured("youngs_modulus", "110", "GPa", uncertainty="5"), measured("youngs_modulus", "0.003", "GPa")]
    assert scientific_row(MODULUS, "psi", row)
    text = Converter(MODULUS, "psi", scientific=True).measurement(row[0])["display"]
    assert text.startswith("(") and " ± " in text and text.endswith(") × 10⁷ psi"), text  # both against 10⁷


def document(name: str, *measurements: dict) -> dict:
    return {"id": name, "name": name, "class": "polymer", "measurements": list(measurements)}


def test_each_compare_row_has_one_unit_and_one_notation():
    documents = [
        document("stiff", measured("youngs_modulus", "110", "GPa"), measured("density", "4.43", "g/cm**3")),
        document("soft", measured("youngs_modulus", "20", "kPa"), measured("density", "1.05", "g/cm**3")),
    ]
    table = {
        row["key"]: row["cells"]
        for row in comparison(documents, View(UnitChoice(units={"youngs_modulus": "psi"})))["table"]
    }
    modulus = [text for cell in table["youngs_modulus"] for text in cell]
    # each a power of ten's mantissa, the power written unless it is 10⁰ (20 kPa is 2.9 psi)
    assert all(text.endswith(" psi") for text in modulus), modulus
    assert all("× 10" in text or 1 <= float(text.removesuffix(" psi")) < 10 for text in modulus), modulus
    assert any("× 10" in text for text in modulus)
    density = [text for cell in table["density"] for text in cell]
    assert density == ["4.43 g/cm³", "1.05 g/cm³"]


def test_the_compare_chart_says_a_temperature_is_compared_in_kelvin():
    """The chart took each bar's share of the highest in K while the table read °C, and said nothing."""
    documents = [
        document(
            "PLLA", measured("glass_transition_temperature", "60", "degC"), measured("density", "1.25", "g/cm**3")
        ),
        document(
            "PCL", measured("glass_transition_temperature", "-60", "degC"), measured("density", "1.145", "g/cm**3")
        ),
    ]
    chart = comparison(documents, View(UnitChoice()))["chart"]
    shares = dict(zip(chart["properties"], zip(*(s["values"] for s in chart["series"]), strict=True), strict=True))
    assert shares["Glass transition temperature (in K)"] == (1.0, round(213.15 / 333.15, 4))
    assert shares["Density"] == (1.0, round(1.145 / 1.25, 4))  # a true zero: no unit to name
    assert chart["notes"] == [
        (
            "Glass transition temperature: its bars are shares of the highest in K, counted from absolute zero "
            "(the table shows °C, whose zero is arbitrary)."
        )
    ]
    # a reader who reads kelvin sees the chart's unit in the table too: nothing to say
    kelvin = comparison(documents, View(UnitChoice(units={"glass_transition_temperature": "K"})))["chart"]
    assert "Glass transition temperature" in kelvin["properties"] and kelvin["notes"] == []


def test_the_compare_page_captions_its_kelvin_bars(demo_server):
    import httpx

    page = httpx.get(demo_server.base_url + "/compare", params={"ids": "PLLA,PCL"}, timeout=30).text
    caption = page[page.index('id="compare-caption"') :].split("</figcaption>")[0]
    assert caption.count("shares of the highest in K, counted from absolute zero (the table shows °C") == 1
    assert '"Glass transition temperature (in K)"' in page
