"""The test-system vocabulary is data; these tests pin what it promises: what curators write
resolves to one entry, accessions are well-formed and sourced, and no label has two owners."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest

from biomatdb.errors import VocabularyError
from biomatdb.vocabulary.test_systems import (
    CELLOSAURUS_ACCESSION,
    KINDS,
    fold_designation,
    load_test_systems,
    parse_test_systems,
)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "biomatdb" / "vocabulary" / "test_systems.toml"
RAW = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))

# What a curator writes -> (key, kind, Cellosaurus accession or None, species key or None).
RESOLVES = [
    ("L929", "l929", "cell_line", "CVCL_0462", "mouse"),
    ("L-929", "l929", "cell_line", "CVCL_0462", "mouse"),
    ("l 929", "l929", "cell_line", "CVCL_0462", "mouse"),
    ("NCTC clone 929", "l929", "cell_line", "CVCL_0462", "mouse"),
    ("L cells", "l929", "cell_line", "CVCL_0462", "mouse"),
    ("MG63", "mg_63", "cell_line", "CVCL_0426", "human"),
    ("MG-63", "mg_63", "cell_line", "CVCL_0426", "human"),
    ("mg 63", "mg_63", "cell_line", "CVCL_0426", "human"),
    ("SAOS-2", "saos_2", "cell_line", "CVCL_0548", "human"),
    ("U2OS", "u_2_os", "cell_line", "CVCL_0042", "human"),
    ("NIH-3T3", "nih_3t3", "cell_line", "CVCL_0594", "mouse"),
    ("Balb/3T3", "balb_3t3_clone_a31", "cell_line", "CVCL_0184", "mouse"),
    ("RAW264.7", "raw_264_7", "cell_line", "CVCL_0493", "mouse"),
    ("J774A.1", "j774a_1", "cell_line", "CVCL_0358", "mouse"),
    ("thp1", "thp_1", "cell_line", "CVCL_0006", "human"),
    ("HEK-293", "hek293", "cell_line", "CVCL_0045", "human"),
    ("293T", "hek293t", "cell_line", "CVCL_0063", "human"),
    ("CHO K1", "cho_k1", "cell_line", "CVCL_0214", "chinese_hamster"),
    ("HACAT", "hacat", "cell_line", "CVCL_0038", "human"),
    ("Vero cells", "vero", "cell_line", "CVCL_0059", "african_green_monkey"),
    ("MC3T3-E1", "mc3t3_e1", "cell_line", "CVCL_0409", "mouse"),
    ("MC3T3 E1 subclone 4", "mc3t3_e1_subclone_4", "cell_line", None, "mouse"),
    ("V79", "v79", "cell_line", None, "chinese_hamster"),
    ("EA.hy 926", "ea_hy926", "cell_line", None, "human"),
    ("hMSC", "human_bone_marrow_msc", "cell_type", None, "human"),
    ("HUVECs", "huvec", "cell_type", None, "human"),
    ("human red blood cells", "human_erythrocyte", "cell_type", None, "human"),
    ("rabbit blood", "rabbit_whole_blood", "cell_type", None, "rabbit"),
    ("osteoblastic cells", "osteoblast", "cell_type", None, None),
    ("Rat bone marrow cultures", "rat_bone_marrow_cell", "cell_type", None, "rat"),
    ("NZW rabbit", "rabbit", "species", None, "rabbit"),
    ("New Zealand White rabbits", "rabbit", "species", None, "rabbit"),
    ("Dunkin-Hartley guinea pigs", "guinea_pig", "species", None, "guinea_pig"),
    ("Göttingen minipigs", "pig", "species", None, "pig"),
    ("S. aureus ATCC 25923", "staphylococcus_aureus", "organism", None, None),
    ("E. coli", "escherichia_coli", "organism", None, None),
]

# The test systems the vocabulary must cover, by a name a curator writes -> the entry's key.
REQUIRED = [
    ("L929", "l929"),
    ("Balb/3T3 clone A31", "balb_3t3_clone_a31"),
    ("NIH/3T3", "nih_3t3"),
    ("V79", "v79"),
    ("CHO-K1", "cho_k1"),
    ("MG-63", "mg_63"),
    ("Saos-2", "saos_2"),
    ("U-2 OS", "u_2_os"),
    ("hFOB 1.19", "hfob_1_19"),
    ("MC3T3-E1", "mc3t3_e1"),
    ("HaCaT", "hacat"),
    ("HUVEC", "huvec"),
    ("EA.hy926", "ea_hy926"),
    ("RAW 264.7", "raw_264_7"),
    ("THP-1", "thp_1"),
    ("J774A.1", "j774a_1"),
    ("HEK293", "hek293"),
    ("HeLa", "hela"),
    ("C2C12", "c2c12"),
    ("ATDC5", "atdc5"),
    ("3T3-L1", "3t3_l1"),
    ("MRC-5", "mrc_5"),
    ("WI-38", "wi_38"),
    ("Vero", "vero"),
    ("bone marrow mesenchymal stem cells", "mesenchymal_stem_cell"),
    ("human dermal fibroblasts", "human_dermal_fibroblast"),
    ("human osteoblasts", "human_osteoblast"),
    ("osteoblasts", "osteoblast"),
    ("rat bone marrow cells", "rat_bone_marrow_cell"),
    ("chondrocytes", "chondrocyte"),
    ("macrophages", "macrophage"),
    ("platelets", "platelet"),
    ("erythrocytes", "erythrocyte"),
    ("Staphylococcus aureus", "staphylococcus_aureus"),
    ("Escherichia coli", "escherichia_coli"),
    ("Staphylococcus epidermidis", "staphylococcus_epidermidis"),
    ("Pseudomonas aeruginosa", "pseudomonas_aeruginosa"),
    ("rabbit", "rabbit"),
    ("rat", "rat"),
    ("mouse", "mouse"),
    ("sheep", "sheep"),
    ("dog", "dog"),
    ("minipig", "pig"),
    ("goat", "goat"),
    ("guinea pig", "guinea_pig"),
    ("human", "human"),
]


@pytest.fixture(scope="module")
def shipped():
    return load_test_systems()


@pytest.mark.parametrize(("text", "key", "kind", "cellosaurus", "species"), RESOLVES)
def test_what_curators_write_resolves_to_one_entry(shipped, text, key, kind, cellosaurus, species):
    found = shipped.resolve(text)
    assert found is not None, text
    assert (found.key, found.kind, found.cellosaurus, found.species) == (key, kind, cellosaurus, species)


@pytest.mark.parametrize(("text", "key"), REQUIRED)
def test_the_vocabulary_covers_the_test_systems_of_biomaterials_testing(shipped, text, key):
    found = shipped.resolve(text)
    assert found is not None and found.key == key, text


@pytest.mark.parametrize("text", ["3T3", "", "  -- ", "unobtainium cells", "CHO-K2"])
def test_a_text_that_names_no_entry_resolves_to_none(shipped, text):
    assert shipped.resolve(text) is None


@pytest.mark.parametrize("spelling", ["MG-63", "MG63", "mg 63", "Mg_63", "MG–63", " MG.63 "])
def test_spellings_of_one_line_fold_alike(spelling):
    assert fold_designation(spelling) == "mg63"


@pytest.mark.parametrize(("typo", "expected"), [("L92", "L929"), ("MG-36", "MG-63"), ("Saso-2", "Saos-2")])
def test_a_typo_gets_the_name_it_misspells_first(shipped, typo, expected):
    assert shipped.resolve(typo) is None
    assert shipped.suggest(typo)[0] == expected


def test_suggestions_are_at_most_n_names_and_none_for_nonsense(shipped):
    assert len(shipped.suggest("MC3T3-E", n=2)) == 2
    assert all(name.startswith("MC3T3-E1") for name in shipped.suggest("MC3T3-E", n=2))
    assert shipped.suggest("qqqqqqqq") == []
    assert shipped.suggest("") == []


def _shipped_entries():
    for table in KINDS:
        yield from ((table, key, spec) for key, spec in RAW.get(table, {}).items())


def test_the_shipped_file_gives_no_label_to_two_entries():
    # Recomputed from the raw TOML, not through the loader, so a loader that forgot to check
    # would not hide a clash.
    owners: dict[str, set[str]] = {}
    for _table, key, spec in _shipped_entries():
        for label in (key, spec["name"], *spec.get("aliases", [])):
            owners.setdefault(fold_designation(label), set()).add(key)
    shared = {label: keys for label, keys in owners.items() if len(keys) > 1}
    assert shared == {}


def test_every_accession_is_well_formed_sourced_and_names_one_line():
    accessions = [
        (key, spec["cellosaurus"], spec.get("source", ""))
        for _t, key, spec in _shipped_entries()
        if "cellosaurus" in spec
    ]
    assert len(accessions) >= 20
    for key, accession, source in accessions:
        assert re.fullmatch(r"^CVCL_[0-9A-Z]{4}$", accession), key
        assert source.strip(), key
    assert len({accession for _key, accession, _source in accessions}) == len(accessions)


def test_only_cell_lines_carry_accessions():
    assert {table for table, _key, spec in _shipped_entries() if "cellosaurus" in spec} == {"cell_lines"}


def test_every_cell_line_without_an_accession_is_listed_as_unverified_in_the_header():
    header = SHIPPED.read_text(encoding="utf-8").split("\n[", 1)[0]
    unverified_block = header.split("# Unverified", 1)[1].split("\n#\n", 1)[0]
    names = [spec["name"] for spec in RAW["cell_lines"].values() if "cellosaurus" not in spec]
    assert names
    for name in names:
        assert name in unverified_block, name


def test_every_species_named_by_a_cell_is_a_species_entry(shipped):
    for entry in shipped:
        if entry.species is not None:
            assert shipped.entry(entry.species).kind == "species", entry.key


def test_the_loader_is_read_once_per_process():
    assert load_test_systems() is load_test_systems()


def test_the_vocabulary_is_package_data():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["biomatdb"]
    assert any(fnmatch.fnmatch("vocabulary/test_systems.toml", glob) for glob in globs)


def test_the_pattern_is_the_one_the_tests_check():
    assert CELLOSAURUS_ACCESSION.pattern == r"^CVCL_[0-9A-Z]{4}$"


_GOOD = """
[species.mouse]
name = "mouse"

[cell_lines.mg_63]
name = "MG-63"
aliases = ["MG63"]
"""

# A variant of a valid file -> the type of the refusal.
REFUSED = [
    ("[cell_lines.other]\nname = 'other'\naliases = ['mg 63']\n", "vocabulary-conflict"),
    ("[cell_types.mouse]\nname = 'mouse cells'\n", "vocabulary-conflict"),
    (
        (
            "[cell_lines.x]\nname = 'X'\ncellosaurus = 'CVCL_0001'\nsource = 'a'\n"
            "[cell_lines.y]\nname = 'Y'\ncellosaurus = 'CVCL_0001'\nsource = 'b'\n"
        ),
        "vocabulary-conflict",
    ),
    ("[cell_lines.x]\nname = 'X'\ncellosaurus = 'CVCL_001'\nsource = 'read here'\n", "invalid-vocabulary"),
    ("[cell_lines.x]\nname = 'X'\ncellosaurus = 'cvcl_0001'\nsource = 'read here'\n", "invalid-vocabulary"),
    ("[cell_lines.x]\nname = 'X'\ncellosaurus = 'CVCL_0001'\n", "invalid-vocabulary"),
    ("[cell_lines.x]\nname = 'X'\ncellosaurus = 'CVCL_0001'\nsource = '  '\n", "invalid-vocabulary"),
    ("[cell_types.x]\nname = 'X'\ncellosaurus = 'CVCL_0001'\nsource = 'read here'\n", "invalid-vocabulary"),
    ("[cell_lines.x]\nname = 'X'\nspecies = 'unicorn'\n", "invalid-vocabulary"),
    ("[cell_lines.x]\nname = 'X'\nspecies = 'mg_63'\n", "invalid-vocabulary"),
    ("[cell_lines.x]\nname = 'X'\ncolour = 'blue'\n", "invalid-vocabulary"),
    ("[cell_lines.x]\naliases = ['X1']\n", "invalid-vocabulary"),
    ("[cell_lines.x]\nname = 'X'\naliases = 'X1'\n", "invalid-vocabulary"),
    ("[cell_lines.x]\nname = 'X'\naliases = ['--']\n", "invalid-vocabulary"),
    ("[cell_lines.Bad-Key]\nname = 'X'\n", "invalid-vocabulary"),
    ("[viruses.x]\nname = 'X'\n", "invalid-vocabulary"),
    ("[cell_lines.x\n", "invalid-vocabulary"),
]


def test_the_good_file_loads():
    loaded = parse_test_systems(_GOOD)
    assert sorted(entry.key for entry in loaded) == ["mg_63", "mouse"]
    found = loaded.resolve("mg63")
    assert found is not None and found.name == "MG-63"


@pytest.mark.parametrize(("addition", "refusal"), REFUSED)
def test_a_malformed_or_clashing_file_is_refused(addition, refusal):
    with pytest.raises(VocabularyError) as refused:
        parse_test_systems(_GOOD + addition)
    assert refused.value.type == refusal


def test_one_entry_may_spell_a_label_twice():
    loaded = parse_test_systems(
        _GOOD + "[cell_types.human_osteoblast]\nname = 'human osteoblasts'\naliases = ['hOB', 'HOb']\n"
    )
    found = loaded.resolve("HOB")
    assert found is not None and found.key == "human_osteoblast"
