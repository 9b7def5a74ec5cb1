"""The precision of a written number, and a value rounded to it.

A value is shown to the precision it was written with (its verbatim text); ``biomatdb.display``
converts it to the shown unit and rounds it here:

- a written number's significant digits are all its digits from the first non-zero one, trailing
  zeros of an integer included: ``240`` has 3 (a shown value never drops a digit the source may
  have meant; a source that means 2 writes ``2.4e2``); ``0.050`` has 2, ``1.2e3`` has 2;
- through a conversion by a factor (ksi → GPa) the count of significant digits is kept:
  ``580–725 ksi`` is shown as ``4.00–5.00 GPa``; a one-digit number keeps two through a factor
  that is no power of ten (``biomatdb.display.CONVERTED_DIGITS``): ``4 months`` is ``1.2 × 10² days``;
- through a change of temperature scale (K, °C, °F: an offset) the place of the last written digit
  is kept instead, scaled by the factor: ``308.15 K`` is ``35.00 °C``, ``37 °C`` is ``310 K`` and
  ``99 °F``. Significant digits mean nothing across an offset (``0.5 °C`` is not ``300 K``);
- each end of a range, and a bound, keeps its own digits (``5–10`` has 1 and 2);
- an uncertainty is shown to at most two significant digits (two through a conversion by a factor
  that is no power of ten), rounded up, never down: ``42.3 ± 0.1 MPa`` is ``6135 ± 15 psi``, not
  ``6140 ± 10``; its value no finer than it (``323.5608 ± 11.074`` is ``324 ± 12``), and at its
  place when the value was written to the uncertainty's place;
- at most :data:`MAX_DIGITS` digits are shown (what the core keeps); a number written with more than
  15 is a binary float's decimal text (``0.30000000000000004``) and counts as its shortest form;
- a number whose text is not known (no verbatim text, or fewer numbers in it than the value has)
  counts as written in the canonical unit as stored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Context, Decimal
from typing import Any

from biomatdb.units import SIGNIFICANT_DIGITS

#: Most significant digits shown: what the core keeps of a converted value.
MAX_DIGITS = SIGNIFICANT_DIGITS
#: A written number with more digits than this is a binary float's text, read as its shortest form.
FLOAT_TEXT_DIGITS = 15
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

#: An unsigned number as a cell writes it: digits with a decimal point or comma (``4,5``), digit
#: groups (``1,234.5``), an exponent (``1.2e3``). The one pattern: ``ingest/biomatdb_ingest/cells.py`` reads a cell
#: with it (a sign before it), and the precision of a verbatim text is counted by its tokens here.
NUMBER_PATTERN = r"(?:\d+(?:[.,]\d+)*[.,]?\d*|[.,]\d+)(?:[eE][+-]?\d+)?"
_NUMBER = re.compile(NUMBER_PATTERN)
_DECIMAL = Context(prec=80)
_SIGNIFICANT = Context(prec=MAX_DIGITS, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Written:
    """The precision of one written number: its significant digits, and the decimal place of its
    last digit (``308.15`` → 5 and −2, ``240`` → 3 and 0, ``1.2e3`` → 2 and 2)."""

    digits: int
    place: int


def written_number(token: str) -> Written:
    """The precision of one number as written (``4,5`` with a decimal comma too)."""
    mantissa, _, exponent = token.strip().lstrip("+-").replace("E", "e").partition("e")
    whole, _, fraction = mantissa.replace(",", ".").partition(".")
    significant = (whole + fraction).lstrip("0")
    digits, place = max(len(significant), 1), int(exponent or 0) - len(fraction)
    if digits > FLOAT_TEXT_DIGITS:
        shortest = f"{float(token.replace(',', '.')):.{FLOAT_TEXT_DIGITS}g}"
        return written_number(shortest)
    if digits > MAX_DIGITS:
        digits, place = MAX_DIGITS, place + digits - MAX_DIGITS
    return Written(digits=digits, place=place)


def written_unit(text: str | None) -> str | None:
    """The unit written after a text's last number (``4 GPa`` → ``GPa``), None when there is none."""
    matches = list(_NUMBER.finditer(text or ""))
    rest = (text or "")[matches[-1].end() :].strip() if matches else ""
    return rest or None


def written_numbers(text: str | None) -> list[Written]:
    """The precision of each number in a cell's text, in order (``580–725 ksi`` → two)."""
    return [written_number(match.group()) for match in _NUMBER.finditer(text or "")]


def written_values(text: str | None) -> list[float | None]:
    """The value of each number in a cell's text, in order, unsigned (``580–725 ksi`` → 580, 725);
    None for one whose comma may be a decimal or a group separator (``4,5``, ``1,234``)."""
    return [None if "," in match.group() else float(match.group()) for match in _NUMBER.finditer(text or "")]


def _fields_written(qualifier: str, has_uncertainty: bool) -> tuple[str, ...]:
    """Which value each number of a cell's text is, in order."""
    ends = {"range": ("value_min", "value_max"), ">": ("value_min",), ">=": ("value_min",)}
    ends |= {"<": ("value_max",), "<=": ("value_max",)}
    return (*ends.get(qualifier, ("value",)), *(("uncertainty",) if has_uncertainty else ()))


def written_precision(measurement: Mapping[str, Any]) -> dict[str, Written]:
    """The written precision of a measurement's values, by field (``value``, ``value_min``,
    ``value_max``, ``uncertainty``), from its verbatim text, number by number; an uncertainty from a
    column of its own from its own text (``verbatim.uncertainty``: ``4 GPa``). A value the texts
    hold no number for is absent."""
    verbatim = measurement.get("verbatim") or {}
    fields = _fields_written(measurement["qualifier"], measurement.get("uncertainty") is not None)
    found = dict(zip(fields, written_numbers(verbatim.get("value")), strict=False))
    if uncertainty_in_own_text(measurement):
        found["uncertainty"] = written_numbers(verbatim["uncertainty"])[0]
    if "value" in found:  # a point: its interval's ends are the point
        found.setdefault("value_min", found["value"])
        found.setdefault("value_max", found["value"])
    return found


def uncertainty_in_own_text(measurement: Mapping[str, Any]) -> bool:
    """Whether a measurement's uncertainty is written in a text of its own (``verbatim.uncertainty``,
    from an uncertainty column), not in its value's cell (``110 ± 4``, which comes first)."""
    verbatim = measurement.get("verbatim") or {}
    if measurement.get("uncertainty") is None or not written_numbers(verbatim.get("uncertainty")):
        return False
    fields = _fields_written(measurement["qualifier"], True)
    return len(written_numbers(verbatim.get("value"))) < len(fields)


def place_of(value: float) -> int:
    return math.floor(math.log10(abs(value)))


def relative_place(shown: float, digits: int) -> int:
    """The place of the last of ``digits`` significant digits of ``shown``."""
    return place_of(shown) - min(digits, MAX_DIGITS) + 1


def decimal_of(value: float) -> Decimal:
    """A converted value as the decimal it stands for: its :data:`MAX_DIGITS` significant digits
    (what the core keeps), so that the float noise of a conversion is gone before it is rounded
    (273.0 K in °C is −0.14999999999997726 as a float, −0.150000000000 as a decimal)."""
    return _SIGNIFICANT.create_decimal(repr(float(value)))


def rounded(value: float, place: int) -> Decimal:
    """``value`` rounded half away from zero to the decimal ``place`` (−2: hundredths), on its
    decimal (:func:`decimal_of`): −0.15 to tenths is −0.2 though its float is −0.1499…; a value
    that rounds to zero is zero, never −0 (−0.04 to tenths is 0.0, not −0.0)."""
    result = decimal_of(value).quantize(Decimal(1).scaleb(place), ROUND_HALF_UP, _DECIMAL)
    return result.copy_abs() if result.is_zero() else result


#: Significant digits below which a converted uncertainty's float noise cannot lift it when it is
#: rounded up (0.5 ksi through MPa and back is 0.50000000000004: still 0.5).
ROUND_UP_DIGITS = 10
_ROUND_UP_CONTEXT = Context(prec=ROUND_UP_DIGITS, rounding=ROUND_HALF_EVEN)


def significant_digits(value: float) -> int:
    """How many significant digits ``value`` has, its float noise dropped (its first
    :data:`ROUND_UP_DIGITS`): 0.5 °C in °F is 0.9, one digit; 4 months in days 121.7625, seven."""
    if value == 0 or not math.isfinite(value):
        return 1
    return len(_ROUND_UP_CONTEXT.create_decimal(repr(abs(float(value)))).normalize().as_tuple().digits)


def rounded_up(value: float, place: int) -> Decimal:
    """``value`` rounded away from zero to the decimal ``place``: an uncertainty, which rounding
    must never understate (14.5 psi to the unit is 15, to tens 20); on its decimal, its first
    :data:`ROUND_UP_DIGITS` significant digits, so that float noise does not lift an exact one."""
    result = _ROUND_UP_CONTEXT.create_decimal(repr(float(value))).quantize(Decimal(1).scaleb(place), ROUND_UP, _DECIMAL)
    return result.copy_abs() if result.is_zero() else result


@dataclass(frozen=True, slots=True)
class Shown:
    """One shown number: its value rounded, and the place it was rounded to."""

    value: Decimal
    place: int

    def __float__(self) -> float:
        return float(self.value)

    def without_trailing_zeros(self) -> Shown:
        """The same value without the zeros that end its decimals (``37.00`` → ``37``): for a number
        whose precision is not known beyond the digits it is stored with, where those zeros only
        carry an offset's decimals (``310.15 K`` is ``37.00 °C``)."""
        if self.place >= 0:
            return self
        exponent = self.value.normalize().as_tuple().exponent
        place = max(self.place, min(exponent if isinstance(exponent, int) else 0, 0))
        return Shown(rounded(float(self.value), place), place)

    def text(self, *, scientific: bool = False) -> str:
        """As the ingest parser reads it back: ``4.00``, ``310``, ``1.20e-5``; ``scientific``: with
        a power of ten whatever its size (``1.58e-3``, ``3.5e0``), beside a number that needs one."""
        return _number_text(self.value, self.place, scientific=scientific)

    def is_scientific(self) -> bool:
        """Whether it is written with a power of ten (``1.20e-5``) when shown on its own."""
        return "e" in _number_text(self.value, self.place)

    def exponent(self) -> int:
        """The power of ten it is written with on its own (0 when it is written without one)."""
        return self.value.adjusted() if self.is_scientific() and not self.value.is_zero() else 0

    def scaled(self, exponent: int) -> str:
        """Its mantissa against a power of ten, as people read it, its digits kept: 4000 (to tens)
        against 10³ is ``4.00``, 950 (to tens) ``0.95``."""
        place = self.place - exponent
        mantissa = rounded(float(self.value.scaleb(-exponent)), place)
        text = "0" if mantissa.is_zero() and place >= 0 else f"{mantissa:.{max(-place, 0)}f}"
        return text.replace("-", "−")

    def readable(self, *, scientific: bool = False) -> str:
        """As people read it: a minus sign, digits grouped by a narrow space past 9 999, ``1.20 × 10⁻⁵``;
        on its own never ``× 10⁰`` (a number between 1 and 10 is its mantissa). ``scientific``: with
        a power of ten whatever its size, ``× 10⁰`` included (``3.91602 × 10⁵``, ``3.5 × 10⁰``), so
        that it reads alike beside numbers that need one (a row of :func:`biomatdb.display.scientific_row`)."""
        text = _number_text(self.value, self.place, scientific=scientific)
        if "e" in text:
            mantissa, _, exponent = text.partition("e")
            text = mantissa if int(exponent) == 0 and not scientific else f"{mantissa}{power_of_ten(int(exponent))}"
        else:
            whole, dot, fraction = text.partition(".")
            sign = "-" if whole.startswith("-") else ""
            digits = whole.lstrip("-")
            if len(digits) > 4:
                digits = f"{int(digits):,}".replace(",", "\u202f")
            text = sign + digits + dot + fraction
        return text.replace("-", "−")


def power_of_ten(exponent: int) -> str:
    """`` × 10³``: a power of ten as people read it."""
    return f" × 10{str(exponent).translate(SUPERSCRIPT)}"


def readable_together(numbers: list[Shown], separator: str, *, scientific: bool = False) -> str:
    """Numbers read together (a range's ends, a value and its uncertainty) against one power of ten
    when any of them needs one, that of the largest: ``4.00–5.00 × 10³``, ``(1.10 ± 0.04) × 10⁵``
    (parenthesised when ``separator`` is ``±``); each as :meth:`Shown.readable` otherwise.
    ``scientific``: against that power whatever it is, ``× 10⁰`` included (``0.02–3.5 × 10⁰``)."""
    if not any(scientific or n.is_scientific() for n in numbers):
        return separator.join(n.readable() for n in numbers)
    nonzero = [n for n in numbers if not n.value.is_zero()]
    exponent = max(n.value.adjusted() for n in nonzero) if nonzero else 0
    body = separator.join(n.scaled(exponent) for n in numbers)
    if exponent == 0 and not (scientific and nonzero):
        return body
    return f"({body}){power_of_ten(exponent)}" if "±" in separator else f"{body}{power_of_ten(exponent)}"


def _number_text(value: Decimal, place: int, *, scientific: bool = False) -> str:
    """Digits that claim no more than were written: a number rounded to tens or coarser (``place`` >
    0) is written with a power of ten (``4.00e3``, not ``4000``, whose zeros would count)."""
    if value.is_zero():
        return "0" if place >= 0 else f"{0:.{-place}f}"
    exponent = value.adjusted()
    if scientific or exponent >= 7 or exponent < -3 or place > 0:
        return f"{value:.{max(exponent - place, 0)}e}".replace("e+", "e")
    return f"{value:.{max(-place, 0)}f}"
