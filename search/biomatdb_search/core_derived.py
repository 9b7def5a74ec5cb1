"""Derived filters and sorts in SQL (SQLite, PostgreSQL): ``biomatdb.indices``' arithmetic on
measurement rows of the relational core.

Not a backend: every backend answers derived filters from the core (the SQL backend in its own
query, Elasticsearch as it answers chemistry from the RDKit index), so the one rule lives here.

A material matches ``youngs_modulus / density > 25 GPa/(g/cm^3)`` when some combination of one
measurement of each of the index's properties (any pair: docs/search.md, "Derived properties")
gives a derived interval that meets the asked one (lies within it, for ``match=certain``): an
``EXISTS`` over the measurements of the first property joined, on the material, to those of the
others. Each term's ends are ``biomatdb.indices.term_ends`` written as ``CASE`` expressions,
every power guarded so that no database is asked the root of a negative number or to divide by 0
(PostgreSQL refuses both, whatever the rest of the row says).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, null, or_, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from biomatdb.indices import Index, index_of_terms
from biomatdb.models import QUALITATIVE, Material, Measurement
from biomatdb_search.derived import SHOWN_COMBINATIONS, shown_derived_filters
from biomatdb_search.model import DerivedFilter, DerivedValue, Query, Sort


def _power(x, exponent: float) -> ColumnElement:
    """``biomatdb.indices.power`` in SQL, for ``x > 0`` (NULL otherwise)."""
    if exponent == 1:
        value = x
    elif exponent == -1:
        value = literal(1.0) / x
    elif exponent == 0.5:
        value = func.sqrt(x)
    elif exponent == -0.5:
        value = literal(1.0) / func.sqrt(x)
    else:
        value = func.power(x, literal(float(exponent)))
    return case((x > 0, value), else_=null())


class Term:
    """One term of an index over one alias of ``measurements``: its derived ends, open flags, and
    whether the row can enter the index (a value, an interval reaching above 0)."""

    def __init__(self, property_key: str, exponent: float, name: str, uncertainty: str = "point") -> None:
        m = aliased(Measurement, name=name)
        self.row = m
        self.property_key = property_key
        low: ColumnElement[float | None] | InstrumentedAttribute[float | None] = m.value_min
        high: ColumnElement[float | None] | InstrumentedAttribute[float | None] = m.value_max
        if uncertainty == "interval":  # v ± u as [v − u, v + u], as ``biomatdb_search.core_sql.uncertain_ends``
            spread = func.abs(func.coalesce(m.uncertainty, 0.0))
            low, high = low - spread, high + spread
        low_open_src, high_open_src = m.qualifier == ">", m.qualifier == "<"
        floor = or_(low.is_(None), low <= 0)
        unbounded = high.is_(None)
        self.usable = and_(m.property_key == property_key, m.qualifier != QUALITATIVE, or_(high.is_(None), high > 0))
        if exponent > 0:
            self.low = case((floor, literal(0.0)), else_=_power(low, exponent))
            self.high = _power(high, exponent)
            self.low_open = or_(floor, low_open_src)
            self.high_open = high_open_src
        else:
            self.low = case((unbounded, literal(0.0)), else_=_power(high, exponent))
            self.high = case((floor, null()), else_=_power(low, exponent))
            self.low_open = or_(unbounded, high_open_src)
            self.high_open = low_open_src


class Combination:
    """Every combination of one usable measurement per term of ``node``, as a FROM clause, with
    the product's ends (``biomatdb.indices.product_ends``); with ``uncertainty="interval"`` each
    input ``v ± u`` enters as [v − u, v + u]."""

    def __init__(self, terms: tuple[tuple[str, float], ...], uncertainty: str = "point") -> None:
        self.terms = [Term(key, exponent, f"derived_m{i}", uncertainty) for i, (key, exponent) in enumerate(terms)]
        first = self.terms[0]
        self.material_id = first.row.material_id
        low: ColumnElement = first.low
        high: ColumnElement = first.high
        low_open, high_open = first.low_open, first.high_open
        for term in self.terms[1:]:
            low, high = low * term.low, high * term.high  # NULL (unbounded) stays NULL
            low_open, high_open = or_(low_open, term.low_open), or_(high_open, term.high_open)
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open

    def rows(self, *columns) -> Select:
        """``SELECT columns`` over the combinations (joined on the material), usable rows only."""
        first, *rest = self.terms
        statement = select(*columns).select_from(first.row)
        for term in rest:
            statement = statement.join(term.row, term.row.material_id == first.row.material_id)
        return statement.where(*(term.usable for term in self.terms))

    def sort_key(self, descending: bool) -> ColumnElement:
        """Per combination, the end a sort by the index orders by: ascending its low end, descending its
        high end; an end the arithmetic leaves open to 0 or to ∞ gives way to the other end (as a
        property's bound gives way to its value), and a combination with neither known counts as missing."""
        if descending:
            return case((self.high.is_not(None), self.high), (self.low > 0, self.low), else_=null())
        return case((self.low > 0, self.low), else_=self.high)


def combination_matches(combination: Combination, node: DerivedFilter, match: str) -> ColumnElement[bool]:
    """The combination's derived interval meets the asked one (lies within it, for ``match=certain``),
    by the SQL backend's rule for a measurement's interval."""
    from biomatdb_search.core_sql import ends_intersect, ends_within

    test = ends_within if match == "certain" else ends_intersect
    return test(node.interval, combination.low, combination.high, combination.low_open, combination.high_open)


def derived_exists(node: DerivedFilter, match: str, uncertainty: str = "point") -> ColumnElement[bool]:
    """``derived_comparison``/``derived_interval``: some combination of the material's measurements
    meets the asked interval (lies within it, for ``match=certain``); ``uncertainty="interval"``:
    the interval propagated from inputs ``v ± u`` read as [v − u, v + u]."""
    combination = Combination(node.terms, uncertainty)
    holds = combination_matches(combination, node, match)
    return exists(combination.rows(literal(1)).where(combination.material_id == Material.id, holds))


def derived_sort_value(terms: tuple[tuple[str, float], ...], descending: bool) -> ColumnElement:
    """Each material's lowest (ascending) or highest (descending) sort key over its combinations, NULL
    without one: a scalar subquery correlated to ``materials``."""
    combination = Combination(terms)
    extreme = func.max if descending else func.min
    return (
        combination.rows(extreme(combination.sort_key(descending)))
        .where(combination.material_id == Material.id)
        .correlate(Material)
        .scalar_subquery()
    )


def _combination_order(combination: Combination, certain, sort: Sort | None) -> tuple:
    """Which of a material's combinations a hit shows first: certain ones; under a derived sort,
    the one the material is sorted by (the highest, or the lowest)."""
    if sort is None:
        return (certain.desc(),)
    key = combination.sort_key(sort.descending)
    return (key.desc(),) if sort.descending else (key.asc(),)


def derived_values(connection, page_ids: list[int], query: Query) -> dict[int, list[DerivedValue]]:
    """For each page material, the combinations of its measurements that met each derived filter of
    the query (not under NOT), and under a derived sort those of its index (``shown_derived_filters``), certain ones first, at most ``SHOWN_COMBINATIONS`` per filter, each
    with its input measurements and their sources (canonical values: ``biomatdb_search.display`` shows them)."""
    from biomatdb_search.core_sql import measurement_rows

    found: dict[int, list[DerivedValue]] = defaultdict(list)
    filters = shown_derived_filters(query)
    if not page_ids or not filters:
        return found
    pending: list[tuple[int, DerivedFilter, Index, tuple, bool, list[int]]] = []
    for node, sort in filters:
        index = index_of_terms(node.terms)
        combination = Combination(node.terms, query.uncertainty)
        certain = case((combination_matches(combination, node, "certain"), 1), else_=0)
        ids = [term.row.id for term in combination.terms]
        statement = (
            combination.rows(
                combination.material_id,
                certain,
                combination.low,
                combination.high,
                case((combination.low_open, 1), else_=0),
                case((combination.high_open, 1), else_=0),
                *ids,
            )
            .where(combination.material_id.in_(page_ids), combination_matches(combination, node, query.match))
            .order_by(combination.material_id, *_combination_order(combination, certain, sort), *ids)
        )
        shown: dict[int, int] = defaultdict(int)
        for material_id, is_certain, low, high, low_open, high_open, *inputs in connection.execute(statement):
            if shown[material_id] == SHOWN_COMBINATIONS:
                continue
            shown[material_id] += 1
            pending.append(
                (material_id, node, index, (low, high, bool(low_open), bool(high_open)), bool(is_certain), inputs)
            )
    rows = measurement_rows(connection, sorted({i for *_, inputs in pending for i in inputs}))
    for material_id, _node, index, (low, high, low_open, high_open), is_certain, inputs in pending:
        found[material_id].append(
            DerivedValue(
                index=index.key,
                expression=index.expression,
                name=index.name,
                value_min=low,
                value_max=high,
                low_open=low_open,
                high_open=high_open and high is not None,
                unit=index.unit_canonical,
                value_canonical_min=low,
                value_canonical_max=high,
                unit_canonical=index.unit_canonical,
                certainty="certain" if is_certain else "possible",
                inputs=[rows[i] for i in inputs],
            )
        )
    return found
