"""One notation per row of values shown side by side (the compare page's table and the compare
API): a row mixed "1.13 × 10⁷ psi" with "391 602 psi", and then "1.50 × 10⁵ MPa" with
"0.02–3.5 MPa" (a number between 1 and 10 lost its "× 10⁰"); now, when any value of a row needs
a power of ten, every nonzero number of the row is written with one, × 10⁰ included, in the
row's one unit. A number on its own still never reads "× 10⁰"."""

from __future__ import annotations

import pytest

from biomatdb.display import Converter, UnitChoice, scientific_row, shown_measurement
from biomatdb.precision import Shown, rounded
from biomatdb_api.ui.display import View
from biomatdb_api.ui.pages import comparison
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
        (1.2, -1, "1.2", "1.2 × 10⁰"),  # on its own never "1.2 × 10⁰"; in a scientific row, so
        (9.99, -2, "9.99", "9.99 × 10⁰"),
        (-3, 0, "−3", "−3 × 10⁰"),
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


def test_a_scientific_row_writes_times_ten_to_the_zero_too():
    """A row in GPa with a value needing a power of ten wrote "1.2 GPa" beside "2 × 10⁻⁵ GPa": two
    notations in one row. Every number of the row now has its power, 10⁰ included."""
    row = [measured("youngs_modulus", "1.2", "GPa"), measured("youngs_modulus", "0.00002", "GPa")]
    assert scientific_row(MODULUS, "GPa", row)
    shown = [shown_measurement(m, UnitChoice(), unit="GPa", scientific=True)["display"] for m in row]
    assert shown == ["1.2 × 10⁰ GPa", "2 × 10⁻⁵ GPa"]
    # on its own, the same value still reads plainly
    assert shown_measurement(row[0], UnitChoice(), unit="GPa")["display"] == "1.2 GPa"


def test_the_reviewed_row_reads_in_one_notation():
    """The review's row: "1.50 × 10⁵ MPa | 0.02–3.5 MPa"."""
    row = [measured("youngs_modulus", "150", "GPa"), measured("youngs_modulus", "0.02–3.5", "MPa", "range")]
    assert scientific_row(MODULUS, "MPa", row)
    shown = [shown_measurement(m, UnitChoice(), unit="MPa", scientific=True)["display"] for m in row]
    assert shown == ["1.50 × 10⁵ MPa", "0.02–3.5 × 10⁰ MPa"]


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


def row_texts(documents: list[dict], choice: UnitChoice) -> dict[str, list[str]]:
    table = comparison(documents, View(choice))["table"]
    return {row["key"]: [text for cell in row["cells"] for text in cell] for row in table}


def test_each_compare_row_has_one_unit_and_one_notation():
    documents = [
        document("stiff", measured("youngs_modulus", "110", "GPa"), measured("density", "4.43", "g/cm**3")),
        document("soft", measured("youngs_modulus", "20", "kPa"), measured("density", "1.05", "g/cm**3")),
    ]
    table = row_texts(documents, UnitChoice(units={"youngs_modulus": "psi"}))
    # 110 GPa is 1.60 × 10⁷ psi; 20 kPa is 2.9 psi, and is written 2.9 × 10⁰ psi beside it
    assert table["youngs_modulus"] == ["1.60 × 10⁷ psi", "2.9 × 10⁰ psi"]
    assert table["density"] == ["4.43 g/cm³", "1.05 g/cm³"]  # a row needing no power of ten stays plain


def test_a_compare_row_spanning_seven_decades_is_scientific_throughout():
    """110 GPa to 20 kPa in MPa: seven decades, and every cell with its power of ten."""
    documents = [
        document("Ti", measured("youngs_modulus", "110", "GPa"), measured("density", "4.43", "g/cm**3")),
        document("gel", measured("youngs_modulus", "20", "kPa"), measured("density", "1.05", "g/cm**3")),
        document(
            "PCL", measured("youngs_modulus", "0.35–3.5", "MPa", "range"), measured("density", "1.145", "g/cm**3")
        ),
        document("bone", measured("youngs_modulus", "18.6", "GPa", uncertainty="3.5")),
    ]
    table = row_texts(documents, UnitChoice(units={"youngs_modulus": "MPa"}))
    assert table["youngs_modulus"] == [
        "1.10 × 10⁵ MPa",
        "2.0 × 10⁻² MPa",
        "0.35–3.5 × 10⁰ MPa",
        "(1.86 ± 0.35) × 10⁴ MPa",
    ]
    assert table["density"] == ["4.43 g/cm³", "1.05 g/cm³", "1.145 g/cm³"]  # plain: none needs a power


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

    page = demo_server.get("/compare", params={"ids": "PLLA,PCL"}).text
    caption = page[page.index('id="compare-caption"') :].split("</figcaption>")[0]
    assert caption.count("shares of the highest in K, counted from absolute zero (the table shows °C") == 1
    assert '"Glass transition temperature (in K)"' in page


def test_the_compare_api_and_page_write_a_row_alike(demo_server):
    """The compare API's ``display`` texts follow the page's rule, and say the row's ``notation``."""

    ids = "Ti-6Al-4V,PEGDA hydrogel"
    params = {"ids": ids, "units": "youngs_modulus:MPa"}
    answer = demo_server.get("/api/v1/compare", params=params).json()
    rows = {row["property"]: row for row in answer["properties"]}
    modulus = [v["display"] for values in rows["youngs_modulus"]["values"].values() for v in values]
    assert rows["youngs_modulus"]["notation"] == "scientific"
    assert modulus and all(text.endswith(" MPa") and "× 10" in text for text in modulus), modulus
    plain = [row for row in rows.values() if row["notation"] == "plain"]
    assert plain and all("× 10" not in v["display"] for row in plain for vs in row["values"].values() for v in vs)
    page = demo_server.get("/compare", params=params).text
    assert all(text in page for text in modulus), modulus
