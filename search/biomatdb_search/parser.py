"""The filter language: the text a user types in, one ``biomatdb_search.model`` node out.

The grammar is ``search/biomatdb_search/grammar/filter_v1.lark`` (LALR, contextual lexer); the
``_ToModel`` transformer below has one method per grammar rule. Every property value
leaves here in its property's canonical unit, every class and application as its
vocabulary key, so that backends never see a unit or an alias.

Whatever is wrong with the text ends as a ``QueryError`` with the 0-based ``position``
where the problem starts and, where it can be said, what would have been ``expected``
there: syntax, unknown names, units, numbers, structures.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TypeGuard, cast

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.visitors import Transformer_NonRecursive

from biomatdb.errors import QueryError, StructureError, UnitError, VocabularyError
from biomatdb.evidence import find_kind, get_evidence_vocabulary
from biomatdb.indices import Index, index_of_terms, load_indices
from biomatdb.suggest import closest, did_you_mean, or_list
from biomatdb.units import conversion
from biomatdb.vocabulary import Property, get_vocabulary, normalise_label
from biomatdb.vocabulary.conditions import CONDITION_FIELDS, CONDITION_TEMPERATURE, load_conditions
from biomatdb.vocabulary.test_systems import load_test_systems
from biomatdb_search import composition as _composition
from biomatdb_search.model import (
    DEFAULT_SIMILARITY,
    And,
    CompareOp,
    Condition,
    ConditionField,
    DerivedFilter,
    EqualityOp,
    Evidence,
    EvidenceCondition,
    EvidenceField,
    FieldFilter,
    Filter,
    HasProperty,
    Interval,
    MaterialField,
    Not,
    Or,
    PropertyFilter,
    Similarity,
    Substructure,
)

GRAMMAR = "grammar/filter_v1.lark"

MAX_DEPTH = 32
#: Most conditions one filter may hold: each is a subquery, and the database's time grows with their count.
MAX_CONDITIONS = 50
"""How deeply AND, OR and NOT may nest (after flattening); deeper filters are refused,
since every backend translates them recursively."""

FIELD_NAMES: dict[str, MaterialField] = {
    "class": "class",
    "material_class": "class",
    "application": "application",
    "biodegradable": "biodegradable",
    "origin": "origin",
    "dataset": "dataset",
    "id": "id",
}
"""A material's own fields as a filter names them → ``FieldFilter.field``."""

CONDITION_NAMES: dict[str, ConditionField] = {
    "temperature": "temperature",
    "medium": "medium",
    "method": "method",
    "standard": "standard",
    "specimen_state": "specimen_state",
    "state": "specimen_state",
    "dataset": "dataset",
    "source": "source",
}
"""What a WHERE condition may name → ``Condition.field``."""

_FIELDS = {normalise_label(name): field for name, field in FIELD_NAMES.items()}
_CONDITIONS = {normalise_label(name): field for name, field in CONDITION_NAMES.items()}

ORIGINS = ("natural", "synthetic")
BOOLEANS = {"true": True, "yes": True, "false": False, "no": False}
TEXT_OPS = ("=", "!=")
_OPS = {"==": "=", "≠": "!=", "≤": "<=", "≥": ">="}

# WHERE temperature is compared in kelvin; the units layer converts it as a temperature.
_TEMPERATURE = CONDITION_TEMPERATURE

_TERMINALS = {
    "_AND": "AND",
    "_OR": "OR",
    "_NOT": "NOT",
    "WHERE": "WHERE",
    "_IN": "in",
    "_HAS": "has",
    "_SUBSTRUCTURE": 'substructure("…")',
    "_SIMILARITY": 'similarity("…")',
    "_EVIDENCE": "evidence(…)",
    "_CONTAINS": "contains(…)",
    "_COMPOSITION_OF": "composition.ELEMENT",
    "_RANGE": "..",
    "OP": "a comparison (= != < <= > >=)",
    "NUMBER": "a number",
    "UNIT": "a unit",
    "UNIT_GROUPED": "a unit",
    "MULDIV": "* or /",
    "_POW": "^",
    "STRING": "quoted text",
    "LPAR": "(",
    "RPAR": ")",
    "$END": "the end of the filter",
}
_RDKIT_LOG_STAMP = re.compile(r"^\[\d\d:\d\d:\d\d\]\s?")
_RDKIT_POSITION = re.compile(r"around position (\d+)")


@cache
def filter_parser() -> Lark:
    """The LALR parser of the filter grammar, built once per process on first use; its trees
    know where in the text each rule stands (``meta.start_pos``/``end_pos``, ``biomatdb_search.clauses``)."""
    grammar = resources.files("biomatdb_search").joinpath(GRAMMAR).read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True)


def parse_tree(text: str) -> Tree:
    """The grammar's parse tree of ``text``; raises ``QueryError`` for a syntax error (names,
    units and values are not looked at: that is ``node_of``)."""
    try:
        return filter_parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None


def node_of(tree: Tree) -> Filter:
    """The query-model node of a parse tree (or of one of its subtrees), values in canonical
    units; raises ``QueryError`` for an unknown name, unit or value."""
    try:
        return cast(Filter, _Chain.close(_ToModel().transform(tree)))
    except VisitError as exc:
        if isinstance(exc.orig_exc, QueryError):
            raise exc.orig_exc from None
        raise


def parse_filter(text: str) -> Filter:
    """Parse filter ``text`` into a query-model node, values in canonical units.

    Raises ``QueryError`` (with ``position`` and ``expected``) for anything it cannot
    read as asked; it never guesses a unit, a property or a class.
    """
    if not text.strip():
        raise QueryError(
            "the filter is empty",
            type="syntax-error",
            position=0,
            expected=_expected_names(
                {"NAME", "_HAS", "_NOT", "LPAR", "_SUBSTRUCTURE", "_SIMILARITY", "_CONTAINS", "_COMPOSITION_OF"}
            ),
        )
    node = node_of(parse_tree(text))
    depth, conditions = _shape(node)
    if depth > MAX_DEPTH:
        raise QueryError(
            f"the filter nests more than {MAX_DEPTH} levels deep (NOT, AND, OR and parens)",
            type="too-complex",
            position=0,
        )
    if conditions > MAX_CONDITIONS:
        raise QueryError(
            f"the filter has {conditions} conditions; at most {MAX_CONDITIONS} are answered "
            f"(a range such as 'youngs_modulus in 1..3 GPa' replaces many ORs)",
            type="too-complex",
            position=0,
        )
    return node


def _shape(node: Filter) -> tuple[int, int]:
    """How deeply ``node`` nests and how many conditions it holds, counted without recursion
    (the text may nest thousands deep)."""
    deepest, conditions, pending = 0, 0, [(node, 1)]
    while pending:
        current, depth = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(current, (And, Or)):
            pending.extend((item, depth + 1) for item in current.items)
        elif isinstance(current, Not):
            pending.append((current.item, depth + 1))
        else:
            conditions += 1
    return deepest, conditions


# --- syntax errors -----------------------------------------------------------------------


def _syntax_error(text: str, exc: UnexpectedInput) -> QueryError:
    if isinstance(exc, UnexpectedCharacters):
        position = _known(exc.pos_in_stream)
        if text[position] in "\"'":
            return QueryError(
                f"unclosed quote at position {position}; end the text with {text[position]}",
                type="syntax-error",
                position=position,
                expected=[text[position]],
            )
        accepted = set(exc.allowed or ())
        found = repr(text[position])
    elif isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        position = _known(exc.token.start_pos)
        accepted = set(exc.accepts or exc.expected or ())
        found = repr(str(exc.token))
    else:  # the text ended where more was needed
        position = len(text)
        accepted = set(getattr(exc, "accepts", None) or getattr(exc, "expected", None) or ())
        found = None
    expected = _expected_names(accepted, _previous_word(text, position))
    where = (
        f"unexpected {found} at position {position}" if found else f"the filter ends too early at position {position}"
    )
    message = f"{where}; expected {or_list(expected)}" if expected else where
    if isinstance(exc, UnexpectedToken) and exc.token.type == "_OR" and "_OR" not in accepted:
        message += (
            "; conditions after WHERE run to the end of the filter or a closing paren, so put the "
            "property filter and its WHERE in parentheses: (… WHERE …) OR …"
        )
    return QueryError(message, type="syntax-error", position=position, expected=expected)


def _expected_names(accepted: set[str], previous_word: str = "") -> list[str]:
    """Terminal names as a person reads them; a bare word is named by what it would start."""
    names = []
    if "NAME" in accepted:
        if "_HAS" in accepted or previous_word == "has":
            names.append("a property or field name" if "_HAS" in accepted else "a property name")
        elif "NUMBER" not in accepted and "OP" not in accepted:  # after WHERE or its AND
            names.append(f"a condition ({', '.join(CONDITION_NAMES)})")
    names += [_TERMINALS[name] for name in sorted(accepted, key=_terminal_order) if name in _TERMINALS]
    if "NAME" in accepted and "NUMBER" in accepted and "_HAS" not in accepted:
        names.append("a word")  # a value: the number (with its unit) comes first
    return list(dict.fromkeys(names))


def _previous_word(text: str, position: int) -> str:
    found = re.search(r"(\w+)\W*$", text[:position])
    return found.group(1).casefold() if found else ""


def _terminal_order(name: str) -> int:
    order = list(_TERMINALS)
    return order.index(name) if name in order else len(order)


# --- the transformer ---------------------------------------------------------------------


@dataclass(slots=True)
class _Chain:
    """An AND or OR still growing: a long chain is built in one go, not re-validated per link."""

    kind: type[And] | type[Or]
    items: list

    @classmethod
    def join(cls, kind: type[And] | type[Or], left, right) -> _Chain:
        chain = left if isinstance(left, _Chain) and left.kind is kind else cls(kind, [cls.close(left)])
        if isinstance(right, _Chain) and right.kind is kind:
            chain.items.extend(right.items)
        else:
            chain.items.append(cls.close(right))
        return chain

    @staticmethod
    def close(node):
        """The model node for ``node``, a finished chain or already a node."""
        return node.kind(items=tuple(node.items)) if isinstance(node, _Chain) else node


@dataclass(frozen=True, slots=True)
class _Text:
    """A name or a text value and where it stands in the filter."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Quantity:
    """A number as written (``raw``), read as ``number``, with its unit if one was given."""

    number: float
    raw: str
    start: int
    end: int
    unit: _Text | None


def _words(tokens: list[Token]) -> _Text:
    first, last = tokens[0], tokens[-1]
    if first.type == "STRING":
        return _Text(first[1:-1], _known(first.start_pos), _known(first.end_pos))
    return _Text(" ".join(tokens), _known(first.start_pos), _known(last.end_pos))


def _number(token: Token) -> float:
    value = float(token.replace("−", "-"))
    if not math.isfinite(value):
        raise QueryError(
            f"{token!s} is not a finite number",
            type="invalid-number",
            position=token.start_pos,
            expected=["a finite number"],
        )
    return value


def _known(position: int | None) -> int:
    """A token's position: lark types it optional, but every token of a parse carries one."""
    return 0 if position is None else position


def _op(token: Token) -> CompareOp:
    """The grammar's operator token, spelled as the model spells it."""
    return cast(CompareOp, _OPS.get(str(token), str(token)))


def _is_equality(op: CompareOp) -> TypeGuard[EqualityOp]:
    return op in TEXT_OPS


class _ToModel(Transformer_NonRecursive):
    """Turns the parse tree into model nodes, bottom-up; each method handles one rule.

    Non-recursive, so that a long chain of ANDs is no deeper for Python than a short one.
    """

    # --- logic ---

    def or_(self, children):
        """``disjunction: disjunction _OR conjunction`` (and its open twin); flattens."""
        return _Chain.join(Or, *children)

    def and_(self, children):
        """``conjunction: conjunction _AND negation`` (and its open twin); flattens."""
        return _Chain.join(And, *children)

    def not_(self, children):
        """``negation: _NOT negation`` (and its open twin)."""
        (item,) = children
        return Not(item=_Chain.close(item))

    # --- filters ---

    def comparison(self, children):
        """``comparison: subject OP value``: a material field or a property."""
        subject, op_token, value = children
        field = _FIELDS.get(normalise_label(subject.text))
        if field is not None:
            return _field_filter(field, subject, op_token, value)
        named = _named_index(subject)
        if named is not None:
            return _derived_comparison(named, op_token, value)
        prop = _property(subject)
        if not isinstance(value, _Quantity):
            raise QueryError(
                f"{prop.key} compares with a number and a unit, e.g. {prop.key} {_op(op_token)} 1 {prop.unit}",
                type="syntax-error",
                position=value.start,
                expected=["a number"],
            )
        asked = _canonical(prop, value)
        op = _op(op_token)
        if op == "!=":
            return Or(
                items=(
                    PropertyFilter(property=prop.key, interval=Interval(high=asked, high_open=True)),
                    PropertyFilter(property=prop.key, interval=Interval(low=asked, low_open=True)),
                )
            )
        interval = {
            "=": Interval(low=asked, high=asked),
            "<": Interval(high=asked, high_open=True),
            "<=": Interval(high=asked),
            ">": Interval(low=asked, low_open=True),
            ">=": Interval(low=asked),
        }[op]
        return PropertyFilter(property=prop.key, interval=interval)

    def interval(self, children):
        """``interval: subject _IN NUMBER _RANGE NUMBER unit?``: a closed interval."""
        subject, low_token, high_token, *unit = children
        named = _named_index(subject)
        if named is not None:
            return _derived_interval(named, low_token, high_token, unit)
        prop = _property(subject)
        return PropertyFilter(property=prop.key, interval=_closed_interval(prop, low_token, high_token, unit))

    def has(self, children):
        """``has: _HAS subject``: at least one measurement of the property."""
        (subject,) = children
        return HasProperty(property=_property(subject).key)

    def qualified(self, children):
        """``qualified: (comparison | interval | has | evidence) WHERE condition (_AND condition)*``."""
        node, where_token, *raw = children
        if isinstance(node, Evidence):
            return node.model_copy(update={"where": tuple(_evidence_condition(*condition) for condition in raw)})
        where = tuple(_measurement_condition(*condition) for condition in raw)
        if isinstance(node, PropertyFilter):
            return PropertyFilter(property=node.property, interval=node.interval, where=where)
        if isinstance(node, HasProperty):
            return PropertyFilter(property=node.property, where=where)
        if isinstance(node, Or):  # `!=` on a property: both halves carry the conditions
            return Or(
                items=tuple(
                    PropertyFilter(property=item.property, interval=item.interval, where=where)
                    for item in cast(tuple[PropertyFilter, ...], node.items)
                )
            )
        raise QueryError(
            f"WHERE conditions belong to a property filter; {node.field} is a field of the material",
            type="syntax-error",
            position=where_token.start_pos,
            expected=["AND", "OR", ")", "the end of the filter"],
        )

    def condition(self, children):
        """``condition: subject OP value``; what it may name depends on the filter it qualifies,
        so ``qualified`` reads it (``_measurement_condition``, ``_evidence_condition``)."""
        subject, op_token, value = children
        return (subject, op_token, value)

    # --- biological evaluation ---

    def evidence(self, children):
        """``evidence: _EVIDENCE "(" subject ")" (OP text)?``: an endpoint, and an outcome of it."""
        subject, *compared = children
        vocabulary = get_evidence_vocabulary()
        endpoint = vocabulary.find_endpoint(subject.text)
        if endpoint is None:
            suggestions = vocabulary.closest_endpoints(subject.text)
            raise QueryError(
                f"unknown endpoint {subject.text!r}{did_you_mean(suggestions)}",
                type="unknown-endpoint",
                position=subject.start,
                expected=suggestions or list(vocabulary.endpoints),
            )
        if not compared:
            return Evidence(endpoint=endpoint.key)
        op_token, value = compared
        op = _op(op_token)
        if not _is_equality(op):
            raise _text_op_error(f"evidence({endpoint.key})", op_token)
        text = _as_text(value)
        outcome = vocabulary.find_outcome(text)
        if outcome is None or not outcome.states(endpoint.key):
            suggestions = vocabulary.closest_outcomes(text, endpoint.key)
            what = "unknown outcome" if outcome is None else f"{outcome.key!r} is not an outcome of {endpoint.key}:"
            raise QueryError(
                f"{what} {text!r}{did_you_mean(suggestions)}" if outcome is None else f"{what} {text!r}",
                type="unknown-outcome",
                position=value.start,
                expected=suggestions,
            )
        return Evidence(endpoint=endpoint.key, outcome=outcome.key, outcome_op=op)

    # --- derived properties (biomatdb/indices.py) ---

    def derived_comparison(self, children):
        """``derived_comparison: derived OP quantity``: the index compared with a quantity of its dimension."""
        index, op_token, value = children
        return _derived_comparison(index, op_token, value)

    def derived_interval(self, children):
        """``derived_interval: derived _IN NUMBER _RANGE NUMBER unit?``: a closed interval of the index."""
        index, low_token, high_token, *unit = children
        return _derived_interval(index, low_token, high_token, unit)

    def derived(self, children):
        """``derived: powered | factor (MULDIV factor)+``: the properties, each to its power, as an index."""
        children = [self.factor([child]) if isinstance(child, tuple) else child for child in children]
        terms: list[tuple[str, float]] = []
        sign, start = 1.0, None
        for child in children:
            if isinstance(child, Token):
                sign = 1.0 if str(child) in ("*", "·") else -1.0
                continue
            subject, power = child
            start = subject.start if start is None else start
            terms.append((_property(subject).key, sign * power))
        try:
            return index_of_terms(terms)
        except VocabularyError as exc:
            raise QueryError(exc.message, type="invalid-index", position=start, expected=[]) from None

    def factor(self, children):
        """``factor: subject | powered``: a property and its power (1 when none is written)."""
        (child,) = children
        return child if isinstance(child, tuple) else (child, 1.0)

    def powered(self, children):
        """``powered: subject _POW exponent``: a property to a power."""
        subject, power = children
        return subject, power

    def exponent(self, children):
        """``exponent: NUMBER | "(" NUMBER MULDIV NUMBER ")"``: a number, or a fraction such as (1/3)."""
        if len(children) == 1:
            return _number(children[0])
        numerator, operator, denominator = children
        if str(operator) != "/" or _number(denominator) == 0:
            raise QueryError(
                f"a power is a number or a fraction such as (1/3), not ({numerator!s}{operator!s}{denominator!s})",
                type="syntax-error",
                position=operator.start_pos,
                expected=["/"],
            )
        return _number(numerator) / _number(denominator)

    # --- chemistry ---

    def substructure(self, children):
        """``substructure: _SUBSTRUCTURE "(" STRING ")"``: a SMARTS (or SMILES) pattern."""
        (string,) = children
        pattern = string[1:-1].strip()
        if not pattern:
            raise QueryError(
                "substructure needs a SMARTS or SMILES pattern",
                type="structure-error",
                position=string.start_pos,
                expected=["a SMARTS or SMILES pattern"],
            )
        from rdkit import Chem, rdBase  # here: a filter without chemistry never loads RDKit

        with rdBase.CaptureErrorLog() as capture:
            query = Chem.MolFromSmarts(pattern)
        if query is None:
            reason, offset = _rdkit_reason(capture.messages)
            raise QueryError(
                f"invalid SMARTS {pattern!r}: {reason or 'RDKit could not parse it'}",
                type="structure-error",
                position=_inside(string, pattern, offset),
                expected=["a valid SMARTS or SMILES"],
            )
        return Substructure(pattern=pattern)

    def similarity(self, children):
        """``similarity: _SIMILARITY "(" STRING ")" (OP NUMBER)?``: ``>=`` and ``>`` both set the threshold."""
        string, *comparison = children
        smiles = string[1:-1].strip()
        from rdkit import rdBase

        from biomatdb.chemistry import parse_query_structure

        with rdBase.CaptureErrorLog() as capture:
            try:
                parse_query_structure(smiles)
            except StructureError as exc:
                reason, offset = _rdkit_reason(capture.messages)
                message = f"invalid SMILES {smiles!r}: {reason}" if reason else exc.message
                raise QueryError(
                    message,
                    type="structure-error",
                    position=_inside(string, smiles, offset),
                    expected=["a valid SMILES"],
                ) from None
        if not comparison:
            return Similarity(smiles=smiles, threshold=DEFAULT_SIMILARITY)
        op_token, number_token = comparison
        if _op(op_token) not in (">=", ">"):
            raise QueryError(
                'similarity takes a threshold with >= (or >), e.g. similarity("c1ccccc1") >= 0.7',
                type="syntax-error",
                position=op_token.start_pos,
                expected=[">=", ">"],
            )
        threshold = _number(number_token)
        if not 0.0 <= threshold <= 1.0:
            raise QueryError(
                f"a similarity threshold is a Tanimoto score between 0 and 1, not {number_token!s}",
                type="invalid-number",
                position=number_token.start_pos,
                expected=["a number between 0 and 1"],
            )
        return Similarity(smiles=smiles, threshold=threshold)

    # --- composition (search/biomatdb_search/composition.py) ---

    def contains(self, children):
        """``contains: _CONTAINS "(" NAME ")"``: the material holds the element."""
        (name,) = children
        return _composition.contains(name)

    def composition(self, children):
        """``composition: _COMPOSITION_OF NAME OP NUMBER unit?``: the element's content in wt% or at%."""
        name, op_token, number, *unit = children
        return _composition.comparison(name, _op(op_token), number, _unit_of(unit))

    def composition_interval(self, children):
        """``composition_interval: _COMPOSITION_OF NAME _IN NUMBER _RANGE NUMBER unit?``: a closed interval."""
        name, low, high, *unit = children
        return _composition.interval(name, low, high, _unit_of(unit))

    # --- pieces ---

    def subject(self, tokens):
        """``subject: NAME+ | STRING``: a property, field or condition name."""
        return _words(tokens)

    def text(self, tokens):
        """``text: NAME+ | STRING``: a word value (``polymer``, ``"phosphate buffered saline"``)."""
        return _words(tokens)

    def quantity(self, children):
        """``quantity: NUMBER unit?``: a number, read now, with its unit if any."""
        number_token, *unit = children
        return _Quantity(
            _number(number_token),
            str(number_token),
            number_token.start_pos,
            number_token.end_pos,
            unit[0] if unit else None,
        )

    def unit(self, tokens):
        """``unit: UNIT | STRING``: the unit text as written (quoted when it has spaces)."""
        return _words(tokens)


def _measurement_condition(subject: _Text, op_token: Token, value: _Text | _Quantity) -> Condition:
    """A WHERE condition on a property filter: temperature, medium, method, standard, state, dataset, source."""
    field = _CONDITIONS.get(normalise_label(subject.text))
    if field is None:
        hint = ""
        if normalise_label(subject.text) in _FIELDS or get_vocabulary().find_property(subject.text):
            hint = (
                "; conditions after WHERE run to the end of the filter or a closing paren, so put the "
                "property filter and its WHERE in parentheses: (… WHERE …) AND …"
            )
        raise QueryError(
            f"unknown condition {subject.text!r}{did_you_mean(closest(subject.text, _CONDITIONS))}{hint}",
            type="unknown-condition",
            position=subject.start,
            expected=list(CONDITION_NAMES),
        )
    op = _op(op_token)
    if field == "temperature":
        return Condition(field=field, op=op, value=_measured(_TEMPERATURE, value, "temperature = 37 degC"))
    if not _is_equality(op):
        raise _text_op_error(subject.text, op_token)
    text = _as_text(value)
    if field in CONDITION_FIELDS:  # the vocabulary's spelling, as ingest stores it; other text as written
        text = load_conditions().canonical(field, text)
    return Condition(field=field, op=op, value=text)


EVIDENCE_CONDITION_NAMES: dict[str, EvidenceField] = {
    "kind": "kind",
    "test_system": "kind",
    "cell_line": "cell_line",
    "cells": "cell_line",
    "model": "cell_line",
    "species": "species",
    "site": "site",
    "method": "method",
    "standard": "standard",
    "exposure": "exposure",
    "contact": "contact",
    "contact_duration": "contact_duration",
    "duration": "duration",
    "dataset": "dataset",
    "source": "source",
}
"""What a WHERE condition on ``evidence(…)`` may name → ``EvidenceCondition.field``."""

_EVIDENCE_CONDITIONS = {normalise_label(name): field for name, field in EVIDENCE_CONDITION_NAMES.items()}
_DURATION = Property(key="duration", name="Duration", category="biological", unit="day")


def _evidence_condition(subject: _Text, op_token: Token, value: _Text | _Quantity) -> EvidenceCondition:
    """A WHERE condition on ``evidence(…)``: the value resolved as the record stores it (a cell
    line to its vocabulary key, a kind to ``in vitro``/``in vivo``/``clinical``, a duration to days)."""
    field = _EVIDENCE_CONDITIONS.get(normalise_label(subject.text))
    if field is None:
        raise QueryError(
            f"unknown condition {subject.text!r} on evidence"
            f"{did_you_mean(closest(subject.text, _EVIDENCE_CONDITIONS))}",
            type="unknown-condition",
            position=subject.start,
            expected=list(EVIDENCE_CONDITION_NAMES),
        )
    op = _op(op_token)
    if field == "duration":
        return EvidenceCondition(field=field, op=op, value=_measured(_DURATION, value, "duration >= 12 week"))
    if not _is_equality(op):
        raise _text_op_error(subject.text, op_token)
    text = _as_text(value)
    if field == "kind":
        kind = find_kind(text)
        if kind is None:
            raise QueryError(
                f"unknown test-system kind {text!r}; expected in vitro, in vivo or clinical",
                type="unknown-value",
                position=value.start,
                expected=["in vitro", "in vivo", "clinical"],
            )
        text = kind
    elif field in ("cell_line", "species"):
        systems = load_test_systems()
        system = systems.resolve(text)
        if system is None:
            suggestions = systems.suggest(text)
            raise QueryError(
                f"unknown {'cell line' if field == 'cell_line' else 'species'} {text!r}{did_you_mean(suggestions)}",
                type="unknown-value",
                position=value.start,
                expected=list(suggestions),
            )
        text = system.key if field == "cell_line" else (system.species or system.name)
    return EvidenceCondition(field=field, op=op, value=text)


def _named_index(subject: _Text) -> Index | None:
    """The named index a subject names (``specific_stiffness``), when it names no property."""
    if get_vocabulary().find_property(subject.text) is not None:
        return None
    return load_indices().find(subject.text)


def _derived_filter(index: Index, interval: Interval) -> DerivedFilter:
    return DerivedFilter(index=index.key, terms=index.terms, interval=interval)


def _derived_comparison(index: Index, op_token: Token, value: _Text | _Quantity) -> Filter:
    """``INDEX OP quantity``: the quantity converted to the index's canonical unit (refused, pointing
    at the unit, when it has another dimension); ``!=`` as ``<`` or ``>``, as for a property."""
    if not isinstance(value, _Quantity):
        raise QueryError(
            f"{index.key} compares with a number and a unit, e.g. {index.expression} {_op(op_token)} 1 "
            f"{index.unit_display}",
            type="syntax-error",
            position=value.start,
            expected=["a number"],
        )
    asked = _canonical(index.as_property(), value)
    op = _op(op_token)
    if op == "!=":
        return Or(
            items=(
                _derived_filter(index, Interval(high=asked, high_open=True)),
                _derived_filter(index, Interval(low=asked, low_open=True)),
            )
        )
    interval = {
        "=": Interval(low=asked, high=asked),
        "<": Interval(high=asked, high_open=True),
        "<=": Interval(high=asked),
        ">": Interval(low=asked, low_open=True),
        ">=": Interval(low=asked),
    }[op]
    return _derived_filter(index, interval)


def _derived_interval(index: Index, low_token: Token, high_token: Token, unit: list[_Text]) -> DerivedFilter:
    return _derived_filter(index, _closed_interval(index.as_property(), low_token, high_token, unit))


def _closed_interval(prop: Property, low_token: Token, high_token: Token, unit: list[_Text]) -> Interval:
    """``a..b unit`` of a property or an index, in its canonical unit; the lower end first."""
    low, high = _number(low_token), _number(high_token)
    if low > high:
        raise QueryError(
            f"empty interval: {low_token!s} is above {high_token!s}; write the lower end first",
            type="empty-interval",
            position=low_token.start_pos,
            expected=[f"a number up to {high_token!s}"],
        )
    unit_text = unit[0] if unit else None
    ends = [
        _canonical(prop, _Quantity(number, str(token), _known(token.start_pos), _known(token.end_pos), unit_text))
        for number, token in ((low, low_token), (high, high_token))
    ]
    return Interval(low=min(ends), high=max(ends))


def _unit_of(unit: list[_Text]) -> tuple[str, int] | None:
    return (unit[0].text, unit[0].start) if unit else None


def _property(subject: _Text) -> Property:
    vocabulary = get_vocabulary()
    prop = vocabulary.find_property(subject.text)
    if prop is not None:
        return prop
    suggestions = closest(subject.text, vocabulary.property_labels)
    raise QueryError(
        f"unknown property {subject.text!r}{did_you_mean(suggestions)}",
        type="unknown-property",
        position=subject.start,
        expected=suggestions or sorted(vocabulary.properties),
    )


def _measured(prop: Property, value, example: str) -> float:
    """A condition's quantity (a temperature, a duration) in ``prop``'s canonical unit; a
    ``QueryError`` at the value when it is text, not a number with a unit."""
    if not isinstance(value, _Quantity):
        field = example.split()[0]
        raise QueryError(
            f"{field} compares with a number and a unit, e.g. {example}",
            type="syntax-error",
            position=value.start,
            expected=["a number"],
        )
    return _canonical(prop, value)


def _canonical(prop: Property, quantity: _Quantity) -> float:
    """``quantity`` in ``prop``'s canonical unit; the units layer refuses what does not fit."""
    from biomatdb.display import unit_label

    unit_text = quantity.unit.text if quantity.unit else None
    try:
        value = float(conversion(unit_text, prop).value(quantity.number))
    except UnitError as exc:
        raise QueryError(
            exc.message,
            type=exc.type,
            position=quantity.unit.start if quantity.unit else quantity.end,
            expected=list(
                dict.fromkeys(unit_label(unit) for unit in (prop.unit, *prop.display))
            ),  # as shown, read back alike
        ) from None
    if not math.isfinite(value):
        written = " ".join(part for part in (quantity.raw, unit_text) if part)
        raise QueryError(
            f"{written} is too large a number in {prop.unit}",
            type="invalid-number",
            position=quantity.start,
            expected=["a finite number"],
        )
    return value


def _field_filter(field: MaterialField, subject: _Text, op_token: Token, value: _Text | _Quantity) -> FieldFilter:
    op = _op(op_token)
    if not _is_equality(op):
        raise _text_op_error(subject.text, op_token)
    text = _as_text(value)
    start = value.start
    vocabulary = get_vocabulary()
    if field == "class":
        found = vocabulary.find_class(text)
        if found is None:
            raise QueryError(
                f"unknown material class {text!r}{did_you_mean(closest(text, vocabulary.class_labels))}",
                type="unknown-class",
                position=start,
                expected=list(vocabulary.classes),
            )
        return FieldFilter(field="class", op=op, value=found)
    if field == "application":
        found = vocabulary.find_application(text)
        if found is None:
            raise QueryError(
                f"unknown application {text!r}{did_you_mean(closest(text, vocabulary.application_labels))}",
                type="unknown-application",
                position=start,
                expected=list(vocabulary.applications),
            )
        return FieldFilter(field="application", op=op, value=found)
    if field == "biodegradable":
        if text.casefold() not in BOOLEANS:
            raise QueryError(
                f"biodegradable is true or false, not {text!r}",
                type="invalid-value",
                position=start,
                expected=list(BOOLEANS),
            )
        return FieldFilter(field="biodegradable", op=op, value=BOOLEANS[text.casefold()])
    if field == "origin":
        if text.casefold() not in ORIGINS:
            raise QueryError(
                f"origin is natural or synthetic, not {text!r}",
                type="invalid-value",
                position=start,
                expected=list(ORIGINS),
            )
        return FieldFilter(field="origin", op=op, value=text.casefold())
    return FieldFilter(field=field, op=op, value=text)


def _as_text(value: _Text | _Quantity) -> str:
    """A text value; a bare number without a unit is text too (``dataset = 2024``)."""
    if isinstance(value, _Text):
        return value.text
    if value.unit is not None:
        raise QueryError(
            f"expected text here, not the quantity {value.raw} {value.unit.text}; quote it",
            type="syntax-error",
            position=value.start,
            expected=["a word", "quoted text"],
        )
    return value.raw


def _text_op_error(name: str, op_token: Token) -> QueryError:
    return QueryError(
        f"{name} compares with = or != only, not {op_token!s}",
        type="syntax-error",
        position=op_token.start_pos,
        expected=list(TEXT_OPS),
    )


def _rdkit_reason(log: str) -> tuple[str, int | None]:
    """RDKit's first logged complaint, without timestamps, and the 1-based column it points at."""
    lines = [_RDKIT_LOG_STAMP.sub("", line).strip() for line in log.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return "", None
    column = next((int(m.group(1)) for m in map(_RDKIT_POSITION.search, lines) if m), None)
    return lines[0], column


def _inside(string: Token, content: str, column: int | None) -> int:
    """The filter position of a 1-based ``column`` of ``content``, the stripped inside of ``string``."""
    if column is None:
        return _known(string.start_pos)
    start = _known(string.start_pos) + 1 + (len(string[1:-1]) - len(string[1:-1].lstrip()))
    return start + min(max(column - 1, 0), max(len(content) - 1, 0))
