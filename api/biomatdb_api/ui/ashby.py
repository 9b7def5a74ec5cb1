"""The data of an Ashby chart: for two properties, every material that has both, as the span
(lowest to highest value) of each in the reader's units, with hover texts rounded to what was
written; each class's envelope; each axis's scale, chosen from the values drawn; and a caption
that counts exactly what is drawn and says what is not.

**The scale of an axis** is logarithmic when every value drawn on it is above zero, its unit has
a true zero (not °C or °F, whose zero is an offset: 20 °C is not twice 10 °C), and the values span
at least a factor of :data:`LOG_AXIS_MIN_RATIO`; otherwise linear. So no value is ever dropped for
its sign, and a temperature is on a linear axis in its shown unit (°C by default).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from sqlalchemy import Engine, select

from biomatdb.display import Converter, from_canonical, open_ends, verbatim
from biomatdb.indices import load_indices
from biomatdb.models import Material, Measurement, has_value
from biomatdb.suggest import closest, did_you_mean
from biomatdb.units import conversion
from biomatdb.vocabulary import Property, get_vocabulary
from biomatdb_api.ui.display import View
from biomatdb_api.ui.pages import class_colour, class_order
from biomatdb_api.ui.selection import SYMBOLS
from biomatdb_search.model import Filter

TISSUE_CLASS = "tissue"
#: the least ratio of the highest to the lowest value drawn for a logarithmic axis (one decade)
LOG_AXIS_MIN_RATIO = 10.0
#: what an axis's range adds beyond the values at each end, as a share of their span (on its scale)
RANGE_PADDING = 0.06
#: the index lines offered on two log axes: y^(1/n)/x = C, a line of slope n
GUIDE_SLOPES = (1, 2, 3)

Scale = Literal["log", "linear"]


@dataclass(frozen=True, slots=True)
class Point:
    """A material with values of both properties: its measurements of each (canonical units)."""

    id: str
    name: str
    material_class: str
    x: list[dict[str, Any]]
    y: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Measured:
    """What the core holds of the two properties: the materials with both, and how many have one only."""

    points: list[Point]
    only_x: int
    only_y: int


def measured(engine: Engine, x: str, y: str, parsed: Filter | None, chemistry=None) -> Measured:
    """Materials with values of ``x`` and ``y``, each with its measurements of both; bounds
    (``> 24``) count with their one end. ``parsed`` narrows the materials with the same translator
    the SQL search uses."""
    statement = (
        select(
            Material.public_id,
            Material.name,
            Material.material_class.label("material_class"),
            Measurement.property_key,
            Measurement.qualifier,
            Measurement.value,
            Measurement.value_min,
            Measurement.value_max,
            Measurement.uncertainty,
            Measurement.verbatim_value,
            Measurement.verbatim_unit,
            Measurement.verbatim_uncertainty,
        )
        .join(Measurement, Measurement.material_id == Material.id)
        .where(Measurement.property_key.in_({x, y}), has_value())
        .order_by(Material.name_key, Material.public_id, Measurement.id)
    )
    if parsed is not None:
        from biomatdb_search.backends.sql import SqlTranslator

        matching = select(Material.id).where(SqlTranslator(chemistry, engine.dialect.name).filter(parsed))
        statement = statement.where(Material.id.in_(matching))
    found: dict[str, dict[str, Any]] = {}
    with engine.connect() as connection:
        for row in connection.execute(statement).mappings():
            entry = found.setdefault(
                row["public_id"], {"name": row["name"], "class": row["material_class"] or "unclassified", x: [], y: []}
            )
            entry[row["property_key"]].append(
                {
                    "qualifier": row["qualifier"],
                    "value": row["value"],
                    "value_min": row["value_min"],
                    "value_max": row["value_max"],
                    "uncertainty": row["uncertainty"],
                    "verbatim": verbatim(row["verbatim_value"], row["verbatim_unit"], row["verbatim_uncertainty"]),
                }
            )
    points = [
        Point(public_id, entry["name"], entry["class"], entry[x], entry[y])
        for public_id, entry in found.items()
        if entry[x] and entry[y]
    ]
    only_x = sum(1 for entry in found.values() if entry[x] and not entry[y])
    only_y = sum(1 for entry in found.values() if entry[y] and not entry[x])
    return Measured(points, only_x if x != y else 0, only_y if x != y else 0)


def has_values_of_both(engine: Engine, public_id: str, x: str, y: str) -> bool:
    """Whether the material has a value (an end at least) of ``x`` and of ``y``, whatever a filter says."""
    statement = (
        select(Measurement.property_key)
        .join(Material, Measurement.material_id == Material.id)
        .where(Material.public_id == public_id, Measurement.property_key.in_({x, y}), has_value())
        .distinct()
    )
    with engine.connect() as connection:
        return set(connection.scalars(statement)) == {x, y}


def ends(measurements: Iterable[Mapping[str, Any]]) -> tuple[float, float]:
    """The lowest and the highest value of these measurements (canonical)."""
    values = [
        v
        for m in measurements
        for v in (m["value_min"], m["value"], m["value_max"])
        if v is not None and math.isfinite(v)
    ]
    return min(values), max(values)


# --- axes --------------------------------------------------------------------------------


def has_true_zero(prop: Property, unit: str) -> bool:
    """Whether zero in ``unit`` is none of the quantity (K, GPa), not an offset's (°C, °F)."""
    return conversion(unit, prop).offset == 0


def axis_scale(values: Sequence[float], *, true_zero: bool = True, unit: str = "its unit") -> tuple[Scale, str]:
    """The scale of an axis drawing ``values`` (every end of every span), and why, when it is
    linear: a log axis holds only positive values of a unit with a true zero, spanning at least a
    factor of :data:`LOG_AXIS_MIN_RATIO`. No values: linear, and no reason (there is nothing to draw)."""
    if not values:
        return "linear", ""  # nothing to draw, so no reason to give for a scale
    if not true_zero:
        return "linear", f"{unit} counts from an arbitrary zero"
    if min(values) <= 0:
        return "linear", "some of its values are at or below zero"
    if max(values) / min(values) < LOG_AXIS_MIN_RATIO:
        return "linear", f"its values span less than a factor of {LOG_AXIS_MIN_RATIO:g}"
    return "log", ""


def axis_range(values: Sequence[float], scale: Scale) -> list[float]:
    """plotly's range of an axis (log10 of the ends on a log axis) holding every value, with
    :data:`RANGE_PADDING` of the span beyond each end (a single value: a span around it)."""
    drawn = [math.log10(v) for v in values] if scale == "log" else list(values)
    low, high = min(drawn), max(drawn)
    span = high - low
    if span == 0:
        span = 1.0 if scale == "log" or low == 0 else abs(low)
    return [low - span * RANGE_PADDING, high + span * RANGE_PADDING]


def convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The hull of ``points`` counter-clockwise (Andrew's monotone chain); fewer than three
    distinct points are returned as they are."""
    unique = sorted(set(points))
    if len(unique) < 3:
        return unique

    def cross(o, a, b) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in unique:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(unique):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def envelope(
    boxes: Sequence[tuple[tuple[float, float], tuple[float, float]]], x_scale: Scale, y_scale: Scale
) -> list[tuple[float, float]]:
    """The convex hull of the corners of every box (shown values), taken on the axes' scales (so
    its edges are straight on the chart), back in shown values. Every corner is a value drawn,
    so the envelope lies within the axes' ranges."""

    def to_axis(value: float, scale: Scale) -> float:
        return math.log10(value) if scale == "log" else value

    def from_axis(value: float, scale: Scale) -> float:
        return 10**value if scale == "log" else value

    corners = [
        (to_axis(px, x_scale), to_axis(py, y_scale))
        for (x_low, x_high), (y_low, y_high) in boxes
        for px in {x_low, x_high}
        for py in {y_low, y_high}
    ]
    return [(from_axis(ax, x_scale), from_axis(ay, y_scale)) for ax, ay in convex_hull(corners)]


def guides(x: str, y: str) -> list[dict[str, Any]]:
    """The index lines of two log axes, y^(1/n)/x = C for n in :data:`GUIDE_SLOPES`, each named by
    the vocabulary's index of those terms where it has one (E/ρ: specific stiffness)."""
    named = {}
    for index in load_indices():
        terms = dict(index.terms)
        if len(terms) == 2 and terms.get(x) == -1 and y in terms and terms[y] > 0:
            named[round(1 / terms[y])] = index
    return [
        {"slope": n, "name": named[n].name if n in named else None, "key": named[n].key if n in named else None}
        for n in GUIDE_SLOPES
    ]


def bound_of(measurements: Iterable[Mapping[str, Any]]) -> Literal["low", "high", "both"] | None:
    """Which end of a material's span of a property is a bound, not a value (:func:`open_ends`):
    ``high`` for ``> 24`` (the truth lies above the end drawn), ``low`` for ``< 5``, ``both``, or
    None. The page draws such a point as an open triangle pointing to the open side."""
    low, high = open_ends(measurements)
    if low and high:
        return "both"
    return "low" if low else "high" if high else None


#: the words a page says an axis with
AXIS_NAMES = {"x": "horizontal axis", "y": "vertical axis"}


def unknown_axis(key: str) -> str | None:
    """Why ``key`` cannot be an axis (``unknown property 'foo'; did you mean …?``), or None when
    it is a property of the vocabulary. The chart's page and its data say it alike."""
    vocabulary = get_vocabulary()
    if key in vocabulary.properties:
        return None
    return f"unknown property {key!r}{did_you_mean(closest(key, vocabulary.property_labels))}"


def axis_choices(choices: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The options of an axis's select: the properties with data, and the one asked for where it
    is not among them (an unknown one, said so), so the form shows what was asked, not another."""
    if any(choice["key"] == key for choice in choices):
        return choices
    prop = get_vocabulary().properties.get(key)
    asked = {"key": key, "name": prop.name if prop else f"{key} (unknown property)", "count": 0}
    return [asked, *choices]


def guides_note(names: Mapping[str, str], linear: Mapping[str, str]) -> str:
    """Why a chart offers no index lines: they are straight only on two logarithmic axes, and
    this axis (or both) is linear, for the reason its scale gives."""
    said = "; ".join(f"{names[axis]} is on a linear axis ({reason})" for axis, reason in linear.items())
    return f"No index lines: they are drawn only when both axes are logarithmic, and {said}."


# --- the chart ---------------------------------------------------------------------------


def _count(n: int, noun: str = "material") -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


#: Why a highlighted material is not drawn, by what the core holds of it: the sentence the caption says.
MISSING_REASONS: dict[str, str] = {
    "no-values": "{name} has no values of both, so it is not on this chart.",
    "filtered": "The filter leaves {name} out, so it is not on this chart.",
}


def caption(
    count: int,
    names: Mapping[str, str],
    measured_: Measured,
    linear: Mapping[str, str],
    missing: tuple[str, str] | None,
    *,
    filtered: bool = False,
    bounds: int = 0,
) -> str:
    """What the chart draws, counted; what it leaves out, and why (``missing``: a highlighted
    material's name and the key of its reason in :data:`MISSING_REASONS`); and which axis is
    linear, and why (an empty chart has no scale to explain). ``bounds``: how many of the points
    drawn are bounds on an axis (``> 24 months``), drawn at the bound as open triangles."""
    if count:
        parts = [f"{_count(count)} with both {names['x']} and {names['y']}."]
        if bounds:
            are = "is a bound" if bounds == 1 else "are bounds"
            parts.append(
                f"{bounds} of them {are} (such as > 24), not exact values: drawn at the bound as an open"
                " triangle pointing to where the true value lies."
            )
    else:
        matching = " that the filter leaves in" if filtered else ""
        parts = [f"Nothing to draw: no material{matching} has values of both {names['x']} and {names['y']}."]
    left = []
    if measured_.only_x:
        left.append(f"{_count(measured_.only_x)} with {names['x']} but no {names['y']}")
    if measured_.only_y:
        left.append(f"{_count(measured_.only_y)} with {names['y']} but no {names['x']}")
    if left:
        parts.append("Not drawn: " + "; ".join(left) + ".")
    if missing:
        name, why = missing
        parts.append(MISSING_REASONS[why].format(name=name))
    for axis, reason in linear.items():
        if count and reason:
            parts.append(f"{names[axis]} is on a linear axis: {reason}.")
    return " ".join(parts)


def chart(
    engine: Engine,
    chemistry,
    *,
    x: str,
    y: str,
    parsed: Filter | None,
    view: View,
    highlight: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The chart's data as the page draws it (``/ui/ashby.json``): the axes (name, unit, scale,
    range), the points per class with their envelopes, the highlighted material, the index lines
    on two log axes, and the caption. ``highlight`` is a material's (public id, name)."""
    vocabulary = get_vocabulary()
    props = {"x": vocabulary.properties[x], "y": vocabulary.properties[y]}
    found = measured(engine, x, y, parsed, chemistry)
    converters: dict[str, Converter] = {
        axis: view.converter(props[axis], [m for p in found.points for m in getattr(p, axis)]) for axis in props
    }

    def shown(axis: str, measurements: list[dict[str, Any]]) -> list[float]:
        low, high = ends(measurements)
        return [from_canonical(v, converters[axis].unit, props[axis]) for v in (low, high)]

    drawn: list[dict[str, Any]] = [
        {
            "id": p.id,
            "name": p.name,
            "class": p.material_class,
            "x": shown("x", p.x),
            "y": shown("y", p.y),
            "x_text": converters["x"].span(p.x),
            "y_text": converters["y"].span(p.y),
            "x_bound": bound_of(p.x),
            "y_bound": bound_of(p.y),
        }
        for p in found.points
    ]
    axes: dict[str, dict[str, Any]] = {}
    linear: dict[str, str] = {}
    for axis, prop in props.items():
        values = [v for point in drawn for v in point[axis]]
        true_zero = has_true_zero(prop, converters[axis].unit)
        scale, reason = axis_scale(values, true_zero=true_zero, unit=converters[axis].label)
        if scale == "linear":
            linear[axis] = reason
        axes[axis] = {
            "key": prop.key,
            "name": prop.name,
            "unit": converters[axis].label,
            "symbol": SYMBOLS.get(prop.key),
            "scale": scale,
            "range": axis_range(values, scale) if values else None,
        }
    by_class: dict[str, list[dict[str, Any]]] = {}
    for point in drawn:
        by_class.setdefault(point["class"], []).append(point)
    classes = []
    for name in sorted(by_class, key=class_order):
        members = by_class[name]
        term = vocabulary.classes.get(name)
        boxes = [((p["x"][0], p["x"][1]), (p["y"][0], p["y"][1])) for p in members]
        hull = envelope(boxes, axes["x"]["scale"], axes["y"]["scale"])
        classes.append(
            {
                "class": name,
                "name": term.name if term else name,
                "color": class_colour(name),
                "tissue": name == TISSUE_CLASS,
                "points": [{k: v for k, v in p.items() if k != "class"} for p in members],
                "envelope": [] if name == TISSUE_CLASS or len(members) < 2 else [list(c) for c in hull],
            }
        )
    chosen = next((p for p in drawn if p["id"] == highlight[0]), None) if highlight else None
    missing = None
    if highlight and chosen is None:
        filtered_out = parsed is not None and has_values_of_both(engine, highlight[0], x, y)
        missing = (highlight[1], "filtered" if filtered_out else "no-values")
    names = {axis: prop.name for axis, prop in props.items()}
    both_log = axes["x"]["scale"] == axes["y"]["scale"] == "log"
    bounded = sum(1 for p in drawn if p["x_bound"] or p["y_bound"])
    return {
        "x": axes["x"],
        "y": axes["y"],
        "count": len(drawn),
        "classes": classes,
        "highlight": chosen,
        "guides": guides(x, y) if both_log else [],
        "guides_note": guides_note(names, linear) if drawn and not both_log else None,
        "bounds": bounded,
        "caption": caption(
            len(drawn),
            names,
            found,
            linear,
            missing,
            filtered=parsed is not None,
            bounds=bounded,
        ),
        "view_query": ("?" + urlencode(view.params)) if view.params else "",
    }


# --- which chart shows a material --------------------------------------------------------

#: the axis pairs (x, y) a material's "see it on an Ashby chart" prefers, in order: Ashby's own
#: charts first, then the pairs a biomaterial is most often told by
PREFERRED_PAIRS = (
    ("density", "youngs_modulus"),
    ("density", "tensile_strength"),
    ("tensile_strength", "youngs_modulus"),
    ("elongation_at_break", "tensile_strength"),
    ("elongation_at_break", "youngs_modulus"),
    ("youngs_modulus", "fracture_toughness"),
    ("glass_transition_temperature", "youngs_modulus"),
    ("degradation_time", "youngs_modulus"),
    ("glass_transition_temperature", "melting_temperature"),
)


def axes_for(measurements: Iterable[Mapping[str, Any]], counts: Mapping[str, int]) -> tuple[str, str] | None:
    """The axes (x, y) of the chart a material is shown on: the first of :data:`PREFERRED_PAIRS`
    it has values of both of, else the two of its properties most materials have values of (the
    more common on y); None when it has values of fewer than two properties."""
    vocabulary = get_vocabulary()
    have = {
        m["property"]
        for m in measurements
        if m["property"] in vocabulary.properties
        and any(m.get(key) is not None for key in ("value", "value_min", "value_max"))
    }
    for x, y in PREFERRED_PAIRS:
        if x in have and y in have:
            return x, y
    if len(have) < 2:
        return None
    common = sorted(have, key=lambda key: (-counts.get(key, 0), key))
    return common[1], common[0]
