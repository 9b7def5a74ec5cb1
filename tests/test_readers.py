"""Readers: the files labs really send open as tables of text, and the ones that cannot are refused precisely."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from openpyxl.worksheet.worksheet import Worksheet

from biomatdb.errors import BiomatError
from biomatdb_ingest.readers import SAMPLE_BYTES, ReadError, Table, header_issues, open_table
from biomatdb_ingest.report import Issue
from tests.profiles import examples


def first_sheet(book: openpyxl.Workbook) -> Worksheet:
    """A new workbook's one sheet (``Workbook.active``, which openpyxl types as maybe none, maybe a chart)."""
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    return sheet


def write(directory: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = directory / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def rows_of(table: Table, rows: int = 100_000) -> dict[int, list[str]]:
    """Every data row the table hands out, by data row number."""
    found: dict[int, list[str]] = {}
    for chunk in table.chunks(rows):
        found.update(
            (number, list(cells))
            for number, cells in zip(chunk.index, chunk.itertuples(index=False, name=None), strict=True)
        )
    return found


def refusal(path: Path) -> list:
    with pytest.raises(ReadError) as caught:
        rows_of(open_table(path))
    return caught.value.issues


@pytest.fixture
def eu_csv(tmp_path) -> Path:
    """What a German or French Excel saves: semicolons, decimal commas, Windows-1252, CRLF."""
    text = (
        "Material;Class;Porosity (%);Compressive strength [MPa];Pore size [µm];Sintering T (°C);E ± SD (GPa)\r\n"
        "HA porös;ceramic;60;2,5-4,5;150;1200;3,6 ± 0,4\r\n"
        "TCP-Körner;ceramic;55,5;0,9;200;1100;2,1\r\n"
    )
    return write(tmp_path, "eu.csv", text, encoding="cp1252")


# --- delimited text ---------------------------------------------------------------------------


def test_semicolon_file_with_decimal_commas_in_windows_1252(eu_csv):
    table = open_table(eu_csv)
    assert (table.format, table.delimiter, table.decimal, table.encoding) == ("csv", ";", ",", "cp1252")
    assert table.header == [
        "Material",
        "Class",
        "Porosity (%)",
        "Compressive strength [MPa]",
        "Pore size [µm]",
        "Sintering T (°C)",
        "E ± SD (GPa)",
    ]
    assert rows_of(table) == {
        1: ["HA porös", "ceramic", "60", "2,5-4,5", "150", "1200", "3,6 ± 0,4"],
        2: ["TCP-Körner", "ceramic", "55,5", "0,9", "200", "1100", "2,1"],
    }


def test_windows_1252_symbols_are_read_without_mojibake(tmp_path):
    text = "Material,Note\nPEEK,é µm ± 2 °C – ™ €\n"
    table = open_table(write(tmp_path, "lab.csv", text, encoding="cp1252"))
    assert table.encoding == "cp1252"
    assert rows_of(table) == {1: ["PEEK", "é µm ± 2 °C – ™ €"]}


def test_a_windows_1252_byte_after_the_sample_still_decides_the_encoding(tmp_path):
    text = (
        "Material,Density (g/cm3)\n"
        + "PLLA,1.25\n" * (SAMPLE_BYTES // 10 + 100)
        + "Titan-Legierung für Implantate,4.43\n"
    )
    table = open_table(write(tmp_path, "late.csv", text, encoding="cp1252"))
    assert table.encoding == "cp1252"
    assert rows_of(table)[SAMPLE_BYTES // 10 + 101][0] == "Titan-Legierung für Implantate"


def test_utf8_stays_utf8(tmp_path):
    table = open_table(write(tmp_path, "lab.csv", "Material,Tg (°C),Note\nβ-TCP,−60,µm ± 2\n"))
    assert table.encoding == "utf-8"
    assert rows_of(table) == {1: ["β-TCP", "−60", "µm ± 2"]}


def test_a_byte_order_mark_is_not_part_of_the_first_label(tmp_path):
    table = open_table(write(tmp_path, "bom.csv", "\ufeffMaterial,E (GPa)\nPEEK,3.6\n"))
    assert table.encoding == "utf-8-sig"
    assert table.header == ["Material", "E (GPa)"]
    assert rows_of(table) == {1: ["PEEK", "3.6"]}


def test_crlf_line_ends_leave_no_carriage_returns(tmp_path):
    table = open_table(write(tmp_path, "crlf.csv", "Material,E (GPa)\r\nPEEK,3.6\r\n\r\nPLLA,3.5\r\n"))
    assert rows_of(table) == {1: ["PEEK", "3.6"], 3: ["PLLA", "3.5"]}


def test_tab_separated_file(tmp_path):
    table = open_table(write(tmp_path, "long.tsv", "Material\tProperty\tValue\tUnit\nPLLA\tE\t3.2\tGPa\n"))
    assert (table.format, table.delimiter, table.decimal) == ("tsv", "\t", ".")
    assert rows_of(table) == {1: ["PLLA", "E", "3.2", "GPa"]}


def test_excel_unicode_text_is_utf16_tab_separated(tmp_path):
    table = open_table(write(tmp_path, "export.txt", "Material\tE (GPa)\nPEEK\t3,6\n", encoding="utf-16"))
    assert (table.encoding, table.delimiter, table.decimal) == ("utf-16", "\t", ",")
    assert rows_of(table) == {1: ["PEEK", "3,6"]}


DELIMITED = {
    # each case: its text, then the delimiter and decimal mark it is read with
    "comma": ("Material,E (GPa),Density (g/cm3)\nPEEK,3.6,1.3\nPLLA,3.5,1.25\n", ",", "."),
    "semicolon, decimal comma": ("Material;E (GPa)\nPEEK;3,6\nPLLA;3,5\n", ";", ","),
    "semicolon, decimal point": ("Material;E (GPa)\nPEEK;3.6\nPLLA;3.5\n", ";", "."),
    "semicolon, a comma in a label": ("Material;Density, g/cm3\nPEEK;1,3\n", ";", ","),
    "tab, a comma in a label": ("Material\tDensity, g/cm3\nPEEK\t1,3\n", "\t", ","),
    "pipe": ("Material|E (GPa)|Notes\nPEEK|3.6|a, b; c\n", "|", "."),
    "comma, some quoted decimal commas": (
        'Material,E (GPa),Density\nPLLA,"3,5",1.25\nTi,110,4.43\nPCL,0.4,1.145\n',
        ",",
        ".",
    ),
    "comma, quoted decimal commas throughout": (
        'Material,E (GPa),Density\nPLLA,"3,5","1,25"\nTi,110,"4,43"\n',
        ",",
        ",",
    ),
    "semicolon, only three-digit fractions": ("Material;E (MPa)\nPEEK;3,600\nPLLA;3,500\n", ";", ","),
    "semicolon, thousands and decimal": ("Material;E (MPa)\nPEEK;3.600,5\n", ";", ","),
    "a DOI is not a decimal point": ("Material;E (GPa);DOI\nPEEK;3,6;10.5555/x.1\n", ";", ","),
    "one column": ("Material\nPEEK\nPLLA\n", ",", "."),
    "trailing delimiters": ("Material;E (GPa);;\nPEEK;3,6;;\n", ";", ","),
    # only values vote: a name's locants, free text and a notes column of mostly words do not
    "comma, locants in a quoted name": (
        'Material,Property,Value,Unit\n"Poly(1,4-butylene adipate)",E,1.234,GPa\n',
        ",",
        ".",
    ),
    "comma, locants in names, numbers in notes": (
        (
            'Material,E (GPa),Notes\n"Poly(1,4-butylene succinate)",0.525,"2,5 mm/min"\n'
            '"1,3-propanediol polyurethane",1.25,dry\nPCL,0.4,"conditioned 2,5 h"\n'
        ),
        ",",
        ".",
    ),
    "comma, a number-like name": ('Material,E (GPa)\n"1,4 dioxanone polymer",1.500\n', ",", "."),
    "semicolon, decimal commas beside locants": (
        "Material;Tm (°C);E (GPa)\nPoly(1,4-butylene adipate);60;0,35\n",
        ";",
        ",",
    ),
    "semicolon, a three-digit decimal comma beside locants": (
        "Material;E (GPa)\nPoly(1,4-butylene succinate);1,234\n",
        ";",
        ",",
    ),
}


@pytest.mark.parametrize("case", list(DELIMITED))
def test_delimiter_and_decimal_mark_are_detected(tmp_path, case):
    text, delimiter, decimal = DELIMITED[case]
    table = open_table(write(tmp_path, "lab.csv", text))
    assert (table.delimiter, table.decimal) == (delimiter, decimal)
    assert len(table.header) == len(text.splitlines()[0].rstrip(delimiter).split(delimiter))


def test_quoted_fields_keep_delimiters_quotes_and_newlines(tmp_path):
    text = (
        "Material,Synonyms,Notes\n"
        'PLLA,"poly(L-lactide), PLA","said ""semi-crystalline""\nsecond line"\n'
        'PCL,"polycaprolactone",plain\n'
    )
    table = open_table(write(tmp_path, "quoted.csv", text))
    assert rows_of(table) == {
        1: ["PLLA", "poly(L-lactide), PLA", 'said "semi-crystalline"\nsecond line'],
        2: ["PCL", "polycaprolactone", "plain"],  # a row is a record: the two-line cell is one row
    }


def test_short_rows_are_padded_and_empty_trailing_cells_dropped(tmp_path):
    table = open_table(write(tmp_path, "ragged.csv", "Material,E (GPa),Notes\nPEEK,3.6\nPLLA,3.5,,,\n"))
    assert rows_of(table) == {1: ["PEEK", "3.6", ""], 2: ["PLLA", "3.5", ""]}


def test_blank_and_delimiter_only_rows_are_dropped_but_keep_their_number(tmp_path):
    text = "\n\nMaterial;E (GPa)\n;\nPEEK;3,6\n\n  ; \nPLLA;3,5\n;;\n"
    table = open_table(write(tmp_path, "gaps.csv", text))
    assert table.header == ["Material", "E (GPa)"]
    assert rows_of(table) == {2: ["PEEK", "3,6"], 5: ["PLLA", "3,5"]}


def test_chunks_are_positional_text_indexed_by_data_row(eu_csv):
    chunk = next(open_table(eu_csv).chunks())
    # pandas-stubs type a frame's columns as str; a chunk's are positions
    assert list(chunk.columns) == list(range(7))  # type: ignore[comparison-overlap]
    assert list(chunk.index) == [1, 2]
    assert all(pd.api.types.is_string_dtype(dtype) for dtype in chunk.dtypes)
    assert all(isinstance(cell, str) for column in chunk for cell in chunk[column])


@pytest.mark.slow
def test_a_valid_row_then_a_million_empty_rows_reads_quickly(tmp_path):
    path = tmp_path / "padded.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("Material;Class;E (GPa);Density (g/cm3);Notes\nPEEK;polymer;3,6;1,3;\n")
        handle.write(";;;;\n" * 1_000_000)
    started = time.perf_counter()
    table = open_table(path)
    found = rows_of(table)
    print(f"1 row + 1,000,000 rows of ';;;;' opened and read in {time.perf_counter() - started:.2f} s")
    assert found == {1: ["PEEK", "polymer", "3,6", "1,3", ""]}


@pytest.fixture
def seeded_lab_csv(tmp_path) -> Path:
    """A few thousand rows from a fixed seed, with blank rows, quoted commas and a two-line cell."""
    generator = random.Random(20260101)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Material", "E (GPa)", "Notes"])
    for number in range(1, 3001):
        if generator.random() < 0.05:
            writer.writerow(["", "", ""])
        else:
            note = generator.choice(["", "annealed, 2 h", "two\nlines", "plain"])
            writer.writerow([f"M{number}", f"{generator.uniform(0.1, 200):.2f}".replace(".", ","), note])
    return write(tmp_path, "seeded.csv", buffer.getvalue())


def test_small_chunks_give_the_same_rows_as_one_chunk(seeded_lab_csv):
    table = open_table(seeded_lab_csv)
    whole = list(table.chunks(10**6))
    pieces = list(table.chunks(7))
    assert len(whole) == 1 and len(pieces) > 100
    assert all(len(piece) <= 7 for piece in pieces)
    pd.testing.assert_frame_equal(pd.concat(pieces), whole[0])
    assert 2800 < len(whole[0]) < 3000


def test_chunk_size_must_be_positive(eu_csv):
    with pytest.raises(ValueError, match="rows must be at least 1"):
        next(open_table(eu_csv).chunks(0))


_CELL_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from('"\n'), max_size=12
)


@settings(max_examples=examples(60), deadline=None)
@given(delimiter=st.sampled_from([",", ";", "\t", "|"]), width=st.integers(2, 5), data=st.data())
def test_what_csv_writer_writes_reads_back_cell_for_cell(tmp_path_factory, delimiter, width, data):
    others = {",", ";", "\t", "|"} - {delimiter}
    cell = _CELL_TEXT.filter(lambda text: not others & set(text))
    label = st.from_regex(r"[A-Za-z][A-Za-z0-9 ()]{0,10}[a-z)]", fullmatch=True)
    header = data.draw(st.lists(label, min_size=width, max_size=width, unique_by=str.casefold))
    body = data.draw(
        st.lists(
            st.tuples(
                st.from_regex(r"[A-Za-z][a-z0-9]{0,6}", fullmatch=True),
                st.lists(cell, min_size=width - 1, max_size=width - 1),
            ),
            max_size=20,
        )
    )
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows([first, *rest] for first, rest in body)
    path = write(tmp_path_factory.mktemp("roundtrip"), "written.csv", buffer.getvalue())
    table = open_table(path)
    assert (table.delimiter, table.header) == (delimiter, header)
    assert rows_of(table) == {number: [first, *rest] for number, (first, rest) in enumerate(body, start=1)}


# --- workbooks --------------------------------------------------------------------------------


@pytest.fixture
def peek_workbook(tmp_path) -> Path:
    """A workbook as a lab fills it: a title gap above the header, numbers, a formula-less error, a second sheet."""
    book = openpyxl.Workbook()
    sheet = first_sheet(book)
    sheet.title = "Mechanical"
    sheet.append([])
    sheet.append(["Material", "E (GPa)", "Cycles", "Density (g/cm3)", "Biodegradable", "Tested", "Note"])
    sheet.append(["PEEK", 3.6, 10, 1.3, False, dt.date(2024, 3, 1), "NA"])
    sheet.append([])
    # a workbook's date-times carry no zone
    sheet.append(["PLLA", 10.0, 1_000_000, 0.1 + 0.2, True, dt.datetime(2024, 3, 1, 12, 30), None, "stray"])  # noqa: DTZ001
    other = book.create_sheet("Thermal")
    other.append(["Material", "Tg (°C)"])
    other.append(["PLLA", 60])
    path = tmp_path / "lab.xlsx"
    book.save(path)
    return path


def test_workbook_numbers_become_the_text_excel_shows(peek_workbook):
    table = open_table(peek_workbook)
    assert (table.format, table.encoding, table.delimiter, table.decimal) == ("xlsx", None, None, ".")
    assert table.header == ["Material", "E (GPa)", "Cycles", "Density (g/cm3)", "Biodegradable", "Tested", "Note", ""]
    assert rows_of(table) == {
        1: ["PEEK", "3.6", "10", "1.3", "false", "2024-03-01", "NA", ""],
        3: ["PLLA", "10", "1000000", "0.3", "true", "2024-03-01 12:30:00", "", "stray"],
    }
    assert [issue.type for issue in header_issues(table.header)] == ["blank-header"]


def test_a_named_sheet(peek_workbook):
    table = open_table(peek_workbook, sheet="Thermal")
    assert table.header == ["Material", "Tg (°C)"]
    assert rows_of(table) == {1: ["PLLA", "60"]}


def test_a_missing_sheet_names_the_sheets_there_are(peek_workbook):
    with pytest.raises(ReadError) as caught:
        open_table(peek_workbook, sheet="Optical")
    (issue,) = caught.value.issues
    assert issue.type == "format-error" and "'Mechanical', 'Thermal'" in issue.message


def test_workbook_written_by_pandas(tmp_path):
    path = tmp_path / "sheet.xlsx"
    pd.DataFrame({"Material": ["PEEK"], "E (GPa)": [3.6], "Density (g/cm3)": [1.3], "Count": [10]}).to_excel(
        path, index=False, engine="openpyxl"
    )
    assert rows_of(open_table(path)) == {1: ["PEEK", "3.6", "1.3", "10"]}


def test_a_number_shown_as_a_percentage_reads_as_the_percentage_shown(tmp_path):
    """Excel stores 65 % as 0.65; read as 0.65 under "Porosity (%)" it would be a hundred times too small."""
    book = openpyxl.Workbook()
    sheet = first_sheet(book)
    sheet["C3"], sheet["D3"], sheet["E3"] = "Material", "Porosity (%)", "E (GPa)"
    sheet["C4"], sheet["D4"], sheet["E4"] = "HA", 0.65, 110
    sheet["C5"], sheet["D5"], sheet["E5"] = "TCP", 40, 0.9
    sheet["C6"], sheet["D6"] = "BCP", 0.075
    sheet["D4"].number_format = "0%"
    sheet["D6"].number_format = "0.0%"
    path = tmp_path / "percent.xlsx"
    book.save(path)
    assert rows_of(open_table(path)) == {1: ["HA", "65 %", "110"], 2: ["TCP", "40", "0.9"], 3: ["BCP", "7.5 %", ""]}


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda styles: styles,
        lambda styles: styles.replace('"', "'"),  # single-quoted attributes
        lambda styles: styles.replace('numFmtId="9"', 'numFmtId = "9"'),
        lambda styles: styles.replace("%", "&#37;"),  # the percent sign as a character reference
    ],
    ids=["as-written", "single-quotes", "spaces-around-equals", "character-reference"],
)
def test_a_percentage_format_is_found_however_the_styles_are_written(tmp_path, rewrite):
    import zipfile

    book = openpyxl.Workbook()
    sheet = first_sheet(book)
    sheet["A1"], sheet["B1"], sheet["A2"], sheet["B2"], sheet["A3"], sheet["B3"] = (
        "Material",
        "Porosity (%)",
        "HA",
        0.65,
        "TCP",
        0.4,
    )
    sheet["B2"].number_format = "0%"  # a built-in format: numFmtId 9
    sheet["B3"].number_format = "0.0%"  # a custom one: a formatCode with %
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    path = tmp_path / "rewritten.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/styles.xml":
                data = rewrite(data.decode("utf-8")).encode("utf-8")
            target.writestr(name, data)
    assert rows_of(open_table(path)) == {1: ["HA", "65 %"], 2: ["TCP", "40 %"]}


def _with_cached_values(path: Path, values: dict[str, str]) -> None:
    """Give formula cells the value a spreadsheet application would have stored beside them
    (openpyxl writes formulas without one)."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
    for cell, value in values.items():
        sheet, count = re.subn(rf'(<c r="{cell}"[^>]*>\s*<f>[^<]*</f>)\s*<v\s*/>', rf"\1<v>{value}</v>", sheet)
        assert count == 1, cell
    parts["xl/worksheets/sheet1.xml"] = sheet.encode("utf-8")
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_a_formula_without_a_computed_value_is_refused_by_cell_not_read_as_empty(tmp_path):
    book = openpyxl.Workbook()
    sheet = first_sheet(book)
    sheet.append(["Material", "E (GPa)", "Porosity (%)"])
    sheet.append(["HA", "=100+10", "=0.6+0.05"])
    sheet["C2"].number_format = "0%"
    path = tmp_path / "formulas.xlsx"
    book.save(path)
    issues = refusal(path)
    assert [(issue.type, issue.value) for issue in issues] == [
        ("format-error", "=100+10"),
        ("format-error", "=0.6+0.05"),
    ]
    assert "cell B2" in issues[0].message and "no computed value" in issues[0].message
    _with_cached_values(path, {"B2": "110", "C2": "0.65"})  # as Excel or LibreOffice would have saved it
    assert rows_of(open_table(path)) == {1: ["HA", "110", "65 %"]}


def test_a_formula_that_computed_an_empty_text_is_an_empty_cell(tmp_path):
    book = openpyxl.Workbook()
    sheet = first_sheet(book)
    sheet.append(["Material", "E (GPa)", "Note"])
    sheet.append(["HA", 110, '=IF(B2>200,"stiff","")'])
    path = tmp_path / "blank-formula.xlsx"
    book.save(path)
    assert refusal(path)[0].value == '=IF(B2>200,"stiff","")'
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/worksheets/sheet1.xml"] = (
        parts["xl/worksheets/sheet1.xml"]
        .replace(b'<c r="C2"><f>', b'<c r="C2" t="str"><f>')
        .replace(b"</f><v /></c>", b"</f><v></v></c>")
    )
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    assert rows_of(open_table(path)) == {1: ["HA", "110", ""]}


def test_text_renamed_xlsx_is_a_format_error(tmp_path):
    (issue,) = refusal(write(tmp_path, "fake.xlsx", "Material,E\nPEEK,3.6\n"))
    assert issue.type == "format-error" and "b'Material'" in issue.message


def test_an_empty_sheet_is_an_empty_file(tmp_path):
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    assert [issue.type for issue in refusal(path)] == ["empty-file"]


# --- JSON -------------------------------------------------------------------------------------


def test_json_array_of_flat_records(tmp_path):
    records = [
        {"name": "PEEK", "E (GPa)": 3.6, "cycles": 10, "whole": 10.0, "biodegradable": False, "note": None},
        {"name": "PLLA", "E (GPa)": "3,5", "biodegradable": True, "synonyms": ["PLA", "poly(L-lactide)"]},
    ]
    table = open_table(write(tmp_path, "records.json", json.dumps(records)))
    assert (table.format, table.encoding, table.delimiter, table.decimal) == ("json", None, None, ".")
    assert table.header == ["name", "E (GPa)", "cycles", "whole", "biodegradable", "note", "synonyms"]
    assert rows_of(table) == {
        1: ["PEEK", "3.6", "10", "10", "false", "", ""],
        2: ["PLLA", "3,5", "", "", "true", "", "PLA; poly(L-lactide)"],
    }


@pytest.mark.parametrize("key", ["data", "records", "rows", "materials"])
def test_json_object_holding_the_records(tmp_path, key):
    document = {"version": 2, "meta": {"lab": "X"}, "tags": [], key: [{"name": "PEEK", "density": 1.3}]}
    if key != "data":
        document.pop("tags")
    table = open_table(write(tmp_path, "wrapped.json", json.dumps(document)))
    assert rows_of(table) == {1: ["PEEK", "1.3"]}


def test_json_measurements_are_flattened_one_row_each(tmp_path):
    records = [
        {
            "name": "Alumina",
            "class": "ceramic",
            "measurements": [
                {"property": "density", "value": 3.98, "unit": "g/cm3"},
                {"property": "hardness_vickers", "value": 1800, "unit": "HV", "class": "bioceramic"},
            ],
        },
        {"name": "PEEK", "measurements": []},
        {"name": "PLLA", "class": "polymer"},
    ]
    table = open_table(write(tmp_path, "long.json", json.dumps(records)))
    assert table.header == ["name", "class", "property", "value", "unit"]
    assert rows_of(table) == {
        1: ["Alumina", "ceramic", "density", "3.98", "g/cm3"],
        2: ["Alumina", "bioceramic", "hardness_vickers", "1800", "HV"],  # the measurement's own field wins
        3: ["PEEK", "", "", "", ""],
        4: ["PLLA", "polymer", "", "", ""],
    }


def test_json_nested_objects_elsewhere_are_format_errors(tmp_path):
    records = [
        {"name": "PEEK", "density": {"value": 1.3, "unit": "g/cm3"}},
        {"name": "PLLA", "measurements": [{"property": "E", "value": [{"min": 3}]}]},
        "PCL",
    ]
    issues = refusal(write(tmp_path, "nested.json", json.dumps(records)))
    assert [(issue.type, issue.row, issue.column, issue.path) for issue in issues] == [
        ("format-error", 1, "density", "$[0].density"),
        ("format-error", 2, "value", "$[1].measurements[0].value"),
        ("format-error", 3, None, "$[2]"),
    ]
    assert "record 2, measurement 1" in issues[1].message


def test_a_json_issue_is_located_by_the_path_of_its_value(tmp_path):
    document = {
        "lab": "X",
        "materials": [
            {"name": "PEEK", "class": "polymer", "measurements": [{"property": "E", "value": 3.6, "unit": "GPa"}]},
            {
                "name": "PLLA",
                "Tg (°C)": 60,
                "it's": 1,
                "measurements": [
                    {"property": "E", "value": 3.5},
                    {"property": "E", "value": "abc", "class": "biopolymer"},
                ],
            },
            {"name": "Ti", "measurements": []},
        ],
    }
    table = open_table(write(tmp_path, "deep.json", json.dumps(document)))
    assert table.header == ["name", "class", "property", "value", "unit", "Tg (°C)", "it's"]

    def path(row, column):
        return table.locate(Issue(type="type-error", message="", row=row, column=column)).path

    assert path(3, "value") == "$.materials[1].measurements[1].value"
    assert path(3, "class") == "$.materials[1].measurements[1].class"  # the measurement's own field wins
    assert path(2, "class") == "$.materials[1].class"
    assert path(2, "name") == "$.materials[1].name"
    assert path(2, "Tg (°C)") == "$.materials[1]['Tg (°C)']"
    assert path(2, "it's") == "$.materials[1]['it\\'s']"
    assert path(4, "name") == "$.materials[2].name"  # a record with no measurements
    assert path(3, None) == "$.materials[1].measurements[1]"
    assert path(3, "no such column") == "$.materials[1].measurements[1]"
    assert path(None, "unit") == "$.materials[*].measurements[*].unit"
    assert path(None, "Tg (°C)") == "$.materials[*]['Tg (°C)']"
    assert path(None, None) is None
    already = Issue(type="x", message="", row=3, column="value", path="$.elsewhere")
    assert table.locate(already) is already


def test_a_delimited_table_adds_no_path(tmp_path):
    table = open_table(write(tmp_path, "lab.csv", "Material,E (GPa)\nPEEK,abc\n"))
    issue = Issue(type="type-error", message="", row=1, column="E (GPa)", value="abc")
    assert table.locate(issue) is issue and "path" not in issue.as_dict()


JSON_REFUSALS: dict[str, tuple[str | bytes, str, str]] = {
    "syntax error": ('[{"name": "PEEK",}]', "format-error", "trailing comma is not allowed at line 1"),
    "two arrays, neither known": ('{"a": [{"x": 1}], "b": [{"y": 2}]}', "format-error", "'a', 'b'"),
    "a single number": ("42", "format-error", "single number"),
    "empty": ("", "empty-file", "empty"),
    "latin-1": ('[{"name": "caf\xe9"}]'.encode("latin-1"), "encoding-error", "0xE9 at line 1"),
}


@pytest.mark.parametrize("case", list(JSON_REFUSALS))
def test_unreadable_json_is_refused_precisely(tmp_path, case):
    content, error_type, said = JSON_REFUSALS[case]
    (issue,) = refusal(write(tmp_path, "bad.json", content))
    assert issue.type == error_type and said in issue.message, issue


# --- refusals ---------------------------------------------------------------------------------

REFUSALS: dict[str, tuple[str, str | bytes, str, str]] = {
    # name: (file name, content, type, words the message must hold)
    "empty file": ("empty.csv", b"", "empty-file", "0 bytes"),
    "empty workbook file": ("empty.xlsx", b"", "empty-file", "0 bytes"),
    "only a byte-order mark": ("bom.csv", b"\xef\xbb\xbf", "empty-file", "no header"),
    "only blank lines and delimiters": ("blank.csv", "\r\n;;;\r\n\r\n", "empty-file", "no header"),
    "png renamed csv": ("plot.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "format-error", "PNG image"),
    "xlsx renamed csv": ("sheet.csv", b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), "format-error", "ZIP archive"),
    "pdf renamed csv": ("paper.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "format-error", "PDF document"),
    "unknown binary": ("blob.csv", bytes(range(256)) * 8, "format-error", "looks binary"),
    "nul byte in text": ("nul.csv", b"Material,Density (g/cm3)\nA,1.2\x00\n", "encoding-error", "line 2"),
    "neither utf-8 nor windows-1252": ("odd.csv", b"Material;Note\nA;\x81\n", "encoding-error", "0x81 at line 2"),
    "unsupported extension": ("notes.docx", b"Material\n", "format-error", "'.docx'"),
    "unclosed quote": (
        "quote.csv",
        'Material,Note\nA,ok\nB,"never closed\nC,x\n',
        "format-error",
        "data row 2 (line 3)",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_unreadable_files_are_refused_precisely(tmp_path, case):
    name, content, error_type, said = REFUSALS[case]
    (issue,) = refusal(write(tmp_path, name, content))
    assert issue.type == error_type and said in issue.message, issue


def test_only_workbooks_have_sheets(eu_csv):
    with pytest.raises(ReadError) as caught:
        open_table(eu_csv, sheet="Sheet1")
    assert caught.value.type == "format-error" and isinstance(caught.value, BiomatError)


def test_binary_refusal_shows_the_first_bytes(tmp_path):
    (issue,) = refusal(write(tmp_path, "plot.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    assert r"b'\x89PNG\r\n\x1a\n'" in issue.message


def test_a_header_without_rows_is_a_table_without_rows(tmp_path):
    table = open_table(write(tmp_path, "header.csv", "Material;E (GPa)\r\n"))
    assert table.header == ["Material", "E (GPa)"]
    assert list(table.chunks()) == []


def test_a_row_wider_than_the_header_names_its_data_row(tmp_path):
    text = "Material,Density (g/cm3)\nA,1.2\nB,1.3,extra,cells\n"
    table = open_table(write(tmp_path, "bad.csv", text))
    chunks = table.chunks(1)
    assert list(next(chunks).index) == [1]  # rows before the bad one are still handed out
    with pytest.raises(ReadError) as caught:
        next(chunks)
    (issue,) = caught.value.issues
    assert (issue.type, issue.row) == ("extra-cell", 2)
    assert "data row 2" in issue.message and "4 fields" in issue.message


# --- header -----------------------------------------------------------------------------------

HEADERS = {
    # each case: its header, then the issues it raises, as (type, column) pairs
    "clean": (["Material", "E (GPa)"], []),
    "blank": (["Material", " ", "E (GPa)", ""], [("blank-header", "#2"), ("blank-header", "#4")]),
    "duplicate": (["Material", "E (GPa)", "e (gpa) "], [("duplicate-label", "e (gpa)")]),
    "three times": (["Tg", "TG", "tg"], [("duplicate-label", "TG"), ("duplicate-label", "tg")]),
}


@pytest.mark.parametrize("case", list(HEADERS))
def test_header_issues(case):
    header, expected = HEADERS[case]
    assert [(issue.type, issue.column) for issue in header_issues(header)] == expected


def test_a_duplicate_label_names_both_positions():
    (issue,) = header_issues(["Material", "Density (g/cm3)", "Density (g/cm3)"])
    assert "2" in issue.message and "3" in issue.message
