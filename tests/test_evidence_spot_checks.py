"""The seventy-three records of fixtures/evidence/spot-checks.md are, once the fixtures are loaded, what the
spot checks say their sources state: endpoint, outcome, kind, test system and value.

The session core (tests/cores.py, ``fixtures_sqlite``) loads every folder of fixtures/ through
``load_fixtures``, the evidence file after the curated materials it cites. Each spot check is found
in it by its material, endpoint and verbatim result; the table below is the reviewer's reading of
spot-checks.md, and a test keeps it and the document in step.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb.db import make_engine
from biomatdb.models import BiologicalEvaluation, Dataset, Material, Measurement
from biomatdb.vocabulary.test_systems import load_test_systems

EVIDENCE = Path(__file__).resolve().parent.parent / "fixtures" / "evidence"
DATASET = "biomatdb-curated-biological-evaluation"


@dataclass(frozen=True)
class Spot:
    number: int
    material: str
    endpoint: str
    outcome: str | None
    kind: str
    model_key: str | None  # the test system's vocabulary key; None for a cohort or no model
    species: str | None
    # property, qualifier, value, lower and upper end, canonical unit
    value: tuple[str, str, float | None, float | None, float | None, str] | None = None


SPOT_CHECKS = [
    Spot(1, "NiTi (Nitinol)", "cytotoxicity", "non_cytotoxic", "in vitro", "osteoblast", None),
    Spot(2, "Magnesium", "in_vivo_degradation", "gas_formation", "clinical", None, None),
    Spot(3, "UHMWPE", "inflammatory_response", "osteolysis", "clinical", None, None),
    Spot(4, "PLLA", "implantation", "osteolysis", "clinical", None, None),
    Spot(5, "PEEK", "osseointegration", None, "in vivo", "rabbit", "rabbit"),
    Spot(6, "beta-Tricalcium phosphate", "osteogenic_differentiation", None, "clinical", None, None),
    Spot(7, "Yttria-stabilised zirconia (3Y-TZP)", "antibacterial_activity", None, "clinical", None, None),
    Spot(8, "Ti-6Al-4V ELI", "cell_proliferation", "increased", "in vitro", "mg_63", "human"),
    Spot(9, "CoCrMo cast alloy (ASTM F75)", "genotoxicity", "non_genotoxic", "in vitro", None, None),
    Spot(10, "Hydroxyapatite, dense", "haemocompatibility", None, "in vitro", "rabbit_whole_blood", "rabbit",
         ("hemolysis", ">", None, 5.0, None, "%")),
    Spot(11, "PCL", "systemic_toxicity", None, "in vivo", "rat", "rat"),
    Spot(12, "Tantalum", "cell_adhesion", "increased", "in vitro", "osteoblast", None),
    Spot(13, "PEG", "reproductive_toxicity", None, "in vivo", None, None),
    Spot(14, "Chitosan", "irritation", "non_irritant", "in vivo", "rabbit", "rabbit"),
    Spot(15, "Hyaluronic acid", "sensitisation", "sensitising", "clinical", None, None),
    Spot(16, "Apatite-wollastonite glass-ceramic (A-W)", "bioactivity", "bioactive", "in vitro", None, None),
    Spot(17, "Silk fibroin (B. mori, degummed)", "angiogenesis", "vascularised", "in vivo", "rat", "rat"),
    Spot(18, "PVC", "carcinogenicity", "carcinogenic", "in vivo", None, None),
    Spot(19, "Ti-6Al-4V", "pyrogenicity", "pass", "in vivo", None, None),
    Spot(20, "PDLLA", "inflammatory_response", "foreign_body_reaction", "in vivo", "rabbit", "rabbit"),
    Spot(21, "Biphasic calcium phosphate (HA/β-TCP 60/40)", "osseointegration", "osseointegrated", "in vivo",
         "rabbit", "rabbit"),
    Spot(22, "PMMA bone cement", "cytotoxicity", None, "in vitro", "osteoblast", None),
    Spot(23, "PDMS", "implantation", "fibrous_encapsulation", "clinical", None, None),
    Spot(24, "Alumina", "osteogenic_differentiation", "decreased", "in vitro", "mc3t3_e1_subclone_14", "mouse"),
    Spot(25, "PLGA 50:50", "inflammatory_response", "foreign_body_reaction", "in vivo", None, None),
    Spot(26, "Silver", "antibacterial_activity", "antibacterial", "in vitro", None, None),
    Spot(27, "45S5 Bioglass", "antibacterial_activity", None, "in vitro", None, None),
    Spot(28, "S53P4 bioactive glass", "antibacterial_activity", "antibacterial", "in vitro", None, None),
    Spot(29, "Mg-1Ca", "cytotoxicity", "non_cytotoxic", "in vitro", "l929", "mouse"),
    Spot(30, "Zinc", "in_vivo_degradation", "partially_resorbed", "in vivo", "rabbit", "rabbit"),
    Spot(31, "WE43", "in_vivo_degradation", "gas_formation", "in vivo", None, None),
    Spot(32, "WE43", "cytotoxicity", "cytotoxic", "in vitro", None, None),
    Spot(33, "PMMA bone cement", "implantation", None, "clinical", None, None),
    Spot(34, "PMMA bone cement", "systemic_toxicity", None, "in vivo", "mouse", "mouse"),
    Spot(35, "Collagen type I, cross-linked", "cytotoxicity", "cytotoxic", "in vitro", "thp_1", "human"),
    Spot(36, "Alumina", "osseointegration", None, "in vivo", "rat", "rat"),
    Spot(37, "Alumina", "implantation", "well_tolerated", "in vivo", "rabbit", "rabbit"),
    Spot(38, "Commercially pure titanium Grade 4", "cytotoxicity", None, "in vitro", "l929", "mouse",
         ("cell_viability", "=", 80.3, 80.3, 80.3, "%")),
    Spot(39, "Ti-6Al-4V", "cytotoxicity", None, "in vitro", "l929", "mouse",
         ("cell_viability", "=", 70.3, 70.3, 70.3, "%")),
    Spot(40, "PCL", "cell_proliferation", None, "in vitro", "osteoblast", None),
    Spot(41, "PDMS", "genotoxicity", "genotoxic", "in vitro", None, None),
    Spot(42, "PDMS", "irritation", "non_irritant", "in vitro", None, None),
    Spot(43, "PEGDA hydrogel", "cytotoxicity", None, "in vitro", "mesenchymal_stem_cell", None),
    Spot(44, "316L stainless steel", "implantation", "well_tolerated", "clinical", None, None),
    Spot(45, "316L stainless steel", "sensitisation", None, "clinical", None, None),
    Spot(46, "Alginate", "cell_adhesion", None, "in vitro", None, None),
    Spot(47, "Biphasic calcium phosphate (HA/β-TCP 60/40)", "osseointegration", None, "clinical", None, None),
    Spot(48, "PLGA 65:35", "in_vivo_degradation", "resorbed", "in vivo", None, None),
    Spot(49, "Ti-6Al-4V", "osseointegration", None, "in vivo", "rabbit", "rabbit",
         ("bone_implant_contact", "=", 48.01, 48.01, 48.01, "%")),
    Spot(50, "Magnesium", "in_vivo_degradation", "gas_formation", "in vivo", "rabbit", "rabbit"),
    Spot(51, "PLLA", "inflammatory_response", "foreign_body_reaction", "in vivo", "rat", "rat"),
    Spot(52, "Commercially pure titanium Grade 2", "cell_proliferation", None, "in vitro", "hfob_1_19", "human"),
    Spot(53, "Magnesium", "cytotoxicity", "non_cytotoxic", "in vitro", None, None),
    Spot(54, "AZ31", "cell_adhesion", None, "in vitro", "mc3t3_e1", "mouse"),
    Spot(55, "Ti-6Al-4V ELI", "osseointegration", "osseointegrated", "in vivo", "sheep", "sheep"),
    Spot(56, "Collagen type I, cross-linked", "inflammatory_response", "foreign_body_reaction", "in vivo", "rat", "rat"),
    Spot(57, "WE43", "implantation", None, "in vivo", None, None),
    Spot(58, "WE43", "cell_adhesion", "decreased", "in vitro", None, None),
    Spot(59, "WE43", "haemocompatibility", None, "in vitro", "erythrocyte", None),
    Spot(60, "PMMA bone cement", "implantation", None, "in vivo", None, None),
    Spot(61, "AZ31", "in_vivo_degradation", None, "in vivo", "rabbit", "rabbit"),
    Spot(62, "PDMS", "cytotoxicity", None, "in vitro", None, None),
    Spot(63, "PEGDA hydrogel", "cytotoxicity", None, "in vitro", None, None),
    Spot(64, "316L stainless steel", "inflammatory_response", None, "clinical", None, None),
    Spot(65, "PLGA 65:35", "inflammatory_response", "mild_inflammation", "in vivo", None, None),
    Spot(66, "PLGA 65:35", "systemic_toxicity", "no_systemic_toxicity", "in vivo", None, None),
    Spot(67, "PGA", "in_vivo_degradation", "partially_resorbed", "in vivo", "rat", "rat"),
    Spot(68, "Commercially pure titanium Grade 4", "cell_proliferation", None, "in vitro", "hfob_1_19", "human"),
    Spot(69, "Ti-6Al-4V ELI", "osseointegration", "osseointegrated", "in vivo", "sheep", "sheep"),
    Spot(70, "Collagen type I, cross-linked", "implantation", "well_tolerated", "in vivo", "rat", "rat"),
    Spot(71, "Collagen type I, cross-linked", "in_vivo_degradation", None, "in vivo", None, None),
    Spot(72, "Collagen type I, cross-linked", "implantation", None, "in vivo", "guinea_pig", "guinea_pig"),
    Spot(73, "Collagen type I, cross-linked", "implantation", None, "in vivo", "rat", "rat"),
]  # fmt: skip

_ENTRY = re.compile(
    r"^## (?P<number>\d+)\. (?P<material>.+) — (?P<endpoint>\S+)\n\n"
    r"- Result: (?P<result>.*?); Outcome: (?P<outcome>.*?); Value: (?P<value>.*?); Kind: (?P<kind>.*?); "
    r"Model: (?P<model>.*)\n"
    r"(?:.*\n)*?"
    r'- Quote: "(?P<quote>.*)"',
    re.MULTILINE,
)


def _spot_check_entries() -> dict[int, dict[str, str]]:
    text = (EVIDENCE / "spot-checks.md").read_text(encoding="utf-8")
    return {int(m["number"]): m.groupdict() for m in _ENTRY.finditer(text)}


ENTRIES = _spot_check_entries()


def _absent(text: str) -> str | None:
    return None if text == "—" else text


def test_the_table_is_the_reading_of_spot_checks_md():
    assert sorted(ENTRIES) == list(range(1, 74))
    assert [spot.number for spot in SPOT_CHECKS] == list(range(1, 74))
    for spot in SPOT_CHECKS:
        entry = ENTRIES[spot.number]
        assert (entry["material"], entry["endpoint"], _absent(entry["outcome"]), entry["kind"]) == (
            spot.material,
            spot.endpoint,
            spot.outcome,
            spot.kind,
        ), spot.number
        assert (_absent(entry["value"]) is None) == (spot.value is None), spot.number


def test_every_spot_check_is_a_row_of_the_file_with_its_quote():
    with (EVIDENCE / "biological-evaluation.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for number, entry in ENTRIES.items():
        found = [
            row
            for row in rows
            if (row["Material"], row["Endpoint"], row["Result"])
            == (entry["material"], entry["endpoint"], entry["result"])
        ]
        assert len(found) == 1, number
        (row,) = found
        assert row["Quote"] == entry["quote"], number
        assert (row["Outcome"] or "—", row["Kind"], row["Cell line / Model / Species"] or "—") == (
            entry["outcome"],
            entry["kind"],
            entry["model"],
        ), number


@pytest.fixture(scope="module")
def spot_records(fixtures_sqlite):
    """Each spot check's loaded record, with its material's name and its measurement (or None)."""
    reports = {path.relative_to(EVIDENCE.parent).as_posix(): report for path, report in fixtures_sqlite.reports}
    evidence_report = reports["evidence/biological-evaluation.csv"]  # the session core loads fixtures/evidence
    assert evidence_report.ok and evidence_report.loaded and evidence_report.warning_count == 0
    engine = make_engine(f"sqlite:///{fixtures_sqlite.location}")
    found = {}
    try:
        with Session(engine) as session:
            for spot in SPOT_CHECKS:
                query = (
                    select(BiologicalEvaluation, Measurement)
                    .join(Material, Material.id == BiologicalEvaluation.material_id)
                    .join(Dataset, Dataset.id == BiologicalEvaluation.dataset_id)
                    .outerjoin(Measurement, Measurement.id == BiologicalEvaluation.measurement_id)
                    .where(
                        Dataset.name == DATASET,
                        Material.name == spot.material,
                        BiologicalEvaluation.endpoint == spot.endpoint,
                        BiologicalEvaluation.verbatim == ENTRIES[spot.number]["result"],
                    )
                )
                found[spot.number] = [tuple(row) for row in session.execute(query).all()]
    finally:
        engine.dispose()
    return found


@pytest.mark.parametrize("spot", SPOT_CHECKS, ids=lambda spot: f"{spot.number}-{spot.endpoint}")
def test_the_loaded_record_is_what_the_source_states(spot_records, spot):
    rows = spot_records[spot.number]
    assert len(rows) == 1, rows
    record, measurement = rows[0]
    assert (record.endpoint, record.outcome, record.kind) == (spot.endpoint, spot.outcome, spot.kind)
    assert (record.model_key, record.species) == (spot.model_key, spot.species)
    written = _absent(ENTRIES[spot.number]["model"])
    if spot.model_key is None:
        assert record.model == written  # a cohort as described, or no model at all
    else:  # the text as written, or the vocabulary's name when the text is the entry's own label
        assert record.model in (written, load_test_systems().entry(spot.model_key).name)
    if spot.value is None:
        assert record.measurement_id is None and measurement is None
    else:
        assert measurement is not None and measurement.material_id == record.material_id
        stored = (measurement.property_key, measurement.qualifier, measurement.value)
        assert (*stored, measurement.value_min, measurement.value_max, measurement.unit) == spot.value
