"""The biological-evaluation evidence fixture is well formed: exact headers, curated material names,
known endpoint keys and kinds, a source and a verbatim quote on every row, full endpoint coverage, an
Outcome that is a key its endpoint allows, and rows the evidence reader takes without an error."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from biomatdb.evidence import get_evidence_vocabulary
from biomatdb.vocabulary import get_vocabulary
from biomatdb_ingest.evidence import evidence_map, normalise_evidence
from biomatdb_ingest.readers import open_table

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EVIDENCE = FIXTURES / "evidence" / "biological-evaluation.csv"
CURATED_FILES = sorted(p for p in (FIXTURES / "curated").iterdir() if p.suffix in {".csv", ".tsv", ".xlsx"})

HEADERS = [
    "Material",
    "Endpoint",
    "Standard",
    "Kind",
    "Cell line / Model / Species",
    "Site",
    "Contact",
    "Contact duration",
    "Method",
    "Exposure",
    "Duration",
    "Result",
    "Outcome",
    "Value",
    "Unit",
    "Source",
    "DOI",
    "Quote",
]
ENDPOINTS = {
    "cytotoxicity",
    "sensitisation",
    "irritation",
    "systemic_toxicity",
    "pyrogenicity",
    "genotoxicity",
    "carcinogenicity",
    "reproductive_toxicity",
    "implantation",
    "haemocompatibility",
    "bioactivity",
    "cell_adhesion",
    "cell_proliferation",
    "osteogenic_differentiation",
    "angiogenesis",
    "antibacterial_activity",
    "inflammatory_response",
    "osseointegration",
    "in_vivo_degradation",
}
KINDS = {"in vitro", "in vivo", "clinical"}
CONTACT_DURATIONS = {"", "limited", "prolonged", "long-term"}
MIN_RECORDS = 380  # 318 at the third pass, 380 at the fourth
MIN_MATERIALS = 83
MAX_QUOTE = 300
MIN_OUTCOMES = 140  # rows whose Result and Quote state an outcome key (175 at the third pass, 204 at the fourth)


@pytest.fixture(scope="module")
def evidence_rows() -> list[dict[str, str]]:
    with EVIDENCE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def curated_names() -> set[str]:
    names: set[str] = set()
    for path in CURATED_FILES:
        table = open_table(path)
        column = table.header.index("Material")
        for chunk in table.chunks():
            names.update(name.strip() for name in chunk[column] if name.strip())
    return names


def test_headers_are_exactly_the_agreed_columns():
    with EVIDENCE.open(encoding="utf-8", newline="") as handle:
        assert next(csv.reader(handle)) == HEADERS


def test_every_row_has_the_full_width(evidence_rows):
    assert all(None not in row and len(row) == len(HEADERS) for row in evidence_rows)


def test_curated_names_were_read(curated_names):
    assert len(curated_names) >= 130
    assert {"Ti-6Al-4V", "PEEK", "Hydroxyapatite, dense"} <= curated_names


def test_every_material_is_a_curated_material(evidence_rows, curated_names):
    unknown = sorted({row["Material"] for row in evidence_rows} - curated_names)
    assert unknown == []


def test_every_endpoint_kind_and_contact_duration_is_known(evidence_rows):
    assert {row["Endpoint"] for row in evidence_rows} <= ENDPOINTS
    assert {row["Kind"] for row in evidence_rows} <= KINDS
    assert {row["Contact duration"] for row in evidence_rows} <= CONTACT_DURATIONS


def test_every_row_cites_a_source_and_quotes_it(evidence_rows):
    for number, row in enumerate(evidence_rows, start=2):
        assert row["Source"].strip(), number
        assert row["Quote"].strip(), number
        assert len(row["Quote"]) <= MAX_QUOTE, number
        assert row["Result"].strip() or row["Value"].strip(), number


def test_dois_are_bare_identifiers(evidence_rows):
    for row in evidence_rows:
        if row["DOI"]:
            assert row["DOI"].startswith("10.") and " " not in row["DOI"], row["DOI"]


def test_a_value_carries_a_unit(evidence_rows):
    for row in evidence_rows:
        if row["Value"]:
            assert row["Unit"].strip(), (row["Material"], row["Endpoint"], row["Value"])


def test_counts_reach_the_compiled_minimums(evidence_rows):
    assert len(evidence_rows) >= MIN_RECORDS
    assert len({row["Material"] for row in evidence_rows}) >= MIN_MATERIALS


def test_every_endpoint_key_is_covered(evidence_rows):
    covered = Counter(row["Endpoint"] for row in evidence_rows)
    assert set(covered) == ENDPOINTS


def test_no_record_is_duplicated(evidence_rows):
    keys = Counter((row["Material"], row["Endpoint"], row["Source"], row["Quote"]) for row in evidence_rows)
    assert [key for key, count in keys.items() if count > 1] == []


def test_every_outcome_is_a_key_its_endpoint_allows(evidence_rows):
    vocabulary = get_evidence_vocabulary()
    stated = [row for row in evidence_rows if row["Outcome"]]
    assert len(stated) >= MIN_OUTCOMES
    for row in stated:
        outcome = vocabulary.outcomes.get(row["Outcome"])  # the key itself, not an alias
        assert outcome is not None, (row["Material"], row["Outcome"])
        assert outcome.states(row["Endpoint"]), (row["Material"], row["Endpoint"], row["Outcome"])


def test_outcomes_record_adverse_findings_as_well_as_favourable_ones(evidence_rows):
    vocabulary = get_evidence_vocabulary()
    readings = Counter(vocabulary.outcomes[row["Outcome"]].reading for row in evidence_rows if row["Outcome"])
    assert readings["favourable"] > 0 and readings["adverse"] > 0


def test_every_row_is_read_as_a_record_without_an_error(evidence_rows):
    """Models resolve (or are a clinical cohort, or empty), durations are one time or a range,
    outcomes are the endpoint's, and a value is a quantity of one of the endpoint's properties."""
    table = open_table(EVIDENCE)
    emap, issues = evidence_map(table.header)
    assert emap is not None and issues == []
    records, errors = [], []
    for chunk in table.chunks():
        out = normalise_evidence(chunk, emap, get_vocabulary())
        records += out.records
        errors += out.errors
    assert [(e.row, e.type, e.column, e.value) for e in errors] == []
    assert len(records) == len(evidence_rows)
    endpoints = get_evidence_vocabulary().endpoints
    measured = [record for record in records if record.property]
    assert measured and all(record.property in endpoints[record.endpoint].properties for record in measured)
