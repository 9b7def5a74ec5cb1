"""Delimited text (CSV, TSV and their kin): encoding, delimiter and decimal mark detected from the
file, records read as a spreadsheet shows them, in bounded memory."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from biomatdb.vocabulary import get_vocabulary
from biomatdb_ingest.cells import EMPTY, value_numbers
from biomatdb_ingest.limits import ReadLimits
from biomatdb_ingest.readers.table import (
    BLOCK_BYTES,
    SAMPLE_BYTES,
    SAMPLE_RECORDS,
    UTF8_BOM,
    UTF16_BOMS,
    ReadError,
    Table,
    format_error,
    label,
    refuse_binary,
)
from biomatdb_ingest.report import Issue

#: The longest cell a delimited file may hold: the csv module's own default. It is set again at each
#: read because the limit is process-wide and other libraries change it (frictionless raises it when
#: its CSV parser is imported), which would otherwise change what an upload may hold.
CELL_MAX_CHARS = 131_072

_DELIMITERS = ("\t", ";", "|", ",")  # also the order of preference between equally good candidates
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_DOI = re.compile(r"10\.\d{4,9}/")


@dataclass(frozen=True, slots=True)
class _Encoding:
    name: str  # as reported on the Table
    codec: str  # what decodes the bytes after the byte-order mark
    bom_length: int


def open_delimited(path: Path, default_delimiter: str, sheet: str | None, limits: ReadLimits) -> Table:
    """Delimited text as a table; ``default_delimiter`` splits a file of one column."""
    return _open_delimited(path, default_delimiter)


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
    if sample.startswith(UTF16_BOMS):
        _check_decodes(path, "utf-16")
        return _Encoding("utf-16", "utf-16", 0)
    refuse_binary(path, sample)
    bom_length = len(UTF8_BOM) if sample.startswith(UTF8_BOM) else 0
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_valid, undefined_at, lines, offset = True, None, 1, bom_length
    multibyte_line, invalid_at = None, None  # the first line written in UTF-8, the first that is not
    with path.open("rb") as handle:
        handle.seek(bom_length)
        for block in iter(lambda: handle.read(BLOCK_BYTES), b""):
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


def _check_decodes(path: Path, codec: str) -> None:
    decoder = codecs.getincrementaldecoder(codec)()
    with path.open("rb") as handle:
        try:
            for block in iter(lambda: handle.read(BLOCK_BYTES), b""):
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
        while width and not label(header[width - 1]):
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

    Only values vote: the numbers of cells that read as a value (``biomatdb_ingest.cells.value_numbers``)
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
            numbers = [] if _DOI.search(cell) else list(value_numbers(cell))
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
            csv.field_size_limit(CELL_MAX_CHARS)
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
    header = [label(text) for text in fields]
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
                    message=(f"{path.name}, {where}: a cell is longer than the limit of {CELL_MAX_CHARS:,} characters"),
                )
            ]
        )
    return ReadError([format_error(f"{path.name}, {where}: {error} — is a quote unclosed or misplaced?", row=row)])


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
