"""What every reader shares: the :class:`Table` a file opens as, the :class:`ReadError` that
refuses one, the check that a file is text at all, and the header's own issues."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from biomatdb.errors import BiomatError
from biomatdb.spreadsheet import QUOTE, restore
from biomatdb_ingest.report import Issue

if TYPE_CHECKING:
    from biomatdb_ingest.readers.jsonfile import JsonPaths

#: Bytes read to detect delimiter, decimal mark and binary content.
SAMPLE_BYTES = 64 * 1024
#: Records of the sample weighed when choosing the delimiter.
SAMPLE_RECORDS = 1000
BLOCK_BYTES = 1 << 20
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
SIGNATURES = (
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
    _paths: JsonPaths | None = field(default=None, repr=False, compare=False)

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
                yield frame(cells, numbers, width)
                numbers, cells = [], []
        if cells:
            yield frame(cells, numbers, width)


def frame(cells: list[list[str]], numbers: list[int], width: int) -> pd.DataFrame:
    frame = pd.DataFrame(cells, index=pd.Index(numbers, dtype="int64"), columns=range(width), dtype=str)
    for column in frame.columns:  # a cell quoted against formulas by an export reads as it was
        quoted = frame[column].str.startswith(QUOTE)
        if quoted.any():
            frame.loc[quoted, column] = frame.loc[quoted, column].map(restore)
    return frame


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


def format_error(message: str, row: int | None = None, column: str | None = None, path: str | None = None) -> Issue:
    return Issue(type="format-error", message=message, row=row, column=column, path=path)


def label(text: str) -> str:
    return text.replace("\ufeff", "").strip()


def refuse_binary(path: Path, sample: bytes) -> None:
    """A known binary signature, or a sample with many control bytes, is no text file."""
    for signature, kind in SIGNATURES:
        if sample.startswith(signature):
            raise ReadError(
                [format_error(f"{path.name} is not text but looks like {kind} (it starts with {sample[:8]!r})")]
            )
    control_share = len(sample.translate(None, _NOT_CONTROL)) / len(sample)
    if control_share > _BINARY_SHARE:
        raise ReadError(
            [
                format_error(
                    f"{path.name} looks binary, not text: {control_share:.0%} of its first "
                    f"{len(sample):,} bytes are control bytes (it starts with {sample[:8]!r})"
                )
            ]
        )
