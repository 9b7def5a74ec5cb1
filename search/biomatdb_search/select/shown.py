"""What a criterion scored, as a reader takes it (``criteria[].value`` of a selection answer):
in the display unit of the measurement it was scored on, rounded to the digits that were written
(``biomatdb.display``), beside the full-precision canonical value (docs/selection.md).

- ``max``/``min``: the end of the measurement's interval the policy scored, as the measurement
  shows it (``240 MPa``; under US units ``34.8 ksi``), or its midpoint, to the place of the
  coarser end;
- ``match``: the distance from the target, in decades when the target is positive, to as many
  decimals as the fewer significant digits of the two numbers it is measured between (the digits
  of a logarithm: ``45 GPa`` against ``30 GPa`` is ``0.18`` decades), else in the unit, to the
  place of the coarser of the two (a difference); ``0`` inside the target.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from biomatdb.display import Converter, UnitChoice, derived_numbers, unit_label
from biomatdb.precision import Shown, Written, rounded
from biomatdb_search.model import MatchedMeasurement
from biomatdb_search.select.method import Span, distance, logarithmic

DECADES = "decades"


@dataclass(frozen=True, slots=True)
class ShownValue:
    """A criterion's scored value: shown (``value`` in ``unit``, ``display``) and canonical."""

    value: float
    unit: str
    display: str
    value_canonical: float
    unit_canonical: str


def _ends(measurement: Mapping[str, Any], converter: Converter) -> list[tuple[float, Shown]]:
    """A measurement's numbers (canonical, as shown in ``converter``'s unit)."""
    numbers = converter.numbers(measurement)
    return [(measurement[key], numbers[key]) for key in ("value", "value_min", "value_max") if key in numbers]


def _shown_at(canonical: float, ends: list[tuple[float, Shown]], converter: Converter) -> Shown:
    """``canonical`` as shown: the end it is, else (a midpoint) rounded at the coarsest end's place."""
    for end, shown in ends:
        if end == canonical:
            return shown
    if not ends:
        written, factor = converter.written(canonical, None, 1.0)
        return converter.number(canonical, written, factor)
    return converter.number(canonical, Written(1, 0), 1.0, at=max(shown.place for _, shown in ends))


def _digits(shown: Shown) -> int:
    return 1 if shown.value.is_zero() else shown.value.adjusted() - shown.place + 1


def _scored_point(span: Span, target: Span, d: float) -> float | None:
    """Which point of the interval ``span`` lies ``d`` from ``target``: an end, or the midpoint."""
    points = [p for p in (span.low, span.high) if p is not None]
    if span.low is not None and span.high is not None:
        points.append((span.low + span.high) / 2)
    return next((p for p in points if distance(p, target) == d), None)


def shown_value(
    kind: str,
    utility: float,
    canonical: float,
    converter: Converter,
    ends: list[tuple[float, Shown]],
    span: Span,
    *,
    unit_canonical: str,
    target: Span | None = None,
    target_measurements: Iterable[Mapping[str, Any]] = (),
    counted: tuple[Converter, list[tuple[float, Shown]]] | None = None,
) -> ShownValue:
    """A criterion's scored ``utility`` (``canonical``: it as the answer's canonical value) shown
    with ``converter`` (the scored measurement's unit), ``ends`` its numbers (:func:`_ends`),
    ``span`` its interval as scored (canonical). ``counted``: the converter and ends a distance in
    decades counts its digits with (the canonical unit's, so that the digits do not depend on the
    display unit: a midpoint's place does); ``converter`` and ``ends`` by default."""
    if kind != "match":
        shown = _shown_at(-utility if kind == "min" else utility, ends, converter)
        return ShownValue(
            float(shown.value), converter.label, converter.with_unit(shown.readable()), canonical, unit_canonical
        )
    assert target is not None
    d = -utility
    point = _scored_point(span, target, d) if d else None
    in_decades = logarithmic(target)
    if point is None:  # inside the target (or a point the rules below cannot name): as computed
        place = 0 if d == 0 else -3
        shown = Shown(rounded(d, place), place)
    else:
        aim = target.low if target.low is not None and point < target.low else target.high
        assert aim is not None
        targets = list(target_measurements)
        if in_decades:
            by, by_ends = counted or (converter, ends)
            mine = _shown_at(point, by_ends, by)
            theirs = _shown_at(aim, [e for m in targets for e in _ends(m, by)], by)
            place = -min(_digits(mine), _digits(theirs))
            shown = Shown(rounded(d, place), place)
        else:
            mine = _shown_at(point, ends, converter)
            theirs = _shown_at(aim, [e for m in targets for e in _ends(m, converter)], converter)
            shown = converter.number(d, Written(1, 0), 1.0, difference=True, at=max(mine.place, theirs.place))
    if in_decades:
        text = shown.readable()
        return ShownValue(
            float(shown.value), DECADES, f"{text} {'decade' if text == '1' else DECADES}", canonical, DECADES
        )
    return ShownValue(
        float(shown.value), converter.label, converter.with_unit(shown.readable()), canonical, unit_canonical
    )


def measurement_value(
    kind: str,
    utility: float,
    canonical: float,
    m: MatchedMeasurement,
    converter: Converter,
    span: Span,
    *,
    target: Span | None = None,
    target_measurements: Iterable[Mapping[str, Any]] = (),
) -> ShownValue:
    """:func:`shown_value` of a measured property's criterion."""
    measurement = m.model_dump()
    canonical_converter = Converter(converter.prop, converter.prop.unit)
    return shown_value(
        kind,
        utility,
        canonical,
        converter,
        _ends(measurement, converter),
        span,
        unit_canonical=unit_label(m.unit),
        target=target,
        target_measurements=target_measurements,
        counted=(canonical_converter, _ends(measurement, canonical_converter)),
    )


def derived_value(
    kind: str,
    utility: float,
    canonical: float,
    derived: Mapping[str, Any],
    choice: UnitChoice,
    unit_canonical: str,
    *,
    target: Span | None = None,
    target_measurements: Iterable[Mapping[str, Any]] = (),
) -> ShownValue:
    """:func:`shown_value` of a derived index's criterion (``derived``: as ``shown_derived`` takes it);
    its ends have the digits of its inputs in any unit, so a distance counts them as shown."""
    converter, low, high = derived_numbers(derived, choice)
    ends = [
        (end, shown)
        for end, shown in ((derived["value_canonical_min"], low), (derived["value_canonical_max"], high))
        if end is not None and shown is not None
    ]
    return shown_value(
        kind,
        utility,
        canonical,
        converter,
        ends,
        Span(derived["value_canonical_min"], derived["value_canonical_max"]),
        unit_canonical=unit_canonical,
        target=target,
        target_measurements=target_measurements,
    )
