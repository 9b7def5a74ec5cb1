"""Open the files labs send — CSV/TSV, spreadsheets, JSON — as tables of text.

A :class:`Table` knows its header and hands out its data rows in chunks of text cells
(positional columns, indexed by 1-based data row), so that memory stays bounded however
long a delimited file is. Nothing here interprets a cell: numbers in workbooks and JSON
become the text a person would have typed, and the cell parser reads them later.

What a file may look like, and what each refusal means, is promised by :func:`open_table`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
import zipfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import islice, pairwise
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import python_calamine

from biomatdb.errors import BiomatError
from biomatdb.spreadsheet import QUOTE, restore
from biomatdb.vocabulary import get_vocabulary
from ingest.cells import EMPTY, value_numbers
from ingest.limits import LimitExceeded, ReadLimits, check_columns, check_workbook, is_sheet_like
from ingest.report import Issue

#: Bytes read to detect delimiter, decimal mark and binary content.
SAMPLE_BYTES = 64 * 1024
#: Records of the sample weighed when choosing the delimiter.
SAMPLE_RECORDS = 1000
_BLOCK_BYTES = 1 << 20
_DELIMITERS = ("\t", ";", "|", ",")  # also the order of preference between equally good candidates
_DELIMITED = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": ","}  # suffix → delimiter of a one-column file
_WORKBOOKS = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
_JSON = {".json"}
_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"PK\x03\x04", "a ZIP archive (an .xlsx, .ods or .docx file?)"),
    (b"%PDF-", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 compound file (a legacy .xls or .doc?)"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_CONTROL_BYTES = bytes([*range(9), 11, *range(14, 27), *range(28, 32), 127])
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
#: Share of control bytes in the sample above which a file is binary, not text with a stray byte.
_BINARY_SHARE = 0.05
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_DOI = re.compile(r"10\.\d{4,9}/")
#: Keys of a JSON object under which the array of records is looked for first.
_RECORD_KEYS = ("data", "records", "rows", "materials", "items", "results", "entries", "measurements")
_MEASUREMENTS = "measurements"


class ReadError(BiomatError, ValueError):
    """The file cannot be read as a table at all; ``issues`` says precisely why."""

    type = "read-error"

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: list[Issue] = list(issues)
        super().__init__(
            "; ".join(issue.message for issue in self.issues[:3]) or "unreadable file",
            type=self.issues[0].type if self.issues else None,
        )


@dataclass
class Table:
    """A file opened as a table: its header now, its data rows on demand."""

    path: Path
    format: str  # "csv" | "tsv" | "xlsx" (or "xlsm", "xlsb", "xls", "ods") | "json"
    encoding: str | None  # "utf-8", "utf-8-sig", "utf-16" or "cp1252"; None for workbooks and JSON
    delimiter: str | None
    decimal: str  # "." or ","
    header: list[str]
    _records: Callable[[], Iterator[tuple[int, list[str]]]] = field(repr=False, compare=False)
    _paths: _JsonPaths | None = field(default=None, repr=False, compare=False)

    def locate(self, issue: Issue) -> Issue:
        """``issue`` with the JSON path of what it names, for a table read from JSON: the value of
        its row and column (``$.materials[2].measurements[0].value``), the object of its row when
        the column is not there, or every place of its column when it names no row
        (``$.materials[*].colour``). Issues of other tables, and those that already have a path or
        name neither row nor column, come back as they are."""
        if self._paths is None or issue.path is not None:
            return issue
        path = self._paths.path(issue.row, self._position(issue.column))
        return issue if path is None else replace(issue, path=path)

    def _position(self, label: str | None) -> int | None:
        if label is None:
            return None
        try:
            return self.header.index(label)
        except ValueError:
            return None

    def chunks(self, rows: int = 100_000) -> Iterator[pd.DataFrame]:
        """DataFrames of at most ``rows`` rows whose columns are positions 0..n-1 of the header and
        whose cells are all ``str`` ("" for empty), indexed by 1-based data row (row 1 is the first
        row after the header). Entirely empty rows — blank lines, lines of only delimiters, cells of
        only whitespace — are dropped but keep their number, so later rows keep theirs.

        In delimited text a row is a record, as a spreadsheet shows it: a quoted cell spanning
        lines is one row (messages name the physical line as well). Each call reads the file afresh. A row that cannot be read (a delimited row with values
        beyond the header) raises :class:`ReadError` when it is reached, after the chunks before it.
        """
        if rows < 1:
            raise ValueError(f"rows must be at least 1, got {rows}")
        width = len(self.header)
        numbers: list[int] = []
        cells: list[list[str]] = []
        for number, fields in self._records():
            if not any(fields) or not (fields[0].strip() or any(text.strip() for text in fields)):
                continue
            numbers.append(number)
            cells.append(fields if len(fields) == width else (fields + [""] * (width - len(fields)))[:width])
            if len(cells) == rows:
                yield _frame(cells, numbers, width)
                numbers, cells = [], []
        if cells:
            yield _frame(cells, numbers, width)


def _frame(cells: list[list[str]], numbers: list[int], width: int) -> pd.DataFrame:
    frame = pd.DataFrame(cells, index=pd.Index(numbers, dtype="int64"), columns=range(width), dtype=str)
    for column in frame.columns:  # a cell quoted against formulas by an export reads as it was
        quoted = frame[column].str.startswith(QUOTE)
        if quoted.any():
            frame.loc[quoted, column] = frame.loc[quoted, column].map(restore)
    return frame


def open_table(path: Path | str, *, sheet: str | None = None, limits: ReadLimits = ReadLimits()) -> Table:
    """Open a CSV/TSV (``.csv``, ``.tsv``, ``.tab``, ``.txt``), workbook (``.xlsx``, ``.xlsm``,
    ``.xlsb``, ``.xls``, ``.ods``; the first sheet, or ``sheet``) or JSON file as a :class:`Table`.

    Delimited text: the delimiter (``,`` ``;`` tab ``|``) is the one that splits a sample of the
    file into the most consistent table; the decimal mark is ``,`` when the sample's values
    clearly use it (names and free text do not count, see :func:`_decimal_mark`); the encoding is UTF-8 (a byte-order mark is dropped) when the whole file
    decodes as UTF-8, UTF-16 when it starts with a UTF-16 byte-order mark, Windows-1252
    otherwise. Blank lines before the header are skipped; trailing blank header labels (from
    trailing delimiters) are dropped.

    Raises :class:`ReadError` for an empty file (``empty-file``), binary content, an unknown
    extension, a missing sheet or invalid JSON (``format-error``), NUL bytes or bytes that no
    supported encoding decodes (``encoding-error``). A header without rows is a table with no rows.
    I/O errors (a missing file) propagate as :class:`OSError`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if sheet is not None and suffix not in _WORKBOOKS:
        raise ReadError([_format_error(f"{path.name} is not a workbook, so it has no sheet {sheet!r}")])
    if suffix in {*_DELIMITED, *_WORKBOOKS, *_JSON} and path.stat().st_size == 0:
        raise ReadError([Issue(type="empty-file", message=f"{path.name} is empty (0 bytes)")])
    try:
        if suffix in _DELIMITED:
            table = _open_delimited(path, _DELIMITED[suffix])
        elif suffix in _WORKBOOKS:
            check_workbook(path, limits)
            table = _open_workbook(path, sheet)
        elif suffix in _JSON:
            table = _open_json(path, limits)
        else:
            table = None
        if table is not None:
            check_columns(len(table.header), limits)
            return table
    except LimitExceeded as exceeded:
        raise ReadError([exceeded.issue]) from None
    known = ", ".join(sorted({*_DELIMITED, *_WORKBOOKS, *_JSON}))
    raise ReadError(
        [_format_error(f"{path.name}: unsupported file type {suffix or '(no extension)'!r}; expected one of {known}")]
    )


def header_issues(header: list[str]) -> list[Issue]:
    """``blank-header`` for every unlabelled column (column ``#position``, 1-based) and
    ``duplicate-label`` for every label that repeats an earlier one, ignoring case and
    surrounding whitespace."""
    issues = []
    first_position: dict[str, int] = {}
    for position, label in enumerate(header, start=1):
        key = label.strip().casefold()
        if not key:
            issues.append(
                Issue(type="blank-header", message=f"column {position} has no header label", column=f"#{position}")
            )
        elif key in first_position:
            issues.append(
                Issue(
                    type="duplicate-label",
                    column=label.strip(),
                    value=label,
                    message=f"columns {first_position[key]} and {position} are both labelled {label.strip()!r}",
                )
            )
        else:
            first_position[key] = position
    return issues


def _format_error(message: str, row: int | None = None, column: str | None = None, path: str | None = None) -> Issue:
    return Issue(type="format-error", message=message, row=row, column=column, path=path)


def _label(text: str) -> str:
    return text.replace("\ufeff", "").strip()


# --- delimited text ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Encoding:
    name: str  # as reported on the Table
    codec: str  # what decodes the bytes after the byte-order mark
    bom_length: int


def _open_delimited(path: Path, default_delimiter: str) -> Table:
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    encoding = _detect_encoding(path, sample)
    whole = len(sample) < SAMPLE_BYTES
    text = codecs.getincrementaldecoder(encoding.codec)(errors="replace").decode(
        sample[encoding.bom_length :], final=whole
    )
    if not whole:
        text = text[: text.rfind("\n") + 1] or text
    delimiter = _choose_delimiter(text, default_delimiter, whole)
    header = _read_header(path, encoding, delimiter)
    if not header:
        raise ReadError(
            [Issue(type="empty-file", message=f"{path.name} holds no header row, only blank lines or delimiters")]
        )
    sample_rows = (
        fields
        for fields in islice(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), SAMPLE_RECORDS)
        if any(cell.strip() for cell in fields)
    )
    next(sample_rows, None)  # the header
    return Table(
        path=path,
        format="tsv" if delimiter == "\t" else "csv",
        encoding=encoding.name,
        delimiter=delimiter,
        decimal=_decimal_mark(sample_rows),
        header=header,
        _records=lambda: _data_records(path, encoding, delimiter, len(header)),
    )


def _detect_encoding(path: Path, sample: bytes) -> _Encoding:
    """UTF-16 by its byte-order mark; else UTF-8 when the whole file decodes so; else Windows-1252.

    One streaming pass over the file checks UTF-8 validity, NUL bytes and the five bytes
    Windows-1252 leaves undefined, so a byte late in a large file still decides."""
    if sample.startswith(_UTF16_BOMS):
        _check_decodes(path, "utf-16")
        return _Encoding("utf-16", "utf-16", 0)
    _refuse_binary(path, sample)
    bom_length = len(_UTF8_BOM) if sample.startswith(_UTF8_BOM) else 0
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_valid, undefined_at, lines, offset = True, None, 1, bom_length
    multibyte_line, invalid_at = None, None  # the first line written in UTF-8, the first that is not
    with path.open("rb") as handle:
        handle.seek(bom_length)
        for block in iter(lambda: handle.read(_BLOCK_BYTES), b""):
            nul = block.find(b"\x00")
            if nul >= 0:
                line = lines + block.count(b"\n", 0, nul)
                raise ReadError(
                    [
                        Issue(
                            type="encoding-error",
                            message=f"{path.name} holds a NUL byte at line {line} "
                            f"(byte {offset + nul:,}); it is not plain text there — save the file again as CSV",
                        )
                    ]
                )
            if undefined_at is None and (match := _CP1252_UNDEFINED.search(block)):
                undefined_at = (offset + match.start(), lines + block.count(b"\n", 0, match.start()), match.group())
            if not block.isascii():
                if multibyte_line is None and (multibyte := _UTF8_MULTIBYTE.search(block)):
                    multibyte_line = lines + block.count(b"\n", 0, multibyte.start())
                if utf8_valid:
                    try:
                        utf8.decode(block)
                    except UnicodeDecodeError as bad:
                        utf8_valid = False
                        at = max(0, min(bad.start, len(block) - 1))
                        invalid_at = (lines + block.count(b"\n", 0, at), block[at : at + 1])
            lines += block.count(b"\n")
            offset += len(block)
    if utf8_valid:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_valid = False
    if utf8_valid:
        return _Encoding("utf-8-sig" if bom_length else "utf-8", "utf-8", bom_length)
    if multibyte_line is not None and invalid_at is not None:
        line, byte = invalid_at
        raise ReadError(
            [
                Issue(
                    type="encoding-error",
                    message=(
                        f"{path.name} mixes encodings: line {multibyte_line} is written in UTF-8 but byte 0x{byte.hex().upper()} "
                        f"at line {line} is not UTF-8 (Windows-1252, perhaps); read as one or the other, one of the two lines "
                        f"would be garbled, so save the whole file as UTF-8"
                    ),
                )
            ]
        )
    if undefined_at is None:
        return _Encoding("cp1252", "cp1252", bom_length)
    position, line, byte = undefined_at
    raise ReadError(
        [
            Issue(
                type="encoding-error",
                message=f"{path.name} is neither UTF-8 nor Windows-1252: byte 0x{byte.hex().upper()} "
                f"at line {line} (byte {position:,}) is undefined in both; save the file as UTF-8",
            )
        ]
    )


# a well-formed UTF-8 sequence of two to four bytes: in a file that is not UTF-8 throughout,
# its presence means the file mixes encodings (Windows-1252 text almost never forms one)
_UTF8_MULTIBYTE = re.compile(rb"[\xC2-\xDF][\x80-\xBF]|[\xE0-\xEF][\x80-\xBF]{2}|[\xF0-\xF4][\x80-\xBF]{3}")


def _refuse_binary(path: Path, sample: bytes) -> None:
    """A known binary signature, or a sample with many control bytes, is no text file."""
    for signature, kind in _SIGNATURES:
        if sample.startswith(signature):
            raise ReadError(
                [_format_error(f"{path.name} is not text but looks like {kind} (it starts with {sample[:8]!r})")]
            )
    control_share = len(sample.translate(None, _NOT_CONTROL)) / len(sample)
    if control_share > _BINARY_SHARE:
        raise ReadError(
            [
                _format_error(
                    f"{path.name} looks binary, not text: {control_share:.0%} of its first "
                    f"{len(sample):,} bytes are control bytes (it starts with {sample[:8]!r})"
                )
            ]
        )


def _check_decodes(path: Path, codec: str) -> None:
    decoder = codecs.getincrementaldecoder(codec)()
    with path.open("rb") as handle:
        try:
            for block in iter(lambda: handle.read(_BLOCK_BYTES), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise ReadError(
                [
                    Issue(
                        type="encoding-error",
                        message=f"{path.name} starts with a {codec} byte-order mark "
                        f"but does not decode as {codec}: {exc.reason}",
                    )
                ]
            ) from exc


def _choose_delimiter(text: str, default: str, whole: bool) -> str:
    """The candidate that splits the sample into the most rows as wide as the header, then the
    widest such table, then the first in ``_DELIMITERS``. A file no candidate splits into two or
    more columns has one column, and the extension's delimiter.

    Not ``csv.Sniffer``: between equally consistent candidates it prefers ``,``, and so splits
    ``Material;Density, g/cm3`` / ``PEEK;1,3`` at the commas."""

    def score(delimiter: str) -> tuple[bool, float, int, int]:
        records = [
            fields
            for fields in islice(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), SAMPLE_RECORDS)
            if any(cell.strip() for cell in fields)
        ]
        if not whole and len(records) > 2:
            records.pop()  # the sample may end inside the last record
        if not records:  # nothing but this delimiter and blanks: a table of empty rows
            return (True, 1.0, 0, -_DELIMITERS.index(delimiter))
        header, rows = records[0], records[1:]
        width = len(header)
        while width and not _label(header[width - 1]):
            width -= 1
        consistent = sum(len(fields) == len(header) for fields in rows) / len(rows) if rows else 1.0
        return (width >= 2, consistent, width, -_DELIMITERS.index(delimiter))

    scores = {delimiter: score(delimiter) for delimiter in _DELIMITERS}
    best = max(scores, key=scores.__getitem__)
    return best if scores[best][0] else default


def _decimal_mark(rows: Iterable[list[str]]) -> str:
    """``,`` when the sample's values hold more numbers that clearly use a decimal comma (``3,6``,
    ``0,125``, ``1.234,5``) than a decimal point; also when the only numbers with a separator are
    ones like ``1,500`` and no ``.`` appears (Excel writes no thousands separators into CSV).

    Only values vote: the numbers of cells that read as a value (``ingest.cells.value_numbers``)
    in columns where at least half the filled cells do. The locants of a name (``Poly(1,4-butylene
    adipate)``), numbers in free text and DOIs say nothing about how the file writes its values."""
    numbers_by_column: dict[int, list[str]] = {}
    filled: dict[int, int] = {}
    valued: dict[int, int] = {}
    vocabulary = get_vocabulary()
    for fields in rows:
        for position, cell in enumerate(fields):
            if not cell.strip() or cell.strip().casefold() in EMPTY or vocabulary.find_qualitative(cell):
                continue  # no number, but no sign of a text column either ("n.d.", "amorphous")
            filled[position] = filled.get(position, 0) + 1
            numbers = () if _DOI.search(cell) else value_numbers(cell)
            if numbers:
                valued[position] = valued.get(position, 0) + 1
                numbers_by_column.setdefault(position, []).extend(numbers)
    clear = {",": 0, ".": 0}
    unclear = {",": 0, ".": 0}
    for position, numbers in numbers_by_column.items():
        if valued[position] * 2 < filled[position]:
            continue  # a text column (names, notes) with a few number-like cells
        for number in numbers:
            mantissa = number.lstrip("+-").partition("e")[0].partition("E")[0]
            marks = [char for char in mantissa if char in ",."]
            if len(set(marks)) == 2:
                clear[marks[-1]] += 1
            elif len(marks) == 1:
                whole_part, fraction = re.split(r"[.,]", mantissa)
                if not fraction:  # "3," says nothing
                    continue
                (clear if len(fraction) != 3 or whole_part in ("", "0") else unclear)[marks[0]] += 1
    if clear[","] > clear["."]:
        return ","
    if clear[","] == clear["."] == 0 and unclear[","] and not unclear["."]:
        return ","
    return "."


@contextmanager
def _csv_reader(path: Path, encoding: _Encoding, delimiter: str) -> Iterator[Any]:
    """A csv reader over the decoded file. Quotes are read strictly, so an unclosed quote is
    refused rather than swallowing the rest of the file into one cell."""
    with path.open("rb") as raw:
        raw.seek(encoding.bom_length)
        with io.TextIOWrapper(raw, encoding=encoding.codec, newline="") as text:
            try:
                yield csv.reader(text, delimiter=delimiter, strict=True)
            except UnicodeDecodeError as exc:  # only if the file changed since it was opened
                raise ReadError(
                    [
                        Issue(
                            type="encoding-error",
                            message=f"{path.name} no longer decodes as {encoding.name}: {exc.reason}",
                        )
                    ]
                ) from exc


def _labels(fields: list[str]) -> list[str]:
    """A record as header labels, without the trailing blank ones that trailing delimiters make."""
    header = [_label(text) for text in fields]
    while header and not header[-1]:
        header.pop()
    return header


def _header_of(reader: Iterator[list[str]]) -> list[str]:
    """The first record that is not blank, as labels; the reader is left after it."""
    return next((labels for labels in map(_labels, reader) if labels), [])


def _broken_record(path: Path, error: csv.Error, line: int, row: int | None = None) -> ReadError:
    where = f"data row {row} (line {line})" if row is not None else f"line {line}"
    if "field limit" in str(error):
        return ReadError(
            [
                Issue(
                    type="limit-exceeded",
                    row=row,
                    message=(
                        f"{path.name}, {where}: a cell is longer than the limit of {csv.field_size_limit():,} characters"
                    ),
                )
            ]
        )
    return ReadError([_format_error(f"{path.name}, {where}: {error} — is a quote unclosed or misplaced?", row=row)])


def _read_header(path: Path, encoding: _Encoding, delimiter: str) -> list[str]:
    with _csv_reader(path, encoding, delimiter) as reader:
        line = 1
        try:
            for fields in reader:
                if labels := _labels(fields):
                    return labels
                line = reader.line_num + 1
        except csv.Error as exc:
            raise _broken_record(path, exc, line=line) from exc
    return []


def _data_records(path: Path, encoding: _Encoding, delimiter: str, width: int) -> Iterator[tuple[int, list[str]]]:
    """Data rows numbered from 1 after the header. A row is a record, as a spreadsheet shows it,
    so a quoted field spanning lines is one row; messages give the physical line it starts on too."""
    with _csv_reader(path, encoding, delimiter) as reader:
        _header_of(reader)
        number, last_line = 0, reader.line_num
        try:
            for fields in reader:
                number += 1
                if len(fields) > width and any(text.strip() for text in fields[width:]):
                    extra = delimiter.join(fields[width:])
                    raise ReadError(
                        [
                            Issue(
                                type="extra-cell",
                                row=number,
                                value=extra[:200],
                                message=f"data row {number} (line {last_line + 1}) has {len(fields)} fields but the header "
                                f"has {width}; {extra[:60]!r} lies beyond the last column",
                            )
                        ]
                    )
                yield number, fields
                last_line = reader.line_num
        except csv.Error as exc:
            raise _broken_record(path, exc, line=last_line + 1, row=number + 1) from exc


# --- workbooks -----------------------------------------------------------------------------


def _open_workbook(path: Path, sheet: str | None) -> Table:
    try:
        with pd.ExcelFile(path, engine="calamine") as book:
            names = book.sheet_names
            chosen = sheet if sheet is not None else (names[0] if names else None)
            frame = (
                None
                if chosen not in names
                else pd.read_excel(book, sheet_name=chosen, header=None, dtype=object, na_filter=False)
            )
    except (python_calamine.CalamineError, ValueError) as exc:
        with path.open("rb") as handle:
            start = handle.read(8)
        kind = next((f" ({kind})" for signature, kind in _SIGNATURES if start.startswith(signature)), "")
        raise ReadError(
            [
                _format_error(
                    f"{path.name} cannot be read as a workbook ({type(exc).__name__}: {exc}); "
                    f"it starts with {start!r}{kind}"
                )
            ]
        ) from exc
    if frame is None:
        if sheet is None:
            raise ReadError([Issue(type="empty-file", message=f"{path.name} has no sheets")])
        raise ReadError(
            [_format_error(f"{path.name} has no sheet {sheet!r}; its sheets are {', '.join(map(repr, names))}")]
        )
    cells = [[_workbook_text(value) for value in row] for row in frame.itertuples(index=False, name=None)]
    percentages, formulas = _formats_and_formulas(path, chosen)
    for row, column in percentages:
        value = frame.iat[row, column] if row < frame.shape[0] and column < frame.shape[1] else None
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
            cells[row][column] = _workbook_text(float(value) * 100) + " %"
    uncomputed = [
        (row, column, formula)
        for row, column, formula in formulas
        if row >= frame.shape[0] or column >= frame.shape[1] or not cells[row][column]
    ]
    if uncomputed:  # an empty text the formula did compute (=IF(…;"";…)) is not missing
        computed_text = _cached_text_cells(path, chosen)
        uncomputed = [entry for entry in uncomputed if entry[:2] not in computed_text]
    if uncomputed:
        raise ReadError(
            [
                Issue(
                    type="format-error",
                    value=formula[:200],
                    message=f"cell {_cell_name(row, column)} of sheet {chosen!r} holds a formula with no computed value (the "
                    f"program that wrote the file did not calculate it); open and save the file in a spreadsheet "
                    f"application, or write the value",
                )
                for row, column, formula in uncomputed[:20]
            ]
        )
    used_rows = [index for index, row in enumerate(cells) if any(text.strip() for text in row)]
    if not used_rows:
        raise ReadError([Issue(type="empty-file", message=f"sheet {chosen!r} of {path.name} is empty")])
    used_columns = [column for column in range(frame.shape[1]) if any(row[column].strip() for row in cells)]
    first, last = used_columns[0], used_columns[-1] + 1
    header_index = used_rows[0]
    header = [_label(text) for text in cells[header_index][first:last]]
    data = [(index - header_index, row[first:last]) for index, row in enumerate(cells) if index > header_index]
    return Table(
        path=path,
        format=path.suffix.lower().lstrip("."),
        encoding=None,
        delimiter=None,
        decimal=".",
        header=header,
        _records=lambda: iter(data),
    )


def _formats_and_formulas(path: Path, sheet: str) -> tuple[list[tuple[int, int]], list[tuple[int, int, str]]]:
    """Where a workbook shows a number as a percentage, and where it holds formulas (0-based row and
    column from A1, and the formula's text). Excel stores 65 % as 0.65 and only the cell's number
    format says it is a percentage; a formula carries the value its program last computed, or none.
    Calamine reads neither; openpyxl does, for .xlsx and .xlsm."""
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not _may_hold_formats_or_formulas(path):
        return [], []
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl's own family, zipfile's and XML parsers': not knowing which cells are
        # percentages would misread them a hundredfold, so the file is refused rather than guessed
        raise ReadError(
            [_format_error(f"{path.name}: the cells' number formats cannot be read ({type(exc).__name__}: {exc})")]
        ) from exc
    percentages, formulas = [], []
    try:
        for row in book[sheet].iter_rows():
            for cell in row:
                value = cell.value
                if value is None:
                    continue
                position = (cell.row - 1, cell.column - 1)
                is_formula = isinstance(value, str) and value.startswith("=")
                if is_formula:
                    formulas.append((*position, value))
                if "%" in (cell.number_format or "") and (is_formula or isinstance(value, (int, float))):
                    percentages.append(position)
    finally:
        book.close()
    return percentages, formulas


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
# loose on purpose: either quote, spaces around "=", "%" written as a character reference;
# a false alarm only costs the openpyxl pass, a miss would read 65 % as 0.65
_PERCENT_STYLE = re.compile(rb'%|&#0*37;|&#x0*25;|numFmtId\s*=\s*["\']\s*(?:9|10)\s*["\']', re.IGNORECASE)


def _may_hold_formats_or_formulas(path: Path) -> bool:
    """Whether the workbook's styles define a percentage format or a sheet holds a formula: read
    from the archive in one streaming pass, so that a sheet of a million styled empty rows is not
    walked cell by cell through openpyxl (20 s) when it holds neither."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            styles = next((n for n in names if n.lower() == "xl/styles.xml"), None)
            if styles is not None and _PERCENT_STYLE.search(archive.read(styles)):
                return True
            for name in names:
                if is_sheet_like(name):
                    tail = b""
                    with archive.open(name) as sheet:
                        for block in iter(lambda: sheet.read(1 << 20), b""):
                            if _FORMULA_TAG.search(tail + block):
                                return True
                            tail = block[-256:]
    except (zipfile.BadZipFile, OSError, KeyError):
        return True  # openpyxl reports what is wrong
    return False


def _cached_text_cells(path: Path, sheet: str) -> set[tuple[int, int]]:
    """Cells whose stored value is text (an empty one too), as a spreadsheet application stores a
    formula's text result; a formula never computed stores no type at all."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {
            (cell.row - 1, cell.column - 1)
            for row in book[sheet].iter_rows()
            for cell in row
            if getattr(cell, "data_type", None) == "str"
        }
    finally:
        book.close()


def _cell_name(row: int, column: int) -> str:
    """A1-style name of a 0-based cell position."""
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(column + 1)}{row + 1}"


def _workbook_text(value: Any) -> str:
    """A cell as Excel shows it in General format: 3.6 → "3.6", 10.0 → "10", at most 15 significant digits."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(float(value), ".15g")
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


# --- JSON ----------------------------------------------------------------------------------


def _open_json(path: Path, limits: ReadLimits) -> Table:
    """JSON is UTF-8 (RFC 8259); a byte-order mark is dropped, anything else is refused."""
    content = path.read_bytes()
    if not content.strip():
        raise ReadError([Issue(type="empty-file", message=f"{path.name} is empty")])
    _refuse_binary(path, content[:SAMPLE_BYTES])
    content = content.removeprefix(_UTF8_BOM)
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as not_utf8:
            line = content.count(b"\n", 0, not_utf8.start) + 1
            raise ReadError(
                [
                    Issue(
                        type="encoding-error",
                        message=f"{path.name} is not UTF-8, as JSON must be: byte "
                        f"0x{content[not_utf8.start]:02X} at line {line} (byte {not_utf8.start:,}); "
                        f"save it as UTF-8",
                    )
                ]
            ) from exc
        raise ReadError(
            [
                _format_error(
                    f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                    f"column {exc.colno} (character {exc.pos:,})"
                )
            ]
        ) from exc
    _refuse_duplicate_keys(path, content)
    records, base = _json_records(path, document)
    header, rows, paths, issues = _json_rows(records, limits, base)
    if issues:
        raise ReadError(issues)
    return Table(
        path=path,
        format="json",
        encoding=None,
        delimiter=None,
        decimal=".",
        header=header,
        _records=lambda: enumerate(rows, start=1),
        _paths=paths,
    )


NEWLINE = b"\n"


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def _refuse_duplicate_keys(path: Path, content: bytes) -> None:
    """A key written twice in one object is refused, naming it and the line of its second
    occurrence: JSON parsers keep one of the two values, and the other would be lost unseen."""
    import json

    try:
        json.loads(content, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as duplicate:
        where = ""
        written = re.compile(re.escape(json.dumps(duplicate.key, ensure_ascii=False).encode()) + rb"\s*:")
        starts = [m.start() for m in written.finditer(content)]
        for first, second in pairwise(starts):
            between = content[first:second]
            if b"{" not in between and b"}" not in between:  # the same flat object
                where = f" (line {content.count(NEWLINE, 0, second) + 1})"
                break
        raise ReadError(
            [
                Issue(
                    type="duplicate-label",
                    column=duplicate.key,
                    value=duplicate.key,
                    message=(
                        f"{path.name}: the key {duplicate.key!r} is written twice in one object{where}; "
                        f"only one of its values could be kept, so write each key once"
                    ),
                )
            ]
        ) from None


def _json_records(path: Path, document: Any) -> tuple[list[Any], str]:
    """The array of records and its JSON path: the document itself (``$``), or the one array an
    object holds (under one of ``_RECORD_KEYS`` when it holds several: ``$.materials``)."""
    if isinstance(document, list):
        return document, "$"
    if isinstance(document, dict):
        arrays = [key for key, value in document.items() if isinstance(value, list)]
        if len(arrays) == 1:
            return document[arrays[0]], json_path("$", arrays[0])
        for key in _RECORD_KEYS:
            if key in arrays:
                return document[key], json_path("$", key)
        found = f"arrays under {', '.join(map(repr, arrays))}, none named" if arrays else "no array; expected one under"
        raise ReadError(
            [_format_error(f"{path.name} holds an object with {found} {', '.join(map(repr, _RECORD_KEYS))}")]
        )
    raise ReadError([_format_error(f"{path.name} holds a single {_json_kind(document)}, not an array of records")])


_MEMBER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def json_path(parent: str, step: str | int) -> str:
    """``parent`` and one step down: ``[2]`` for an index, ``.value`` for a plain name, ``['Tg (°C)']``
    for any other (RFC 9535's bracket notation, with ``'`` and ``\\`` escaped)."""
    if isinstance(step, int):
        return f"{parent}[{step}]"
    if _MEMBER_NAME.fullmatch(step):
        return f"{parent}.{step}"
    escaped = step.replace("\\", "\\\\").replace("'", "\\'")
    return f"{parent}['{escaped}']"


@dataclass
class _JsonPaths:
    """Where each flattened row and column came from, for :meth:`Table.locate`: per row the index
    of its record and of its measurement (-1: the record has none), and which columns the
    measurement gave (the others are the record's); interned, as most rows share one set."""

    base: str
    keys: list[str] = field(default_factory=list)  # by column position, as written in the file
    records: array = field(default_factory=lambda: array("q"))
    measurements: array = field(default_factory=lambda: array("q"))
    own: array = field(default_factory=lambda: array("q"))  # index into ``own_sets``
    own_sets: list[frozenset[int]] = field(default_factory=list)
    _interned: dict[frozenset[int], int] = field(default_factory=dict, repr=False)

    def add(self, record: int, measurement: int | None, own: frozenset[int]) -> None:
        self.records.append(record)
        self.measurements.append(-1 if measurement is None else measurement)
        index = self._interned.setdefault(own, len(self.own_sets))
        if index == len(self.own_sets):
            self.own_sets.append(own)
        self.own.append(index)

    def object_path(self, record: int, measurement: int | None = None) -> str:
        path = json_path(self.base, record)
        return path if measurement is None else json_path(json_path(path, _MEASUREMENTS), measurement)

    def path(self, row: int | None, position: int | None) -> str | None:
        """The path of data row ``row`` (1-based) at column ``position``; see :meth:`Table.locate`."""
        if row is None or not 1 <= row <= len(self.records):
            if position is None or position >= len(self.keys):
                return None
            in_measurements = any(position in own for own in self.own_sets)
            shape = f"{self.base}[*]" + (f".{_MEASUREMENTS}[*]" if in_measurements else "")
            return json_path(shape, self.keys[position])
        index = row - 1
        record, measurement = self.records[index], self.measurements[index]
        if measurement < 0:
            return (
                self.object_path(record)
                if position is None
                else json_path(self.object_path(record), self.keys[position])
            )
        if position is None:
            return self.object_path(record, measurement)
        if position in self.own_sets[self.own[index]]:
            return json_path(self.object_path(record, measurement), self.keys[position])
        return json_path(self.object_path(record), self.keys[position])


def _json_rows(
    records: list[Any], limits: ReadLimits, base: str = "$"
) -> tuple[list[str], list[list[str]], _JsonPaths, list[Issue]]:
    """One row per record, or per measurement of a record with a ``measurements`` array (the
    record's other fields repeated; a measurement's field wins over the record's of the same name),
    with where each row and cell came from."""
    columns: dict[str, int] = {}
    flat_rows: list[dict[str, str]] = []
    paths = _JsonPaths(base=base)
    issues: list[Issue] = []
    for number, record in enumerate(records, start=1):
        row = len(flat_rows) + 1
        record_path = paths.object_path(number - 1)
        if not isinstance(record, dict):
            issues.append(
                _format_error(
                    f"record {number} is a {_json_kind(record)}, not an object of fields", row=row, path=record_path
                )
            )
            continue
        measurements = record.get(_MEASUREMENTS)
        if isinstance(measurements, dict) or (
            isinstance(measurements, list) and not all(isinstance(m, dict) for m in measurements)
        ):
            issues.append(
                _format_error(
                    f"record {number}: {_MEASUREMENTS!r} must be an array of objects",
                    row=row,
                    column=_MEASUREMENTS,
                    path=json_path(record_path, _MEASUREMENTS),
                )
            )
            continue
        nested = isinstance(measurements, list)
        fields = _json_fields(record, number, row, issues, skip=_MEASUREMENTS if nested else None, path=record_path)
        for measurement_index, measurement in enumerate(measurements if nested and measurements else [{}]):
            where = f"record {number}, measurement {measurement_index + 1}"
            has_measurement = nested and bool(measurements)
            own = _json_fields(
                measurement,
                where,
                len(flat_rows) + 1,
                issues,
                skip=None,
                path=paths.object_path(number - 1, measurement_index) if has_measurement else record_path,
            )
            flat = {**fields, **own}
            for key in flat:
                columns.setdefault(key, len(columns))
            paths.add(
                number - 1, measurement_index if has_measurement else None, frozenset(columns[key] for key in own)
            )
            flat_rows.append(flat)
    check_columns(len(columns), limits)  # before the dense rows are built: sparse keys would fill them
    header = [_label(key) for key in columns]
    paths.keys = list(columns)
    rows = [[flat.get(key, "") for key in columns] for flat in flat_rows]
    return header, rows, paths, issues


def _json_fields(
    record: dict[str, Any], where: int | str, row: int, issues: list[Issue], skip: str | None, path: str
) -> dict[str, str]:
    fields = {}
    for key, value in record.items():
        if key == skip:
            continue
        if isinstance(value, dict) or (
            isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value)
        ):
            issues.append(
                _format_error(
                    f"record {where}: field {key!r} holds a nested {_json_kind(value)}; "
                    f"only {_MEASUREMENTS!r} may hold objects, other fields must be flat",
                    row=row,
                    column=key,
                    path=json_path(path, key),
                )
            )
            continue
        fields[key] = "; ".join(map(_json_text, value)) if isinstance(value, list) else _json_text(value)
    return fields


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return str(value)


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )
