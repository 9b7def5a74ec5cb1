"""What every backend shares about derived properties (``biomatdb.indices``): which sort keys name
an index, which derived filters of a tree a hit shows, and how many of a material's combinations
of measurements it shows."""

from __future__ import annotations

from functools import cache

from biomatdb.errors import VocabularyError
from biomatdb.indices import Index, parse_expression
from biomatdb_search.contract import BUILT_IN_SORTS
from biomatdb_search.model import And, DerivedFilter, Filter, Not, Or, Query, Sort

#: Most combinations of measurements a hit shows per derived filter (certain ones first).
SHOWN_COMBINATIONS = 5


@cache
def sort_index(key: str) -> Index | None:
    """The index a sort key names (``specific_stiffness``, ``tensile_strength/density``), or None
    for a property or a built-in order."""
    from biomatdb.vocabulary import get_vocabulary

    if key in BUILT_IN_SORTS or get_vocabulary().find_property(key) is not None:
        return None
    try:
        return parse_expression(key)
    except VocabularyError:
        return None


def positive_derived_filters(node: Filter | None, negated: bool = False) -> list[DerivedFilter]:
    """The derived filters whose combinations a hit shows (those not under NOT), each once."""
    if node is None:
        return []
    if isinstance(node, (And, Or)):
        found = [f for item in node.items for f in positive_derived_filters(item, negated)]
        return list(dict.fromkeys(found))
    if isinstance(node, Not):
        return positive_derived_filters(node.item, not negated)
    return [node] if isinstance(node, DerivedFilter) and not negated else []


def shown_derived_filters(query: Query) -> list[tuple[DerivedFilter, Sort | None]]:
    """The derived values a hit shows: each derived filter of the query not under NOT, and under a
    derived sort (``-specific_stiffness``) its index over every value, unless a filter names it,
    so that a page sorted by an index shows each hit's value and inputs. Each with the sort that
    orders its combinations (the sort's, for the sort's index; None: certain ones first)."""
    found: list[tuple[DerivedFilter, Sort | None]] = [(node, None) for node in positive_derived_filters(query.filter)]
    index = sort_index(query.sort.key) if query.sort is not None else None
    if index is not None and not any(node.terms == index.terms for node, _ in found):
        found.append((DerivedFilter(index=index.key, terms=index.terms), query.sort))
    return found
