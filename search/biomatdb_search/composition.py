"""Composition filters as the filter language writes them: the grammar's ``contains``,
``composition`` and ``composition_interval`` rules (``search/biomatdb_search/grammar/filter_v1.lark``) turned
into ``Contains`` and ``ElementContent`` nodes, refusals pointing at their position.

What the nodes mean, and what each backend must answer alike, is in docs/search.md
("Composition"); the element contents they compare are derived by ``biomatdb.elements``.
"""

from __future__ import annotations

import math

from lark import Token

from biomatdb.elements import ELEMENTS, WHOLE, element_symbol
from biomatdb.errors import QueryError
from biomatdb.suggest import closest, did_you_mean, labels_of
from biomatdb_search.model import Contains, ElementContent, Filter, Interval, Or

COMPOSITION_UNITS = {
    "wt%": "wt",
    "wt.%": "wt",
    "mass%": "wt",
    "at%": "at",
    "at.%": "at",
    "mol%": "at",  # a mole of an element is a mole of its atoms
}
"""The units a composition filter takes, folded to lower case → the basis compared."""

EXPECTED_UNITS = ["wt%", "at%"]

_ELEMENT_LABELS = labels_of(ELEMENTS, fold=str.casefold)


def element(token: Token) -> str:
    """The element symbol a ``NAME`` token is (case aside); an unknown one is refused."""
    found = element_symbol(str(token))
    if found is not None:
        return found
    suggestions = closest(str(token), _ELEMENT_LABELS, fold=str.casefold)
    raise QueryError(
        f"unknown element {str(token)!r}: an element is named by its symbol (Ni, Ca, Ti){did_you_mean(suggestions)}",
        type="unknown-element",
        position=token.start_pos,
        expected=suggestions or ["an element symbol"],
    )


Unit = tuple[str, int]
"""A unit as written and where it starts in the filter."""


def basis(unit: Unit | None, after: Token, symbol: str) -> str:
    """The basis the unit names; a missing, bare-``%`` or other unit is refused at its place."""
    example = f"e.g. composition.{symbol} < 1 wt%"
    if unit is None:
        raise QueryError(
            f"composition.{symbol} needs its unit, wt% (by mass) or at% (by atoms), {example}",
            type="unit-error",
            position=after.end_pos,
            expected=EXPECTED_UNITS,
        )
    written, start = unit
    found = COMPOSITION_UNITS.get(written.replace(" ", "").lower())
    if found is not None:
        return found
    if written.strip() == "%":
        reason = "% alone does not say by mass or by atoms"
    elif written.replace(" ", "").lower().startswith(("vol", "v/v")):
        reason = "volume fractions are not compared: an element's content is known by mass or by atoms only"
    else:
        reason = f"{written} is not a composition unit"
    raise QueryError(
        f"{reason}; write wt% or at%, {example}",
        type="unit-error",
        position=start,
        expected=EXPECTED_UNITS,
    )


def percent(token: Token) -> float:
    """A content in percent, 0 to 100."""
    value = float(str(token).replace("−", "-"))
    if not math.isfinite(value) or not 0 <= value <= WHOLE:
        raise QueryError(
            f"an element's content is a percentage from 0 to 100, not {token!s}",
            type="invalid-number",
            position=token.start_pos,
            expected=["a number from 0 to 100"],
        )
    return value


def contains(name: Token) -> Contains:
    """``contains: _CONTAINS "(" NAME ")"``."""
    return Contains(element=element(name))


def comparison(name: Token, op: str, number: Token, unit: Unit | None) -> Filter:
    """``composition: _COMPOSITION_OF NAME OP NUMBER unit?``; ``!=`` is below or above."""
    symbol = element(name)
    on = basis(unit, number, symbol)
    asked = percent(number)
    if op == "!=":
        return Or(
            items=(
                ElementContent(element=symbol, basis=on, interval=Interval(high=asked, high_open=True)),  # type: ignore[arg-type]
                ElementContent(element=symbol, basis=on, interval=Interval(low=asked, low_open=True)),  # type: ignore[arg-type]
            )
        )
    interval = {
        "=": Interval(low=asked, high=asked),
        "<": Interval(high=asked, high_open=True),
        "<=": Interval(high=asked),
        ">": Interval(low=asked, low_open=True),
        ">=": Interval(low=asked),
    }[op]
    return ElementContent(element=symbol, basis=on, interval=interval)  # type: ignore[arg-type]


def interval(name: Token, low_token: Token, high_token: Token, unit: Unit | None) -> ElementContent:
    """``composition_interval: _COMPOSITION_OF NAME _IN NUMBER _RANGE NUMBER unit?``: closed."""
    symbol = element(name)
    on = basis(unit, high_token, symbol)
    low, high = percent(low_token), percent(high_token)
    if low > high:
        raise QueryError(
            f"empty interval: {low_token!s} is above {high_token!s}; write the lower end first",
            type="empty-interval",
            position=low_token.start_pos,
            expected=[f"a number up to {high_token!s}"],
        )
    return ElementContent(element=symbol, basis=on, interval=Interval(low=low, high=high))  # type: ignore[arg-type]
