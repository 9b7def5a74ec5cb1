"""A filter as a chain of clauses joined by AND, for pages that add a clause to it and take it
out again (a facet switched on and off).

Clauses are compared as the filter language reads them (``biomatdb_search.parser``: the grammar's tree,
then the query model), never as text: ``class=metal``, ``class = "metal"``, ``CLASS = 'metal'``
and ``class = metals`` (an alias) are one clause. Only the AND chain at the top of a filter is
looked into; a clause inside an OR or under NOT does not narrow the filter by itself, so it is
not "in" it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lark import Tree

from biomatdb.errors import QueryError
from biomatdb_search.model import Filter
from biomatdb_search.parser import node_of, parse_tree

#: Rules whose text, joined to others by AND, needs parentheses to keep its meaning: an OR,
#: and a WHERE (whose conditions would run on into the next clause).
_GROUPED = frozenset({"or_", "qualified"})


@dataclass(frozen=True, slots=True)
class Clause:
    """One link of a filter's top AND chain: its text as written, its model node (None where
    a name, unit or value in it is unknown), and whether it needs parentheses among others."""

    text: str
    node: Filter | None
    grouped: bool


def clauses(filter_text: str) -> list[Clause] | None:
    """The links of ``filter_text``'s top AND chain, in order (parentheses around an AND are
    looked through: ``(a AND b) AND c`` is three). None where the text is not a filter's syntax;
    an empty list for an empty text."""
    if not filter_text.strip():
        return []
    try:
        tree = parse_tree(filter_text)
    except QueryError:
        return None
    found, pending = [], [tree]
    while pending:
        current = pending.pop()
        if current.data == "and_":  # its children are rules: the grammar drops the AND
            pending.extend(reversed(current.children))
            continue
        text = filter_text[current.meta.start_pos : current.meta.end_pos]
        found.append(Clause(text=text, node=_node(current), grouped=_needs_group(current)))
    return found


def has_clause(filter_text: str, clause: str) -> bool:
    """Whether ``filter_text`` is narrowed by ``clause``: it is one link of the top AND chain
    (or the whole filter), however it is spelt."""
    return any(_same(link, clause) for link in clauses(filter_text) or [])


def with_clause(filter_text: str, clause: str) -> str:
    """``filter_text`` narrowed by ``clause``; an OR or a WHERE at the top is kept together in
    parentheses."""
    written = filter_text.strip()
    if not written:
        return clause
    links = clauses(written)
    # an OR or WHERE before the end of the chain stands in parentheses already
    if not links or links[-1].grouped:
        return f"({written}) AND {clause}"
    return f"{written} AND {clause}"


def without_clause(filter_text: str, clause: str) -> str | None:
    """``filter_text`` with every copy of ``clause`` taken out of its top AND chain, the rest as
    written (``""`` when nothing is left). None where the clause is no link of that chain
    (inside an OR, under NOT, or not there at all)."""
    links = clauses(filter_text)
    if not links or not any(_same(link, clause) for link in links):
        return None
    return _joined([link for link in links if not _same(link, clause)])


@lru_cache(maxsize=512)
def clause_node(clause: str) -> Filter | None:
    """The model node of a clause a page writes (a facet value's); None where it does not read
    as a filter (a value the vocabulary no longer knows), which is then matched as written."""
    try:
        return node_of(parse_tree(clause))
    except QueryError:
        return None


def _same(link: Clause, clause: str) -> bool:
    wanted = clause_node(clause)
    if wanted is not None:
        return link.node == wanted
    return link.node is None and link.text.split() == clause.split()


def _joined(links: list[Clause]) -> str:
    if len(links) == 1:
        return links[0].text
    return " AND ".join(f"({link.text})" if link.grouped else link.text for link in links)


def _node(tree: Tree) -> Filter | None:
    try:
        return node_of(tree)
    except QueryError:
        return None


def _needs_group(tree: Tree) -> bool:
    """Whether the clause's text holds an OR or a WHERE outside parentheses: its own rule, or
    under the NOTs before it (``NOT has x WHERE medium = PBS``)."""
    while tree.data == "not_" and isinstance(tree.children[0], Tree):
        tree = tree.children[0]
        if tree.data == "qualified":
            return True
        # NOT (a OR b): the NOT's text ends at the closing paren, whole as it is
        if tree.data == "or_":
            return False
    return tree.data in _GROUPED
