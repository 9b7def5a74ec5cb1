"""Headers to meanings, manifests, compositions: each step alone."""

import pytest

from biomatdb.vocabulary import get_vocabulary
from biomatdb_ingest.composition import parse_composition
from biomatdb_ingest.manifest import ManifestError, read_manifest
from biomatdb_ingest.mapping import map_columns, split_unit
from biomatdb_ingest.normalise import SourceRecord, source_record

V = get_vocabulary()


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Young's modulus [GPa]", ("Young's modulus", "GPa")),
        ("E (GPa)", ("E", "GPa")),
        ("Density, g/cm³", ("Density", "g/cm³")),
        ("Tg in K", ("Tg", "K")),
        ("Material", ("Material", None)),
    ],
)
def test_split_unit(label, expected):
    assert split_unit(label) == expected


@pytest.mark.parametrize(
    ("label", "role", "key", "unit"),
    [
        ("Young’s Modulus [GPa]", "measurement", "youngs_modulus", "GPa"),
        ("E (GPa)", "measurement", "youngs_modulus", "GPa"),
        ("UTS (psi)", "measurement", "tensile_strength", "psi"),
        ("Density, g/cm³", "measurement", "density", "g/cm³"),
        ("WCA (°)", "measurement", "water_contact_angle", "°"),
        ("Polymer name", "name", None, None),
        ("SMILES", "structure", None, None),
        ("DOI", "doi", None, None),
        ("Temperature (°C)", "temperature", None, "°C"),
        ("Specimen state", "specimen_state", None, None),
    ],
)
def test_headers_curators_write(label, role, key, unit):
    column = map_columns(["Material", label] if role != "name" else [label], V).columns[-1]
    assert (column.role, column.property and column.property.key, column.unit) == (role, key, unit)


@pytest.mark.parametrize(
    ("label", "role", "key", "unit"),
    [
        ("Tg/°C", "measurement", "glass_transition_temperature", "°C"),
        ("E / GPa", "measurement", "youngs_modulus", "GPa"),
        ("Density / g/cm3", "measurement", "density", "g/cm3"),
        ("Temperature/K", "temperature", None, "K"),
    ],
)
def test_a_quantity_over_its_unit_is_read_as_the_unit_in_the_header(label, role, key, unit):
    """``Tg/°C``, as tables in papers write it, was an unknown column and its values were dropped."""
    cmap = map_columns(["Material", label], V)
    column = cmap.columns[-1]
    assert (column.role, column.property and column.property.key, column.unit) == (role, key, unit)
    assert cmap.issues == []


@pytest.mark.parametrize("label", ["Tg/Tm", "E/E0", "Tg/°C (DSC)"])
def test_a_slash_that_is_no_unit_leaves_the_column_unknown(label):
    """A ratio of two quantities is not a quantity over its unit: a warning, as before, not an error."""
    assert [i.type for i in map_columns(["Material", label], V).issues] == ["unknown-column"]


def test_an_uncertainty_column_a_wide_file_cannot_place_is_warned_about():
    """In a wide file an SD column was ignored without a word."""
    issues = map_columns(["Material", "E (GPa)", "SD"], V).issues
    assert [(i.type, i.column) for i in issues] == [("unknown-column", "SD")]
    assert "uncertainty_of" in issues[0].message


def test_a_header_unit_of_the_wrong_dimension_is_an_error_on_the_column():
    issues = map_columns(["Material", "Density (MPa)"], V).issues
    assert [(i.type, i.column) for i in issues] == [("unit-error", "Density (MPa)")]


def test_unknown_columns_are_warned_about_and_typos_of_roles_are_read():
    issues = map_columns(["Poymer name", "Mystery"], V).issues
    assert {(i.type, i.column) for i in issues} == {("fuzzy-header", "Poymer name"), ("unknown-column", "Mystery")}


def test_two_columns_for_one_role_must_be_resolved():
    issues = map_columns(["Material", "SMILES", "PSMILES"], V).issues
    assert [i.type for i in issues] == ["duplicate-role"]


def test_long_layout_is_detected():
    assert map_columns(["Material", "Property", "Value", "Unit"], V).layout == "long"
    assert map_columns(["Material", "E (GPa)"], V).layout == "wide"


def test_manifest_refuses_unknown_keys(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[columns."A"]\nproperty = "density"\nunti = "g/cc"\n', encoding="utf-8")
    with pytest.raises(ManifestError, match="unti"):
        read_manifest(path)


def test_manifest_maps_columns(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(
        '[columns."Exp Tg"]\nproperty = "Tg"\nunit = "K"\nmethod = "measured"\n'
        '[columns."sd"]\nuncertainty_of = "Exp Tg"\n[columns."junk"]\nignore = true\n',
        encoding="utf-8",
    )
    cmap = map_columns(["name", "Exp Tg", "sd", "junk"], V, read_manifest(path))
    assert cmap.issues == []
    tg = cmap.columns[1]
    assert tg.property is not None
    assert (tg.property.key, tg.unit, tg.conditions) == ("glass_transition_temperature", "K", {"method": "measured"})
    sd = cmap.uncertainty_column_for(1)
    assert sd is not None and sd.label == "sd"


def test_composition_of_an_alloy():
    components = parse_composition("Ti bal; Al 5.5-6.75 wt%; V 3,5-4,5 wt%; Fe <0.3", decimal=",")
    assert not isinstance(components, str), components
    assert [(c.component, c.fraction, c.fraction_max, c.is_balance) for c in components] == [
        ("Ti", None, None, True),
        ("Al", 5.5, 6.75, False),
        ("V", 3.5, 4.5, False),
        ("Fe", 0.0, 0.3, False),
    ]
    mixed = parse_composition("HA 30 mol%; PLLA 70 mol%")
    assert not isinstance(mixed, str) and mixed[0].basis == "mol"


@pytest.mark.parametrize("text", ["Ti", "Al 150 wt%", "Al six"])
def test_bad_compositions_say_why(text):
    assert isinstance(parse_composition(text), str)


@pytest.mark.parametrize(
    ("citation", "doi", "key"),
    [
        ("Smith 2001", None, "cite:smith 2001"),
        ("https://doi.org/10.5555/ABC.1", None, "doi:10.5555/abc.1"),
        ("Smith J. A title. doi:10.5555/xyz.2", None, "doi:10.5555/xyz.2"),
        ("Smith 2001", "10.5555/q", "doi:10.5555/q"),
        # the WE43 citation's DOI kept the citation's closing parenthesis: a broken doi.org link
        (
            "Ultrafine Grained Magnesium Alloy WE43 (abstract, sciencegate.app/document/10.3390/ma12213627)",
            None,
            "doi:10.3390/ma12213627",
        ),
        ("Seen at doi:10.5555/xyz.2; also elsewhere", None, "doi:10.5555/xyz.2"),
        ("Smith J. (doi:10.5555/xyz.3).", None, "doi:10.5555/xyz.3"),
        ("Smith J. [doi:10.5555/xyz.4]:", None, "doi:10.5555/xyz.4"),
        # a balanced pair inside a DOI is the DOI's own
        ("Biomaterials 21 (2000), doi:10.1016/S0142-9612(00)00121-6.", None, "doi:10.1016/s0142-9612(00)00121-6"),
        ("(doi:10.1016/S0142-9612(00)00121-6)", None, "doi:10.1016/s0142-9612(00)00121-6"),
        ("https://doi.org/10.5555/ABC.1.", None, "doi:10.5555/abc.1"),
    ],
)
def test_sources_from_citations_and_dois(citation, doi, key):
    record = source_record(citation, doi)
    assert isinstance(record, SourceRecord) and record.key == key
    assert record.doi is None if key.startswith("cite:") else f"doi:{record.doi}".lower() == key


def test_a_malformed_doi_is_refused():
    assert isinstance(source_record(None, "10.1/short"), str)
