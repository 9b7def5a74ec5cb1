"""Every row of a file is accounted for: loaded, refused, skipped with a warning, or empty.

A row that gives a value must yield a measurement of it, or an error or a warning naming the row:
never nothing. This step checks that of each chunk after it is normalised, and refuses, as an
``unaccounted-value`` error naming the row, the column and the cell, a value that went nowhere
(the pipeline's own failure, reported rather than lost). A row that names no material and gives
no value, but is not empty, is skipped with an ``ignored-row`` warning.

Pure: a chunk, its column map and what normalising it gave in; the row counts and issues out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingest.cells import EMPTY
from ingest.mapping import ColumnMap
from ingest.report import Issue

#: The columns whose cells are a long row's value (``ingest.mapping.ROLE_HEADERS``).
_LONG_VALUE_ROLES = ("value", "value_point", "value_min", "value_max", "uncertainty")
_EMPTY = list(EMPTY)


@dataclass(slots=True)
class RowTally:
    """How a chunk's rows ended: each row in exactly one count."""

    loaded: int = 0  # gave a measurement or named a material, and no error
    refused: int = 0  # an error names it
    warned: int = 0  # a warning names it, and nothing of it was loaded
    empty: int = 0  # every cell empty or a no-measurement placeholder (n.d., NA, —)

    @property
    def total(self) -> int:
        return self.loaded + self.refused + self.warned + self.empty


def given(cells: pd.Series) -> np.ndarray:
    """Which cells hold something: neither empty nor a no-measurement placeholder (``cells.EMPTY``)."""
    texts = cells.astype(object).where(cells.notna(), "").astype(str).str.strip().str.casefold()
    return ~texts.isin(_EMPTY).to_numpy()


def account_rows(
    chunk: pd.DataFrame,
    cmap: ColumnMap,
    *,
    measured: pd.DataFrame,
    named_rows: Iterable[int],
    error_rows: Iterable[int],
    warning_rows: Iterable[int],
    recorded_rows: Iterable[int] = (),
) -> tuple[RowTally, list[Issue]]:
    """The chunk's row counts, and an ``unaccounted-value`` error for each value that yielded no
    measurement and no issue, and an ``ignored-row`` warning for each other row that went nowhere.

    ``measured`` holds the chunk's measurements (``row`` and ``source_column``), ``named_rows`` the
    rows that name a material, ``recorded_rows`` those that gave a biological-evaluation record."""
    refused = set(error_rows)
    warned = set(warning_rows)
    measured_cells = set(zip(measured["row"].tolist(), measured["source_column"].tolist(), strict=True))
    measured_rows = {row for row, _ in measured_cells}
    loaded = measured_rows | set(named_rows) | set(recorded_rows)
    issues: list[Issue] = []
    flagged: set[int] = set()
    for row, column, value in _value_cells(chunk, cmap):
        if row in refused or row in warned or row in flagged:
            continue
        if (cmap.layout == "wide" and (row, column) in measured_cells) or (
            cmap.layout == "long" and row in measured_rows
        ):
            continue
        flagged.add(row)
        issues.append(
            Issue(
                type="unaccounted-value",
                row=int(row),
                column=column,
                value=value[:200],
                message="this value yielded no measurement and no error: the ingest refuses the row rather than "
                "drop it (please report it as a bug of BiomatDB, with the file's header)",
            )
        )
    tally = RowTally()
    nonempty = _nonempty_rows(chunk)
    for row, holds in zip(chunk.index.tolist(), nonempty.tolist(), strict=True):
        if row in refused or row in flagged:
            tally.refused += 1
        elif row in loaded:
            tally.loaded += 1
        elif row in warned:
            tally.warned += 1
        elif not holds:
            tally.empty += 1
        else:
            tally.warned += 1
            issues.append(
                Issue(
                    type="ignored-row",
                    row=int(row),
                    message="this row names no material and gives no value; ignored",
                )
            )
    return tally, issues


def _value_cells(chunk: pd.DataFrame, cmap: ColumnMap):
    """(row, column label, cell text) of every cell given in a column that holds values: a wide
    file's property columns and their uncertainty columns (named as the column they belong to, as
    its measurements are), a long file's value and number columns and its uncertainty."""
    if cmap.layout == "wide":
        labels = {column.position: column.label for column in cmap.measurement_columns}
        columns = [(column.position, column.label) for column in cmap.measurement_columns]
        columns += [
            (column.position, labels[column.uncertainty_of])
            for column in cmap.columns
            if column.role == "uncertainty" and column.uncertainty_of in labels
        ]
    else:
        columns = [
            (column.position, column.label)
            for role in _LONG_VALUE_ROLES
            if (column := cmap.role(role)) is not None and column.position in chunk.columns
        ]
    for position, label in columns:
        cells = chunk[position]
        present = given(cells)
        if not present.any():
            continue
        for row, text in cells[present].items():
            yield row, label, str(text)


def _nonempty_rows(chunk: pd.DataFrame) -> np.ndarray:
    holds = np.zeros(len(chunk), dtype=bool)
    for position in chunk.columns:
        holds |= given(chunk[position])
    return holds
