"""Spreadsheets as labs really send them, through the whole pipeline: each test is named after
what once went wrong, and its expected values are worked out by hand in canonical units."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from biomatdb.models import Source
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from tests.conftest import snapshot
from tests.test_pipeline import WIDE_CSV, measurements, write


@pytest.mark.parametrize("cell", ["110*", "110 GPa*", "5 MPa /", "3 K-"])
def test_a_dangling_operator_after_a_value_is_an_error_on_its_cell_not_a_crash(engine, tmp_path, cell):
    """A footnote asterisk (``110*``) or a cut-off unit (``K-``) made pint's parser assert."""
    ingest_file(engine, write(tmp_path, "good.csv", WIDE_CSV))
    before = snapshot(engine)
    report = ingest_file(engine, write(tmp_path, "footnote.csv", f'Material,E (GPa)\nA,1\nB,"{cell}"\n'))
    assert not report.loaded
    assert [(e.type, e.row, e.column, e.value) for e in report.errors] == [("unknown-unit", 2, "E (GPa)", cell)]
    assert snapshot(engine) == before


@pytest.mark.parametrize("cell", ["110(5)", "3.15(2)"])
def test_a_number_with_a_parenthesised_digit_is_refused_not_read_as_one_longer_number(sqlite_engine, tmp_path, cell):
    """``110(5)`` (concise uncertainty, or a footnote) was read as 1105."""
    report = ingest_file(sqlite_engine, write(tmp_path, "concise.csv", f"Material,E (GPa)\nHA,{cell}\n"))
    assert not report.loaded
    assert [(e.type, e.row, e.column, e.value) for e in report.errors] == [("type-error", 1, "E (GPa)", cell)]


LONG_WITH_UNCERTAINTY_UNITS = (
    "Material,Property,Value,Unit,SD (MPa)\n"
    "PLLA,E,3.5,GPa,200\n"  # 200 MPa of spread on a value in GPa: 0.2 GPa
    "PLLA,UTS,7.25,ksi,\n"  # no spread: the header's MPa does not touch the value
    "PCL,UTS,23,MPa,1.5\n"
)


def test_an_uncertainty_column_converts_with_its_own_unit(sqlite_engine, tmp_path):
    """The unit of an SD column was ignored: 200 MPa of spread on 3.5 GPa became 200 GPa."""
    report = ingest_file(sqlite_engine, write(tmp_path, "long.csv", LONG_WITH_UNCERTAINTY_UNITS))
    assert report.ok, report.errors
    plla = measurements(sqlite_engine, "PLLA")
    assert plla["youngs_modulus"][0]["value"] == 3.5
    assert plla["youngs_modulus"][0]["uncertainty"] == pytest.approx(0.2)
    assert plla["tensile_strength"][0]["value"] == pytest.approx(7.25 * 6.894757293168361)
    assert plla["tensile_strength"][0]["uncertainty"] is None
    assert measurements(sqlite_engine, "PCL")["tensile_strength"][0]["uncertainty"] == pytest.approx(1.5)


def test_an_uncertainty_cell_converts_with_its_inline_unit(sqlite_engine, tmp_path):
    text = (
        "Material,Property,Value,Unit,Uncertainty\n"
        "PLLA,E,3.5,GPa,200 MPa\n"
        "PLLA,Tg,140,°F,2 K\n"  # 140 °F = 333.15 K; a spread of 2 K is 2 K
        "PLLA,Tm,170,°C,9 °F\n"
    )  # a spread of 9 °F is 5 K
    report = ingest_file(sqlite_engine, write(tmp_path, "long.csv", text))
    assert report.ok, report.errors
    plla = measurements(sqlite_engine, "PLLA")
    assert plla["youngs_modulus"][0]["uncertainty"] == pytest.approx(0.2)
    assert plla["glass_transition_temperature"][0]["value"] == pytest.approx(333.15)
    assert plla["glass_transition_temperature"][0]["uncertainty"] == pytest.approx(2)
    assert plla["melting_temperature"][0]["uncertainty"] == pytest.approx(5)


def test_an_uncertainty_in_a_unit_of_another_dimension_is_refused_on_its_cell(sqlite_engine, tmp_path):
    """A relative spread (``5 %``) on a modulus is not 5 GPa."""
    text = "Material,Property,Value,Unit,Uncertainty\nPLLA,E,3.5,GPa,5 %\n"
    report = ingest_file(sqlite_engine, write(tmp_path, "long.csv", text))
    assert not report.loaded
    assert [(e.type, e.row, e.column, e.value) for e in report.errors] == [("unit-error", 1, "Uncertainty", "5 %")]


def test_a_row_beyond_the_header_is_not_also_reported_as_an_empty_table(sqlite_engine, tmp_path):
    report = ingest_file(sqlite_engine, write(tmp_path, "wide.csv", "Material,E (GPa)\nA,1,2\n"))
    assert [(e.type, e.row) for e in report.errors] == [("extra-cell", 1)]


def test_skipped_rows_leave_no_source_behind(engine, tmp_path):
    text = "Material,E (GPa),Source\nGood,1,Test handbook 2001\nBad,abc,Test review only cited by a bad row\n"
    report = ingest_file(engine, write(tmp_path, "mixed.csv", text), IngestOptions(skip_invalid=True))
    assert report.loaded and report.rows_skipped == 1
    with engine.connect() as connection:
        citations = set(connection.execute(select(Source.citation)).scalars())
        assert citations == {"Test handbook 2001"}
        assert connection.execute(select(func.count()).select_from(Source)).scalar_one() == 1


@pytest.mark.parametrize("chunk_rows", [1, 2, 50_000])
def test_skip_invalid_does_not_load_a_file_that_cannot_be_read_to_its_end(engine, tmp_path, chunk_rows):
    """With small chunks the rows before a malformed one were loaded and those after it dropped
    without a word; whether a file loaded depended on the chunk size."""
    before = snapshot(engine)
    text = "Material,E (GPa)\nA,1\nB,2\nC,3,4\nD,5\n"
    report = ingest_file(
        engine, write(tmp_path, "broken.csv", text), IngestOptions(skip_invalid=True, chunk_rows=chunk_rows)
    )
    assert not report.loaded
    assert [(e.type, e.row) for e in report.errors] == [("extra-cell", 3)]
    assert snapshot(engine) == before
