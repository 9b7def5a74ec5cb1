"""A requirement run through a search backend: the candidates that meet its constraint and
their measurements come from ``backend.search``, never from the database directly, so every
backend (SQLite, PostgreSQL, Elasticsearch) ranks alike; ``method`` scores them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice, product
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from biomatdb.display import (
    Converter,
    UnitChoice,
    index_unit,
    shown_derived,
    shown_measurement,
    to_canonical,
    unit_label,
)
from biomatdb.errors import BiomatError, NotFoundError, QueryError
from biomatdb.identity import material_key
from biomatdb.indices import Index, interval_of, load_indices, parse_expression
from biomatdb.units import parse_unit
from biomatdb.vocabulary import Property, get_vocabulary
from biomatdb_search.model import MAX_LIMIT, And, FieldFilter, Filter, HasProperty, Hit, MatchedMeasurement, Or, Query
from biomatdb_search.select.method import METHOD, Span, choose, rank, scores_of, utility
from biomatdb_search.select.model import (
    Candidate,
    Criterion,
    Excluded,
    Missing,
    Objective,
    Requirement,
    Selection,
    Target,
    UsedMeasurement,
)
from biomatdb_search.select.objectives import spec_of
from biomatdb_search.select.presets import preset as find_preset
from biomatdb_search.select.shown import derived_value, measurement_value


@dataclass(frozen=True, slots=True)
class Resolved:
    """An objective with its property and its target (canonical unit) found."""

    objective: Objective
    prop: Property
    spec: str
    target: Span | None = None
    shown_target: Target | None = None
    index: Index | None = None  # a derived index (biomatdb.indices): ``prop`` is it as a property
    #: The measurements the target is the span of (canonical, with their texts): a tissue's, or
    #: the objective's own target as a measurement; what a distance from it is rounded by.
    target_measurements: tuple[dict, ...] = ()

    @property
    def inputs(self) -> tuple[str, ...]:
        """The measured properties the criterion reads."""
        return self.index.properties if self.index is not None else (self.prop.key,)


def select(backend, engine: Engine, requirement: Requirement, choice: UnitChoice | None = None) -> Selection:
    """Rank the materials that meet ``requirement`` (docs/selection.md)."""
    choice = choice or UnitChoice()
    constraint_text, objectives = _stated(requirement)
    constraint = _parse(constraint_text)
    resolved = [_resolve(backend, engine, objective, choice) for objective in objectives]
    keys = list(dict.fromkeys(key for r in resolved for key in r.inputs))
    wanted: Filter = (
        Or(items=tuple(HasProperty(property=k) for k in keys)) if len(keys) > 1 else HasProperty(property=keys[0])
    )
    candidates = backend.search(Query(filter=constraint, limit=1)).total
    hits = list(every_hit(backend, wanted if constraint is None else And(items=(constraint, wanted))))

    rows: list[list[tuple[float, MatchedMeasurement | DerivedPairing] | None]] = []
    notes: list[list[str | None]] = []
    for hit in hits:
        by_property: dict[str, list[MatchedMeasurement]] = {}
        for m in hit.measurements:
            by_property.setdefault(m.property, []).append(m)
        row: list[tuple[float, MatchedMeasurement | DerivedPairing] | None] = []
        row_notes: list[str | None] = []
        for r in resolved:
            chosen: tuple[float, MatchedMeasurement | DerivedPairing] | None
            if r.index is not None:
                chosen, note = _index_value(r, by_property, requirement.policy, choice)
            else:
                chosen, note = _criterion_value(r, by_property.get(r.prop.key, []), requirement.policy)
            row.append(chosen)
            row_notes.append(note)
        rows.append(row)
        notes.append(row_notes)

    keep = list(range(len(hits)))
    excluded: list[Excluded] = []
    if requirement.missing == "exclude":
        complete = [all(v is not None for v in row) for row in rows]
        keep = [i for i in keep if complete[i]]
        excluded = [
            Excluded(id=hits[i].id, name=hits[i].name, reason=_missing_reason(resolved, rows[i], notes[i]))
            for i in range(len(hits))
            if not complete[i]
        ][: requirement.limit]
    utilities = np.array([[np.nan if v is None else v[0] for v in rows[i]] for i in keep], dtype=float).reshape(
        len(keep), len(resolved)
    )
    scores = np.column_stack(
        [scores_of(r.objective.kind, utilities[:, j], r.target) for j, r in enumerate(resolved)]
    ).reshape(utilities.shape)
    ranking = rank(
        scores,
        utilities,
        [r.objective.weight for r in resolved],
        [(material_key(hits[i].name), hits[i].id) for i in keep],
    )
    total_weight = sum(r.objective.weight for r in resolved)
    results = []
    for place, position in enumerate(ranking.order[: requirement.limit], start=1):
        i = keep[position]
        criteria = []
        for j, r in enumerate(resolved):
            value = rows[i][j]
            score = 0.0 if np.isnan(ranking.scores[position, j]) else float(ranking.scores[position, j])
            criteria.append(
                Criterion(
                    objective=r.spec,
                    weight=r.objective.weight,
                    score=round(score, 6),
                    contribution=round(r.objective.weight * score / total_weight, 6),
                    **_scored(r, value, choice),
                    measurement=None if value is None else _used(value[1], choice),
                    missing=None
                    if value is not None
                    else Missing(reason=_reason(r, notes[i][j]), treatment="penalised"),
                )
            )
        hit = hits[i]
        results.append(
            Candidate(
                id=hit.id,
                name=hit.name,
                material_class=hit.material_class,
                rank=place,
                score=round(float(ranking.totals[position]), 6),
                pareto=bool(ranking.pareto[position]),
                criteria=criteria,
            )
        )
    return Selection(
        results=results,
        method=METHOD,
        policy=requirement.policy,
        missing=requirement.missing,
        constraint=constraint_text,
        objectives=[r.spec for r in resolved],
        targets=[r.shown_target for r in resolved if r.shown_target is not None],
        candidates=candidates,
        ranked=len(keep),
        excluded=excluded,
    )


def _stated(requirement: Requirement) -> tuple[str | None, list[Objective]]:
    """The constraint (a preset's ANDed with the request's) and the objectives to rank by."""
    constraint = requirement.constraint.strip() if requirement.constraint and requirement.constraint.strip() else None
    objectives = list(requirement.objectives)
    if requirement.preset:
        chosen = find_preset(requirement.preset)
        if chosen.constraint and constraint:
            constraint = f"({chosen.constraint}) AND ({constraint})"
        elif chosen.constraint:
            constraint = chosen.constraint
        objectives = objectives or chosen.parsed()
    if not objectives:
        raise QueryError("a requirement needs at least one objective (or a preset)", type="no-objective")
    return constraint, objectives


def _parse(text: str | None) -> Filter | None:
    if text is None:
        return None
    from biomatdb_search.parser import parse_filter

    return parse_filter(text)


def every_hit(backend, node: Filter) -> Iterator[Hit]:
    """Every material ``node`` matches, page by page, with the measurements it shows."""
    cursor = None
    while True:
        page = backend.search(Query(filter=node, limit=MAX_LIMIT, cursor=cursor))
        yield from page.results
        cursor = page.next_cursor
        if cursor is None:
            return


def _resolve(backend, engine: Engine, objective: Objective, choice: UnitChoice) -> Resolved:
    vocabulary = get_vocabulary()
    prop = vocabulary.find_property(objective.property)
    index = None
    if prop is None:
        index = _index(objective)
    if index is not None:
        if objective.tissue is not None:
            raise QueryError(
                f"objective {spec_of(objective)}: a derived index is matched to a value or a range, not to a tissue"
            )
        prop = index.as_property()
        objective = objective.model_copy(update={"property": index.key if index.named else index.expression})
    if prop is None:
        from biomatdb.suggest import closest, did_you_mean

        suggestions = closest(objective.property, vocabulary.property_labels)
        raise QueryError(
            f"objective {objective.kind}:{objective.property}: unknown property {objective.property!r}"
            f"{did_you_mean(suggestions)}",
            type="unknown-property",
            expected=suggestions,
        )
    if prop.kind != "quantity":
        raise QueryError(f"objective {objective.kind}:{prop.key}: {prop.name} is not a quantity to rank by")
    if index is None:
        objective = objective.model_copy(update={"property": prop.key})
    if objective.kind != "match":
        return Resolved(objective, prop, spec_of(objective), index=index)
    if objective.tissue is not None:
        return _tissue_target(backend, engine, objective, prop, choice)
    unit = objective.unit
    if unit is None:
        if not parse_unit(prop.unit).dimensionless:
            raise QueryError(
                f"objective {spec_of(objective)}: give the target's unit ({prop.name} is in {unit_label(prop.unit)})"
            )
        unit = prop.unit
    try:
        low = None if objective.low is None else to_canonical(objective.low, unit, prop)
        high = None if objective.high is None else to_canonical(objective.high, unit, prop)
    except BiomatError as exc:
        raise QueryError(f"objective {spec_of(objective)}: {exc.message}", type=exc.type) from exc
    target = Span(low, high)
    spec = spec_of(objective)
    measurement = _target_measurement(prop, target, objective)
    shown = _shown_target(spec, prop, target, choice, objective=objective, index=index)
    return Resolved(objective, prop, spec, target, shown, index, (measurement,))


def _index(objective: Objective) -> Index | None:
    """The derived index an objective names (``specific_strength``, ``youngs_modulus^0.5/density``),
    or None when it names none (the unknown-property refusal follows)."""
    from biomatdb.errors import VocabularyError

    if not any(sign in objective.property for sign in "/*^") and load_indices().find(objective.property) is None:
        return None
    try:
        return parse_expression(objective.property)
    except VocabularyError as exc:
        raise QueryError(f"objective {spec_of(objective)}: {exc.message}", type=exc.type) from exc


#: Most pairings of one candidate's input measurements an index criterion weighs.
MAX_PAIRINGS = 256


def _index_value(
    r: Resolved, by_property: dict[str, list[MatchedMeasurement]], policy: str, choice: UnitChoice
) -> tuple[tuple[float, DerivedPairing] | None, str | None]:
    """An index criterion's utility for one candidate: every pairing of its measurements of the
    index's inputs gives the index an interval (``biomatdb.indices.interval_of``; any pair, as the
    filter language pairs them), scored like a measurement, reduced by the policy."""
    assert r.index is not None
    lists = [[(m, span) for m in by_property.get(key, []) if (span := _span(m)) is not None] for key in r.inputs]
    missing = [key for key, found in zip(r.inputs, lists, strict=True) if not found]
    if missing:
        return None, None
    scored: list[tuple[float, DerivedPairing]] = []
    notes: list[str | None] = []
    for pairing in islice(product(*lists), MAX_PAIRINGS):
        try:
            low, high = interval_of(
                r.index, {key: (span.low, span.high) for key, (_, span) in zip(r.inputs, pairing, strict=True)}
            )
        except ValueError:
            continue
        result = utility(r.objective.kind, Span(low, high), policy, r.target)
        if result.utility is None:
            notes.append(result.note)
            continue
        scored.append((result.utility, _derived_measurement(r, low, high, [m for m, _ in pairing], choice)))
    if not scored:
        return None, (notes[0] if notes else None)
    return scored[choose([u for u, _ in scored], policy)], None


@dataclass(frozen=True, slots=True)
class DerivedPairing:
    """An index's value for one pairing of a candidate's measurements: its interval in the index's
    canonical unit, and the measurements it is derived from (shown only for the candidates listed)."""

    index: Index
    low: float | None
    high: float | None
    inputs: tuple[MatchedMeasurement, ...]

    def as_derived(self) -> dict:
        """As a search hit's derived value (``biomatdb_search.model.DerivedValue``) as a dict."""
        return {
            "index": self.index.key if self.index.named else self.index.expression,
            "value_canonical_min": self.low,
            "value_canonical_max": self.high,
            "low_open": False,
            "high_open": False,
            "inputs": [m.model_dump() for m in self.inputs],
        }

    def shown(self, choice: UnitChoice) -> dict:
        """As search shows a derived value (``biomatdb.display.shown_derived``): the same unit,
        label, written precision and unit system."""
        return shown_derived(self.as_derived(), choice)


def _derived_measurement(
    r: Resolved, low: float | None, high: float | None, inputs: list[MatchedMeasurement], choice: UnitChoice
) -> DerivedPairing:
    assert r.index is not None
    return DerivedPairing(r.index, low, high, tuple(inputs))


def _tissue_target(backend, engine: Engine, objective: Objective, prop: Property, choice: UnitChoice) -> Resolved:
    """A reference tissue's measurements of the property, through the search backend, as one
    range: from the lowest of their low ends to the highest of their high ends."""
    assert objective.tissue is not None
    from sqlalchemy import select as columns

    from biomatdb.catalog import find_material_id
    from biomatdb.models import Material

    try:
        with Session(engine) as session:
            public_id, name, material_class = session.execute(
                columns(Material.public_id, Material.name, Material.material_class).where(
                    Material.id == find_material_id(session, objective.tissue)
                )
            ).one()
    except NotFoundError:
        raise QueryError(
            f"objective {spec_of(objective)}: no material named {objective.tissue!r}; "
            "a match target is a reference tissue (class = tissue) of the fixtures",
            type="unknown-tissue",
        ) from None
    if material_class != "tissue":
        raise QueryError(
            f"objective {spec_of(objective)}: {name} is not a reference tissue (its class is {material_class})",
            type="unknown-tissue",
        )
    spec = spec_of(objective, tissue=name)
    page = backend.search(
        Query(filter=And(items=(FieldFilter(field="id", value=public_id), HasProperty(property=prop.key))), limit=1)
    )
    spans = [
        span
        for hit in page.results
        for m in hit.measurements
        if m.property == prop.key and (span := _span(m)) is not None
    ]
    if not spans:
        raise QueryError(f"objective {spec}: {name} has no measurement of {prop.name} to match", type="no-target")
    lows = [s.low for s in spans]
    highs = [s.high for s in spans]
    target = Span(
        None if None in lows else min(x for x in lows if x is not None),
        None if None in highs else max(x for x in highs if x is not None),
    )
    shown = _shown_target(spec, prop, target, choice)
    # the tissue's values as its material page writes them, each end to its written precision
    converter = Converter(prop, choice.unit_for(prop, [target.low, target.high]))
    ends = converter.span_ends(
        m.model_dump() for hit in page.results for m in hit.measurements if m.property == prop.key
    )
    update: dict[str, object] = {"tissue": name, "measurements": len(spans)}
    if ends is not None:  # the tissue's values as its material page writes them, ends and all
        low, high = ends
        update |= {
            "unit": converter.label,
            "display": converter.with_unit(converter.range_body(low, high)),
            "low": None if target.low is None else float(low),
            "high": None if target.high is None else float(high),
        }
    shown = shown.model_copy(update=update)
    measurements = tuple(m.model_dump() for hit in page.results for m in hit.measurements if m.property == prop.key)
    return Resolved(objective, prop, spec, target, shown, target_measurements=measurements)


def _shown_target(
    spec: str,
    prop: Property,
    target: Span,
    choice: UnitChoice,
    *,
    objective: Objective | None = None,
    index: Index | None = None,
) -> Target:
    """The target as the display shows a measurement (``biomatdb.display``): in the display unit,
    each end to the digits the objective wrote it with (``match:E=580..725 ksi`` is ``4.00–5.00
    GPa``), a one-sided target as a bound (``≥ 10 GPa``); a target no objective wrote (a tissue's
    span) as stored."""
    measurement = _target_measurement(prop, target, objective)
    unit = index_unit(index, choice) if index is not None else choice.unit_of(prop, [measurement])
    shown = Converter(prop, unit).measurement(measurement)
    return Target(
        objective=spec,
        low=shown["value_min"],
        high=shown["value_max"],
        unit=shown["unit"],
        display=shown["display"],
        low_canonical=target.low,
        high_canonical=target.high,
        unit_canonical=shown["unit_canonical"],
    )


def _target_measurement(prop: Property, target: Span, objective: Objective | None) -> dict:
    """A target as a measurement of ``prop`` (canonical, with the objective's text as its verbatim)."""
    verbatim = None
    if objective is not None:
        low_text, high_text = objective.written_target()
        if target.low == target.high:
            text = low_text
        elif target.low is None or target.high is None:
            text = low_text if target.high is None else high_text
        else:
            text = f"{low_text} to {high_text}"
        verbatim = {"value": text, "unit": objective.unit or prop.unit}
    if target.low is not None and target.low == target.high:
        qualifier = "="
    elif target.high is None:
        qualifier = ">="
    elif target.low is None:
        qualifier = "<="
    else:
        qualifier = "range"
    return {
        "property": prop.key,
        "qualifier": qualifier,
        "value": target.low if qualifier == "=" else None,
        "value_min": target.low,
        "value_max": target.high,
        "uncertainty": None,
        "unit": prop.unit,
        "verbatim": verbatim,
    }


def _span(m: MatchedMeasurement) -> Span | None:
    """A measurement's interval in the canonical unit (``value_min``/``value_max``: None is unbounded)."""
    low = m.value_min if m.value_min is not None else None
    high = m.value_max if m.value_max is not None else None
    if low is None and high is None:
        if m.value is None:
            return None
        low = high = m.value
    return Span(low, high)


def _criterion_value(
    r: Resolved, measurements: list[MatchedMeasurement], policy: str
) -> tuple[tuple[float, MatchedMeasurement] | None, str | None]:
    """The utility that stands for a candidate on one criterion, with its measurement; or None
    and why (no measurement, or none the policy can score)."""
    scored = []
    notes = []
    for m in measurements:
        span = _span(m)
        if span is None:
            continue
        result = utility(r.objective.kind, span, policy, r.target)
        if result.utility is None:
            notes.append(result.note)
            continue
        scored.append((result.utility, m))
    if not scored:
        return None, (notes[0] if notes else None)
    index = choose([u for u, _ in scored], policy)
    return scored[index], None


def _scored(
    r: Resolved, value: tuple[float, MatchedMeasurement | DerivedPairing] | None, choice: UnitChoice
) -> dict[str, Any]:
    """What was scored, as a reader takes it (``biomatdb_search.select.shown``): the value for
    max/min, the distance for match; shown, and canonical to 12 decimals."""
    if value is None:
        return {}
    u, scored = value
    canonical = round(u if r.objective.kind == "max" else -u, 12) + 0.0
    target, measurements = r.target, r.target_measurements
    if isinstance(scored, DerivedPairing):
        derived = scored.as_derived()
        unit_canonical = unit_label(scored.index.unit_canonical)
        shown = derived_value(
            r.objective.kind,
            u,
            canonical,
            derived,
            choice,
            unit_canonical,
            target=target,
            target_measurements=measurements,
        )
    else:
        converter = Converter(r.prop, choice.unit_of(r.prop, [scored.model_dump()]))
        span = _span(scored)
        assert span is not None
        shown = measurement_value(
            r.objective.kind, u, canonical, scored, converter, span, target=target, target_measurements=measurements
        )
    return {
        "value": shown.value,
        "unit": shown.unit,
        "display": shown.display,
        "value_canonical": shown.value_canonical,
        "unit_canonical": shown.unit_canonical,
    }


def _used(m: MatchedMeasurement | DerivedPairing, choice: UnitChoice) -> UsedMeasurement:
    """The measurement (or derived value) a criterion was scored on, as search shows it."""
    if isinstance(m, DerivedPairing):
        shown = m.shown(choice)
        inputs = [(i, s) for i, s in zip(m.inputs, shown["inputs"], strict=True)]
        return UsedMeasurement(
            property=m.index.key if m.index.named else m.index.expression,
            display=shown["display"],
            value_min=shown["value_min"],
            value_max=shown["value_max"],
            unit=shown["unit"],
            value_canonical_min=m.low,
            value_canonical_max=m.high,
            unit_canonical=shown["unit_canonical"],
            conditions={"from": "; ".join(f"{i.property} {s['display']}" for i, s in inputs)},
            source="; ".join(dict.fromkeys(i.source for i in m.inputs if i.source)) or None,
            dataset="; ".join(dict.fromkeys(i.dataset for i in m.inputs)),
        )
    shown = shown_measurement(m.model_dump(), choice)
    return UsedMeasurement(
        property=m.property,
        display=shown.get("display"),
        value_min=shown["value_min"] if shown["value_min"] is not None else shown["value"],
        value_max=shown["value_max"] if shown["value_max"] is not None else shown["value"],
        unit=shown["unit"],
        value_canonical_min=m.value_min if m.value_min is not None else m.value,
        value_canonical_max=m.value_max if m.value_max is not None else m.value,
        unit_canonical=shown["unit_canonical"],
        conditions=m.conditions,
        source=m.source,
        dataset=m.dataset,
    )


def _reason(r: Resolved, note: str | None) -> str:
    if note:
        return f"no {r.prop.name} value the policy can score: every measurement is {note}"
    if r.index is not None:
        return f"no measurements of {' and '.join(r.inputs)} to derive {r.prop.name} from"
    return f"no measurement of {r.prop.name}"


def _missing_reason(resolved: list[Resolved], row, row_notes) -> str:
    return "; ".join(_reason(r, note) for r, value, note in zip(resolved, row, row_notes, strict=True) if value is None)
