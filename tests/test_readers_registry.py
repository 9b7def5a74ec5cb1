"""The readers' registry (``biomatdb_ingest.readers.FORMATS``): one table says which reader opens which
file, the CLI, uploads, fixtures and jobs all ask it, and a file's content overrides its name
when the content is a workbook (docs/ingest-format.md, "File formats")."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from biomatdb_api.jobs import count_rows
from biomatdb_api.uploads import UPLOAD_SUFFIXES
from biomatdb_ingest.fixtures import fixture_files
from biomatdb_ingest.readers import FORMATS, SUFFIXES, ReadError, folder_suffixes, format_for, is_delimited, open_table
from biomatdb_ingest.readers.delimited import open_delimited
from biomatdb_ingest.readers.jsonfile import open_json
from biomatdb_ingest.readers.workbook import open_workbook


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Material", "Density (g/cm3)"])
    sheet.append(["HA", 3.16])
    sheet.append(["PEEK", 1.3])
    book.save(path)
    return path


def _rows(path: Path) -> list[list[str]]:
    return [list(row) for chunk in open_table(path).chunks() for row in chunk.itertuples(index=False, name=None)]


def test_every_suffix_is_one_row_and_every_reader_is_one_of_the_readers():
    assert len(SUFFIXES) == len(FORMATS) == len(set(SUFFIXES))
    assert all(s == s.lower() and s.startswith(".") for s in SUFFIXES)
    assert {f.open for f in FORMATS} == {open_delimited, open_workbook, open_json}
    assert {f.suffix for f in FORMATS if f.sheets} == {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}


def test_uploads_fixtures_and_jobs_ask_the_registry(tmp_path):
    assert tuple(UPLOAD_SUFFIXES) == SUFFIXES
    for name in ("a.csv", "b.tab", "c.tsv", "notes.txt", "d.json", "README.md"):
        (tmp_path / name).write_text("Material,Density (g/cm3)\nHA,3.16\n", encoding="utf-8")
    _workbook(tmp_path / "e.xlsx")
    assert [p.name for p in fixture_files(tmp_path)] == ["a.csv", "b.tab", "c.tsv", "d.json", "e.xlsx"]
    assert ".txt" in SUFFIXES and ".txt" not in folder_suffixes()  # read when named, not found in a folder
    assert count_rows(tmp_path / "b.tab") == 1 and count_rows(tmp_path / "e.xlsx") is None
    assert is_delimited(tmp_path / "a.csv") and not is_delimited(tmp_path / "e.xlsx")


def test_a_workbook_saved_under_a_csv_name_is_read_as_the_workbook_it_is(tmp_path):
    truly = _workbook(tmp_path / "lab.xlsx")
    misnamed = tmp_path / "lab.csv"
    misnamed.write_bytes(truly.read_bytes())
    found = format_for(misnamed)
    assert found is not None and found.suffix == ".xlsx"
    table = open_table(misnamed)
    assert table.format == "xlsx" and table.header == ["Material", "Density (g/cm3)"]
    assert _rows(misnamed) == _rows(truly) == [["HA", "3.16"], ["PEEK", "1.3"]]
    assert not is_delimited(misnamed) and count_rows(misnamed) is None  # a job counts no zip lines as rows


def test_a_file_without_a_known_suffix_is_read_when_its_content_says_what_it_is(tmp_path):
    book = tmp_path / "export"
    book.write_bytes(_workbook(tmp_path / "x.xlsx").read_bytes())
    assert open_table(book).format == "xlsx"
    records = tmp_path / "records.dat"
    records.write_text('[{"Material": "HA", "Density (g/cm3)": 3.16}]', encoding="utf-8")
    assert open_table(records).format == "json" and _rows(records) == [["HA", "3.16"]]


def test_text_without_a_known_suffix_is_refused_naming_the_suffix_and_the_known_ones(tmp_path):
    path = tmp_path / "table.dat"
    path.write_text("Material,Density (g/cm3)\nHA,3.16\n", encoding="utf-8")
    with pytest.raises(ReadError) as caught:
        open_table(path)
    assert "'.dat'" in str(caught.value) and ".csv" in str(caught.value) and ".ods" in str(caught.value)


def test_a_sheet_is_asked_of_workbooks_only_whatever_the_name(tmp_path):
    misnamed = tmp_path / "lab.csv"
    misnamed.write_bytes(_workbook(tmp_path / "x.xlsx").read_bytes())
    assert open_table(misnamed, sheet="Sheet").header == ["Material", "Density (g/cm3)"]
    text = tmp_path / "plain.csv"
    text.write_text("Material\nHA\n", encoding="utf-8")
    with pytest.raises(ReadError, match="is not a workbook"):
        open_table(text, sheet="Sheet")
