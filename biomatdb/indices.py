"""Derived properties: ratios and power-law indices of a material's properties.

An index is a product of properties, each to an exponent: specific stiffness is
``youngs_modulus^1 · density^-1``, Ashby's beam stiffness index ``youngs_modulus^½ · density^-1``.
The named ones live in ``vocabulary/indices.toml``; an ad-hoc one (``youngs_modulus^0.5/density``)
is read by :func:`parse_expression`. This module is the one place the arithmetic lives: the
backends translate :func:`term_ends` and :func:`product_ends` (SQL, numpy), and the tests hold
them to it.

**The arithmetic on intervals.** The properties an index takes are positive quantities (a modulus,
a strength, a density). Each input is an interval in its property's canonical unit, ``None`` (NaN
over arrays) for an unbounded end, with open or closed ends. Before the power is taken, an input is
read on (0, ∞): an end that is unbounded below, or at or below 0, is read as reaching down to 0,
exclusive (a bound ``< 5`` is (0, 5)). Then ``x ↦ x^e`` is monotone, so:

- for ``e > 0`` the low end is ``low^e`` (0, open, where the input reaches down to 0) and the high
  end ``high^e`` (unbounded when the input is);
- for ``e < 0`` the ends swap: the low end is ``high^e`` (0, open, when the input is unbounded
  above: a divisor's high end gives the quotient's low end) and the high end is ``low^e``
  (unbounded where the input reaches down to 0).

The index's interval is the product of the terms' intervals: all of them lie in [0, ∞), so the
product's low end is the product of the low ends, and its high end the product of the high ends
(unbounded when one is). An end is open when one of the ends it is the product of is open. An input
whose whole interval is at or below 0 (a value of 0, or ``<= 0``) has no positive part: the index
is *undefined* for it, :func:`product_ends` says so (``defined`` false) and :func:`interval_of`
refuses it with ``ValueError``; a backend then skips that combination of measurements.

Powers are taken as every backend takes them alike: ``x`` for 1, ``1/x`` for −1, ``sqrt(x)`` for ½
(and ``1/sqrt(x)`` for −½), the C library's ``pow`` otherwise; products left to right, in the
order of the terms.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cache
from importlib import resources

import numpy as np

from biomatdb.errors import VocabularyError
from biomatdb.suggest import closest, did_you_mean
from biomatdb.vocabulary import Property, get_vocabulary, label_index, normalise_label

#: Most properties one index multiplies: each is one more measurement to pair per material.
MAX_TERMS = 4
#: Largest exponent (in size) a term may carry.
MAX_EXPONENT = 4.0
_KINDS = ("quantity",)  # a temperature scale or an angle is no positive quantity to take powers of


@dataclass(frozen=True, slots=True)
class Index:
    """A named index (``vocabulary/indices.toml``) or an ad-hoc expression: the product of each
    term's property, in its canonical unit, to the term's exponent.

    ``unit_canonical`` is the unit of that product (pint text); ``unit_display`` the unit it is shown
    in by default."""

    key: str
    name: str
    terms: tuple[tuple[str, float], ...]
    unit_canonical: str
    unit_display: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    named: bool = False
    systems: tuple[tuple[str, str], ...] = ()  # unit system key -> the unit shown under it

    def unit_in(self, system: str | None) -> str:
        """The unit the index is shown in under a unit system (``indices.toml``'s ``systems``), else
        its default display unit."""
        return dict(self.systems).get(system or "", self.unit_display)

    @property
    def expression(self) -> str:
        """The index as a filter writes it: ``youngs_modulus^0.5/density``."""
        return expression_text(self.terms)

    @property
    def properties(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.terms)

    def as_property(self) -> Property:
        """The index as a property of its own, for the units and display layers: the canonical
        unit, and the display unit first among the units it may be shown in."""
        display = tuple(dict.fromkeys((self.unit_display, *(unit for _, unit in self.systems), self.unit_canonical)))
        return Property(
            key=self.key,
            name=self.name,
            category="mechanical",
            unit=self.unit_canonical,
            display=display,
            default_display=(self.unit_display,),
        )


@dataclass(frozen=True)
class Indices:
    """The named indices, by key; ``get`` also takes a name or an alias."""

    by_key: Mapping[str, Index]
    labels: Mapping[str, str]

    def __iter__(self) -> Iterator[Index]:
        return iter(self.by_key.values())

    def __len__(self) -> int:
        return len(self.by_key)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def find(self, name: str) -> Index | None:
        """The index ``name`` (a key, a name or an alias) names, or None."""
        key = self.labels.get(normalise_label(name))
        return None if key is None else self.by_key[key]

    def get(self, name: str) -> Index:
        """The index ``name`` names; an unknown one is refused (``VocabularyError``, type
        ``unknown-index``) with the closest keys."""
        found = self.find(name)
        if found is not None:
            return found
        suggestions = closest(name, self.labels)
        raise VocabularyError(
            f"unknown index {name!r}{did_you_mean(suggestions)}", type="unknown-index", suggestions=tuple(suggestions)
        )


# --- reading the vocabulary --------------------------------------------------------------------


def _exponent(value: object, where: str) -> float:
    if isinstance(value, str):
        try:
            number = float(Fraction(value.strip()))
        except (ValueError, ZeroDivisionError):
            raise VocabularyError(f"{where}: exponent {value!r} is not a number", type="vocabulary-conflict") from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        raise VocabularyError(f"{where}: exponent {value!r} is not a number", type="vocabulary-conflict")
    if not math.isfinite(number) or number == 0 or abs(number) > MAX_EXPONENT:
        raise VocabularyError(
            f"{where}: an exponent is a number other than 0, from -{MAX_EXPONENT:g} to {MAX_EXPONENT:g}",
            type="vocabulary-conflict",
        )
    return number


@cache
def load_indices() -> Indices:
    """The named indices of ``vocabulary/indices.toml``, read once per process. Each term must name a
    property of the vocabulary, and each display unit have the dimension of its index's product."""
    from biomatdb.units import conversion

    raw = tomllib.loads(resources.files("biomatdb.vocabulary").joinpath("indices.toml").read_text("utf-8"))
    by_key: dict[str, Index] = {}
    for key, spec in raw.items():
        terms = tuple(
            (prop, _exponent(power, f"index {key!r}, term {prop!r}")) for prop, power in spec["terms"].items()
        )
        index = index_of_terms(
            terms,
            key=key,
            name=spec["name"],
            unit_display=spec["unit"],
            aliases=tuple(spec.get("aliases", ())),
            description=spec.get("description", ""),
        )
        systems = tuple((str(system), str(unit)) for system, unit in spec.get("systems", {}).items())
        index = replace(index, systems=systems)
        for unit in (index.unit_display, *(unit for _, unit in systems)):
            conversion(unit, index.as_property())  # a display unit of another dimension fails here
        by_key[key] = index
    labels = label_index(by_key, "index")
    properties = get_vocabulary().property_labels
    clashes = sorted(label for label in labels if label in properties)
    if clashes:
        raise VocabularyError(f"index labels {clashes} also name properties", type="vocabulary-conflict")
    return Indices(by_key=by_key, labels=labels)


# --- building an index ---------------------------------------------------------------------------


def _power_text(exponent: float) -> str:
    """1 → "", 2 → "^2", 0.5 → "^0.5", 1/3 → "^(1/3)"."""
    if exponent == 1:
        return ""
    if exponent == int(exponent):
        return f"^{int(exponent)}"
    fraction = Fraction(exponent).limit_denominator(12)
    if len(repr(exponent)) <= 6 or abs(float(fraction) - exponent) > 1e-12:
        return f"^{exponent!r}"
    return f"^({fraction.numerator}/{fraction.denominator})"


def expression_text(terms: Sequence[tuple[str, float]]) -> str:
    """Terms as a filter writes them: the positive powers multiplied, then each negative one divided
    (``youngs_modulus^0.5/density``); a product of negative powers only starts with ``1/``."""
    upper = [f"{key}{_power_text(power)}" for key, power in terms if power > 0]
    lower = [f"{key}{_power_text(-power)}" for key, power in terms if power < 0]
    return "*".join(upper or ["1"]) + "".join(f"/{part}" for part in lower)


def _unit_text(terms: Sequence[tuple[str, float]], unit_of: Mapping[str, str]) -> str:
    """The product of the terms' units, as text the units layer reads (``GPa**0.5/(g/cm**3)``)."""

    def factor(key: str, power: float) -> str:
        unit = unit_of[key]
        unit = unit if re.fullmatch(r"\w+", unit) else f"({unit})"
        text = _power_text(power).replace("^", "**")
        return f"{unit}{text}"

    upper = [factor(key, power) for key, power in terms if power > 0]
    lower = [factor(key, -power) for key, power in terms if power < 0]
    return "*".join(upper or ["1"]) + "".join(f"/{part}" for part in lower)


def index_of_terms(
    terms: Sequence[tuple[str, float]],
    *,
    key: str | None = None,
    name: str | None = None,
    unit_display: str | None = None,
    aliases: tuple[str, ...] = (),
    description: str = "",
) -> Index:
    """The index of ``terms`` (property key or alias → exponent). A property named twice has its
    exponents added (``E*E`` is ``E^2``); one whose exponents cancel, an exponent of 0 or beyond
    ±4, more than four properties, and a temperature or an angle are refused (``VocabularyError``).
    Without a ``key``, terms equal to a named index's give that index."""
    vocabulary = get_vocabulary()
    merged: dict[str, float] = {}
    for prop_name, power in terms:
        prop = vocabulary.property(prop_name)
        if prop.kind not in _KINDS:
            raise VocabularyError(
                f"{prop.key} is a {prop.kind}, not a positive quantity an index can take powers of",
                type="invalid-index",
            )
        merged[prop.key] = merged.get(prop.key, 0.0) + float(power)
    merged_terms = tuple(merged.items())
    for prop_key, power in merged_terms:
        if power == 0 or not math.isfinite(power) or abs(power) > MAX_EXPONENT:
            raise VocabularyError(
                f"the exponent of {prop_key} is {power:g}; an index takes each property to a power other than 0, "
                f"from -{MAX_EXPONENT:g} to {MAX_EXPONENT:g}",
                type="invalid-index",
            )
    if not merged_terms or len(merged_terms) > MAX_TERMS:
        raise VocabularyError(
            f"an index multiplies 1 to {MAX_TERMS} properties, not {len(merged_terms)}", type="invalid-index"
        )
    if key is None:
        for named in load_indices():
            if _same_terms(named.terms, merged_terms):
                return named
    unit_canonical = _unit_text(merged_terms, {k: vocabulary.properties[k].unit for k in merged})
    expression = expression_text(merged_terms)
    return Index(
        key=key or expression,
        name=name or expression,
        terms=merged_terms,
        unit_canonical=unit_canonical,
        unit_display=unit_display or unit_canonical,
        aliases=aliases,
        description=description,
        named=key is not None,
    )


def _same_terms(a: Sequence[tuple[str, float]], b: Sequence[tuple[str, float]]) -> bool:
    return (
        len(a) == len(b)
        and dict(a).keys() == dict(b).keys()
        and all(math.isclose(power, dict(b)[prop], rel_tol=0, abs_tol=1e-12) for prop, power in a)
    )


_FACTOR = re.compile(
    r"""^\s*(?P<name>"[^"]*"|'[^']*'|[^^*/"']+?)\s*
        (?:\^\s*(?:(?P<number>[-+−]?(?:\d+(?:\.\d*)?|\.\d+))|\(\s*(?P<p>[-+−]?\d+)\s*/\s*(?P<q>\d+)\s*\)))?\s*$""",
    re.VERBOSE,
)


def parse_expression(text: str) -> Index:
    """A named index (its key, name or alias: ``specific_stiffness``), or an expression of property
    names or aliases, each with an optional power, joined by ``*`` and ``/``:
    ``youngs_modulus^0.5/density``, ``E/density``, ``"Young's modulus"^(1/3)/rho``. A name with
    ``*``, ``/`` or ``^`` in it is quoted. Refuses (``VocabularyError``) an unknown name, a malformed
    expression and what :func:`index_of_terms` refuses."""
    named = load_indices().find(text)
    if named is not None:
        return named
    parts = _split_outside_quotes(text)
    terms: list[tuple[str, float]] = []
    for sign, factor in parts:
        found = _FACTOR.match(factor)
        if found is None or not found["name"].strip():
            raise VocabularyError(
                f"cannot read {factor.strip()!r} in {text!r}: write PROPERTY or PROPERTY^NUMBER", type="invalid-index"
            )
        name = found["name"].strip()
        if name[0] in "\"'":
            name = name[1:-1]
        if found["p"] is not None:
            if int(found["q"]) == 0:
                raise VocabularyError(f"a power of {factor.strip()!r} divides by 0", type="invalid-index")
            power = int(found["p"].replace("−", "-")) / int(found["q"])
        elif found["number"] is not None:
            power = float(found["number"].replace("−", "-"))
        else:
            power = 1.0
        if get_vocabulary().find_property(name) is None:
            labels = {**get_vocabulary().property_labels, **(load_indices().labels if len(parts) == 1 else {})}
            suggestions = closest(name, labels)
            raise VocabularyError(
                f"unknown property {name!r}{did_you_mean(suggestions)}",
                type="unknown-property",
                suggestions=tuple(suggestions),
            )
        terms.append((name, sign * power))
    return index_of_terms(terms)


def _split_outside_quotes(text: str) -> list[tuple[int, str]]:
    """``a/b*c`` → [(1, "a"), (-1, "b"), (1, "c")]: factors and their signs, quotes and a power's
    parentheses (``^(1/3)``) kept whole."""
    parts: list[tuple[int, str]] = []
    sign, start, quote, depth = 1, 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'" and text[start:i].strip() == "":
            quote = char
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char in "*/" and depth == 0:
            parts.append((sign, text[start:i]))
            sign, start = (1 if char == "*" else -1), i + 1
    parts.append((sign, text[start:]))
    return parts


# --- the arithmetic --------------------------------------------------------------------------------


def power(x: np.ndarray, exponent: float) -> np.ndarray:
    """``x ** exponent`` for positive ``x``, as every backend computes it (module docstring)."""
    with np.errstate(all="ignore"):
        if exponent == 1:
            return np.asarray(x, dtype=float)
        if exponent == -1:
            return 1.0 / x
        if exponent == 0.5:
            return np.sqrt(x)
        if exponent == -0.5:
            return 1.0 / np.sqrt(x)
        return np.power(x, exponent)


Ends = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""An interval per row: low, high (NaN: unbounded), whether the low end is open, whether the high one is."""


def term_ends(exponent: float, low, high, low_open, high_open) -> tuple[Ends, np.ndarray]:
    """The interval of ``x^exponent`` for each row's interval of ``x`` (module docstring), and
    whether it is defined (the row's interval reaches above 0)."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    low_open, high_open = np.asarray(low_open, dtype=bool), np.asarray(high_open, dtype=bool)
    with np.errstate(invalid="ignore"):
        floor = np.isnan(low) | (low <= 0)  # reaches down to 0, exclusive
        defined = np.isnan(high) | (high > 0)
    unbounded = np.isnan(high)
    positive_low = np.where(floor, np.nan, low)
    positive_high = np.where(defined, high, np.nan)
    if exponent > 0:
        ends = (
            np.where(floor, 0.0, power(positive_low, exponent)),
            power(positive_high, exponent),
            floor | low_open,
            high_open & ~unbounded,
        )
    else:
        ends = (
            np.where(unbounded, 0.0, power(positive_high, exponent)),
            power(positive_low, exponent),
            unbounded | high_open,
            low_open & ~floor,
        )
    return ends, defined


def product_ends(terms: Sequence[tuple[Ends, np.ndarray]]) -> tuple[Ends, np.ndarray]:
    """The product of the terms' intervals (each from :func:`term_ends`, rows aligned), and where
    every term is defined."""
    (low, high, low_open, high_open), defined = terms[0]
    for (t_low, t_high, t_low_open, t_high_open), t_defined in terms[1:]:
        with np.errstate(all="ignore"):
            low, high = low * t_low, high * t_high  # NaN (unbounded) stays NaN
        low_open, high_open = low_open | t_low_open, high_open | t_high_open
        defined = defined & t_defined
    return (low, high, low_open, high_open & ~np.isnan(high)), defined


def ends_of(
    index: Index, inputs: Mapping[str, tuple[float | None, float | None, bool, bool]]
) -> tuple[float | None, float | None, bool, bool] | None:
    """One combination of inputs (property key → low, high, low open, high open; None unbounded)
    → the index's interval with its open ends, or None where the index is undefined for them."""
    terms = []
    for key, exponent in index.terms:
        low, high, low_open, high_open = inputs[key]
        terms.append(
            term_ends(
                exponent,
                [np.nan if low is None else low],
                [np.nan if high is None else high],
                [low_open],
                [high_open],
            )
        )
    (low_a, high_a, low_open_a, high_open_a), defined = product_ends(terms)
    if not defined[0]:
        return None
    high_end = None if np.isnan(high_a[0]) else float(high_a[0])
    return float(low_a[0]), high_end, bool(low_open_a[0]), bool(high_open_a[0])


def interval_of(
    index: Index, intervals: Mapping[str, tuple[float | None, float | None]]
) -> tuple[float | None, float | None]:
    """The index's interval for closed input intervals (property key → (low, high) in canonical
    units, None unbounded), by the rules of the module docstring: an input reaching down to 0 or
    unbounded below gives 0 on the side its positive exponent makes low, and None (unbounded) on
    the side its negative exponent makes high. Raises ``KeyError`` for an input not given and
    ``ValueError`` for one whose whole interval is at or below 0 (the index is undefined there)."""
    found = ends_of(index, {key: (*intervals[key], False, False) for key in index.properties})
    if found is None:
        raise ValueError(f"{index.key} is undefined where an input is not above 0: {dict(intervals)}")
    return found[0], found[1]
