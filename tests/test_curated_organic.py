"""The curated organic reference data (synthetic polymers; hydrogels, natural materials and composites)
load strictly, completely described and cited, with values inside the ranges their sources print."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from biomatdb.models import CompositionComponent, Material, MaterialApplication, Measurement, Source
from biomatdb_ingest.pipeline import ingest_file
from tests.preloaded import preloaded

CURATED = Path(__file__).resolve().parent.parent / "fixtures" / "curated"
POLYMERS = CURATED / "polymers.csv"
ORGANIC_XLSX = CURATED / "hydrogels-natural-composites.xlsx"

EXPECTED = {  # file -> (materials, measurements)
    POLYMERS: (37, 312),
    ORGANIC_XLSX: (34, 125),
}


def _load(engine, path):
    report = ingest_file(engine, path)
    assert report.ok and report.loaded, report.errors[:5]
    assert not report.errors and not report.warnings, (report.errors[:5], report.warnings[:5])
    return report


@preloaded(engine="sqlite_engine")
def both_curated(engine, directory):
    """Both curated organic files, loaded strictly."""
    for path in (POLYMERS, ORGANIC_XLSX):
        _load(engine, path)


@pytest.mark.parametrize("path", [POLYMERS, ORGANIC_XLSX], ids=lambda p: p.name)
def test_curated_file_loads_strictly_with_exact_counts(sqlite_engine, path):
    report = _load(sqlite_engine, path)
    materials, measurements = EXPECTED[path]
    assert (report.materials_created, report.measurements_added) == (materials, measurements)
    with Session(sqlite_engine) as session:
        assert session.scalar(select(func.count()).select_from(Material)) == materials
        assert session.scalar(select(func.count()).select_from(Measurement)) == measurements
        # every measurement names its source
        assert session.scalar(select(func.count()).select_from(Measurement).where(Measurement.source_id.is_(None))) == 0
        assert (session.scalar(select(func.count()).select_from(Source)) or 0) >= 5
        for material in session.scalars(select(Material)):
            assert material.material_class, material.name
            assert material.biodegradable is not None, material.name
            assert material.origin in ("natural", "synthetic"), material.name
            applications = session.scalar(
                select(func.count())
                .select_from(MaterialApplication)
                .where(MaterialApplication.material_id == material.id)
            )
            assert (applications or 0) >= 1, material.name
            if path == POLYMERS:
                assert material.material_class == "polymer", material.name
                assert material.structure_id is not None, material.name
            if material.material_class == "composite":
                components = session.scalar(
                    select(func.count())
                    .select_from(CompositionComponent)
                    .where(CompositionComponent.material_id == material.id)
                )
                assert (components or 0) >= 2, material.name


def test_both_files_together_keep_materials_apart(both_curated):
    sqlite_engine = both_curated
    with Session(sqlite_engine) as session:
        assert session.scalar(select(func.count()).select_from(Material)) == 71
        assert session.scalar(select(func.count()).select_from(Measurement)) == 437
        # CFR-PEEK is a composite of its own, not merged into PEEK
        cfr = session.scalars(select(Material).where(Material.name == "CFR-PEEK")).one()
        assert cfr.material_class == "composite"
        components = session.scalars(
            select(CompositionComponent)
            .where(CompositionComponent.material_id == cfr.id)
            .order_by(CompositionComponent.position)
        ).all()
        assert [(c.component, c.is_balance, c.fraction, c.basis) for c in components] == [
            ("PEEK", True, None, "wt"),
            ("carbon fibre", False, 30.0, "wt"),
        ]


def test_new_composites_carry_their_composition_and_doi(sqlite_engine):
    _load(sqlite_engine, ORGANIC_XLSX)
    with Session(sqlite_engine) as session:
        hac = session.scalars(select(Material).where(Material.name == "HA/collagen composite")).one()
        components = session.scalars(
            select(CompositionComponent)
            .where(CompositionComponent.material_id == hac.id)
            .order_by(CompositionComponent.position)
        ).all()
        # collagen:HA 1:1 to 1:4 by weight (Kane & Roeder 2012)
        assert [(c.component, c.is_balance, c.fraction, c.fraction_max) for c in components] == [
            ("collagen", True, None, None),
            ("hydroxyapatite", False, 50.0, 80.0),
        ]
        bg = _values(session, "Bioglass/PCL composite", "mass_loss", "Poh")[0]
        assert bg.source is not None and bg.source.doi == "10.1088/1758-5082/5/4/045005" and bg.medium == "5 M NaOH"
        assert bg.value == pytest.approx(12.1) and bg.uncertainty == pytest.approx(1.0)


def _values(session, material: str, prop: str, source_contains: str | None = None) -> list[Measurement]:
    query = (
        select(Measurement)
        .join(Material, Measurement.material_id == Material.id)
        .where(Material.name == material, Measurement.property_key == prop)
    )
    if source_contains is not None:
        query = query.join(Source, Measurement.source_id == Source.id).where(Source.citation.contains(source_contains))
    found = session.scalars(query).all()
    assert found, (material, prop, source_contains)
    return found


def _within(measurement: Measurement, low: float, high: float) -> bool:
    ends = [v for v in (measurement.value, measurement.value_min, measurement.value_max) if v is not None]
    return all(low - 1e-9 <= v <= high + 1e-9 for v in ends)


C = 273.15  # temperatures are stored in kelvin

SPOT_CHECKS = [
    # material, property, source fragment, low, high (canonical units), printed range in the source
    ("PLLA", "glass_transition_temperature", "Middleton", 55 + C, 65 + C),  # 60–65 °C
    ("PLLA", "melting_temperature", "Middleton", 173 + C, 178 + C),  # 173–178 °C
    ("PLLA", "degradation_time", "Middleton", 24 * 30, 24 * 31),  # > 24 months (lower bound)
    ("PDLLA", "glass_transition_temperature", "Middleton", 55 + C, 60 + C),  # 55–60 °C
    ("PLGA 50:50", "degradation_time", "Middleton", 28, 62),  # 1–2 months
    ("PLGA 85:15", "glass_transition_temperature", "Middleton", 50 + C, 55 + C),  # 50–55 °C
    ("PGA", "melting_temperature", "Middleton", 225 + C, 230 + C),  # 225–230 °C
    ("PGA", "degradation_time", "Middleton", 6 * 30, 12 * 31),  # 6–12 months
    ("PGA", "youngs_modulus", "Middleton", 7.0, 7.0),  # 7.0 GPa
    ("PCL", "melting_temperature", "Middleton", 58 + C, 65 + C),  # 58–63 °C
    ("PCL", "glass_transition_temperature", "Woodruff", -65 + C, -60 + C),  # (−65)–(−60) °C
    ("PCL", "youngs_modulus", "Woodruff", 0.21, 0.44),  # 0.21–0.44 GPa
    ("PDO", "glass_transition_temperature", "Middleton", -10 + C, 0 + C),  # (−10)–0 °C
    ("PEEK", "youngs_modulus", "Kurtz", 3.0, 4.0),  # 3–4 GPa
    ("PEEK", "glass_transition_temperature", "Callister", 143 + C, 143 + C),  # 143 °C
    ("UHMWPE", "tensile_strength", "UHMWPE Handbook", 39, 48),  # 39–48 MPa
    ("UHMWPE", "melting_temperature", "UHMWPE Handbook", 125 + C, 138 + C),  # 125–138 °C
    ("UHMWPE", "density", "UHMWPE Handbook", 0.925, 0.945),  # specific gravity 0.925–0.945
    ("PTFE", "melting_temperature", "Callister", 327 + C, 327 + C),  # 327 °C
    ("PTFE", "water_contact_angle", "Fox HW", 108, 108),  # 108°
    ("PMMA", "youngs_modulus", "Callister", 2.24, 3.24),  # 2.24–3.24 GPa
    ("PET", "glass_transition_temperature", "Callister", 69 + C, 69 + C),  # 69 °C
    ("PP", "thermal_expansion_coefficient", "Callister", 146, 180),  # 146–180 ×10⁻⁶/°C
    ("PMMA bone cement", "compressive_strength", "ISO 5833", 70, 70),  # ≥ 70 MPa
    ("Silk fibroin (B. mori, degummed)", "tensile_strength", "Altman", 610, 740),  # 610–690 and 740 MPa
    ("Collagen type I", "tensile_strength", "Altman", 0.9, 7.4),  # 0.9–7.4 MPa
    ("Elastin", "youngs_modulus", "Gosline", 0.0011, 0.0011),  # 1.1 MPa
    ("Alginate", "molecular_weight", "Lee KY", 32, 400),  # 32 000–400 000 g/mol
    ("HA whisker/PEEK 40 vol%", "youngs_modulus", "Converse", 16, 18),  # 16–18 GPa
    ("Polyacrylamide hydrogel", "youngs_modulus", "Engler", 1e-6, 34e-6),  # 1, 11, 34 kPa
    # additions
    ("PEG", "melting_temperature", "Pharmaceutical Excipients", 4 + C, 63 + C),  # PEG 400 4–8 ... PEG 8000 60–63 °C
    ("PEG", "density", "Pharmaceutical Excipients", 1.11, 1.21),  # 1.11–1.14 (liquid), 1.15–1.21 (solid)
    ("Polycarbonate", "tensile_strength", "Callister", 62.8, 72.4),  # 62.8–72.4 MPa
    ("LDPE", "elongation_at_break", "Callister", 100, 650),  # 100–650 %
    ("PEEK", "yield_strength", "Callister", 91, 91),  # 91 MPa
    ("PMMA", "water_contact_angle", "Diversified", 70.9, 70.9),  # 70.9°
    ("HDPE", "water_contact_angle", "Diversified", 96, 96),  # 96° (polyethylene)
    ("Pellethane 2363-80A", "hardness_shore_a", "DSM", 85, 85),  # 85A
    ("Pellethane 2363-75D", "hardness_shore_d", "DSM", 76, 76),  # 76D
    ("Pellethane 2363-55D", "tensile_strength", "DSM", 47.5, 47.6),  # 6900 psi
    ("ePTFE", "pore_size", "Golden", 30, 60),  # 30 and 60 µm internodal distance
    ("Fibrin", "elongation_at_break", "Liu W", 150, 330),  # 150 %, 230 %, 330 % (avg)
    ("Fibrin", "youngs_modulus", "Carlisle", 0.0019, 0.008),  # 1.9–8.0 MPa
    ("PEGDA hydrogel", "compressive_modulus", "Nguyen", 1e-5, 2.46e-3),  # 0.01–2.46 MPa
    ("GelMA", "compressive_modulus", "Bioprinting", 15e-6, 27e-6),  # 21 ± 6 kPa
    ("pHEMA hydrogel", "water_uptake", "Maldonado-Codina", 38, 38),  # 38 % EWC (polymacon)
    # values for materials that had none, and the new composites
    ("Gelatin", "molecular_weight", "Pharmaceutical Excipients", 20, 200),  # 20 000–200 000
    ("Gelatin", "molecular_weight", "Great Lakes", 15, 400),  # 15,000 to 400,000
    ("Gelatin", "density", "Great Lakes", 1.3, 1.4),  # relative density 1.3–1.4
    ("Hyaluronic acid", "molecular_weight", "Cowman", 1000, 8000),  # approximately 1000–8000 kDa
    ("Decellularised ECM", "youngs_modulus", "Yoder", 0.018, 0.018),  # 18 MPa linear-region modulus
    ("Bioglass/PCL composite", "mass_loss", "Poh", 11.1, 13.1),  # 12.1 ± 1 % (1 day, 5 M NaOH)
    ("Bioglass/PCL composite", "porosity", "Poh", 75, 75),  # ~75 %
    ("HA/collagen composite", "compressive_modulus", "Kane", 20e-6, 200e-6),  # ~20 kPa (1:1) and ~200 kPa (1:4)
    ("HA/collagen composite", "porosity", "Kane", 90, 96),  # 90–96 %
    ("HA/collagen composite", "pore_size", "Kane", 50, 50),  # ~50 µm pore width
]


@pytest.mark.parametrize(
    ("material", "prop", "source", "low", "high"), SPOT_CHECKS, ids=[f"{c[0]}:{c[1]}" for c in SPOT_CHECKS]
)
def test_spot_values_match_the_printed_ranges(both_curated, material, prop, source, low, high):
    sqlite_engine = both_curated
    with Session(sqlite_engine) as session:
        for measurement in _values(session, material, prop, source):
            assert _within(measurement, low, high), (
                measurement.verbatim_value,
                measurement.value_min,
                measurement.value_max,
            )


def test_units_are_canonical_and_conditions_kept(both_curated):
    sqlite_engine = both_curated
    with Session(sqlite_engine) as session:
        tg = _values(session, "PLLA", "glass_transition_temperature", "Middleton")[0]
        assert tg.unit == "K" and tg.method == "DSC" and tg.qualifier == "range"
        degradation = _values(session, "PLLA", "degradation_time", "Middleton")[0]
        assert degradation.qualifier == ">" and degradation.unit == "day"
        wet = [
            m
            for m in _values(session, "Nylon 6,6", "tensile_strength")
            if m.specimen_state and "humidity" in m.specimen_state
        ]
        dry = [
            m
            for m in _values(session, "Nylon 6,6", "tensile_strength")
            if m.specimen_state and "dry" in m.specimen_state
        ]
        assert wet[0].value is not None and dry[0].value is not None
        assert wet[0].value < dry[0].value  # 75.9 MPa conditioned vs 94.5 MPa dry
        cement = _values(session, "PMMA bone cement", "flexural_modulus")[0]
        assert cement.qualifier == ">=" and cement.standard == "ISO 5833" and cement.value_min == pytest.approx(1.8)
        film = _values(session, "Silk fibroin film", "tensile_strength")
        assert {m.specimen_state for m in film} == {
            "as-cast",
            "methanol-treated",
            "water-annealed",
        }  # "as cast" in the vocabulary's spelling
        assert all(m.source is not None and m.source.doi == "10.1039/c8cs00187a" for m in film)


@pytest.mark.slow
def test_grades_sharing_a_repeat_unit_stay_apart_after_a_public_dataset(sqlite_engine):
    public = CURATED.parent / "bicerano-afzal" / "HT_MD_polymer_properties.csv"
    assert ingest_file(sqlite_engine, public).ok
    _load(sqlite_engine, POLYMERS)
    with Session(sqlite_engine) as session:
        ids = {
            name: session.scalars(
                select(Measurement.material_id)
                .join(Material, Measurement.material_id == Material.id)
                .where(Measurement.source_column.is_not(None), Measurement.verbatim_value == value)
            ).first()
            for name, value in (("UHMWPE", "350–525"), ("HDPE", "10–1200"), ("LDPE", "0.172–0.282"))
        }
        assert len(set(ids.values())) == 3, ids
