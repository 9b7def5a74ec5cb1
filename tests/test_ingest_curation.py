"""Curation that cannot go quietly wrong: columns mapped on the command line (``--map``) and
strict loads (``--strict``), where every warning refuses the file and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import biomatdb_ingest.pipeline
from biomatdb.models import Measurement
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from biomatdb_ingest.report import Issue
from tests.conftest import snapshot
from tests.test_pipeline import measurements, write

MODULI_CSV = "Material,Class,Young's modulus (GPa)\nPLLA,polymer,3.5\nPCL,polymer,0.4\n"
# the same values, and a column nobody reads: a warning, and a column of data dropped
MODULI_WITH_STIFFNESS_CSV = (
    "Material,Class,Young's modulus (GPa),Stiffnes (N/mm)\nPLLA,polymer,3.6,12\nPCL,polymer,0.4,3\n"
)


def measurement_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Measurement)).scalar_one()


def test_an_unknown_column_is_a_warning_and_strict_refuses_it_changing_nothing(engine, tmp_path):
    """On SQLite and PostgreSQL: the dataset as loaded stays exactly as it was."""
    assert ingest_file(engine, write(tmp_path, "moduli.csv", MODULI_CSV)).loaded
    before, count_before = snapshot(engine), measurement_count(engine)
    changed = write(tmp_path, "changed.csv", MODULI_WITH_STIFFNESS_CSV)

    refused = ingest_file(engine, changed, IngestOptions(dataset="moduli", strict=True))
    assert not refused.loaded and refused.strict
    assert refused.warnings == [] and refused.warning_count == 0
    assert [(e.type, e.column) for e in refused.errors] == [("unknown-column", "Stiffnes (N/mm)")]
    assert refused.errors[0].message.startswith("strict mode refuses this warning: unknown column")
    assert refused.as_dict()["strict"] is True and refused.as_dict()["error_count"] == 1
    assert snapshot(engine) == before and measurement_count(engine) == count_before == 2

    loaded = ingest_file(engine, changed, IngestOptions(dataset="moduli"))
    assert loaded.loaded and loaded.errors == []
    assert [(w.type, w.column) for w in loaded.warnings] == [("unknown-column", "Stiffnes (N/mm)")]
    assert measurements(engine, "PLLA")["youngs_modulus"][0]["value"] == 3.6


def test_strict_refuses_a_warning_found_in_the_cells(sqlite_engine, tmp_path):
    """A cleaned cell is found while the rows are parsed, after the header passed."""
    path = write(tmp_path, "cells.csv", "Material,Class,Density (g/cm3)\nPLLA\x07,polymer,1.25\nPCL,polymer,1.1\n")
    before = snapshot(sqlite_engine)
    report = ingest_file(sqlite_engine, path, IngestOptions(strict=True))
    assert not report.loaded
    assert [(e.type, e.row, e.column) for e in report.errors] == [("control-character", 1, "Material")]
    assert snapshot(sqlite_engine) == before
    assert ingest_file(sqlite_engine, path).loaded  # a warning only, without --strict


def test_strict_skips_no_invalid_row(sqlite_engine, tmp_path):
    """--skip-invalid leaves bad rows out; with --strict a bad row refuses the file, as a warning does."""
    path = write(tmp_path, "mixed.csv", "Material,Density (g/cm3)\nA,1\nB,-3\n")
    before = snapshot(sqlite_engine)
    report = ingest_file(sqlite_engine, path, IngestOptions(strict=True, skip_invalid=True))
    assert not report.loaded and report.rows_skipped == 0
    assert [(e.type, e.row) for e in report.errors] == [("constraint-error", 2)]
    assert snapshot(sqlite_engine) == before
    assert ingest_file(sqlite_engine, path, IngestOptions(skip_invalid=True)).loaded


def test_strict_refuses_a_warning_raised_while_writing(sqlite_engine, tmp_path, monkeypatch):
    """A warning of the write phase (as ``possible-duplicate`` will be, found against what the core
    holds) refuses the load after its rows were written, and the transaction takes them back.
    The warning is added through the check that runs inside the write transaction."""
    checked = biomatdb_ingest.pipeline._refused_or_unchanged
    calls = []

    def check_and_warn(connection, report, checksum, options):
        calls.append(connection.in_transaction())
        result = checked(connection, report, checksum, options)
        if len(calls) == 2:  # the second check is the write phase's
            report.record(
                Issue(
                    type="possible-duplicate",
                    message="PLLA may be a material the core holds",
                    row=1,
                    column="Material",
                    value="PLLA",
                )
            )
        return result

    monkeypatch.setattr(biomatdb_ingest.pipeline, "_refused_or_unchanged", check_and_warn)
    path = write(tmp_path, "moduli.csv", MODULI_CSV)
    before = snapshot(sqlite_engine)
    report = ingest_file(sqlite_engine, path, IngestOptions(strict=True))
    assert len(calls) == 2
    assert report.measurements_added == 2, "the rows were written before the warning refused them"
    assert not report.loaded
    assert [(e.type, e.value) for e in report.errors] == [("possible-duplicate", "PLLA")]
    assert snapshot(sqlite_engine) == before

    calls.clear()
    assert ingest_file(sqlite_engine, path).loaded  # the same warning, without --strict
    assert measurement_count(sqlite_engine) == 2


def test_a_dry_run_in_strict_mode_reports_the_refusal(sqlite_engine, tmp_path):
    path = write(tmp_path, "changed.csv", MODULI_WITH_STIFFNESS_CSV)
    report = ingest_file(sqlite_engine, path, IngestOptions(strict=True, dry_run=True))
    assert not report.ok and [e.type for e in report.errors] == ["unknown-column"]


def test_a_map_entry_reads_a_column_the_vocabulary_cannot(sqlite_engine, tmp_path):
    path = write(tmp_path, "stiffness.csv", "Material,Stiffnes (GPa)\nPLLA,3.5\n")
    unread = ingest_file(sqlite_engine, path, IngestOptions(dry_run=True))
    assert [w.type for w in unread.warnings] == ["unknown-column"]

    report = ingest_file(sqlite_engine, path, IngestOptions(column_mappings=("Stiffnes (GPa)=youngs_modulus",)))
    assert report.loaded and report.warnings == [] and report.measurements_added == 1
    modulus = measurements(sqlite_engine, "PLLA")["youngs_modulus"][0]
    assert (modulus["value"], modulus["verbatim"]["unit"]) == (3.5, "GPa")


@pytest.mark.slow
def test_a_map_entry_overrides_the_vocabulary_and_the_manifest(sqlite_engine, tmp_path):
    path = write(tmp_path, "moduli.csv", "Material,E (GPa),Tg (K)\nPLLA,3.5,330\n")
    write(tmp_path, "moduli.csv.manifest.toml", '[columns."Tg (K)"]\nignore = true\n')
    report = ingest_file(
        sqlite_engine,
        path,
        IngestOptions(column_mappings=("E (GPa)=flexural_modulus", "Tg (K)=glass_transition_temperature")),
    )
    assert report.loaded, report.errors
    assert sorted(measurements(sqlite_engine, "PLLA")) == ["flexural_modulus", "glass_transition_temperature"]


def test_a_map_entry_is_part_of_what_makes_an_upload_the_same(sqlite_engine, tmp_path):
    """The same file read through another mapping is another upload, not "unchanged"."""
    path = write(tmp_path, "moduli.csv", "Material,E (GPa)\nPLLA,3.5\n")
    assert ingest_file(sqlite_engine, path).loaded
    again = ingest_file(sqlite_engine, path, IngestOptions(column_mappings=("E (GPa)=flexural_modulus",)))
    assert not again.unchanged and again.measurements_added == 1 and again.measurements_removed == 1
    assert ingest_file(sqlite_engine, path, IngestOptions(column_mappings=("E (GPa)=flexural_modulus",))).unchanged


@pytest.mark.parametrize(
    ("entry", "column", "message"),
    [
        (
            "Modulus (GPa)=youngs_modulus",
            "Modulus (GPa)",
            'the map entry "Modulus (GPa)=youngs_modulus" names a column the file does not have; did you mean Modulus (MPa)?',
        ),
        ("Modulus (MPa)=youngs_modulos", None, "unknown property 'youngs_modulos'; did you mean youngs_modulus"),
    ],
)
def test_a_map_entry_the_file_or_the_vocabulary_cannot_meet_is_refused(sqlite_engine, tmp_path, entry, column, message):
    path = write(tmp_path, "moduli.csv", "Material,Modulus (MPa)\nPLLA,3500\n")
    before = snapshot(sqlite_engine)
    report = ingest_file(sqlite_engine, path, IngestOptions(column_mappings=(entry,)))
    assert not report.loaded
    [error] = [e for e in report.errors if e.type == "manifest-error"]
    assert error.column == column and message in error.message
    assert snapshot(sqlite_engine) == before


def test_the_headers_a_published_table_used_get_suggestions_that_fit_their_units(sqlite_engine, tmp_path):
    """Found trying a published bone-repair table: these three were dropped with no suggestion,
    and "Toughness (MPa·m1/2)" would have been matched to surface roughness by its letters."""
    path = write(
        tmp_path,
        "published.csv",
        "Material,Class,Tensile/bending strength (MPa),Toughness (MPa·m1/2),"
        "Elongation to fracture (%),Tm (°C)\nTest PLLA,polymer,60,2.1,5,Amorphous\n",
    )
    report = ingest_file(sqlite_engine, path)
    assert report.loaded
    suggested = {w.column: w.suggestions[0] for w in report.warnings if w.type == "unknown-column"}
    assert suggested == {
        "Tensile/bending strength (MPa)": "tensile_strength",
        "Toughness (MPa·m1/2)": "fracture_toughness",
        "Elongation to fracture (%)": "elongation_at_break",
    }
    assert all("--map" in w.message for w in report.warnings if w.type == "unknown-column")
    with sqlite_engine.connect() as connection:  # the amorphous polymer's "no melting point" is kept, as a term
        assert connection.execute(select(Measurement.qualitative)).scalars().all() == ["amorphous"]


TG_CSV = "Material,Tg [degC]\nPLA,60\n"
COLUMN_TG = '[columns."Tg [degC]"]\nproperty = "glass_transition_temperature"\n'


@pytest.mark.parametrize(
    ("manifest", "column"),
    [
        ('[conditions]\ntemperature = "{t}"\n', None),
        (COLUMN_TG + '[columns."Tg [degC]".conditions]\ntemperature = "{t}"\n', "Tg [degC]"),
    ],
    ids=["file-wide", "column"],
)
@pytest.mark.parametrize("temperature", ["30-40 degC", ">30 degC", "dry", "-300 degC", "37", "30 ± 2 degC"])
def test_a_manifest_temperature_is_one_value_file_wide_and_per_column(
    sqlite_engine, tmp_path, manifest, column, temperature
):
    """One rule for a manifest's temperature, wherever it is given: a range, a bound, a word, a
    temperature below absolute zero, a bare number or a value with an uncertainty is refused (it
    once loaded a column's "30-40 degC" as 30 °C, and "30 ± 2 degC" as 30 °C without its ± 2),
    and nothing is written."""
    path = write(tmp_path, "tg.csv", TG_CSV)
    write(tmp_path, "tg.csv.manifest.toml", manifest.format(t=temperature))
    before = snapshot(sqlite_engine)
    report = ingest_file(sqlite_engine, path)
    assert not report.loaded
    [error] = [e for e in report.errors if e.type == "manifest-error"]
    assert temperature in (error.message + str(error.value)) and error.column == column
    assert snapshot(sqlite_engine) == before


def test_a_row_temperature_with_an_uncertainty_is_refused_not_cut_to_its_value(sqlite_engine, tmp_path):
    # a condition stores one temperature: "37 ± 1 °C" once loaded as 37 °C, its ± 1 dropped unsaid
    path = write(tmp_path, "e.csv", "Material,E (GPa),Temperature\nPLA,3,37 ± 1 °C\nPCL,0.4,37 °C\n")
    before = snapshot(sqlite_engine)
    report = ingest_file(sqlite_engine, path)
    assert not report.loaded
    [error] = report.errors
    assert (error.type, error.row, error.column, error.value) == ("type-error", 1, "Temperature", "37 ± 1 °C")
    assert "uncertainty (± 1)" in error.message
    assert snapshot(sqlite_engine) == before


@pytest.mark.parametrize(
    "where",
    [
        '[conditions]\ntemperature = "37 degC"\n',
        COLUMN_TG + '[columns."Tg [degC]".conditions]\ntemperature = "37 degC"\n',
    ],
)
def test_a_manifest_temperature_is_stored_in_kelvin_file_wide_and_per_column(sqlite_engine, tmp_path, where):
    path = write(tmp_path, "tg.csv", TG_CSV)
    write(tmp_path, "tg.csv.manifest.toml", where)
    assert ingest_file(sqlite_engine, path).loaded
    [tg] = measurements(sqlite_engine, "PLA")["glass_transition_temperature"]
    assert tg["conditions"]["temperature_K"] == pytest.approx(310.15)
