"""Units: the alias table, pint's traps, offsets, angles, dimensions."""

import math

import pytest
from hypothesis import given, strategies as st

from biomatdb import units
from biomatdb.errors import UnitError
from biomatdb.units import conversion, parse_unit, registry, to_pint_expression, ucum_code
from biomatdb.vocabulary import get_vocabulary

P = get_vocabulary().properties


@pytest.mark.parametrize(
    ("unit", "prop", "value", "expected"),
    [
        ("GPa", "youngs_modulus", 110, 110),
        ("MPa", "youngs_modulus", 3500, 3.5),
        ("psi", "tensile_strength", 1000, 6.894757293168361),
        ("ksi", "tensile_strength", 100, 689.4757293168361),
        ("N/mm²", "tensile_strength", 50, 50),
        ("MPa√m", "fracture_toughness", 3.5, 3.5),
        ("MPa m^1/2", "fracture_toughness", 3.5, 3.5),
        ("MPa·m½", "fracture_toughness", 3.5, 3.5),
        ("MN/m^3/2", "fracture_toughness", 3.5, 3.5),
        ("ksi√in", "fracture_toughness", 1, 1.098843494108755),
        ("°C", "glass_transition_temperature", 37, 310.15),
        ("degC", "glass_transition_temperature", -60, 213.15),
        ("℃", "melting_temperature", 100, 373.15),
        ("˚C", "glass_transition_temperature", 37, 310.15),  # U+02DA, typed for ° on a Mac: was refused
        ("˚F", "melting_temperature", 212, 373.15),
        ("˚", "water_contact_angle", 75, 75),
        ("°F", "melting_temperature", 212, 373.15),
        ("K", "glass_transition_temperature", 300, 300),
        ("g/cm³", "density", 4.43, 4.43),
        ("g/cc", "density", 1.25, 1.25),
        ("kg/m3", "density", 4430, 4.43),
        ("kg/m^3", "density", 1000, 1.0),
        ("month", "degradation_time", 1, 30.4375),
        ("weeks", "degradation_time", 2, 14),
        ("year", "degradation_time", 1, 365.25),
        ("°", "water_contact_angle", 75, 75),
        ("deg", "water_contact_angle", 75, 75),
        ("rad", "water_contact_angle", math.pi / 2, 90),
        ("%", "porosity", 60, 60),
        ("wt%", "water_uptake", 30, 30),
        ("mol%", "porosity", 5, 5),
        ("kDa", "molecular_weight", 100, 100),
        ("Da", "molecular_weight", 100000, 100),
        ("g/mol", "molecular_weight", 100000, 100),
        ("HV", "hardness_vickers", 350, 350),
        ("µΩ·cm", "electrical_resistivity", 55, 55e-8),  # regression: Ω was an unexpected character
        ("μΩ cm", "electrical_resistivity", 55, 55e-8),
        ("HV0.5", "hardness_vickers", 350, 350),
        ("GPa", "hardness_vickers", 1, 101.97162129779284),
        ("10-6/K", "thermal_expansion_coefficient", 8.6, 8.6),
        ("ppm/°C", "thermal_expansion_coefficient", 8.6, 8.6),
        ("µm", "pore_size", 300, 300),
        ("μm", "pore_size", 300, 300),
        ("mm", "pore_size", 0.3, 300),
        ("%/day", "degradation_rate", 1, 1),
        ("%/week", "degradation_rate", 7, 1),
        ("mm/y", "corrosion_rate", 0.5, 0.5),
        ("mJ/m²", "surface_energy", 40, 40),
        ("mN/m", "surface_energy", 40, 40),
        ("kPa", "storage_modulus", 10, 10),
        ("Pa", "storage_modulus", 1000, 1),
    ],
)
def test_conversion_to_canonical_unit(unit, prop, value, expected):
    assert conversion(unit, P[prop]).value(value) == pytest.approx(expected, rel=1e-9)


def test_mpa_sqrt_m_is_not_mpa_m():
    """pint alone reads MPa√m as MPa·m; MPa·m is the wrong dimension for fracture toughness."""
    assert to_pint_expression("MPa√m") == "MPa*m**0.5"
    with pytest.raises(UnitError, match="does not fit fracture_toughness"):
        conversion("MPa·m", P["fracture_toughness"])


def test_fractional_power_is_a_power_not_a_division():
    """pint alone reads m^1/2 as (m**1)/2."""
    assert conversion("MPa*m^1/2", P["fracture_toughness"]).factor == pytest.approx(1.0)


def test_mol_percent_is_a_percentage_not_mole_times_percent():
    assert parse_unit("mol%").dimensionless


def test_offset_temperature_uncertainty_is_a_difference():
    """An uncertainty or range width in °C is a delta_degC: 2 °C of spread is 2 K, not 275.15 K."""
    celsius = conversion("°C", P["glass_transition_temperature"])
    assert celsius.delta(2) == pytest.approx(2)
    fahrenheit = conversion("°F", P["glass_transition_temperature"])
    assert fahrenheit.delta(9) == pytest.approx(5)


def test_degree_alone_is_an_angle_not_a_temperature():
    with pytest.raises(UnitError, match="does not fit glass_transition_temperature"):
        conversion("°", P["glass_transition_temperature"])


def test_percent_is_not_an_angle_and_degree_is_not_a_percentage():
    with pytest.raises(UnitError):
        conversion("%", P["water_contact_angle"])
    with pytest.raises(UnitError):
        conversion("°", P["porosity"])


@pytest.mark.parametrize(
    ("unit", "prop"),
    [
        ("MPa", "density"),
        ("GPa", "glass_transition_temperature"),
        ("°C", "tensile_strength"),
        ("mm", "youngs_modulus"),
        ("kDa", "density"),
    ],
)
def test_wrong_dimension_is_refused(unit, prop):
    with pytest.raises(UnitError, match=f"does not fit {prop}"):
        conversion(unit, P[prop])


@pytest.mark.parametrize(
    ("unit", "prop", "given", "needed"),
    [
        ("MPa", "density", "a stress or modulus unit such as MPa", "a density unit such as g/cm³"),
        ("kg/m^3", "tensile_strength", "a density unit such as g/cm³", "a stress or modulus unit such as MPa"),
        ("kg", "glass_transition_temperature", "a unit of mass", "a temperature unit such as °C"),
        ("kg/m**4", "density", "a unit of mass/length⁴", "a density unit such as g/cm³"),
        ("°", "porosity", "an angle unit", "a plain number (no unit) or a percentage"),
    ],
)
def test_a_unit_of_another_dimension_is_refused_in_words_not_pint_dimensions(unit, prop, given, needed):
    """The refusal printed pint's ``[mass] / [length] ** 3``; it says what the units are, in words."""
    with pytest.raises(UnitError) as caught:
        conversion(unit, P[prop])
    message = caught.value.message
    assert f"({given}" in message and f"which needs {needed}" in message, message
    assert "[" not in message and "**" not in message.partition("(")[2], message


def test_every_dimension_a_property_or_index_is_measured_in_is_named_in_words():
    from biomatdb.indices import load_indices

    canonical = {p.key: p.unit for p in P.values()} | {i.key: i.unit_canonical for i in load_indices()}
    for key, unit in canonical.items():
        words = units.describe_dimension(parse_unit(unit))
        assert not words.startswith("a unit of"), (key, unit, words)


@pytest.mark.parametrize(
    "unit", ["furlongs per fortnight squared", "MPa!", "blorp", "1e3 MPa", "10 GPa", "*", "GPa*", "K-", "MPa /", "m**"]
)  # regression: pint asserted on these
def test_unknown_unit_is_refused(unit):
    with pytest.raises(UnitError):
        conversion(unit, P["tensile_strength"])


@pytest.mark.parametrize(
    "unit",
    ["m^2^2^2^2^2^2", "m**2**2**2**2**2", "m^99", "cm99999", "m^-13", "(" * 500 + "m" + ")" * 500, "m*" * 40 + "m"],
)
def test_a_unit_that_would_make_pint_compute_without_end_is_refused_before_pint_sees_it(unit, monkeypatch):
    """m^2^2^2^2^2^2 is m**65536 to pint: a request carrying it must not take the process down."""
    monkeypatch.setattr(units, "registry", lambda: pytest.fail(f"pint was asked to read {unit!r}"))
    with pytest.raises(UnitError, match=r"power must be one number|longer than"):
        units.parse_unit.__wrapped__(unit)  # past the cache


@pytest.mark.parametrize(
    ("unit", "meant"),
    [
        ("Mpa", "MPa"),
        ("mpa", "MPa"),
        ("GPA", "GPa"),
        ("KSI", "ksi"),
        ("hv", "HV"),
        ("G/CM3", "g/cm**3"),
        ("MONTHS", "month"),
    ],
)
def test_an_alias_written_in_another_case_is_read_when_nothing_else_is_meant(unit, meant):
    assert parse_unit(unit) == parse_unit(meant)


@pytest.mark.parametrize(
    ("unit", "as_written"),
    [
        ("mPa", "millipascal"),
        ("MPa·s", "megapascal * second"),
        ("H", "henry"),
        ("c", "speed_of_light"),
        ("Mg/ml", "megagram / milliliter"),
    ],
)
def test_a_unit_whose_case_makes_it_another_unit_is_refused_as_ambiguous(unit, as_written):
    """mPa is millipascal, 10^9 times smaller than the MPa a case-blind alias would make it."""
    assert registry().parse_expression(as_written) != registry().parse_expression("MPa")  # a unit of its own
    with pytest.raises(UnitError, match="ambiguous unit"):
        parse_unit(unit)
    assert parse_unit("mPa·s") == registry().parse_expression("millipascal * second").units


def test_missing_unit_is_refused_where_the_property_has_a_dimension():
    with pytest.raises(UnitError, match="no unit given for density"):
        conversion(None, P["density"])
    assert conversion(None, P["poissons_ratio"]).factor == 1.0


def test_ucum_codes_for_common_units():
    assert ucum_code("°C") == "Cel"
    assert ucum_code("MPa√m") == "MPa.m1/2"


@given(st.floats(min_value=-273.15, max_value=5000, allow_nan=False))
def test_celsius_round_trips_through_kelvin(celsius):
    kelvin = conversion("°C", P["melting_temperature"]).value(celsius)
    # converted values keep 12 significant digits (units.round_significant)
    assert kelvin - 273.15 == pytest.approx(celsius, abs=max(1e-9, abs(kelvin) * 1e-11))


@given(
    st.floats(min_value=1e-6, max_value=1e6, allow_nan=False),
    st.sampled_from(["psi", "ksi", "kPa", "MPa", "GPa", "Pa"]),
)
def test_pressure_conversion_is_linear_and_agrees_with_pint(value, unit):
    from biomatdb.units import registry

    expected = registry().Quantity(value, parse_unit(unit)).to("MPa").magnitude
    assert conversion(unit, P["tensile_strength"]).value(value) == pytest.approx(
        expected, rel=1e-11
    )  # 12 significant digits kept


def test_the_ohm_sign_reads_as_the_capital_omega():
    """The symbol table held the capital omega twice (a duplicate dict key) and the ohm sign U+2126 not at all."""
    assert to_pint_expression("k\u2126*cm") == to_pint_expression("k\u03a9*cm")
    assert "\u2126" not in to_pint_expression("\u2126")
