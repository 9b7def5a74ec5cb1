"""Curation that cannot go quietly wrong: columns mapped on the command line (``--map``)."""

from __future__ import annotations

import pytest

from ingest.pipeline import IngestOptions, ingest_file
from tests.conftest import snapshot
from tests.test_pipeline import measurements, write

def test_a_map_entry_reads_a_column_the_vocabulary_cannot(sqlite_engine, tmp_path):
    path = write(tmp_path, "stiffness.csv", "Material,Stiffnes (GPa)\nPLLA,3.5\n")
    unread = ingest_file(sqlite_engine, path, IngestOptions(dry_run=True))
    assert [w.type for w in unread.warnings] == ["unknown-column"]

    report = ingest_file(sqlite_engine, path, IngestOptions(column_mappings=("Stiffnes (GPa)=youngs_modulus",)))
    assert report.loaded and report.warnings == [] and report.measurements_added == 1
    modulus = measurements(sqlite_engine, "PLLA")["youngs_modulus"][0]
    assert (modulus["value"], modulus["verbatim"]["unit"]) == (3.5, "GPa")


def test_a_map_entry_overrides_the_vocabulary_and_the_manifest(sqlite_engine, tmp_path):
    path = write(tmp_path, "moduli.csv", "Material,E (GPa),Tg (K)\nPLLA,3.5,330\n")
    write(tmp_path, "moduli.csv.manifest.toml", '[columns."Tg (K)"]\nignore = true\n')
    report = ingest_file(sqlite_engine, path, IngestOptions(
        column_mappings=("E (GPa)=flexural_modulus", "Tg (K)=glass_transition_temperature")))
    assert report.loaded, report.errors
    assert sorted(measurements(sqlite_engine, "PLLA")) == ["flexural_modulus", "glass_transition_temperature"]


def test_a_map_entry_is_part_of_what_makes_an_upload_the_same(sqlite_engine, tmp_path):
    """The same file read through another mapping is another upload, not "unchanged"."""
    path = write(tmp_path, "moduli.csv", "Material,E (GPa)\nPLLA,3.5\n")
    assert ingest_file(sqlite_engine, path).loaded
    again = ingest_file(sqlite_engine, path, IngestOptions(column_mappings=("E (GPa)=flexural_modulus",)))
    assert not again.unchanged and again.measurements_added == 1 and again.measurements_removed == 1
    assert ingest_file(sqlite_engine, path, IngestOptions(column_mappings=("E (GPa)=flexural_modulus",))).unchanged


@pytest.mark.parametrize(("entry", "column", "message"), [
    ("Modulus (GPa)=youngs_modulus", "Modulus (GPa)",
     'the map entry "Modulus (GPa)=youngs_modulus" names a column the file does not have; did you mean Modulus (MPa)?'),
    ("Modulus (MPa)=youngs_modulos", None, "unknown property 'youngs_modulos'; did you mean youngs_modulus"),
])
def test_a_map_entry_the_file_or_the_vocabulary_cannot_meet_is_refused(sqlite_engine, tmp_path, entry, column,
                                                                         message):
    path = write(tmp_path, "moduli.csv", "Material,Modulus (MPa)\nPLLA,3500\n")
    before = snapshot(sqlite_engine)
    report = ingest_file(sqlite_engine, path, IngestOptions(column_mappings=(entry,)))
    assert not report.loaded
    [error] = [e for e in report.errors if e.type == "manifest-error"]
    assert error.column == column and message in error.message
    assert snapshot(sqlite_engine) == before
