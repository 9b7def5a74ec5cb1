"""Parse the cells labs write: ``90–100``, ``2,4-3,3``, ``110 ± 4``, ``>1000``, ``≈ 0,5``, ``0,69 GPa``.

Pure functions. ``parse_cell`` reads one cell; ``parse_column`` reads a whole column with a
vectorised fast path for plain numbers and falls back to ``parse_cell`` (once per distinct
text) for the rest. Errors are returned as data, never raised.

Decisions on ambiguous text:
- with ``decimal=","`` every comma in a number is a decimal comma; with ``decimal="."`` a comma
  is still a decimal comma unless exactly three digits follow it (``1,200``), which could be a
  thousands separator: that is an ``ambiguous-number`` error, never a guess; the mirror holds in
  a decimal-comma file, where a point is a decimal point unless exactly three digits follow it
  (``3.600``, which a German spreadsheet writes for 3600);
- a space inside a number (``1 000``) is not a thousands separator: a type error;
- ``NA``, ``n.d.``, ``—`` and friends are empty cells; ``NaN`` and ``inf`` are errors;
- a qualitative value of the vocabulary (``amorphous``, ``not detected``; ``qualitative.toml``)
  is a cell of qualifier ``term`` with the term's key and no number.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from biomatdb.errors import UnitError
from biomatdb.models import QUALITATIVE
from biomatdb.precision import NUMBER_PATTERN
from biomatdb.units import parse_unit
from biomatdb.vocabulary import get_vocabulary

Qualifier = Literal["=", "~", ">", ">=", "<", "<=", "range", "term"]

EMPTY = frozenset({"", "n.d.", "nd", "n.d", "n.a.", "n/a", "na", "n.a", "—", "–", "-", "‒", "―", "null", "none", "--"})
NON_FINITE = frozenset(
    {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "∞", "-∞", "+∞"}
)
_EXPECTED = "expected a number, a range like 90–100, a bound like >60 or a value with uncertainty like 110 ± 4"

_CLEAN = str.maketrans(
    {
        "−": "-",
        "‐": "-",
        "﹣": "-",
        "－": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "≥": "≥",
        "≤": "≤",
        "∼": "~",
        "≈": "~",
        "～": "~",
    }
)
_NUMBER = rf"[+-]?{NUMBER_PATTERN}"
_CELL = re.compile(
    rf"^(?P<q>>=|<=|≥|≤|>|<|~|ca\.?|approx\.?|c\.)?\s*(?P<a>{_NUMBER})"
    rf"(?:\s*(?:-|–|—|to|\.\.|…)\s*(?P<b>{_NUMBER}))?"
    rf"(?:\s*(?:±|\+/-|\+-)\s*(?P<u>{_NUMBER}))?"
    r"\s*(?P<unit>[^\d\s.,+\-].*?)?\s*$",
    re.IGNORECASE,
)
# a negative end written in parentheses, as handbooks print ranges: (−65)–(−60); it stays a separate
# token, so that 110(5) (concise uncertainty, or a footnote) is refused, never read as 1105
_PARENTHESISED = re.compile(rf"\(\s*({_NUMBER})\s*\)")
_QUALIFIERS: dict[str, Qualifier] = {
    ">=": ">=",
    "≥": ">=",
    "<=": "<=",
    "≤": "<=",
    ">": ">",
    "<": "<",
    "~": "~",
    "ca": "~",
    "ca.": "~",
    "approx": "~",
    "approx.": "~",
    "c.": "~",
}
_PLAIN_COMMA = re.compile(r"^[+-]?\d+,\d+(?:[eE][+-]?\d+)?$")


@dataclass(frozen=True, slots=True)
class ParsedCell:
    qualifier: Qualifier
    value: float | None
    low: float | None
    high: float | None
    uncertainty: float | None
    unit: str | None
    qualitative: str | None = None  # the vocabulary term's key, for qualifier "term"


@dataclass(frozen=True, slots=True)
class CellError:
    type: str
    message: str


# a digit 1–9 before any exponent: the text is not zero, so a float of 0 is an underflow
_NONZERO_MANTISSA = re.compile(r"[^eE]*[1-9]")


def _underflows(texts: pd.Series, numeric: np.ndarray) -> np.ndarray:
    """Where a column's texts read as 0 but are not zero (``1e-400``): these go to the cell
    parser, which refuses them, instead of being stored as 0."""
    zero = numeric == 0
    if not zero.any():
        return zero
    return zero & texts.str.match(_NONZERO_MANTISSA.pattern, na=False).to_numpy()


def _number(token: str, decimal: str) -> float | CellError:
    mantissa, _, exponent = token.replace("E", "e").partition("e")
    if "," in mantissa and "." in mantissa:
        return CellError("ambiguous-number", f"{token!r} mixes '.' and ',' in one number; write one decimal separator")
    if mantissa.count(",") > 1 or mantissa.count(".") > 1:
        return CellError("ambiguous-number", f"{token!r} has several separators; write the number without grouping")
    if "." in mantissa and decimal == "," and len(mantissa.split(".")[1]) == 3 and not exponent:
        return CellError(
            "ambiguous-number",
            f"{token!r} could be a thousands separator (this file writes decimal commas) or a decimal "
            f"point; write it without grouping",
        )
    if "," in mantissa:
        digits_after = len(mantissa.split(",")[1])
        if decimal != "," and digits_after == 3 and not exponent:
            return CellError(
                "ambiguous-number",
                f"{token!r} could be a thousands separator or a decimal comma; write it without grouping",
            )
        mantissa = mantissa.replace(",", ".")
    try:
        number = float(mantissa + ("e" + exponent if exponent else ""))
    except ValueError:
        return CellError("type-error", _EXPECTED)
    if not math.isfinite(number):
        return CellError("non-finite-number", f"{token!r} is beyond the range of floating-point numbers")
    if number == 0 and _NONZERO_MANTISSA.match(token):
        return CellError(
            "number-underflow", f"{token!r} is too small for a floating-point number: it would be stored as 0"
        )
    return number


def value_numbers(text: str) -> tuple[str, ...]:
    """The numbers, as written, of a cell that reads as a value — a point, a range, a bound or a
    value with uncertainty, with no unit or one the units layer reads (``3,5``, ``2,4-3,3``,
    ``110 ± 4 MPa``) — and none for anything else: names (``Poly(1,4-butylene adipate)``,
    ``1,4 dioxanone polymer``), free text (``2,5 mm/min crosshead``), empty cells."""
    cleaned = text.translate(_CLEAN).strip()
    if cleaned.casefold() in EMPTY:
        return ()
    if "(" in cleaned:
        cleaned = _PARENTHESISED.sub(r" \1 ", cleaned).strip()
    match = _CELL.match(cleaned)
    if match is None or (match["unit"] and not _is_unit(match["unit"])):
        return ()
    return tuple(number for number in match.group("a", "b", "u") if number is not None)


def _is_unit(text: str) -> bool:
    try:
        parse_unit(text)
    except UnitError:
        return False
    return True


def parse_cell(text: Any, *, decimal: str = ".") -> ParsedCell | CellError | None:
    """One cell; None means an empty or not-determined cell (no measurement)."""
    if text is None or text is pd.NA:
        return None
    if isinstance(text, (float, int, np.floating, np.integer)) and not isinstance(text, bool):
        number = float(text)
        if math.isnan(number):
            return None
        if not math.isfinite(number):
            return CellError("non-finite-number", "not a finite number")
        return ParsedCell("=", number, number, number, None, None)
    cleaned = str(text).translate(_CLEAN).strip()
    folded = cleaned.casefold()
    if folded in EMPTY:
        return None
    if folded.replace(" ", "") in NON_FINITE:
        return CellError("non-finite-number", "not a finite number")
    term = get_vocabulary().find_qualitative(cleaned)
    if term is not None:
        return ParsedCell(QUALITATIVE, None, None, None, None, None, term.key)
    if "(" in cleaned:
        cleaned = _PARENTHESISED.sub(r" \1 ", cleaned).strip()
    match = _CELL.match(cleaned)
    if match is None:
        return CellError("type-error", _EXPECTED)
    numbers = {}
    for group in ("a", "b", "u"):
        if match[group] is not None:
            read = _number(match[group], decimal)
            if isinstance(read, CellError):
                return read
            numbers[group] = read
    qualifier = _QUALIFIERS.get((match["q"] or "").casefold(), "=")
    unit = match["unit"] or None
    uncertainty = numbers.get("u")
    if uncertainty is not None and uncertainty < 0:
        return CellError("type-error", "an uncertainty cannot be negative")
    if "b" in numbers:
        if match["q"] is not None:
            return CellError("type-error", "a range cannot also have a qualifier such as > or ~")
        if uncertainty is not None:
            return CellError("type-error", "a range cannot also have an uncertainty")
        low, high = numbers["a"], numbers["b"]
        if low > high:
            return CellError("range-error", f"the range's low end {low:g} is above its high end {high:g}")
        return ParsedCell("range", None, low, high, None, unit)
    value = numbers["a"]
    if qualifier in (">", ">="):
        if uncertainty is not None:
            return CellError("type-error", "a bound cannot also have an uncertainty")
        return ParsedCell(qualifier, None, value, None, None, unit)
    if qualifier in ("<", "<="):
        if uncertainty is not None:
            return CellError("type-error", "a bound cannot also have an uncertainty")
        return ParsedCell(qualifier, None, None, value, None, unit)
    return ParsedCell(qualifier, value, value, value, uncertainty, unit)


_COLUMNS = ["qualifier", "value", "low", "high", "uncertainty", "unit", "qualitative"]
# bounds, approximate values, ranges and ± of unsigned numbers without units: the shapes most
# non-plain cells have, read a column at a time; anything else (and any error) goes to parse_cell
_UNSIGNED = {".": r"\d+(?:\.\d+)?", ",": r"\d+(?:,\d+)?"}
_SHAPES = {
    decimal: re.compile(rf"^(>=|<=|≥|≤|>|<|~|≈)?\s*({number})(?:\s*(–|-|±)\s*({number}))?$")
    for decimal, number in _UNSIGNED.items()
}
_SHAPE_QUALIFIERS = {">": ">", ">=": ">=", "≥": ">=", "<": "<", "<=": "<=", "≤": "<=", "~": "~", "≈": "~"}


def _common_shapes(strings: pd.Series, decimal: str) -> tuple[pd.DataFrame, pd.Series]:
    """The cells of ``strings`` in a common shape, read as whole arrays, and the strings left over.

    Gives exactly what ``parse_cell`` gives for those cells (a test holds the two together).
    """
    parts = strings.str.extract(_SHAPES[decimal])
    sign, separator = parts[0], parts[2]

    def numbers(texts: pd.Series) -> np.ndarray:
        numeric = pd.to_numeric(texts.str.replace(",", ".", regex=False), errors="coerce").to_numpy(
            dtype=float, copy=True
        )
        numeric[_underflows(texts, numeric)] = np.nan
        return numeric

    first, second = numbers(parts[1]), numbers(parts[3])
    is_range = separator.isin(["–", "-"]).to_numpy()
    is_spread = (separator == "±").to_numpy()
    qualifier = sign.map(_SHAPE_QUALIFIERS).fillna("=").to_numpy(dtype=object)
    with np.errstate(invalid="ignore"):
        taken = (
            parts[1].notna().to_numpy()
            & np.isfinite(first)
            & (np.isfinite(second) | separator.isna().to_numpy())
            & ~(sign.notna().to_numpy() & separator.notna().to_numpy())
            & ~(is_range & (first > second))
        )
    qualifier = np.where(is_range, "range", qualifier)
    point = np.isin(qualifier, ["=", "~"])
    lower = np.isin(qualifier, [">", ">="])
    upper = np.isin(qualifier, ["<", "<="])
    frame = pd.DataFrame(
        {
            "qualifier": qualifier,
            "value": np.where(point, first, np.nan),
            "low": np.where(upper, np.nan, first),
            "high": np.where(is_range, second, np.where(lower, np.nan, first)),
            "uncertainty": np.where(is_spread, second, np.nan),
            "unit": None,
            "qualitative": None,
        },
        index=strings.index,
    )
    return frame[taken], strings[~taken]


def parse_column(texts: pd.Series, *, decimal: str = ".") -> tuple[pd.DataFrame, list[tuple[Any, str, CellError]]]:
    """A whole column: the valid non-empty cells as a frame indexed like ``texts``, and the errors.

    Plain numbers take a vectorised path; every other distinct text is parsed once.
    """
    if texts.dtype.kind == "f":
        numeric = texts.to_numpy(dtype=float)
        finite = np.isfinite(numeric)
        infinite: list[tuple[Any, str, CellError]] = [
            (label, str(value), CellError("non-finite-number", "not a finite number"))
            for label, value in texts[np.isinf(numeric)].items()
        ]
        kept = texts[finite].astype(float)
        frame = pd.DataFrame(
            {
                "qualifier": "=",
                "value": kept,
                "low": kept,
                "high": kept,
                "uncertainty": np.nan,
                "unit": None,
                "qualitative": None,
            },
            index=kept.index,
        )
        return frame[_COLUMNS], infinite
    strings = texts.astype(object).where(texts.notna(), "").astype(str).str.strip()
    candidates = strings.str.replace(",", ".", regex=False) if decimal == "," else strings
    if decimal != ",":
        candidates = candidates.where(~strings.str.contains(",", regex=False), "")
    numeric = pd.to_numeric(candidates.where(candidates != "", None), errors="coerce").to_numpy(dtype=float)
    plain = np.isfinite(numeric) & ~_underflows(strings, numeric)
    if decimal == ",":  # a point in a decimal-comma file may group thousands ("3.600"): parse_cell decides
        plain &= ~strings.str.contains(".", regex=False).to_numpy()
    fast = pd.Series(numeric[plain], index=texts.index[plain])
    frames = [
        pd.DataFrame(
            {
                "qualifier": "=",
                "value": fast,
                "low": fast,
                "high": fast,
                "uncertainty": np.nan,
                "unit": None,
                "qualitative": None,
            },
            index=fast.index,
        )
    ]
    rest = strings[~plain]
    rest = rest[rest != ""]  # empty: no measurement
    if len(rest) and rest.nunique() * 2 > len(rest):  # mostly distinct: read the common shapes as arrays
        common, rest = _common_shapes(rest, decimal)
        frames.append(common)
    errors: list[tuple[Any, str, CellError]] = []
    if len(rest):
        parsed = {text: parse_cell(text, decimal=decimal) for text in rest.unique()}
        rows = []
        labels = []
        for label, text in rest.items():
            result = parsed[text]
            if result is None:
                continue
            if isinstance(result, CellError):
                errors.append((label, str(texts[label]), result))
                continue
            labels.append(label)
            rows.append(
                (
                    result.qualifier,
                    result.value,
                    result.low,
                    result.high,
                    result.uncertainty,
                    result.unit,
                    result.qualitative,
                )
            )
        if rows:
            slow = pd.DataFrame(rows, columns=_COLUMNS, index=pd.Index(labels, dtype=texts.index.dtype))
            frames.append(slow)
    frame = pd.concat([f for f in frames if len(f)]) if any(len(f) for f in frames) else frames[0]
    frame = frame.reindex(texts.index[texts.index.isin(frame.index)])
    for column in ("value", "low", "high", "uncertainty"):
        frame[column] = frame[column].astype(float)
    frame["qualifier"] = frame["qualifier"].astype(object)
    for column in ("unit", "qualitative"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame[_COLUMNS], errors
