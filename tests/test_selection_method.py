"""The ranking method's promises (search/biomatdb_search/select/method.py), checked with hypothesis on
generated candidate tables: dominance, monotonicity, order independence, and the per-measurement
scoring under each interval policy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from biomatdb_search.select.method import Span, choose, distance, pareto_front, rank, scores_of, utility

values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
cells = st.one_of(st.none(), values)


TARGETS = {"max": None, "min": None, "match": Span(3.0, 30.0), "match-linear": Span(-2.0, 2.0)}


@st.composite
def tables(draw, min_rows=1):
    """Utilities (candidates × criteria, nan: missing), weights, and each criterion's kind; a
    match's utilities are negated distances, so never positive."""
    m = draw(st.integers(1, 4))
    n = draw(st.integers(min_rows, 12))
    kinds = draw(st.lists(st.sampled_from(sorted(TARGETS)), min_size=m, max_size=m))
    rows = draw(st.lists(st.lists(cells, min_size=m, max_size=m), min_size=n, max_size=n))
    weights = draw(st.lists(st.floats(0.1, 10), min_size=m, max_size=m))
    utilities = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)
    for j, kind in enumerate(kinds):
        if kind.startswith("match"):
            utilities[:, j] = -np.abs(utilities[:, j])
    return utilities, weights, kinds


def ranked(utilities, weights, kinds, names=None):
    names = names or [f"m{i:03d}" for i in range(utilities.shape[0])]
    scores = np.column_stack(
        [scores_of(kind.split("-")[0], utilities[:, j], TARGETS[kind]) for j, kind in enumerate(kinds)]
    ).reshape(utilities.shape)
    result = rank(scores, utilities, weights, [(name,) for name in names])
    return result, {i: place for place, i in enumerate(result.order)}


def dominates(a, b) -> bool:
    a = np.where(np.isnan(a), -np.inf, a)
    b = np.where(np.isnan(b), -np.inf, b)
    return bool((a >= b).all() and (a > b).any())


@given(tables(min_rows=2))
def test_a_dominating_candidate_never_ranks_below_the_one_it_dominates(table):
    utilities, weights, kinds = table
    _, place = ranked(utilities, weights, kinds)
    for i in range(len(utilities)):
        for k in range(len(utilities)):
            if dominates(utilities[i], utilities[k]):
                assert place[i] < place[k], (utilities[i], utilities[k])


@given(tables(), st.data())
def test_improving_one_criterion_never_lowers_a_rank(table, data):
    utilities, weights, kinds = table
    i = data.draw(st.integers(0, len(utilities) - 1))
    j = data.draw(st.integers(0, utilities.shape[1] - 1))
    before = utilities[i, j]
    ceiling = 0.0 if kinds[j].startswith("match") else 2e6
    if np.isnan(before):  # a missing value gained: any value at all
        better = data.draw(st.floats(-1e6, ceiling, allow_nan=False))
    else:
        better = data.draw(st.floats(before, ceiling, allow_nan=False)) if before <= ceiling else before
    assume(np.isnan(before) or better >= before)
    improved = utilities.copy()
    improved[i, j] = better
    _, place_before = ranked(utilities, weights, kinds)
    _, place_after = ranked(improved, weights, kinds)
    assert place_after[i] <= place_before[i]


@given(tables(), st.randoms())
def test_the_ranking_does_not_depend_on_the_order_of_the_candidates(table, random):
    utilities, weights, kinds = table
    names = [f"m{i:03d}" for i in range(len(utilities))]
    result, _ = ranked(utilities, weights, kinds, names)
    shuffled = list(range(len(utilities)))
    random.shuffle(shuffled)
    again, _ = ranked(utilities[shuffled], weights, kinds, [names[i] for i in shuffled])
    assert [names[i] for i in result.order] == [names[shuffled[i]] for i in again.order]
    assert np.allclose(np.sort(result.totals), np.sort(again.totals))


@given(tables())
def test_scores_lie_in_the_unit_interval_and_a_missing_value_has_none(table):
    utilities, weights, kinds = table
    result, _ = ranked(utilities, weights, kinds)
    present = ~np.isnan(utilities)
    assert ((result.scores[present] >= 0) & (result.scores[present] <= 1)).all()
    assert np.isnan(result.scores[~present]).all()
    assert ((result.totals >= -1e-12) & (result.totals <= 1 + 1e-12)).all()


@given(tables())
def test_the_pareto_front_is_exactly_the_non_dominated_candidates(table):
    utilities, weights, kinds = table
    result, _ = ranked(utilities, weights, kinds)
    for i in range(len(utilities)):
        dominated = any(dominates(utilities[k], utilities[i]) for k in range(len(utilities)) if k != i)
        assert bool(result.pareto[i]) is not dominated


def test_weights_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        rank(np.array([[1.0]]), np.array([[1.0]]), [0.0], [("a",)])


def test_scores_are_ratios_to_the_best_and_a_match_scores_its_distance_alone():
    result, _ = ranked(np.array([[4.0], [1.0], [2.0]]), [1.0], ["max"])
    assert result.order == [0, 2, 1]
    assert result.totals.tolist() == [1.0, 0.25, 0.5]
    lowest = scores_of("min", np.array([-4.0, -1.0, -2.0]))  # min objectives' utilities are negated values
    assert lowest.tolist() == [0.25, 1.0, 0.5]
    assert scores_of("match", np.array([0.0, -1.0, np.nan]), Span(3.0, 30.0))[:2].tolist() == [1.0, 0.1]
    assert pareto_front(np.array([[3.0], [1.0]]), [0, 1]).tolist() == [True, False]


spans = st.tuples(st.one_of(st.none(), values), st.one_of(st.none(), values)).filter(
    lambda s: s[0] is None or s[1] is None or s[0] <= s[1]
)


@given(spans, st.sampled_from(["max", "min"]))
def test_worst_case_never_scores_above_best_case(span, kind):
    worst = utility(kind, Span(*span), "worst").utility
    best = utility(kind, Span(*span), "best").utility
    middle = utility(kind, Span(*span), "midpoint").utility
    if worst is not None:
        assert best is not None and worst <= best
        assert middle is not None and worst <= middle <= best


def test_an_unbounded_worse_end_has_no_worst_case_but_a_bound_stands_in_for_best():
    upper_bound_only = Span(None, 300.0)  # "< 300 MPa"
    assert utility("max", upper_bound_only, "worst").utility is None
    assert utility("max", upper_bound_only, "best").utility == 300.0
    lower_bound_only = Span(240.0, None)  # "≥ 240 MPa"
    assert utility("max", lower_bound_only, "worst").utility == 240.0
    assert utility("min", lower_bound_only, "worst").utility is None


@given(spans, spans, st.sampled_from(["worst", "best", "midpoint"]))
def test_a_match_scores_zero_distance_at_best_and_never_positive(span, target, policy):
    assume(target != (None, None))
    scored = utility("match", Span(*span), policy, Span(*target)).utility
    if scored is not None:
        assert scored <= 0


def test_match_distance_is_in_decades_for_a_positive_target():
    target = Span(3.0, 30.0)
    assert distance(20.0, target) == 0
    assert math.isclose(distance(300.0, target), 1.0)
    assert math.isclose(distance(0.3, target), 1.0)
    assert utility("match", Span(45.0, 300.0), "worst", target).utility == pytest.approx(-1.0)
    assert utility("match", Span(20.0, 300.0), "best", target).utility == 0
    assert distance(-5.0, Span(-2.0, 2.0)) == 3.0  # a target reaching zero: in the unit


def test_a_candidates_measurements_are_reduced_by_the_policy():
    assert choose([3.0, 1.0, 2.0], "worst") == 1
    assert choose([3.0, 1.0, 2.0], "best") == 0
    assert choose([3.0, 1.0, 2.0], "midpoint") == 2
    assert choose([1.0, 1.0], "best") == 0
