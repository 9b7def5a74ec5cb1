"""Display units and honest precision (biomatdb/display.py, biomatdb/precision.py): the rule the CLI, the API and the UI share."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from biomatdb.display import (
    Converter,
    UnitChoice,
    open_ends,
    parse_unit_system,
    parse_units,
    shown_cells,
    shown_measurement,
    temperature_text,
    to_canonical,
    unit_label,
    unit_systems,
)
from biomatdb.errors import BiomatError
from biomatdb.precision import Written, rounded, written_number, written_numbers
from biomatdb.units import conversion, parse_unit
from biomatdb.vocabulary import get_vocabulary

PROPERTIES = get_vocabulary().properties


def measured(key: str, text: str, unit: str, qualifier: str = "=", uncertainty: str | None = None) -> dict:
    """A measurement dict as the catalog gives it: ``text`` in ``unit`` stored canonical, as ingest does."""
    prop = PROPERTIES[key]
    affine = conversion(unit, prop)
    numbers = [float(n.replace(",", ".")) for n in text.replace("–", " ").replace(">", " ").split()]
    canonical = [affine.value(n) for n in numbers]
    low = high = value = None
    if qualifier == "range":
        low, high = canonical
    elif qualifier in (">", ">="):
        low = canonical[0]
    elif qualifier in ("<", "<="):
        high = canonical[0]
    else:
        value = low = high = canonical[0]
    return {
        "property": key,
        "qualifier": qualifier,
        "qualitative": None,
        "value": value,
        "value_min": low,
        "value_max": high,
        "uncertainty": None if uncertainty is None else affine.delta(float(uncertainty)),
        "unit": prop.unit,
        "verbatim": {"value": text + (f" ± {uncertainty}" if uncertainty else ""), "unit": unit},
    }


@pytest.mark.parametrize(
    ("token", "digits", "place"),
    [
        ("240", 3, 0),  # an integer's trailing zeros count
        ("2.4e2", 2, 1),
        ("308.15", 5, -2),
        ("0.050", 2, -3),
        ("0,69", 2, -2),  # a decimal comma
        ("0", 1, 0),
        ("0.0", 1, -1),
        ("5.", 1, 0),
        (".5", 1, -1),
        ("1.2E-3", 2, -4),
        ("0.30000000000000004", 1, -1),  # a binary float's text: its shortest form
        ("261.19166666666666", 12, -9),  # 15 digits, at most 12 shown
    ],
)
def test_written_precision_of_a_number(token, digits, place):
    assert written_number(token) == Written(digits, place)


def test_the_numbers_of_a_cell_in_order_not_those_of_its_unit():
    assert written_numbers("580–725 ksi") == [Written(3, 0), Written(3, 0)]
    assert written_numbers("(−65)–(−60)") == [Written(2, 0), Written(2, 0)]
    assert [w.digits for w in written_numbers("1.20 ± 0.05 g/cm3")][:2] == [3, 1]


SHOWN = [
    # property, written, unit, qualifier, uncertainty, choice, display
    ("tensile_strength", "580–725", "ksi", "range", None, UnitChoice({"tensile_strength": "GPa"}), "4.00–5.00 GPa"),
    (
        "tensile_strength",
        "580–725",
        "ksi",
        "range",
        None,
        UnitChoice(),
        "4.00–5.00 × 10³ MPa",
    ),  # not 4000, which claims 4 digits
    ("tensile_strength", "7250", "psi", "=", None, UnitChoice(), "49.99 MPa"),
    ("youngs_modulus", "2", "GPa", "=", None, UnitChoice({"youngs_modulus": "MPa"}), "2 × 10³ MPa"),
    ("youngs_modulus", "110", "GPa", "=", "4", UnitChoice({"youngs_modulus": "MPa"}), "(1.10 ± 0.04) × 10⁵ MPa"),
    # US moduli by magnitude, as US handbooks write them: Msi for a metal, ksi for a polymer, psi for a gel
    ("youngs_modulus", "110", "GPa", "=", None, UnitChoice(system="US"), "16.0 Msi"),
    ("youngs_modulus", "3.50", "GPa", "=", None, UnitChoice(system="US"), "508 ksi"),
    ("youngs_modulus", "20", "kPa", "=", None, UnitChoice(system="US"), "2.9 psi"),
    ("youngs_modulus", "580", "ksi", "=", None, UnitChoice(system="US"), "580 ksi"),  # as written, in a US unit
    ("tensile_strength", "0.5", "MPa", "=", None, UnitChoice(system="US"), "73 psi"),
    # 0.1 MPa is 14.5 psi: rounded up, to 2 digits through the conversion, never to 10
    ("tensile_strength", "42.3", "MPa", "=", "0.1", UnitChoice({"tensile_strength": "psi"}), "6135 ± 15 psi"),
    ("tensile_strength", "42.3", "MPa", "=", "0.1", UnitChoice(system="US"), "6.135 ± 0.015 ksi"),
    ("tensile_strength", "100", "ksi", "=", "0.5", UnitChoice({"tensile_strength": "ksi"}), "100 ± 0.5 ksi"),
    ("youngs_modulus", "0.0000123", "GPa", "=", None, UnitChoice(), "1.23 × 10⁻⁵ GPa"),
    ("glass_transition_temperature", "318.15–323.15", "K", "range", None, UnitChoice(), "45.00–50.00 °C"),
    ("glass_transition_temperature", "37", "°C", "=", None, UnitChoice(system="US"), "99 °F"),
    ("glass_transition_temperature", "37", "°C", "=", None, UnitChoice({"glass_transition_temperature": "K"}), "310 K"),
    (
        "glass_transition_temperature",
        "0.5",
        "°C",
        "=",
        None,
        UnitChoice({"glass_transition_temperature": "K"}),
        "273.7 K",
    ),
    ("glass_transition_temperature", "-60", "°C", "=", "2", UnitChoice(), "−60 ± 2 °C"),
    # −0.15 °C exactly in decimal, −0.1499… as a float: half away from zero on the decimal
    ("glass_transition_temperature", "273.0", "K", "=", None, UnitChoice(), "−0.2 °C"),
    ("glass_transition_temperature", "273.3", "K", "=", None, UnitChoice(), "0.2 °C"),
    (
        "thermal_expansion_coefficient",
        "323.560796358411",
        "ppm/K",
        "=",
        "11.0742667784446",
        UnitChoice(),
        "324 ± 12 ppm/K",  # 11.07 rounded up: never shown smaller than it is
    ),
    ("degradation_time", "5–6", "months", "range", None, UnitChoice(), "5–6 months"),
    ("degradation_time", "1–2", "month", "range", None, UnitChoice(), "1–2 months"),  # kept as written
    ("degradation_time", "45", "day", "=", None, UnitChoice(), "45 days"),  # kept as written
    ("degradation_time", "45", "h", "=", None, UnitChoice(), "1.9 days"),  # not a display unit: by magnitude
    ("degradation_time", ">24", "month", ">", None, UnitChoice(), "> 24 months"),
    # one written digit keeps two through a factor that is no power of ten: a month is ~30 days
    ("degradation_time", "4–5", "months", "range", None, UnitChoice({"degradation_time": "day"}), "1.2–1.5 × 10² days"),
    ("tensile_strength", "5", "MPa", "=", None, UnitChoice({"tensile_strength": "psi"}), "7.3 × 10² psi"),
    ("youngs_modulus", "4", "GPa", "=", None, UnitChoice({"youngs_modulus": "MPa"}), "4 × 10³ MPa"),  # 10³: digits kept
    # ... unless the conversion is exact in the written digits: 1 week is 7 days, 0.5 °C is 0.9 °F
    ("degradation_time", "1", "week", "=", None, UnitChoice({"degradation_time": "day"}), "7 days"),
    ("degradation_time", "2", "week", "=", None, UnitChoice({"degradation_time": "day"}), "14 days"),
    ("glass_transition_temperature", "37.0", "°C", "=", "0.5", UnitChoice(system="US"), "98.6 ± 0.9 °F"),
    ("density", "1.27", "g/cc", "=", None, UnitChoice(system="US"), "0.0459 lb/in³"),
    ("density", "1.27", "g/cm3", "=", None, UnitChoice(system="SI"), "1.27 × 10³ kg/m³"),
    ("fracture_toughness", "2–12", "MPa√m", "range", None, UnitChoice(), "2–12 MPa·m^½"),
    ("storage_modulus", "12345.678", "kPa", "=", None, UnitChoice(), "12\u202f345.678 kPa"),
]


@pytest.mark.parametrize(("key", "text", "unit", "qualifier", "uncertainty", "choice", "display"), SHOWN)
def test_a_value_is_shown_in_its_display_unit_to_the_precision_written(
    key, text, unit, qualifier, uncertainty, choice, display
):
    shown = shown_measurement(measured(key, text, unit, qualifier, uncertainty), choice)
    assert shown["display"] == display


def test_the_json_fields_of_a_shown_measurement():
    m = measured("tensile_strength", "580–725", "ksi", "range")
    shown = shown_measurement(m, UnitChoice({"tensile_strength": "GPa"}))
    assert (shown["value_min"], shown["value_max"], shown["value"], shown["unit"]) == (4.0, 5.0, None, "GPa")
    assert (shown["text"], shown["display"]) == ("4.00 to 5.00", "4.00–5.00 GPa")
    assert shown["value_canonical_min"] == m["value_min"] == pytest.approx(3998.95923004)
    assert shown["value_canonical_max"] == m["value_max"] and shown["unit_canonical"] == "MPa"
    assert shown["verbatim"] == {"value": "580–725", "unit": "ksi"}


def test_a_value_without_its_text_counts_as_written_as_stored():
    m = measured("density", "1.27", "g/cm3") | {"verbatim": None}
    assert shown_measurement(m, UnitChoice(system="SI"))["display"] == "1.27 × 10³ kg/m³"


def test_a_qualitative_value_is_its_words_without_a_unit():
    m = {**measured("melting_temperature", "175", "°C"), "qualifier": "term", "qualitative": "amorphous"}
    m |= {"value": None, "value_min": None, "value_max": None}
    shown = shown_measurement(m, UnitChoice())
    assert (shown["text"], shown["display"], shown["value"]) == ("amorphous", "amorphous", None)
    assert shown_cells(m, UnitChoice()) == ("amorphous", "", "")


def test_export_cells_read_back_by_the_ingest_parser():
    from biomatdb_ingest.cells import ParsedCell, parse_cell

    m = measured("tensile_strength", "580–725", "ksi", "range")
    value, unit, uncertainty = shown_cells(m, UnitChoice({"tensile_strength": "GPa"}))
    assert (value, unit, uncertainty) == ("4.00 to 5.00", "GPa", "")
    parsed = parse_cell(value)
    assert isinstance(parsed, ParsedCell) and (parsed.low, parsed.high) == (4.0, 5.0)
    value, unit, uncertainty = shown_cells(measured("youngs_modulus", "1.20", "GPa", "=", "0.050"), UnitChoice())
    assert (value, unit, uncertainty) == ("1.20", "GPa", "0.050")


def test_the_ends_of_a_range_share_one_notation_in_a_cell():
    """A hydrogel's 0.00048–0.00158 GPa: one end needs a power of ten, so both get one, in the
    shown cell and in the stored value's text, and the cell reads back to the same ends."""
    from biomatdb.catalog import value_text
    from biomatdb_ingest.cells import ParsedCell, parse_cell

    m = measured("youngs_modulus", "0.00048–0.00158", "GPa", "range")
    value, _, _ = shown_cells(m, UnitChoice({"youngs_modulus": "GPa"}))
    assert value == "4.8e-4 to 1.58e-3"
    parsed = parse_cell(value)
    assert isinstance(parsed, ParsedCell) and (parsed.low, parsed.high) == (0.00048, 0.00158)
    assert value_text("range", None, 4.8e-05, 0.00158) == "4.8e-5 to 1.58e-3"
    assert value_text("range", None, 380.0, 400.0) == "380 to 400"  # neither needs one: plain
    assert value_text(">=", None, 1e-05, None) == ">=1e-05"


@pytest.mark.parametrize(
    ("key", "choice", "values", "written", "unit"),
    [
        ("tensile_strength", UnitChoice(), [50.0], [], "MPa"),
        ("youngs_modulus", UnitChoice(), [110.0], [], "GPa"),
        ("glass_transition_temperature", UnitChoice(), [333.15], [], "degC"),
        ("density", UnitChoice(), [1.2], [], "g/cm**3"),
        ("storage_modulus", UnitChoice(), [10.0], [], "kPa"),
        ("glass_transition_temperature", UnitChoice(system="US"), [333.15], [], "degF"),
        ("glass_transition_temperature", UnitChoice(system="SI"), [333.15], [], "degC"),
        ("tensile_strength", UnitChoice(system="US"), [50.0], [], "ksi"),
        ("storage_modulus", UnitChoice(system="US"), [10.0], [], "psi"),
        ("tensile_strength", UnitChoice({"tensile_strength": "kPa"}, system="US"), [50.0], [], "kPa"),
        ("degradation_time", UnitChoice(), [10.0], [], "day"),
        ("degradation_time", UnitChoice(), [14.0], [], "week"),
        ("degradation_time", UnitChoice(), [45.0], [], "week"),
        ("degradation_time", UnitChoice(), [70.0, 90.0], [], "month"),
        ("degradation_time", UnitChoice(), [365.25], [], "month"),  # 12 months, 1 year
        ("degradation_time", UnitChoice(), [800.0], [], "year"),
        ("degradation_time", UnitChoice(), [30.4, 60.9], ["months"], "month"),
        ("degradation_time", UnitChoice(), [30.4, 60.9], ["months", "day"], "week"),  # mixed: by magnitude
        ("degradation_time", UnitChoice(system="SI"), [800.0], ["year"], "day"),
    ],
)
def test_the_unit_chosen(key, choice, values, written, unit):
    assert choice.unit_for(PROPERTIES[key], values, written) == unit


def test_units_and_systems_are_checked():
    assert parse_units("E:MPa, Tg:degF") == {"youngs_modulus": "MPa", "glass_transition_temperature": "degF"}
    assert parse_unit_system(" us ") == "US" and parse_unit_system(None) is None
    with pytest.raises(BiomatError, match="known: SI, US") as raised:
        parse_unit_system("imperial")
    assert raised.value.type == "bad-unit-system"
    for bad in ("youngs_modulus:K", "youngs_modulus", "colour:MPa"):
        with pytest.raises(BiomatError):
            parse_units(bad)


def test_every_system_unit_fits_and_is_one_a_reader_may_pick():
    for system in unit_systems().values():
        assert set(system.by_magnitude) <= set(system.units), system.key  # each has its headline unit
        pairs = [*system.units.items(), *((c, u) for c, units in system.by_magnitude.items() for u in units)]
        for canonical, shown in pairs:
            props = [p for p in PROPERTIES.values() if p.unit == canonical]
            assert props, (system.key, canonical)
            for prop in props:
                conversion(shown, prop)
                assert shown in prop.display, (system.key, prop.key, shown)
        for canonical, units in system.by_magnitude.items():  # smallest first, as the choice reads them
            sizes = [
                conversion(unit, next(p for p in PROPERTIES.values() if p.unit == canonical)).value(1.0)
                for unit in units
            ]
            assert sizes == sorted(sizes), (system.key, canonical, units)


def test_every_unit_label_reads_back_as_the_same_unit():
    units = {u for p in PROPERTIES.values() for u in (p.unit, *p.display)}
    units |= {u for s in unit_systems().values() for u in s.units.values()}
    for unit in sorted(units):
        label = unit_label(unit)
        if unit == "dimensionless":
            assert label == ""
            continue
        assert "**" not in label and "*" not in label, label
        assert parse_unit(label) == parse_unit(unit), (unit, label)
    assert [unit_label(u) for u in ("g/cm**3", "degC", "MPa*m**0.5", "W/(m*K)")] == [
        "g/cm³",
        "°C",
        "MPa·m^½",
        "W/(m·K)",
    ]
    assert unit_label("kg/(m**2*s)") == "kg/(m²·s)"  # not in the table: by rule


@pytest.mark.parametrize("spelling", ["Msi", "Mpsi", "megapsi"])
def test_a_million_psi_reads_msi_as_the_handbooks_write_it(spelling):
    """``units=youngs_modulus:Msi`` showed ``Mpsi``, where the index labels and the docs say Msi."""
    assert unit_label(spelling) == "Msi"
    shown = shown_measurement(measured("youngs_modulus", "110", "GPa"), UnitChoice({"youngs_modulus": spelling}))
    assert shown["unit"] == "Msi" and shown["display"].endswith(" Msi"), shown["display"]


@pytest.mark.parametrize("spelling", ["kg/m**3", "kg/m^3", "kg/m3", "kg m^-3", "kg*m**-3", "kg/m³", "kg·m⁻³"])
def test_every_spelling_of_a_unit_shows_one_label(spelling):
    """``units=density:kg/m^3`` showed ``kg/m^3`` as typed, where ``kg/m**3`` showed ``kg/m³``."""
    assert unit_label(spelling) == "kg/m³"
    shown = shown_measurement(measured("density", "1.27", "g/cm3"), UnitChoice({"density": spelling}))
    assert shown["unit"] == "kg/m³" and shown["display"].endswith(" kg/m³"), shown["display"]


@pytest.mark.parametrize(
    ("spellings", "label"),
    [
        (["MPa*cm**3/g", "MPa/(g/cm^3)", "cm^3*MPa/g", "MPa·cm³/g"], "MPa·cm³/g"),
        (["W/(m*K)", "W/m/K", "W*m^-1*K^-1"], "W/(m·K)"),
        (["kg/(m**2*s)", "kg/s/m^2"], "kg/(m²·s)"),
        (["day", "days", "d"], "days"),
        (["g/cc", "g/cm3", "g cm^-3"], "g/cm³"),
    ],
)
def test_a_unit_not_in_the_table_is_spelled_from_what_it_is_not_from_how_it_was_typed(spellings, label):
    assert {unit_label(s) for s in spellings} == {label}


@given(
    st.sampled_from(["MPa", "ksi", "psi", "GPa", "kPa"]),
    st.sampled_from(["MPa", "ksi", "psi", "GPa", "kPa"]),
    st.integers(min_value=1, max_value=999),
    st.integers(min_value=0, max_value=3),
)
def test_a_shown_uncertainty_is_never_smaller_than_the_uncertainty(written_unit, shown_unit, mantissa, decimals):
    """``42.3 ± 0.1 MPa`` showed as ``6140 ± 10 psi``, though 0.1 MPa is 14.5 psi."""
    prop = PROPERTIES["tensile_strength"]
    uncertainty = f"{mantissa / 10**decimals:.{decimals}f}"
    m = measured("tensile_strength", "500.0", written_unit, "=", uncertainty)
    shown = Converter(prop, shown_unit).numbers(m)["uncertainty"]
    exact = float(uncertainty) * conversion(written_unit, prop).factor / conversion(shown_unit, prop).factor
    assert float(shown.value) >= exact * (1 - 1e-9), (uncertainty, written_unit, shown_unit, shown.value)


@st.composite
def written_values(draw):
    """A value as a curator writes it, its unit, a property, and a unit to show it in."""
    key = draw(st.sampled_from(["tensile_strength", "youngs_modulus", "glass_transition_temperature", "density"]))
    prop = PROPERTIES[key]
    written_unit = draw(st.sampled_from(prop.display))
    shown_unit = draw(st.sampled_from(prop.display))
    digits = draw(st.integers(min_value=1, max_value=6))
    mantissa = draw(st.integers(min_value=10 ** (digits - 1), max_value=10**digits - 1))
    decimals = draw(st.integers(min_value=0, max_value=digits))
    text = f"{mantissa / 10**decimals:.{decimals}f}"
    return key, text, written_unit, shown_unit


@given(written_values())
def test_a_shown_value_converts_back_within_its_rounding(case):
    key, text, written_unit, shown_unit = case
    prop = PROPERTIES[key]
    m = measured(key, text, written_unit)
    converter = Converter(prop, shown_unit)
    shown = converter.numbers(m)["value"]
    half_step = 0.5 * 10**shown.place * conversion(shown_unit, prop).factor  # in canonical units
    back = to_canonical(float(shown.value), shown_unit, prop)
    assert math.isclose(back, m["value"], abs_tol=half_step * (1 + 1e-9) + 1e-12 * abs(m["value"]))
    # shown in the unit it was written in, a value reads as it was written
    if shown_unit == written_unit:
        assert converter.measurement(m)["text"] == text


# --- the temperature a measurement was made at ----------------------------------------------


@pytest.mark.parametrize(
    ("kelvin", "choice", "shown"),
    [
        (310.15, UnitChoice(), "37 °C"),
        (310.15, UnitChoice(system="US"), "98.6 °F"),
        (310.15, UnitChoice(system="SI"), "37 °C"),
        (309.65, UnitChoice(), "36.5 °C"),
        (296.15, UnitChoice(system="US"), "73.4 °F"),
        (310.0, UnitChoice(), "37 °C"),  # stored to the kelvin: shown to the degree
        (273.15, UnitChoice(), "0 °C"),
        (1273.15, UnitChoice(), "1000 °C"),
        (None, UnitChoice(), None),
    ],
)
def test_a_condition_temperature_is_shown_in_the_display_unit(kelvin, choice, shown):
    assert temperature_text(kelvin, choice) == shown


def test_a_shown_measurement_says_its_temperature_in_the_display_unit():
    measurement = {
        **measured("tensile_strength", "60", "MPa"),
        "conditions": {"temperature_K": 310.15, "medium": "PBS"},
    }
    assert shown_measurement(measurement, UnitChoice())["conditions"] == {
        "temperature_K": 310.15,
        "medium": "PBS",
        "temperature_display": "37 °C",
    }
    assert shown_measurement(measurement, UnitChoice(system="US"))["conditions"]["temperature_display"] == "98.6 °F"


@pytest.mark.parametrize(
    ("text", "unit", "qualifier", "uncertainty", "shown"),
    [
        ("1", "day", "=", None, "1 day"),
        ("1", "month", ">", None, "> 1 month"),
        ("1", "week", "~", None, "≈ 1 week"),
        ("1", "year", "=", None, "1 year"),
        ("1–2", "day", "range", None, "1–2 days"),
        ("1", "day", "=", "0.5", "1 ± 0.5 days"),
        ("1.0", "day", "=", None, "1.0 days"),
        ("21", "day", "=", None, "21 days"),
    ],
)
def test_one_day_is_singular(text, unit, qualifier, uncertainty, shown):
    """The issue saw "1 days"."""
    measurement = measured("degradation_time", text, unit, qualifier, uncertainty)
    assert shown_measurement(measurement, UnitChoice({"degradation_time": unit}))["display"] == shown


@pytest.mark.parametrize(
    "text", ["580–725 ksi", "4,5 MPa", "1.2e3 ± 0.1", "0.050", ">24", "1234.5 to 2000", "(−65)–(−60) °C"]
)
def test_the_precision_counts_the_numbers_the_cell_parser_reads(text):
    """One number pattern (``biomatdb.precision.NUMBER_PATTERN``) for reading a cell and counting
    the precision of its text: as many numbers, with the same values."""
    from biomatdb_ingest.cells import ParsedCell, parse_cell

    parsed = parse_cell(text)
    assert isinstance(parsed, ParsedCell)
    ends = (parsed.value,) if parsed.qualifier in ("=", "~") else (parsed.low, parsed.high)
    read = [n for n in (*ends, parsed.uncertainty) if n is not None]
    assert len(written_numbers(text)) == len(read)


@pytest.mark.parametrize(
    ("value", "place", "text"),
    [(273.0 - 273.15, -1, "-0.2"), (273.3 - 273.15, -1, "0.2"), (1.00499999, -2, "1.00"), (2.675, -2, "2.68")],
)
def test_a_value_halfway_in_decimal_rounds_half_away_from_zero_through_float_noise(value, place, text):
    """273.0 K is −0.14999999999997726 °C as a float and −0.15 as the decimal it stands for."""
    assert str(rounded(value, place)) == text


@pytest.mark.parametrize(("value", "place", "text"), [(-0.04, -1, "0.0"), (-0.4, 0, "0"), (-0.06, -1, "-0.1")])
def test_a_value_that_rounds_to_zero_is_never_minus_zero(value, place, text):
    """273 K shown in °C is −0.15 rounded to the kelvin's place: 0, never −0 (JSON wrote -0.0)."""
    shown = rounded(value, place)
    assert str(shown) == text and math.copysign(1.0, float(shown)) == (1.0 if text[0] != "-" else -1.0)


def test_a_derived_index_takes_a_unit_of_its_dimension_and_has_a_unit_in_each_system():
    """``units=specific_stiffness:MN*m/kg`` was refused as an unknown property, and ``US`` left
    indices in GPa·cm³/g."""
    from biomatdb.display import index_unit
    from biomatdb.indices import load_indices, parse_expression

    assert parse_units("specific_stiffness:MN*m/kg") == {"specific_stiffness": "MN*m/kg"}
    assert parse_units("E/rho:GPa*cm^3/g, E:MPa") == {"specific_stiffness": "GPa*cm^3/g", "youngs_modulus": "MPa"}
    with pytest.raises(BiomatError) as refused:
        parse_units("specific_stiffness:MPa")
    message = refused.value.message
    assert "'MPa'" in message and "specific_stiffness" in message and "specific stiffness or strength unit" in message
    with pytest.raises(BiomatError, match="did you mean specific_stiffness"):
        parse_units("specific_stiffnes:MN*m/kg")
    stiffness = parse_expression("specific_stiffness")
    assert index_unit(stiffness, UnitChoice(system="US")) == "Msi/(lb/in**3)"
    assert index_unit(stiffness, UnitChoice(system="SI")) == "MN*m/kg"
    assert index_unit(stiffness, UnitChoice({"specific_stiffness": "GPa*cm**3/g"}, system="US")) == "GPa*cm**3/g"
    for index in load_indices():
        us = index_unit(index, UnitChoice(system="US"))
        assert us != index.unit_display, index.key
        assert parse_unit(unit_label(us)) == parse_unit(us), (index.key, us)  # its label reads back
        assert {system for system, _ in index.systems} <= set(unit_systems())


def test_a_derived_value_is_converted_into_the_chosen_system():
    from biomatdb.display import shown_derived

    derived = {
        "index": "specific_stiffness",
        "value_canonical_min": 110 / 4.43,
        "value_canonical_max": 110 / 4.43,
        "low_open": False,
        "high_open": False,
        "inputs": [measured("youngs_modulus", "110", "GPa"), measured("density", "4.43", "g/cm3")],
    }
    assert shown_derived(derived, UnitChoice())["display"] == "24.8 GPa·cm³/g"
    assert shown_derived(derived, UnitChoice(system="SI"))["display"] == "24.8 MN·m/kg"  # the same number
    us = shown_derived(derived, UnitChoice(system="US"))
    assert us["unit"] == "Msi/(lb/in³)" and us["display"] == "99.7 Msi/(lb/in³)"  # 24.83e6 J/kg over 249.09 J/kg


def test_a_derived_value_has_the_digits_of_its_least_precise_input_value_not_of_an_uncertainty():
    """``110 ± 4 GPa`` over ``7.9 g/cm³`` was shown ``1 × 10¹``: the digits were the fewest of every
    number written, the uncertainty's 1 included. A quotient has the digits of its least precise value."""
    from biomatdb.display import shown_derived

    derived = {
        "index": "specific_stiffness",
        "value_canonical_min": 110 / 7.9,
        "value_canonical_max": 110 / 7.9,
        "low_open": False,
        "high_open": False,
        "inputs": [measured("youngs_modulus", "110", "GPa", uncertainty="4"), measured("density", "7.9", "g/cm3")],
    }
    assert shown_derived(derived, UnitChoice())["display"] == "14 GPa·cm³/g"


def test_each_end_of_a_derived_range_has_the_digits_of_the_input_ends_it_comes_from():
    """E 100–120.5 GPa over ρ 4.0–5.00 g/cm³ is [100/5.00, 120.5/4.0]: the low end from E's low end
    (3 digits) and ρ's high end (3), the high end from E's high end (4) and ρ's low end (2)."""
    from biomatdb.display import shown_derived

    derived = {
        "index": "specific_stiffness",
        "value_canonical_min": 100 / 5.0,
        "value_canonical_max": 120.5 / 4.0,
        "low_open": False,
        "high_open": False,
        "inputs": [
            measured("youngs_modulus", "100–120.5", "GPa", qualifier="range"),
            measured("density", "4.0–5.00", "g/cm3", qualifier="range"),
        ],
    }
    shown = shown_derived(derived, UnitChoice())
    assert shown["display"] == "20.0–30 GPa·cm³/g"
    assert (shown["value_min"], shown["value_max"]) == (20.0, 30.0)


@pytest.mark.parametrize(
    ("texts", "unit", "shown"),
    [
        # was 6.4–6.40 × 10³ (ends that read alike), then 6.4 × 10³ (a point): digits added to both
        (["44", "44.1"], "ksi", "6.38–6.40 × 10³ ksi"),
        (["44–44.1"], "ksi", "6.38–6.40 × 10³ ksi"),
        (["44", "44.05"], "ksi", "6382–6389 ksi"),  # not 6.4–6.389 × 10³: ends past each other
        (["44", "44"], "ksi", "6.4 × 10³ ksi"),  # ends stored equal: a point
        (["44", "44.3"], "ksi", "6.4–6.43 × 10³ ksi"),  # each end its own digits
        (["100–120.5"], "ksi", "1.45–1.748 × 10⁴ ksi"),
        (["100–120.5"], "MPa", "1.00–1.205 × 10⁵ MPa"),
        (["580", "725"], "ksi", "580–725 ksi"),  # no power of ten: each end as written
        (["100–120.5"], "GPa", "100–120.5 GPa"),
    ],
)
def test_the_ends_of_a_range_read_together_carry_the_same_digits(texts, unit, shown):
    """A US card showed a modulus written 44 and 44.1 GPa as ``6.4–6.40 × 10³ ksi``: two notations
    of one number, a range that reads as degenerate. Ends that differ but round together get digits
    until they differ, the same decimals on both; ends stored equal are one value."""
    prop = PROPERTIES["youngs_modulus"]
    written_unit = "ksi" if texts == ["580", "725"] else "GPa"
    measurements = [
        measured("youngs_modulus", text, written_unit, qualifier="range" if "–" in text else "=") for text in texts
    ]
    converter = Converter(prop, unit)
    if len(measurements) == 1:
        assert converter.measurement(measurements[0])["display"] == shown
    assert converter.span(measurements) == shown
    # the US system shows a modulus by its magnitude, a search card and a material page alike: Msi
    # for these (was ksi for every modulus, "1.60 × 10⁴ ksi"), ksi where the values were written in it
    assert UnitChoice(system="US").unit_of(prop, measurements) == ("ksi" if written_unit == "ksi" else "Mpsi")


SD_COLUMN_CSV = (
    "Material,Property,Value,Unit,SD\n"
    "Alloy A,youngs_modulus,110,GPa,4\n"  # an SD written 4 was shown 4.0
    "Alloy B,youngs_modulus,110.0,GPa,0.45\n"
    "Alloy D,tensile_strength,42.3,MPa,0.1\n"
    "Alloy E,youngs_modulus,110,GPa,4000 MPa\n"  # in a unit of its own: 4.000 GPa
)


def test_an_uncertainty_from_its_own_column_is_shown_as_written(sqlite_engine, tmp_path):
    """A standard deviation written ``4`` in an SD column was shown ``4.0``: its text was not kept,
    so it had the GUM's two digits. It is kept now (``verbatim.uncertainty``), and shown by the rule
    of ``±`` written in the cell: its digits, rounded up, two through a factor."""
    from sqlalchemy.orm import Session

    from biomatdb.catalog import find_material, material_json
    from biomatdb_ingest.pipeline import ingest_file

    path = tmp_path / "sd.csv"
    path.write_text(SD_COLUMN_CSV, encoding="utf-8")
    report = ingest_file(sqlite_engine, path)
    assert report.ok, report.errors

    def shown(name: str, choice: UnitChoice | None = None) -> dict:
        with Session(sqlite_engine) as session:
            (measurement,) = material_json(find_material(session, name))["measurements"]
        return shown_measurement(measurement, choice or UnitChoice())

    alloy_a = shown("Alloy A")
    assert alloy_a["display"] == "110 ± 4 GPa" and alloy_a["verbatim"]["uncertainty"] == "4 GPa"
    assert shown("Alloy B")["display"] == "110.0 ± 0.45 GPa"  # a value written more coarsely keeps its own
    assert shown("Alloy D")["display"] == "42.3 ± 0.1 MPa"
    assert (
        shown("Alloy D", UnitChoice({"tensile_strength": "psi"}))["display"] == "6135 ± 15 psi"
    )  # as ``42.3 ± 0.1 MPa`` is
    alloy_e = shown("Alloy E")
    assert (
        alloy_e["verbatim"]["uncertainty"] == "4000 MPa" and alloy_e["display"] == "110 ± 4.0 GPa"
    )  # 2 digits at most
    assert shown("Alloy A", UnitChoice({"youngs_modulus": "MPa"}))["display"] == "(1.10 ± 0.04) × 10⁵ MPa"
    # the text is part of what a re-upload compares: the same file again changes nothing
    from tests.conftest import snapshot

    before = snapshot(sqlite_engine)
    assert ingest_file(sqlite_engine, path).ok
    after = snapshot(sqlite_engine)
    assert after["measurements"] == before["measurements"]


def test_measurements_without_an_uncertainty_text_keep_their_content_hash():
    """``verbatim_uncertainty`` is hashed only where given: the hashes stored before migration 0019
    stay valid, and a re-upload that now keeps the text replaces the row that had none."""
    import pandas as pd

    from biomatdb.hashing import CONTENT_COLUMNS, measurement_hashes

    row = dict.fromkeys(CONTENT_COLUMNS) | {"property_key": "youngs_modulus", "qualifier": "=", "value": 110.0}
    without = measurement_hashes(pd.DataFrame([row]))
    empty = measurement_hashes(pd.DataFrame([row | {"verbatim_uncertainty": None}]))
    given = measurement_hashes(pd.DataFrame([row | {"verbatim_uncertainty": "4 GPa"}]))
    assert empty[1].tolist() == without[1].tolist() != given[1].tolist()
    assert empty[0].tolist() == given[0].tolist()  # what was measured is the same


@pytest.mark.parametrize(
    ("texts", "shown", "ends"),
    [
        # the Ashby chart wrote PLLA's "> 24 months" as "24 months": a bound read as a value
        ([(">24", ">")], "> 24 months", (None, ">")),
        ([(">=24", ">=")], "≥ 24 months", (None, "≥")),
        ([("<3", "<")], "< 3 months", ("<", None)),
        ([("12", "="), (">24", ">")], "12 to > 24 months", (None, ">")),
        ([("<3", "<"), ("12", "=")], "< 3 to 12 months", ("<", None)),
        ([("24", "="), (">24", ">")], "24 months", (None, None)),  # a value at the bound closes it
        ([(">12", ">"), ("24", "=")], "12–24 months", (None, None)),  # the bound points inward
        ([("12–24", "range")], "12–24 months", (None, None)),
    ],
)
def test_a_span_keeps_the_sign_of_an_end_that_is_a_bound(texts, shown, ends):
    measurements = [
        measured("degradation_time", text.lstrip("<>="), "month", qualifier=qualifier) for text, qualifier in texts
    ]
    converter = Converter(PROPERTIES["degradation_time"], "month")
    assert converter.span(measurements) == shown
    assert open_ends(measurements) == ends


def test_an_exact_uncertainty_is_judged_alike_from_the_stored_or_the_written_number():
    """The check whether an uncertainty converts exactly (and so keeps its written digits) reads the
    stored canonical uncertainty, kept to 12 digits, not the written number. Across every unit a
    property may be shown in, written and shown in each other, the stored number's digits in the
    shown unit are the written number's, float noise dropped."""
    from biomatdb.precision import significant_digits
    from biomatdb.units import round_significant

    differ = []
    for prop in get_vocabulary().properties.values():
        units = [prop.unit, *prop.display]
        for written_unit in units:
            to_canonical = conversion(written_unit, prop).factor
            for shown_unit in units:
                per_shown = conversion(shown_unit, prop).factor
                for text in ("0.1", "0.5", "1", "2", "0.25", "5", "0.05", "12.5", "0.3", "7", "0.01"):
                    stored = float(round_significant(float(text) * to_canonical))
                    from_written = float(Decimal(text) * Decimal(repr(to_canonical)) / Decimal(repr(per_shown)))
                    if significant_digits(stored / per_shown) != significant_digits(from_written):
                        differ.append((prop.key, text, written_unit, shown_unit))
    assert differ == []
