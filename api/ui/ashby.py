"""The data of an Ashby chart: for two properties, every material that has both, as the
span (lowest to highest value) of each, computed with SQL over the core; and each class's
envelope, the convex hull of its materials' boxes in log space."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from biomatdb.models import Material, Measurement, has_value
from search.model import Filter

TISSUE_CLASS = "tissue"


@dataclass(frozen=True, slots=True)
class Span:
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Point:
    id: str
    name: str
    material_class: str
    x: Span
    y: Span


def spans(engine: Engine, x: str, y: str, parsed: Filter | None, chemistry=None) -> list[Point]:
    """Materials with values of both ``x`` and ``y`` (canonical units), each as the span of
    its values; bounds (``> 24``) count with their one end. ``parsed`` narrows the materials
    with the same translator the SQL search uses."""
    low = func.min(func.coalesce(Measurement.value_min, Measurement.value, Measurement.value_max))
    high = func.max(func.coalesce(Measurement.value_max, Measurement.value, Measurement.value_min))
    per_material = (
        select(Measurement.material_id, Measurement.property_key, low.label("low"), high.label("high"))
        .where(Measurement.property_key.in_({x, y}), has_value())
        .group_by(Measurement.material_id, Measurement.property_key)
    )
    if parsed is not None:
        from search.backends.sql import SqlTranslator

        matching = select(Material.id).where(SqlTranslator(chemistry, engine.dialect.name).filter(parsed))
        per_material = per_material.where(Measurement.material_id.in_(matching))
    per_material = per_material.subquery()
    statement = (
        select(
            Material.public_id,
            Material.name,
            Material.material_class,
            per_material.c.property_key,
            per_material.c.low,
            per_material.c.high,
        )
        .join(per_material, per_material.c.material_id == Material.id)
        .order_by(Material.name_key, Material.public_id)
    )
    found: dict[str, dict] = {}
    with engine.connect() as connection:
        for public_id, name, material_class, key, lowest, highest in connection.execute(statement):
            entry = found.setdefault(public_id, {"name": name, "class": material_class or "unclassified"})
            entry[key] = Span(lowest, highest)
    points = []
    for public_id, entry in found.items():
        if x in entry and y in entry:
            points.append(Point(public_id, entry["name"], entry["class"], entry[x], entry[y]))
    return points


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


def envelope(boxes: list[tuple[Span, Span]]) -> list[tuple[float, float]]:
    """The convex hull, in log10 space, of the corners of every box, back on the linear
    scale (a straight edge on the log–log chart). Non-positive values have no place on a
    log axis and are left out."""
    corners = [
        (math.log10(px), math.log10(py))
        for x, y in boxes
        for px in {x.low, x.high}
        for py in {y.low, y.high}
        if px > 0 and py > 0
    ]
    return [(10**lx, 10**ly) for lx, ly in convex_hull(corners)]
