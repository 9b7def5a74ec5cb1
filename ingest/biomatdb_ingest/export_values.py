"""A long row's value text, from its value cell or from the export's number columns.

BiomatDB's export (``biomatdb.exports``) writes each value twice: as text (``value_text``:
``4.00 to 5.00``, ``>24``, ``~37``) and as numbers (``value`` for a point, ``value_min``,
``value_max``, ``qualifier``). A curator's file may keep either. The rule, one place:

- a non-empty value text is read, as any long file's ``Value`` is; numbers beside it must say the
  same value, or the row is refused (an edit to one of the two would otherwise be lost);
- an empty value text with numbers is read from the numbers: ``range`` (or two different ends) is
  ``low to high``, ``>``/``>=`` the lower end, ``<``/``<=`` the upper, ``~`` and a plain value the
  point;
- numbers that do not make a value (a bound without its qualifier, a range without an end, a
  qualifier no value has) refuse the row, naming the column and the cell.

Pure: a chunk and a column map in, the texts to parse and the issues out.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

import pandas as pd

from biomatdb_ingest.cells import EMPTY, ParsedCell, parse_cell
from biomatdb_ingest.mapping import ColumnMap
from biomatdb_ingest.report import Issue

#: The roles of the export's number columns (``biomatdb_ingest.mapping.ROLE_HEADERS``).
NUMBER_ROLES = ("value_point", "value_min", "value_max", "qualifier")
#: Beside them, the words of a qualitative value (``amorphous``) where the value text is missing.
_WORDS_ROLE = "verbatim_value"
_QUALIFIERS = {
    "": "=",
    "=": "=",
    "~": "~",
    "range": "range",
    ">": ">",
    ">=": ">=",
    "<": "<",
    "<=": "<=",
    "term": "term",
}
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")


@dataclass(frozen=True, slots=True)
class _Cells:
    """One row's cells of the value columns, stripped; "" for an empty one."""

    text: str
    point: str
    low: str
    high: str
    qualifier: str
    words: str = ""  # the verbatim value: a qualitative value's words, whatever its unit


def value_texts(chunk: pd.DataFrame, cmap: ColumnMap, decimal: str) -> tuple[pd.Series, list[Issue]]:
    """The text each row's value is parsed from (index as ``chunk``; "" for no value) and the
    issues of rows whose numbers make no value or disagree with their text."""
    value_column = cmap.role("value")
    number_columns = {role: column for role in NUMBER_ROLES if (column := cmap.role(role)) is not None}
    if not number_columns and value_column is not None:
        return chunk[value_column.position], []
    texts = (
        chunk[value_column.position].astype(object).where(chunk[value_column.position].notna(), "").astype(str)
        if value_column is not None
        else pd.Series("", index=chunk.index, dtype=object)
    )
    labels = {role: column.label for role, column in number_columns.items()}
    labels["value"] = value_column.label if value_column is not None else "value"
    # without value_text, the export's ``value`` column is the value column: a plain number there is a point
    text_is_point = "value_point" not in number_columns
    cells = {role: _stripped(chunk, column.position) for role, column in number_columns.items()}
    if (words := cmap.role(_WORDS_ROLE)) is not None:
        cells["words"] = _stripped(chunk, words.position)
    empty = [""] * len(chunk)
    issues: list[Issue] = []
    result = []
    for position, (row, cell) in enumerate(zip(chunk.index, texts.tolist(), strict=True)):
        text = "" if cell.strip().casefold() in EMPTY else cell.strip()
        row_cells = _Cells(
            text=text,
            point=cells.get("value_point", empty)[position],
            low=cells.get("value_min", empty)[position],
            high=cells.get("value_max", empty)[position],
            qualifier=cells.get("qualifier", empty)[position],
            words=cells.get("words", empty)[position],
        )
        if text_is_point and _PLAIN_NUMBER.match(text):
            row_cells = dataclasses.replace(row_cells, text="", point=text)
        chosen, problem = _row_text(row_cells, labels, decimal)
        if problem is not None:
            label, value, message = problem
            issues.append(Issue(type="value-columns", row=int(row), column=label, value=value, message=message))
            chosen = ""
        result.append(chosen)
    return pd.Series(result, index=chunk.index, dtype=object), issues


def _stripped(chunk: pd.DataFrame, position: int) -> list[str]:
    cells = chunk[position].astype(object).where(chunk[position].notna(), "").astype(str).str.strip()
    return ["" if cell.casefold() in EMPTY else cell for cell in cells.tolist()]


def _row_text(cells: _Cells, labels: dict[str, str], decimal: str) -> tuple[str, tuple[str, str, str] | None]:
    """The row's value text, or the (column, cell, message) that refuses the row."""
    if not (cells.point or cells.low or cells.high or cells.qualifier):
        if not cells.text and cells.words:  # the source's words are there, the value itself is not
            return "", (
                _WORDS_ROLE,
                cells.words,
                (
                    "the value columns are empty but the verbatim value holds a value; write it in the value "
                    "text (or value) column, or empty the verbatim value"
                ),
            )
        return cells.text, None
    for role, cell in (("value_point", cells.point), ("value_min", cells.low), ("value_max", cells.high)):
        if cell and not _PLAIN_NUMBER.match(cell):
            column = labels.get(role, labels["value"])
            return "", (column, cell, "expected a number (the value's text goes in the value text column)")
    composed, problem = _composed(cells, labels)
    if composed is not None and problem is None:
        problem = _ends_disagree(cells, composed, labels, decimal)
        if problem is not None:
            return "", problem
    if cells.text:
        if composed is not None and not _same_value(cells.text, composed, decimal):
            numbers = ", ".join(
                f"{labels[role]} {cell!r}"
                for role, cell in (
                    ("qualifier", cells.qualifier),
                    ("value_point", cells.point),
                    ("value_min", cells.low),
                    ("value_max", cells.high),
                )
                if cell and role in labels
            )
            return "", (
                labels["value"],
                cells.text,
                (
                    f"the value text {cells.text!r} and the numbers beside it ({numbers}) say different values; "
                    "correct one, or empty the numbers"
                ),
            )
        return cells.text, None
    if problem is not None:
        return "", problem
    return composed or "", None


def _composed(cells: _Cells, labels: dict[str, str]) -> tuple[str | None, tuple[str, str, str] | None]:
    """The value text the number columns make: None and the problem when they make none."""
    qualifier_label = labels.get("qualifier", "qualifier")
    qualifier = _QUALIFIERS.get(cells.qualifier.casefold())
    if qualifier is None:
        return None, (
            qualifier_label,
            cells.qualifier,
            "unknown qualifier; expected nothing, ~, range, >, >=, <, <= or term",
        )
    point = cells.point or (cells.low if cells.low and cells.low == cells.high else "")
    if qualifier == "term":
        parsed = parse_cell(cells.words) if cells.words else None
        if isinstance(parsed, ParsedCell) and parsed.qualitative is not None:
            return cells.words, None  # its words, as the source wrote them: a term has no unit to convert
        return None, (
            qualifier_label,
            cells.qualifier,
            (
                "a qualitative value is read from its words in the value text (or verbatim value) column, "
                "which this row leaves empty"
            ),
        )
    if qualifier in ("=", "~"):
        if point:
            return ("~" if qualifier == "~" else "") + point, None
        if qualifier == "=" and cells.low and cells.high:
            return f"{cells.low} to {cells.high}", None
        return None, _missing(cells, labels, "a value needs a number in the value column (or both ends of a range)")
    if qualifier == "range":
        if cells.low and cells.high:
            return f"{cells.low} to {cells.high}", None
        empty = labels.get("value_max" if cells.low else "value_min", "value_max" if cells.low else "value_min")
        return None, _missing(cells, labels, f"a range needs both ends; {empty} is empty")
    lower = qualifier.startswith(">")
    end = (cells.low if lower else cells.high) or cells.point
    if end:
        return qualifier + end, None
    column = labels.get("value_min" if lower else "value_max", "value_min" if lower else "value_max")
    return None, (column, "", f"a bound {qualifier} needs its number in {column}")


def _ends_disagree(cells: _Cells, composed: str, labels: dict[str, str], decimal: str) -> tuple[str, str, str] | None:
    """The value_min or value_max cell that says another end than the value the row's numbers make
    (``55`` with value_min ``56``; ``> 900`` with a value_max), or None when every given end agrees."""
    parsed = parse_cell(composed, decimal=decimal)
    if not isinstance(parsed, ParsedCell) or parsed.qualitative is not None:
        return None
    for role, cell, end in (("value_min", cells.low, parsed.low), ("value_max", cells.high, parsed.high)):
        if not cell:
            continue
        given = parse_cell(cell, decimal=decimal)
        number = given.low if isinstance(given, ParsedCell) else None
        if end is None or number is None or not _same(number, end):
            label = labels.get(role, role)
            return (
                label,
                cell,
                (
                    f"{label} {cell!r} is not an end of the value the numbers beside it make ({composed!r}); "
                    "correct one, or empty it"
                ),
            )
    return None


def _missing(cells: _Cells, labels: dict[str, str], message: str) -> tuple[str, str, str]:
    """The problem of numbers that make no value, located at the first cell the row gives."""
    for role, cell in (
        ("value_min", cells.low),
        ("value_max", cells.high),
        ("qualifier", cells.qualifier),
    ):
        if cell:
            return labels.get(role, role), cell, message
    return labels["value"], "", message


def _same_value(text: str, composed: str, decimal: str) -> bool:
    """Whether a value text and the text its numbers make are the same value. A text that does
    not parse, or that carries its own unit, is left to the parser: True."""
    written, numbers = parse_cell(text, decimal=decimal), parse_cell(composed, decimal=decimal)
    if not isinstance(written, ParsedCell) or not isinstance(numbers, ParsedCell) or written.unit is not None:
        return True
    if written.qualitative is not None or numbers.qualitative is not None:
        return written.qualitative == numbers.qualitative  # a term and its verbatim words: the same term
    return written.qualifier == numbers.qualifier and all(
        _same(a, b) for a, b in ((written.low, numbers.low), (written.high, numbers.high))
    )


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
