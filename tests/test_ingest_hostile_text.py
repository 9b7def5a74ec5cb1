"""Silent corruption and hostile text, each a regression test named after what a careful
tester found: mixed encodings, duplicate JSON keys, underflow to zero, control and
bidirectional-override characters, over-long names, and terminal escapes in CLI output.
Every refusal names where it is, and leaves the database as it was."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from biomatdb.cli import app
from biomatdb.models import Material
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from tests.conftest import snapshot

ESC, BEL, DEL, RLO = "\x1b", "\x07", "\x7f", "\u202e"


def test_a_csv_mixing_utf8_and_windows_1252_is_an_encoding_error_naming_the_line(engine, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "Material,Class,Notes,density [g/cm3]\nMixName,polymer,Élastomère,1.1\n".encode()
        + "Other,polymer,Élastomère à 37 °C,1.2\n".encode("cp1252")
    )
    before = snapshot(engine)
    report = ingest_file(engine, path)
    assert not report.loaded and [e.type for e in report.errors] == ["encoding-error"]
    assert "line 2 is written in UTF-8" in report.errors[0].message and "at line 3" in report.errors[0].message
    assert snapshot(engine) == before


def test_a_windows_1252_file_alone_still_reads(engine, tmp_path):
    path = tmp_path / "cp1252.csv"
    path.write_bytes("Material,Class,Notes,density [g/cm3]\nOther,polymer,Élastomère à 37 °C,1.2\n".encode("cp1252"))
    assert ingest_file(engine, path).ok


def test_duplicate_json_keys_are_an_error_naming_the_key_and_line(engine, tmp_path):
    path = tmp_path / "duplicate.json"
    path.write_text(
        '[{"Material": "A", "Class": "polymer", "density [g/cm3]": 1.1},\n'
        ' {"Material": "B", "Class": "polymer",\n  "density [g/cm3]": 1.2, "density [g/cm3]": 2.4}]',
        encoding="utf-8",
    )
    before = snapshot(engine)
    report = ingest_file(engine, path)
    assert not report.loaded and [e.type for e in report.errors] == ["duplicate-label"]
    assert report.errors[0].column == "density [g/cm3]" and "(line 3)" in report.errors[0].message
    assert snapshot(engine) == before


@pytest.mark.parametrize("value", ["1e-400", "1e-400 %", "1,5e-400", "1e-400–3", "5 ± 1e-400"])
def test_an_underflow_to_zero_is_an_error(engine, tmp_path, value):
    path = tmp_path / "underflow.csv"
    path.write_text(f'Material;Class;Porosity (%)\nTiny;polymer;"{value}"\n', encoding="utf-8")
    before = snapshot(engine)
    report = ingest_file(engine, path)
    assert not report.loaded
    assert [(e.type, e.row, e.column) for e in report.errors] == [("number-underflow", 1, "Porosity (%)")]
    assert snapshot(engine) == before


def test_zero_written_as_zero_is_still_zero(engine, tmp_path):
    path = tmp_path / "zero.csv"
    path.write_text("Material,Class,Porosity (%)\nDense,ceramic,0.0e-5\n", encoding="utf-8")
    assert ingest_file(engine, path).ok


def test_control_and_bidi_characters_are_removed_with_a_warning_naming_the_cell(engine, tmp_path):
    path = tmp_path / "hostile.csv"
    path.write_text(
        f"Material,Class,Description,density [g/cm3]\nEvil{ESC}[2J{BEL}name{DEL},polymer,{RLO}txt.exe,1.1\n",
        encoding="utf-8",
    )
    report = ingest_file(engine, path)
    assert report.ok and report.loaded
    warned = {(w.type, w.row, w.column) for w in report.warnings}
    assert warned == {("control-character", 1, "Material"), ("control-character", 1, "Description")}
    assert all(ESC not in (w.value or "") for w in report.warnings)  # the warning quotes them as escapes
    with engine.connect() as connection:
        material = connection.execute(Material.__table__.select()).one()
    assert material.name == "Evil[2Jname" and material.description == "txt.exe"


def test_a_1mb_material_name_through_json_is_refused(engine, tmp_path):
    path = tmp_path / "long-name.json"
    path.write_text(
        json.dumps([{"Material": "x" * 1_000_000, "Class": "polymer", "density [g/cm3]": 1.1}]), encoding="utf-8"
    )
    before = snapshot(engine)
    report = ingest_file(engine, path)
    assert not report.loaded
    assert [(e.type, e.row, e.column) for e in report.errors] == [("constraint-error", 1, "Material")]
    assert "at most 500 characters" in report.errors[0].message and len(report.errors[0].value or "") < 100
    assert snapshot(engine) == before


def test_a_long_synonym_is_refused(engine, tmp_path):
    path = tmp_path / "long-synonym.csv"
    path.write_text(f"Material,Class,Synonyms,density [g/cm3]\nA,polymer,{'y' * 600},1.1\n", encoding="utf-8")
    report = ingest_file(engine, path)
    assert [(e.type, e.column) for e in report.errors] == [("constraint-error", "Synonyms")]


@pytest.mark.parametrize("name", ["bad\x00name", "n" * 100_000, "two\nlines", f"{RLO}reversed", "   "])
def test_a_manifest_cannot_name_a_dataset_with_control_characters_or_100k_characters(engine, tmp_path, name):
    path = tmp_path / "data.csv"
    path.write_text("Material,Class,density [g/cm3]\nA,polymer,1.1\n", encoding="utf-8")
    (tmp_path / "data.csv.manifest.toml").write_text(f"[dataset]\nname = {json.dumps(name)}\n", encoding="utf-8")
    before = snapshot(engine)
    report = ingest_file(engine, path)
    assert not report.loaded and [e.type for e in report.errors] == ["constraint-error"]
    assert report.dataset is not None and len(report.dataset) <= 255 and "\x00" not in report.dataset
    assert snapshot(engine) == before
    assert not ingest_file(engine, path, IngestOptions(dataset=name)).loaded  # --dataset alike


def test_cli_output_escapes_terminal_control_sequences(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    (tmp_path / "plain.csv").write_text("Material,Class,density [g/cm3]\nPlain,polymer,1.1\n", encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(tmp_path / "plain.csv")]).exit_code == 0
    from biomatdb.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'biomatdb.sqlite'}")
    with engine.begin() as connection:  # as an older database may hold it
        connection.execute(update(Material).values(name=f"Plain{ESC}[2J{ESC}]8;;http://evil.example{BEL}"))
    engine.dispose()
    for command in (["search", "Plain"], ["show", "Plain"], ["show", f"no{ESC}[2Jsuch"]):
        result = runner.invoke(app, command)
        assert ESC not in result.output and BEL not in result.output, (command, result.output)
    assert "\\x1b[2J" in runner.invoke(app, ["search", "Plain"]).output
