"""Chemistry search through the in-process RDKit index: substructure, similarity, the
time budget, and refreshing when the core changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from biomatdb.errors import QueryError
from biomatdb_ingest.pipeline import ingest_file
from biomatdb_search.chemistry import ChemistryIndex
from tests.preloaded import preloaded

SEMANTICS_CSV = Path(__file__).parent / "data" / "search_semantics.csv"


@preloaded(engine="sqlite_engine")
def chemistry_core(engine, directory):
    assert ingest_file(engine, SEMANTICS_CSV).ok


def _material_ids(engine, *names):
    from sqlalchemy import select

    from biomatdb.models import Material

    with engine.connect() as connection:
        return {row.id for row in connection.execute(select(Material.id).where(Material.name.in_(names)))}


def test_substructure_finds_the_repeat_unit_that_contains_the_pattern(chemistry_core):
    index = ChemistryIndex(chemistry_core)
    assert set(index.substructure("c1ccccc1")) == _material_ids(chemistry_core, "Beta")
    assert set(index.substructure("[CH](C)C(=O)")) == _material_ids(chemistry_core, "Alpha")
    assert index.substructure("[Si]") == {}


def test_attachment_points_are_atoms_a_pattern_can_name(chemistry_core):
    index = ChemistryIndex(chemistry_core)
    # in PLA's repeat unit *O[C@@H](C)C(=O)* the carbonyl carbon is bonded to an attachment point
    assert set(index.substructure("*C(=O)")) == _material_ids(chemistry_core, "Alpha")
    assert set(index.substructure("[#0]c")) == set()  # styrene's ring is not at an attachment point


def test_similarity_scores_are_tanimoto_and_thresholded(chemistry_core):
    index = ChemistryIndex(chemistry_core)
    exact = index.similarity("*O[C@@H](C)C(=O)*", 0.7)
    assert exact == {next(iter(_material_ids(chemistry_core, "Alpha"))): 1.0}
    loose = index.similarity("*CC(*)c1ccccc1C", 0.3)
    assert set(loose) == _material_ids(chemistry_core, "Beta") and 0.3 <= next(iter(loose.values())) < 1.0


def test_the_index_is_rebuilt_when_the_core_changes(chemistry_core, tmp_path):
    index = ChemistryIndex(chemistry_core)
    assert index.substructure("[Si]") == {}
    more = tmp_path / "silicone.csv"
    more.write_text("Material,Class,SMILES,density [g/cm3]\nPDMS,polymer,*O[Si](C)(C)*,0.97\n", encoding="utf-8")
    assert ingest_file(chemistry_core, more).ok
    assert set(index.substructure("[Si]")) == _material_ids(chemistry_core, "PDMS")


def test_a_search_that_outruns_its_time_budget_says_so(chemistry_core):
    index = ChemistryIndex(chemistry_core, budget_s=0.0)
    with pytest.raises(QueryError, match="time budget") as raised:
        index.substructure("c1ccccc1")
    assert raised.value.type == "search-timeout"


def test_invalid_patterns_are_query_errors(chemistry_core):
    index = ChemistryIndex(chemistry_core)
    with pytest.raises(QueryError):
        index.substructure("c1cc(")
    with pytest.raises(QueryError):
        index.similarity("C1CC", 0.5)


def test_the_index_is_built_from_stored_data_without_parsing_a_structure(chemistry_core, monkeypatch):
    from biomatdb_search import chemistry

    def refuse(*_args, **_kwargs):
        raise AssertionError("the index parsed a stored structure")

    index = ChemistryIndex(chemistry_core)
    with monkeypatch.context() as patched:
        patched.setattr(chemistry.Chem, "MolFromSmiles", refuse)
        index.snapshot()
    built = index._snapshot
    assert set(index.substructure("c1ccccc1")) == _material_ids(chemistry_core, "Beta")
    assert index.similarity("*O[C@@H](C)C(=O)*", 0.7) == {next(iter(_material_ids(chemistry_core, "Alpha"))): 1.0}
    assert index._snapshot is built


def test_structures_stored_without_fingerprints_get_them_at_build(chemistry_core):
    from sqlalchemy import update

    from biomatdb.models import ChemicalStructure

    with chemistry_core.begin() as connection:
        connection.execute(update(ChemicalStructure).values(fingerprint=None, pattern_fingerprint=None))
    index = ChemistryIndex(chemistry_core)
    assert set(index.substructure("c1ccccc1")) == _material_ids(chemistry_core, "Beta")
    assert set(index.similarity("*O[C@@H](C)C(=O)*", 0.7)) == _material_ids(chemistry_core, "Alpha")


def test_the_index_is_kept_until_the_core_generation_moves(chemistry_core, tmp_path):
    from biomatdb_ingest.retract import retract_dataset

    index = ChemistryIndex(chemistry_core)
    index.warm().join(60)
    first = index._snapshot
    assert first is not None  # built in the background, before any query
    index.substructure("c1ccccc1")
    assert index._snapshot is first
    more = tmp_path / "silicone.csv"
    more.write_text("Material,Class,SMILES,density [g/cm3]\nPDMS,polymer,*O[Si](C)(C)*,0.97\n", encoding="utf-8")
    assert ingest_file(chemistry_core, more).loaded
    assert set(index.substructure("[Si]")) == _material_ids(chemistry_core, "PDMS")
    second = index._snapshot
    assert second is not first
    with chemistry_core.begin() as connection:
        from sqlalchemy import select

        from biomatdb.models import Dataset

        retract_dataset(
            connection, connection.execute(select(Dataset.id).where(Dataset.name == "silicone")).scalar_one()
        )
    assert index.substructure("[Si]") == {}
    assert index._snapshot is not second


def test_tanimoto_over_packed_bits_is_rdkits_bulk_tanimoto(fixtures_sqlite):
    """The index's numpy Tanimoto gives the same doubles as RDKit's BulkTanimotoSimilarity, for
    every structure of the fixtures against probes that share many, few and no bits with them."""
    from rdkit import DataStructs

    from biomatdb.chemistry import unpacked_fingerprint
    from biomatdb.db import make_engine
    from biomatdb_search.chemistry import query_fingerprint, tanimoto

    engine = make_engine(f"sqlite:///{fixtures_sqlite.location}")
    try:
        snapshot = ChemistryIndex(engine).snapshot()
    finally:
        engine.dispose()
    assert len(snapshot.fingerprints) > 1000
    vectors = [unpacked_fingerprint(row.tobytes()) for row in snapshot.fingerprints]
    for smiles in ("*CC(*)c1ccccc1", "*OC(C)C(=O)*", "*O[Si](C)(C)*", "[Na+].[Cl-]", "*"):
        probe = query_fingerprint(smiles)
        expected = DataStructs.BulkTanimotoSimilarity(unpacked_fingerprint(probe), vectors)
        assert tanimoto(snapshot.fingerprints, snapshot.fingerprint_counts, probe).tolist() == expected


def test_migration_0012_packs_fingerprints_stored_as_rdkit_text(sqlite_engine):
    """A core whose fingerprints were stored in RDKit's binary text (before 0012) answers the same
    similarity after the migration, and the migration down writes the text form back."""
    from alembic import command
    from rdkit import DataStructs
    from sqlalchemy import select

    from biomatdb.chemistry import packed_fingerprint, unpacked_fingerprint
    from biomatdb.db import alembic_config, core_generation
    from biomatdb.models import ChemicalStructure

    assert ingest_file(sqlite_engine, SEMANTICS_CSV).ok
    with sqlite_engine.connect() as connection:
        packed = dict(connection.execute(select(ChemicalStructure.id, ChemicalStructure.fingerprint)).all())
    expected = ChemistryIndex(sqlite_engine).similarity("*CC(*)c1ccccc1C", 0.3)
    config = alembic_config(sqlite_engine)
    with sqlite_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
    with sqlite_engine.connect() as connection:
        texts = dict(connection.execute(select(ChemicalStructure.id, ChemicalStructure.fingerprint)).all())
        before = core_generation(connection)
    assert texts.keys() == packed.keys()
    for structure_id, text in texts.items():
        assert text == DataStructs.BitVectToBinaryText(unpacked_fingerprint(packed[structure_id]))
    with sqlite_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with sqlite_engine.connect() as connection:
        assert dict(connection.execute(select(ChemicalStructure.id, ChemicalStructure.fingerprint)).all()) == packed
        assert core_generation(connection) != before
    assert {structure_id: len(bits) for structure_id, bits in packed.items()} == dict.fromkeys(packed, 256)
    assert packed_fingerprint(unpacked_fingerprint(next(iter(packed.values())))) == next(iter(packed.values()))
    assert ChemistryIndex(sqlite_engine).similarity("*CC(*)c1ccccc1C", 0.3) == expected
