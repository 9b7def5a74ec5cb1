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

from biomatdb_ingest.cells import EMPTY
from biomatdb_ingest.mapping import ColumnMap
from biomatdb_ingest.report import Issue

#: The columns whose cells are a long row's value (``biomatdb_ingest.mapping.ROLE_HEADERS``).
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
    index = chunk.index
    refused = index.isin(list(set(error_rows)))
    warned = index.isin(list(set(warning_rows)))
    measured_rows = index.isin(measured["row"].unique())
    issues: list[Issue] = []
    flagged = np.zeros(len(index), dtype=bool)
    for position, label in _value_columns(chunk, cmap):
        if cmap.layout == "wide":  # each property column's cell yields its own measurement
            covered = index.isin(measured.loc[measured["source_column"] == label, "row"].unique())
        else:
            covered = measured_rows
        lost = given(chunk[position]) & ~covered & ~refused & ~warned & ~flagged
        for row, text in zip(index[lost].tolist(), chunk.loc[lost, position].tolist(), strict=True):
            issues.append(
                Issue(
                    type="unaccounted-value",
                    row=int(row),
                    column=label,
                    value=str(text)[:200],
                    message="this value yielded no measurement and no error: the ingest refuses the row rather "
                    "than drop it (please report it as a bug of BiomatDB, with the file's header)",
                )
            )
        flagged |= lost
    refused |= flagged
    loaded = ~refused & (measured_rows | index.isin(list(set(named_rows))) | index.isin(list(set(recorded_rows))))
    warned &= ~refused & ~loaded
    rest = ~(refused | loaded | warned)
    ignored = np.zeros(len(index), dtype=bool)
    if rest.any():  # few rows, if any: read their cells only
        ignored[rest] = _nonempty_rows(chunk[rest])
    for row in index[ignored]:
        issues.append(
            Issue(type="ignored-row", row=int(row), message="this row names no material and gives no value; ignored")
        )
    tally = RowTally(
        loaded=int(loaded.sum()),
        refused=int(refused.sum()),
        warned=int((warned | ignored).sum()),
        empty=int((rest & ~ignored).sum()),
    )
    return tally, issues


def _value_columns(chunk: pd.DataFrame, cmap: ColumnMap) -> list[tuple[int, str]]:
    """(position, label) of the columns that hold values: a wide file's property columns and their
    uncertainty columns (labelled as the column they belong to, as its measurements are), a long
    file's value and number columns and its uncertainty."""
    if cmap.layout == "wide":
        labels = {column.position: column.label for column in cmap.measurement_columns}
        columns = [(column.position, column.label) for column in cmap.measurement_columns]
        columns += [
            (column.position, labels[column.uncertainty_of])
            for column in cmap.columns
            if column.role == "uncertainty" and column.uncertainty_of in labels
        ]
        return columns
    return [
        (column.position, column.label)
        for role in _LONG_VALUE_ROLES
        if (column := cmap.role(role)) is not None and column.position in chunk.columns
    ]


def _nonempty_rows(chunk: pd.DataFrame) -> np.ndarray:
    holds = np.zeros(len(chunk), dtype=bool)
    for position in chunk.columns:
        holds |= given(chunk[position])
    return holds
