"""The biomatdb command, end to end on a SQLite file, as a curator uses it."""

from __future__ import annotations

import csv
import io
import json
import os
import re

import pytest
from typer.testing import CliRunner

from biomatdb.cli import app
from tests.test_pipeline import LONG_TSV, QUALITATIVE_CSV, WIDE_CSV


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BIOMATDB_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def test_init_ingest_show_datasets(cli, tmp_path):
    assert cli("init").exit_code == 0
    assert (tmp_path / "data" / "biomatdb.sqlite").exists()
    wide = tmp_path / "wide.csv"
    wide.write_text(WIDE_CSV, encoding="utf-8")
    result = cli("ingest", str(wide), "--license", "CC-BY-4.0", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["loaded"] is True
    assert report["counts"]["materials_created"] == 3
    assert report["counts"]["measurements_added"] == 11
    assert report["errors"] == []

    shown = json.loads(cli("show", "PLLA", "--json").stdout)
    assert {"id", "name", "class", "synonyms", "structure", "measurements"} <= set(shown)
    measurement = shown["measurements"][0]
    assert {
        "property",
        "value",
        "value_min",
        "value_max",
        "qualifier",
        "uncertainty",
        "unit",
        "conditions",
        "source",
        "dataset",
    } <= set(measurement)
    assert cli("show", shown["id"], "--json").exit_code == 0
    assert "PLLA" in cli("show", "PLLA").stdout
    assert cli("show", "no such material").exit_code == 1

    datasets = json.loads(cli("datasets", "--json").stdout)
    assert [(d["name"], d["license"], d["measurements"], len(d["history"])) for d in datasets] == [
        ("wide", "CC-BY-4.0", 11, 1)
    ]


def test_ingest_refusal_exits_non_zero_with_a_located_json_report(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Material,Density (g/cm3)\nA,1\nB,-3\n", encoding="utf-8")
    result = cli("ingest", str(bad), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["loaded"] is False
    assert report["errors"][0] | {"message": None} == {
        "type": "constraint-error",
        "row": 2,
        "column": "Density (g/cm3)",
        "value": "-3",
        "message": None,
    }
    assert cli("ingest", str(bad), "--skip-invalid", "--json").exit_code == 0
    assert cli("ingest", str(bad), "--dry-run", "--json").exit_code == 1


def test_what_a_file_says_is_printed_as_written_not_read_as_markup(cli, tmp_path, monkeypatch):
    """Brackets in labels, cells, names and messages were rich markup: ``[g/cm3]`` and ``[mass]``
    vanished from the report, and ``[/x]`` ended the command with a MarkupError."""
    monkeypatch.setenv("COLUMNS", "250")
    assert cli("init").exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("Material,Density [g/cm3]\nA,abc [/x]\nB,3 MPa\n", encoding="utf-8")
    result = cli("ingest", str(bad))
    assert result.exit_code == 1
    assert "Density [g/cm3]" in result.stdout and "abc [/x]" in result.stdout
    assert "(a stress or modulus unit such as MPa, GPa, ksi)" in result.stdout  # the unit-error, in words
    good = tmp_path / "good.csv"
    good.write_text('Material,Density [g/cm3],Source\n"PEG [4-arm] [/b]",1.1,Test data [internal]\n', encoding="utf-8")
    assert cli("ingest", str(good)).exit_code == 0
    shown = cli("show", "PEG [4-arm] [/b]")
    assert shown.exit_code == 0
    assert "PEG [4-arm] [/b]" in shown.stdout and "Test data [internal]" in shown.stdout
    assert "good" in cli("datasets").stdout


@pytest.mark.slow  # tens of seconds of CPU: CI runs it, the fast lane does not
def test_export_ingests_back_to_the_same_state(cli, tmp_path, monkeypatch):
    for name, text in (("wide.csv", WIDE_CSV), ("long.tsv", LONG_TSV)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert cli("ingest", str(tmp_path / name)).exit_code == 0
    exported = cli("export", "--format", "csv").stdout
    assert len(list(csv.DictReader(io.StringIO(exported)))) == 16
    original = {m: json.loads(cli("show", m, "--json").stdout) for m in ("PLLA", "PCL", "Ti-6Al-4V", "Cortical bone")}

    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "copy"))
    (tmp_path / "export.csv").write_text(exported, encoding="utf-8")
    result = cli("ingest", str(tmp_path / "export.csv"), "--json")
    assert result.exit_code == 0, result.stdout
    for name, before in original.items():
        after = json.loads(cli("show", name, "--json").stdout)
        assert state(after) == state(before)
    assert cli("export", "--format", "csv").stdout == exported
    as_json = json.loads(cli("export", "--format", "json").stdout)
    assert len(as_json) == 16


def state(material: dict) -> dict:
    """What must survive a round trip: everything but provenance (dataset, file row and column, verbatim text)."""
    keep = ("property", "qualifier", "value", "value_min", "value_max", "uncertainty", "unit", "conditions", "source")
    return {
        **{
            k: material[k]
            for k in (
                "id",
                "name",
                "class",
                "subclass",
                "synonyms",
                "biodegradable",
                "origin",
                "applications",
                "composition",
            )
        },
        "structure": material["structure"] and material["structure"]["smiles"],
        "measurements": sorted(json.dumps({k: m[k] for k in keep}, sort_keys=True) for m in material["measurements"]),
    }


def test_a_file_loaded_by_an_older_pipeline_is_read_again(tmp_path):
    """Same file, newer pipeline: not "unchanged" — the file is read again, and the diff finds
    what the new reading changed (here nothing)."""
    from sqlalchemy import update

    from biomatdb.db import make_engine, migrate
    from biomatdb.models import DatasetUpload
    from biomatdb_ingest.pipeline import ingest_file

    path = tmp_path / "wide.csv"
    path.write_text(WIDE_CSV, encoding="utf-8")
    engine = make_engine(f"sqlite:///{tmp_path / 'core.sqlite'}")
    migrate(engine)
    first = ingest_file(engine, path)
    assert first.loaded and ingest_file(engine, path).unchanged
    with engine.begin() as connection:
        connection.execute(update(DatasetUpload).values(pipeline_version="0"))
    again = ingest_file(engine, path)
    assert again.loaded and not again.unchanged
    assert again.measurements_unchanged == first.measurements_added and again.measurements_added == 0
    assert ingest_file(engine, path).unchanged
    engine.dispose()


@pytest.mark.slow
def test_a_demo_database_from_an_older_pipeline_is_rebuilt(tmp_path):
    from sqlalchemy import update

    from biomatdb.cli import discard_stale_demo
    from biomatdb.db import make_engine, migrate
    from biomatdb.models import DatasetUpload
    from biomatdb_ingest.pipeline import ingest_file

    demo = tmp_path / "demo.sqlite"
    path = tmp_path / "wide.csv"
    path.write_text(WIDE_CSV, encoding="utf-8")
    engine = make_engine(f"sqlite:///{demo}")
    migrate(engine)
    assert ingest_file(engine, path).loaded
    engine.dispose()
    assert not discard_stale_demo(demo) and demo.exists()  # the current pipeline's: kept
    engine = make_engine(f"sqlite:///{demo}")
    with engine.begin() as connection:
        connection.execute(update(DatasetUpload).values(pipeline_version="0"))
    engine.dispose()
    assert discard_stale_demo(demo) and not demo.exists()
    demo.write_bytes(b"not a database at all")
    assert discard_stale_demo(demo) and not demo.exists()
    assert not discard_stale_demo(demo)


@pytest.mark.slow
def test_ingest_map_reads_a_column_and_refuses_an_unknown_property(cli, tmp_path):
    assert cli("init").exit_code == 0
    path = tmp_path / "stiffness.csv"
    path.write_text("Material,Stiffnes (GPa),Modulus\nPLLA,3.5,2\n", encoding="utf-8")
    warned = json.loads(cli("ingest", str(path), "--dry-run", "--json").stdout)
    assert {w["column"]: w["type"] for w in warned["warnings"]} == {
        "Stiffnes (GPa)": "unknown-column",
        "Modulus": "unknown-column",
    }
    assert '--map "Modulus=' in next(w["message"] for w in warned["warnings"] if w["column"] == "Modulus")

    typo = cli("ingest", str(path), "--map", "Stiffnes (GPa)=youngs_modulos", "--json")
    assert typo.exit_code == 1
    [error] = json.loads(typo.stdout)["errors"]
    assert error["type"] == "manifest-error" and "did you mean youngs_modulus" in error["message"]
    assert error["suggestions"][0] == "youngs_modulus"

    result = cli("ingest", str(path), "--map", "Stiffnes (GPa)=youngs_modulus", "--map", "Modulus=ignore", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["loaded"] is True and report["warnings"] == [] and report["counts"]["measurements_added"] == 1
    assert [m["property"] for m in json.loads(cli("show", "PLLA", "--json").stdout)["measurements"]] == [
        "youngs_modulus"
    ]


def test_ingest_strict_refuses_a_warning_and_loads_nothing(cli, tmp_path):
    assert cli("init").exit_code == 0
    path = tmp_path / "moduli.csv"
    path.write_text("Material,Young's modulus (GPa),Mystery\nPLLA,3.5,x\n", encoding="utf-8")
    result = cli("ingest", str(path), "--strict", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["loaded"], report["strict"], report["warnings"]) == (False, True, [])
    assert [(e["type"], e["column"]) for e in report["errors"]] == [("unknown-column", "Mystery")]
    assert "strict mode" in report["errors"][0]["message"]
    assert json.loads(cli("datasets", "--json").stdout) == []
    printed = cli("ingest", str(path), "--strict")
    assert printed.exit_code == 1 and "NOT loaded (strict mode: every warning is an error)" in printed.stdout
    assert cli("ingest", str(path), "--json").exit_code == 0  # a warning only, without --strict


@pytest.mark.slow
def test_retract_removes_a_dataset_and_says_what_went(cli, tmp_path):
    for name, text in (("wide.csv", WIDE_CSV), ("long.tsv", LONG_TSV)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert cli("ingest", str(tmp_path / name)).exit_code == 0
    before = {d["name"]: d for d in json.loads(cli("datasets", "--json").stdout)}
    assert before["long"]["measurements"] == 5

    result = cli("retract", "long", "--json")
    assert result.exit_code == 0, result.output
    retraction = json.loads(result.stdout)
    # Cortical bone came only from long.tsv and goes; PLLA stays, with wide.csv's measurements
    assert retraction | {"retracted_at": None} == {
        "dataset": "long",
        "measurements_retracted": 5,
        "materials_removed": 1,
        "materials_touched": 2,
        "retracted_at": None,
    }
    after = {d["name"]: d for d in json.loads(cli("datasets", "--json").stdout)}
    assert after["long"]["measurements"] == 0 and after["long"]["retracted_at"][:19] == retraction["retracted_at"][:19]
    assert len(after["long"]["history"]) == 1 and after["wide"]["measurements"] == before["wide"]["measurements"]
    assert cli("show", "Cortical bone").exit_code == 1
    assert {m["dataset"] for m in json.loads(cli("show", "PLLA", "--json").stdout)["measurements"]} == {"wide"}

    wide_id = str(before["wide"]["id"])
    shown = cli("retract", wide_id)
    assert shown.exit_code == 0
    assert "retracted dataset 'wide': 11 measurements removed, 3 materials removed" in shown.stdout
    again = cli("retract", "wide")
    assert again.exit_code == 0
    assert "0 measurements removed" in again.stdout and "already retracted" in again.stdout


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ("wdie", "error: no dataset with id or name 'wdie'; did you mean 'wide'?"),
        ("Wide-2", "error: no dataset with id or name 'Wide-2'; did you mean 'wide'?"),
        ("999", "error: no dataset with id or name '999'; did you mean"),
        ("zzzzzzzz", "error: no dataset with id or name 'zzzzzzzz'\n"),
    ],
)
def test_retracting_an_unknown_dataset_fails_and_suggests_a_known_name(cli, tmp_path, asked, message):
    (tmp_path / "wide.csv").write_text(WIDE_CSV, encoding="utf-8")
    assert cli("ingest", str(tmp_path / "wide.csv")).exit_code == 0
    result = cli("retract", asked)
    assert result.exit_code == 1
    if message.endswith("did you mean"):
        assert "did you mean" not in result.stderr and result.stderr.startswith(message.rsplit(";", 1)[0])
    else:
        assert result.stderr.startswith(message)
    assert json.loads(cli("datasets", "--json").stdout)[0]["measurements"] == 11


@pytest.mark.slow
def test_a_qualitative_value_shows_exports_and_reads_back(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / "qualitative.csv").write_text(QUALITATIVE_CSV, encoding="utf-8")
    assert cli("ingest", str(tmp_path / "qualitative.csv")).exit_code == 0

    shown = cli("show", "PDLLA")
    assert shown.exit_code == 0
    row = next(line for line in shown.stdout.splitlines() if "melting_temperature" in line)
    assert "amorphous" in row and " K " not in row  # the words, with no unit beside them
    (tm,) = [
        m
        for m in json.loads(cli("show", "PDLLA", "--json").stdout)["measurements"]
        if m["property"] == "melting_temperature"
    ]
    assert (tm["qualifier"], tm["qualitative"], tm["text"], tm["value"]) == ("term", "amorphous", "amorphous", None)

    exported = cli("export", "--format", "csv").stdout
    rows = [r for r in csv.DictReader(io.StringIO(exported)) if r["property"] == "melting_temperature"]
    assert sorted((r["material"], r["value_text"], r["unit"]) for r in rows) == [
        ("PDLLA", "amorphous", ""),
        ("PEG 400", "no melting point", ""),
        ("PLLA", "175", "°C"),  # in the display unit, to the precision written
    ]
    as_json = json.loads(cli("export", "--format", "json").stdout)
    assert {
        (r["material"], r["value"], r["value_text"], r["qualifier"])
        for r in as_json
        if r["property"] == "glass_transition_temperature"
    } == {
        ("PDLLA", 55.0, "55", None),
        ("PLLA", 60.0, "60", None),
        ("PEG 400", None, "not determined", "term"),
    }

    found = json.loads(cli("search", "--filter", "Tm > 0 degC", "--json").stdout)
    assert [hit["name"] for hit in found["results"]] == ["PLLA"]

    original = json.loads(cli("show", "PEG 400", "--json").stdout)
    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "copy"))
    (tmp_path / "export.csv").write_text(exported, encoding="utf-8")
    assert cli("ingest", str(tmp_path / "export.csv")).exit_code == 0
    again = json.loads(cli("show", "PEG 400", "--json").stdout)
    assert state(again) == state(original)
    assert sorted(m["qualitative"] or "" for m in again["measurements"]) == ["", "no_melting_point", "not_determined"]
    assert cli("export", "--format", "csv").stdout == exported


@pytest.mark.slow
def test_an_export_in_display_units_reads_back_to_the_values_at_their_precision(cli, tmp_path, monkeypatch):
    """The export is in display units rounded to what was written: what was written in its display
    unit reads back exactly; 7250 psi (49.9869… MPa) exports as 49.99 MPa, within its rounding."""
    (tmp_path / "long.tsv").write_text(LONG_TSV, encoding="utf-8")
    assert cli("ingest", str(tmp_path / "long.tsv")).exit_code == 0
    before = json.loads(cli("show", "PLLA", "--json").stdout)["measurements"]
    exported = cli("export", "--format", "csv").stdout
    rows = {r["property"]: r for r in csv.DictReader(io.StringIO(exported)) if r["material"] == "PLLA"}
    assert (rows["tensile_strength"]["value"], rows["tensile_strength"]["unit"]) == ("49.99", "MPa")
    assert (rows["tensile_strength"]["verbatim_value"], rows["tensile_strength"]["verbatim_unit"]) == ("7250", "psi")
    degradation = rows["degradation_time"]
    assert (degradation["value_text"], degradation["unit"]) == (">24", "months")
    assert (degradation["value"], degradation["value_min"], degradation["value_max"], degradation["qualifier"]) == (
        "",
        "24",
        "",
        ">",
    )
    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "copy"))
    (tmp_path / "export.csv").write_text(exported, encoding="utf-8")
    assert cli("ingest", str(tmp_path / "export.csv")).exit_code == 0
    after = json.loads(cli("show", "PLLA", "--json").stdout)["measurements"]
    pairs = sorted(zip(sorted(before, key=_key), sorted(after, key=_key), strict=True), key=lambda p: _key(p[0]))
    for was, now in pairs:
        assert (now["display"], now["unit"]) == (was["display"], was["unit"])
        if was["verbatim"]["unit"] == "psi":
            assert now["value_canonical"] == 49.99 and abs(was["value_canonical"] - 49.99) <= 0.005
        else:
            assert now["value_canonical"] == pytest.approx(was["value_canonical"])


def _key(measurement: dict) -> tuple:
    return (measurement["property"], measurement["display"])


def test_python_dash_m_runs_the_cli(tmp_path):
    """``python -m biomatdb.cli`` ran nothing and exited 0 (the module never called the app)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "biomatdb.cli", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BIOMATDB_DATA_DIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert "load-fixtures" in done.stdout and "Usage" in done.stdout


@pytest.fixture
def metals_ceramics(cli, tmp_path):
    """The curated metals, ceramics and glasses (biomatdb-curated-metals-ceramics-glasses) alone."""
    import shutil

    from biomatdb_ingest.fixtures import default_fixtures_dir

    folder = tmp_path / "curated"
    folder.mkdir()
    for name in ("metals-ceramics.csv", "metals-ceramics.csv.manifest.toml", "SOURCE.txt"):
        shutil.copy(default_fixtures_dir() / "curated" / name, folder / name)
    assert cli("load-fixtures", str(folder)).exit_code == 0
    return cli


def test_a_range_whose_ends_round_together_in_us_units_stays_a_range(metals_ceramics):
    """Alumina's fracture toughness 5–6 MPa·m^0.5 is 4.55–5.46 ksi·in^½: to 1 digit both ends are 5,
    which read as the point ``5 to 5``; a digit more on both keeps it a range."""
    shown = json.loads(metals_ceramics("show", "Alumina", "--json", "--unit-system", "US").stdout)
    (toughness,) = [
        m for m in shown["measurements"] if m["property"] == "fracture_toughness" and m["qualifier"] == "range"
    ]
    assert toughness["verbatim"]["value"] == "5–6"
    assert (toughness["text"], toughness["value_min"], toughness["value_max"]) == ("4.6 to 5.5", 4.6, 5.5)
    assert toughness["display"] == "4.6–5.5 ksi·in^½"


@pytest.mark.slow
def test_a_us_export_keeps_a_range_whose_ends_round_together_a_range_when_ingested_back(
    metals_ceramics, tmp_path, monkeypatch
):
    """Ti-6Al-4V's density 4.4–4.5 g/cm³ was exported in lb/in³ as ``0.16 to 0.16`` and read back
    as a point; every range written with two ends keeps min < max through the export and back."""
    exported = metals_ceramics(
        "export", "--unit-system", "US", "--dataset", "biomatdb-curated-metals-ceramics-glasses"
    ).stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    (density,) = [
        r for r in rows if (r["material"], r["property"], r["verbatim_value"]) == ("Ti-6Al-4V", "density", "4.4–4.5")
    ]
    assert (density["value_text"], density["value_min"], density["value_max"], density["unit"]) == (
        "0.159 to 0.163",
        "0.159",
        "0.163",
        "lb/in³",
    )
    ranges = [r for r in rows if r["qualifier"] == "range"]
    assert len(ranges) > 20 and all(float(r["value_min"]) < float(r["value_max"]) for r in ranges)
    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "copy"))
    (tmp_path / "export.csv").write_text(exported, encoding="utf-8")
    assert metals_ceramics("ingest", str(tmp_path / "export.csv")).exit_code == 0
    again = json.loads(metals_ceramics("show", "Ti-6Al-4V", "--json", "--unit-system", "US").stdout)
    densities = [m for m in again["measurements"] if m["property"] == "density" and m["qualifier"] == "range"]
    assert [(m["value_min"], m["value_max"], m["display"]) for m in densities] == [(0.159, 0.163, "0.159–0.163 lb/in³")]
    assert densities[0]["value_canonical_min"] < densities[0]["value_canonical_max"]
    back = list(csv.DictReader(io.StringIO(metals_ceramics("export", "--unit-system", "US").stdout)))
    assert sum(r["qualifier"] == "range" for r in back) == len(ranges)


@pytest.mark.slow
def test_load_fixtures_says_each_file_as_it_is_done(cli, tmp_path):
    """The first start of the demo said one "preparing the demo database …" line for a minute:
    each file now has its line, with its counts and time, as soon as it is loaded."""
    import shutil

    from biomatdb_ingest.fixtures import default_fixtures_dir

    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("polymers.csv", "reference-tissues.tsv"):
        for suffix in ("", ".manifest.toml"):
            shutil.copy(default_fixtures_dir() / "curated" / (name + suffix), folder / (name + suffix))
    first = cli("load-fixtures", str(folder))
    assert first.exit_code == 0, first.stdout
    lines = first.stdout.splitlines()
    assert re.fullmatch(
        r"loaded    polymers\.csv: \d+ materials created, \d+ measurements added \(\d+\.\d s\)", lines[0]
    )
    assert lines[1].startswith("loaded    reference-tissues.tsv: ") and lines[2].startswith("2 files in ")
    again = cli("load-fixtures", str(folder)).stdout.splitlines()
    assert again[0].startswith("unchanged polymers.csv: 0 materials created, 0 measurements added (")


READ_ONLY_COMMANDS = [
    ("search", "titanium"),
    ("show", "PLLA"),
    ("export",),
    ("export", "--kind", "evidence"),
    ("datasets",),
    ("conditions",),
    ("select", "-o", "max:youngs_modulus"),
    ("apikey", "list"),
]


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_read_only_command_creates_no_database(cli, tmp_path, command):
    result = cli(*command)
    assert result.exit_code == 1, result.output
    assert f"there is no database at {tmp_path / 'data' / 'biomatdb.sqlite'} yet" in result.stderr
    assert "biomatdb init" in result.stderr and "biomatdb load-fixtures" in result.stderr
    assert not (tmp_path / "data").exists()  # no file, no folder made in passing


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS[:4], ids=lambda c: c[0])
def test_a_read_only_command_migrates_no_database_behind_the_code(cli, tmp_path, command):
    import sqlite3
    from contextlib import closing

    from biomatdb.db import head_revision

    assert cli("init").exit_code == 0
    path = tmp_path / "data" / "biomatdb.sqlite"
    older = f"{int(head_revision()) - 1:04d}"
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (older,))
    before = path.read_bytes()
    result = cli(*command)
    assert result.exit_code == 1, result.output
    assert f"is at schema revision {older}, written by an older BiomatDB" in result.stderr
    assert path.read_bytes() == before
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (older,)


def test_a_read_only_command_on_a_postgresql_database_that_does_not_exist_says_so(cli, monkeypatch, pg_server):
    # a server that answers but holds no such database: one line naming it, no traceback
    monkeypatch.setenv("BIOMATDB_DATABASE_URL", pg_server.url("biomatdb_no_such_database"))
    result = cli("search", "titanium")
    assert result.exit_code == 1, result.output
    assert "cannot reach the database at" in result.stderr and "biomatdb_no_such_database" in result.stderr
    assert "Check BIOMATDB_DATABASE_URL" in result.stderr and "Traceback" not in result.output


def test_a_refused_evidence_export_leaves_its_output_file_as_it_was(cli, tmp_path):
    kept = tmp_path / "keep.csv"
    kept.write_text("precious\n", encoding="utf-8")
    result = cli("export", "--kind", "evidence", "-o", str(kept))
    assert result.exit_code == 1 and "there is no database" in result.stderr
    assert kept.read_text(encoding="utf-8") == "precious\n"
    assert cli("init").exit_code == 0
    unknown = cli("export", "--kind", "evidence", "--dataset", "nope", "-o", str(kept))
    assert unknown.exit_code == 1 and "no dataset named 'nope'" in unknown.stderr  # as the measurements export
    assert kept.read_text(encoding="utf-8") == "precious\n"
