"""Nearest materials by property profile.

Each material's profile is one number per property: the mean of its measurements'
representative values (a point's value, a range's midpoint, a bound's bound). Two profiles
are compared on the properties they share: per property the difference of log10 values
(linear values where a property has any value ≤ 0) divided by that property's spread (the
standard deviation of its profile values over all materials), then

    score = coverage × exp(−rms),   coverage = shared properties / the material's properties

so that 1.0 means the same numbers on every property the material has, and a candidate
sharing fewer properties scores lower. Structure similarity is the chemistry index's
Tanimoto (``search.chemistry``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from biomatdb.models import Measurement

MIN_SPREAD = 1e-9


@dataclass(frozen=True, slots=True)
class ProfileMatch:
    material_id: int
    score: float
    shared: tuple[str, ...]


def _representative():
    return func.coalesce(Measurement.value, (Measurement.value_min + Measurement.value_max) / 2.0,
                         Measurement.value_min, Measurement.value_max)


def profiles(engine: Engine, properties: list[str]) -> dict[str, dict[int, float]]:
    """{property: {material id: mean representative value}} for these properties, in one statement."""
    table: dict[str, dict[int, float]] = defaultdict(dict)
    if not properties:
        return table
    value = _representative()
    with engine.connect() as connection:
        for material_id, key, mean in connection.execute(
                select(Measurement.material_id, Measurement.property_key, func.avg(value))
                .where(Measurement.property_key.in_(properties), value.is_not(None))
                .group_by(Measurement.material_id, Measurement.property_key)):
            table[key][material_id] = float(mean)
    return table


def _scale(values: dict[int, float]) -> tuple[bool, float]:
    """Whether the property compares in log10, and its spread on that scale."""
    logarithmic = all(v > 0 for v in values.values())
    points = [math.log10(v) if logarithmic else v for v in values.values()]
    if len(points) < 2:
        return logarithmic, 1.0
    mean = sum(points) / len(points)
    spread = math.sqrt(sum((p - mean) ** 2 for p in points) / (len(points) - 1))
    return logarithmic, spread if spread > MIN_SPREAD else 1.0


def similar_by_profile(engine: Engine, material_id: int, *, limit: int = 10) -> list[ProfileMatch]:
    """The ``limit`` materials whose property profile is nearest to this one's, best first."""
    with engine.connect() as connection:
        keys = sorted(connection.execute(select(Measurement.property_key).where(
            Measurement.material_id == material_id).distinct()).scalars())
    table = profiles(engine, keys)
    own = {key: table[key][material_id] for key in keys if material_id in table.get(key, {})}
    if not own:
        return []
    squared: dict[int, list[float]] = defaultdict(list)
    shared: dict[int, list[str]] = defaultdict(list)
    for key, target in own.items():
        logarithmic, spread = _scale(table[key])
        at = math.log10(target) if logarithmic else target
        for other, value in table[key].items():
            if other == material_id:
                continue
            there = math.log10(value) if logarithmic else value
            squared[other].append(((at - there) / spread) ** 2)
            shared[other].append(key)
    matches = []
    for other, terms in squared.items():
        rms = math.sqrt(sum(terms) / len(terms))
        score = len(terms) / len(own) * math.exp(-rms)
        matches.append(ProfileMatch(other, round(score, 6), tuple(shared[other])))
    matches.sort(key=lambda m: (-m.score, m.material_id))
    return matches[:limit]
