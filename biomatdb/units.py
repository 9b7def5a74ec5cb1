"""Units through pint, with the curator alias table and pint's silent traps closed.

A measurement's unit is converted once per (property, unit text) into an affine map
``canonical = value * factor + offset`` (offset is non-zero only for °C/°F on a
temperature), so that whole columns convert as arrays, never a pint Quantity per cell.
Uncertainties and range widths are differences and convert with ``factor`` alone: an
uncertainty of 2 °C is 2 K, not 275.15 K.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from tokenize import TokenError
from typing import Any, cast

import numpy as np
import pint

from biomatdb.errors import UnitError
from biomatdb.suggest import closest, did_you_mean
from biomatdb.vocabulary import Property, get_vocabulary

_OFFSET_UNITS = {"degC", "degF", "degree_Celsius", "degree_Fahrenheit", "celsius", "fahrenheit"}

_SYMBOLS = str.maketrans(
    {"·": "*", "⋅": "*", "•": "*", "×": "*", "−": "-", "μ": "u", "µ": "u", "⁄": "/", "\u2126": "ohm", "\u03a9": "ohm"}
)  # the ohm sign and the capital omega
_SQRT = re.compile(r"√\s*\(?\s*([A-Za-z]+)\s*\)?")
_FRACTIONAL_POWER = re.compile(r"\*\*\s*\(?\s*(-?\d+)\s*/\s*(\d+)\s*\)?")
_TRAILING_POWER = re.compile(r"(?<=[A-Za-z])(-?\d+(?:\.\d+)?)(?![\w.])")
_UNIT_CHARACTERS = re.compile(r"^[A-Za-z0-9_ */().\-]+$")
_DEGREE_SIGNS = (("°C", "degC"), ("ºC", "degC"), ("°F", "degF"), ("ºF", "degF"), ("°", "degree"), ("º", "degree"))


@dataclass(frozen=True, slots=True)
class UnitAlias:
    pint: str
    ucum: str | None = None


@cache
def registry() -> pint.UnitRegistry:
    """The process's one registry: pint's defaults plus ``units_en.txt``."""
    ureg: pint.UnitRegistry = pint.UnitRegistry(autoconvert_offset_to_baseunit=False, on_redefinition="raise")
    with resources.as_file(resources.files("biomatdb").joinpath("units_en.txt")) as path:
        ureg.load_definitions(str(path))
    return ureg


@cache
def _units_data() -> dict[str, Any]:
    return tomllib.loads(resources.files("biomatdb.vocabulary").joinpath("units.toml").read_text("utf-8"))


@cache
def aliases() -> dict[str, UnitAlias]:
    return {
        text: UnitAlias(pint=spec["pint"], ucum=spec.get("ucum")) for text, spec in _units_data()["aliases"].items()
    }


@cache
def _folded_aliases() -> dict[str, UnitAlias]:
    table: dict[str, UnitAlias] = {}
    for text, alias in aliases().items():
        table.setdefault(text.casefold(), alias)
    return table


# a unit text is looked up several times on its way through parse_unit; the cache is bounded,
# for a hostile file can bring a distinct unit on each row
@lru_cache(maxsize=4096)
def _lookup_alias(text: str) -> UnitAlias | None:
    return _exact_alias(text) or _case_folded_alias(text)


@lru_cache(maxsize=4096)
def _exact_alias(text: str) -> UnitAlias | None:
    table = aliases()
    for candidate in (text, unicodedata.normalize("NFKC", text)):
        found = table.get(candidate) or table.get(candidate.replace(" ", ""))
        if found is not None:
            return found
    return None


@lru_cache(maxsize=4096)
def _case_folded_alias(text: str) -> UnitAlias | None:
    """An alias whose letters differ from ``text`` only in case ("Mpa", "GPA")."""
    table = _folded_aliases()
    for candidate in (text, unicodedata.normalize("NFKC", text)):
        found = table.get(candidate.casefold()) or table.get(candidate.replace(" ", "").casefold())
        if found is not None:
            return found
    return None


def to_pint_expression(text: str) -> str:
    """The pint expression a curator's unit text means; the traps pint would fall into are closed.

    ``MPa√m`` becomes ``MPa*m**0.5`` (pint alone reads MPa·m), ``m^1/2`` becomes ``m**(1/2)``
    (pint alone reads (m**1)/2), ``cm3`` becomes ``cm**3``, and a °C inside a compound
    unit is a temperature difference.
    """
    stripped = text.strip()
    alias = _lookup_alias(stripped)
    if alias is not None:
        return alias.pint
    return _literal_expression(stripped)


def _literal_expression(stripped: str) -> str:
    """``to_pint_expression`` without the alias table: the text as pint should read it."""
    expression = unicodedata.normalize("NFKC", stripped)
    for sign, name in _DEGREE_SIGNS:
        expression = expression.replace(sign, name)
    expression = expression.translate(_SYMBOLS).replace("^", "**")
    expression = _SQRT.sub(r"\1**0.5", expression)
    expression = _TRAILING_POWER.sub(r"**\1", expression)
    expression = _FRACTIONAL_POWER.sub(r"**(\1/\2)", expression)
    expression = expression.replace("%", " percent ").strip()
    if expression not in _OFFSET_UNITS:
        expression = re.sub(r"\bdeg([CF])\b", r"delta_deg\1", expression)
    return expression


#: Longest unit text read; real ones are a few characters ("kJ/(mol*K)", "MPa√m").
MAX_UNIT_LENGTH = 64
#: Largest power a unit may carry (m**3, s**-2, m**0.5); pint would compute any, m**2**2**2**2 too.
MAX_POWER = 12
_CHAINED_POWER = re.compile(r"\*\*[^*/]*\*\*")
_POWER = re.compile(r"\*\*\s*\(?\s*([+-]?(?:\d+\.?\d*|\.\d+))")


@cache
def parse_unit(text: str) -> pint.Unit:
    """The pint unit for ``text``; raises UnitError (type ``unknown-unit``) when there is none.

    Units whose case was clearly meant ("mPa" is millipascal, "MPa" megapascal) are read as written;
    an alias matched only by ignoring case ("Mpa", "GPA") is taken when pint does not read the text
    as another unit, and refused as ambiguous when it does."""
    if len(text) > MAX_UNIT_LENGTH:
        raise UnitError(
            f"unknown unit {text[:MAX_UNIT_LENGTH]!r}…: longer than {MAX_UNIT_LENGTH} characters", type="unknown-unit"
        )
    stripped = text.strip()
    if _exact_alias(stripped) is None and (folded := _case_folded_alias(stripped)) is not None:
        try:
            literal = _parse_expression(text, _literal_expression(stripped))
        except UnitError:
            literal = None
        meant = _parse_expression(text, folded.pint)
        if literal is not None and literal != meant:
            raise UnitError(
                f"ambiguous unit {text!r}: as written it is {literal:~P}, not {meant:~P}; write the unit's "
                f"letters in their proper case",
                type="unknown-unit",
            )
        return meant
    return _parse_expression(text, to_pint_expression(text))


def _parse_expression(text: str, expression: str) -> pint.Unit:
    if not expression:
        raise UnitError("empty unit", type="unknown-unit")
    if not _UNIT_CHARACTERS.match(expression):
        raise UnitError(f"unknown unit {text!r}: unexpected character", type="unknown-unit")
    if _lookup_alias(text.strip()) is None and re.match(r"[\d.+\-]", expression):
        raise UnitError(f"unit {text!r} starts with a number; write the factor into the value", type="unknown-unit")
    if _CHAINED_POWER.search(expression) or any(abs(float(power)) > MAX_POWER for power in _POWER.findall(expression)):
        raise UnitError(
            f"unknown unit {text!r}: a power must be one number from -{MAX_POWER} to {MAX_POWER}", type="unknown-unit"
        )
    try:
        parsed = registry().parse_expression(expression)
    # AssertionError: pint's expression parser asserts on a dangling operator ("GPa*", "K-");
    # RecursionError: parentheses nested past Python's limit
    except (
        pint.errors.PintError,
        AssertionError,
        AttributeError,
        TypeError,
        ValueError,
        SyntaxError,
        TokenError,
        RecursionError,
    ) as exc:
        raise UnitError(f"unknown unit {text!r}", type="unknown-unit") from exc
    if isinstance(parsed, pint.Quantity):
        if parsed.magnitude != 1:
            raise UnitError(
                f"unit {text!r} carries a number ({parsed.magnitude:g}); write the factor into the value",
                type="unknown-unit",
            )
        return cast(pint.Unit, parsed.units)  # pint types a quantity's units as its base facet's class
    raise UnitError(f"unknown unit {text!r}", type="unknown-unit")


def ucum_code(text: str) -> str | None:
    alias = _lookup_alias(text.strip())
    return None if alias is None else alias.ucum


def _is_angle(unit: pint.Unit) -> bool:
    root = registry().Quantity(1, unit).to_root_units().units
    return "radian" in root._units  # pint keeps radian as its own (dimensionless) base unit


@dataclass(frozen=True, slots=True)
class Conversion:
    """How values in one unit become values in a property's canonical unit."""

    unit: str  # the unit text as given
    canonical_unit: str
    factor: float
    offset: float = 0.0

    def value(self, x):
        """Convert values (a float or a NumPy array) as positions on the scale."""
        if self.factor == 1.0 and not self.offset:
            return x
        return round_significant(x * self.factor + self.offset if self.offset else x * self.factor)

    def delta(self, x):
        """Convert differences (uncertainties, widths): never shifted by the offset."""
        return x if self.factor == 1.0 else round_significant(x * self.factor)


SIGNIFICANT_DIGITS = 12


def round_significant(x, digits: int = SIGNIFICANT_DIGITS):
    """Round converted values to ``digits`` significant digits, so that the same quantity
    reached through different units is the same float: 1000000 kPa and 1 GPa both give
    exactly 1000.0 MPa, and a search bound equals a stored value it should touch. Arrays
    stay arrays; NaN and infinities pass through (validation refuses them later)."""
    values = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        magnitude = np.floor(np.log10(np.abs(values)))
        shift = np.where(np.isfinite(magnitude), digits - 1 - magnitude, 0.0)
        up = np.where(shift >= 0, 10.0 ** np.abs(shift), 1.0)
        down = np.where(shift < 0, 10.0 ** np.abs(shift), 1.0)
        rounded = np.round(values * up / down) / up * down
        rounded = np.where(np.isfinite(values) & np.isfinite(rounded), rounded, values)
    return rounded if np.ndim(x) else float(rounded)


@cache
def conversion(unit_text: str | None, prop: Property) -> Conversion:
    """The conversion from ``unit_text`` to ``prop``'s canonical unit.

    Refuses (UnitError, type ``unit-error``) a unit of the wrong dimension, a missing unit
    on a property that has a dimension, an angle on a property that is not an angle, and
    a dimensionless number on an angle.
    """
    ureg = registry()
    canonical = parse_unit(prop.unit)
    if unit_text is None or not unit_text.strip():
        if canonical.dimensionless and prop.kind != "angle" and str(canonical) != "percent":
            return Conversion(unit="", canonical_unit=prop.unit, factor=1.0)
        from biomatdb.display import unit_label  # written as people write it: GPa^⅓·cm³/g, not GPa**(1/3)/(g/cm**3)

        raise UnitError(
            f"no unit given for {prop.key}; expected a unit like {unit_label(prop.unit)}", type="unit-error"
        )
    try:
        given = parse_unit(unit_text)
    except UnitError as exc:
        raise unknown_unit(exc, unit_text, prop) from None
    if not _fits(given, canonical, prop):
        raise UnitError(
            f"unit {unit_text!r} ({describe_dimension(given)}) does not fit {prop.key}, "
            f"which needs {describe_dimension(canonical)}",
            type="unit-error",
        )
    target = ureg.Unit(canonical)
    if str(given) in _OFFSET_UNITS or str(canonical) in _OFFSET_UNITS:
        if prop.kind != "temperature":
            raise UnitError(f"unit {unit_text!r} is a temperature scale; {prop.key} is not a temperature")
        zero = ureg.Quantity(0.0, given).to(target).magnitude
        step = ureg.Quantity(1.0, f"delta_{given}").to(target).magnitude if str(given) in _OFFSET_UNITS else 1.0
        return Conversion(unit=unit_text, canonical_unit=prop.unit, factor=float(step), offset=float(zero))
    factor = ureg.Quantity(1.0, given).to(target).magnitude
    return Conversion(unit=unit_text, canonical_unit=prop.unit, factor=float(factor))


def _fits(given: pint.Unit, canonical: pint.Unit, prop: Property) -> bool:
    """Whether a unit measures what ``prop`` (in ``canonical``) measures: the dimension, and an
    angle only for an angle (pint counts both as dimensionless)."""
    if given.dimensionality != canonical.dimensionality:
        return False
    if prop.kind == "angle":
        return _is_angle(given)
    return not (canonical.dimensionless and _is_angle(given))


def _fold_unit(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


@cache
def _unit_labels(prop: Property | None) -> dict[str, str]:
    """The unit texts a suggestion may name, folded: the vocabulary's units and the alias table's,
    only those that fit ``prop`` when one is given."""
    vocabulary_units = [unit for p in get_vocabulary().properties.values() for unit in (p.unit, *p.display)]
    labels: dict[str, str] = {}
    for text in (*vocabulary_units, *aliases()):
        if prop is not None:
            try:
                if not _fits(parse_unit(text), parse_unit(prop.unit), prop):
                    continue
            except UnitError:
                continue
        labels.setdefault(_fold_unit(text), text)
    return labels


def closest_units(text: str, prop: Property | None = None) -> list[str]:
    """The units BiomatDB reads that look most like ``text`` (of ``prop``'s dimension, when given)."""
    return closest(text, _unit_labels(prop), fold=_fold_unit)


def unknown_unit(exc: UnitError, unit_text: str, prop: Property | None = None) -> UnitError:
    """``exc`` (from :func:`parse_unit`) with the closest known units suggested, when it says the
    unit is unknown."""
    if exc.type != "unknown-unit" or exc.suggestions:
        return exc
    suggestions = closest_units(unit_text, prop)
    if not suggestions:
        return exc
    return UnitError(exc.message + did_you_mean(suggestions), type=exc.type, suggestions=tuple(suggestions))


@cache
def _dimension_words() -> dict[Any, str]:
    """``[dimensions]`` of ``units.toml``: a dimension (pint's) → what a unit of it is, in words."""
    return {parse_unit(unit).dimensionality: words for unit, words in _units_data()["dimensions"].items()}


_POWER_WORDS = {0.5: "^½", 1 / 3: "^⅓", 0.25: "^¼", 2 / 3: "^⅔", 1.5: "^1½"}
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def power_label(power: float) -> str:
    """A power as a label writes it: 1 → "", 3 → "³", 0.5 → "^½", 0.4 → "^0.4"."""
    if power == 1:
        return ""
    if power == int(power):
        return str(int(power)).translate(_SUPERSCRIPT)
    for value, text in _POWER_WORDS.items():
        if abs(power - value) < 1e-6:
            return text
    return f"^{power:g}"


def describe_dimension(unit: pint.Unit) -> str:
    """What a unit of ``unit``'s dimension is, in words a researcher reads: "a density unit such as
    g/cm³, kg/m³" (``[dimensions]`` of ``units.toml``); a dimension not named there by its base
    quantities ("a unit of mass/length⁴"), never pint's ``[mass] / [length] ** 4``."""
    if _is_angle(unit):
        return "an angle unit such as °, rad"
    dims = unit.dimensionality
    found = _dimension_words().get(dims)
    if found is not None:
        return found
    powers = [(name.strip("[]"), float(power)) for name, power in dims.items()]  # type: ignore[arg-type]
    upper = [f"{name}{power_label(power)}" for name, power in powers if power > 0]
    lower = [f"{name}{power_label(-power)}" for name, power in powers if power < 0]
    text = "·".join(upper) or "1"
    if lower:
        text += "/" + (lower[0] if len(lower) == 1 else f"({'·'.join(lower)})")
    return f"a unit of {text}"


def convert_value(value: float, unit_text: str, target_unit: str, *, kind: str = "quantity") -> float:
    """Convert one value between two units (display conversion); offsets apply for temperatures."""
    ureg = registry()
    source = parse_unit(unit_text)
    target = parse_unit(target_unit)
    if source.dimensionality != target.dimensionality:
        raise UnitError(f"cannot convert {unit_text!r} to {target_unit!r}: dimensions differ")
    return float(ureg.Quantity(value, source).to(target).magnitude)
