"""The condition values a core holds, and the one rule that refuses a condition value in a filter.

``condition_values`` lists, per condition field (specimen state, medium, method, standard), every
value stored with the materials and measurements that carry it, kept per generation of the core:
``GET /api/v1/conditions`` and ``biomatdb conditions`` show it, and ``check_condition_values``
reads it.

A filter's condition value is already in the vocabulary's spelling (``biomatdb_search.parser``). It is
refused, with a "did you mean", only when neither the vocabulary nor the data knows it: a value
the vocabulary has no term for but a dataset wrote (labs write free text) is searched as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, select

from biomatdb.db import PerGeneration
from biomatdb.errors import QueryError
from biomatdb.models import Measurement
from biomatdb.suggest import LIMIT, closest, did_you_mean, labels_of
from biomatdb.vocabulary.conditions import CONDITION_FIELDS, ConditionVocabulary, load_conditions
from biomatdb_search.model import And, Condition, Filter, Not, Or, PropertyFilter

#: How a message names each condition field.
FIELD_LABELS = {"specimen_state": "specimen state", "medium": "medium", "method": "method", "standard": "standard"}
#: What a listing may be narrowed to: a field, or the name a filter also takes for it (``state``).
FIELD_NAMES = {**{field: field for field in CONDITION_FIELDS}, "state": "specimen_state"}
#: How a filter names each condition field, the shortest way.
_FILTER_NAMES = {**{field: field for field in CONDITION_FIELDS}, "specimen_state": "state"}


@dataclass(frozen=True, slots=True)
class ConditionValue:
    """One stored value of a condition field: how many materials and measurements carry it,
    and the vocabulary term it is (None: written outside the vocabulary)."""

    field: str
    value: str
    materials: int
    measurements: int
    term: str | None


@dataclass(frozen=True)
class ConditionValues:
    """Every stored value per field, most materials first, then by value."""

    fields: dict[str, tuple[ConditionValue, ...]]

    def __iter__(self) -> Iterator[ConditionValue]:
        for values in self.fields.values():
            yield from values

    def knows(self, field: str, value: str) -> bool:
        """Some stored value of the field is ``value`` ignoring case (``casefold``, which folds at
        least as much as any database's ``lower()``: a value the search could find is never refused)."""
        wanted = value.casefold()
        return any(stored.value.casefold() == wanted for stored in self.fields.get(field, ()))


def build(connection) -> ConditionValues:
    """From one connection, so that the counts are of the generation read on it."""
    vocabulary = load_conditions()
    fields = {}
    for field in CONDITION_FIELDS:
        column = getattr(Measurement, field)
        rows = connection.execute(
            select(column, func.count(), func.count(func.distinct(Measurement.material_id)))
            .where(column.is_not(None))
            .group_by(column)
        ).all()
        values = [
            ConditionValue(
                field=field,
                value=value,
                materials=int(materials),
                measurements=int(measurements),
                term=_term_key(vocabulary, field, value),
            )
            for value, measurements, materials in rows
        ]
        values.sort(key=lambda v: (-v.materials, -v.measurements, v.value))
        fields[field] = tuple(values)
    return ConditionValues(fields=fields)


def _term_key(vocabulary: ConditionVocabulary, field: str, value: str) -> str | None:
    term = vocabulary.resolve(field, value)
    return None if term is None else term.key


_values: PerGeneration[ConditionValues] = PerGeneration(build)


def condition_values(connection, engine: Engine) -> ConditionValues:
    """The engine's condition values at the core's current generation (read on ``connection``)."""
    return _values.get(engine, connection)


def text_conditions(node: Filter | None) -> Iterator[Condition]:
    """The filter's WHERE conditions on a condition field of the vocabulary, NOT or not."""
    if node is None:
        return
    pending: list[Filter] = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, (And, Or)):
            pending.extend(current.items)
        elif isinstance(current, Not):
            pending.append(current.item)
        elif isinstance(current, PropertyFilter):
            yield from (c for c in current.where if c.field in CONDITION_FIELDS)


def check_condition_values(node: Filter | None, connection, engine: Engine) -> None:
    """Refuse (``QueryError``, type ``unknown-condition-value``) a condition value that neither the
    vocabulary nor any stored measurement knows, suggesting the closest terms and stored values.
    Reads the stored values only when some value is outside the vocabulary."""
    vocabulary = load_conditions()
    unknown = [c for c in text_conditions(node) if vocabulary.resolve(c.field, str(c.value)) is None]
    if not unknown:
        return
    stored = condition_values(connection, engine)
    for c in unknown:
        text = str(c.value)
        if stored.knows(c.field, text):
            continue
        suggestions = suggest_values(c.field, text, stored)
        raise QueryError(
            f"unknown {FIELD_LABELS[c.field]} {text!r}: no term of the condition vocabulary and no stored "
            f"measurement has it{did_you_mean(suggestions)}",
            type="unknown-condition-value",
            expected=suggestions,
        )


_WORD = re.compile(r"\w+")


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.casefold()))


def _holds(value: tuple[str, ...], label: tuple[str, ...]) -> bool:
    """``label``'s words stand together, in order, among ``value``'s."""
    width = len(label)
    return 0 < width <= len(value) and any(value[i : i + width] == label for i in range(len(value) - width + 1))


def condition_notes(node: Filter | None, connection, engine: Engine) -> list[str]:
    """What a reader should be told of the filter's ``=`` conditions: the stored values, written
    outside the vocabulary, that hold the asked value (or another name of its term) as words within
    longer text (``state = wet`` and a lab's ``wet (G12)``). ``=`` does not match them; each note
    names them, at most ``LIMIT``, so that a reader can ask for them as written."""
    asked = list(dict.fromkeys((c.field, str(c.value)) for c in text_conditions(node) if c.op == "="))
    if not asked:
        return []
    vocabulary = load_conditions()
    stored = condition_values(connection, engine)
    notes = []
    for field, text in asked:
        term = vocabulary.resolve(field, text)
        labels = {_words(label) for label in (term.labels if term is not None else (text,))}
        holding = [
            v.value
            for v in stored.fields.get(field, ())
            if v.term is None
            and v.value.casefold() != text.casefold()
            and any(_holds(_words(v.value), label) for label in labels)
        ]
        if not holding:
            continue
        shown = ", ".join(repr(value) for value in holding[:LIMIT])
        more = f" and {len(holding) - LIMIT:,} more" if len(holding) > LIMIT else ""
        notes.append(
            f"{FIELD_LABELS[field]} = {text!r} matches the values that are it; {len(holding):,} stored "
            f"{'value holds' if len(holding) == 1 else 'values hold'} it within longer text and "
            f"{'is' if len(holding) == 1 else 'are'} not matched: {shown}{more}. Name one as written to "
            f'include it: {_FILTER_NAMES[field]} = "{holding[0]}"'
        )
    return notes


def suggest_values(field: str, text: str, stored: ConditionValues, n: int = LIMIT) -> list[str]:
    """The vocabulary's closest terms first, then the closest values stored outside it."""
    suggestions = load_conditions().suggest(field, text, n)
    written = [v.value for v in stored.fields.get(field, ()) if v.term is None]
    for value in closest(text, labels_of(written), limit=n):
        if value not in suggestions and len(suggestions) < n:
            suggestions.append(value)
    return suggestions


class ConditionValueOut(BaseModel):
    value: str = Field(description="As stored: the vocabulary's spelling, or as written when outside it.")
    term: str | None = Field(None, description="The vocabulary term's key; null: written outside the vocabulary.")
    materials: int = Field(description="Materials with a measurement that has this value.")
    measurements: int = Field(description="Measurements that have this value.")


class ConditionFieldOut(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "field": "medium",
                    "values": [{"value": "PBS", "term": "pbs", "materials": 3, "measurements": 5}],
                }
            ]
        }
    }

    field: str = Field(description="The condition a filter names after WHERE (specimen_state is also state).")
    values: list[ConditionValueOut]


def listing(values: ConditionValues, field: str | None = None) -> list[ConditionFieldOut]:
    """What ``GET /conditions`` and ``biomatdb conditions --json`` give: each field (or the one
    named, ``state`` for ``specimen_state``) with its stored values and their counts."""
    fields = CONDITION_FIELDS if field is None else (FIELD_NAMES[field],)
    return [
        ConditionFieldOut(
            field=name,
            values=[
                ConditionValueOut(value=v.value, term=v.term, materials=v.materials, measurements=v.measurements)
                for v in values.fields.get(name, ())
            ],
        )
        for name in fields
    ]


def read_listing(engine: Engine, field: str | None = None) -> list[ConditionFieldOut]:
    """``listing`` of the core's current state, read in one snapshot."""
    from biomatdb.db import read_snapshot

    with engine.connect() as connection:
        read_snapshot(connection)
        return listing(condition_values(connection, engine), field)
