"""Readers refuse bombs before they expand them, each refusal a ``limit-exceeded`` issue
naming the limit and its setting, the database unchanged. The hostile files are made here,
at test time; regression tests named after what a careful tester found."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from biomatdb.chemistry import StructureLimits, parse_structure
from biomatdb.cli import app
from biomatdb.errors import QueryError, StructureError
from biomatdb_ingest.limits import ReadLimits
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from biomatdb_search.chemistry import query_pattern
from tests.conftest import snapshot


def _refused(engine, path: Path, options: IngestOptions = IngestOptions()) -> list:
    before = snapshot(engine)
    started = time.perf_counter()
    report = ingest_file(engine, path, options)
    print(f"{path.name}: refused in {time.perf_counter() - started:.2f} s")
    assert not report.loaded
    assert snapshot(engine) == before
    return report.errors


def _workbook(path: Path, cells: dict[str, Any]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    for reference, value in cells.items():
        sheet[reference] = value
    book.save(path)
    return path


def test_an_xlsx_whose_one_cell_is_at_xfd1048576_is_refused_not_expanded(engine, tmp_path):
    path = _workbook(tmp_path / "far-cell.xlsx", {"XFD1048576": 1})
    assert path.stat().st_size < 10_000
    errors = _refused(engine, path)
    assert [e.type for e in errors] == ["limit-exceeded"]
    assert "16,384" in errors[0].message and "BIOMATDB_READ_MAX_COLUMNS" in errors[0].message


def test_an_xlsx_reaching_past_the_cell_limit_is_refused(engine, tmp_path):
    path = _workbook(tmp_path / "tall.xlsx", {"A1": "Material", "B1": "density [g/cm3]", "A5000": "X", "B5000": 1})
    errors = _refused(engine, path, IngestOptions(read_limits=ReadLimits(workbook_max_cells=1_000)))
    assert [e.type for e in errors] == ["limit-exceeded"] and "BIOMATDB_WORKBOOK_MAX_CELLS" in errors[0].message
    assert "5,000 rows" in errors[0].message


def _zip_bomb(tmp_path: Path) -> Path:
    """A real workbook whose sheet is padded with 64 MB of spaces: a few hundred KB on disk."""
    plain = _workbook(tmp_path / "plain.xlsx", {"A1": "Material", "B1": "density [g/cm3]", "A2": "X", "B2": 1})
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", b" " * (64 << 20) + b"</worksheet>")
            target.writestr(member, data)
    return bomb


def test_a_zip_bomb_workbook_is_refused_by_its_compression_ratio(engine, tmp_path):
    bomb = _zip_bomb(tmp_path)
    assert bomb.stat().st_size < 1_000_000
    errors = _refused(engine, bomb)
    assert [e.type for e in errors] == ["limit-exceeded"] and "BIOMATDB_WORKBOOK_MAX_RATIO" in errors[0].message


def test_a_workbook_expanding_past_the_uncompressed_limit_is_refused(engine, tmp_path):
    bomb = _zip_bomb(tmp_path)
    errors = _refused(engine, bomb, IngestOptions(read_limits=ReadLimits(workbook_max_uncompressed_bytes=10 << 20)))
    assert "BIOMATDB_WORKBOOK_MAX_UNCOMPRESSED_BYTES" in errors[0].message


def test_a_workbook_with_a_huge_shared_string_is_refused(engine, tmp_path):
    plain = _workbook(tmp_path / "plain.xlsx", {"A1": "Material", "B1": "density [g/cm3]", "A2": "X", "B2": 1})
    path = tmp_path / "strings.xlsx"
    table = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>' + b"n" * 200_000
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(member, source.read(member))
        target.writestr("xl/sharedStrings.xml", table + b"</t></si></sst>")
    errors = _refused(engine, path, IngestOptions(read_limits=ReadLimits(workbook_max_shared_strings_bytes=100_000)))
    assert "BIOMATDB_WORKBOOK_MAX_SHARED_STRINGS_BYTES" in errors[0].message


def test_a_million_column_csv_header_is_refused_at_once(engine, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"column {i}" for i in range(1_000_000)) + "\n" + "x," * 10 + "\n", encoding="utf-8")
    errors = _refused(engine, path)
    assert [e.type for e in errors] == ["limit-exceeded"]
    assert "1,000,000" in errors[0].message and "BIOMATDB_READ_MAX_COLUMNS" in errors[0].message


def test_sparse_json_with_20k_keys_is_refused_before_its_rows_are_built(engine, tmp_path):
    path = tmp_path / "sparse.json"
    path.write_text(json.dumps([{"Material": f"M{i}", f"key {i}": 1} for i in range(20_000)]), encoding="utf-8")
    errors = _refused(engine, path)
    assert [e.type for e in errors] == ["limit-exceeded"] and "20,001" in errors[0].message


def test_a_csv_field_past_the_field_limit_names_the_limit_not_a_quote(engine, tmp_path):
    # the csv limit is process-wide, and other libraries raise it (frictionless does when its parser is
    # imported); what an upload may hold does not follow them
    import csv

    csv.field_size_limit(10_000_000)
    path = tmp_path / "big-field.csv"
    path.write_text(f'Material,Notes\nX,"{"n" * 200_000}"\n', encoding="utf-8")
    errors = _refused(engine, path)
    assert [e.type for e in errors] == ["limit-exceeded"]
    assert "131,072 characters" in errors[0].message and "quote" not in errors[0].message


def _ring(atoms: int) -> str:
    return "C1" + "C" * (atoms - 2) + "C1"


def _grid(size: int) -> str:
    """A size × size fused grid of carbons, written as SMILES with ring closures (large, valid text)."""
    parts = []
    for _ in range(size):
        parts.append("".join(f"C%{10 + (column % 80)}" for column in range(size)))
    return ".".join(parts)


@pytest.mark.parametrize("smiles", [_ring(5_000), _grid(60)], ids=["5000-atom ring", "60x60 grid"])
def test_huge_structures_are_refused_before_rdkit_sees_them(smiles):
    with pytest.raises(StructureError, match="over the limit") as refused:
        parse_structure(smiles)
    assert "BIOMATDB_STRUCTURE_MAX_" in refused.value.message


def _cli_ingest(tmp_path, monkeypatch, setting: str, value: str, csv_text: str):
    """``biomatdb ingest --json`` of ``csv_text`` with one setting in the environment: (exit code, report)."""
    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(setting, value)
    path = tmp_path / "data.csv"
    path.write_text(csv_text, encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(path), "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_structure_limits_are_settings(tmp_path, monkeypatch):
    code, report = _cli_ingest(
        tmp_path,
        monkeypatch,
        "BIOMATDB_STRUCTURE_MAX_ATOMS",
        "5",
        "Material,Class,SMILES,density [g/cm3]\nPS,polymer,*CC(*)c1ccccc1,1.05\n",
    )
    assert code == 1
    errors = report["errors"]
    assert [(e["type"], e["row"]) for e in errors] == [("structure-error", 1)]
    assert "over the limit of 5" in errors[0]["message"]
    assert parse_structure("*CC(*)c1ccccc1", limits=StructureLimits(max_atoms=10)).formula == "C8H8"


def test_read_limits_are_settings(tmp_path, monkeypatch):
    code, report = _cli_ingest(
        tmp_path, monkeypatch, "BIOMATDB_READ_MAX_COLUMNS", "2", "Material,Class,density [g/cm3]\nX,polymer,1\n"
    )
    assert code == 1 and report["errors"][0]["type"] == "limit-exceeded"


def test_a_huge_search_pattern_is_a_query_error():
    with pytest.raises(QueryError, match="over the limit"):
        query_pattern(_ring(5_000))


def test_search_patterns_follow_the_structure_limit_settings(sqlite_engine, monkeypatch):
    from biomatdb.settings import Settings
    from biomatdb_search.service import build_query, make_backend

    monkeypatch.setenv("BIOMATDB_STRUCTURE_MAX_CHARS", "20")
    backend = make_backend(Settings(database_url="sqlite://"), sqlite_engine)
    with pytest.raises(QueryError, match="BIOMATDB_STRUCTURE_MAX_CHARS"):
        backend.search(build_query(filter_text='substructure("c1ccccc1CCCCCCCCCCCCCCCCCC")'))
    with pytest.raises(QueryError, match="BIOMATDB_STRUCTURE_MAX_CHARS"):
        backend.search(build_query(filter_text='similarity("c1ccccc1CCCCCCCCCCCCCCCCCC") >= 0.5'))
    assert backend.search(build_query(filter_text='substructure("c1ccccc1")')).total == 0


def test_a_material_past_the_nested_record_limit_is_refused_naming_it_and_its_row(engine, tmp_path):
    """One search document holds a material's measurements, evaluations and element contents as
    nested objects, which Elasticsearch bounds (index.mapping.nested_objects.limit): ingest refuses
    the upload that would take a material past BIOMATDB_MATERIAL_MAX_NESTED_RECORDS."""
    from tests.test_pipeline import WIDE_CSV, write

    before = snapshot(engine)
    path = write(tmp_path, "wide.csv", WIDE_CSV)
    report = ingest_file(engine, path, IngestOptions(material_max_nested_records=6))
    assert not report.loaded
    refused = [e for e in report.errors if e.type == "limit-exceeded"]
    assert refused, report.errors
    named = {e.value: e for e in refused}
    # PLLA and PCL: four measurements and three element contents each (from their structures)
    assert [(e.value, e.row) for e in refused] == [("PLLA", 1), ("PCL", 3)]  # data rows, 1-based
    assert "would hold 7" in named["PLLA"].message and "more than 6" in named["PLLA"].message
    assert "BIOMATDB_MATERIAL_MAX_NESTED_RECORDS" in named["PLLA"].message
    assert "Ti-6Al-4V" not in named  # three measurements, three element contents: at the limit, not past it
    assert snapshot(engine) == before
    assert ingest_file(engine, path, IngestOptions(material_max_nested_records=10_000)).loaded
