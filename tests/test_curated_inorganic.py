"""The curated metals/ceramics/glasses (wide CSV) and reference tissues (long TSV) load strictly,
every value keeps its source, and spot values match the ranges printed in the cited sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from biomatdb.catalog import find_material, material_json
from biomatdb.models import (
    CompositionComponent,
    Dataset,
    Material,
    MaterialApplication,
    Measurement,
)
from biomatdb.vocabulary.conditions import load_conditions
from biomatdb_ingest.pipeline import ingest_file
from tests.preloaded import preloaded

CURATED = Path(__file__).resolve().parent.parent / "fixtures" / "curated"
METALS_CERAMICS = CURATED / "metals-ceramics.csv"
TISSUES = CURATED / "reference-tissues.tsv"

EXPECTED = {  # file -> (rows, materials, measurements)
    METALS_CERAMICS: (131, 54, 517),
    TISSUES: (74, 13, 74),
}


@preloaded(engine="sqlite_engine")
def inorganic_curated(engine, directory):
    """Both curated inorganic files, loaded as a curator would (the first test checks how)."""
    for path in EXPECTED:
        ingest_file(engine, path)


def test_both_files_load_strictly_with_exact_counts(sqlite_engine):
    engine = sqlite_engine
    reports = {path: ingest_file(engine, path) for path in EXPECTED}
    for path, (rows, materials, measurements) in EXPECTED.items():
        report = reports[path]
        assert report.ok and report.loaded, [e.message for e in report.errors[:5]]
        assert not report.errors and not report.warnings, (report.errors[:5], report.warnings[:5])
        assert report.rows_read == rows
        assert report.materials_created == materials
        assert report.materials_updated == 0
        assert report.measurements_added == measurements
    assert sum(m for _, m, _ in EXPECTED.values()) >= 62
    assert sum(n for _, _, n in EXPECTED.values()) >= 590
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Material)) == 54 + 13
        per_dataset = dict(
            session.execute(
                select(Dataset.name, func.count(Measurement.id))
                .join(Measurement, Measurement.dataset_id == Dataset.id)
                .group_by(Dataset.name)
            ).all()
        )
        assert per_dataset == {
            "biomatdb-curated-metals-ceramics-glasses": 517,
            "biomatdb-curated-reference-tissues": 74,
        }


def test_every_measurement_has_a_source_and_every_material_its_metadata(inorganic_curated):
    engine = inorganic_curated
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Measurement).where(Measurement.source_id.is_(None))) == 0
        materials = session.scalars(select(Material)).all()
        with_applications = set(session.scalars(select(MaterialApplication.material_id)))
        with_composition = set(session.scalars(select(CompositionComponent.material_id)))
        classes: dict[str, int] = {}
        for material in materials:
            assert material.material_class in {"metal", "ceramic", "glass", "tissue"}, material.name
            assert material.id in with_applications, material.name
            assert material.biodegradable is not None, material.name
            assert material.origin in {"natural", "synthetic"}, material.name
            if material.material_class in {"metal", "glass"}:
                assert material.id in with_composition, material.name
            classes.setdefault(material.material_class, 0)
            classes[material.material_class] += 1
            if material.material_class == "tissue":
                assert material.origin == "natural" and material.biodegradable is False
        assert classes == {"metal": 32, "ceramic": 18, "glass": 4, "tissue": 13}
        # a citation, never an invented DOI: the only DOI is the one verified on the source's page
        dois = {m.source.doi for m in session.scalars(select(Measurement)) if m.source and m.source.doi}
        assert dois == {"10.3390/ijms23126551"}


def _document(engine, name: str) -> dict:
    with Session(engine) as session:
        return material_json(find_material(session, name))


def _values(
    doc: dict, prop: str, *, source: str | None = None, state: str | None = None, standard: str | None = None
) -> list[dict]:
    found = [
        m
        for m in doc["measurements"]
        if m["property"] == prop
        and (source is None or source in m["source"]["citation"])
        # a state as the fixture writes it, stored in the condition vocabulary's spelling
        and (
            state is None
            or m["conditions"].get("specimen_state") == load_conditions().canonical("specimen_state", state)
        )
        and (standard is None or m["conditions"].get("standard") == standard)
    ]
    assert found, (doc["name"], prop, source, state)
    return found


def _one(doc: dict, prop: str, **where) -> dict:
    found = _values(doc, prop, **where)
    assert len(found) == 1, found
    return found[0]


def _within(measurement: dict, low: float, high: float) -> None:
    """The stored interval lies inside the printed range [low, high]."""
    ends = [v for v in (measurement["value_min"], measurement["value_max"], measurement["value"]) if v is not None]
    assert ends and all(low - 1e-9 <= v <= high + 1e-9 for v in ends), (measurement, low, high)


# (material, property, filters, printed low, printed high) — checked against the cited source's table
SPOT_CHECKS = [
    ("Ti-6Al-4V", "youngs_modulus", {"source": "Niinomi"}, 110, 114),
    ("Ti-6Al-4V", "youngs_modulus", {"source": "Staiger"}, 110, 117),
    ("Ti-6Al-4V", "density", {"source": "Boyer"}, 4.43, 4.43),
    ("Ti-6Al-4V ELI", "tensile_strength", {"source": "Niinomi"}, 860, 965),
    ("Commercially pure titanium Grade 2", "tensile_strength", {"source": "Niinomi"}, 345, 345),
    ("Commercially pure titanium Grade 4", "youngs_modulus", {"source": "Niinomi"}, 104.1, 104.1),
    ("Ti-13Nb-13Zr", "youngs_modulus", {"source": "Niinomi"}, 79, 84),
    ("Ti-35Nb-7Zr-5Ta", "youngs_modulus", {"source": "Niinomi"}, 55, 55),
    ("NiTi (Nitinol)", "youngs_modulus", {"state": "austenite"}, 83, 83),
    ("NiTi (Nitinol)", "youngs_modulus", {"state": "martensite"}, 28, 41),
    ("NiTi (Nitinol)", "density", {}, 6.45, 6.45),
    ("316L stainless steel", "youngs_modulus", {"source": "Staiger"}, 189, 205),
    ("Tantalum", "density", {"source": "CRC"}, 16.4, 16.4),
    ("Magnesium", "youngs_modulus", {"source": "Staiger"}, 41, 45),
    ("Mg-1Ca", "tensile_strength", {"state": "as cast"}, 71.38, 71.38),
    ("Alumina", "density", {"source": "Kohn"}, 3.93, 3.95),
    ("Alumina", "youngs_modulus", {"source": "Piconi"}, 380, 380),
    ("Yttria-stabilised zirconia (3Y-TZP)", "flexural_strength", {"source": "Piconi"}, 900, 900),
    ("Hydroxyapatite, dense", "youngs_modulus", {"source": "Hench"}, 80, 110),
    ("Hydroxyapatite, dense", "ca_p_ratio", {}, 1.67, 1.67),
    ("beta-Tricalcium phosphate", "density", {"source": "LeGeros"}, 3.07, 3.07),
    ("45S5 Bioglass", "youngs_modulus", {}, 35, 35),
    ("Apatite-wollastonite glass-ceramic (A-W)", "flexural_strength", {}, 215, 215),
    ("13-93 bioactive glass", "porosity", {}, 83, 87),
    ("Silicon nitride", "fracture_toughness", {"state": "dense, 90Si3N4-6Y2O3-4Al2O3"}, 9, 11),
    ("Cortical bone", "youngs_modulus", {"source": "Hench"}, 7, 30),
    ("Cortical bone", "youngs_modulus", {"state": "human femur, wet, longitudinal"}, 14.0, 21.8),
    ("Cortical bone", "compressive_strength", {"source": "Hench"}, 100, 230),
    ("Cancellous bone", "youngs_modulus", {"source": "Hench"}, 0.05, 0.5),
    ("Enamel", "youngs_modulus", {"source": "Craig"}, 84.1, 84.1),
    ("Dentin", "youngs_modulus", {"source": "Kinney"}, 20, 25),
    ("Skin", "tensile_strength", {}, 21.6, 21.6),
    ("Tendon", "tensile_strength", {"state": "human Achilles tendon, strain rate 1%/s"}, 71, 71),
    ("Articular cartilage", "compressive_modulus", {"source": "Keenan"}, 0.00048, 0.00158),  # GPa
    # additions: WE43 (Magnesium Elektron / Luxfer data), Pt-Ir, fatigue and physical data
    ("WE43", "density", {"source": "datasheet 467"}, 1.84, 1.84),
    ("WE43", "thermal_conductivity", {"source": "datasheet 467"}, 51.3, 51.3),
    ("WE43", "youngs_modulus", {"state": "Elektron 43 (WE43C), wrought"}, 44.1, 44.1),
    ("WE43", "yield_strength", {"state": "Elektron 43 (WE43C), extruded, T5"}, 195, 195),  # >= 195 MPa
    ("Platinum-iridium (90/10)", "tensile_strength", {}, 550, 550),
    ("Ti-6Al-7Nb", "fatigue_strength", {"source": "Okazaki"}, 600, 600),  # ~600 MPa at 1e8 cycles
    ("Ti-6Al-4V", "fatigue_strength", {"source": "Lumina"}, 570, 620),
    ("316L stainless steel", "fatigue_strength", {"source": "MakeItFrom", "state": "annealed"}, 170, 170),
    ("CoCrMo wrought alloy (ASTM F1537)", "fatigue_strength", {}, 400, 400),
    ("AZ31", "tensile_strength", {"state": "AZ31B, annealed"}, 255, 255),
    ("AZ31", "shear_strength", {"state": "AZ31B, hard rolled"}, 115, 115),
]


def test_spot_values_match_the_cited_sources(inorganic_curated):
    engine = inorganic_curated
    assert len(SPOT_CHECKS) >= 18
    for name, prop, where, low, high in SPOT_CHECKS:
        _within(_one(_document(engine, name), prop, **where), low, high)


def test_units_conditions_and_bounds_are_kept(inorganic_curated):
    engine = inorganic_curated
    eli = _document(engine, "Ti-6Al-4V ELI")
    astm = _one(eli, "yield_strength", standard="ASTM F136")
    assert (astm["qualifier"], astm["value_min"], astm["value_max"]) == (">=", 795, None)
    assert astm["notes"] == "specification minimum"
    ti64 = _document(engine, "Ti-6Al-4V")
    melting = _one(ti64, "melting_temperature")
    assert melting["unit"] == "K" and melting["value_min"] == pytest.approx(1604 + 273.15)
    assert {c["component"] for c in ti64["composition"]} == {"Ti", "Al", "V", "Fe", "O"}
    al = next(c for c in ti64["composition"] if c["component"] == "Al")
    assert (al["fraction"], al["fraction_max"], al["basis"]) == (5.5, 6.75, "wt")
    # the same material written on several rows, one per source, is one material
    assert {m["source"]["citation"].split(".")[0] for m in ti64["measurements"]} >= {
        "Niinomi M",
        "Staiger MP, Pietak AM, Huadmai J, Dias G",
    }
    steel = _document(engine, "316L stainless steel")
    assert _one(steel, "tensile_strength", state="cold-worked")["value_min"] == 860
    assert _one(steel, "tensile_strength", state="annealed", standard="ASTM F138")["value_min"] == 490
    glass = _document(engine, "45S5 Bioglass")
    assert {c["component"]: c["fraction"] for c in glass["composition"]} == {
        "SiO2": 45,
        "Na2O": 24.5,
        "CaO": 24.5,
        "P2O5": 6,
    }
    hardness = _one(_document(engine, "Tantalum"), "hardness_vickers")  # written in MPa, stored in HV
    assert hardness["unit"] == "HV" and hardness["value"] == pytest.approx(873 / 9.80665, rel=1e-3)
    bone = _document(engine, "Cortical bone")
    toughness = _one(bone, "fracture_toughness", source="Hench")
    assert toughness["unit"] == "MPa*m**0.5" and (toughness["value_min"], toughness["value_max"]) == (2, 12)
    wet = _one(bone, "youngs_modulus", state="human femur, wet, longitudinal")
    assert (wet["value"], wet["uncertainty"]) == (17.9, 3.9)
    brain = _values(_document(engine, "brain"), "youngs_modulus")  # found by synonym; stored in GPa
    assert sorted(round(m["value"] * 1e6, 3) for m in brain) == [1.389, 1.895]  # kPa
    assert _document(engine, "S53P4")["composition"]  # a material with no values still has its metadata
