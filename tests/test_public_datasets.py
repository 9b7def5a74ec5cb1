"""The open public datasets in fixtures/ load as they are, strictly, through their manifests."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from biomatdb.catalog import find_material, material_json
from biomatdb.models import Material, Measurement
from biomatdb_ingest.pipeline import ingest_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BICERANO = FIXTURES / "bicerano-afzal" / "HT_MD_polymer_properties.csv"
POLYMETRIX = FIXTURES / "polymetrix-tg" / "Polymer_Tg.csv"


def test_fixture_copies_are_byte_for_byte_the_shared_data():
    import hashlib

    for path, sha in (
        (BICERANO, "6dfb0c92fb2be0e4e4f49ec2f7239d7986dd0d946e7846d1513a77ca95715fe0"),
        (POLYMETRIX, "89c500a8df1381c855e691c75849ee6c6e7a19f20a62efc35f7d57e85fc8184a"),
    ):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
        assert (path.parent / "SOURCE.txt").exists()


@pytest.mark.slow
def test_both_public_datasets_load_strictly_and_share_materials(engine):
    started = time.perf_counter()
    first = ingest_file(engine, BICERANO)
    second = ingest_file(engine, POLYMETRIX)
    print(f"public datasets loaded in {time.perf_counter() - started:.1f} s")
    assert first.ok and first.loaded, first.errors[:5]
    assert second.ok and second.loaded, second.errors[:5]
    # Afzal's "Poly(vinyl acetal)" row carries PVAc's structure: one material under the identity
    # rules (a compilation's two names for one structure do not make two materials)
    assert (first.rows_read, first.materials_created, first.measurements_added) == (315, 314, 1601)
    assert (second.rows_read, second.measurements_added) == (7252, 7252)
    assert second.materials_updated > 0  # the same repeat unit in both datasets is one material
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Material)) == 314 + second.materials_created
        assert session.scalar(select(func.count()).select_from(Measurement).where(Measurement.source_id.is_(None))) == 0
        pdms = material_json(find_material(session, "Poly(dimethyl siloxane)"))
    by_method = {(m["property"], m["conditions"].get("method")): m for m in pdms["measurements"]}
    assert by_method[("glass_transition_temperature", "experimental")]["value"] == 152
    calculated = by_method[("glass_transition_temperature", "calculated (MD simulation)")]
    assert calculated["uncertainty"] == 51.1217472645399  # the calculated std. dev. is its uncertainty
    assert by_method[("density", "experimental")]["conditions"]["temperature_K"] == 300
    assert {m["dataset"] for m in pdms["measurements"]} == {"bicerano-afzal-2021", "polymetrix-tg"}
    assert pdms["structure"]["smiles"] == "*O[Si](*)(C)C"  # [Ce]/[Th] placeholders became attachment points
