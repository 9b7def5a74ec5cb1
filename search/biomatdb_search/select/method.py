"""The ranking method, pure and backend-free (docs/selection.md gives the reasons).

1. **Each measurement to a utility** (higher is better) under the request's policy: for ``max``
   the interval's low end (worst case), high end (best case) or midpoint; for ``min`` the same,
   negated; for ``match`` the negated distance from the target range, in decades when the target
   is positive (moduli span six of them), else in the property's unit. A measurement whose end
   the policy needs is unbounded (``< 300`` under worst-case ``max``) gives no utility; where the
   policy needs the better end and it is unbounded, the bounded end stands in (an understatement).
2. **A candidate's measurements to one utility** per criterion: the worst of them under the
   worst-case policy, the best under the best-case, their median under midpoint.
3. **Utilities to scores in [0, 1]** (``scores_of``): for ``max`` the ratio to the best value, for
   ``min`` the best value's ratio to it, for ``match`` a function of the distance alone. A
   candidate's score moves only with its own value and the best one, never with the worst, so a
   candidate gaining a value or improving one never raises another's score. A candidate without
   a value scores 0 on that criterion under ``penalise``, stated in the answer, or is excluded
   under ``exclude``.
4. **Scores to a total**: the weighted sum over the sum of weights (weights are positive).
5. **Rank** by total, then fewer missing criteria, then higher utilities, then name and id;
   **Pareto-optimal**: no other candidate has at least the utility on every criterion and more
   on one (missing: −∞).

These make the properties tests/test_selection_method.py checks: a dominating candidate never
ranks below the one it dominates, improving one criterion never lowers a rank, and the ranking
does not depend on the order the candidates come in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

METHOD = "weighted sum of ratio-normalised criterion scores (docs/selection.md)"

#: The farthest below a positive target a value counts, in decades (a value at or below zero too).
LOG_FLOOR_DECADES = 12.0


@dataclass(frozen=True, slots=True)
class Span:
    """A measurement's interval in the property's canonical unit; ``None``: unbounded."""

    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class Scored:
    """A utility (higher is better) and the note on how it was reached, if any."""

    utility: float | None
    note: str | None = None


def utility(kind: Literal["max", "min", "match"], span: Span, policy: str, target: Span | None = None) -> Scored:
    """One measurement's utility for one criterion under ``policy``."""
    if kind == "match":
        assert target is not None
        return _match(span, policy, target)
    better, worse = (span.high, span.low) if kind == "max" else (span.low, span.high)
    sign = 1.0 if kind == "max" else -1.0
    if policy == "worst":
        if worse is None:
            return Scored(None, "unbounded on its worse side: no worst case")
        return Scored(sign * worse)
    if policy == "best":
        if better is None:
            return (
                Scored(sign * worse, "unbounded on its better side: its bounded end scored")
                if worse is not None
                else Scored(None)
            )
        return Scored(sign * better)
    if span.low is None or span.high is None:
        end = span.low if span.low is not None else span.high
        return Scored(None if end is None else sign * end, "a bound: its bounded end scored as the midpoint")
    return Scored(sign * (span.low + span.high) / 2)


def distance(value: float, target: Span) -> float:
    """How far ``value`` lies outside ``target`` (0 inside): decades for a positive target."""
    low, high = target.low, target.high
    if (low is None or value >= low) and (high is None or value <= high):
        return 0.0
    end = low if low is not None and value < low else high
    assert end is not None
    if logarithmic(target):
        if value <= 0:
            return LOG_FLOOR_DECADES
        decades = abs(math.log10(value) - math.log10(end))  # never a ratio: it may under- or overflow
        return min(decades, LOG_FLOOR_DECADES) if value < end else decades
    return abs(value - end)


def logarithmic(target: Span) -> bool:
    """Whether distances from ``target`` are measured in decades: every end it has is positive."""
    ends = [end for end in (target.low, target.high) if end is not None]
    return bool(ends) and min(ends) > 0


def _match(span: Span, policy: str, target: Span) -> Scored:
    if policy == "worst":
        if span.low is None or span.high is None:
            return Scored(None, "unbounded on one side: no worst-case distance")
        return Scored(-max(distance(span.low, target), distance(span.high, target)))
    ends = [end for end in (span.low, span.high) if end is not None]
    if not ends:
        return Scored(None)
    if policy == "best":
        overlaps = (span.high is None or target.low is None or span.high >= target.low) and (
            span.low is None or target.high is None or span.low <= target.high
        )
        return Scored(0.0 if overlaps else -min(distance(end, target) for end in ends))
    if len(ends) == 1:
        return Scored(-distance(ends[0], target), "a bound: its bounded end scored as the midpoint")
    return Scored(-distance((ends[0] + ends[1]) / 2, target))


def choose(utilities: Sequence[float], policy: str) -> int:
    """Which of one candidate's measurements (their utilities) stands for it under ``policy``:
    the worst, the best, or the (lower) median; ties go to the first."""
    order = sorted(range(len(utilities)), key=lambda i: (utilities[i], i))
    if policy == "worst":
        return order[0]
    if policy == "best":
        return max(range(len(utilities)), key=lambda i: (utilities[i], -i))
    return order[(len(order) - 1) // 2]


@dataclass(frozen=True, slots=True)
class Ranking:
    """``order``: candidate positions best first; per candidate its total, per-criterion scores
    (``nan`` where missing) and whether it is Pareto-optimal."""

    order: list[int]
    totals: np.ndarray
    scores: np.ndarray
    pareto: np.ndarray


def scores_of(kind: str, column: np.ndarray, target: Span | None = None) -> np.ndarray:
    """One criterion's utilities (``nan``: missing) as scores in [0, 1].

    - ``max``: the value over the best value (a ratio, so a candidate's score moves only with its
      own value and the best one); a value at or below zero scores 0; when the best is not
      positive, the best scores 1 and the rest 0.
    - ``min``: the best (lowest) value over the value, likewise.
    - ``match``: from the distance alone, whatever the others: 10^−d for a distance in decades
      (a value twice the target's end scores 0.5), 1 / (1 + d / w) for a distance in the unit,
      ``w`` the target's width (or its end's size, or 1).
    """
    scores = np.full(column.shape, np.nan)
    present = ~np.isnan(column)
    if not present.any():
        return scores
    if kind == "match":
        d = -column[present]
        with np.errstate(over="ignore", under="ignore"):
            if target is not None and logarithmic(target):
                scores[present] = 10.0**-d
            else:
                scores[present] = 1.0 / (1.0 + d / _width(target))
        return scores
    values = column[present] if kind == "max" else -column[present]
    best = values.max() if kind == "max" else values.min()
    with np.errstate(over="ignore", divide="ignore", under="ignore"):  # a ratio past the floats is 0 or 1
        if best <= 0:
            scores[present] = (values == best).astype(float)
        elif kind == "max":
            scores[present] = np.clip(values / best, 0.0, 1.0)
        else:
            scores[present] = np.where(values > 0, best / np.where(values > 0, values, 1.0), 0.0)
    return scores


def _width(target: Span | None) -> float:
    if target is None:
        return 1.0
    if target.low is not None and target.high is not None and target.high > target.low:
        return target.high - target.low
    ends = [abs(end) for end in (target.low, target.high) if end is not None and end != 0]
    return max(ends) if ends else 1.0


def rank(scores: np.ndarray, utilities: np.ndarray, weights: Sequence[float], tiebreak: Sequence[tuple]) -> Ranking:
    """Rank candidates by the weighted mean of their criterion scores (candidates × criteria,
    ``nan`` where missing: it scores 0). Equal totals go to fewer missing criteria, then to the
    higher utilities in criterion order (so that a dominating candidate is never ranked after
    the one it dominates, whatever the rounding), then ``tiebreak`` (name, id)."""
    n, m = utilities.shape
    w = np.asarray(weights, dtype=float)
    if m and (w <= 0).any():
        raise ValueError("weights must be positive")
    present = ~np.isnan(utilities)
    filled = np.where(present, scores, 0.0)
    totals = filled @ w / w.sum() if m else np.zeros(n)
    missing = (~present).sum(axis=1)
    ordered = np.where(present, utilities, -np.inf)
    names = np.empty(n, dtype=np.int64)
    names[sorted(range(n), key=lambda i: tiebreak[i])] = np.arange(n)
    # np.lexsort sorts by its last key first: the total, then missing, then each utility in turn
    keys = [names, *(-ordered[:, j] for j in reversed(range(m))), missing, -totals]
    order = np.lexsort(keys).tolist() if n else []
    return Ranking(order=order, totals=totals, scores=scores, pareto=pareto_front(utilities, order))


def pareto_front(utilities: np.ndarray, order: Sequence[int], *, block: int = 256) -> np.ndarray:
    """Whether each candidate is non-dominated (missing counts as −∞). ``order`` must rank a
    dominating candidate before the one it dominates (``rank``'s does), so each candidate is
    checked only against the front found before it: block by block, against the front so far
    and against the earlier members of its own block."""
    n = utilities.shape[0]
    positions = np.asarray(order, dtype=int)
    values = np.where(np.isnan(utilities), -np.inf, utilities)[positions]
    optimal_in_order = np.zeros(n, dtype=bool)
    front = values[:0]
    for start in range(0, n, block):
        chunk = values[start : start + block]
        at_least = (front[:, None, :] >= chunk[None, :, :]).all(axis=2)
        better = (front[:, None, :] > chunk[None, :, :]).any(axis=2)
        kept = ~(at_least & better).any(axis=0)
        # within the block: dominated by an earlier member of it that is itself on the front
        inner_at_least = (chunk[:, None, :] >= chunk[None, :, :]).all(axis=2)
        inner_better = (chunk[:, None, :] > chunk[None, :, :]).any(axis=2)
        inner = np.triu(inner_at_least & inner_better, k=1)  # [a, b]: a (earlier) dominates b
        for b in range(len(chunk)):
            if kept[b] and (inner[:, b] & kept).any():
                kept[b] = False
        optimal_in_order[start : start + block] = kept
        front = np.concatenate([front, chunk[kept]])
    optimal = np.zeros(n, dtype=bool)
    optimal[positions] = optimal_in_order
    return optimal
