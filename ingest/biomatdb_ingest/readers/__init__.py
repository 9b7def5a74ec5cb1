"""Open the files labs send — CSV/TSV, spreadsheets, JSON — as tables of text.

A :class:`Table` knows its header and hands out its data rows in chunks of text cells
(positional columns, indexed by 1-based data row), so that memory stays bounded however
long a delimited file is. Nothing here interprets a cell: numbers in workbooks and JSON
become the text a person would have typed, and the cell parser reads them later.

Which reader opens a file is one table, ``FORMATS``: a suffix, the function that opens it and
what that function is told (a one-column file's delimiter, a workbook's format). The CLI, API
uploads, the fixtures and the job queue all ask it (``SUFFIXES``, ``folder_suffixes``,
``is_delimited``), so a new format — Parquet, say — is one module and one row. The content has
the last word over the name: a workbook saved as ``.csv`` is read as the workbook it is, and a
file with no known suffix is read when its first bytes say what it is (``sniff``).

What a file may look like, and what each refusal means, is promised by :func:`open_table`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from biomatdb_ingest.limits import LimitExceeded, ReadLimits, check_columns
from biomatdb_ingest.readers.delimited import open_delimited
from biomatdb_ingest.readers.jsonfile import open_json
from biomatdb_ingest.readers.table import SAMPLE_BYTES, UTF8_BOM, ReadError, Table, format_error, header_issues
from biomatdb_ingest.readers.workbook import open_workbook
from biomatdb_ingest.report import Issue

__all__ = [
    "FORMATS",
    "SAMPLE_BYTES",
    "SUFFIXES",
    "Format",
    "ReadError",
    "Table",
    "folder_suffixes",
    "format_for",
    "header_issues",
    "is_delimited",
    "open_table",
    "sniff",
]

#: ``open(path, hint, sheet, limits)``: the file as a table, or a ``ReadError`` saying why not.
Opener = Callable[[Path, str, "str | None", ReadLimits], Table]


@dataclass(frozen=True)
class Format:
    """One kind of file a curator may send."""

    suffix: str  # as the file's name ends, lower case
    open: Opener
    hint: str  # what ``open`` is told: a delimited file's delimiter when it has one column, a workbook's format
    sheets: bool = False  # a workbook: ``--sheet`` names one of its sheets
    in_folders: bool = True  # found by a folder scan (fixtures); ``.txt`` is more often notes than data


FORMATS: tuple[Format, ...] = (
    Format(".csv", open_delimited, ","),
    Format(".tsv", open_delimited, "\t"),
    Format(".tab", open_delimited, "\t"),
    Format(".txt", open_delimited, ",", in_folders=False),
    Format(".xlsx", open_workbook, "xlsx", sheets=True),
    Format(".xlsm", open_workbook, "xlsm", sheets=True),
    Format(".xlsb", open_workbook, "xlsb", sheets=True),
    Format(".xls", open_workbook, "xls", sheets=True),
    Format(".ods", open_workbook, "ods", sheets=True),
    Format(".json", open_json, "json"),
)

_BY_SUFFIX = {f.suffix: f for f in FORMATS}
#: Every suffix a file may have, in the table's order.
SUFFIXES: tuple[str, ...] = tuple(_BY_SUFFIX)

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def folder_suffixes() -> tuple[str, ...]:
    """The suffixes a scan of a folder treats as data."""
    return tuple(f.suffix for f in FORMATS if f.in_folders)


def is_delimited(path: Path) -> bool:
    """The file is read as delimited text, one record a line or more: what ``format_for`` says,
    so a workbook named ``.csv`` is not."""
    found = format_for(path)
    return found is not None and found.open is open_delimited


def sniff(path: Path) -> Format | None:
    """What the first bytes say the file is, when they say it: a workbook by its container (an
    Office Open XML or OpenDocument ZIP, an OLE2 compound file), JSON by an opening ``{`` or
    ``[``. None for anything else (text is not told apart from other text by its bytes)."""
    with path.open("rb") as handle:
        start = handle.read(SAMPLE_BYTES)
    if start.startswith(_OLE2):
        return _BY_SUFFIX[".xls"]
    if start.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                mimetype = archive.read("mimetype").strip() if "mimetype" in names else b""
        except (zipfile.BadZipFile, OSError, KeyError):
            return None
        if "xl/workbook.bin" in names:
            return _BY_SUFFIX[".xlsb"]
        if "xl/workbook.xml" in names:
            return _BY_SUFFIX[".xlsm" if "xl/vbaProject.bin" in names else ".xlsx"]
        if mimetype == _ODS_MIMETYPE:
            return _BY_SUFFIX[".ods"]
        return None
    text = start.removeprefix(UTF8_BOM).lstrip()
    if text[:1] in (b"{", b"["):
        return _BY_SUFFIX[".json"]
    return None


def format_for(path: Path) -> Format | None:
    """The format that reads ``path``: by its suffix, unless its content is a workbook (a workbook
    named ``.csv`` or ``.json`` is read as one); by its content when the suffix is unknown."""
    named = _BY_SUFFIX.get(path.suffix.lower())
    if named is not None and named.sheets:
        return named
    try:
        found = sniff(path)
    except OSError:
        return named
    if found is not None and (named is None or found.sheets):
        return found
    return named


def open_table(path: Path | str, *, sheet: str | None = None, limits: ReadLimits = ReadLimits()) -> Table:
    """Open a CSV/TSV (``.csv``, ``.tsv``, ``.tab``, ``.txt``), workbook (``.xlsx``, ``.xlsm``,
    ``.xlsb``, ``.xls``, ``.ods``; the first sheet, or ``sheet``) or JSON file as a :class:`Table`
    (``format_for`` chooses the reader).

    Delimited text: the delimiter (``,`` ``;`` tab ``|``) is the one that splits a sample of the
    file into the most consistent table; the decimal mark is ``,`` when the sample's values
    clearly use it (names and free text do not count, see ``delimited._decimal_mark``); the
    encoding is UTF-8 (a byte-order mark is dropped) when the whole file decodes as UTF-8, UTF-16
    when it starts with a UTF-16 byte-order mark, Windows-1252 otherwise. Blank lines before the
    header are skipped; trailing blank header labels (from trailing delimiters) are dropped.

    Raises :class:`ReadError` for an empty file (``empty-file``), binary content, an unknown
    file type, a missing sheet or invalid JSON (``format-error``), NUL bytes or bytes that no
    supported encoding decodes (``encoding-error``). A header without rows is a table with no rows.
    I/O errors (a missing file) propagate as :class:`OSError`.
    """
    path = Path(path)
    if path.stat().st_size == 0 and (path.suffix.lower() in _BY_SUFFIX):
        raise ReadError([Issue(type="empty-file", message=f"{path.name} is empty (0 bytes)")])
    found = format_for(path)
    if found is None:
        suffix = path.suffix.lower()
        known = ", ".join(sorted(SUFFIXES))
        raise ReadError(
            [
                format_error(
                    f"{path.name}: unsupported file type {suffix or '(no extension)'!r}; expected one of {known}"
                )
            ]
        )
    if sheet is not None and not found.sheets:
        raise ReadError([format_error(f"{path.name} is not a workbook, so it has no sheet {sheet!r}")])
    try:
        table = found.open(path, found.hint, sheet, limits)
        check_columns(len(table.header), limits)
    except LimitExceeded as exceeded:
        raise ReadError([exceeded.issue]) from None
    return table
