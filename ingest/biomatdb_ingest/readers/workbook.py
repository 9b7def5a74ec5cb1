"""Workbooks (.xlsx, .xlsm, .xlsb, .xls, .ods) read through calamine, with openpyxl for what
calamine does not say: percentage formats and formulas without a computed value."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import python_calamine

from biomatdb_ingest.limits import ReadLimits, check_workbook, is_sheet_like
from biomatdb_ingest.readers.table import SIGNATURES, ReadError, Table, format_error, label
from biomatdb_ingest.report import Issue


def open_workbook(path: Path, format: str, sheet: str | None, limits: ReadLimits) -> Table:
    """A workbook's first sheet (or ``sheet``) as a table: the first used row is the header, the
    used columns its width; ``format`` (``xlsx``, ``ods``, …) is what the file is, whatever its name."""
    check_workbook(path, limits)
    try:
        with pd.ExcelFile(path, engine="calamine") as book:
            names = [str(name) for name in book.sheet_names]
            chosen = sheet if sheet is not None else (names[0] if names else None)
            frame = (
                None
                if chosen not in names
                else pd.read_excel(book, sheet_name=chosen, header=None, dtype=object, na_filter=False)
            )
    except (python_calamine.CalamineError, ValueError) as exc:
        with path.open("rb") as handle:
            start = handle.read(8)
        kind = next((f" ({kind})" for signature, kind in SIGNATURES if start.startswith(signature)), "")
        raise ReadError(
            [
                format_error(
                    f"{path.name} cannot be read as a workbook ({type(exc).__name__}: {exc}); "
                    f"it starts with {start!r}{kind}"
                )
            ]
        ) from exc
    if frame is None or chosen is None:
        if sheet is None:
            raise ReadError([Issue(type="empty-file", message=f"{path.name} has no sheets")])
        raise ReadError(
            [format_error(f"{path.name} has no sheet {sheet!r}; its sheets are {', '.join(map(repr, names))}")]
        )
    cells = [[_workbook_text(value) for value in row] for row in frame.itertuples(index=False, name=None)]
    percentages, formulas = _formats_and_formulas(path, chosen, format)
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
    header = [label(text) for text in cells[header_index][first:last]]
    data = [(index - header_index, row[first:last]) for index, row in enumerate(cells) if index > header_index]
    return Table(
        path=path,
        format=format,
        encoding=None,
        delimiter=None,
        decimal=".",
        header=header,
        _records=lambda: iter(data),
    )


def _formats_and_formulas(
    path: Path, sheet: str, format: str
) -> tuple[list[tuple[int, int]], list[tuple[int, int, str]]]:
    """Where a workbook shows a number as a percentage, and where it holds formulas (0-based row and
    column from A1, and the formula's text). Excel stores 65 % as 0.65 and only the cell's number
    format says it is a percentage; a formula carries the value its program last computed, or none.
    Calamine reads neither; openpyxl does, for .xlsx and .xlsm."""
    if format not in ("xlsx", "xlsm") or not _may_hold_formats_or_formulas(path):
        return [], []
    import openpyxl

    try:
        book = openpyxl.load_workbook(_named_xlsx(path), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl's own family, zipfile's and XML parsers': not knowing which cells are
        # percentages would misread them a hundredfold, so the file is refused rather than guessed
        raise ReadError(
            [format_error(f"{path.name}: the cells' number formats cannot be read ({type(exc).__name__}: {exc})")]
        ) from exc
    percentages: list[tuple[int, int]] = []
    formulas: list[tuple[int, int, str]] = []
    try:
        for row in book[sheet].iter_rows():
            for cell in row:
                value = cell.value
                if value is None or cell.row is None or cell.column is None:  # an empty cell of a read-only sheet
                    continue
                position = (cell.row - 1, cell.column - 1)
                is_formula = isinstance(value, str) and value.startswith("=")
                if is_formula and isinstance(value, str):
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

    book = openpyxl.load_workbook(_named_xlsx(path), read_only=True, data_only=True)
    try:
        return {
            (cell.row - 1, cell.column - 1)
            for row in book[sheet].iter_rows()
            for cell in row
            if getattr(cell, "data_type", None) == "str" and cell.row is not None and cell.column is not None
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
        value = float(value)
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


def _named_xlsx(path: Path) -> Path | io.BytesIO:
    """What openpyxl opens: the path, or for a workbook saved under another name (openpyxl goes by
    the name's suffix) its bytes."""
    return path if path.suffix.lower() in (".xlsx", ".xlsm") else io.BytesIO(path.read_bytes())
