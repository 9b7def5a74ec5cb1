"""The property vocabulary is data; these tests pin its public promises."""

import pytest

from biomatdb.units import conversion, parse_unit
from biomatdb.vocabulary import CATEGORIES, get_vocabulary, normalise_label

STABLE_KEYS = [
    "youngs_modulus", "tensile_strength", "compressive_strength", "flexural_strength", "elongation_at_break",
    "fracture_toughness", "hardness_vickers", "density", "porosity", "glass_transition_temperature",
    "melting_temperature", "water_contact_angle", "degradation_time", "water_uptake", "cell_viability",
]


def test_at_least_forty_properties_in_every_category():
    vocabulary = get_vocabulary()
    assert len(vocabulary.properties) >= 40
    assert {p.category for p in vocabulary.properties.values()} == set(CATEGORIES)


@pytest.mark.parametrize("key", STABLE_KEYS)
def test_public_keys_exist(key):
    assert key in get_vocabulary().properties


def test_every_canonical_and_display_unit_parses_and_fits():
    for prop in get_vocabulary().properties.values():
        parse_unit(prop.unit)
        for unit in prop.display:
            conversion(unit, prop)


@pytest.mark.parametrize(("text", "key"), [
    ("E", "youngs_modulus"), ("Young’s Modulus", "youngs_modulus"), ("elastic modulus", "youngs_modulus"),
    ("UTS", "tensile_strength"), ("Tg", "glass_transition_temperature"), ("Tm", "melting_temperature"),
    ("WCA", "water_contact_angle"), ("KIC", "fracture_toughness"), ("YOUNG'S_MODULUS", "youngs_modulus"),
    ("Elongation at break", "elongation_at_break"), ("water  contact-angle", "water_contact_angle"),
])
def test_aliases_curators_write(text, key):
    assert get_vocabulary().property(text).key == key


@pytest.mark.parametrize(("text", "key"), [("alloy", "metal"), ("Bioceramic", "ceramic"), ("biopolymer", "polymer"),
                                           ("Bioactive glass", "glass"), ("reference tissue", "tissue")])
def test_class_aliases(text, key):
    assert get_vocabulary().material_class(text) == key


def test_unknown_property_and_class_are_refused_with_their_name():
    with pytest.raises(KeyError, match="flux capacitance"):
        get_vocabulary().property("flux capacitance")
    with pytest.raises(KeyError, match="unobtainium"):
        get_vocabulary().material_class("unobtainium")


def test_normalise_label_folds_quotes_case_and_separators():
    assert normalise_label("  Young’s_Modulus ") == normalise_label("young's modulus")
