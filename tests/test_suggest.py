""" "Did you mean": one rule for the filter language and for ingest, on every name either refuses."""

from __future__ import annotations

import pandas as pd
import pytest

from biomatdb.errors import QueryError, UnitError
from biomatdb.suggest import closest, did_you_mean
from biomatdb.units import conversion
from biomatdb.vocabulary import get_vocabulary
from biomatdb_ingest.manifest import ColumnSpec, Manifest, ManifestError, read_manifest
from biomatdb_ingest.mapping import map_columns, parse_mappings
from biomatdb_ingest.normalise import Context, normalise_chunk
from biomatdb_search.parser import parse_filter

V = get_vocabulary()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("youngs modulos", ["youngs_modulus"]),
        ("Tensile strenght", ["tensile_strength"]),
        ("", []),
        ("zzzzzz", []),
    ],
)
def test_closest_properties(text, expected):
    assert closest(text, V.property_labels)[: len(expected) or None] == expected


def test_did_you_mean_names_every_suggestion_or_nothing():
    assert did_you_mean(["a"]) == "; did you mean a?"
    assert did_you_mean(["a", "b", "c"]) == "; did you mean a, b or c?"
    assert did_you_mean([]) == ""


@pytest.mark.parametrize(
    ("label", "first", "manifest_line", "map_option"),
    [
        (
            "Tensile strenght [MPa]",
            "tensile_strength",
            'property = "tensile_strength"',
            '--map "Tensile strenght [MPa]=tensile_strength"',
        ),
        (
            "Youngs modulos (GPa)",
            "youngs_modulus",
            'property = "youngs_modulus"',
            '--map "Youngs modulos (GPa)=youngs_modulus"',
        ),
        ("Temperatur (°C)", "temperature", 'role = "temperature"', '--map "Temperatur (°C)=temperature"'),
        ("Mystery", None, 'property = "…" or role = "…"', '--map "Mystery=PROPERTY_KEY"'),
    ],
)
def test_an_unknown_column_says_what_it_may_mean_and_how_to_map_it(label, first, manifest_line, map_option):
    [issue] = map_columns(["Material", label], V).issues
    assert issue.type == "unknown-column" and issue.column == label
    assert (issue.suggestions[0] if issue.suggestions else None) == first
    assert (f"did you mean {first}" in issue.message) is (first is not None)
    assert f'[columns."{label}"] {manifest_line}' in issue.message
    assert map_option in issue.message


def test_the_suggested_mapping_reads_the_column():
    """What the warning proposes works: the header's unit is read with it, for a role too."""
    header = ["Material", "Tensile strenght [MPa]", "Temperatur (°C)"]
    mapped = parse_mappings(["Tensile strenght [MPa]=tensile_strength", "Temperatur (°C)=temperature"], V)
    cmap = map_columns(header, V, Manifest(columns=mapped))
    assert cmap.issues == []
    assert [(c.role, c.property and c.property.key, c.unit) for c in cmap.columns[1:]] == [
        ("measurement", "tensile_strength", "MPa"),
        ("temperature", None, "°C"),
    ]


@pytest.mark.parametrize(
    ("unit", "key", "first"),
    [
        ("Gpaa", "youngs_modulus", "GPa"),
        ("g/cm^3x", "density", "g/cm3"),
        ("degCC", "glass_transition_temperature", "degC"),
    ],
)
def test_an_unknown_unit_suggests_units_of_the_property_dimension(unit, key, first):
    with pytest.raises(UnitError) as refused:
        conversion(unit, V.properties[key])
    assert refused.value.type == "unknown-unit"
    assert refused.value.suggestions[0] == first
    assert f"did you mean {first}" in refused.value.message
    for suggested in refused.value.suggestions:
        conversion(suggested, V.properties[key])  # each one fits the property


def test_an_unknown_header_unit_suggests_known_units():
    [issue] = map_columns(["Material", "Temperature (degCC)"], V).issues
    assert (issue.type, issue.value) == ("unit-error", "degCC")
    assert "degC" in issue.suggestions


def test_an_unknown_manifest_condition_suggests_the_known_one(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[conditions]\nmediumm = "PBS"\n', encoding="utf-8")
    with pytest.raises(ManifestError) as refused:
        read_manifest(path)
    assert refused.value.suggestions == ("medium",)
    assert "did you mean medium?" in refused.value.message


def test_an_unknown_manifest_role_or_property_suggests_the_known_one():
    manifest = Manifest(columns={"A": ColumnSpec(role="nmae"), "B": ColumnSpec(property="densty")})
    issues = {i.column: i for i in map_columns(["A", "B"], V, manifest).issues if i.type == "manifest-error"}
    assert issues["A"].suggestions[0] == "name" and "did you mean name" in issues["A"].message
    assert issues["B"].suggestions[0] == "density" and "did you mean density" in issues["B"].message


def _long_chunk_issues(property_text: str, class_text: str):
    header = ["Material", "Class", "Property", "Value", "Unit"]
    context = Context(vocabulary=V, column_map=map_columns(header, V))
    chunk = pd.DataFrame([["A", class_text, property_text, "1", "GPa"]], index=[1], columns=range(5))
    return normalise_chunk(chunk, context).errors


@pytest.mark.parametrize(
    ("misspelt", "filter_text"),
    [
        ("youngs_modulos", "youngs_modulos > 1 GPa"),
        ("porositty", "porositty > 1 %"),
        ("tensile strenght", "'tensile strenght' > 1 MPa"),
    ],
)
def test_ingest_and_search_suggest_the_same_properties(misspelt, filter_text):
    """One rule in one place: a long file's Property cell and a filter's subject get one answer."""
    [issue] = _long_chunk_issues(misspelt, "polymer")
    with pytest.raises(QueryError) as refused:
        parse_filter(filter_text)
    assert issue.type == refused.value.type == "unknown-property"
    assert issue.suggestions and list(issue.suggestions) == refused.value.expected
    assert did_you_mean(list(issue.suggestions)) in issue.message and did_you_mean(refused.value.expected) in str(
        refused.value
    )


def test_ingest_and_search_suggest_the_same_classes():
    [issue] = _long_chunk_issues("E", "polymr")
    with pytest.raises(QueryError) as refused:
        parse_filter("class = polymr")
    assert issue.type == refused.value.type == "unknown-class"
    assert issue.suggestions == ("polymer",) and "did you mean polymer" in str(refused.value)
    assert "did you mean polymer" in issue.message


@pytest.mark.parametrize(
    ("entry", "refusal"),
    [
        ("Youngs modulus", "expected HEADER=PROPERTY_KEY"),
        ("=youngs_modulus", "expected HEADER=PROPERTY_KEY"),
        ("E=", "expected HEADER=PROPERTY_KEY"),
        ("E=youngs_modulos", "unknown property 'youngs_modulos'; did you mean youngs_modulus"),
        ("E=nmae", "did you mean name"),
    ],
)
def test_a_map_entry_that_cannot_be_read_is_refused_naming_it(entry, refusal):
    with pytest.raises(ManifestError) as refused:
        parse_mappings([entry], V)
    assert refusal in refused.value.message
    assert f'map entry "{entry}"' in refused.value.message


@pytest.mark.parametrize(
    ("entry", "header", "spec"),
    [
        ("E=youngs_modulus", "E", {"property": "youngs_modulus", "unit": None}),
        ("E=Tg", "E", {"property": "glass_transition_temperature", "unit": None}),
        ("Modulus=youngs_modulus [MPa]", "Modulus", {"property": "youngs_modulus", "unit": "MPa"}),
        ("Sample=name", "Sample", {"role": "name"}),
        ("a=b=medium", "a=b", {"role": "medium"}),
        ("sl_num=ignore", "sl_num", {"ignore": True}),
    ],
)
def test_map_entries_become_manifest_column_specs(entry, header, spec):
    [(found_header, found)] = parse_mappings([entry], V).items()
    assert found_header == header and found.mapped_by == entry
    assert {key: getattr(found, key) for key in spec} == spec


def test_a_header_mapped_twice_is_refused():
    with pytest.raises(ManifestError, match="mapped twice"):
        parse_mappings(["E=youngs_modulus", "E=density"], V)
