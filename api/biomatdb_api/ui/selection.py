"""The "Find a material for…" page: a requirement read from the address (a preset, a constraint,
objectives as ``objective=`` specs or as the form's rows), ranked by ``biomatdb_search.select.service``
as the API ranks it; the ranked list as rows; the Ashby chart's data of the candidates, with
the reference tissues' boxes. Everything comes through the search backend, as the ranking does."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from biomatdb.catalog import find_material
from biomatdb.display import Converter, from_canonical
from biomatdb.errors import BiomatError, NotFoundError, QueryError
from biomatdb.indices import parse_expression
from biomatdb.vocabulary import Property, get_vocabulary
from biomatdb_api.ui.display import View
from biomatdb_api.ui.pages import class_colour, positioned_error
from biomatdb_search.model import MAX_LIMIT, And, FieldFilter, Filter, HasProperty, Hit, Query
from biomatdb_search.select.model import Criterion, Requirement, Selection
from biomatdb_search.select.objectives import KINDS, parse_objective, spec_of
from biomatdb_search.select.presets import presets
from biomatdb_search.select.service import every_hit, select

#: ranked candidates listed; the chart places every candidate, ranked or not
LISTED = 20
#: the best ranked candidates the chart highlights (and labels with their rank)
HIGHLIGHTED = 5
POLICIES = (
    ("worst", "Worst end of a range"),
    ("best", "Best end of a range"),
    ("midpoint", "Midpoint of a range"),
)
MISSING = (("penalise", "Keep, scoring 0 on it"), ("exclude", "Leave the candidate out"))
KIND_LABELS = {"max": "maximise", "min": "minimise", "match": "match"}
#: the letters an Ashby chart's index lines are written with; a property without one uses its name
SYMBOLS = {
    "density": "ρ",
    "youngs_modulus": "E",
    "tensile_strength": "σ",
    "yield_strength": "σy",
    "compressive_strength": "σc",
    "compressive_modulus": "Ec",
    "flexural_strength": "σf",
    "fatigue_strength": "σe",
    "fracture_toughness": "K_IC",
}
_SPEC_PARAM = "objective"
_WEIGHT_TEXT = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


@dataclass
class Row:
    """One objective as the form shows it."""

    kind: str = "max"
    property: str = ""
    target: str = ""
    weight: str = "1"


@dataclass
class Stated:
    """The requirement as the address states it, before it is checked."""

    preset: str = ""
    constraint: str = ""
    rows: list[Row] = field(default_factory=list)
    policy: str = "worst"
    missing: str = "penalise"
    x: str = ""
    y: str = ""


def stated(query: Any) -> Stated:
    """``query`` (the request's query parameters, a multi-dict): ``objective=`` specs first, then
    the form's rows (``kind``, ``property``, ``target``, ``weight`` in step); rows without a
    property are blank rows of the form and left out."""
    rows = [_row_of_spec(spec) for spec in query.getlist(_SPEC_PARAM) if spec.strip()]
    kinds, props, targets, weights = (query.getlist(name) for name in ("kind", "property", "target", "weight"))
    for index, prop in enumerate(props):
        if prop.strip():
            rows.append(
                Row(
                    kind=_at(kinds, index, "max").strip().lower(),
                    property=prop.strip(),
                    target=_at(targets, index, "").strip(),
                    weight=_at(weights, index, "1").strip() or "1",
                )
            )
    return Stated(
        preset=(query.get("preset") or "").strip(),
        constraint=(query.get("constraint") or "").strip(),
        rows=rows,
        policy=(query.get("policy") or "worst").strip(),
        missing=(query.get("missing") or "penalise").strip(),
        x=(query.get("x") or "").strip(),
        y=(query.get("y") or "").strip(),
    )


def _at(values: Sequence[str], index: int, default: str) -> str:
    return values[index] if index < len(values) else default


def _row_of_spec(spec: str) -> Row:
    """A spec as a form row, split without judging it (``parse_objective`` judges it later)."""
    text, _, weight = spec.strip().rpartition("@") if "@" in spec else (spec.strip(), "", "1")
    kind, _, rest = text.partition(":")
    prop, _, target = rest.partition("=") if kind.strip().lower() == "match" else (rest, "", "")
    return Row(kind=kind.strip().lower(), property=prop.strip(), target=target.strip(), weight=weight.strip() or "1")


def spec_of_row(row: Row, number: int) -> str:
    """The objective spec a form row stands for; a ``QueryError`` naming the row when it cannot be one."""
    if row.kind not in KINDS:
        raise QueryError(f"objective {number}: the kind is max, min or match, not {row.kind!r}")
    if not _WEIGHT_TEXT.match(row.weight):
        raise QueryError(f"objective {number} ({row.property}): the weight must be a number, got {row.weight!r}")
    spec = f"{row.kind}:{row.property}"
    if row.kind == "match":
        if not row.target:
            raise QueryError(
                f"objective {number} ({row.property}): a match needs a target: a reference tissue "
                "(e.g. Cortical bone), a range (10..30 GPa) or a value (70 %)"
            )
        spec += f"={row.target}"
    elif row.target:
        raise QueryError(
            f"objective {number} ({row.property}): a {row.kind} objective takes no target "
            f"(got {row.target!r}); choose match to aim at one"
        )
    return spec + ("" if float(row.weight) == 1 else f"@{row.weight}")


def requirement_of(state: Stated) -> Requirement:
    """The requirement ``state`` states; a ``QueryError`` saying what is wrong otherwise."""
    objectives = [parse_objective(spec_of_row(row, number)) for number, row in enumerate(state.rows, start=1)]
    try:
        return Requirement.model_validate(
            {
                "preset": state.preset or None,
                "constraint": state.constraint or None,
                "objectives": objectives,
                "policy": state.policy,
                "missing": state.missing,
                "limit": MAX_LIMIT,
            }
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise QueryError(f"the requirement is not valid: {problems}") from None


def rows_of(selection: Selection) -> list[Row]:
    """The objectives a selection was ranked by, as form rows (a preset's filled in)."""
    rows = []
    for spec in selection.objectives:
        objective = parse_objective(spec)
        target = spec_of(objective.model_copy(update={"weight": 1.0})).partition("=")[2]
        rows.append(Row(objective.kind, objective.property, target, f"{objective.weight:g}"))
    return rows


def constraint_error(state: Stated) -> dict[str, Any] | None:
    """The constraint as typed, parsed on its own (a preset's is ANDed to it later), so that an
    error in it points at the spot the reader typed; None when it parses."""
    from biomatdb_search.parser import parse_filter

    if not state.constraint:
        return None
    try:
        parse_filter(state.constraint)
    except QueryError as exc:
        return positioned_error(state.constraint, exc)
    return None


def error_of(exc: BiomatError) -> dict[str, Any]:
    """Any other error of a requirement, shown by its message (which names the objective)."""
    return {"message": exc.message, "type": exc.type, "position": None, "expected": [], "more_expected": 0}


def run(backend, engine: Engine, state: Stated, view: View) -> Selection:
    """``state`` ranked as ``POST /api/v1/select`` ranks it (every ranked candidate, for the chart)."""
    return select(backend, engine, requirement_of(state), view.choice)


def share_query(state: Stated, selection: Selection | None, view: View) -> str:
    """The address's query that states the whole requirement as ``objective=`` specs."""
    pairs: list[tuple[str, str]] = []
    if selection is not None:
        if selection.constraint:
            pairs.append(("constraint", selection.constraint))
        pairs += [(_SPEC_PARAM, spec) for spec in selection.objectives]
    if state.policy != "worst":
        pairs.append(("policy", state.policy))
    if state.missing != "penalise":
        pairs.append(("missing", state.missing))
    pairs += list(view.params.items())
    return urlencode(pairs)


# --- the ranked list -----------------------------------------------------------------


def _quantity(key: str) -> Property:
    """The property an objective names, or the derived index it names, as a property."""
    prop = get_vocabulary().properties.get(key)
    return prop if prop is not None else parse_expression(key).as_property()


def _measured(spec: str) -> list[str]:
    """The measured properties an objective reads: its property, or a derived index's inputs
    (``max:specific_strength`` charts tensile strength against density)."""
    key = parse_objective(spec).property
    return [key] if key in get_vocabulary().properties else list(parse_expression(key).properties)


def headings(selection: Selection) -> list[dict[str, Any]]:
    """Each criterion's column: what it asks, its weight, and its target where it has one."""
    targets = {t.objective: t for t in selection.targets}
    found = []
    for spec in selection.objectives:
        objective = parse_objective(spec)
        prop = _quantity(objective.property)
        target = targets.get(spec)
        aim = ""
        if target is not None:
            aim = f"{target.tissue} ({target.display})" if target.tissue else target.display
        found.append(
            {
                "spec": spec,
                "kind": objective.kind,
                "verb": KIND_LABELS[objective.kind],
                "name": prop.name,
                "target": aim,
                "weight": objective.weight,
            }
        )
    return found


def ranked_rows(selection: Selection, limit: int = LISTED) -> list[dict[str, Any]]:
    """The best ``limit`` candidates with, per criterion, its score (a bar), the value scored and its source."""
    rows = []
    for candidate in selection.results[:limit]:
        criteria = []
        for criterion in candidate.criteria:
            m = criterion.measurement
            criteria.append(
                {
                    "score": criterion.score,
                    "percent": round(100 * criterion.score, 1),
                    "contribution": criterion.contribution,
                    "display": m.display if m else None,
                    "scored": _scored_text(criterion),
                    "source": m.source if m else None,
                    "dataset": m.dataset if m else None,
                    "missing": criterion.missing.reason if criterion.missing else None,
                }
            )
        rows.append(
            {
                "id": candidate.id,
                "name": candidate.name,
                "class": candidate.material_class,
                "colour": class_colour(candidate.material_class or ""),
                "rank": candidate.rank,
                "score": candidate.score,
                "pareto": candidate.pareto,
                "criteria": criteria,
            }
        )
    return rows


def _scored_text(criterion: Criterion) -> str | None:
    """What a criterion scored, where the measurement's display does not say it: a match's distance
    (``0.18 decades from the target``), or the end of an interval a max/min scored (``scored 240 MPa``)."""
    if criterion.display is None or criterion.measurement is None:
        return None
    if criterion.objective.startswith("match:"):
        return "inside the target" if criterion.value == 0 else f"{criterion.display} from the target"
    return None if criterion.display == criterion.measurement.display else f"scored {criterion.display}"


# --- the chart -----------------------------------------------------------------------


def axes_of(state: Stated, selection: Selection | None) -> tuple[str, str]:
    """The chart's axes: as asked; else density against Young's modulus when the requirement
    weighs stiffness (or names no two properties), else its first two properties."""
    vocabulary = get_vocabulary()
    keys = [key for spec in selection.objectives for key in _measured(spec)] if selection else []
    keys = list(dict.fromkeys(keys))
    x, y = "density", "youngs_modulus"
    if "youngs_modulus" not in keys and keys:
        y = keys[0]
        x = keys[1] if len(keys) > 1 else ("density" if keys[0] != "density" else "youngs_modulus")
    chosen_x = vocabulary.find_property(state.x) if state.x else None
    chosen_y = vocabulary.find_property(state.y) if state.y else None
    return (chosen_x.key if chosen_x else x), (chosen_y.key if chosen_y else y)


def axis_choices(selection: Selection | None) -> list[dict[str, str]]:
    """The quantities a chart axis may show: the requirement's properties first, then the rest by name."""
    vocabulary = get_vocabulary()
    first = [key for spec in selection.objectives for key in _measured(spec)] if selection else []
    quantities = sorted((p for p in vocabulary.properties.values() if p.kind == "quantity"), key=lambda p: p.name)
    ordered = [vocabulary.properties[k] for k in dict.fromkeys(first)] + [p for p in quantities if p.key not in first]
    return [{"key": p.key, "name": p.name} for p in ordered]


def _spans(hit: Hit) -> dict[str, tuple[float, float]]:
    """A hit's values per property as one span, lowest to highest end (a bound counts with its one end)."""
    return _spans_of([m.model_dump(include={"property", "value", "value_min", "value_max"}) for m in hit.measurements])


@dataclass(frozen=True)
class _Axis:
    key: str
    prop: Property
    converter: Converter

    @property
    def unit(self) -> str:
        return self.converter.unit

    @property
    def label(self) -> str:
        return self.converter.label

    def value(self, canonical: float) -> float:
        return from_canonical(canonical, self.unit, self.prop)

    def text(self, low: float, high: float) -> str:
        """A span (canonical ends) no measurement was found behind, so no text was written for it:
        shown by the display rules (``biomatdb.display``) for a number whose text is unknown, each
        end to the digits it is stored with in the canonical unit, ends that round together given
        digits until they differ, the unit as people write it (``3–30 GPa``, ``1.9–2.0 g/cm³``)."""
        ends = []
        for canonical in (low, high):
            written, factor = self.converter.written(canonical, None, 1.0)
            ends.append((canonical, self.converter.number(canonical, written, factor)))
        shown_low, shown_high = self.converter.separated(ends[0], ends[1])
        return self.converter.with_unit(self.converter.range_body(shown_low, shown_high))

    def written(self, hit: Hit) -> str | None:
        """A candidate's values of this axis, lowest to highest, each end rounded to what was written."""
        return self.converter.span([m.model_dump() for m in hit.measurements if m.property == self.key])


def _axis(key: str, view: View, hits: list[Hit]) -> _Axis:
    prop = get_vocabulary().properties[key]
    measured = [m.model_dump() for hit in hits for m in hit.measurements if m.property == key]
    return _Axis(key, prop, view.converter(prop, measured))


def chart_data(backend, engine: Engine, selection: Selection, x: str, y: str, view: View) -> dict[str, Any]:
    """Every candidate with values of both ``x`` and ``y`` (display units), each with its rank;
    each reference tissue a match aims at, as a box (or a band where it has no value of one axis)."""
    from biomatdb_api.ui import ashby  # it names its axes with this module's SYMBOLS
    from biomatdb_search.parser import parse_filter

    wanted: list[Filter] = [HasProperty(property=x), HasProperty(property=y)]
    if selection.constraint:
        wanted.insert(0, parse_filter(selection.constraint))
    ranks = {c.id: c.rank for c in selection.results}
    hits = [
        (hit, spans) for hit in every_hit(backend, And(items=tuple(wanted))) if {x, y} <= (spans := _spans(hit)).keys()
    ]
    axes = {"x": _axis(x, view, [hit for hit, _ in hits]), "y": _axis(y, view, [hit for hit, _ in hits])}
    points: list[dict[str, Any]] = [
        {
            "id": hit.id,
            "name": hit.name,
            "class": hit.material_class,
            "rank": ranks.get(hit.id),
            "x": [axes["x"].value(v) for v in spans[x]],
            "y": [axes["y"].value(v) for v in spans[y]],
            "x_text": axes["x"].written(hit),
            "y_text": axes["y"].written(hit),
        }
        for hit, spans in hits
    ]
    points.sort(key=lambda p: (p["rank"] is None, p["rank"] or 0, p["name"]))
    tissues = _tissue_boxes(backend, engine, selection, axes, view)
    shown: dict[str, dict[str, Any]] = {}
    linear: dict[str, str] = {}
    for name, axis in axes.items():
        # the scale and range hold every value drawn, the tissues' boxes too (ashby.py's rules)
        values: list[float] = [v for p in points for v in p[name]]
        values += [v for box in tissues if box[name] for v in box[name]]
        scale, reason = ashby.axis_scale(values, true_zero=ashby.has_true_zero(axis.prop, axis.unit), unit=axis.label)
        if scale == "linear" and values:
            linear[name] = f"{axis.prop.name} is on a linear axis: {reason}."
        shown[name] = {
            "key": axis.key,
            "name": axis.prop.name,
            "unit": axis.label,
            "symbol": SYMBOLS.get(axis.key),
            "scale": scale,
            "range": ashby.axis_range(values, scale) if values else None,
        }
    drawn_ranks = [p["rank"] for p in points if p["rank"] is not None]
    return {
        "x": shown["x"],
        "y": shown["y"],
        "points": points,
        "highlighted": HIGHLIGHTED,
        # what the caption counts: the best ranked actually highlighted, the ranked ones not drawn
        "highlighted_drawn": min(HIGHLIGHTED, len(drawn_ranks)),
        "ranked_not_drawn": len(ranks) - len(drawn_ranks),
        "tissues": tissues,
        "linear": [linear[name] for name in ("x", "y") if name in linear],
        "view_query": ("?" + urlencode(view.params)) if view.params else "",
    }


def _tissue_boxes(
    backend, engine: Engine, selection: Selection, axes: Mapping[str, _Axis], view: View
) -> list[dict[str, Any]]:
    """Per reference tissue a match aims at: on each axis, the target's range where the match is
    of that axis's property, else the tissue's own measurements of it (through the search
    backend), else nothing (the box is a band across that axis). Its texts are the tissue's
    measurements as the material page shows them, in the unit that page chooses for them (a unit
    system may choose by magnitude: a tissue's 18–25 GPa reads 2.65–3.6 Msi on a chart whose
    polymers put its axis in ksi), each end rounded to what was written."""
    by_tissue: dict[str, dict[str, tuple[float, float]]] = {}
    for target in selection.targets:
        if target.tissue is None or target.low_canonical is None or target.high_canonical is None:
            continue
        prop = parse_objective(target.objective).property
        by_tissue.setdefault(target.tissue, {})[prop] = (target.low_canonical, target.high_canonical)
    boxes = []
    for tissue, ranges in by_tissue.items():
        if not {axis.key for axis in axes.values()} & set(ranges):
            continue  # the chart shows none of the properties matched to this tissue
        measured = _tissue_measurements(backend, engine, tissue, [a.key for a in axes.values()])
        box: dict[str, Any] = {"name": tissue}
        for name, axis in axes.items():
            mine = measured.get(axis.key, [])
            span = ranges.get(axis.key) or _spans_of(mine).get(axis.key)
            box[name] = None if span is None else [axis.value(v) for v in span]
            own = view.converter(axis.prop, mine) if mine else axis.converter
            box[name + "_text"] = None if span is None else own.span(mine) or axis.text(*span)
            box[name + "_target"] = axis.key in ranges
        boxes.append(box)
    return boxes


def _tissue_measurements(backend, engine: Engine, tissue: str, keys: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The tissue's measurements of each of ``keys``, through the search backend (as its target was found)."""
    try:
        with Session(engine) as session:
            public_id = find_material(session, tissue).public_id
    except NotFoundError:
        return {}
    found: dict[str, list[dict[str, Any]]] = {}
    for key in dict.fromkeys(keys):
        page = backend.search(
            Query(filter=And(items=(FieldFilter(field="id", value=public_id), HasProperty(property=key))), limit=1)
        )
        mine = [m.model_dump() for hit in page.results for m in hit.measurements if m.property == key]
        if mine:
            found[key] = mine
    return found


def _spans_of(measurements: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """Measurements' values per property as one span, lowest to highest end (a bound counts with its one end)."""
    found: dict[str, tuple[float, float]] = {}
    for m in measurements:
        ends = [v for v in (m["value_min"], m["value"], m["value_max"]) if v is not None]
        if ends:
            low, high = min(ends), max(ends)
            if m["property"] in found:
                low, high = min(low, found[m["property"]][0]), max(high, found[m["property"]][1])
            found[m["property"]] = (low, high)
    return found


# --- the form ------------------------------------------------------------------------


def preset_choices() -> list[dict[str, str]]:
    return [{"key": p.key, "name": p.name, "description": p.description} for p in presets().values()]


def property_keys() -> list[dict[str, str]]:
    """The quantities an objective may name, for the form's suggestions."""
    vocabulary = get_vocabulary()
    return [
        {"key": p.key, "name": p.name}
        for p in sorted(vocabulary.properties.values(), key=lambda p: p.name)
        if p.kind == "quantity"
    ]


def tissue_names(engine: Engine) -> list[str]:
    """The reference tissues a match may aim at, for the form's suggestions."""
    from sqlalchemy import select as sql_select

    from biomatdb.models import Material

    with engine.connect() as connection:
        return list(
            connection.execute(
                sql_select(Material.name).where(Material.material_class == "tissue").order_by(Material.name)
            ).scalars()
        )


def with_blank_row(rows: list[Row]) -> list[Row]:
    """The form's rows: the objectives, and one blank row to add another."""
    return [*rows, Row()] if len(rows) < 12 else rows
