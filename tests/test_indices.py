"""Derived properties (biomatdb/indices.py): the named indices, expressions, interval arithmetic."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from biomatdb.errors import VocabularyError
from biomatdb.indices import Index, index_of_terms, interval_of, load_indices, parse_expression
from biomatdb.units import conversion, parse_unit
from biomatdb.vocabulary import get_vocabulary


def test_named_indices_are_data_with_the_asked_terms():
    indices = load_indices()
    assert dict(indices.get("specific_stiffness").terms) == {"youngs_modulus": 1.0, "density": -1.0}
    assert dict(indices.get("specific_strength").terms) == {"tensile_strength": 1.0, "density": -1.0}
    assert dict(indices.get("beam_stiffness_index").terms) == {"youngs_modulus": 0.5, "density": -1.0}
    assert dict(indices.get("plate_stiffness_index").terms) == pytest.approx({"youngs_modulus": 1 / 3, "density": -1.0})
    assert {index.key for index in indices} >= {"specific_stiffness", "specific_strength"}


@pytest.mark.parametrize("index", list(load_indices()), ids=lambda index: index.key)
def test_every_index_names_vocabulary_properties_and_a_display_unit_of_its_dimension(index: Index):
    vocabulary = get_vocabulary()
    assert all(key in vocabulary.properties for key, _ in index.terms)
    expected = parse_unit("dimensionless")
    for key, exponent in index.terms:
        expected = expected * parse_unit(vocabulary.properties[key].unit) ** exponent
    assert parse_unit(index.unit_canonical).dimensionality == expected.dimensionality
    assert conversion(index.unit_display, index.as_property()).factor > 0


def test_get_takes_aliases_and_suggests():
    assert load_indices().get("specific modulus").key == "specific_stiffness"
    with pytest.raises(VocabularyError, match="did you mean specific_stiffness"):
        load_indices().get("specific_stifness")


@pytest.mark.parametrize(
    ("text", "terms", "key"),
    [
        ("youngs_modulus/density", {"youngs_modulus": 1, "density": -1}, "specific_stiffness"),
        ("E/density", {"youngs_modulus": 1, "density": -1}, "specific_stiffness"),
        ("E / rho", {"youngs_modulus": 1, "density": -1}, "specific_stiffness"),
        ("youngs_modulus^0.5/density", {"youngs_modulus": 0.5, "density": -1}, "beam_stiffness_index"),
        ("E^(1/3)/density", {"youngs_modulus": 1 / 3, "density": -1}, "plate_stiffness_index"),
        ('"Young\'s modulus"^0.5 / ρ', {"youngs_modulus": 0.5, "density": -1}, "beam_stiffness_index"),
        ("specific_strength", {"tensile_strength": 1, "density": -1}, "specific_strength"),
        ("UTS^2*density", {"tensile_strength": 2, "density": 1}, "tensile_strength^2*density"),
        ("E*E/density", {"youngs_modulus": 2, "density": -1}, "youngs_modulus^2/density"),
    ],
)
def test_parse_expression(text, terms, key):
    index = parse_expression(text)
    assert dict(index.terms) == pytest.approx(terms)
    assert index.key == key


@pytest.mark.parametrize(
    "text", ["youngs_modulos/density", "E/E", "E^0/density", "E^9", "E/", "glass_transition_temperature/density"]
)
def test_parse_expression_refuses(text):
    with pytest.raises(VocabularyError):
        parse_expression(text)


def test_ad_hoc_index_unit_is_the_product_of_canonical_units():
    index = index_of_terms([("tensile_strength", 1.0), ("youngs_modulus", -1.0)])
    assert parse_unit(index.unit_canonical).dimensionless


SPECIFIC = load_indices().get("specific_stiffness")
BEAM = load_indices().get("beam_stiffness_index")


@pytest.mark.parametrize(
    ("index", "inputs", "expected"),
    [
        (SPECIFIC, {"youngs_modulus": (110, 110), "density": (4.43, 4.43)}, (110 / 4.43, 110 / 4.43)),
        # a divisor's high end gives the quotient's low end
        (SPECIFIC, {"youngs_modulus": (100, 120), "density": (4.0, 5.0)}, (20.0, 30.0)),
        # an unbounded divisor: the quotient reaches down to 0; a divisor reaching 0: unbounded above
        (SPECIFIC, {"youngs_modulus": (100, 120), "density": (4.0, None)}, (0.0, 30.0)),
        (SPECIFIC, {"youngs_modulus": (100, 120), "density": (None, 5.0)}, (20.0, None)),
        (SPECIFIC, {"youngs_modulus": (-5, 10), "density": (2.0, 2.0)}, (0.0, 5.0)),
        (BEAM, {"youngs_modulus": (100, 121), "density": (2.0, 2.0)}, (5.0, 5.5)),
    ],
)
def test_interval_of(index, inputs, expected):
    low, high = interval_of(index, inputs)
    assert low == pytest.approx(expected[0])
    assert (high is None) == (expected[1] is None)
    if high is not None:
        assert high == pytest.approx(expected[1])


def test_interval_of_refuses_an_input_not_above_zero():
    with pytest.raises(ValueError, match="undefined"):
        interval_of(SPECIFIC, {"youngs_modulus": (100, 120), "density": (0.0, 0.0)})
    with pytest.raises(ValueError, match="undefined"):
        interval_of(SPECIFIC, {"youngs_modulus": (-3, -1), "density": (1.0, 2.0)})


positive = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False)
exponents = st.sampled_from([1.0, -1.0, 0.5, -0.5, 1 / 3, 2.0, -2.0, 1.5])


@st.composite
def interval_and_point(draw):
    low, high = sorted((draw(positive), draw(positive)))
    point = draw(st.floats(min_value=low, max_value=high))
    return (low, high), point


@given(
    st.lists(st.tuples(exponents, interval_and_point()), min_size=1, max_size=3),
)
def test_the_derived_interval_holds_every_combination_of_inputs(terms):
    """Hypothesis: for every point of each input interval, the index of those points lies in the
    index's interval of the intervals (up to rounding of the last bits)."""
    keys = ["youngs_modulus", "density", "tensile_strength"]
    index = Index(
        key="t",
        name="t",
        terms=tuple((keys[i], exponent) for i, (exponent, _) in enumerate(terms)),
        unit_canonical="1",
        unit_display="1",
    )
    intervals = {keys[i]: interval for i, (_, (interval, _)) in enumerate(terms)}
    value = math.prod(point**exponent for exponent, (_, point) in terms)
    low, high = interval_of(index, intervals)
    assert low is not None and high is not None
    assert low * (1 - 1e-12) <= value <= high * (1 + 1e-12)
    corners = (
        math.prod(min(lo**e, hi**e) for e, ((lo, hi), _) in terms),
        math.prod(max(lo**e, hi**e) for e, ((lo, hi), _) in terms),
    )
    assert low == pytest.approx(corners[0], rel=1e-12) and high == pytest.approx(corners[1], rel=1e-12)
