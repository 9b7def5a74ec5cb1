"""One material per real material (docs/identity.md): the rules, the ingest that applies them,
the merge of what was stored before them, and the fixtures under them."""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from itertools import combinations

import pytest
from rdkit import Chem
from sqlalchemy import func, select, text

from biomatdb.chemistry import polymer_family
from biomatdb.db import alembic_config, make_engine
from biomatdb.identity import (
    NameCandidate,
    choose_name,
    conflict,
    copolymer_ratio,
    display_name_for_structure,
    identity_of,
    is_structure_string,
    material_key,
    name_kind,
)
from biomatdb.merge import vocabulary_grade
from biomatdb.models import (
    ChemicalStructure,
    CompositionComponent,
    Dataset,
    DetailClaim,
    Material,
    MaterialRedirect,
    MaterialSynonym,
    Measurement,
)
from biomatdb_ingest.pipeline import IngestOptions, ingest_file


def _name(candidate: NameCandidate | None) -> str | None:
    return None if candidate is None else candidate.name


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Bone (cortical)", "Cortical bone"),
        ("50/50 DL-PLG", "50:50 DL-PLG"),
        ("PLGA 50/50", "plga 50:50"),
        ("Ti–6Al–4V", "Ti-6Al-4V"),
        ("Young’s  Modulus", "young's modulus"),
    ],
)
def test_names_that_fold_to_one_key(first, second):
    assert material_key(first) == material_key(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("PLGA 85:15", "PLGA 75:25"),
        ("Hydroxyapatite", "Hydroxyapatite, dense"),
        ("Poly(vinyl acetate)", "Poly(vinyl acetal)"),
        ("Workermat 0-1", "Workermat 1-0"),  # regression: numbers were sorted with the words
    ],
)
def test_names_that_stay_two_keys(first, second):
    assert material_key(first) != material_key(second)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("*CC(*)O", "structure"),
        ("*Oc1ccc(C(C)(C)c2ccc(OC(*)=O)cc2)cc1", "structure"),
        ("[Ce]O[Si](CC)(CC)[Th]", "structure"),
        ("PP", "common"),  # letters RDKit would read, but no SMILES marks
        ("Evil[2Jname", "common"),  # brackets, but RDKit cannot read it
        ("PEEK", "common"),
        ("Bisphenol-A polycarbonate", "common"),
        ("Poly(oxy- 1 ,4-phenylene-oxy- 1 ,4-phenylene-carbonyl-1 ,4-phenylene)", "systematic"),
        ("Poly(methyl methacrylate)", "systematic"),
    ],
)
def test_name_kinds(name, kind):
    assert name_kind(name) == kind
    assert is_structure_string(name) == (kind == "structure")


def test_a_curated_name_outranks_the_vocabulary_and_a_compilation():
    candidates = [
        NameCandidate("Poly(oxy-1,4-phenylene-oxy-1,4-phenylene-carbonyl-1,4-phenylene)", "compilation", True, 1),
        NameCandidate("Poly(ether ether ketone)", "vocabulary", True, 0),
        NameCandidate("PEEK", "curated", True, 2),
        NameCandidate("Polyetheretherketone", "curated", False, 3),
    ]
    assert _name(choose_name(candidates)) == "PEEK"
    assert _name(choose_name(candidates[:2])) == "Poly(ether ether ketone)"
    # among one source's names, a common one outranks a systematic one
    shown = choose_name(
        [
            NameCandidate("Poly(bisphenol A carbonate)", "compilation", True, 1),
            NameCandidate("Bisphenol-A polycarbonate", "compilation", True, 2),
        ]
    )
    assert _name(shown) == "Bisphenol-A polycarbonate"
    # a structure string is never shown, whatever its source
    assert choose_name([NameCandidate("*CC(*)O", "curated", True)]) is None


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        (("PLGA 85:15", "polymer"), ("PDLLA", "polymer"), "grades differ"),  # the vocabulary's grades
        (("PLGA 85:15", "polymer"), ("PLGA 75:25", "polymer"), "grades differ"),
        (
            ("Poly(lactide-co-glycolide) 85:15", "polymer"),
            ("Poly(lactide-co-glycolide) 75:25", "polymer"),
            "copolymer ratios differ",
        ),
        (("PMMA", "polymer"), ("PMMA bone cement", "polymer"), "grades differ"),
        (("Titanium", "metal"), ("Titanium foam", "metal"), "grade or form differ"),
        (("UHMWPE", "polymer"), ("HDPE", "polymer"), "grades differ"),
        (("Polyethylene", "polymer"), ("HDPE", "polymer"), "grades differ"),
        (("pHEMA hydrogel", "hydrogel"), ("Poly(2-hydroxyethyl methacrylate)", "polymer"), "classes differ"),
        (("Poly(bisphenol A carbonate)", "polymer"), ("Bisphenol-A polycarbonate", "polymer"), None),
        (("Chitosan", "natural"), ("Chitosan", "polymer"), None),
    ],
)
def test_when_records_of_one_structure_are_one_material(first, second, reason):
    identities = [
        identity_of(name, material_class=material_class, grade=vocabulary_grade(name))
        for name, material_class in (first, second)
    ]
    found = conflict(*identities)
    assert (found is None) if reason is None else (found or "").startswith(reason), found


def test_one_dataset_naming_one_structure_twice_means_two_materials_unless_it_is_a_spelling():
    named = [
        identity_of(name, material_class="polymer", named_by={7})
        for name in (
            "Pellethane 2363-80A",
            "Pellethane 2363-55D",
            "Poly(2,2,2trifluoroethyl acrylate)",
            "Poly(2,2,2-trifluoroethyl acrylate)",
            "PEG 2000",
            "PEG 20000",
            "Pellethane 2363-80AE",
        )
    ]
    assert conflict(named[0], named[1]) == "one dataset names them as two materials"
    assert conflict(named[2], named[3]) is None
    # found in review: a fuzzy "spelling" rule joined grades one digit or letter apart
    assert conflict(named[4], named[5]) == "one dataset names them as two materials"
    assert conflict(named[0], named[6]) == "one dataset names them as two materials"


def test_copolymer_ratios_are_normalised():
    assert copolymer_ratio("PLGA 85:15") == (85.0, 15.0)
    assert copolymer_ratio("50/50 DL-PLG") == copolymer_ratio("PLGA 1:1") == (50.0, 50.0)
    assert copolymer_ratio("Ti-6Al-4V") is None


@pytest.mark.parametrize(
    ("smiles", "family"),
    [
        ("*OC(C)C(*)=O", "Polyester"),  # the ester spans the unit's two ends
        ("*Oc1ccc(C(C)(C)c2ccc(OC(*)=O)cc2)cc1", "Polycarbonate"),
        ("*C(=O)c1ccc(C(=O)Nc2ccc(N*)cc2)cc1", "Polyamide"),
        ("*[Si](C)(C)O*", "Polysiloxane"),
        ("*CC(*)c1ccccc1", "Vinyl polymer"),
        ("*CCO*", "Polyether"),
        ("CCO", None),  # no repeat unit
    ],
)
def test_polymer_families(smiles, family):
    assert polymer_family(smiles) == family


def test_a_material_known_only_by_its_structure_gets_a_readable_name():
    assert (
        display_name_for_structure("C3H4O2", "polymer", repeat_unit=True, family="Polyester")
        == "Polyester (C3H4O2 repeat unit)"
    )
    assert display_name_for_structure("C6H4", "polymer", repeat_unit=True) == "Polymer (C6H4 repeat unit)"


# --- the fixtures under the rules ------------------------------------------------------


@pytest.fixture(scope="module")
def fixtures_engine(fixtures_sqlite):
    engine = make_engine(f"sqlite:///{fixtures_sqlite.location}")
    yield engine
    engine.dispose()


def test_no_two_fixture_materials_share_a_structure_unless_the_rules_say_why(fixtures_engine):
    with fixtures_engine.connect() as connection:
        rows = connection.execute(
            select(Material.id, Material.structure_id, Material.name, Material.material_class.label("cls")).where(
                Material.structure_id.is_not(None)
            )
        ).all()
        namers = defaultdict(set)
        for material_id, dataset_id in connection.execute(
            select(DetailClaim.material_id, DetailClaim.dataset_id).where(DetailClaim.kind == "name")
        ):
            namers[material_id].add(dataset_id)
    groups = defaultdict(list)
    for row in rows:
        groups[row.structure_id].append(row)
    shared = {structure: members for structure, members in groups.items() if len(members) > 1}
    reasons = []
    for members in shared.values():
        for a, b in combinations(members, 2):
            identities = [
                identity_of(m.name, material_class=m.cls, grade=vocabulary_grade(m.name), named_by=namers[m.id])
                for m in (a, b)
            ]
            reason = conflict(*identities)
            assert reason is not None, (a.name, b.name)
            reasons.append(reason)
    print(
        f"\n{len(shared)} structures are held by more than one material, for these reasons: "
        f"{sorted({r.split(' (')[0] for r in reasons})}"
    )
    # before the rules: 107 structures belonged to 235 materials
    assert len(shared) <= 12


def test_at_most_one_percent_of_fixture_names_parse_as_smiles(fixtures_engine):
    with fixtures_engine.connect() as connection:
        names = connection.execute(select(Material.name)).scalars().all()
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]  # RDKit's stubs omit it
    smiles = [name for name in names if Chem.MolFromSmiles(name) is not None]
    assert len(smiles) <= len(names) / 100, smiles[:20]
    assert not any(is_structure_string(name) for name in names)


def test_the_duplicates_the_issue_found_are_one_material_now(fixtures_engine):
    with fixtures_engine.connect() as connection:
        # Afzal's and PolyMetriX's bisphenol-A polycarbonate: PolyMetriX's row now finds Afzal's material
        afzal = connection.scalar(select(Material.id).where(Material.public_id == "bm-536a1ad7c4"))
        polymetrix = (
            connection.execute(
                select(MaterialSynonym.material_id).where(MaterialSynonym.synonym == "Poly(bisphenol A carbonate)")
            )
            .scalars()
            .all()
        )
        assert afzal is not None and polymetrix == [afzal]
        # the id PolyMetriX's row had when it was a material of its own still answers, with Afzal's
        assert (
            connection.scalar(select(MaterialRedirect.material_id).where(MaterialRedirect.public_id == "bm-2603e127ab"))
            == afzal
        )
        ptfe = (
            connection.execute(
                select(Material.name)
                .join(ChemicalStructure, ChemicalStructure.id == Material.structure_id)
                .where(ChemicalStructure.canonical_smiles.in_(["*C(F)(F)C(*)(F)F", "*C(*)(F)F"]))
            )
            .scalars()
            .all()
        )
        assert sorted(ptfe) == ["PTFE", "ePTFE"]
        peek = connection.execute(
            select(Material.id, Material.name)
            .join(MaterialSynonym, MaterialSynonym.material_id == Material.id)
            .where(MaterialSynonym.synonym == "Poly(oxy- 1 ,4-phenylene-oxy- 1 ,4-phenylene-carbonyl-1 ,4-phenylene)")
        ).one()
        assert peek.name == "PEEK"
        pva = (
            connection.execute(
                select(MaterialSynonym.synonym)
                .join(Material, Material.id == MaterialSynonym.material_id)
                .where(Material.name == "PVA")
            )
            .scalars()
            .all()
        )
        assert pva and not any(is_structure_string(s) for s in pva)
        assert (
            connection.scalar(
                select(func.count()).select_from(MaterialSynonym).where(MaterialSynonym.synonym.like("%*%"))
            )
            == 0
        )
        plga = (
            connection.execute(
                select(Material.name).where(Material.name.in_(["PDLLA", "PLGA 85:15", "PLGA 75:25", "PLGA 65:35"]))
            )
            .scalars()
            .all()
        )
        assert sorted(plga) == ["PDLLA", "PLGA 65:35", "PLGA 75:25", "PLGA 85:15"]


# --- ingest: what it matched, and what it warns ------------------------------------------


def _write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_the_report_lists_each_material_created_or_matched_and_by_what(sqlite_engine, tmp_path):
    first = _write(
        tmp_path,
        "first.csv",
        "Material,Class,Synonyms,SMILES,Property,Value,Unit\n"
        "PLGA 50:50,polymer,50:50 DL-PLG,*OC(C)C(=O)OCC(=O)*,tensile strength,45,MPa\n"
        "Cortical bone,natural,,,density,1.9,g/cm3\n"
        "Poly(bisphenol A carbonate),polymer,,*Oc1ccc(C(C)(C)c2ccc(OC(*)=O)cc2)cc1,density,1.2,g/cm3\n",
    )
    assert ingest_file(sqlite_engine, first).loaded
    second = _write(
        tmp_path,
        "second.csv",
        "Material,Class,SMILES,Property,Value,Unit\n"
        "50/50 DL-PLG,polymer,,tensile strength,50,MPa\n"
        "Bone (cortical),natural,,youngs modulus,18,GPa\n"
        "Bisphenol-A polycarbonate,polymer,*Oc1ccc(C(C)(C)c2ccc(OC(*)=O)cc2)cc1,tensile strength,65,MPa\n"
        "Titanium foam,metal,,density,1.5,g/cm3\n",
    )
    report = ingest_file(sqlite_engine, second, IngestOptions())
    assert report.loaded
    listed = {(m["row"], m["name"]): (m["action"], m["matched_by"]) for m in report.as_dict()["materials"]}
    assert listed == {
        (1, "50/50 DL-PLG"): ("matched", "synonym"),
        (2, "Bone (cortical)"): ("matched", "name"),
        (3, "Bisphenol-A polycarbonate"): ("matched", "structure"),
        (4, "Titanium foam"): ("created", None),
    }
    assert report.materials_created == 1
    with sqlite_engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Material)) == 4
        # the curated second dataset's common name is shown; the first's systematic one is a synonym
        shown = connection.scalar(
            select(Material.name).where(Material.structure_id.is_not(None), Material.name.like("%carbonate%"))
        )
        assert shown == "Bisphenol-A polycarbonate"


def test_a_name_close_to_an_existing_one_is_warned_and_strict_refuses_it(sqlite_engine, tmp_path):
    existing = _write(
        tmp_path,
        "existing.csv",
        "Material,Class,Property,Value,Unit\n"
        '"Hydroxyapatite, dense",ceramic,density,3.1,g/cm3\nTitanium,metal,density,4.5,g/cm3\n'
        "PLGA 85:15,polymer,tensile strength,50,MPa\n",
    )
    assert ingest_file(sqlite_engine, existing).loaded
    with sqlite_engine.connect() as connection:
        dense = connection.scalar(select(Material.public_id).where(Material.name == "Hydroxyapatite, dense"))
    new = _write(
        tmp_path,
        "new.csv",
        "Material,Class,Property,Value,Unit\nHydroxyapatite,ceramic,density,3.15,g/cm3\n"
        "Titanum,metal,density,4.51,g/cm3\nPLGA 75:25,polymer,tensile strength,45,MPa\n",
    )
    from tests.conftest import snapshot

    before = snapshot(sqlite_engine)
    strict = ingest_file(sqlite_engine, new, IngestOptions(strict=True))
    assert not strict.loaded and snapshot(sqlite_engine) == before
    assert {e.type for e in strict.errors} == {"possible-duplicate"}
    report = ingest_file(sqlite_engine, new)
    assert report.loaded
    warned = {w.value: w.message for w in report.warnings if w.type == "possible-duplicate"}
    assert set(warned) == {"Hydroxyapatite", "Titanum"}  # PLGA 75:25 is told apart by its ratio
    assert dense in warned["Hydroxyapatite"]


# --- a core stored before the rules ------------------------------------------------------


@contextmanager
def _stored_before_the_rules(tmp_path):
    """A SQLite core at migration 0008, the last before the identity rules: the test writes on
    ``connection`` what such a core held; leaving the block migrates it to the head."""
    from alembic import command

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")
        yield engine, connection
        command.upgrade(config, "head")


def test_migration_0010_merges_what_was_stored_before_the_rules(tmp_path):
    with _stored_before_the_rules(tmp_path) as (engine, connection):
        connection.execute(
            text(
                "INSERT INTO properties (key, name, category, unit, kind) "
                "VALUES ('density', 'Density', 'physical', 'g/cm**3', 'quantity')"
            )
        )
        for dataset_id, name in ((1, "afzal"), (2, "polymetrix")):
            connection.execute(
                text(
                    "INSERT INTO datasets (id, name, rows_read, created_at, updated_at) "
                    "VALUES (:id, :name, 1, '2026-01-01', '2026-01-01')"
                ),
                {"id": dataset_id, "name": name},
            )
        connection.execute(
            text(
                "INSERT INTO structures (id, input, canonical_smiles, is_repeat_unit) "
                "VALUES (1, '*CC(*)c1ccccc1', '*CC(*)c1ccccc1', 1)"
            )
        )
        for material_id, public_id, name, dataset_id in (
            (1, "bm-a", "Poly(styrene)", 1),
            (2, "bm-b", "*CC(*)c1ccccc1", 2),
            (3, "bm-c", "polystyrene", 2),
        ):
            connection.execute(
                text(
                    "INSERT INTO materials (id, public_id, name, name_key, class, structure_id, created_by_dataset_id, "
                    "created_at, updated_at) VALUES (:id, :public_id, :name, lower(:name), 'polymer', 1, :dataset, "
                    "'2026-01-01', '2026-01-01')"
                ),
                {"id": material_id, "public_id": public_id, "name": name, "dataset": dataset_id},
            )
            connection.execute(
                text(
                    "INSERT INTO measurements (material_id, property_key, dataset_id, qualifier, value, value_min, value_max, "
                    "unit, verbatim_value, pipeline_version, content_hash, identity_hash, source_row) VALUES "
                    "(:id, 'density', :dataset, '=', 1.05, 1.05, 1.05, 'g/cm**3', '1.05', '2', 'c', 'i', :id)"
                ),
                {"id": material_id, "dataset": dataset_id},
            )
        connection.execute(
            text(
                "INSERT INTO material_synonyms (material_id, synonym, name_key, dataset_id) "
                "VALUES (3, '*CC(*)c1ccccc1', '*cc(*)c1ccccc1', 2)"
            )
        )
    with engine.connect() as connection:
        materials = connection.execute(select(Material.id, Material.public_id, Material.name)).all()
        assert len(materials) == 1
        kept = materials[0]
        assert kept.public_id == "bm-a"  # the oldest: no dataset was marked curated or compilation yet
        # every dataset stored before the rules counts as curated: their common name outranks the
        # systematic one and the vocabulary's
        assert kept.name == "polystyrene"
        assert sorted(connection.execute(select(MaterialRedirect.public_id)).scalars()) == ["bm-b", "bm-c"]
        rows = connection.execute(
            select(Measurement.material_id, Measurement.dataset_id, Measurement.source_row).order_by(
                Measurement.source_row
            )
        ).all()
        assert [tuple(r) for r in rows] == [(kept.id, 1, 1), (kept.id, 2, 2), (kept.id, 2, 3)]  # provenance kept
        synonyms = set(connection.execute(select(MaterialSynonym.synonym)).scalars())
        assert synonyms == {"Poly(styrene)", "polystyrene"}  # the structure string is no synonym
        assert connection.scalar(select(Dataset.kind).where(Dataset.id == 1)) == "curated"
    engine.dispose()


# --- copolymers as copolymers ----------------------------------------------------------------


def test_a_copolymer_is_its_units_with_their_ratio(fixtures_engine):
    from biomatdb_search.chemistry import ChemistryIndex
    from biomatdb_search.model import Similarity, Substructure

    with fixtures_engine.connect() as connection:
        ids = dict(
            connection.execute(
                select(Material.name, Material.id).where(
                    Material.name.in_(["PDLLA", "PLGA 85:15", "PLGA 75:25", "PLGA 50:50", "PGA", "PGA-TMC"])
                )
            ).all()
        )
        smiles = dict(
            connection.execute(
                select(Material.name, ChemicalStructure.canonical_smiles)
                .join(ChemicalStructure, ChemicalStructure.id == Material.structure_id)
                .where(Material.id.in_(ids.values()))
            ).all()
        )
        units = connection.execute(
            select(CompositionComponent.component, CompositionComponent.fraction, CompositionComponent.basis)
            .where(CompositionComponent.material_id == ids["PLGA 85:15"])
            .order_by(CompositionComponent.position)
        ).all()
    assert smiles["PLGA 85:15"].count(".") == 1 and smiles["PLGA 85:15"] != smiles["PDLLA"]
    assert [tuple(u) for u in units] == [("lactyl", 85.0, "mol"), ("glycolyl", 15.0, "mol")]
    index = ChemistryIndex(fixtures_engine)
    similar = index(Similarity(smiles=smiles["PDLLA"], threshold=0.0))
    assert similar[ids["PDLLA"]] == 1.0
    assert 0 < similar[ids["PLGA 85:15"]] < 1  # was 1.00 when PLGA was stored as its lactyl unit alone
    glycolyl = index(Substructure(pattern="O[CH2]C=O"))  # the glycolyl unit: structure search sees every unit
    assert {ids[name] for name in ("PLGA 85:15", "PLGA 75:25", "PLGA 50:50", "PGA", "PGA-TMC")} <= set(glycolyl)
    assert ids["PDLLA"] not in glycolyl


def test_a_curated_material_that_absorbs_a_stored_one_says_so_and_the_old_id_answers(sqlite_engine, tmp_path):
    """Found in review: the report said "created" and hid that a compilation's material, with its
    public id, had been merged into the new curated one."""
    from sqlalchemy.orm import Session

    from biomatdb.catalog import find_material

    _write(
        tmp_path,
        "compiled.csv",
        "Material,Class,SMILES,Property,Value,Unit\nPolytetrafluoroethylene,polymer,*C(*)(F)F,density,2.2,g/cm3\n",
    )
    _write(tmp_path, "compiled.csv.manifest.toml", '[dataset]\nname = "compiled"\nkind = "compilation"\n')
    first = ingest_file(sqlite_engine, tmp_path / "compiled.csv")
    old_id = first.materials[0]["id"]
    curated = _write(
        tmp_path,
        "curated.csv",
        "Material,Class,SMILES,Property,Value,Unit\nPTFE,polymer,*C(F)(F)C(F)(F)*,density,2.15,g/cm3\n",
    )  # another cut of the same chain
    report = ingest_file(sqlite_engine, curated)
    [entry] = report.materials
    assert entry["action"] == "created" and entry["merged"] == [old_id] and entry["id"] != old_id
    with Session(sqlite_engine) as session:
        found = find_material(session, old_id)
        assert found.public_id == entry["id"] and found.name == "PTFE"
        assert sorted(m.dataset.name for m in found.measurements) == ["compiled", "curated"]


def test_a_curated_name_the_vocabulary_already_shows_stays_a_synonym_and_matches_later_rows(sqlite_engine, tmp_path):
    """Found in review: a compilation's material shown by the vocabulary's "Nylon 6,6" lost that
    name when a curated file named it so, and the next "Nylon 6,6" row made a duplicate."""
    unit = "*NCCCCCCNC(=O)CCCCC(=O)*"
    _write(
        tmp_path,
        "compiled.csv",
        f"Material,Class,SMILES,Property,Value,Unit\nPoly(hexamethylene adipamide),polymer,{unit},density,1.14,g/cm3\n",
    )
    _write(tmp_path, "compiled.csv.manifest.toml", '[dataset]\nname = "compiled"\nkind = "compilation"\n')
    assert ingest_file(sqlite_engine, tmp_path / "compiled.csv").loaded
    curated = _write(
        tmp_path,
        "curated.csv",
        f"Material,Class,SMILES,Synonyms,Property,Value,Unit\n"
        f'"Nylon 6,6",polymer,{unit},"PA 6,6; PA66",density,1.15,g/cm3\n',
    )
    assert ingest_file(sqlite_engine, curated).loaded
    later = _write(
        tmp_path, "later.csv", 'Material,Class,Property,Value,Unit\n"Nylon 6,6",polymer,density,1.13,g/cm3\n'
    )
    report = ingest_file(sqlite_engine, later)
    assert [(m["action"], m["matched_by"]) for m in report.materials] == [("matched", "name")]
    with sqlite_engine.connect() as connection:
        assert connection.execute(select(Material.name)).scalars().all() == ["Nylon 6,6"]
        assert "Nylon 6,6" in connection.execute(select(MaterialSynonym.synonym)).scalars().all()


def test_names_a_merge_brings_are_searchable(sqlite_engine, tmp_path):
    """Found in review: the compilation's synonym and application could not be searched after a
    curated material absorbed its material."""
    from biomatdb_search.backends.sql import SqlBackend
    from biomatdb_search.model import Query

    _write(
        tmp_path,
        "compiled.csv",
        "Material,Class,SMILES,Synonyms,Application,Property,Value,Unit\n"
        "Polytetrafluoroethylene,polymer,*C(*)(F)F,Zorbalon,cardiovascular,density,2.2,g/cm3\n",
    )
    _write(tmp_path, "compiled.csv.manifest.toml", '[dataset]\nname = "compiled"\nkind = "compilation"\n')
    assert ingest_file(sqlite_engine, tmp_path / "compiled.csv").loaded
    assert ingest_file(
        sqlite_engine,
        _write(
            tmp_path,
            "curated.csv",
            "Material,Class,SMILES,Property,Value,Unit\nPTFE,polymer,*C(F)(F)C(F)(F)*,density,2.15,g/cm3\n",
        ),
    ).loaded
    backend = SqlBackend(sqlite_engine)
    assert [hit.name for hit in backend.search(Query(text="zorbalon")).results] == ["PTFE"]
    assert [hit.name for hit in backend.search(Query(text="cardiovascular")).results] == ["PTFE"]


def test_a_respelled_search_pages_on_after_a_load(sqlite_engine, tmp_path):
    """Found in review: page 2 of a respelled search failed ("the cursor belongs to another
    query") once a load had added the typed word."""
    from biomatdb_search.backends.sql import SqlBackend
    from biomatdb_search.model import Query

    rows = "".join(f"Titanium grade {i},metal,density,4.5,g/cm3\n" for i in range(5))
    assert ingest_file(sqlite_engine, _write(tmp_path, "ti.csv", "Material,Class,Property,Value,Unit\n" + rows)).loaded
    backend = SqlBackend(sqlite_engine)
    first = backend.search(Query(text="titanum", limit=2))
    assert first.spelling == {"titanum": "titanium"} and first.next_cursor
    assert ingest_file(
        sqlite_engine,
        _write(
            tmp_path, "typo.csv", "Material,Class,Property,Value,Unit\nTitanum Corp alloy,metal,density,4.4,g/cm3\n"
        ),
    ).loaded
    second = backend.search(Query(text="titanum", limit=2, cursor=first.next_cursor))
    assert second.spelling == {} and second.total == 1  # the word now matches: nothing to respell


def test_a_text_of_too_many_words_is_refused_naming_the_limit(sqlite_engine):
    from biomatdb.errors import QueryError
    from biomatdb_search.backends.sql import SqlBackend
    from biomatdb_search.model import Query

    with pytest.raises(QueryError) as refused:
        SqlBackend(sqlite_engine).search(Query(text=" ".join(f"w{i}" for i in range(40))))
    assert refused.value.type == "too-many-words" and "32" in refused.value.message
    assert SqlBackend(sqlite_engine).search(Query(text="p " * 400)).total == 0  # one word, said 400 times


def test_migration_0010_keeps_the_spelling_a_material_was_shown_by(tmp_path):
    """Found upgrading a core loaded before the rules: "PLGA 50/50", an older synonym, folds to the
    key of the name "PLGA 50:50" and took its place."""
    with _stored_before_the_rules(tmp_path) as (engine, connection):
        connection.execute(
            text(
                "INSERT INTO datasets (id, name, rows_read, created_at, updated_at) "
                "VALUES (1, 'curated', 1, '2026-01-01', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO materials (id, public_id, name, name_key, class, created_by_dataset_id, "
                "created_at, updated_at) VALUES (1, 'bm-p', 'PLGA 50:50', 'plga 50:50', 'polymer', 1, "
                "'2026-01-01', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO material_synonyms (material_id, synonym, name_key, dataset_id) "
                "VALUES (1, 'PLGA 50/50', 'plga 50/50', 1)"
            )
        )
    with engine.connect() as connection:
        assert connection.execute(select(Material.name)).scalars().all() == ["PLGA 50:50"]
        assert connection.execute(select(MaterialSynonym.synonym)).scalars().all() == ["PLGA 50:50"]
    engine.dispose()


# --- a file's rows that give material ids ------------------------------------------------

ONE_NAME_TWO_IDS = (
    "id,material,class,smiles,property,value,unit\n"
    "bm-1111111111,Polyimide (C10H4 repeat unit),polymer,*c1ccc(*)cc1,glass transition temperature,300,degC\n"
    "bm-2222222222,Polyimide (C10H4 repeat unit),polymer,*c1ccc(C*)cc1,glass transition temperature,310,degC\n"
    "bm-1111111111,Polyimide (C10H4 repeat unit),polymer,*c1ccc(*)cc1,glass transition temperature,305,degC\n"
    "bm-2222222222,Polyimide (C10H4 repeat unit),polymer,*c1ccc(C*)cc1,density,1.2,g/cm3\n"
)


@pytest.mark.parametrize("chunk_rows", [50_000, 1], ids=["one chunk", "a chunk a row"])
def test_rows_of_one_name_with_two_ids_are_two_materials(engine, tmp_path, chunk_rows):
    """An export names a repeat unit by its formula, so many of its materials share a name: the
    id column tells them apart, in one chunk or across chunks; a re-upload finds each by its id."""
    path = _write(tmp_path, "export.csv", ONE_NAME_TWO_IDS)
    report = ingest_file(engine, path, IngestOptions(dataset="ids", chunk_rows=chunk_rows))
    assert report.ok and report.materials_created == 2, report.errors[:3]
    with engine.connect() as connection:
        held = connection.execute(
            select(Material.public_id, func.count(Measurement.id))
            .join(Measurement, Measurement.material_id == Material.id)
            .group_by(Material.public_id)
            .order_by(Material.public_id)
        ).all()
    assert [tuple(row) for row in held] == [("bm-1111111111", 2), ("bm-2222222222", 2)]
    again = ingest_file(engine, path, IngestOptions(dataset="ids again", chunk_rows=chunk_rows))
    assert again.ok and again.materials_created == 0
    assert {(m["id"], m["matched_by"]) for m in again.as_dict()["materials"]} == {
        ("bm-1111111111", "id"),
        ("bm-2222222222", "id"),
    }


def test_rows_of_one_name_without_ids_are_still_one_material(sqlite_engine, tmp_path):
    body = (
        "material,class,property,value,unit\n"
        "Polyimide X,polymer,glass transition temperature,300,degC\n"
        "polyimide x,polymer,density,1.2,g/cm3\n"
    )
    report = ingest_file(sqlite_engine, _write(tmp_path, "named.csv", body))
    assert report.ok and report.materials_created == 1 and report.measurements_added == 2
