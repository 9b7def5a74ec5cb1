"""What a file may hold before it is read: the limits that keep a hostile upload (a zip
bomb, a workbook whose one cell lies at XFD1048576, a million-column header, a huge
structure) from exhausting the process that reads it. Each is checked before the data is
expanded, and each refusal is a ``limit-exceeded`` issue naming the limit and its setting.

The defaults are far above what a lab's table needs; ``biomatdb.settings.Settings`` sets
them (``BIOMATDB_READ_*``, ``BIOMATDB_WORKBOOK_*``), for the CLI and the API alike.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from biomatdb_ingest.report import Issue


@dataclass(frozen=True, slots=True)
class ReadLimits:
    max_columns: int = 2_000
    workbook_max_cells: int = 20_000_000  # rows × columns of a sheet's extent
    workbook_max_uncompressed_bytes: int = 1 << 30
    workbook_max_ratio: int = 200  # uncompressed to compressed, per member of the archive
    workbook_max_shared_strings_bytes: int = 256 << 20

    @classmethod
    def from_settings(cls, settings) -> ReadLimits:
        """The limits a ``biomatdb.settings.Settings`` names."""
        return cls(
            max_columns=settings.read_max_columns,
            workbook_max_cells=settings.workbook_max_cells,
            workbook_max_uncompressed_bytes=settings.workbook_max_uncompressed_bytes,
            workbook_max_ratio=settings.workbook_max_ratio,
            workbook_max_shared_strings_bytes=settings.workbook_max_shared_strings_bytes,
        )


class LimitExceeded(Exception):
    """Raised by a check; ``issue`` says which limit, and the setting that moves it."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


def refuse(what: str, found: str, limit: int, setting: str, unit: str = "") -> LimitExceeded:
    return LimitExceeded(
        Issue(
            type="limit-exceeded",
            value=found,
            message=(
                f"{what} ({found}) is over the limit of {limit:,}{unit}; the limit is the setting BIOMATDB_{setting}"
            ),
        )
    )


def check_columns(count: int, limits: ReadLimits) -> None:
    if count > limits.max_columns:
        raise refuse("the header's number of columns", f"{count:,}", limits.max_columns, "READ_MAX_COLUMNS")


# --- workbooks: inspected as the zip archives they are, before any reader opens them ---------

# either quote, and spaces around "=", as XML allows (a single-quoted r='XFD1048576' is a cell too)
_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br\s*=\s*["\']([A-Za-z]{1,3})([0-9]{1,7})["\']')
_ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br\s*=\s*["\']([0-9]{1,7})["\']')
_OVERLAP = 256
_BLOCK = 1 << 20


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + (letter - 64)
    return number


def check_workbook(path: Path, limits: ReadLimits) -> None:
    """An .xlsx/.xlsm archive whose members expand past the limits, or one of whose sheets
    reaches past them, is refused before it is decompressed into memory. Other workbook
    kinds (.xls, .xlsb, .ods) and files that are no zip pass: the reader judges those."""
    if not zipfile.is_zipfile(path):
        return
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        total = sum(member.file_size for member in members)
        if total > limits.workbook_max_uncompressed_bytes:
            raise refuse(
                "the workbook's uncompressed size",
                f"{total:,} bytes",
                limits.workbook_max_uncompressed_bytes,
                "WORKBOOK_MAX_UNCOMPRESSED_BYTES",
                " bytes",
            )
        for member in members:
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > 1 << 20 and ratio > limits.workbook_max_ratio:
                raise refuse(
                    f"the compression ratio of {member.filename}",
                    f"{ratio:,.0f}:1",
                    limits.workbook_max_ratio,
                    "WORKBOOK_MAX_RATIO",
                    ":1",
                )
            if (
                member.filename.lower().endswith("sharedstrings.xml")
                and member.file_size > limits.workbook_max_shared_strings_bytes
            ):
                raise refuse(
                    "the workbook's shared strings",
                    f"{member.file_size:,} bytes",
                    limits.workbook_max_shared_strings_bytes,
                    "WORKBOOK_MAX_SHARED_STRINGS_BYTES",
                    " bytes",
                )
        for member in members:
            if is_sheet_like(member.filename):
                _check_sheet_extent(archive, member, limits)


_NOT_SHEETS = {"styles.xml", "sharedstrings.xml", "workbook.xml", "calcchain.xml"}


def is_sheet_like(name: str) -> bool:
    """Whether an archive member may hold a sheet: any XML part under ``xl/`` but the styles, the
    shared strings, the workbook, themes and relationships. A workbook's relationships may put
    its sheets anywhere, so the checks do not trust ``xl/worksheets/`` alone."""
    lowered = name.lower()
    if not (lowered.startswith("xl/") and lowered.endswith(".xml")) or "/theme/" in lowered:
        return False
    return lowered.rsplit("/", 1)[-1] not in _NOT_SHEETS


def _check_sheet_extent(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: ReadLimits) -> None:
    """The sheet's extent from the references its cells and rows carry, read in one streaming pass."""
    rows = columns = 0
    tail = b""
    with archive.open(member) as sheet:
        for block in iter(lambda: sheet.read(_BLOCK), b""):
            text = tail + block
            for letters, number in _CELL_REF.findall(text):
                columns = max(columns, _column_number(letters))
                rows = max(rows, int(number))
            for (number,) in ((n,) for n in _ROW_REF.findall(text)):
                rows = max(rows, int(number))
            if columns > limits.max_columns:
                raise refuse(
                    f"the columns of {member.filename}", f"{columns:,}", limits.max_columns, "READ_MAX_COLUMNS"
                )
            if rows * max(columns, 1) > limits.workbook_max_cells:
                raise refuse(
                    f"the extent of {member.filename}",
                    f"{rows:,} rows × {max(columns, 1):,} columns",
                    limits.workbook_max_cells,
                    "WORKBOOK_MAX_CELLS",
                    " cells",
                )
            tail = text[-_OVERLAP:]
