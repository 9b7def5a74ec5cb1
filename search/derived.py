"""What every backend shares about derived properties (``biomatdb.indices``): which sort keys name
an index, which derived filters of a tree a hit shows, and how many of a material's combinations
of measurements it shows."""

from __future__ import annotations

from functools import cache

from biomatdb.errors import QueryError, VocabularyError
from biomatdb.indices import Index, parse_expression
from search.model import And, DerivedFilter, Filter, Not, Or, Sort

#: Most combinations of measurements a hit shows per derived filter (certain ones first).
SHOWN_COMBINATIONS = 5

_SORTS = ("name", "relevance", "similarity")


@cache
def sort_index(key: str) -> Index | None:
    """The index a sort key names (``specific_stiffness``, ``tensile_strength/density``), or None
    for a property or a built-in order."""
    from biomatdb.vocabulary import get_vocabulary

    if key in _SORTS or get_vocabulary().find_property(key) is not None:
        return None
    try:
        return parse_expression(key)
    except VocabularyError:
        return None


def resolve_sort(sort: Sort | None) -> Sort | None:
    """``sort`` with its key resolved: a property's key, or an index's (a named one's key, an
    expression as :func:`biomatdb.indices.expression_text` writes it); anything else is refused."""
    if sort is None or sort.key in _SORTS:
        return sort
    from biomatdb.vocabulary import get_vocabulary

    found = get_vocabulary().find_property(sort.key)
    if found is not None:
        return Sort(key=found.key, descending=sort.descending)
    try:
        index = parse_expression(sort.key)
    except VocabularyError as exc:
        raise QueryError(
            f"cannot sort by {sort.key!r}: {exc.message}; sort by name, relevance, similarity, a property key, "
            "a derived index (specific_stiffness) or an expression (tensile_strength/density)",
            type="unknown-property",
        ) from exc
    return Sort(key=index.key, descending=sort.descending)


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
