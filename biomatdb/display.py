"""How a value is shown: in which unit, rounded to what was written, spelled as people write it.

The CLI (``biomatdb search``, ``show``, ``export``), the API (search, material, compare, export)
and the web UI show every value through this module, so that they cannot disagree.

**The unit.** Asked per property (``youngs_modulus:MPa``), else the unit of a unit system (``SI``,
``US``: ``vocabulary/display.toml``), else the property's ``default_display``
(``vocabulary/properties.toml``). Of a default of several units (days, weeks, months, years), the
one the values were written in, else the largest in which they are at least :data:`MAGNITUDE_AT_LEAST`.

**The rounding** (``biomatdb.precision``): to the precision each value was written with.

The canonical values stay beside the shown ones under their own names (``value_canonical``,
``value_canonical_min``, ``value_canonical_max``, ``uncertainty_canonical``, ``unit_canonical``).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Protocol

import pint

from biomatdb.errors import BiomatError, VocabularyError
from biomatdb.indices import Index, load_indices, parse_expression
from biomatdb.models import QUALITATIVE
from biomatdb.precision import (
    MAX_DIGITS,
    SUPERSCRIPT,
    Shown,
    Written,
    place_of,
    readable_together,
    relative_place,
    rounded,
    rounded_up,
    significant_digits,
    uncertainty_in_own_text,
    written_number,
    written_precision,
    written_unit,
    written_values,
)
from biomatdb.suggest import closest, did_you_mean
from biomatdb.units import conversion, parse_unit, power_label, registry
from biomatdb.vocabulary import Property, get_vocabulary
from biomatdb.vocabulary.conditions import CONDITION_TEMPERATURE

#: A default of several units picks the largest in which the value is at least this (14 days are 2 weeks).
MAGNITUDE_AT_LEAST = 2.0
#: Most significant digits of an uncertainty (the GUM's advice), and so the finest its value is shown.
UNCERTAINTY_DIGITS = 2
#: Fewest significant digits of a value converted by a factor that is no power of ten: a one-digit
#: number's resolution (4 months: a month) is lost at one digit in the new unit (1 × 10² days).
CONVERTED_DIGITS = 2


# --- the vocabulary of display ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitSystem:
    key: str
    name: str
    units: Mapping[str, str]  # canonical unit -> shown unit
    # canonical unit -> the units chosen among by magnitude, smallest first (``UnitChoice.unit_for``)
    by_magnitude: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def candidates(self, canonical: str) -> tuple[str, ...] | None:
        """The units this system shows ``canonical`` in: several to choose among by magnitude, or one."""
        if canonical in self.by_magnitude:
            return self.by_magnitude[canonical]
        shown = self.units.get(canonical)
        return None if shown is None else (shown,)


@cache
def _display_data() -> dict[str, Any]:
    return tomllib.loads(resources.files("biomatdb.vocabulary").joinpath("display.toml").read_text("utf-8"))


@cache
def unit_systems() -> dict[str, UnitSystem]:
    """The presets of ``vocabulary/display.toml``, by key (``SI``, ``US``)."""
    return {
        key: UnitSystem(
            key=key,
            name=spec["name"],
            units=dict(spec.get("units", {})),
            by_magnitude={unit: tuple(units) for unit, units in spec.get("by_magnitude", {}).items()},
        )
        for key, spec in _display_data()["systems"].items()
    }


@cache
def _labels() -> dict[str, str]:
    return dict(_display_data()["labels"])


@cache
def _singular_labels() -> dict[str, str]:
    return dict(_display_data().get("singular", {}))


def singular_label(unit: str) -> str:
    """How a unit is written after exactly one of it: ``1 day``, ``1 month`` (``[singular]`` of
    ``display.toml``, whatever the unit's spelling: ``days`` and ``d`` too); any other unit as
    :func:`unit_label` writes it."""
    found = _singular_labels().get(unit.strip())
    if found is None:
        parsed = _parsed(unit)
        found = _by_unit("singular").get(parsed) if parsed is not None else None
    return found or unit_label(unit)


_LABEL_STEPS = (
    (re.compile(r"(\w+)\*\*0\.5"), r"\1^½"),
    (re.compile(r"\*\*(-?\d+)"), lambda m: m.group(1).translate(SUPERSCRIPT)),
    (re.compile(r"\bdelta_deg([CF])\b"), r"°\1"),
    (re.compile(r"\bdeg([CF])\b"), r"°\1"),
    (re.compile(r"\bdeg\b"), "°"),
    (re.compile(r"\bu(m|g|L|s)\b"), r"µ\1"),
    (re.compile(r"\bohm\b"), "Ω"),
    (re.compile(r"\bpercent\b"), "%"),
    (re.compile(r"\bdimensionless\b"), ""),
    (re.compile(r"\s*\*\s*"), "·"),
)


def _parsed(unit: str) -> pint.Unit | None:
    try:
        return parse_unit(unit.strip())
    except BiomatError:
        return None


@cache
def _by_unit(table: str) -> dict[pint.Unit, str]:
    """A table of ``display.toml`` keyed by unit text (``labels``, ``singular``), keyed by the unit
    each text is (the first text of each unit)."""
    found: dict[pint.Unit, str] = {}
    for text, label in _display_data().get(table, {}).items():
        parsed = _parsed(text)
        if parsed is not None:
            found.setdefault(parsed, label)
    return found


@cache
def _symbols() -> dict[str, str]:
    return dict(_display_data().get("symbols", {}))


def _symbol_rank(name: str) -> tuple[int, str]:
    """Where a unit stands in a label: a compound unit (MPa, W, N) first, then a mass, a length, a
    time, a temperature: ``MPa·cm³/g``, ``kg/(m²·s)``, ``W/(m·K)``, whatever order it was typed in."""
    dims = registry().Quantity(1, name).dimensionality
    if len(dims) != 1:
        return 0, name
    order = {"[mass]": 1, "[length]": 2, "[time]": 3, "[temperature]": 4}
    return order.get(next(iter(dims)), 5), name


def _label_of(unit: pint.Unit) -> str:
    """A unit no label of the table is, spelled from what it is (not from how it was typed): its
    units' symbols in :func:`_symbol_rank` order, powers as superscripts (``^½``, ``^⅓``), ``·``
    between, and one ``/`` before the divisors (parenthesised when several)."""
    symbols = _symbols()

    def term(name: str, power: float) -> str:
        symbol = symbols.get(name) or registry().get_symbol(name)
        return f"{symbol}{power_label(power)}"

    terms = sorted(((name, float(power)) for name, power in unit._units.items()), key=lambda t: _symbol_rank(t[0]))  # type: ignore[arg-type]
    upper = [term(name, power) for name, power in terms if power > 0]
    lower = [term(name, -power) for name, power in terms if power < 0]
    text = "·".join(upper) or ("1" if lower else "")
    if lower:
        text += "/" + (lower[0] if len(lower) == 1 else f"({'·'.join(lower)})")
    return text


@cache
def unit_label(unit: str) -> str:
    """A unit as people write it, one label whatever its spelling: ``g/cm**3``, ``g/cm^3``, ``g/cc``
    → ``g/cm³``; ``degC`` → ``°C``; ``MPa*m**0.5`` → ``MPa·m^½``; ``W/(m*K)`` → ``W/(m·K)``. From the
    table of ``display.toml`` (by the unit a text is, not by the text), else spelled from the unit
    (:func:`_label_of`); a text that is no unit by rule."""
    found = _labels().get(unit.strip())
    if found is not None:
        return found
    parsed = _parsed(unit)
    if parsed is not None:
        return _by_unit("labels").get(parsed) or _label_of(parsed)
    label = unit.strip()
    for pattern, replacement in _LABEL_STEPS:
        label = pattern.sub(replacement, label)
    return label.strip()


def qualitative_text(key: str | None) -> str:
    """The name a qualitative term is shown and exported by; the key itself for a term a newer
    vocabulary no longer holds."""
    term = get_vocabulary().qualitative.get(key or "")
    return term.name if term is not None else (key or "")


def verbatim(value: str | None, unit: str | None, uncertainty: str | None = None) -> dict[str, str | None]:
    """A measurement's ``verbatim``: its value and unit as written, and an uncertainty from a
    column of its own as written with its unit (``uncertainty``, only when there is one)."""
    written = {"value": value, "unit": unit}
    return written if uncertainty is None else {**written, "uncertainty": uncertainty}


# --- what the reader asked for ------------------------------------------------------------


@dataclass(frozen=True)
class UnitChoice:
    """The display units asked for: per property (``units``), and a unit system's for the rest."""

    units: Mapping[str, str] = field(default_factory=dict)
    system: str | None = None

    def candidates(self, prop: Property) -> tuple[str, ...]:
        """The unit asked for ``prop``, or its system's, or its defaults (several: by magnitude)."""
        if prop.key in self.units:
            return (self.units[prop.key],)
        if self.system is not None:
            shown = unit_systems()[self.system].candidates(prop.unit)
            if shown is not None:
                return shown
        return prop.default_display or (prop.unit,)

    def unit_for(
        self, prop: Property, canonical_values: Iterable[float | None] = (), written_units: Iterable[str | None] = ()
    ) -> str:
        """The one unit to show ``prop`` in, for values (canonical) of these magnitudes, written in
        these units. Of several default units, the one they were all written in, else the largest in
        which the smallest value is at least :data:`MAGNITUDE_AT_LEAST` (``1–2 months`` stays in
        months, ``45 days`` in days; ``1080 h`` is ``6.429 weeks``)."""
        candidates = self.candidates(prop)
        if len(candidates) == 1:
            return candidates[0]
        written = {_same_unit(unit, candidates) for unit in written_units}
        if len(written) == 1 and None not in written:
            return written.pop() or candidates[0]
        sizes = [abs(v) for v in canonical_values if v is not None and math.isfinite(v) and v != 0]
        if not sizes:
            return candidates[0]
        smallest = min(sizes)
        chosen = candidates[0]
        for unit in candidates:
            # at least 2 up to float noise: 2.00 ksi stored as MPa reads back as 1.9999999999999998 ksi,
            # and an export ingested again must choose the unit it was exported in
            if abs(from_canonical(smallest, unit, prop, difference=True)) >= MAGNITUDE_AT_LEAST * (1 - 1e-9):
                chosen = unit
        return chosen

    def unit_of(self, prop: Property, measurements: Iterable[Mapping[str, Any]]) -> str:
        """The one unit to show these measurements of ``prop`` in (:meth:`unit_for`)."""
        found = list(measurements)
        values = [m.get(key) for m in found for key in ("value", "value_min", "value_max")]
        return self.unit_for(prop, values, [(m.get("verbatim") or {}).get("unit") for m in found])


def _same_unit(written: str | None, candidates: tuple[str, ...]) -> str | None:
    """The candidate that is the unit ``written`` (``months`` is ``month``), or None."""
    if not written:
        return None
    try:
        unit = parse_unit(written)
        return next((candidate for candidate in candidates if parse_unit(candidate) == unit), None)
    except BiomatError:
        return None


def parse_units(text: str | None) -> dict[str, str]:
    """``youngs_modulus:MPa,glass_transition_temperature:degC`` → {property key: unit}, each unit
    checked against its property's dimension (UnitError, VocabularyError; BiomatError ``bad-units``)."""
    if not text or not text.strip():
        return {}
    wanted: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, unit = part.partition(":")
        if not sep or not name.strip() or not unit.strip():
            raise BiomatError(
                f"units: expected property:unit pairs separated by commas, got {part.strip()!r}", type="bad-units"
            )
        prop = _shown_quantity(name.strip())
        conversion(unit.strip(), prop)  # refuses a unit that is unknown or of another dimension
        wanted[prop.key] = unit.strip()
    return wanted


def _shown_quantity(name: str) -> Property:
    """The property ``name`` names, else the derived index (``specific_stiffness``,
    ``youngs_modulus^0.5/density``) as a property; refuses a name that is neither
    (``VocabularyError``, with the closest names)."""
    vocabulary = get_vocabulary()
    prop = vocabulary.find_property(name)
    if prop is not None:
        return prop
    if load_indices().find(name) is None and not any(sign in name for sign in "/*^"):
        suggestions = closest(name, {**vocabulary.property_labels, **load_indices().labels})
        raise VocabularyError(
            f"unknown property or index {name!r}{did_you_mean(suggestions)}",
            type="unknown-property",
            suggestions=tuple(suggestions),
        )
    return parse_expression(name).as_property()


def index_unit(index: Index, choice: UnitChoice) -> str:
    """The unit a derived index is shown in: asked for it (``units=specific_stiffness:MN*m/kg``),
    else its unit under the chosen unit system (``indices.toml``'s ``systems``), else its default."""
    return choice.units.get(index.key) or index.unit_in(choice.system)


def parse_unit_system(text: str | None) -> str | None:
    """The key of the unit system ``text`` names (``si``, ``US``), None for none;
    BiomatError ``bad-unit-system`` naming the known ones."""
    if text is None or not text.strip():
        return None
    systems = unit_systems()
    found = {key.casefold(): key for key in systems}.get(text.strip().casefold())
    if found is None:
        raise BiomatError(
            f"unit_system: unknown unit system {text.strip()!r}; known: {', '.join(systems)}", type="bad-unit-system"
        )
    return found


def unit_choice(units: str | None = None, unit_system: str | None = None) -> UnitChoice:
    """What ``--units``/``?units=`` and ``--unit-system``/``?unit_system=`` ask for, checked."""
    return UnitChoice(units=parse_units(units), system=parse_unit_system(unit_system))


def units_text(units: Mapping[str, str]) -> str:
    """The ``?units=`` text of a choice: what :func:`parse_units` reads back."""
    return ",".join(f"{key}:{unit}" for key, unit in sorted(units.items()))


# --- converting ---------------------------------------------------------------------------


def from_canonical(value: float, unit: str, prop: Property, *, difference: bool = False) -> float:
    """A canonical value of ``prop`` in ``unit``; a difference (an uncertainty) without the offset."""
    affine = conversion(unit, prop)  # canonical = shown * factor + offset
    if difference:
        return value / affine.factor
    return (value - affine.offset) / affine.factor


def to_canonical(value: float, unit: str, prop: Property) -> float:
    """A value of ``prop`` in ``unit`` in its canonical unit (what a shown value stands for)."""
    affine = conversion(unit, prop)
    return value * affine.factor + affine.offset


class Converter:
    """Shows a property's canonical values in one unit, each rounded to its written precision."""

    def __init__(self, prop: Property, unit: str, *, scientific: bool = False) -> None:
        self.prop = prop
        self.unit = unit
        self.scientific = scientific  # every shown number with a power of ten (:func:`scientific_row`)
        self.label = unit_label(unit)
        self._shown = conversion(unit, prop)  # canonical = shown * factor + offset

    def _written_factor(self, measurement: Mapping[str, Any], *, uncertainty: bool = False) -> float:
        """How many shown units one unit of the written text is (K → °C: 1; °F → K: 5/9); of an
        uncertainty's own text (``verbatim.uncertainty``), in the unit written there, if any."""
        verbatim = (measurement.get("verbatim") or {}).get("unit")
        if uncertainty:
            verbatim = written_unit((measurement.get("verbatim") or {}).get("uncertainty")) or verbatim
        try:
            written = conversion(verbatim, self.prop).factor if verbatim else 1.0
        except BiomatError:
            written = 1.0  # an unreadable written unit: as if in the canonical unit
        return written / self._shown.factor

    def written(self, canonical: float, written: Written | None, factor: float) -> tuple[Written, float]:
        """The precision of a number and the factor from its written unit to the shown one; a number
        whose text is unknown counts as written in the canonical unit as stored."""
        if written is not None:
            return written, factor
        stored = written_number(repr(float(canonical)).removesuffix(".0"))
        return stored, 1.0 / self._shown.factor

    def number(
        self,
        canonical: float,
        written: Written,
        factor: float,
        *,
        difference: bool = False,
        coarsest: int | None = None,
        at: int | None = None,
        up: bool = False,
    ) -> Shown:
        """``canonical`` in the shown unit, rounded to its ``written`` precision (``factor``: shown
        units per written unit), never finer than the place ``coarsest``, or at the place ``at``;
        ``up``: away from zero, never to less than it is (an uncertainty)."""
        offset = 0.0 if difference else self._shown.offset
        value = (canonical - offset) / self._shown.factor
        round_to = rounded_up if up else rounded
        if at is not None:
            return Shown(round_to(value, at), at)
        if self.prop.kind == "temperature" or value == 0:
            place = written.place + math.floor(math.log10(abs(factor)) + 1e-9)
        else:
            digits = written.digits
            if (
                digits < CONVERTED_DIGITS
                and not _power_of_ten(factor)
                # the written number itself through the factor, not the stored value: an export's
                # 1.0e3 ksi beside its source's 7 GPa reads back as 7 GPa, which must show the same
                and significant_digits(float(rounded(value / factor, written.place)) * factor) > digits
            ):
                # one written digit through a factor that is no power of ten is two shown: 4 months
                # is 1.2 × 10² days, not 1 × 10² (the written month is ~30 days); 1 week is 7 days
                digits = CONVERTED_DIGITS
            place = relative_place(value, digits)
        if coarsest is not None:
            place = max(place, coarsest)
        shown = round_to(value, place)
        if self.prop.kind != "temperature":
            grew = value != 0 and not shown.is_zero() and shown.adjusted() > place_of(value)
        else:  # a temperature's difference (its uncertainty) keeps its digits: 9.97 K to 2 digits is 10, not 10.0
            grew = difference and value != 0 and not shown.is_zero() and shown.adjusted() - place + 1 > written.digits
        if grew:
            place += 1  # 9.996 to 3 digits is 10.0, not 10.00
            shown = round_to(value, place)
        return Shown(shown, place)

    def numbers(self, measurement: Mapping[str, Any]) -> dict[str, Shown]:
        """A measurement's values (``value``, ``value_min``, ``value_max``, ``uncertainty``) in this
        unit, each rounded to what was written; none for a qualitative one."""
        if measurement["qualifier"] == QUALITATIVE:
            return {}
        precision = written_precision(measurement)
        factor = self._written_factor(measurement)
        numbers: dict[str, Shown] = {}
        coarsest = at = None
        if measurement["uncertainty"] is not None:
            own = uncertainty_in_own_text(measurement)
            scale_of = self._written_factor(measurement, uncertainty=True) if own else factor
            written, scale = self.written(measurement["uncertainty"], precision.get("uncertainty"), scale_of)
            if "uncertainty" not in precision and measurement["uncertainty"] != 0:
                # an uncertainty from a column of its own stored before its text was kept: the GUM's
                # digits (0.00197 and 0.0020 are both 0.0020), and an export of it reads back the same
                written = _uncertainty_written(measurement["uncertainty"])
            shown_uncertainty = measurement["uncertainty"] / self._shown.factor
            if written.digits > UNCERTAINTY_DIGITS or (
                written.digits < UNCERTAINTY_DIGITS
                and not _power_of_ten(scale)
                and significant_digits(shown_uncertainty) > written.digits
            ):
                # at most the GUM's 2 digits; and 2 through a conversion by another factor, so that
                # rounding up (0.1 MPa is 14.5 psi: 15, not 20) overstates it by little; but not
                # where the conversion is exact in the written digits (0.5 °C is 0.9 °F, not 0.90)
                written = Written(UNCERTAINTY_DIGITS, written.place + written.digits - UNCERTAINTY_DIGITS)
            numbers["uncertainty"] = self.number(measurement["uncertainty"], written, scale, difference=True, up=True)
            if measurement["uncertainty"] != 0:
                coarsest = numbers["uncertainty"].place
                value_written, uncertainty_written = precision.get("value"), precision.get("uncertainty")
                if (
                    value_written
                    and uncertainty_written
                    # their places in the shown unit: an uncertainty may be written in a unit of its own
                    and _shown_place(value_written, factor) <= _shown_place(uncertainty_written, scale_of)
                ):
                    # written to the uncertainty's place (42.3 ± 0.1): shown to its place too
                    at = coarsest
        for key in ("value", "value_min", "value_max"):
            if measurement[key] is None:
                continue
            point = numbers.get("value")  # a point's ends are the point: rounded once
            if (
                point is not None
                and measurement[key] == measurement["value"]
                and precision.get(key) == precision.get("value")
            ):
                numbers[key] = point
                continue
            written, scale = self.written(measurement[key], precision.get(key), factor)
            numbers[key] = self.number(measurement[key], written, scale, coarsest=coarsest, at=at)
        if measurement["qualifier"] == "range" and "value_min" in numbers and "value_max" in numbers:
            numbers["value_min"], numbers["value_max"] = self.separated(
                (measurement["value_min"], numbers["value_min"]),
                (measurement["value_max"], numbers["value_max"]),
                self._written_ends(measurement, precision, numbers),
            )
        return numbers

    def _written_ends(
        self, measurement: Mapping[str, Any], precision: Mapping[str, Written], numbers: Mapping[str, Shown]
    ) -> tuple[float, float] | None:
        """A range's two ends as written (its verbatim text) in the shown unit, when the text holds
        them and they are the stored ends to the last written digit; None otherwise. An export
        rounds ends it gave digits to (``5–6 MPa·m^0.5`` is ``4.6 to 5.5`` ksi·in^½) and keeps the
        text: read back, 4.6 and 5.5 no longer round together, the written ends still do."""
        verbatim = measurement.get("verbatim") or {}
        values = written_values(verbatim.get("value"))
        if len(values) < 2 or "value_min" not in precision or "value_max" not in precision:
            return None
        try:
            written = conversion(verbatim["unit"], self.prop) if verbatim.get("unit") else None
        except BiomatError:
            return None
        ends: list[float] = []
        for value, key in zip(values[:2], ("value_min", "value_max"), strict=True):
            if value is None or written is None:
                return None
            canonical = value * written.factor + written.offset
            stored_as_written = (measurement[key] - written.offset) / written.factor
            if abs(stored_as_written - value) > 10.0 ** precision[key].place:
                return None  # not the stored end (a sign the text's unsigned numbers lost)
            ends.append((canonical - self._shown.offset) / self._shown.factor)
        places = [numbers["value_min"].place, numbers["value_max"].place]
        together = rounded(ends[0], places[0]) >= rounded(ends[1], places[1])
        return (ends[0], ends[1]) if together and ends[0] < ends[1] else None

    def separated(
        self, low: tuple[float, Shown], high: tuple[float, Shown], written: tuple[float, float] | None = None
    ) -> tuple[Shown, Shown]:
        """A range's two ends (canonical, shown) that differ but round together or past each other
        (``5–6 MPa·m^½`` in ksi·in^½: 5 and 5; ``44–44.1 GPa`` in ksi: 6.4 and 6.40 × 10³) with
        digits added to both until they differ: both rounded at one place, the finer end's first
        (never fewer digits than were written), then finer (``4.6–5.5``, ``6.38–6.40 × 10³``), so
        that they carry one notation and the same decimals. ``written``: the ends as written, in the
        shown unit, which round together (:meth:`_written_ends`): the place is that at which they
        differ, so that an export read back shows the same digits. Ends stored equal stay as they
        are, and so do ends that still meet at the most digits the core keeps."""
        (low_canonical, low_shown), (high_canonical, high_shown) = low, high
        if low_canonical >= high_canonical or (low_shown.value < high_shown.value and written is None):
            return low_shown, high_shown
        shown = [(canonical - self._shown.offset) / self._shown.factor for canonical in (low_canonical, high_canonical)]
        largest = max(abs(value) for value in shown)
        finest = (place_of(largest) if largest else 0) - MAX_DIGITS + 1  # the most digits the core keeps
        place = min(low_shown.place, high_shown.place)
        while written is not None and place > finest and rounded(written[0], place) >= rounded(written[1], place):
            place -= 1
        while place >= finest:
            ends = (Shown(rounded(shown[0], place), place), Shown(rounded(shown[1], place), place))
            if ends[0].value < ends[1].value:
                return ends
            place -= 1
        return low_shown, high_shown

    def measurement(self, measurement: Mapping[str, Any]) -> dict[str, Any]:
        """A measurement dict (canonical values, ``verbatim``) with its values in this unit, rounded
        to what was written, beside the canonical ones; ``text`` (what the ingest parser reads
        back) and ``display`` (``4.00–5.00 GPa``, ``2.1 ± 0.3 GPa``, ``> 24 MPa``) in this unit."""
        shown = dict(measurement)
        shown.update(
            value_canonical=measurement["value"],
            value_canonical_min=measurement["value_min"],
            value_canonical_max=measurement["value_max"],
            uncertainty_canonical=measurement["uncertainty"],
            unit_canonical=unit_label(measurement["unit"]),
            unit=self.label,
        )
        if measurement["qualifier"] == QUALITATIVE:
            shown["text"] = shown["display"] = qualitative_text(measurement.get("qualitative"))
            return shown
        numbers = self.numbers(measurement)
        for key in ("value", "value_min", "value_max", "uncertainty"):
            shown[key] = float(numbers[key]) if key in numbers else None
        shown["text"] = _value_text(measurement["qualifier"], numbers, readable=False)
        shown["display"] = self.readable(measurement["qualifier"], numbers)
        return shown

    def readable(self, qualifier: str, numbers: Mapping[str, Shown]) -> str:
        """``4.00–5.00 GPa``, ``2.1 ± 0.3 GPa``, ``> 24 MPa``; ``1 day``, not ``1 days``; a range as
        :meth:`range_body` reads it."""
        if "uncertainty" in numbers and qualifier in ("=", "~") and "value" in numbers:
            together = [numbers["value"], numbers["uncertainty"]]
            body = readable_together(together, " ± ", scientific=self.scientific)
            return self.with_unit(("≈ " if qualifier == "~" else "") + body)
        if qualifier == "range" and "value_min" in numbers and "value_max" in numbers:
            return self.with_unit(self.range_body(numbers["value_min"], numbers["value_max"]))
        return self.with_unit(_value_text(qualifier, numbers, readable=True, scientific=self.scientific))

    def range_body(self, low: Shown, high: Shown) -> str:
        """A range's two ends read together, each with its own digits, against one power of ten when
        either needs one (``4.00–5.00 × 10³``, ``1.00–1.205 × 10⁵``). Ends that differ but round
        together have been given digits until they differ (:meth:`separated`); ends that are still
        the same (a range stored with equal ends) are one value, the coarser end."""
        if low.value >= high.value:
            return max((low, high), key=lambda end: end.place).readable(scientific=self.scientific)
        return readable_together([low, high], "–", scientific=self.scientific)

    def with_unit(self, body: str) -> str:
        """A shown number (or interval) and this unit: singular after exactly one (``1 day``,
        ``> 1 day``, ``≈ 1 month``), plural otherwise (``1–2 days``, ``1 ± 0.5 days``)."""
        one = re.fullmatch(r"(?:[<>≤≥≈] )?1", body) is not None
        return f"{body} {singular_label(self.unit) if one else self.label}".strip()

    def span(self, measurements: Iterable[Mapping[str, Any]]) -> str | None:
        """The lowest to the highest value of these measurements, each end rounded to what was
        written of it (``0.4–3.5 GPa``), an end that is a bound with its sign (``> 24 months``,
        ``12 to > 24 months``: see :func:`open_ends`); None when none has a value."""
        measurements = list(measurements)
        ends = self.span_ends(measurements)
        if ends is None:
            return None
        low_sign, high_sign = open_ends(measurements)
        if low_sign is None and high_sign is None:
            return self.with_unit(self.range_body(*ends))
        low, high = ends
        if low.value >= high.value:  # one end, a bound: ``> 24``
            return self.with_unit(f"{low_sign or high_sign} {low.readable(scientific=self.scientific)}")
        said = [
            f"{sign} {end.readable(scientific=self.scientific)}" if sign else end.readable(scientific=self.scientific)
            for sign, end in ((low_sign, low), (high_sign, high))
        ]
        return self.with_unit(" to ".join(said))

    def span_ends(self, measurements: Iterable[Mapping[str, Any]]) -> tuple[Shown, Shown] | None:
        """The two ends :meth:`span` shows, rounded as it shows them; None when none has a value."""
        ends: list[tuple[float, Shown]] = []
        for measurement in measurements:
            numbers = self.numbers(measurement)
            ends += [(measurement[key], numbers[key]) for key in ("value_min", "value", "value_max") if key in numbers]
        if not ends:
            return None
        return self.separated(min(ends, key=lambda end: end[0]), max(ends, key=lambda end: end[0]))

    def summary(self, measurements: Iterable[Mapping[str, Any]]) -> str | None:
        """These measurements summed up as honestly as a line can: the span of the values with both
        ends known (points, ranges), both ends to one place, the coarser (``35–45 °C``, not
        ``35–45.00 °C``), then each bound on its own (``530–700 MPa, ≥ 490 MPa, ≥ 860 MPa``): a bound
        is never read as a point, so no closed range claims a maximum or minimum the data do not
        have. None when none has a value."""
        closed: list[Mapping[str, Any]] = []
        bounds: dict[str, tuple[float, str]] = {}
        for measurement in measurements:
            if measurement["qualifier"] == QUALITATIVE:
                continue
            if measurement["qualifier"] in (">", ">=", "<", "<="):
                numbers = self.numbers(measurement)
                end = "value_min" if measurement["qualifier"].startswith(">") else "value_max"
                if end in numbers:
                    text = self.readable(measurement["qualifier"], numbers)
                    bounds.setdefault(text, (measurement[end], text))
            else:
                closed.append(measurement)
        parts = []
        ends = self.span_ends(closed)
        if ends is not None:
            low, high = ends
            if low.place != high.place and low.value < high.value:
                place = max(low.place, high.place)
                canonical = [
                    end[key] for end in closed for key in ("value_min", "value", "value_max") if end[key] is not None
                ]
                aligned = [
                    Shown(rounded((value - self._shown.offset) / self._shown.factor, place), place)
                    for value in (min(canonical), max(canonical))
                ]
                if aligned[0].value < aligned[1].value:
                    low, high = aligned
            parts.append(self.with_unit(self.range_body(low, high)))
        parts += [text for _, text in sorted(bounds.values())]
        return ", ".join(parts) or None

    def cells(self, measurement: Mapping[str, Any]) -> tuple[str, str, str]:
        """The value, unit and uncertainty cells of an export row, which ingest back to these values."""
        if measurement["qualifier"] == QUALITATIVE:
            return qualitative_text(measurement.get("qualitative")), "", ""
        numbers = self.numbers(measurement)
        uncertainty = numbers["uncertainty"].text() if "uncertainty" in numbers else ""
        return _value_text(measurement["qualifier"], numbers, readable=False), self.label, uncertainty

    def export_cells(self, measurement: Mapping[str, Any]) -> dict[str, Any]:
        """The typed cells of an export row (``biomatdb.exports``): ``value`` (a point's, else None),
        ``value_min``, ``value_max``, ``uncertainty`` (:class:`Shown` or None), ``unit`` and
        ``value_text`` (what :meth:`cells` gives, which ingests back to these values)."""
        if measurement["qualifier"] == QUALITATIVE:
            return {
                "value": None,
                "value_min": None,
                "value_max": None,
                "uncertainty": None,
                "unit": None,
                "value_text": qualitative_text(measurement.get("qualitative")),
            }
        numbers = self.numbers(measurement)
        point = measurement["qualifier"] in ("=", "~")
        return {
            "value": numbers.get("value") if point else None,
            "value_min": numbers.get("value_min"),
            "value_max": numbers.get("value_max"),
            "uncertainty": numbers.get("uncertainty"),
            "unit": self.label or None,
            "value_text": _value_text(measurement["qualifier"], numbers, readable=False),
        }


#: the sign a bound is read with, by its qualifier, for the end of a span it leaves open
LOW_BOUNDS = {"<": "<", "<=": "≤"}
HIGH_BOUNDS = {">": ">", ">=": "≥"}


def open_ends(measurements: Iterable[Mapping[str, Any]]) -> tuple[str | None, str | None]:
    """The signs of the ends of a span of these measurements that are bounds, (low, high): the
    lowest value is ``<``/``≤`` when it is an upper bound and no measurement is that low or lower
    otherwise (the true lowest value lies below it); the highest is ``>``/``≥`` likewise. None for
    an end that is a value. ``> 24`` alone is (None, ``>``): drawn at 24, the truth is above it."""
    ends: list[tuple[float, str]] = []
    for m in measurements:
        if m["qualifier"] == QUALITATIVE:
            continue
        ends += [(m[key], m["qualifier"]) for key in ("value_min", "value", "value_max") if m[key] is not None]
    if not ends:
        return None, None
    lowest = min(value for value, _ in ends)
    highest = max(value for value, _ in ends)
    at_low = {qualifier for value, qualifier in ends if value == lowest}
    at_high = {qualifier for value, qualifier in ends if value == highest}
    low = LOW_BOUNDS[next(iter(at_low))] if len(at_low) == 1 and next(iter(at_low)) in LOW_BOUNDS else None
    high = HIGH_BOUNDS[next(iter(at_high))] if len(at_high) == 1 and next(iter(at_high)) in HIGH_BOUNDS else None
    return low, high


def _shown_place(written: Written, factor: float) -> int:
    """The place of a written number's last digit in the shown unit (``factor``: shown units per
    written unit): 4000 MPa to the unit is to the thousandth of a GPa."""
    return written.place + math.floor(math.log10(abs(factor)) + 1e-9)


def _power_of_ten(factor: float) -> bool:
    """Whether a conversion by ``factor`` only moves the decimal point (GPa → MPa), keeping digits."""
    exponent = math.log10(abs(factor))
    return abs(exponent - round(exponent)) < 1e-9


def _uncertainty_written(uncertainty: float) -> Written:
    """:data:`UNCERTAINTY_DIGITS` digits of an uncertainty (in the canonical unit), counted after
    rounding: 9.97 is 10, not 10.0, as 10 is."""
    first = place_of(uncertainty) - UNCERTAINTY_DIGITS + 1
    place = place_of(float(rounded(uncertainty, first))) - UNCERTAINTY_DIGITS + 1
    return Written(UNCERTAINTY_DIGITS, place)


class CellNumber(Protocol):
    """A number as a cell writes it: on its own, or with a power of ten beside one that needs it."""

    def text(self, *, scientific: bool = False) -> str: ...

    def is_scientific(self) -> bool: ...


def cell_text(qualifier: str, value: CellNumber | None, low: CellNumber | None, high: CellNumber | None) -> str:
    """The cell the ingest parser reads back to a measurement's interval: ``4.00 to 5.00``,
    ``>=24``, ``<0.5``, ``~5``; a point's text is ``value``, else an end's. A range's ends share
    one notation: ``4.8e-4 to 1.58e-3``, not ``4.8e-4 to 0.00158``. The one place that rule lives,
    for shown numbers (:class:`Shown`) and stored floats (``biomatdb.catalog.StoredNumber``) alike."""
    together = qualifier == "range" and any(n is not None and n.is_scientific() for n in (low, high))

    def say(number: CellNumber | None) -> str:
        return "" if number is None else number.text(scientific=together)

    if qualifier == "range":
        return f"{say(low)} to {say(high)}"
    if qualifier in (">", ">="):
        return f"{qualifier}{say(low)}"
    if qualifier in ("<", "<="):
        return f"{qualifier}{say(high)}"
    point = value if value is not None else (low if low is not None else high)
    return ("~" if qualifier == "~" else "") + say(point)


def _value_text(qualifier: str, numbers: Mapping[str, Shown], *, readable: bool, scientific: bool = False) -> str:
    """``4.00 to 5.00``, ``>24``, ``~5`` (:func:`cell_text`); readable: ``4.00–5.00``, ``> 24``,
    ``≈ 5``, a range's ends against one power of ten (:func:`readable_together`)."""
    if not readable:
        return cell_text(qualifier, numbers.get("value"), numbers.get("value_min"), numbers.get("value_max"))

    def say(key: str) -> str:
        number = numbers.get(key)
        return "–" if number is None else number.readable(scientific=scientific)

    if qualifier == "range":
        if say("value_min") == say("value_max"):
            return say("value_min")
        if "value_min" in numbers and "value_max" in numbers:
            return readable_together([numbers["value_min"], numbers["value_max"]], "–", scientific=scientific)
        return f"{say('value_min')}–{say('value_max')}"
    signs = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}
    if qualifier in signs:
        end = "value_min" if qualifier.startswith(">") else "value_max"
        return f"{signs[qualifier]} {say(end)}"
    point = "value" if "value" in numbers else ("value_min" if "value_min" in numbers else "value_max")
    return ("≈ " if qualifier == "~" else "") + say(point)


def shown_temperature(temperature_K: float | None, choice: UnitChoice) -> tuple[Shown, str] | None:
    """The temperature a measurement was made at (``temperature_K``) in the display unit of a
    temperature (°C; ``US``: °F), and that unit's label. Its written text is not kept, so it is
    rounded as stored in kelvin, without the zeros an offset's decimals leave: ``310.15 K`` is
    ``37 °C`` and ``98.6 °F``, ``309.65 K`` is ``36.5 °C``, ``310 K`` (to the kelvin) is ``37 °C``."""
    if temperature_K is None:
        return None
    converter = Converter(CONDITION_TEMPERATURE, choice.candidates(CONDITION_TEMPERATURE)[0])
    written, factor = converter.written(temperature_K, None, 1.0)
    return converter.number(temperature_K, written, factor).without_trailing_zeros(), converter.label


def temperature_text(temperature_K: float | None, choice: UnitChoice) -> str | None:
    """``37 °C``: :func:`shown_temperature` as people read it."""
    shown = shown_temperature(temperature_K, choice)
    return None if shown is None else f"{shown[0].readable()} {shown[1]}"


def shown_conditions(conditions: Mapping[str, Any], choice: UnitChoice) -> dict[str, Any]:
    """A measurement's conditions with ``temperature_display`` (``37 °C``) beside ``temperature_K``."""
    shown = dict(conditions)
    text = temperature_text(conditions.get("temperature_K"), choice)
    if text is not None:
        shown["temperature_display"] = text
    return shown


def shown_measurement(
    measurement: Mapping[str, Any], choice: UnitChoice, *, unit: str | None = None, scientific: bool = False
) -> dict[str, Any]:
    """A measurement dict (``catalog.measurement_json`` or a search hit's) as shown: in ``unit``,
    else the unit ``choice`` gives for its magnitude; ``scientific``: every number with a power of
    ten (:func:`scientific_row`); its temperature condition in the display unit too
    (``conditions.temperature_display``). A property the vocabulary no longer holds stays in its
    stored unit."""
    prop = get_vocabulary().properties.get(measurement["property"])
    if prop is None:
        shown = Converter(_stray_property(measurement), measurement["unit"]).measurement(measurement)
    else:
        converter = Converter(prop, unit or choice.unit_of(prop, [measurement]), scientific=scientific)
        shown = converter.measurement(measurement)
    if measurement.get("conditions"):
        shown["conditions"] = shown_conditions(measurement["conditions"], choice)
    return shown


def scientific_row(prop: Property, unit: str, measurements: Iterable[Mapping[str, Any]]) -> bool:
    """Whether values shown side by side (a row of a comparison, in one ``unit``) are all written
    with a power of ten: so when any of them would be on its own (``1.13 × 10⁷ psi`` beside
    ``3.91602 × 10⁵ psi``, never beside ``391 602 psi``)."""
    converter = Converter(prop, unit)
    return any(number.is_scientific() for m in measurements for number in converter.numbers(m).values())


def shown_cells(measurement: Mapping[str, Any], choice: UnitChoice) -> tuple[str, str, str]:
    """An export row's value, unit and uncertainty cells for a measurement, as shown."""
    prop = get_vocabulary().properties.get(measurement["property"])
    if prop is None:
        return Converter(_stray_property(measurement), measurement["unit"]).cells(measurement)
    return Converter(prop, choice.unit_of(prop, [measurement])).cells(measurement)


def shown_export_cells(measurement: Mapping[str, Any], choice: UnitChoice) -> dict[str, Any]:
    """An export row's typed value cells for a measurement, as shown (:meth:`Converter.export_cells`)."""
    prop = get_vocabulary().properties.get(measurement["property"])
    if prop is None:
        return Converter(_stray_property(measurement), measurement["unit"]).export_cells(measurement)
    return Converter(prop, choice.unit_of(prop, [measurement])).export_cells(measurement)


def _stray_property(measurement: Mapping[str, Any]) -> Property:
    return Property(key=measurement["property"], name=measurement["property"], category="", unit=measurement["unit"])


def shown_material(document: Mapping[str, Any], choice: UnitChoice) -> dict[str, Any]:
    """A ``catalog.material_json`` document with every measurement as shown."""
    return {**document, "measurements": [shown_measurement(m, choice) for m in document["measurements"]]}


#: Significant digits of a derived value whose inputs' written precision is unknown.
DERIVED_DIGITS = 3


def derived_digits(index: Index, inputs: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """The significant digits of a derived value's low and high ends: the usual rule of a product
    or quotient, as many as the least precise *value* among its inputs was written with. An input's
    uncertainty does not lower it (``110 ± 4 GPa`` over ``7.9 g/cm³`` has 2, not 1), and each end
    comes from the matching ends of the inputs: a positive power's low end from the input's low end,
    a negative power's (a divisor) from its high end. An end whose inputs' text is unknown, or
    that a bound leaves open, has :data:`DERIVED_DIGITS`."""
    exponents = dict(index.terms)
    low: list[int] = []
    high: list[int] = []
    for measurement in inputs:
        exponent = exponents.get(measurement["property"], 1.0)
        precision = written_precision(measurement)
        same, other = precision.get("value_min"), precision.get("value_max")
        if exponent < 0:
            same, other = other, same
        low += [same.digits] if same is not None else []
        high += [other.digits] if other is not None else []
    return min(low, default=DERIVED_DIGITS), min(high, default=DERIVED_DIGITS)


def derived_numbers(derived: Mapping[str, Any], choice: UnitChoice) -> tuple[Converter, Shown | None, Shown | None]:
    """The converter a derived value (:func:`shown_derived`'s input) is shown with, and its low
    and high ends as shown: each to the digits :func:`derived_digits` gives it, a range's ends
    separated where they round together; None for an end that is unbounded."""
    index = parse_expression(derived["index"])
    converter = Converter(index.as_property(), index_unit(index, choice))
    low_digits, high_digits = derived_digits(index, derived["inputs"])

    def number(canonical: float | None, digits: int) -> Shown | None:
        return None if canonical is None else converter.number(canonical, Written(digits, 0), 1.0)

    low = number(derived["value_canonical_min"], low_digits)
    high = number(derived["value_canonical_max"], high_digits)
    if low is not None and high is not None:
        low, high = converter.separated((derived["value_canonical_min"], low), (derived["value_canonical_max"], high))
    return converter, low, high


def shown_derived(derived: Mapping[str, Any], choice: UnitChoice) -> dict[str, Any]:
    """A derived value of a search hit (``biomatdb_search.model.DerivedValue`` as a dict: canonical ends, its
    input measurements) as shown: in the index's display unit (``units`` may name the index's key),
    each end to the digits :func:`derived_digits` gives it, the inputs shown as any measurement is;
    the canonical ends stay beside them."""
    index = parse_expression(derived["index"])
    converter, low, high = derived_numbers(derived, choice)
    if low is None:
        body = ""
    elif high is None:
        body = f"{'>' if derived['low_open'] else '≥'} {low.readable()}"
    elif derived["low_open"] and float(low) == 0:
        body = f"{'<' if derived['high_open'] else '≤'} {high.readable()}"
    else:
        body = converter.range_body(low, high)
    return {
        **derived,
        "value_min": None if low is None else float(low),
        "value_max": None if high is None else float(high),
        "unit": converter.label,
        "unit_canonical": unit_label(index.unit_canonical),
        "display": f"{body} {converter.label}".strip(),
        "inputs": [shown_measurement(m, choice) for m in derived["inputs"]],
    }
