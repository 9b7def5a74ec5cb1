"""The property vocabulary is data; these tests pin its public promises."""

import pytest

from biomatdb.units import conversion, parse_unit
from biomatdb.vocabulary import get_vocabulary, normalise_label

STABLE_KEYS = [
    "youngs_modulus",
    "tensile_strength",
    "compressive_strength",
    "flexural_strength",
    "elongation_at_break",
    "fracture_toughness",
    "hardness_vickers",
    "density",
    "porosity",
    "glass_transition_temperature",
    "melting_temperature",
    "water_contact_angle",
    "degradation_time",
    "water_uptake",
    "cell_viability",
]


def test_at_least_forty_properties_in_every_category():
    vocabulary = get_vocabulary()
    assert len(vocabulary.properties) >= 40
    assert {p.category for p in vocabulary.properties.values()} == set(vocabulary.categories)


def test_categories_come_in_a_data_sheets_order():
    """The order is the vocabulary's data (categories.toml), and a property sorts by it first."""
    vocabulary = get_vocabulary()
    assert list(vocabulary.categories)[:6] == [
        "mechanical",
        "physical",
        "thermal",
        "degradation",
        "surface",
        "biological",
    ]
    assert vocabulary.property_rank("density") < vocabulary.property_rank("glass_transition_temperature")
    assert vocabulary.property_rank("youngs_modulus") < vocabulary.property_rank("elongation_at_break")
    assert vocabulary.property_rank("not_a_property") > vocabulary.property_rank("water_solubility")


@pytest.mark.parametrize("key", STABLE_KEYS)
def test_public_keys_exist(key):
    assert key in get_vocabulary().properties


def test_every_canonical_and_display_unit_parses_and_fits():
    for prop in get_vocabulary().properties.values():
        parse_unit(prop.unit)
        for unit in prop.display:
            conversion(unit, prop)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("E", "youngs_modulus"),
        ("Young’s Modulus", "youngs_modulus"),
        ("elastic modulus", "youngs_modulus"),
        ("UTS", "tensile_strength"),
        ("Tg", "glass_transition_temperature"),
        ("Tm", "melting_temperature"),
        ("WCA", "water_contact_angle"),
        ("KIC", "fracture_toughness"),
        ("YOUNG'S_MODULUS", "youngs_modulus"),
        ("Elongation at break", "elongation_at_break"),
        ("water  contact-angle", "water_contact_angle"),
    ],
)
def test_aliases_curators_write(text, key):
    assert get_vocabulary().property(text).key == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("alloy", "metal"),
        ("Bioceramic", "ceramic"),
        ("biopolymer", "polymer"),
        ("Bioactive glass", "glass"),
        ("reference tissue", "tissue"),
    ],
)
def test_class_aliases(text, key):
    assert get_vocabulary().material_class(text) == key


def test_unknown_property_and_class_are_refused_with_their_name():
    with pytest.raises(KeyError, match="flux capacitance"):
        get_vocabulary().property("flux capacitance")
    with pytest.raises(KeyError, match="unobtainium"):
        get_vocabulary().material_class("unobtainium")


def test_normalise_label_folds_quotes_case_and_separators():
    assert normalise_label("  Young’s_Modulus ") == normalise_label("young's modulus")


def test_qualitative_terms_are_few_distinct_and_never_a_number_or_no_measurement():
    from biomatdb_ingest.cells import EMPTY, ParsedCell, parse_cell

    terms = get_vocabulary().qualitative
    assert 10 <= len(terms) <= 15
    for key, term in terms.items():
        assert len(key) <= 32 and term.name and all(p in get_vocabulary().properties for p in term.properties)
        for written in (term.name, *term.aliases):
            assert get_vocabulary().find_qualitative(written) is term, written
            assert written.strip().casefold() not in EMPTY, written  # those stay "no measurement"
            assert parse_cell(written) == ParsedCell("term", None, None, None, None, None, key), written


@pytest.mark.parametrize(
    ("key", "describes", "does_not"),
    [
        ("amorphous", "melting_temperature", "density"),
        ("did_not_break", "impact_strength", "youngs_modulus"),
        ("not_detected", "density", None),  # a term without properties describes any
    ],
)
def test_a_qualitative_term_describes_only_its_properties(key, describes, does_not):
    term = get_vocabulary().qualitative[key]
    assert term.describes(describes)
    if does_not is not None:
        assert not term.describes(does_not)
    else:
        assert all(term.describes(p) for p in get_vocabulary().properties)
