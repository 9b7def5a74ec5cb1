"""The polymer-names vocabulary is data; these tests pin what it promises and check its sources."""

from __future__ import annotations

import csv
import fnmatch
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from rdkit import Chem

from biomatdb.chemistry import parse_structure
from biomatdb.errors import VocabularyError
from biomatdb.vocabulary import get_vocabulary
from biomatdb.vocabulary.polymers import MATERIAL_CLASSES, SOURCE_HOWS, parse_polymer_names, polymer_names

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
AFZAL = FIXTURES / "bicerano-afzal" / "HT_MD_polymer_properties.csv"
POLYMETRIX = FIXTURES / "polymetrix-tg" / "Polymer_Tg.csv"
CURATED_POLYMERS = FIXTURES / "curated" / "polymers.csv"
CURATED_NATURAL = FIXTURES / "curated" / "hydrogels-natural-composites.xlsx"

# The polymers the vocabulary must know, by a name a curator writes -> the entry's key.
REQUIRED = [
    ("PE", "pe"),
    ("PP", "pp"),
    ("PS", "ps"),
    ("PVC", "pvc"),
    ("PTFE", "ptfe"),
    ("PVDF", "pvdf"),
    ("PMMA", "pmma"),
    ("PET", "pet"),
    ("PBT", "pbt"),
    ("PEEK", "peek"),
    ("PEKK", "pekk"),
    ("PC", "pc"),
    ("Bisphenol A polycarbonate", "pc"),
    ("PSU", "psu"),
    ("PES", "pes"),
    ("Polyethersulfone", "pes"),
    ("PA6", "pa6"),
    ("PA66", "pa66"),
    ("PA11", "pa11"),
    ("PA12", "pa12"),
    ("PA610", "pa610"),
    ("Nylon 6,6", "pa66"),
    ("PU", "pu"),
    ("Polyurethane", "pu"),
    ("TPU", "tpu"),
    ("PDMS", "pdms"),
    ("PVA", "pva"),
    ("Poly(vinyl alcohol)", "pva"),
    ("PVP", "pvp"),
    ("PEG", "peg"),
    ("PEO", "peg"),
    ("PAN", "pan"),
    ("PLA", "pla"),
    ("PLLA", "plla"),
    ("PGA", "pga"),
    ("PCL", "pcl"),
    ("PDO", "pdo"),
    ("Polydioxanone", "pdo"),
    ("PHB", "phb"),
    ("PHBV", "phbv"),
    ("PTMC", "ptmc"),
    ("PPF", "ppf"),
    ("Poly(propylene fumarate)", "ppf"),
    ("PLGA", "plga"),
    ("SEBS", "sebs"),
    ("Chitosan", "chitosan"),
    ("Cellulose", "cellulose"),
    ("Alginate", "alginate"),
    ("Hyaluronic acid", "hyaluronic_acid"),
    ("Collagen", "collagen"),
    ("Gelatin", "gelatin"),
    ("Silk fibroin", "silk_fibroin"),
    ("Chitin", "chitin"),
    ("Agarose", "agarose"),
    ("Dextran", "dextran"),
    ("Starch", "starch"),
]

GRADES = [
    ("HDPE", "pe", "High-density polyethylene"),
    ("LDPE", "pe", "Low-density polyethylene"),
    ("LLDPE", "pe", "Linear low-density polyethylene"),
    ("UHMWPE", "pe", "Ultra-high molecular weight polyethylene"),
    ("ultra high molecular weight polyethylene", "pe", "Ultra-high molecular weight polyethylene"),
    ("PDLLA", "pla", "Poly(DL-lactide)"),
    ("Poly(D,L-lactide)", "pla", "Poly(DL-lactide)"),
    ("ePTFE", "ptfe", "Expanded polytetrafluoroethylene"),
    ("PLGA 50:50", "plga", "PLGA 50:50"),
    ("Pellethane 2363-80A", "peur", "Pellethane 2363-80A"),
    ("Bacterial cellulose", "cellulose", "Bacterial cellulose"),
]

SOURCES = '[sources.book]\ncitation = "A polymer handbook"\nhow = "read"\n\n'


def _entry(key: str, name: str | None = "Poly(x)", **fields: str) -> str:
    lines = ["[[polymer]]", f'key = "{key}"'] + ([f'name = "{name}"'] if name else [])
    fields.setdefault("class_", '"polymer"')
    fields.setdefault("sources", '["book"]')
    lines += [f"{field.rstrip('_')} = {value}" for field, value in fields.items()]
    return "\n".join(lines) + "\n\n"


# Malformed vocabularies -> what the refusal must name.
MALFORMED = [
    ("missing name", SOURCES + _entry("pxa", name=None), "'pxa' has no name"),
    ("missing key", SOURCES + '[[polymer]]\nname = "Poly(x)"\nclass = "polymer"\nsources = ["book"]\n', "#1"),
    ("unknown source", SOURCES + _entry("pxa", sources='["nowhere"]'), "'pxa' cites unknown source.*nowhere"),
    ("no source", SOURCES + _entry("pxa", sources="[]"), "'pxa' names no source"),
    ("duplicate key", SOURCES + _entry("pxa") + _entry("pxa", name="Poly(y)"), "'pxa' is defined twice"),
    (
        "one repeat unit, two entries",
        SOURCES + _entry("pxa", repeat_unit='"*CC*"') + _entry("pxb", name="Poly(y)", repeat_unit='"*CC*"'),
        r"'pxb'.*\*CC\*.*'pxa'",
    ),
    (
        "an other form that is another entry's unit",
        SOURCES
        + _entry("pxa", repeat_unit='"*CC*"')
        + _entry("pxb", name="Poly(y)", repeat_unit='"*CO*"', other_forms='["*CC*"]'),
        "'pxb'.*'pxa'",
    ),
    (
        "one name, two entries",
        SOURCES + _entry("pxa") + _entry("pxb", name="Poly(y)", synonyms='["Poly(x)"]'),
        "'pxb'.*'Poly\\(x\\)'.*'pxa'",
    ),
    (
        "one abbreviation, two entries, case folded",
        SOURCES + _entry("pxa", abbreviations='["PX"]') + _entry("pxb", name="Poly(y)", abbreviations='["px"]'),
        "'pxb'.*'px'.*'pxa'",
    ),
    (
        "a grade named like another entry",
        SOURCES
        + _entry("pxa", abbreviations='["PX"]')
        + _entry("pxb", name="Poly(y)")
        + '[[polymer.grade]]\nname = "Px"\n',
        "'pxb'.*'Px'.*'pxa'",
    ),
    ("a name given twice in one entry", SOURCES + _entry("pxa", synonyms='["poly(X)"]'), "'pxa'.*given twice"),
    ("unknown field", SOURCES + _entry("pxa", repeat_units='"*CC*"'), "'pxa': unknown field.*repeat_units"),
    ("unknown class", SOURCES + _entry("pxa", class_='"metal"'), "'pxa': class must be"),
    ("copolymer without units", SOURCES + _entry("pxa", copolymer="true"), "'pxa': a copolymer"),
    ("units without copolymer", SOURCES + _entry("pxa", units='["*CC*", "*CO*"]'), "'pxa': units are for copolymers"),
    ("a unit without attachment points", SOURCES + _entry("pxa", repeat_unit='"CC"'), "'pxa': repeat_unit 'CC'"),
    (
        "a grade without a name",
        SOURCES + _entry("pxa") + '[[polymer.grade]]\nabbreviations = ["PX-G"]\n',
        "'pxa': a grade has no name",
    ),
    (
        "a source that is neither read nor remembered",
        '[sources.book]\ncitation = "A polymer handbook"\nhow = "guessed"\n\n' + _entry("pxa"),
        "source 'book': how must be",
    ),
    ("a source without citation", '[sources.book]\nhow = "read"\n\n' + _entry("pxa"), "source 'book' has no citation"),
    ("not TOML", SOURCES + "[[polymer]\n", "not valid TOML"),
]


@cache
def _canonical(smiles: str, placeholders: tuple[str, ...] = ()) -> str:
    return parse_structure(smiles, placeholders=placeholders).canonical_smiles


def _dataset_names(
    path: Path, name_column: int | str, smiles_column: int | str, placeholders: tuple[str, ...] = ()
) -> dict[str, set[str]]:
    """canonical structure -> the names its rows give it ("" for a row without a name)."""
    names: dict[str, set[str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader: Iterator[Any] = csv.reader(handle) if isinstance(name_column, int) else csv.DictReader(handle)
        if isinstance(name_column, int):
            next(reader)
        for row in reader:
            names.setdefault(_canonical(row[smiles_column], placeholders), set()).add(row[name_column].strip())
    return names


@pytest.fixture(scope="module")
def vocabulary():
    return polymer_names()


@pytest.fixture(scope="module")
def afzal_structures() -> dict[str, set[str]]:
    return _dataset_names(AFZAL, 1, 2, placeholders=("[Ce]", "[Th]"))


@pytest.fixture(scope="module")
def polymetrix_structures() -> dict[str, set[str]]:
    return _dataset_names(POLYMETRIX, "polymer", "PSMILES")


@pytest.fixture(scope="module")
def curated_materials() -> tuple[set[str], set[str]]:
    """The curated polymers' and natural materials' (canonical structures, folded names)."""
    from biomatdb.vocabulary import normalise_label

    rows = []
    with CURATED_POLYMERS.open(newline="", encoding="utf-8") as handle:
        rows += [(r["Material"], r["SMILES"], r["Synonyms"]) for r in csv.DictReader(handle) if r["Class"]]
    workbook = openpyxl.load_workbook(CURATED_NATURAL, read_only=True)
    try:
        header, *body = workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()  # a read-only workbook keeps its file open until closed
    column = {name: index for index, name in enumerate(header)}
    rows += [
        (r[column["Material"]], r[column["SMILES"]] or "", r[column["Synonyms"]] or "")
        for r in body
        if r[column["Class"]]
    ]
    structures = {_canonical(smiles) for _, smiles, _ in rows if smiles}
    names = {
        normalise_label(n) for material, _, synonyms in rows for n in [material, *synonyms.split(";")] if n.strip()
    }
    return structures, names


def test_at_least_150_polymers(vocabulary):
    assert len(vocabulary) >= 150


@pytest.mark.parametrize(("text", "key"), REQUIRED)
def test_the_required_polymers_are_named(vocabulary, text, key):
    found = vocabulary.by_name(text)
    assert found is not None, text
    assert found[0].key == key


@pytest.mark.parametrize(("text", "key", "grade"), GRADES)
def test_grades_are_found_with_their_entry(vocabulary, text, key, grade):
    entry, found = vocabulary.by_name(text)
    assert (entry.key, found.name) == (key, grade)


def test_natural_polymers_are_natural_and_proteins_have_no_repeat_unit(vocabulary):
    for key in (
        "chitosan",
        "cellulose",
        "alginate",
        "hyaluronic_acid",
        "collagen",
        "gelatin",
        "silk_fibroin",
        "chitin",
        "agarose",
        "dextran",
        "starch",
    ):
        assert vocabulary.entry(key).material_class == "natural", key
    assert vocabulary.entry("collagen").repeat_unit is None
    assert vocabulary.entry("pu").repeat_unit is None and not vocabulary.entry("pu").units


def test_every_structure_round_trips_through_parse_structure(vocabulary):
    for entry in vocabulary.entries:
        for smiles in (*entry.structures, *entry.units):
            assert _canonical(smiles) == smiles, (entry.key, smiles)


def test_copolymers_have_units_and_homopolymers_do_not(vocabulary):
    for entry in vocabulary.entries:
        assert entry.copolymer == bool(entry.units), entry.key
        assert not (entry.copolymer and entry.repeat_unit), entry.key
    assert set(vocabulary.entry("plga").units) == {"*OC(C)C(*)=O", "*OCC(*)=O"}


def test_lactide_stereo_forms_are_distinct_entries(vocabulary):
    plla, pdla, pla = (vocabulary.entry(k) for k in ("plla", "pdla", "pla"))
    assert len({plla.repeat_unit, pdla.repeat_unit, pla.repeat_unit}) == 3
    assert _canonical("*O[C@@H](C)C(=O)*") == plla.repeat_unit  # the curated fixture's PLLA
    assert pla.repeat_unit == "*OC(C)C(*)=O"

    def centre(smiles):
        ((_, label),) = Chem.FindMolChiralCenters(Chem.MolFromSmiles(smiles))
        return label

    assert (centre(plla.repeat_unit), centre(pdla.repeat_unit)) == ("S", "R")  # L-lactic acid is (S)
    assert centre(vocabulary.entry("pll").repeat_unit) == "S"


def test_every_name_and_structure_leads_back_to_its_entry(vocabulary):
    for entry in vocabulary.entries:
        for name in vocabulary.names_of(entry):
            assert vocabulary.by_name(name)[0] is entry, (entry.key, name)
        for smiles in entry.structures:
            assert vocabulary.by_structure(smiles) is entry, (entry.key, smiles)


@pytest.mark.parametrize(
    ("text", "key", "grade"),
    [
        ("HDPE", "pe", "High-density polyethylene"),
        ("hdpe", "pe", "High-density polyethylene"),
        ("polylactide", "pla", None),
        ("Poly(lactic acid)", "pla", None),
        ("Poly(methyl methacrylate)", "pmma", None),
        ("pmma", "pmma", None),
        ("poly(methyl  methacrylate)", "pmma", None),
        ("Nylon-6,6", "pa66", None),
        ("PA 6", "pa6", None),
        ("Polyetheretherketone", "peek", None),
    ],
)
def test_lookups_by_name(vocabulary, text, key, grade):
    entry, found = vocabulary.by_name(text)
    assert entry.key == key
    assert (found.name if found else None) == grade


def test_lookups_by_structure(vocabulary):
    assert vocabulary.by_structure("*CC*").name == "Polyethylene"
    assert vocabulary.by_structure(_canonical("[Ce]CC(C)(C(=O)OC)[Th]", ("[Ce]", "[Th]"))).key == "pmma"
    assert vocabulary.by_structure("*C(*)(F)F").key == "ptfe"  # PolyMetriX's CF2 half of the unit
    assert vocabulary.by_structure("*OCC(*)=O").key == "pga"  # a comonomer unit finds its homopolymer
    assert vocabulary.by_structure("*CC(*)C(=O)OC(C)CCCCCC") is None
    assert vocabulary.by_name("flux capacitor polymer") is None


def test_unknown_key_is_refused_with_its_name(vocabulary):
    with pytest.raises(VocabularyError, match="polyunobtainium"):
        vocabulary.entry("polyunobtainium")


@pytest.mark.parametrize(("case", "text", "message"), MALFORMED, ids=[case for case, _, _ in MALFORMED])
def test_a_malformed_vocabulary_is_refused_naming_the_entry(case, text, message):
    with pytest.raises(VocabularyError, match=message):
        parse_polymer_names(text)


def test_every_source_is_cited_well_and_used(vocabulary):
    used = {source for entry in vocabulary.entries for source in entry.sources}
    assert used == set(vocabulary.sources)
    for source in vocabulary.sources.values():
        assert source.citation.strip() and source.how in SOURCE_HOWS, source.key


def test_no_entry_rests_on_memory_alone(vocabulary):
    """Every entry cites at least one source that was read; a remembered source may only sit
    beside a read one, for what the read sources do not show."""
    for entry in vocabulary.entries:
        assert "read" in {vocabulary.sources[key].how for key in entry.sources}, entry.key


def test_classes_are_terms_of_the_class_vocabulary(vocabulary):
    assert set(MATERIAL_CLASSES) <= set(get_vocabulary().classes)
    assert {entry.material_class for entry in vocabulary.entries} == set(MATERIAL_CLASSES)


@pytest.mark.parametrize("dataset", ["afzal2021", pytest.param("polymetrix", marks=pytest.mark.slow)])
def test_entries_citing_a_dataset_have_their_structure_on_a_named_row(request, vocabulary, dataset):
    """A dataset is cited for the pairing of a name and a structure: the structure (or one of a
    copolymer's units) must be on a row of that dataset that has a name."""
    rows = request.getfixturevalue("afzal_structures" if dataset == "afzal2021" else "polymetrix_structures")
    named = {smiles for smiles, names in rows.items() if names - {""}}
    citing = [entry for entry in vocabulary.entries if dataset in entry.sources]
    assert citing
    for entry in citing:
        assert named & {*entry.structures, *entry.units}, entry.key


def test_entries_citing_the_curated_data_match_a_curated_material(vocabulary, curated_materials):
    from biomatdb.vocabulary import normalise_label

    structures, names = curated_materials
    for entry in vocabulary.entries:
        if "curated" not in entry.sources:
            continue
        if entry.structures or entry.units:
            assert structures & {*entry.structures, *entry.units}, entry.key
        else:
            assert names & {normalise_label(n) for n in vocabulary.names_of(entry)}, entry.key


def _coverage(vocabulary, rows: dict[str, set[str]], dataset: str) -> int:
    covered = [smiles for smiles in rows if vocabulary.by_structure(smiles)]
    print(f"{dataset}: {len(covered)} of {len(rows)} distinct structures have a polymer name")
    return len(covered)


def test_coverage_of_the_afzal_structures(vocabulary, afzal_structures):
    assert _coverage(vocabulary, afzal_structures, "Afzal 2021 (Bicerano)") >= 79  # measured 2026: 79 of 314
    for smiles, key in (("*CC(*)(C)C(=O)OC", "pmma"), ("*CC(*)c1ccccc1", "ps"), ("*CC*", "pe")):
        assert smiles in afzal_structures and vocabulary.by_structure(smiles).key == key


@pytest.mark.slow
def test_coverage_of_the_polymetrix_structures(vocabulary, polymetrix_structures):
    assert _coverage(vocabulary, polymetrix_structures, "PolyMetriX Tg") >= 145  # measured 2026: 145 of 7023
    assert vocabulary.by_structure(_canonical("*C(*)(F)F")).key == "ptfe"
    assert "Poly(tetrafluoroethylene)" in polymetrix_structures["*C(*)(F)F"]


def test_the_vocabulary_is_package_data():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["biomatdb"]
    assert any(fnmatch.fnmatch("vocabulary/polymers.toml", glob) for glob in globs)


def test_the_loader_needs_no_rdkit():
    script = (
        "import sys; sys.modules['rdkit'] = None\n"
        "from biomatdb.vocabulary.polymers import polymer_names\n"
        "print(polymer_names().by_name('PMMA')[0].repeat_unit)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "*CC(*)(C)C(=O)OC"
