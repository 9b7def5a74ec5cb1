"""Nearest materials by property profile.

Each material's profile is one number per property: the mean of its measurements'
representative values (a point's value, a range's midpoint, a bound's bound). Two profiles
are compared on the properties they share: per property the difference of log10 values
(linear values where a property has any value ≤ 0) divided by that property's spread (the
standard deviation of its profile values over all materials), then

    score = coverage × exp(−rms),   coverage = shared properties / the material's properties

so that 1.0 means the same numbers on every property the material has, and a candidate
sharing fewer properties scores lower. Structure similarity is the chemistry index's
Tanimoto (``biomatdb_search.chemistry``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine, func, select

from biomatdb.db import PerGeneration
from biomatdb.models import Measurement

MIN_SPREAD = 1e-9


@dataclass(frozen=True, slots=True)
class ProfileMatch:
    material_id: int
    score: float
    shared: tuple[str, ...]


def _representative():
    return func.coalesce(
        Measurement.value,
        (Measurement.value_min + Measurement.value_max) / 2.0,
        Measurement.value_min,
        Measurement.value_max,
    )


@dataclass(frozen=True)
class ProfileMatrix:
    """Every material's profile on every property, on each property's comparison scale (log10
    where all its values are positive), with each property's spread: made once per generation
    of the core and shared by every request, so that a request is a few array operations."""

    material_ids: np.ndarray  # sorted
    properties: tuple[str, ...]
    values: np.ndarray  # materials × properties, NaN where a material has no value
    spreads: np.ndarray


def profile_matrix(engine: Engine) -> ProfileMatrix:
    with engine.connect() as connection:
        return _matrices.get(engine, connection)


def _build_matrix(connection) -> ProfileMatrix:
    value = _representative()
    rows = connection.execute(
        select(Measurement.material_id, Measurement.property_key, func.avg(value))
        .where(value.is_not(None))
        .group_by(Measurement.material_id, Measurement.property_key)
    ).all()
    if not rows:
        return ProfileMatrix(np.array([], dtype=np.int64), (), np.empty((0, 0)), np.empty(0))
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    keys = [r[1] for r in rows]
    means = np.array([float(r[2]) for r in rows])
    material_ids, row_of = np.unique(ids, return_inverse=True)
    properties = tuple(sorted(set(keys)))
    column = {key: index for index, key in enumerate(properties)}
    col_of = np.array([column[key] for key in keys])
    values = np.full((len(material_ids), len(properties)), np.nan)
    values[row_of, col_of] = means
    spreads = np.ones(len(properties))
    for index in range(len(properties)):
        present = values[:, index][~np.isnan(values[:, index])]
        if (present > 0).all():
            present = np.log10(present)
            values[:, index] = np.log10(values[:, index])
        if len(present) >= 2:
            spread = float(np.std(present, ddof=1))
            spreads[index] = spread if spread > MIN_SPREAD else 1.0
    return ProfileMatrix(material_ids, properties, values, spreads)


_matrices: PerGeneration[ProfileMatrix] = PerGeneration(_build_matrix)


def similar_by_profile(engine: Engine, material_id: int, *, limit: int = 10) -> list[ProfileMatch]:
    """The ``limit`` materials whose property profile is nearest to this one's, best first."""
    matrix = profile_matrix(engine)
    position = np.searchsorted(matrix.material_ids, material_id)
    if position >= len(matrix.material_ids) or matrix.material_ids[position] != material_id:
        return []
    own = matrix.values[position]
    columns = np.flatnonzero(~np.isnan(own))
    if not len(columns):
        return []
    differences = (matrix.values[:, columns] - own[columns]) / matrix.spreads[columns]
    present = ~np.isnan(differences)
    counts = present.sum(axis=1)
    squares = np.where(present, differences, 0.0) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.sqrt(squares.sum(axis=1) / counts)
    scores = np.round(counts / len(columns) * np.exp(-rms), 6)
    candidates = np.flatnonzero(counts > 0)
    candidates = candidates[candidates != position]
    order = np.lexsort((matrix.material_ids[candidates], -scores[candidates]))[:limit]
    names = np.array(matrix.properties, dtype=object)
    return [
        ProfileMatch(int(matrix.material_ids[index]), float(scores[index]), tuple(names[columns[present[index]]]))
        for index in candidates[order]
    ]
